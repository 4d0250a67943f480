"""The STS Query actions: one row per action, each calling one method of ``client.sts``.

Answers carry what AWS's do beside the credentials: ``AssumedRoleUser`` (the session's
ARN, built from the role's ARN and the session name), and for web identity the token's
subject, audience and issuer (read from the token the library has just verified).
``AssumedRoleId`` is left out: the library's result does not carry the role's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from objstore.gateway.query.form import INTEGER
from objstore.gateway.query.shapes import ASSUMED_ROLE_USER, CREDENTIALS, TAG_LIST
from objstore.gateway.query.spec import Action, param
from objstore.gateway.query.xml import field
from objstore.identity.results import Credentials

__all__ = ["STS_ACTIONS"]


@dataclass(frozen=True, slots=True)
class _AssumedRoleUser:
    arn: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class _Session:
    """What an AssumeRole* answer holds: the credentials and who they stand for."""

    credentials: Credentials
    user: _AssumedRoleUser
    subject: str | None = None
    audience: str | None = None
    provider: str | None = None


def _session_arn(role_arn: str, session_name: str) -> str:
    # arn:aws:iam::ACCOUNT:role/PATH/NAME -> arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 5 else ""
    return f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session_name}"


def _assumed(values: Mapping[str, Any], credentials: Credentials) -> _Session:
    user = _AssumedRoleUser(_session_arn(values["RoleArn"], values["RoleSessionName"]))
    return _Session(credentials, user)


def _web_identity(values: Mapping[str, Any], credentials: Credentials) -> _Session:
    session = _assumed(values, credentials)
    # The library verified this token before minting the credentials; only its claims
    # are read here, for the answer.
    claims = jwt.decode(values["WebIdentityToken"], options={"verify_signature": False})
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else None
    return _Session(
        credentials,
        session.user,
        subject=_text(claims.get("sub")),
        audience=_text(audience),
        provider=_text(claims.get("iss")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


_CREDENTIALS = (field("Credentials", "credentials", CREDENTIALS),)
_ROLE = (
    param("RoleArn", required=True),
    param("RoleSessionName", required=True),
    param("DurationSeconds", INTEGER),
    param("Policy"),
)
_MFA = (param("SerialNumber"), param("TokenCode"))

_ROWS = [
    Action(
        "GetCallerIdentity",
        "get_caller_identity",
        result=(field("UserId", "user_id"), field("Account", "account"), field("Arn", "arn")),
    ),
    Action(
        "AssumeRole",
        "assume_role",
        (*_ROLE, param("ExternalId"), *_MFA, param("Tags", TAG_LIST)),
        result=(*_CREDENTIALS, field("AssumedRoleUser", "user", ASSUMED_ROLE_USER)),
        view=_assumed,
    ),
    Action(
        "GetSessionToken",
        "get_session_token",
        (param("DurationSeconds", INTEGER), *_MFA),
        result=(field("Credentials", lambda c: c, CREDENTIALS),),
    ),
    Action(
        "AssumeRoleWithWebIdentity",
        "assume_role_with_web_identity",
        (*_ROLE, param("WebIdentityToken", required=True)),
        result=(
            *_CREDENTIALS,
            field("SubjectFromWebIdentityToken", "subject"),
            field("AssumedRoleUser", "user", ASSUMED_ROLE_USER),
            field("Provider", "provider"),
            field("Audience", "audience"),
        ),
        view=_web_identity,
    ),
]

STS_ACTIONS: dict[str, Action] = {row.name: row for row in _ROWS}
