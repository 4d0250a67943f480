"""What credentials may do whatever the policies say: AWS's fixed rules for temporary
credentials and for the root, checked before (and apart from) any policy.

- Temporary credentials (GetSessionToken, AssumeRole, console sign-in) stand for one user
  or role *by its unique id* (``AIDA...``/``AROA...``, sealed in the session token or held
  by the sign-in session): checked before each call by ``callers.current``.
- Credentials from GetSessionToken call IAM only if MFA was used to get them, and of STS
  only AssumeRole and GetCallerIdentity (AWS's "Permissions for GetSessionToken").
- The root never assumes a role ("Roles may not be assumed by root accounts").
"""

from __future__ import annotations

from objstore.actions import Operation
from objstore.authz import Identity
from objstore.errors import AccessDenied
from objstore.identity.ids import is_temporary_access_key_id

__all__ = ["check_scope", "is_session_token_caller"]

# What GetSessionToken credentials may call of STS (AWS).
_SESSION_TOKEN_STS = frozenset({"AssumeRole", "GetCallerIdentity"})


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
