"""Which role an AssumeRole decision read, so the session is issued for that role alone.

The authorizer decides ``sts:AssumeRole`` (and ``sts:TagSession``) on the trust policy of
the role it reads in its own transaction; the STS call then reads the role again to issue
the session. A role deleted and created again under the same name between the two reads
would otherwise get a session through the trust policy of the one before (AWS: the trust
policy of the role assumed decides). The decision notes the role's unique id here (in the
caller's context: one engine call runs its decisions and its operation in one context) and
:func:`check` refuses a session for any other role of that ARN.
"""

from __future__ import annotations

from contextvars import ContextVar

# (role ARN, unique id, or "" when no such role existed); a second decision of the same
# call reading another role of the ARN leaves an id matching no role.
_DECIDED: ContextVar[tuple[str, str] | None] = ContextVar("objstore_assumed_role", default=None)
_CONFLICT = "\x00"


def note(role_arn: str, role_id: str | None, *, first: bool) -> None:
    """Record the role a decision read: ``first`` for the call's ``sts:AssumeRole*``
    decision (replacing any note of an earlier call), else a later one of the same call."""
    seen = "" if role_id is None else role_id
    found = _DECIDED.get()
    if not first and found is not None and found[0] == role_arn and found[1] != seen:
        seen = _CONFLICT
    _DECIDED.set((role_arn, seen))


def check(role_arn: str, role_id: str) -> bool:
    """Whether a session of the role ``role_id`` may be issued for ``role_arn``: no decision
    of this context read another role of the ARN (or none). Uses the note up."""
    found = _DECIDED.get()
    _DECIDED.set(None)
    return found is None or found[0] != role_arn or found[1] == role_id
