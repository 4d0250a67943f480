"""The decision core shared by :func:`~objstore.iam.evaluate.evaluate`, the simulator and
compiled policy sets (``compiled.py``): the evaluation order of ``evaluate.py``'s docstring,
run over a *plan*.

A plan is the list of identity, boundary and session statements that can apply to one
action, each as an :data:`Entry` carrying its resource test and condition in the form the
inner loop reads. An unbound plan (:func:`unbound_plan`) takes them from the statements as
parsed; a plan bound to a principal (``compiled.BoundPolicySet``) has the principal's
policy variables substituted and its principal-only conditions decided already. Either way
:func:`conclude` makes the decision, so both always decide alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address
from operator import itemgetter
from types import MappingProxyType
from typing import Literal, TypeAlias

from objstore.errors import InvalidInput
from objstore.iam.conditions import ConditionBlock
from objstore.iam.context import RequestContext
from objstore.iam.matchers import ResourceMatcher
from objstore.iam.policy import Policy, Position, Statement
from objstore.iam.principal import Grant, Principal, PrincipalType

__all__ = [
    "ALLOWED",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "EffectName",
    "Entry",
    "MatchedStatement",
    "conclude",
    "context_entries",
    "entry",
    "principal_entries",
    "unbound_plan",
]

EffectName: TypeAlias = Literal["allowed", "explicitDeny", "implicitDeny"]
ALLOWED: EffectName = "allowed"
EXPLICIT_DENY: EffectName = "explicitDeny"
IMPLICIT_DENY: EffectName = "implicitDeny"

# Root may always manage its bucket's policy, so a bad policy cannot lock the owner out.
_ROOT_LOCKOUT_GUARD = frozenset(
    {"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"}
)
_NO_ACCOUNT = frozenset(
    {PrincipalType.ANONYMOUS, PrincipalType.SERVICE, PrincipalType.WEB_IDENTITY}
)


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


def principal_entries(principal: Principal) -> _Entries:
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
        entries: _Entries = {} if principal is None else dict(principal_entries(principal))
        if self._time and ("aws:currenttime" not in caller or "aws:epochtime" not in caller):
            now = self._now if self._now is not None else datetime.now(UTC)
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            entries["aws:currenttime"] = ("aws:CurrentTime", (now,))
            entries["aws:epochtime"] = ("aws:EpochTime", (int(now.timestamp()),))
        entries.update(caller)
        return RequestContext(MappingProxyType(entries))


# --- plans ---------------------------------------------------------------------------

# Where a matched statement came from: its group and its position in the group.
IDENTITY, RESOURCE, BOUNDARY, SESSION = range(4)
_Match: TypeAlias = tuple[int, int, Policy, Statement]
_NO_MISSING: frozenset[str] = frozenset()

#: One candidate statement of a plan: (match, resource test or None for "any resource",
#: dynamic resource element or None, residual condition or None, condition keys already
#: known to be missing, whether the part of the condition already decided holds,
#: whether it is a Deny, its group).
Entry: TypeAlias = tuple[
    _Match,
    Callable[[str], bool] | None,
    ResourceMatcher | None,
    ConditionBlock | None,
    frozenset[str],
    bool,
    bool,
    int,
]


def entry(group: int, position: int, policy: Policy, statement: Statement) -> Entry:
    """The plan entry of a statement as parsed (nothing bound)."""
    return (
        (group, position, policy, statement),
        statement.resource_test,
        statement.resource_dynamic,
        statement.condition_or_none,
        _NO_MISSING,
        True,
        statement.effect == "Deny",
        group,
    )


# Per (action, identity policies, boundaries, session policies): the entries whose
# Action element accepts the action, in order. Policies hash by identity, so a lookup
# costs a tuple hash; bounded, so a stream of odd action names cannot grow it unduly.
_PLANS: dict[tuple[object, ...], tuple[Entry, ...]] = {}
_PLAN_LIMIT = 4096


def unbound_plan(
    action_l: str,
    identity: tuple[Policy, ...],
    boundaries: tuple[Policy, ...],
    sessions: tuple[Policy, ...],
) -> tuple[Entry, ...]:
    """The candidate entries for a lower-cased action, straight from the statements."""
    key = (action_l, identity, boundaries, sessions)
    found = _PLANS.get(key)
    if found is None:
        found = tuple(
            entry(group, position, policy, statement)
            for group, policies in (
                (IDENTITY, identity),
                (BOUNDARY, boundaries),
                (SESSION, sessions),
            )
            for position, policy in enumerate(policies)
            for statement in policy.candidates(action_l)
        )
        if len(_PLANS) >= _PLAN_LIMIT:
            _PLANS.clear()
        _PLANS[key] = found
    return found


# --- reporting -----------------------------------------------------------------------


def _label(group: int, position: int, policy: Policy) -> str:
    if policy.name:
        return policy.name
    if group == IDENTITY:
        return f"PolicyInputList.{position + 1}"
    if group == BOUNDARY:
        return f"PermissionsBoundaryPolicyInputList.{position + 1}"
    return "ResourcePolicy" if group == RESOURCE else "SessionPolicy"


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


# --- the decision --------------------------------------------------------------------


def _applies_dynamic(
    dynamic: ResourceMatcher | None,
    condition: ConditionBlock | None,
    known_missing: frozenset[str],
    holds: bool,
    resource: str,
    lazy: _LazyContext,
    missing: set[str],
) -> bool:
    """The part of a statement's test that may need the request context."""
    if dynamic is not None and not dynamic.matches(resource, lazy, missing):
        return False
    if known_missing:
        missing.update(known_missing)
    if condition is None:
        return holds
    result = condition.evaluate(lazy())
    if result.missing_keys:
        missing.update(result.missing_keys)
    return holds and result.matched


def conclude(
    principal: Principal,
    action_l: str,
    resource: str,
    plan: tuple[Entry, ...],
    *,
    uses_time: bool,
    context: Mapping[str, tuple[str, tuple[object, ...]]],
    resource_policy: Policy | None,
    has_boundary: bool,
    has_session: bool,
    resource_account: str | None,
    now: datetime | None,
    fill_principal: bool,
) -> Decision:
    """The evaluation order of ``evaluate.py``'s docstring, over a plan for ``action_l``.

    ``context`` holds the caller's entries (see :func:`context_entries`); ``has_boundary``
    and ``has_session`` say whether a boundary or session policy is in force (their
    statements are in the plan).
    """
    if resource_policy is not None and resource_policy.uses_time:
        uses_time = True
    lazy = _LazyContext(context, principal if fill_principal else None, now, uses_time)
    missing: set[str] = set()
    denies: list[_Match] = []
    allows: list[_Match] = []
    identity_allowed = boundary_allowed_any = boundary_denied = session_allowed = False

    for match, test, dynamic, condition, known_missing, holds, deny, group in plan:
        # The static resource test inline: most candidates fail or pass here.
        if test is not None and not test(resource):
            continue
        if (
            dynamic is not None or condition is not None or known_missing or not holds
        ) and not _applies_dynamic(
            dynamic, condition, known_missing, holds, resource, lazy, missing
        ):
            continue
        if deny:
            denies.append(match)
            if group == BOUNDARY:
                boundary_denied = True
            continue
        allows.append(match)
        if group == IDENTITY:
            identity_allowed = True
        elif group == BOUNDARY:
            boundary_allowed_any = True
        else:
            session_allowed = True

    grant = Grant.NONE
    if resource_policy is not None:
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
            test = statement.resource_test
            if test is not None and not test(resource):
                continue
            if not _applies_dynamic(
                statement.resource_dynamic,
                statement.condition_or_none,
                _NO_MISSING,
                True,
                resource,
                lazy,
                missing,
            ):
                continue
            if statement.effect == "Deny":
                denies.append((RESOURCE, 0, resource_policy, statement))
            else:
                allows.append((RESOURCE, 0, resource_policy, statement))
                if named > grant:
                    grant = named

    boundary_allowed = not has_boundary or (boundary_allowed_any and not boundary_denied)
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
    session_required = has_session or ptype is PrincipalType.FEDERATED_USER
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
