"""Compiled Action/NotAction and Resource/NotResource elements.

Actions match case-insensitively, ``*`` any run and ``?`` one character.

Resources are ARN patterns matched **segment by segment**, as S3 and IAM document: the
first five colons separate ``arn``, partition, service, region and account, and a ``*`` or
``?`` in one of those segments matches within that segment only (it never crosses a
``:`` into the next one). The sixth segment, the resource part, is the rest of the ARN: it
may contain ``:`` and ``/``, and a wildcard there matches anything, colons included. The
pattern ``"*"`` alone matches every resource. (When the first five segments of a pattern
are literal, a whole-string match is the same thing and is what runs.)

Policy variables (``${aws:username}``) are substituted only in the resource part. AWS
forbids them before the fifth colon (in the partition, service, region or account), so an
entry that has one there matches nothing; a wildcard in the service segment is refused
when the policy is parsed (see :func:`compile_resource`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from objstore.iam.arn import Arn, ArnPattern
from objstore.iam.context import EMPTY_CONTEXT, RequestContext, value_to_string
from objstore.iam.glob import Glob
from objstore.iam.variables import Template

__all__ = [
    "ActionMatcher",
    "ContextSource",
    "ResourceEntry",
    "ResourceMatcher",
    "compile_resource",
]

# The rendered-pattern memo is bounded so varied variable values cannot grow it unduly.
_MEMO_LIMIT = 1024
_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class ActionMatcher:
    """A compiled Action or NotAction element; :meth:`matches` includes the negation."""

    patterns: tuple[str, ...]
    negated: bool
    _all: bool = field(repr=False)
    _literals: frozenset[str] = field(repr=False)
    _globs: tuple[Glob, ...] = field(repr=False)

    @staticmethod
    def compile(patterns: Sequence[str], *, negated: bool) -> ActionMatcher:
        literals: set[str] = set()
        globs: list[Glob] = []
        match_all = False
        for pattern in patterns:
            if pattern == "*":
                match_all = True
            elif "*" in pattern or "?" in pattern:
                globs.append(Glob.compile(pattern, ignore_case=True))
            else:
                literals.add(pattern.lower())
        return ActionMatcher(tuple(patterns), negated, match_all, frozenset(literals), tuple(globs))

    def listed(self, action_lower: str) -> bool:
        """Whether the element lists the action (ignoring the negation)."""
        if self._all or action_lower in self._literals:
            return True
        return any(g.match(action_lower) for g in self._globs)

    def matches(self, action_lower: str) -> bool:
        """Whether the statement applies to the (lower-cased) action."""
        return self.listed(action_lower) is not self.negated


ContextSource: TypeAlias = Callable[[], RequestContext]
_FIFTH_COLON = 5


@dataclass(frozen=True, slots=True)
class ResourceEntry:
    """One compiled entry of a Resource/NotResource element.

    Exactly one of: ``everything`` (the entry is ``"*"``), ``pattern`` (a static ARN
    pattern), ``template`` (an ARN with policy variables in its resource part), or none of
    them: the entry can never match (a variable before the fifth colon).
    """

    text: str
    everything: bool = False
    pattern: ArnPattern | None = None
    template: Template | None = None


def compile_resource(text: str, *, version: str) -> ResourceEntry:
    """Compile one Resource/NotResource entry under policy-language ``version``.

    Raises ValueError (with a message for MalformedPolicyDocument) for a malformed policy
    variable, for text that is neither ``"*"`` nor an ARN with a partition, service and
    resource, and for a wildcard in the service segment (IAM refuses it: the service must
    be named exactly).
    """
    template = Template.compile(text, version=version)
    if text == "*":
        return ResourceEntry(text, everything=True)
    # Validate the ARN shape with variables stood in by a plain word: a variable
    # such as ${aws:username} contains a colon that is not an ARN separator.
    shape = _VARIABLE.sub("x", text) if template.has_variables else text
    try:
        arn = Arn.parse(shape)
    except ValueError as exc:
        raise ValueError(f'{text!r} is not "*" or a valid ARN ({exc})') from None
    if "*" in arn.service or "?" in arn.service:
        raise ValueError(
            f"{text!r}: the service segment must name the service exactly "
            "(wildcards are not allowed there)"
        )
    if template.has_variables:
        if template.colons_before_first_variable() < _FIFTH_COLON:
            # AWS substitutes variables only in the resource part; this entry is inert.
            return ResourceEntry(text)
        return ResourceEntry(text, template=template)
    parts = template.render_parts(EMPTY_CONTEXT)
    assert parts is not None  # a template without variables always renders
    return ResourceEntry(text, pattern=ArnPattern.from_parts(parts))


def _variable_text(values: tuple[object, ...] | None) -> str | None:
    """The text a policy variable takes from these context values (None: unresolved).

    Mirrors ``variables._resolve`` before the default: one value with a text form.
    """
    if values is None or len(values) != 1:
        return None
    return value_to_string(values[0])


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A resource template plus a memo of its rendered patterns.

    The rendered pattern depends only on the text of the template's variables, so it is
    memoised by that text (a user's ``${aws:username}`` is rendered once, not on
    every request). Bounded, so varied values cannot grow it without limit.
    """

    template: Template
    names: tuple[str, ...]  # lower-cased variable names, in a fixed order
    # The literal text before the first variable or wildcard: every rendering starts with
    # it, so a resource without it cannot match (checked before the context is built).
    prefix: str
    memo: dict[tuple[str | None, ...], ArnPattern | None] = field(
        default_factory=dict, compare=False
    )

    @staticmethod
    def of(template: Template) -> _Rendered:
        text = template.text
        cut = len(text)
        for marker in ("${", "*", "?"):
            found = text.find(marker)
            if 0 <= found < cut:
                cut = found
        return _Rendered(template, tuple(sorted(template.variables)), text[:cut])

    def pattern(self, ctx: RequestContext) -> ArnPattern | None:
        """The pattern rendered for ``ctx``; None when a variable has no value."""
        # Keyed by each variable's *text* (what rendering substitutes), not by the raw
        # values: raw values that compare equal can render differently (True == 1 but
        # renders "true", Decimal("2.0") == 2 but renders "2.0"), and keying on them would
        # hand one request the pattern rendered for another.
        get = ctx.get_lower
        key = tuple([_variable_text(get(name)) for name in self.names])
        memo = self.memo
        if key in memo:
            return memo[key]
        rendered = self.render(ctx)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = rendered
        return rendered

    def render(self, ctx: RequestContext) -> ArnPattern | None:
        """Render without the memo (substituted values are literal text)."""
        parts = self.template.render_parts(ctx)
        return None if parts is None else ArnPattern.from_parts(parts)


@dataclass(frozen=True, slots=True)
class ResourceMatcher:
    """A compiled Resource or NotResource element; :meth:`matches` includes the negation.

    Static entries are compiled ARN patterns (``"*"`` and literal ARNs take faster paths);
    entries with policy variables are rendered against the request context, and an
    entry whose variable has no value matches nothing.
    """

    patterns: tuple[str, ...]
    negated: bool
    uses_variables: bool
    _all: bool = field(repr=False)
    _literals: frozenset[str] = field(repr=False)
    _globs: tuple[Callable[[str], bool], ...] = field(repr=False)
    _templates: tuple[_Rendered, ...] = field(repr=False)

    @property
    def static_test(self) -> Callable[[str], bool] | None:
        """For an element without variables, the fastest whole test (negation included);
        None when the element has variables or accepts every resource."""
        if self._templates:
            return None
        literals, globs = self._literals, self._globs
        if self._all:
            return _never if self.negated else None
        base: Callable[[str], bool]
        if not globs:
            base = literals.__contains__
        elif not literals and len(globs) == 1:
            base = globs[0]
        else:
            base = lambda r: r in literals or any(g(r) for g in globs)  # noqa: E731
        if self.negated:
            return lambda r: not base(r)
        return base

    @staticmethod
    def compile(entries: Sequence[ResourceEntry], *, negated: bool) -> ResourceMatcher:
        literals: set[str] = set()
        globs: list[Callable[[str], bool]] = []
        templates: list[Template] = []
        match_all = False
        for entry in entries:
            if entry.everything:
                match_all = True
            elif entry.template is not None:
                templates.append(entry.template)
            elif entry.pattern is not None:
                if entry.pattern.literal is not None:
                    literals.add(entry.pattern.literal)
                else:
                    globs.append(entry.pattern.match)
        return ResourceMatcher(
            tuple(e.text for e in entries),
            negated,
            bool(templates),
            match_all,
            frozenset(literals),
            tuple(globs),
            tuple(_Rendered.of(t) for t in templates),
        )

    def bind(self, ctx: RequestContext, bindable: Callable[[str], bool]) -> ResourceMatcher | None:
        """This element with every variable substituted from ``ctx``, as a static element.

        None when some variable is not ``bindable`` (its lower-cased name) or has no value
        in ``ctx``: the element then stays dynamic, decided per request.
        """
        literals = set(self._literals)
        globs = list(self._globs)
        for rendered_template in self._templates:
            if not all(bindable(name) for name in rendered_template.names):
                return None
            pattern = rendered_template.render(ctx)
            if pattern is None:
                return None
            if pattern.literal is not None:
                literals.add(pattern.literal)
            else:
                globs.append(pattern.match)
        return ResourceMatcher(
            self.patterns,
            self.negated,
            False,
            self._all,
            frozenset(literals),
            tuple(globs),
            (),
        )

    def listed(self, resource: str, context: ContextSource, missing: set[str] | None) -> bool:
        """Whether the element lists the resource (ignoring the negation).

        Names of variables that had no value are added to ``missing`` when given.
        """
        if self._all or resource in self._literals:
            return True
        for glob in self._globs:
            if glob(resource):
                return True
        for rendered_template in self._templates:
            if not resource.startswith(rendered_template.prefix):
                continue
            ctx = context()
            rendered = rendered_template.pattern(ctx)
            if rendered is None:
                if missing is not None:
                    missing.update(rendered_template.template.missing_variables(ctx))
                continue
            if rendered.match(resource):
                return True
        return False

    def matches(
        self, resource: str, context: ContextSource, missing: set[str] | None = None
    ) -> bool:
        """Whether the statement applies to the resource."""
        return self.listed(resource, context, missing) is not self.negated


def _never(_resource: str) -> bool:
    return False
