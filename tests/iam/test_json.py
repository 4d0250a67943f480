"""The strict, position-keeping JSON parser behind policy validation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.iam._json import (
    MAX_DEPTH,
    JArray,
    JBool,
    JNull,
    JNumber,
    JObject,
    JsonError,
    JString,
    parse,
    type_name,
)


def _plain(node: object) -> object:
    """The parsed tree as plain Python values, to compare with json.loads."""
    if isinstance(node, JObject):
        return {m.key: _plain(m.value) for m in node}
    if isinstance(node, JArray):
        return [_plain(item) for item in node.items]
    assert isinstance(node, JString | JNumber | JBool | JNull)
    return node.value


def test_values_of_every_type() -> None:
    """Every JSON type parses to its node with the right value."""
    doc = parse('{"s": "x", "i": -12, "f": 1.5e2, "t": true, "n": null, "a": [], "o": {}}')
    assert _plain(doc.root) == {
        "s": "x",
        "i": -12,
        "f": 150.0,
        "t": True,
        "n": None,
        "a": [],
        "o": {},
    }
    assert isinstance(doc.root, JObject)
    assert [type_name(m.value) for m in doc.root] == [
        "string",
        "number",
        "number",
        "boolean",
        "null",
        "array",
        "object",
    ]


def test_integers_stay_integers() -> None:
    """Integers are int, fractions and exponents float."""
    root = parse("[7, 7.0, 7e0]").root
    assert isinstance(root, JArray)
    kinds = [type(item.value) for item in root.items if isinstance(item, JNumber)]
    assert kinds == [int, float, float]


def test_escapes_decode() -> None:
    """All escapes decode, surrogate pairs combine into one character."""
    root = parse(r'"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"').root
    assert isinstance(root, JString)
    assert root.value == 'a"b\\c/d\b\f\n\r\té\U0001f600'


def test_positions_are_one_based_and_end_inclusive() -> None:
    """Offsets convert to 1-based line/column; a value's end is its last character."""
    text = '{\n  "a": {\n    "b": 1\n  }\n}'
    doc = parse(text)
    assert isinstance(doc.root, JObject)
    member = doc.root.members[0]
    assert doc.position(member.key_start) == (2, 3)
    inner = member.value
    assert doc.position(inner.start) == (2, 8)
    assert doc.position(inner.end) == (4, 3)
    assert text[inner.end] == "}"
    assert doc.position(doc.root.end) == (5, 1)


def test_object_lookup_and_order() -> None:
    """Members keep document order and can be looked up by exact key."""
    root = parse('{"b": 1, "a": 2, "B": 3}').root
    assert isinstance(root, JObject)
    assert [m.key for m in root] == ["b", "a", "B"]
    found = root.get("B")
    assert found is not None and _plain(found.value) == 3
    assert root.get("c") is None


def test_bytes_input() -> None:
    """UTF-8 bytes are accepted; other bytes are an error at line 1."""
    assert _plain(parse('{"k": "é"}'.encode()).root) == {"k": "é"}
    with pytest.raises(JsonError, match="UTF-8"):
        parse(b'{"k": "\xff"}')


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'", 1, 10),
        ('{"a": {"x": 1,\n "x": 2}}', "duplicate key 'x'", 2, 2),
        ("[1,]", "expected a value", 1, 4),
        ("{", "expected a string key", 1, 2),
        ('{"a" 1}', "expected ':'", 1, 6),
        ('{"a": 1 "b": 2}', "expected ',' or '}'", 1, 9),
        ("[1 2]", "expected ',' or ']'", 1, 4),
        ("", "end of input", 1, 1),
        ("   ", "end of input", 1, 4),
        ("NaN", "expected a value", 1, 1),
        ("Infinity", "expected a value", 1, 1),
        ("01", "after the JSON value", 1, 2),
        ("1e999", "out of range", 1, 1),
        ("1" * 101, "more than 100 digits", 1, 1),
        ('"abc', "unterminated string", 1, 1),
        ('"a\x01"', "control character", 1, 3),
        (r'"\x"', "invalid escape", 1, 2),
        (r'"\u12"', "four hex digits", 1, 2),
        (r'"\ud800"', "unpaired", 1, 2),
        (r'"\udc00"', "unpaired", 1, 2),
        (r'"\ud800\u0041"', "unpaired", 1, 2),
        ("{} {}", "after the JSON value", 1, 4),
        ("tru", "expected a value", 1, 1),
        ("{'a': 1}", "expected a string key", 1, 2),
        ("\ufeff{}", "expected a value", 1, 1),
    ],
)
def test_errors_have_positions(text: str, message: str, line: int, column: int) -> None:
    """Each kind of malformed input is rejected with a message and its place."""
    with pytest.raises(JsonError) as info:
        parse(text)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == (line, column)
    assert isinstance(info.value, ValueError)


def test_depth_limit() -> None:
    """Nesting is bounded, so hostile input cannot exhaust the stack."""
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    parse(ok)
    with pytest.raises(JsonError, match="nesting"):
        parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(JsonError, match="nesting"):
        parse('{"a":' * 5000)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(_json_values)
def test_agrees_with_stdlib(value: object) -> None:
    """On JSON the standard library writes, the parse gives back the same value."""
    text = json.dumps(value, indent=1, ensure_ascii=False)
    assert _plain(parse(text).root) == value
    assert _plain(parse(json.dumps(value)).root) == value


def _stdlib(text: str) -> tuple[bool, object]:
    """(accepted, value) by the standard library held to our stricter rules."""

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate")
        return dict(pairs)

    def no_constants(name: str) -> object:
        raise ValueError(name)

    try:
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False, None
    return True, value


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='{}[]":,tfnrue0123456789.-\\ \n"abcE+', max_size=40))
def test_accepts_exactly_what_strict_json_accepts(text: str) -> None:
    """Arbitrary text parses to the stdlib's value, or raises JsonError exactly when the
    stdlib (with duplicates and non-finite numbers forbidden) rejects it too."""
    accepted, value = _stdlib(text)
    if accepted:
        assert _plain(parse(text).root) == value
    else:
        with pytest.raises(JsonError):
            parse(text)
