"""Compiled policy sets: a principal's policies, indexed and bound once, decided fast.

The live authorizer decides many requests for the same caller with the same policies. A
:class:`PolicySet` holds one set of identity, permissions-boundary and session policies
(parsed :class:`~objstore.iam.Policy` objects); :meth:`PolicySet.bind` binds it to one
caller::

    from objstore.iam import PolicySet

    bound = PolicySet.compile(identity, boundaries=(boundary,), sessions=()).bind(principal)
    decision = bound.decide("s3:GetObject", "arn:aws:s3:::b/k",
                            context={"aws:SourceIp": "10.0.0.1"},
                            resource_policy=bucket_policy)   # -> Decision

Binding does, once per caller instead of once per request:

* substitutes the caller's own policy variables (``${aws:username}``, ``${aws:userid}``,
  ``${aws:PrincipalTag/k}``, ``${aws:PrincipalArn}``, ``${aws:PrincipalAccount}``,
  ``${aws:PrincipalType}``) in Resource/NotResource entries, which become static patterns;
* decides every condition that reads only those caller keys (``aws:PrincipalTag/team``
  StringEquals ``eng`` ...): a statement whose such condition fails, and that has nothing
  to report, is dropped; one whose such conditions hold keeps only the rest;
* indexes the statements by action: a decision looks only at the statements whose
  Action/NotAction element accepts the request's action (memoised per action, bounded).

:meth:`BoundPolicySet.decide` then gives exactly the :class:`~objstore.iam.Decision` that
:func:`~objstore.iam.evaluate` gives for the same caller, policies and request (the same
core, ``decision.conclude``, makes both). If a request's context supplies one of the
caller keys the binding used (a caller-supplied value wins over the derived one), that
request is decided unbound, so the answer never depends on the shortcut.

Objects here are immutable as far as callers can tell (their memos only cache answers).
Keep one bound set per caller and policy generation; nothing is keyed on credentials.
:func:`~objstore.iam.evaluate` itself keeps bound sets on the :class:`Principal` object
(``Principal._memo``), keyed by the identity of the parsed policies, so callers that pass
raw policy lists get the same speed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from objstore.iam.conditions import Condition, ConditionBlock
from objstore.iam.context import RequestContext
from objstore.iam.decision import (
    BOUNDARY,
    IDENTITY,
    SESSION,
    Decision,
    Entry,
    conclude,
    context_entries,
    principal_entries,
    unbound_plan,
)
from objstore.iam.policy import Policy, Statement
from objstore.iam.principal import Principal

__all__ = ["BoundPolicySet", "PolicySet", "bound_for"]

# Caller keys whose values come from the principal alone (lower-cased).
_CALLER_KEYS = frozenset(
    {
        "aws:username",
        "aws:userid",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:principalservicename",
    }
)
_TAG_PREFIX = "aws:principaltag/"
_ACTION_MEMO_LIMIT = 1024
_PER_PRINCIPAL_LIMIT = 32


def _caller_key(lower: str) -> bool:
    return lower in _CALLER_KEYS or lower.startswith(_TAG_PREFIX)


class PolicySet:
    """Identity, boundary and session policies compiled together (see the module doc).

    Immutable; safe to share between threads and callers. Build with :meth:`compile`.
    """

    __slots__ = ("boundaries", "identity", "sessions", "uses_time")

    def __init__(
        self,
        identity: tuple[Policy, ...],
        boundaries: tuple[Policy, ...],
        sessions: tuple[Policy, ...],
    ) -> None:
        self.identity = identity
        self.boundaries = boundaries
        self.sessions = sessions
        self.uses_time = any(p.uses_time for p in (*identity, *boundaries, *sessions))

    @staticmethod
    def compile(
        identity: Sequence[Policy] = (),
        *,
        boundaries: Sequence[Policy] = (),
        sessions: Sequence[Policy] = (),
    ) -> PolicySet:
        """A set of parsed policies: ``identity`` (user, group and role policies, managed
        and inline), ``boundaries`` (several act as one boundary), ``sessions`` (session
        policies). Policies must be :class:`Policy` objects (parse text with
        ``Policy.from_json`` first). Raises nothing."""
        return PolicySet(tuple(identity), tuple(boundaries), tuple(sessions))

    def plan(self, action_l: str) -> tuple[Entry, ...]:
        """The unbound plan for a lower-cased action (what binding starts from)."""
        return unbound_plan(action_l, self.identity, self.boundaries, self.sessions)

    def bind(self, principal: Principal) -> BoundPolicySet:
        """This set bound to ``principal`` (variables substituted, caller-only conditions
        decided). Raises nothing."""
        return BoundPolicySet(self, principal)


class BoundPolicySet:
    """A :class:`PolicySet` bound to one principal; :meth:`decide` decides a request."""

    __slots__ = ("_entries", "_plans", "bound_keys", "policies", "principal")

    def __init__(self, policies: PolicySet, principal: Principal) -> None:
        self.policies = policies
        self.principal = principal
        ctx = RequestContext(MappingProxyType(dict(principal_entries(principal))))
        used: set[str] = set()
        # Every statement bound once: keyed by (group, position, statement index).
        entries: dict[tuple[int, int, int], Entry | None] = {}
        for group, group_policies in (
            (IDENTITY, policies.identity),
            (BOUNDARY, policies.boundaries),
            (SESSION, policies.sessions),
        ):
            for position, policy in enumerate(group_policies):
                for statement in policy.statements:
                    entries[(group, position, statement.index)] = _bind(
                        group, position, policy, statement, ctx, used
                    )
        self._entries = entries
        #: Lower-cased caller keys the binding read: a request supplying one is unbound.
        self.bound_keys = frozenset(used)
        self._plans: dict[str, tuple[Entry, ...]] = {}

    def plan(self, action_l: str) -> tuple[Entry, ...]:
        """The bound entries whose Action element accepts the lower-cased action."""
        found = self._plans.get(action_l)
        if found is None:
            entries = self._entries
            bound = []
            for entry in self.policies.plan(action_l):
                group, position, _policy, statement = entry[0]
                kept = entries[(group, position, statement.index)]
                if kept is not None:
                    bound.append(kept)
            found = tuple(bound)
            if len(self._plans) >= _ACTION_MEMO_LIMIT:
                self._plans.clear()
            self._plans[action_l] = found
        return found

    def decide(
        self,
        action: str,
        resource: str,
        *,
        context: Mapping[str, object] | RequestContext | None = None,
        resource_policy: Policy | None = None,
        resource_account: str | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """Decide ``action`` on ``resource`` for the bound principal.

        Same meaning as :func:`~objstore.iam.evaluate`'s arguments; ``resource_policy`` is a
        parsed resource policy. Raises InvalidInput for a bad context; never raises for
        valid input.
        """
        return self.decide_entries(
            action.lower(),
            resource,
            context_entries(context),
            resource_policy=resource_policy,
            resource_account=resource_account,
            now=now,
        )

    def decide_entries(
        self,
        action_l: str,
        resource: str,
        context: Mapping[str, tuple[str, tuple[object, ...]]],
        *,
        resource_policy: Policy | None,
        resource_account: str | None,
        now: datetime | None,
    ) -> Decision:
        """:meth:`decide` for a lower-cased action and context already as entries."""
        policies = self.policies
        if context and not self.bound_keys.isdisjoint(context):
            plan = policies.plan(action_l)  # the caller overrides a bound key
        else:
            plan = self._plans.get(action_l) or self.plan(action_l)
        return conclude(
            self.principal,
            action_l,
            resource,
            plan,
            uses_time=policies.uses_time,
            context=context,
            resource_policy=resource_policy,
            has_boundary=bool(policies.boundaries),
            has_session=bool(policies.sessions),
            resource_account=resource_account,
            now=now,
            fill_principal=True,
        )


def _bind(
    group: int,
    position: int,
    policy: Policy,
    statement: Statement,
    ctx: RequestContext,
    used: set[str],
) -> Entry | None:
    """A statement's plan entry with caller variables and caller-only conditions decided;
    None when it can never apply and has nothing to report."""
    test = statement.resource_test
    dynamic = statement.resource_dynamic
    if dynamic is not None:
        static = dynamic.bind(ctx, _caller_key)
        if static is not None:
            used.update(name for t in dynamic._templates for name in t.names)
            test, dynamic = static.static_test, None
    condition = statement.condition_or_none
    holds = True
    known_missing: set[str] = set()
    if condition is not None:
        rest: list[Condition] = []
        # A block reports a missing key once, spelled as its first condition on it spells it.
        spelling = dict(condition._keys_lower)
        for item in condition.conditions:
            names = [item._lower, *(n for t in item.variables for n in t.variables)]
            if all(_caller_key(n) for n in names):
                used.update(names)
                holds = holds and item.evaluate(ctx)
                if ctx.get_lower(item._lower) is None:
                    known_missing.add(spelling[item._lower])
                for template in item.variables:
                    known_missing.update(template.missing_variables(ctx))
            else:
                rest.append(_bind_values(item, ctx, used))
        condition = ConditionBlock.of(rest) if rest else None
    if not holds and not known_missing and condition is None and dynamic is None:
        return None  # never applies, and would report nothing
    return (
        (group, position, policy, statement),
        test,
        dynamic,
        condition,
        frozenset(known_missing),
        holds,
        statement.effect == "Deny",
        group,
    )


def _bind_values(item: Condition, ctx: RequestContext, used: set[str]) -> Condition:
    """The condition with its policy values' caller variables substituted, when every
    variable is a caller key with a value (``s3:prefix`` StringLike ``${aws:username}/*``):
    its test is then built once instead of per request."""
    if item._bind is None or not item.variables:
        return item
    names = [n for t in item.variables for n in t.variables]
    if not all(_caller_key(n) for n in names):
        return item
    if any(t.missing_variables(ctx) for t in item.variables):
        return item
    used.update(names)
    return replace(item, variables=(), _bind=None, _test=item._bind(ctx))


def bound_for(
    principal: Principal,
    identity: tuple[Policy, ...],
    boundaries: tuple[Policy, ...],
    sessions: tuple[Policy, ...],
) -> BoundPolicySet:
    """The bound set for these parsed policies, kept on the principal object (bounded)."""
    memo = principal._memo
    sets = memo.get("bound_sets")
    if sets is None:
        sets = memo["bound_sets"] = {}
    assert isinstance(sets, dict)
    key = (identity, boundaries, sessions)
    found = sets.get(key)
    if found is None:
        found = PolicySet(identity, boundaries, sessions).bind(principal)
        if len(sets) >= _PER_PRINCIPAL_LIMIT:
            sets.clear()
        sets[key] = found
    return found
