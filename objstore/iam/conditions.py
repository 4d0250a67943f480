"""The ``Condition`` element: every IAM condition operator, compiled once, evaluated cheaply.

A block maps operators to ``{condition key: [policy values]}``. Semantics, as AWS documents
them (IAM User Guide, "Condition operators", "Multivalued context keys"):

* Several operators, and several keys under one operator: all must hold (AND).
* Several policy values for one key: any may match (OR). For a negated operator
  (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike`` ...) the condition holds when the
  request value matches *none* of them: a negated operator is exactly the negation of
  its positive twin.
* Key names are case-insensitive. Operator names are case-sensitive (AWS rejects
  ``stringEquals`` with "Invalid Condition type").
* Missing key (absent from the request context, or present with no values at all):
  plain operators are false, negated operators true, any ``...IfExists`` operator true,
  ``ForAllValues:`` true, ``ForAnyValue:`` false, ``Null`` true exactly when the policy
  value is ``true``. Under a set qualifier a key whose only value is the empty string is
  an empty data set too, as AWS documents ("resolves to an empty data set (for example,
  an empty string)"); for ``Null`` and unqualified operators ``""`` is a present value.
  ``ForAnyValue:`` wins over ``IfExists``: ``ForAnyValue:StringEqualsIfExists`` on a
  missing key is false, which is what AWS does in practice (an allow conditioned that way
  denies requests without the key), although its IfExists wording alone suggests true.
* ``ForAllValues:op``: every request value must match some policy value (for a negated
  ``op``: every request value must match none). ``ForAnyValue:op``: at least one request
  value must match some policy value (negated: at least one request value matches none).
* Decision where AWS is silent: a plain (unqualified) operator given several request
  values behaves like ``ForAnyValue:`` for positive operators (some request value matches
  some policy value) and as its exact negation for negated operators (no request value
  matches any policy value). This keeps ``StringNotEquals == not StringEquals`` for any
  present key and makes ``Deny`` + ``StringEquals`` on a list key deny when any item hits.
* Typed comparison: String operators compare text (a context ``5`` or ``True`` compares as
  ``"5"`` / ``"true"``); Numeric ones compare decimals exactly (``5`` == ``"5.0"``); Date
  ones compare instants (W3C ISO 8601 forms with or without time and zone -- no zone
  means UTC --, or epoch seconds; a string of exactly four digits is a year); ``Bool``
  takes ``true``/``false`` in any case or Python bools; ``BinaryEquals`` compares bytes
  (policy values base64; request values bytes or base64 text); ``IpAddress`` takes CIDR
  blocks, a bare address meaning ``/32`` or ``/128``, host bits ignored; ``Arn*`` match
  each of the six ARN parts separately (``ArnEquals`` == ``ArnLike``); an ARN value without
  all six parts (``"*"``) is accepted but matches nothing, as AWS requires every part.
* A request value of the wrong type for the operator simply does not match (as in AWS);
  evaluation never raises.
* Policy variables (``${...}``, Version 2012-10-17) are allowed in String, Arn and Bool
  values, as AWS documents. A value whose variable cannot be resolved matches no request
  value (for a negated operator it therefore excludes nothing).
* Compile-time errors (unknown operator, ``Null`` with ``IfExists`` or a set qualifier,
  policy values of the wrong type for the operator, a variable where variables are not
  allowed) raise ValueError naming the operator and the key.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from objstore.iam.arn import ArnPattern
from objstore.iam.context import RequestContext, value_to_string
from objstore.iam.glob import Glob
from objstore.iam.values import (
    IPNetwork,
    network_test,
    parse_bool,
    parse_bytes,
    parse_date,
    parse_network,
    parse_number,
    policy_text,
)
from objstore.iam.variables import Template

__all__ = [
    "EMPTY",
    "OPERATORS",
    "Condition",
    "ConditionBlock",
    "ConditionResult",
    "operator_error",
    "parse_date",
    "parse_number",
]


# A test of one request value against all the policy values of a condition (their OR).
_Test = Callable[[object], bool]
# Policy values bound to a request: variables substituted, a _Test returned.
_Bind = Callable[[RequestContext], _Test]


class _Kind(enum.Enum):
    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP = "IpAddress"
    ARN = "Arn"
    NULL = "Null"


@dataclass(frozen=True, slots=True)
class _OpSpec:
    kind: _Kind
    compare: str  # eq, eqi, like, lt, le, gt, ge, in
    negated: bool


_BASE_OPERATORS: dict[str, _OpSpec] = {
    "StringEquals": _OpSpec(_Kind.STRING, "eq", False),
    "StringNotEquals": _OpSpec(_Kind.STRING, "eq", True),
    "StringEqualsIgnoreCase": _OpSpec(_Kind.STRING, "eqi", False),
    "StringNotEqualsIgnoreCase": _OpSpec(_Kind.STRING, "eqi", True),
    "StringLike": _OpSpec(_Kind.STRING, "like", False),
    "StringNotLike": _OpSpec(_Kind.STRING, "like", True),
    "NumericEquals": _OpSpec(_Kind.NUMERIC, "eq", False),
    "NumericNotEquals": _OpSpec(_Kind.NUMERIC, "eq", True),
    "NumericLessThan": _OpSpec(_Kind.NUMERIC, "lt", False),
    "NumericLessThanEquals": _OpSpec(_Kind.NUMERIC, "le", False),
    "NumericGreaterThan": _OpSpec(_Kind.NUMERIC, "gt", False),
    "NumericGreaterThanEquals": _OpSpec(_Kind.NUMERIC, "ge", False),
    "DateEquals": _OpSpec(_Kind.DATE, "eq", False),
    "DateNotEquals": _OpSpec(_Kind.DATE, "eq", True),
    "DateLessThan": _OpSpec(_Kind.DATE, "lt", False),
    "DateLessThanEquals": _OpSpec(_Kind.DATE, "le", False),
    "DateGreaterThan": _OpSpec(_Kind.DATE, "gt", False),
    "DateGreaterThanEquals": _OpSpec(_Kind.DATE, "ge", False),
    "Bool": _OpSpec(_Kind.BOOL, "eq", False),
    "BinaryEquals": _OpSpec(_Kind.BINARY, "eq", False),
    "IpAddress": _OpSpec(_Kind.IP, "in", False),
    "NotIpAddress": _OpSpec(_Kind.IP, "in", True),
    "ArnEquals": _OpSpec(_Kind.ARN, "like", False),
    "ArnLike": _OpSpec(_Kind.ARN, "like", False),
    "ArnNotEquals": _OpSpec(_Kind.ARN, "like", True),
    "ArnNotLike": _OpSpec(_Kind.ARN, "like", True),
    "Null": _OpSpec(_Kind.NULL, "eq", False),
}

#: Every base operator name (without ``IfExists`` or a set qualifier).
OPERATORS: frozenset[str] = frozenset(_BASE_OPERATORS)

_QUALIFIERS = {"ForAllValues:": "all", "ForAnyValue:": "any"}
_IF_EXISTS = "IfExists"
# Kinds whose values may hold policy variables (AWS: string, ARN and Boolean operators).
_VARIABLE_KINDS = frozenset({_Kind.STRING, _Kind.ARN, _Kind.BOOL})


def _constant(test: _Test) -> _Bind:
    return lambda _ctx: test


def _compile_strings(compare: str, templates: list[Template]) -> _Bind:
    if compare == "like":
        if all(not t.has_variables for t in templates):
            globs = [t.render_glob(_NO_CONTEXT) for t in templates]
            return _constant(_like_test([g for g in globs if g is not None]))

        def bind_like(ctx: RequestContext) -> _Test:
            rendered = [t.render_glob(ctx) for t in templates]
            return _like_test([g for g in rendered if g is not None])

        return bind_like
    fold = compare == "eqi"
    if all(not t.has_variables for t in templates):
        texts = {_fold(str(t.render(_NO_CONTEXT)), fold) for t in templates}
        return _constant(_equals_test(texts, fold))

    def bind_equals(ctx: RequestContext) -> _Test:
        texts = {_fold(s, fold) for t in templates if (s := t.render(ctx)) is not None}
        return _equals_test(texts, fold)

    return bind_equals


def _fold(text: str, fold: bool) -> str:
    return text.casefold() if fold else text


def _equals_test(texts: set[str], fold: bool) -> _Test:
    if fold:

        def test_folded(value: object) -> bool:
            text = value_to_string(value)
            return text is not None and text.casefold() in texts

        return test_folded

    def test_exact(value: object) -> bool:
        text = value if isinstance(value, str) else value_to_string(value)
        return text is not None and text in texts

    return test_exact


def _like_test(globs: list[Glob]) -> _Test:
    if len(globs) == 1:
        only = globs[0].match

        def test_one(value: object) -> bool:
            text = value if isinstance(value, str) else value_to_string(value)
            return text is not None and only(text)

        return test_one

    matchers = [g.match for g in globs]

    def test_many(value: object) -> bool:
        text = value if isinstance(value, str) else value_to_string(value)
        return text is not None and any(m(text) for m in matchers)

    return test_many


def _ordered_test(compare: str, bounds: Sequence[Any], convert: Callable[[object], Any]) -> _Test:
    """Numeric/Date comparisons: the request value against each policy value, OR-ed."""
    if compare == "eq":
        wanted = frozenset(bounds)

        def test_eq(value: object) -> bool:
            got = convert(value)
            return got is not None and got in wanted

        return test_eq
    # For an OR of "<" tests only the loosest bound matters; likewise for the others.
    limit = max(bounds) if compare in ("lt", "le") else min(bounds)
    ops: dict[str, Callable[[Any], bool]] = {
        "lt": lambda got: bool(got < limit),
        "le": lambda got: bool(got <= limit),
        "gt": lambda got: bool(got > limit),
        "ge": lambda got: bool(got >= limit),
    }
    check = ops[compare]

    def test_order(value: object) -> bool:
        got = convert(value)
        return got is not None and check(got)

    return test_order


def _compile_bools(templates: list[Template]) -> _Bind:
    def wanted(ctx: RequestContext) -> set[bool]:
        out: set[bool] = set()
        for t in templates:
            text = t.render(ctx)
            parsed = None if text is None else parse_bool(text)
            if parsed is not None:
                out.add(parsed)
        return out

    def make(values: set[bool]) -> _Test:
        def test_bool(value: object) -> bool:
            got = parse_bool(value)
            return got is not None and got in values

        return test_bool

    if all(not t.has_variables for t in templates):
        return _constant(make(wanted(_NO_CONTEXT)))
    return lambda ctx: make(wanted(ctx))


def _compile_arns(templates: list[Template]) -> _Bind:
    def make(patterns: list[ArnPattern]) -> _Test:
        usable = [p for p in patterns if p.can_match]

        def test_arn(value: object) -> bool:
            return isinstance(value, str) and any(p.match(value) for p in usable)

        return test_arn

    if all(not t.has_variables for t in templates):
        static = [t.render_parts(_NO_CONTEXT) for t in templates]
        return _constant(make([ArnPattern.from_parts(p) for p in static if p is not None]))

    def bind_arns(ctx: RequestContext) -> _Test:
        patterns = []
        for t in templates:
            parts = t.render_parts(ctx)
            if parts is not None:
                patterns.append(ArnPattern.from_parts(parts))
        return make(patterns)

    return bind_arns


# --- the compiled condition --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """Whether a condition block held, and which keys it used that the request lacked."""

    matched: bool
    missing_keys: frozenset[str]  # original spelling, as written in the policy


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator: {key: values}`` entry, compiled."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    key: str  # as written
    values: tuple[object, ...]  # as written
    negated: bool
    if_exists: bool
    qualifier: str | None  # "all", "any" or None
    variables: tuple[Template, ...] = field(repr=False)  # templates with variables
    _lower: str = field(repr=False)
    _null: frozenset[bool] | None = field(repr=False)  # Null: accepted "is absent" answers
    _bind: _Bind | None = field(repr=False, compare=False)
    _test: _Test | None = field(repr=False, compare=False)  # set when there are no variables

    def evaluate(self, ctx: RequestContext) -> bool:
        """Whether this condition holds for ``ctx``. Never raises."""
        values = ctx.get_lower(self._lower)
        if self._null is not None:
            return (not values) in self._null
        if not values:
            # ForAnyValue's "missing key is false" wins over IfExists, as AWS
            # behaves (ForAnyValue:StringEqualsIfExists denies a request without the key).
            if self.qualifier is not None:
                return self.qualifier == "all"
            return self.if_exists or self.negated
        if self.qualifier is not None and all(isinstance(v, str) and not v for v in values):
            # AWS: a set operator on values that "resolve to an empty data set (for
            # example, an empty string)" is true for ForAllValues and false for ForAnyValue.
            return self.qualifier == "all"
        test = self._test
        if test is None:
            assert self._bind is not None
            test = self._bind(ctx)
        if self.qualifier is None:
            # The common case: one request value.
            hit = test(values[0]) if len(values) == 1 else any(map(test, values))
            return hit is not self.negated
        if self.qualifier == "all":
            if self.negated:
                return not any(map(test, values))
            return all(map(test, values))
        if self.negated:
            return not all(map(test, values))
        return any(map(test, values))

    def missing(self, ctx: RequestContext) -> list[str]:
        """Keys this condition reads that ``ctx`` lacks: its key, then unresolved variables."""
        out = [] if ctx.get_lower(self._lower) is not None else [self.key]
        for template in self.variables:
            out.extend(template.missing_variables(ctx))
        return out


_NO_CONTEXT = RequestContext.from_mapping(None)


def _split_operator(operator: str) -> tuple[str, str | None, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> (``StringLike``, ``any``, True)."""
    qualifier = None
    rest = operator
    for prefix, name in _QUALIFIERS.items():
        if rest.startswith(prefix):
            qualifier = name
            rest = rest[len(prefix) :]
            break
    if_exists = rest.endswith(_IF_EXISTS) and rest != _IF_EXISTS
    if if_exists:
        rest = rest[: -len(_IF_EXISTS)]
    return rest, qualifier, if_exists


def operator_error(operator: str) -> str | None:
    """Why ``operator`` is not a usable condition operator name, or None when it is.

    Lets a validator tell a bad operator (point at its name) from a bad value (point at
    the value). Never raises for a str.
    """
    base, qualifier, if_exists = _split_operator(operator)
    spec = _BASE_OPERATORS.get(base)
    if spec is None:
        return f"Invalid Condition type: {operator!r}"
    if spec.kind is _Kind.NULL and if_exists:
        return f"Condition {operator!r}: the Null operator cannot be used with IfExists"
    if spec.kind is _Kind.NULL and qualifier is not None:
        return (
            f"Condition {operator!r}: the Null operator cannot be used with "
            "ForAllValues/ForAnyValue"
        )
    return None


def _compile_condition(operator: str, key: str, raw_values: object, version: str) -> Condition:
    def error(message: str) -> ValueError:
        return ValueError(f"Condition {operator!r} key {key!r}: {message}")

    base, qualifier, if_exists = _split_operator(operator)
    spec = _BASE_OPERATORS.get(base)
    if spec is None:
        raise ValueError(f"Invalid Condition type: {operator!r} (key {key!r})")
    if spec.kind is _Kind.NULL and if_exists:
        raise error("the Null operator cannot be used with IfExists")
    if spec.kind is _Kind.NULL and qualifier is not None:
        raise error("the Null operator cannot be used with ForAllValues/ForAnyValue")
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"Condition {operator!r}: condition key must be a non-empty string")
    values = tuple(raw_values) if isinstance(raw_values, list | tuple) else (raw_values,)
    if not values:
        raise error("at least one condition value is required")
    for value in values:
        if value is None or not isinstance(value, str | bool | int | float):
            raise error(f"condition values must be strings, numbers or booleans, not {value!r}")

    variables: list[Template] = []
    null: frozenset[bool] | None = None
    bind: _Bind | None = None
    kind = spec.kind

    if kind in _VARIABLE_KINDS:
        templates: list[Template] = []
        for value in values:
            text = policy_text(value)
            if text is None or (kind is _Kind.ARN and not isinstance(value, str)):
                raise error(f"{value!r} is not a valid value for this operator")
            try:
                template = Template.compile(text, version=version)
            except ValueError as exc:
                raise error(str(exc)) from None
            static = None if template.has_variables else template.render(_NO_CONTEXT)
            if kind is _Kind.BOOL and static is not None and parse_bool(static) is None:
                raise error(f"{value!r} is not a boolean (use true or false)")
            templates.append(template)
        variables = [t for t in templates if t.has_variables]
        if kind is _Kind.STRING:
            bind = _compile_strings(spec.compare, templates)
        elif kind is _Kind.ARN:
            bind = _compile_arns(templates)
        else:
            bind = _compile_bools(templates)
    else:
        for value in values:
            if isinstance(value, str) and "${" in value and version == "2012-10-17":
                raise error(f"policy variables cannot be used with {base}")
        if kind is _Kind.NUMERIC:
            numbers = [parse_number(v) for v in values]
            for value, number in zip(values, numbers, strict=True):
                if number is None:
                    raise error(f"{value!r} is not a number")
            bind = _constant(_ordered_test(spec.compare, numbers, parse_number))
        elif kind is _Kind.DATE:
            instants = [parse_date(v) for v in values]
            for value, instant in zip(values, instants, strict=True):
                if instant is None:
                    raise error(f"{value!r} is not a date (ISO 8601 or epoch seconds)")
            bind = _constant(_ordered_test(spec.compare, instants, parse_date))
        elif kind is _Kind.BINARY:
            blobs: set[bytes] = set()
            for value in values:
                blob = parse_bytes(value) if isinstance(value, str) else None
                if blob is None:
                    raise error(f"{value!r} is not base64")
                blobs.add(blob)
            bind = _constant(_binary_test(frozenset(blobs)))
        elif kind is _Kind.IP:
            networks: list[IPNetwork] = []
            for value in values:
                network = parse_network(value)
                if network is None:
                    raise error(f"{value!r} is not an IP address or CIDR block")
                networks.append(network)
            bind = _constant(network_test(tuple(networks)))
        else:  # Null
            answers: set[bool] = set()
            for value in values:
                parsed = parse_bool(value)
                if parsed is None:
                    raise error(f"{value!r} is not a boolean (use true or false)")
                answers.add(parsed)
            null = frozenset(answers)

    return Condition(
        operator=operator,
        base=base,
        key=key,
        values=values,
        negated=spec.negated,
        if_exists=if_exists,
        qualifier=qualifier,
        variables=tuple(variables),
        _lower=key.lower(),
        _null=null,
        _bind=bind,
        _test=None if variables or bind is None else bind(_NO_CONTEXT),
    )


def _binary_test(blobs: frozenset[bytes]) -> _Test:
    def test_binary(value: object) -> bool:
        got = parse_bytes(value)
        return got is not None and got in blobs

    return test_binary


_NO_MISSING: frozenset[str] = frozenset()
_TRUE = ConditionResult(True, _NO_MISSING)
_FALSE = ConditionResult(False, _NO_MISSING)


@dataclass(frozen=True, slots=True)
class ConditionBlock:
    """A whole ``Condition`` element, compiled; see the module docstring for semantics."""

    conditions: tuple[Condition, ...]
    keys: frozenset[str]  # condition keys used, as written
    variables: frozenset[str]  # variable names used in values, as written
    _keys_lower: tuple[tuple[str, str], ...] = field(repr=False, compare=False)
    _templates: tuple[Template, ...] = field(repr=False, compare=False)

    @staticmethod
    def compile(
        raw: Mapping[str, Mapping[str, Sequence[object]]], *, version: str
    ) -> ConditionBlock:
        """Compile ``{operator: {key: [values]}}`` for policy-language ``version``.

        A single value in place of a list is accepted. Raises ValueError naming the
        operator and key on: an unknown (or wrongly cased) operator, Null with IfExists
        or a set qualifier, an empty value list, values that are not strings, numbers or
        booleans, values of the wrong type for the operator (not a number, date, boolean,
        base64 text, IP address/CIDR), a policy variable with an operator that does not
        allow them, a malformed ``${...}``.
        """
        if not isinstance(raw, Mapping):
            raise ValueError("Condition must be an object mapping operators to keys")
        if not raw:
            return EMPTY
        conditions: list[Condition] = []
        for operator, entries in raw.items():
            if not isinstance(operator, str):
                raise ValueError(f"Invalid Condition type: {operator!r}")
            if not isinstance(entries, Mapping):
                raise ValueError(
                    f"Condition {operator!r} must map condition keys to values, "
                    f"not {type(entries).__name__}"
                )
            for key, values in entries.items():
                conditions.append(_compile_condition(operator, key, values, version))
        return ConditionBlock.of(conditions)

    @staticmethod
    def of(conditions: Sequence[Condition]) -> ConditionBlock:
        """The block of these compiled conditions (all must hold); EMPTY when none."""
        if not conditions:
            return EMPTY
        keys = frozenset(c.key for c in conditions)
        variables = frozenset(n for c in conditions for t in c.variables for n in t.variable_names)
        pairs: dict[str, str] = {}
        for c in conditions:
            pairs.setdefault(c.key.lower(), c.key)
        templates = tuple(t for c in conditions for t in c.variables)
        return ConditionBlock(tuple(conditions), keys, variables, tuple(pairs.items()), templates)

    def matches(self, ctx: RequestContext) -> bool:
        """Whether every condition holds (the fast path; no missing-key report)."""
        # An explicit loop: measurably cheaper than all() over a generator on this hot path.
        for condition in self.conditions:  # noqa: SIM110
            if not condition.evaluate(ctx):
                return False
        return True

    def evaluate(self, ctx: RequestContext) -> ConditionResult:
        """Whether every condition holds, and the keys used that ``ctx`` lacks. Never raises."""
        matched = self.matches(ctx)
        missing: list[str] | None = None
        get = ctx.get_lower
        for lower, key in self._keys_lower:
            if get(lower) is None:
                if missing is None:
                    missing = []
                missing.append(key)
        for template in self._templates:
            absent = template.missing_variables(ctx)
            if absent:
                if missing is None:
                    missing = []
                missing.extend(absent)
        if missing is None:
            return _TRUE if matched else _FALSE
        return ConditionResult(matched, frozenset(missing))

    def __bool__(self) -> bool:
        return bool(self.conditions)


#: The absent Condition element: always matches.
EMPTY = ConditionBlock((), frozenset(), frozenset(), (), ())
