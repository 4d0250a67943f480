"""The authorization decision: one request against the policies in force.

Evaluation order (AWS's, as summarised in the house reference):

1. **Explicit deny.** A matching ``Deny`` in any policy given (identity, resource, boundary,
   session) decides ``explicitDeny``. A resource-policy statement applies only to the
   principals its ``Principal`` names, or to those its ``NotPrincipal`` does not exempt.
   The one exception is the lock-out guard: the root user of the resource's account may
   always read, replace and delete a bucket policy (``s3:GetBucketPolicy``,
   ``s3:PutBucketPolicy``, ``s3:DeleteBucketPolicy``), as S3 guarantees.
2. **Root of the resource's account**: allowed, no policy needs to allow it (an explicit
   deny of step 1, e.g. in a bucket policy, still applies to it, as in S3).
3. **Same account** (the resource's account is the caller's): the union of
   * the identity policies, intersected with the permissions boundary and the session
     policy when those are given, and
   * the resource policy, by how its Allow names the caller (see ``principal.Grant``):
     the caller directly (user, role session, federated user, service, provider ARN) or
     everyone (``"*"``, with or without an ``aws:PrincipalArn`` condition): allowed
     outright, not limited by boundary or session policy; the role of a session: allowed
     if the boundary and session policy (when given) allow too; the account: a
     delegation, which adds nothing to the identity policies.
   A federated-user session (``GetFederationToken``) always needs its session policy:
   without one, only a resource policy naming the session itself (or everyone) allows.
4. **Cross account**: both the caller's side (identity AND boundary AND session; a foreign
   root counts as allowed on its side) and the resource policy must allow; here naming
   the caller's account suffices.
5. **Callers without an account** (anonymous, services, web-identity providers): only a
   resource-policy Allow naming them (or everyone) can allow.
6. Otherwise ``implicitDeny``. A statement whose Condition is false does not apply.

The request context is built only if some statement needs it (a Condition, or a policy
variable in a Resource whose literal prefix fits the request). It holds the caller's
values and the keys AWS derives from the principal
(``aws:username``, ``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:PrincipalTag/*``) and the clock (``aws:CurrentTime``,
``aws:EpochTime``); a value the caller supplied always wins over a derived one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TypeAlias

from objstore.errors import InvalidInput
from objstore.iam.compiled import bound_for
from objstore.iam.context import RequestContext
from objstore.iam.decision import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Decision,
    EffectName,
    MatchedStatement,
    conclude,
    context_entries,
    unbound_plan,
)
from objstore.iam.policy import Kind, Policy
from objstore.iam.principal import Principal, as_principal

__all__ = [
    "ALLOWED",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "EffectName",
    "MatchedStatement",
    "PolicyInput",
    "as_policies",
    "as_policy",
    "check_now",
    "context_entries",
    "decide",
    "evaluate",
]

PolicyInput: TypeAlias = "Policy | str | bytes"

_PRINCIPAL_LESS: frozenset[Kind] = frozenset({"identity", "boundary", "session"})
_WITH_PRINCIPAL: frozenset[Kind] = frozenset({"resource", "trust"})


@lru_cache(maxsize=512)
def _parse_cached(text: str | bytes, kind: Kind) -> Policy:
    return Policy.from_json(text, kind=kind)


def as_policy(value: object, kind: Kind, what: str) -> Policy:
    """A Policy from a Policy or JSON text (parsed as ``kind``; memoised by text).

    Raises MalformedPolicyDocument for invalid text and InvalidInput for a value that is
    not a policy or is a policy of a kind that cannot serve here.
    """
    if isinstance(value, Policy):
        allowed = _WITH_PRINCIPAL if kind in _WITH_PRINCIPAL else _PRINCIPAL_LESS
        if value.kind not in allowed:
            raise InvalidInput(f"{what}: a {value.kind} policy cannot be used here")
        return value
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, str | bytes):
        return _parse_cached(value, kind)
    raise InvalidInput(f"{what}: expected a Policy or JSON text, not {type(value).__name__}")


def as_policies(values: Iterable[object], kind: Kind, what: str) -> tuple[Policy, ...]:
    """Several policies (see :func:`as_policy`); a lone policy or text is an error."""
    if type(values) is tuple or type(values) is list:
        # The common case: already-parsed policies of a fitting kind.
        for value in values:
            if type(value) is not Policy or value.kind not in _PRINCIPAL_LESS:
                break
        else:
            return tuple(values)
    elif isinstance(values, str | bytes | bytearray | Policy):
        raise InvalidInput(f"{what} must be a sequence of policies, not one policy")
    elif not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a sequence of policies, not {type(values).__name__}")
    return tuple(as_policy(v, kind, f"{what}[{i}]") for i, v in enumerate(values))


def check_now(now: object) -> None:
    """Raise InvalidInput unless ``now`` is None or a datetime (naive means UTC)."""
    if now is not None and not isinstance(now, datetime):
        raise InvalidInput(f"now must be a datetime, not {type(now).__name__}")


def decide(
    principal: Principal,
    action: str,
    resource: str,
    *,
    context: Mapping[str, tuple[str, tuple[object, ...]]],
    identity: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    boundaries: Sequence[Policy] = (),
    sessions: Sequence[Policy] = (),
    resource_account: str | None = None,
    now: datetime | None = None,
    fill_principal: bool = True,
) -> Decision:
    """The evaluation order of the module docstring, over parsed policies.

    ``context`` holds the caller's entries (see :func:`context_entries`). Shared by
    :func:`evaluate` and the simulator, so both always decide alike. With
    ``fill_principal`` (the caller's own keys in the context) the policies are bound to
    the principal once and kept on it (see ``compiled.py``); without, they are decided
    as parsed.
    """
    action_l = action.lower()
    identity_t, boundaries_t, sessions_t = tuple(identity), tuple(boundaries), tuple(sessions)
    if fill_principal:
        bound = bound_for(principal, identity_t, boundaries_t, sessions_t)
        return bound.decide_entries(
            action_l,
            resource,
            context,
            resource_policy=resource_policy,
            resource_account=resource_account,
            now=now,
        )
    return conclude(
        principal,
        action_l,
        resource,
        unbound_plan(action_l, identity_t, boundaries_t, sessions_t),
        uses_time=any(p.uses_time for p in (*identity_t, *boundaries_t, *sessions_t)),
        context=context,
        resource_policy=resource_policy,
        has_boundary=bool(boundaries_t),
        has_session=bool(sessions_t),
        resource_account=resource_account,
        now=now,
        fill_principal=False,
    )


def evaluate(
    principal: str | Principal,
    action: str,
    resource: str,
    *,
    context: Mapping[str, object] | RequestContext | None = None,
    identity_policies: Iterable[PolicyInput] = (),
    resource_policy: PolicyInput | None = None,
    boundary: PolicyInput | None = None,
    session_policy: PolicyInput | None = None,
    resource_account: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide whether ``principal`` may perform ``action`` on ``resource``.

    ``principal``: a :class:`Principal`, a principal ARN, an account id (its root), a
    service principal (``ec2.amazonaws.com``) or ``"anonymous"``. ``context``: condition
    keys to a value or list of values. Policies are :class:`Policy` objects or JSON text
    (parsed as identity, resource, boundary and session policies respectively).
    ``resource_account``: the account owning the resource; the caller's when omitted.
    ``now``: the time for ``aws:CurrentTime``/``aws:EpochTime`` (default: the clock),
    unless the context supplies them.

    Raises InvalidInput for a bad principal, action, resource, context, ``now`` or
    policy argument, and MalformedPolicyDocument for invalid policy text. Never raises
    for valid input.
    """
    if type(action) is not str:
        raise InvalidInput(f"action must be a str, not {type(action).__name__}")
    if type(resource) is not str:
        raise InvalidInput(f"resource must be a str, not {type(resource).__name__}")
    if resource_account is not None and type(resource_account) is not str:
        raise InvalidInput("resource_account must be a str")
    if now is not None:
        check_now(now)
    caller = principal if type(principal) is Principal else as_principal(principal)
    return decide(
        caller,
        action,
        resource,
        context=context_entries(context),
        identity=as_policies(identity_policies, "identity", "identity_policies"),
        resource_policy=(
            None
            if resource_policy is None
            else as_policy(resource_policy, "resource", "resource_policy")
        ),
        boundaries=() if boundary is None else (as_policy(boundary, "boundary", "boundary"),),
        sessions=(
            ()
            if session_policy is None
            else (as_policy(session_policy, "session", "session_policy"),)
        ),
        resource_account=resource_account,
        now=now,
    )
