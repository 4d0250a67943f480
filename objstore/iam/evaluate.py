"""The authorization decision: one request against the policies in force.

Evaluation order (AWS's, as summarised in the house reference):

1. **Explicit deny.** A matching ``Deny`` in any policy given (identity, resource, boundary,
   session) decides ``explicitDeny``. A resource-policy statement applies only to the
   principals its ``Principal`` names, or to those its ``NotPrincipal`` does not exempt.
   The one exception is the lock-out guard: the root user of the resource's account may
   always read, replace and delete a bucket policy (``s3:GetBucketPolicy``,
   ``s3:PutBucketPolicy``, ``s3:DeleteBucketPolicy``), as S3 guarantees.
2. **Root of the resource's account**: allowed (no policy needs to allow it).
3. **Same account** (the resource's account is the caller's): the union of
   * the identity policies, intersected with the permissions boundary and the session
     policy when those are given, and
   * the resource policy, by how its Allow names the caller (see ``principal.Grant``):
     the caller directly (user, role session, federated user, service, provider ARN):
     allowed outright, not limited by boundary or session policy; the role of a session,
     or everyone (``"*"``): allowed if the boundary and session policy (when given) allow
     too; the account: a delegation, which adds nothing to the identity policies.
   A federated-user session (``GetFederationToken``) always needs its session policy:
   without one, only a resource policy naming the session itself allows.
4. **Cross account**: both the caller's side (identity AND boundary AND session; a foreign
   root counts as allowed on its side) and the resource policy must allow; here naming
   the caller's account suffices.
5. **Callers without an account** (anonymous, services, web-identity providers): only a
   resource-policy Allow naming them (or everyone) can allow.
6. Otherwise ``implicitDeny``. A statement whose Condition is false does not apply.

The request context is built only if some statement needs it (a Condition or a policy
variable). It holds the caller's values and the keys AWS derives from the principal
(``aws:username``, ``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:PrincipalTag/*``) and the clock (``aws:CurrentTime``,
``aws:EpochTime``); a value the caller supplied always wins over a derived one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal, TypeAlias

from objstore.errors import InvalidInput
from objstore.iam.conditions import EMPTY as EMPTY_CONDITION
from objstore.iam.context import RequestContext
from objstore.iam.policy import Kind, Policy, Position, Statement
from objstore.iam.principal import Grant, Principal, PrincipalType, as_principal

__all__ = [
    "ALLOWED",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "EffectName",
    "MatchedStatement",
    "PolicyInput",
    "evaluate",
]

EffectName: TypeAlias = Literal["allowed", "explicitDeny", "implicitDeny"]
ALLOWED: EffectName = "allowed"
EXPLICIT_DENY: EffectName = "explicitDeny"
IMPLICIT_DENY: EffectName = "implicitDeny"

PolicyInput: TypeAlias = "Policy | str | bytes"

# Root may always manage its bucket's policy, so a bad policy cannot lock the owner out.
_ROOT_LOCKOUT_GUARD = frozenset(
    {"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"}
)
_NO_ACCOUNT = frozenset(
    {PrincipalType.ANONYMOUS, PrincipalType.SERVICE, PrincipalType.WEB_IDENTITY}
)
_PRINCIPAL_LESS: frozenset[Kind] = frozenset({"identity", "boundary", "session"})
_WITH_PRINCIPAL: frozenset[Kind] = frozenset({"resource", "trust"})


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that took part in a decision, located in its policy's source text.

    ``source_policy_id`` is the policy's name, or a positional label as the AWS simulator
    gives (``PolicyInputList.1``, ``ResourcePolicy``, ``PermissionsBoundaryPolicyInputList.1``,
    ``SessionPolicy``); ``source_policy_type`` is the policy's kind.
    """

    source_policy_id: str
    source_policy_type: str
    sid: str | None
    effect: str
    index: int
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`evaluate`.

    ``matched_statements``: on an explicit deny, the matching Deny statements only;
    otherwise every Allow statement that matched (identity, resource, boundary, session
    order). ``missing_context_values``: condition keys (and policy variables) that
    statements applying to the action and resource used but the request lacked, sorted.
    ``boundary_allowed``: whether the permissions boundary allowed the action; True when
    no boundary was given (nothing limits the caller).
    """

    allowed: bool
    effect: EffectName
    matched_statements: tuple[MatchedStatement, ...]
    missing_context_values: tuple[str, ...]
    boundary_allowed: bool


# --- policies as given ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Labelled:
    """A policy with the id results report for it."""

    label: str
    policy: Policy


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


def label_policies(
    identity_policies: Iterable[object],
    resource_policy: object | None,
    boundaries: Iterable[object],
    session_policies: Iterable[object],
    *,
    boundary_label: str = "PermissionsBoundaryPolicyInputList",
) -> tuple[tuple[Labelled, ...], Labelled | None, tuple[Labelled, ...], tuple[Labelled, ...]]:
    """Turn the caller's policy arguments into labelled Policy objects."""
    if isinstance(identity_policies, str | bytes | Policy):
        raise InvalidInput("identity_policies must be a sequence of policies, not one policy")
    identity = tuple(
        Labelled(p.name or f"PolicyInputList.{i}", p)
        for i, p in (
            (i, as_policy(v, "identity", f"identity_policies[{i - 1}]"))
            for i, v in enumerate(identity_policies, 1)
        )
    )
    resource = None
    if resource_policy is not None:
        rp = as_policy(resource_policy, "resource", "resource_policy")
        resource = Labelled(rp.name or "ResourcePolicy", rp)
    bounds = tuple(
        Labelled(p.name or f"{boundary_label}.{i}", p)
        for i, p in (
            (i, as_policy(v, "boundary", f"boundary[{i - 1}]")) for i, v in enumerate(boundaries, 1)
        )
    )
    sessions = tuple(
        Labelled(p.name or "SessionPolicy", p)
        for p in (as_policy(v, "session", "session_policy") for v in session_policies)
    )
    return identity, resource, bounds, sessions


# --- the request context, built on first use ----------------------------------------


class _LazyContext:
    """Builds the RequestContext the first time a statement needs it."""

    __slots__ = ("_base", "_built", "_fill_principal", "_now", "_principal")

    def __init__(
        self,
        base: RequestContext,
        principal: Principal,
        now: datetime | None,
        fill_principal: bool,
    ) -> None:
        self._base = base
        self._principal = principal
        self._now = now
        self._fill_principal = fill_principal
        self._built: RequestContext | None = None

    def __call__(self) -> RequestContext:
        built = self._built
        if built is None:
            built = self._built = self._build()
        return built

    def _build(self) -> RequestContext:
        base = self._base
        extra: dict[str, object] = {}
        if self._fill_principal:
            for key, value in self._principal.context_values().items():
                if key not in base:
                    extra[key] = value
        if "aws:CurrentTime" not in base or "aws:EpochTime" not in base:
            now = self._now if self._now is not None else datetime.now(UTC)
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            if "aws:CurrentTime" not in base:
                extra["aws:CurrentTime"] = now
            if "aws:EpochTime" not in base:
                extra["aws:EpochTime"] = int(now.timestamp())
        return base.with_values(extra) if extra else base


def as_context(context: Mapping[str, object] | RequestContext | None) -> RequestContext:
    """The caller's context as a RequestContext. Raises InvalidInput on bad keys/values."""
    if isinstance(context, RequestContext):
        return context
    if context is not None and not isinstance(context, Mapping):
        raise InvalidInput(f"context must be a mapping, not {type(context).__name__}")
    return RequestContext.from_mapping(context)


# --- the decision --------------------------------------------------------------------


def _matched(labelled: Labelled, statement: Statement) -> MatchedStatement:
    return MatchedStatement(
        labelled.label,
        labelled.policy.kind,
        statement.sid,
        statement.effect,
        statement.index,
        statement.start,
        statement.end,
    )


def _applies(statement: Statement, resource: str, lazy: _LazyContext, missing: set[str]) -> bool:
    """Resource and Condition of a statement whose action (and principal) already match."""
    if statement.resource is not None and not statement.resource.matches(resource, lazy, missing):
        return False
    condition = statement.condition
    if condition is EMPTY_CONDITION:
        return True
    result = condition.evaluate(lazy())
    if result.missing_keys:
        missing.update(result.missing_keys)
    return result.matched


def decide(
    principal: Principal,
    action: str,
    resource: str,
    *,
    context: RequestContext,
    identity: Sequence[Labelled],
    resource_policy: Labelled | None,
    boundaries: Sequence[Labelled],
    sessions: Sequence[Labelled],
    resource_account: str | None,
    now: datetime | None,
    fill_principal: bool = True,
) -> Decision:
    """The evaluation order of the module docstring, over already-labelled policies.

    Shared by :func:`evaluate` and the simulator so both always decide alike.
    """
    action_l = action.lower()
    lazy = _LazyContext(context, principal, now, fill_principal)
    missing: set[str] = set()
    denies: list[MatchedStatement] = []
    identity_allows: list[MatchedStatement] = []
    boundary_allows: list[MatchedStatement] = []
    session_allows: list[MatchedStatement] = []
    resource_allows: list[MatchedStatement] = []
    boundary_denied = False

    for group, allows in (
        (identity, identity_allows),
        (boundaries, boundary_allows),
        (sessions, session_allows),
    ):
        for labelled in group:
            for statement in labelled.policy.candidates(action_l):
                if _applies(statement, resource, lazy, missing):
                    if statement.effect == "Deny":
                        denies.append(_matched(labelled, statement))
                        if allows is boundary_allows:
                            boundary_denied = True
                    else:
                        allows.append(_matched(labelled, statement))

    grant = Grant.NONE
    if resource_policy is not None:
        has_boundary = bool(boundaries)
        for statement in resource_policy.policy.candidates(action_l):
            element = statement.principal
            if element is None:
                continue
            if statement.not_principal:
                if element.excludes(principal, has_boundary=has_boundary):
                    continue
                named = Grant.EVERYONE
            else:
                named = element.grant(principal)
                if named is Grant.NONE:
                    continue
            if not _applies(statement, resource, lazy, missing):
                continue
            if statement.effect == "Deny":
                denies.append(_matched(resource_policy, statement))
            else:
                resource_allows.append(_matched(resource_policy, statement))
                grant = max(grant, named)

    boundary_allowed = not boundaries or (bool(boundary_allows) and not boundary_denied)
    missing_values = tuple(sorted(missing, key=str.lower))
    ptype = principal.type
    account = principal.account
    if resource_account is None:
        resource_account = account
    root_here = ptype is PrincipalType.ROOT and account == resource_account

    if denies and not (root_here and action_l in _ROOT_LOCKOUT_GUARD):
        return Decision(False, EXPLICIT_DENY, tuple(denies), missing_values, boundary_allowed)

    # A federated-user session (GetFederationToken) has only what its session policy
    # allows: without one it has no permissions from identity policies at all.
    session_required = bool(sessions) or ptype is PrincipalType.FEDERATED_USER
    limits_ok = boundary_allowed and (not session_required or bool(session_allows))
    if root_here:
        allowed = True
    elif ptype in _NO_ACCOUNT or account is None:
        allowed = grant is not Grant.NONE
    elif account == resource_account:
        allowed = (
            (bool(identity_allows) and limits_ok)
            or grant is Grant.DIRECT
            or (grant in (Grant.ROLE, Grant.EVERYONE) and limits_ok)
        )
    else:
        caller_side = ptype is PrincipalType.ROOT or (bool(identity_allows) and limits_ok)
        allowed = caller_side and grant is not Grant.NONE

    matched = (*identity_allows, *resource_allows, *boundary_allows, *session_allows)
    return Decision(
        allowed, ALLOWED if allowed else IMPLICIT_DENY, matched, missing_values, boundary_allowed
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

    Raises InvalidInput for a bad principal, action, resource or context, and
    MalformedPolicyDocument for invalid policy text. Never raises for valid input.
    """
    if not isinstance(action, str):
        raise InvalidInput(f"action must be a str, not {type(action).__name__}")
    if not isinstance(resource, str):
        raise InvalidInput(f"resource must be a str, not {type(resource).__name__}")
    if resource_account is not None and not isinstance(resource_account, str):
        raise InvalidInput("resource_account must be a str")
    caller = as_principal(principal)
    identity, rp, bounds, sessions = label_policies(
        identity_policies,
        resource_policy,
        () if boundary is None else (boundary,),
        () if session_policy is None else (session_policy,),
    )
    return decide(
        caller,
        action,
        resource,
        context=as_context(context),
        identity=identity,
        resource_policy=rp,
        boundaries=bounds,
        sessions=sessions,
        resource_account=resource_account,
        now=now,
    )
