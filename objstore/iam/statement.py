"""A compiled policy statement and source positions (the pieces a decision reads).

:class:`Statement` holds one statement's compiled elements (see ``matchers.py`` for the
Action and Resource elements, ``principal.py`` for Principal, ``conditions.py`` for
Condition) and, derived once, the fast-path fields the evaluator's inner loop uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from objstore.iam.conditions import EMPTY as EMPTY_CONDITION
from objstore.iam.conditions import ConditionBlock
from objstore.iam.context import EMPTY_CONTEXT, RequestContext
from objstore.iam.matchers import ActionMatcher, ContextSource, ResourceMatcher
from objstore.iam.principal import PrincipalElement

__all__ = ["Position", "Statement"]


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in the policy's source text."""

    line: int
    column: int


def _no_context() -> RequestContext:
    return EMPTY_CONTEXT


_TIME_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})


@dataclass(frozen=True, slots=True, eq=False)
class Statement:
    """One compiled statement. ``start``/``end`` span it in the source (end inclusive).

    Compared and hashed by identity, like its :class:`Policy`.
    """

    index: int  # 0-based position in the policy's Statement list
    sid: str | None
    effect: Literal["Allow", "Deny"]
    action: ActionMatcher
    resource: ResourceMatcher | None  # None in trust policies (they have no Resource)
    principal: PrincipalElement | None  # None in identity, boundary and session policies
    not_principal: bool  # the element was NotPrincipal
    condition: ConditionBlock
    start: Position
    end: Position
    # The decision's hot path, derived once: a static resource test (None: accepts all or
    # has variables), the element when it has variables, the condition unless empty.
    resource_test: Callable[[str], bool] | None = field(init=False, repr=False, compare=False)
    resource_dynamic: ResourceMatcher | None = field(init=False, repr=False, compare=False)
    condition_or_none: ConditionBlock | None = field(init=False, repr=False, compare=False)
    # Whether a condition or variable reads aws:CurrentTime / aws:EpochTime.
    uses_time: bool = field(init=False, repr=False, compare=False)
    # Every context key a condition or variable reads, lower-cased.
    context_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        matcher = self.resource
        dynamic = matcher if matcher is not None and matcher.uses_variables else None
        test = matcher.static_test if matcher is not None else None
        condition = None if self.condition is EMPTY_CONDITION else self.condition
        names = {k.lower() for k in self.condition.keys}
        names.update(v.lower() for v in self.condition.variables)
        if dynamic is not None:
            names.update(name for t in dynamic._templates for name in t.names)
        object.__setattr__(self, "resource_test", test)
        object.__setattr__(self, "resource_dynamic", dynamic)
        object.__setattr__(self, "condition_or_none", condition)
        object.__setattr__(self, "uses_time", not _TIME_KEYS.isdisjoint(names))
        object.__setattr__(self, "context_keys", frozenset(names))

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def has_condition(self) -> bool:
        return self.condition is not EMPTY_CONDITION

    @property
    def uses_context(self) -> bool:
        """Whether deciding this statement needs the request context."""
        return self.has_condition or (self.resource is not None and self.resource.uses_variables)

    def matches_resource(
        self,
        resource: str,
        context: ContextSource = _no_context,
        missing: set[str] | None = None,
    ) -> bool:
        """Whether Resource/NotResource accepts ``resource`` (always true in trust policies)."""
        return self.resource is None or self.resource.matches(resource, context, missing)
