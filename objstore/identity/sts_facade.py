"""``client.sts``: temporary credentials and "who am I", as one caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from objstore.authz import Identity
from objstore.identity.results import CallerIdentity, Credentials

if TYPE_CHECKING:
    from objstore.engine import Engine
    from objstore.identity.service import IamService


class StsClient:
    """STS operations performed as one identity (each audited like every call)."""

    def __init__(self, engine: Engine, identity: Identity) -> None:
        self._engine = engine
        self.identity = identity

    def _call(self, name: str, **params: Any) -> Any:
        return self._engine.call(self.identity, name, params)

    def _mfa(self, serial_number: str | None, token_code: str | None) -> int | None:
        """Check a presented MFA code first (its use is recorded even if the call is then
        refused); the call itself re-checks the caller's credentials."""
        if serial_number is None and token_code is None:
            return None
        service: IamService = self._engine.targets["identity"]  # type: ignore[assignment]
        return service.verify_mfa(self.identity, serial_number, token_code)

    def get_caller_identity(self) -> CallerIdentity:
        """Who the credentials stand for (needs no permission)."""
        result: CallerIdentity = self._call("GetCallerIdentity")
        return result

    def assume_role(
        self,
        role_arn: str,
        role_session_name: str,
        *,
        duration_seconds: int = 3600,
        policy: str | None = None,
        external_id: str | None = None,
        serial_number: str | None = None,
        token_code: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Temporary credentials of the role, if its trust policy (and, for a trust policy
        naming the account, the caller's policies) allow ``sts:AssumeRole``. Chained from a
        role session, at most one hour. Raises AccessDenied, InvalidAuthenticationCode
        (``serial_number``/``token_code``), ValidationError, MalformedPolicyDocument."""
        mfa_at = self._mfa(serial_number, token_code)
        result: Credentials = self._call(
            "AssumeRole",
            role_arn=role_arn,
            role_session_name=role_session_name,
            duration_seconds=duration_seconds,
            policy=policy,
            external_id=external_id,
            tags=tags,
            mfa_at=mfa_at,
            mfa_present=None if mfa_at is None else True,
            mfa_age=None if mfa_at is None else 0,
        )
        return result

    def get_session_token(
        self,
        *,
        duration_seconds: int = 43200,
        serial_number: str | None = None,
        token_code: str | None = None,
    ) -> Credentials:
        """Temporary credentials of the caller itself; with a valid MFA code they carry
        ``aws:MultiFactorAuthPresent``. Raises AccessDenied (session callers),
        InvalidAuthenticationCode, ValidationError."""
        mfa_at = self._mfa(serial_number, token_code)
        result: Credentials = self._call(
            "GetSessionToken", duration_seconds=duration_seconds, mfa_at=mfa_at
        )
        return result

    def assume_role_with_web_identity(
        self,
        role_arn: str,
        role_session_name: str,
        web_identity_token: str,
        *,
        duration_seconds: int = 3600,
        policy: str | None = None,
    ) -> Credentials:
        """Trade an OIDC token of a registered provider for the role's credentials. Needs
        no credentials of its own: the caller is the provider, and the role's trust policy
        must name it (``Federated``), possibly conditioned on ``HOST:aud`` / ``HOST:sub``.
        Raises InvalidIdentityToken, ExpiredTokenException, AccessDenied, ValidationError."""
        service: IamService = self._engine.targets["identity"]  # type: ignore[assignment]
        provider, keys = service.verify_web_identity(web_identity_token)
        result: Credentials = self._engine.call(
            provider,
            "AssumeRoleWithWebIdentity",
            {
                "role_arn": role_arn,
                "role_session_name": role_session_name,
                "web_identity_token": web_identity_token,
                "duration_seconds": duration_seconds,
                "policy": policy,
                "web_identity_keys": keys,
            },
        )
        return result
