"""What credentials may do whatever the policies say: AWS's fixed rules for temporary
credentials and for the root, checked before (and apart from) any policy.

- Temporary credentials (GetSessionToken, AssumeRole, console sign-in) stand for one user
  or role *by its unique id* (``AIDA...``/``AROA...``, sealed in the session token or held
  by the sign-in session): checked before each call by ``callers.current``.
- Credentials from GetSessionToken call IAM only if MFA was used to get them, and of STS
  only AssumeRole and GetCallerIdentity (AWS's "Permissions for GetSessionToken").
- The root never assumes a role ("Roles may not be assumed by root accounts").
- IAM and STS need credentials: an anonymous (unsigned) caller may call only
  AssumeRoleWithWebIdentity and AssumeRoleWithSAML (whose token is the credential);
  anything else is :class:`MissingAuthenticationToken`, as AWS answers an unsigned
  request, whatever a trust policy naming ``"*"`` says.
"""

from __future__ import annotations

from objstore.actions import Operation
from objstore.authz import Identity
from objstore.errors import AccessDenied, MissingAuthenticationToken
from objstore.identity.ids import is_temporary_access_key_id

__all__ = [
    "UNSIGNED_ACTIONS",
    "check_scope",
    "check_signed",
    "is_session_token_caller",
]

# What GetSessionToken credentials may call of STS (AWS).
_SESSION_TOKEN_STS = frozenset({"AssumeRole", "GetCallerIdentity"})
# The IAM/STS operations AWS serves unsigned (the web identity or SAML token is the
# credential); every other one needs a signed request.
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


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
    if op.facade in ("iam", "sts"):
        check_signed(identity, op.name)
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


def check_signed(identity: Identity, operation: str) -> None:
    """Raise MissingAuthenticationToken when an anonymous caller calls the IAM or STS
    ``operation`` (any but :data:`UNSIGNED_ACTIONS`). Pure; no I/O."""
    if identity.kind == "anonymous" and operation not in UNSIGNED_ACTIONS:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
