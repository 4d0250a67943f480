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
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address
from operator import itemgetter
from types import MappingProxyType
from typing import Literal, TypeAlias

from objstore.errors import InvalidInput
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


# --- the request context, built on first use ----------------------------------------

_Entries: TypeAlias = dict[str, tuple[str, tuple[object, ...]]]
_NO_ENTRIES: Mapping[str, tuple[str, tuple[object, ...]]] = MappingProxyType({})
_SCALARS = frozenset({str, int, float, bool, datetime, bytes, IPv4Address, IPv6Address})


def context_entries(
    context: Mapping[str, object] | RequestContext | None,
) -> Mapping[str, tuple[str, tuple[object, ...]]]:
    """The caller's context as RequestContext entries (lower-cased key -> (key, values)).

    Same rules as ``RequestContext.from_mapping``, with a fast path for scalar values:
    raises InvalidInput for a key that is not a non-empty str, a key given twice with
    different spellings, or a mapping as a value.
    """
    if type(context) is not dict:
        if context is None:
            return _NO_ENTRIES
        if isinstance(context, RequestContext):
            return context._entries
        if not isinstance(context, Mapping):
            raise InvalidInput(f"context must be a mapping, not {type(context).__name__}")
    entries: _Entries = {}
    for key, raw in context.items():
        if type(key) is not str or not key:
            raise InvalidInput(f"context key must be a non-empty string, not {key!r}")
        lower = key.lower()
        if lower in entries:
            raise InvalidInput(
                f"context key {key!r} given twice (condition keys are case-insensitive)"
            )
        if type(raw) in _SCALARS:
            entries[lower] = (key, (raw,))
        elif raw is None:
            continue
        elif isinstance(raw, list | tuple | set | frozenset):
            entries[lower] = (key, tuple(v for v in raw if v is not None))
        elif isinstance(raw, Mapping):
            raise InvalidInput(f"context key {key!r}: a value cannot be a mapping")
        else:
            entries[lower] = (key, (raw,))
    return entries


def _principal_entries(principal: Principal) -> _Entries:
    """The principal's derived keys as context entries, computed once per principal."""
    memo = principal._memo
    found = memo.get("context_entries")
    if found is None:
        found = {key.lower(): (key, (value,)) for key, value in principal.context_values().items()}
        memo["context_entries"] = found
    return found  # type: ignore[return-value]


class _LazyContext:
    """Builds the RequestContext the first time a statement needs it.

    Layers, later ones winning: the principal's derived keys, the clock, the caller's
    values. The entries are assembled directly in RequestContext's representation (the
    same result ``with_values`` gives, without re-validating values already checked).
    """

    __slots__ = ("_built", "_caller", "_now", "_principal", "_time")

    def __init__(
        self,
        caller: Mapping[str, tuple[str, tuple[object, ...]]],
        principal: Principal | None,
        now: datetime | None,
        time: bool,
    ) -> None:
        self._caller = caller
        self._principal = principal
        self._now = now
        self._time = time  # whether any policy reads the clock keys
        self._built: RequestContext | None = None

    def __call__(self) -> RequestContext:
        built = self._built
        if built is None:
            built = self._built = self._build()
        return built

    def _build(self) -> RequestContext:
        caller = self._caller
        principal = self._principal
        entries: _Entries = {} if principal is None else dict(_principal_entries(principal))
        if self._time and ("aws:currenttime" not in caller or "aws:epochtime" not in caller):
            now = self._now if self._now is not None else datetime.now(UTC)
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            entries["aws:currenttime"] = ("aws:CurrentTime", (now,))
            entries["aws:epochtime"] = ("aws:EpochTime", (int(now.timestamp()),))
        entries.update(caller)
        return RequestContext(MappingProxyType(entries))


# --- the decision --------------------------------------------------------------------

# Where a matched statement came from: its group and its position in the group.
_IDENTITY, _RESOURCE, _BOUNDARY, _SESSION = range(4)
_Match: TypeAlias = tuple[int, int, Policy, Statement]


def _label(group: int, position: int, policy: Policy) -> str:
    if policy.name:
        return policy.name
    if group == _IDENTITY:
        return f"PolicyInputList.{position + 1}"
    if group == _BOUNDARY:
        return f"PermissionsBoundaryPolicyInputList.{position + 1}"
    return "ResourcePolicy" if group == _RESOURCE else "SessionPolicy"


def _report(matches: Iterable[_Match]) -> tuple[MatchedStatement, ...]:
    """MatchedStatement records, built once per policy, label and statement."""
    out = []
    for group, position, policy, statement in matches:
        label = _label(group, position, policy)
        cache = policy._results
        key = (label, statement.index)
        record = cache.get(key)
        if record is None:
            record = MatchedStatement(
                label,
                policy.kind,
                statement.sid,
                statement.effect,
                statement.index,
                statement.start,
                statement.end,
            )
            cache[key] = record
        out.append(record)
    return tuple(out)  # type: ignore[arg-type]


def _applies(statement: Statement, resource: str, lazy: _LazyContext, missing: set[str]) -> bool:
    """Resource and Condition of a statement whose action (and principal) already match.

    Uses the statement's precompiled fast paths: this is the innermost loop of a decision.
    """
    test = statement.resource_test
    if test is not None and not test(resource):
        return False
    return _applies_dynamic(statement, resource, lazy, missing)


def _applies_dynamic(
    statement: Statement, resource: str, lazy: _LazyContext, missing: set[str]
) -> bool:
    """The part of :func:`_applies` that may need the request context."""
    dynamic = statement.resource_dynamic
    if dynamic is not None and not dynamic.matches(resource, lazy, missing):
        return False
    condition = statement.condition_or_none
    if condition is None:
        return True
    result = condition.evaluate(lazy())
    if result.missing_keys:
        missing.update(result.missing_keys)
    return result.matched


# Per (action, identity policies, boundaries, session policies): the statements whose
# Action element accepts the action, in order. Policies hash by identity, so a lookup
# costs a tuple hash; bounded, so a stream of odd action names cannot grow it unduly.
_PLANS: dict[tuple[object, ...], tuple[tuple[_Match, ...], bool]] = {}
_PLAN_LIMIT = 4096


def _plan(
    action_l: str,
    identity: tuple[Policy, ...],
    boundaries: tuple[Policy, ...],
    sessions: tuple[Policy, ...],
) -> tuple[tuple[_Match, ...], bool]:
    """The candidate statements, and whether any policy among them reads the clock."""
    key = (action_l, identity, boundaries, sessions)
    found = _PLANS.get(key)
    if found is None:
        matches = tuple(
            (group, position, policy, statement)
            for group, policies in (
                (_IDENTITY, identity),
                (_BOUNDARY, boundaries),
                (_SESSION, sessions),
            )
            for position, policy in enumerate(policies)
            for statement in policy.candidates(action_l)
        )
        uses_time = any(p.uses_time for p in (*identity, *boundaries, *sessions))
        found = (matches, uses_time)
        if len(_PLANS) >= _PLAN_LIMIT:
            _PLANS.clear()
        _PLANS[key] = found
    return found


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
    :func:`evaluate` and the simulator, so both always decide alike.
    """
    action_l = action.lower()
    plan, uses_time = _plan(action_l, tuple(identity), tuple(boundaries), tuple(sessions))
    if resource_policy is not None and resource_policy.uses_time:
        uses_time = True
    lazy = _LazyContext(context, principal if fill_principal else None, now, uses_time)
    missing: set[str] = set()
    denies: list[_Match] = []
    allows: list[_Match] = []
    identity_allowed = boundary_allowed_any = boundary_denied = session_allowed = False

    for match in plan:
        statement = match[3]
        # The static resource test inline: most candidates fail or pass here.
        test = statement.resource_test
        if test is not None and not test(resource):
            continue
        if (
            statement.resource_dynamic is not None or statement.condition_or_none is not None
        ) and not _applies_dynamic(statement, resource, lazy, missing):
            continue
        group = match[0]
        if statement.effect == "Deny":
            denies.append(match)
            if group == _BOUNDARY:
                boundary_denied = True
            continue
        allows.append(match)
        if group == _IDENTITY:
            identity_allowed = True
        elif group == _BOUNDARY:
            boundary_allowed_any = True
        else:
            session_allowed = True

    grant = Grant.NONE
    if resource_policy is not None:
        has_boundary = bool(boundaries)
        for statement in resource_policy.candidates(action_l):
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
                denies.append((_RESOURCE, 0, resource_policy, statement))
            else:
                allows.append((_RESOURCE, 0, resource_policy, statement))
                if named > grant:
                    grant = named

    boundary_allowed = not boundaries or (boundary_allowed_any and not boundary_denied)
    missing_values = tuple(sorted(missing, key=str.lower)) if missing else ()
    ptype = principal.type
    account = principal.account
    if resource_account is None:
        resource_account = account
    root_here = ptype is PrincipalType.ROOT and account == resource_account

    if denies and not (root_here and action_l in _ROOT_LOCKOUT_GUARD):
        return _decision(False, EXPLICIT_DENY, denies, missing_values, boundary_allowed)

    # A federated-user session (GetFederationToken) has only what its session policy
    # allows: without one it has no permissions from identity policies at all.
    session_required = bool(sessions) or ptype is PrincipalType.FEDERATED_USER
    limits_ok = boundary_allowed and (not session_required or session_allowed)
    if root_here:
        allowed = True
    elif ptype in _NO_ACCOUNT or account is None:
        allowed = grant is not Grant.NONE
    elif account == resource_account:
        allowed = (
            grant >= Grant.EVERYONE
            or (identity_allowed and limits_ok)
            or (grant is Grant.ROLE and limits_ok)
        )
    else:
        caller_side = ptype is PrincipalType.ROOT or (identity_allowed and limits_ok)
        allowed = caller_side and grant is not Grant.NONE

    # Report allows in group order (identity, resource, boundary, session); stable.
    if len(allows) > 1:
        allows.sort(key=itemgetter(0))
    return _decision(
        allowed, ALLOWED if allowed else IMPLICIT_DENY, allows, missing_values, boundary_allowed
    )


# Decisions are immutable and, for a given set of policies, few: the same outcome with the
# same statements is shared instead of rebuilt. Keys hold policies and statements (which
# hash by identity), never callers or request values other than missing key names.
_DECISIONS: dict[tuple[object, ...], Decision] = {}
_DECISION_LIMIT = 4096


def _decision(
    allowed: bool,
    effect: EffectName,
    matches: list[_Match],
    missing: tuple[str, ...],
    boundary_allowed: bool,
) -> Decision:
    key = (effect, boundary_allowed, missing, *matches)
    found = _DECISIONS.get(key)
    if found is None:
        found = Decision(allowed, effect, _report(matches), missing, boundary_allowed)
        if len(_DECISIONS) >= _DECISION_LIMIT:
            _DECISIONS.clear()
        _DECISIONS[key] = found
    return found


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
