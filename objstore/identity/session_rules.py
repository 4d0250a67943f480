"""What credentials may do whatever the policies say: AWS's fixed rules for temporary
credentials and for the root, checked before (and apart from) any policy.

- Temporary credentials (GetSessionToken, AssumeRole, console sign-in) stand for one user
  or role *by its unique id* (``AIDA...``/``AROA...``, sealed in the session token or held
  by the sign-in session). If the entity of that name is gone, or is another one now (the
  name deleted and created again), the credentials stand for nobody:
  :class:`InvalidClientTokenId`, as for a deleted access key. Nothing of the new entity's
  policies ever applies to the old one's sessions.
- Credentials from GetSessionToken call IAM only if MFA was used to get them, and of STS
  only AssumeRole and GetCallerIdentity (AWS's "Permissions for GetSessionToken").
- The root never assumes a role ("Roles may not be assumed by root accounts").
"""

from __future__ import annotations

import functools

from objstore import keyspace
from objstore.actions import Operation
from objstore.authz import Identity
from objstore.errors import AccessDenied, InvalidClientTokenId
from objstore.identity import repo
from objstore.identity.ids import is_temporary_access_key_id
from objstore.meta.base import ReadTxn

__all__ = ["check_bound", "check_scope", "is_session_token_caller"]

# What GetSessionToken credentials may call of STS (AWS).
_SESSION_TOKEN_STS = frozenset({"AssumeRole", "GetCallerIdentity"})


@functools.lru_cache(maxsize=1024)
def _record_id(raw: bytes) -> object:
    """The unique id of a stored user or role record (parsed once per record content)."""
    return repo.decode(raw).get("id")


def _bound_to(identity: Identity) -> tuple[bytes, str, str] | None:
    """(record prefix, name, unique id) of the entity temporary credentials stand for;
    None for callers bound to no IAM entity (the root, services, web identities)."""
    if identity.kind == "user" and identity.name and identity.user_id:
        return keyspace.IAM_USER, identity.name, identity.user_id
    if identity.kind == "assumed-role" and identity.role_arn and identity.user_id:
        # aws:userid of a role session is "AROA...:session-name".
        role_id = identity.user_id.split(":", 1)[0]
        return keyspace.IAM_ROLE, identity.role_arn.rsplit("/", 1)[-1], role_id
    return None


def check_bound(txn: ReadTxn, identity: Identity) -> None:
    """For temporary credentials: raise InvalidClientTokenId unless the user or role they
    were issued to still exists under its name with the same unique id. Long-term
    credentials are checked through their key record instead (deleted with the user)."""
    if identity.token_issued_at is None:
        return
    bound = _bound_to(identity)
    if bound is None:
        return
    prefix, name, unique_id = bound
    raw = txn.get(repo.key(prefix, name))
    if raw is None or _record_id(raw) != unique_id:
        raise InvalidClientTokenId("The security token included in the request is invalid.")


def is_session_token_caller(identity: Identity) -> bool:
    """Whether ``identity`` holds credentials from GetSessionToken (a user's or the root's
    own temporary access key; a console sign-in session has no access key)."""
    return (
        identity.kind in ("user", "root")
        and identity.token_issued_at is not None
        and identity.access_key_id is not None
        and is_temporary_access_key_id(identity.access_key_id)
    )


def check_scope(identity: Identity, op: Operation) -> None:
    """Raise AccessDenied when ``identity`` may not call ``op`` at all, whatever the
    policies: the rules of the module docstring. Pure; no I/O."""
    if op.name == "AssumeRole" and identity.kind == "root":
        raise AccessDenied("Roles may not be assumed by root accounts.", action="sts:AssumeRole")
    if op.target != "identity" or not is_session_token_caller(identity):
        return
    action = op.permissions[0].action
    if action.startswith("iam:") and identity.mfa_authenticated_at is None:
        raise AccessDenied(
            f"not authorized to perform {action}: credentials from GetSessionToken call IAM "
            "only when they were requested with MFA",
            action=action,
        )
    if action.startswith("sts:") and op.name not in _SESSION_TOKEN_STS:
        raise AccessDenied(
            f"not authorized to perform {action}: credentials from GetSessionToken call only "
            "AssumeRole and GetCallerIdentity of STS",
            action=action,
        )
