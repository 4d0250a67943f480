"""A strict JSON parser that remembers where every value came from.

The standard library's :mod:`json` accepts duplicate keys (the last one wins), accepts
``NaN`` and ``Infinity``, and forgets positions. A policy validator needs the opposite:
a duplicate ``"Effect"`` must be an error, not a silent override, and every error should
point at a line and column. Policies are small (a few KB), so a pure-Python recursive
descent parser is fast enough and keeps the rules in one readable place.

Positions are 1-based lines and columns, counted in characters; a value's ``end`` is the
position of its *last* character (the closing ``}`` of an object), as the AWS policy
simulator reports statement positions.

Grammar: RFC 8259, with these restrictions:

* duplicate keys in one object are an error;
* nesting deeper than :data:`MAX_DEPTH` is an error (no recursion blow-up on hostile input);
* numbers must be finite, and integers at most :data:`MAX_INT_DIGITS` digits long;
* lone UTF-16 surrogates in ``\\u`` escapes are an error (they cannot be encoded).

Everything that is wrong raises :class:`JsonError` (a ``ValueError``) with a message, a
line and a column. Nothing else escapes :func:`parse` for ``str`` or ``bytes`` input.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "decode",
    "Document",
    "JArray",
    "JBool",
    "JNull",
    "JNumber",
    "JObject",
    "JString",
    "JsonError",
    "Member",
    "Node",
    "parse",
    "type_name",
]

MAX_DEPTH = 64
MAX_INT_DIGITS = 100

_WS = " \t\n\r"
# A run of string characters needing no special handling (no quote, backslash or control).
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonError(ValueError):
    """The text is not valid (strict) JSON; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(f"{message} (line {line}, column {column})")


@dataclass(frozen=True, slots=True)
class _Base:
    start: int  # offset of the first character
    end: int  # offset of the last character (inclusive)


@dataclass(frozen=True, slots=True)
class JString(_Base):
    value: str


@dataclass(frozen=True, slots=True)
class JNumber(_Base):
    value: int | float


@dataclass(frozen=True, slots=True)
class JBool(_Base):
    value: bool


@dataclass(frozen=True, slots=True)
class JNull(_Base):
    value: None = None


@dataclass(frozen=True, slots=True)
class JArray(_Base):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Member:
    """One ``"key": value`` pair; ``key_start`` is the offset of the key's opening quote."""

    key: str
    key_start: int
    value: Node


@dataclass(frozen=True, slots=True)
class JObject(_Base):
    members: tuple[Member, ...]
    _index: dict[str, Member] = field(default_factory=dict, repr=False, compare=False)

    def get(self, key: str) -> Member | None:
        """The member named exactly ``key``, or None."""
        return self._index.get(key)

    def __iter__(self) -> Iterator[Member]:
        return iter(self.members)


Node = JString | JNumber | JBool | JNull | JArray | JObject


def type_name(node: Node) -> str:
    """The JSON type of ``node`` as a user would say it ("string", "object" ...)."""
    return {
        JString: "string",
        JNumber: "number",
        JBool: "boolean",
        JNull: "null",
        JArray: "array",
        JObject: "object",
    }[type(node)]


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed text: the root value plus what is needed to turn offsets into positions."""

    text: str
    root: Node
    _line_starts: tuple[int, ...] = field(repr=False, compare=False)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based ``(line, column)`` of a character offset."""
        return _position(self._line_starts, offset)


def _line_starts(text: str) -> tuple[int, ...]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return tuple(starts)


def _position(starts: tuple[int, ...], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


class _Parser:
    __slots__ = ("pos", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.starts = _line_starts(text)

    def fail(self, message: str, offset: int | None = None) -> JsonError:
        line, column = _position(self.starts, self.pos if offset is None else offset)
        return JsonError(message, line, column)

    def skip_ws(self) -> None:
        text, pos, size = self.text, self.pos, len(self.text)
        while pos < size and text[pos] in _WS:
            pos += 1
        self.pos = pos

    def describe_here(self) -> str:
        if self.pos >= len(self.text):
            return "end of input"
        return f"character {self.text[self.pos]!r}"

    def value(self, depth: int) -> Node:
        self.skip_ws()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise self.fail("expected a value but found end of input")
        ch = text[pos]
        if ch == "{":
            return self.obj(depth + 1)
        if ch == "[":
            return self.array(depth + 1)
        if ch == '"':
            start = pos
            value = self.string()
            return JString(start, self.pos - 1, value)
        if ch == "-" or "0" <= ch <= "9":
            return self.number()
        for word, node_value in (("true", True), ("false", False)):
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return JBool(pos, self.pos - 1, node_value)
        if text.startswith("null", pos):
            self.pos = pos + 4
            return JNull(pos, self.pos - 1)
        raise self.fail(f"expected a value but found {self.describe_here()}")

    def number(self) -> JNumber:
        start = self.pos
        found = _NUMBER.match(self.text, start)
        if found is None:
            raise self.fail("malformed number")
        literal = found.group(0)
        self.pos = found.end()
        if found.group(1) is None and found.group(2) is None:
            digits = len(literal.lstrip("-"))
            if digits > MAX_INT_DIGITS:
                raise self.fail(f"number has more than {MAX_INT_DIGITS} digits", start)
            return JNumber(start, self.pos - 1, int(literal))
        number = float(literal)
        if not math.isfinite(number):
            raise self.fail("number is out of range", start)
        return JNumber(start, self.pos - 1, number)

    def string(self) -> str:
        """Parse a string starting at the opening quote; leaves pos after the closing one."""
        text = self.text
        start = self.pos
        pos = start + 1
        chunks: list[str] = []
        size = len(text)
        while True:
            plain = _PLAIN.match(text, pos)
            assert plain is not None  # the pattern accepts the empty string
            if plain.end() > pos:
                chunks.append(plain.group(0))
                pos = plain.end()
            if pos >= size:
                raise self.fail("unterminated string", start)
            ch = text[pos]
            if ch == '"':
                self.pos = pos + 1
                return "".join(chunks)
            if ch != "\\":
                raise self.fail(f"control character {ch!r} in string (escape it)", pos)
            pos = self.escape(pos, chunks)

    def escape(self, pos: int, chunks: list[str]) -> int:
        """Decode the escape at ``pos`` (a backslash) into ``chunks``; return the next offset."""
        text = self.text
        kind = text[pos + 1 : pos + 2]
        if kind in _ESCAPES:
            chunks.append(_ESCAPES[kind])
            return pos + 2
        if kind != "u":
            raise self.fail("invalid escape sequence in string", pos)
        code = self.hex4(pos)
        pos += 6
        if 0xDC00 <= code <= 0xDFFF:
            raise self.fail("unpaired UTF-16 surrogate in \\u escape", pos - 6)
        if 0xD800 <= code <= 0xDBFF:
            if text[pos : pos + 2] != "\\u":
                raise self.fail("unpaired UTF-16 surrogate in \\u escape", pos - 6)
            low = self.hex4(pos)
            if not 0xDC00 <= low <= 0xDFFF:
                raise self.fail("unpaired UTF-16 surrogate in \\u escape", pos - 6)
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            pos += 6
        chunks.append(chr(code))
        return pos

    def hex4(self, pos: int) -> int:
        digits = _HEX4.match(self.text, pos + 2)
        if digits is None:
            raise self.fail("\\u must be followed by four hex digits", pos)
        return int(digits.group(0), 16)

    def obj(self, depth: int) -> JObject:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels")
        text = self.text
        start = self.pos
        self.pos += 1
        members: list[Member] = []
        index: dict[str, Member] = {}
        self.skip_ws()
        if self.pos < len(text) and text[self.pos] == "}":
            self.pos += 1
            return JObject(start, self.pos - 1, (), index)
        while True:
            self.skip_ws()
            if self.pos >= len(text) or text[self.pos] != '"':
                raise self.fail(f"expected a string key but found {self.describe_here()}")
            key_start = self.pos
            key = self.string()
            if key in index:
                raise self.fail(f"duplicate key {key!r}", key_start)
            self.skip_ws()
            if self.pos >= len(text) or text[self.pos] != ":":
                raise self.fail(f"expected ':' after key but found {self.describe_here()}")
            self.pos += 1
            member = Member(key, key_start, self.value(depth))
            members.append(member)
            index[key] = member
            self.skip_ws()
            if self.pos < len(text) and text[self.pos] == ",":
                self.pos += 1
                continue
            if self.pos < len(text) and text[self.pos] == "}":
                self.pos += 1
                return JObject(start, self.pos - 1, tuple(members), index)
            raise self.fail(f"expected ',' or '}}' but found {self.describe_here()}")

    def array(self, depth: int) -> JArray:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels")
        text = self.text
        start = self.pos
        self.pos += 1
        items: list[Node] = []
        self.skip_ws()
        if self.pos < len(text) and text[self.pos] == "]":
            self.pos += 1
            return JArray(start, self.pos - 1, ())
        while True:
            items.append(self.value(depth))
            self.skip_ws()
            if self.pos < len(text) and text[self.pos] == ",":
                self.pos += 1
                continue
            if self.pos < len(text) and text[self.pos] == "]":
                self.pos += 1
                return JArray(start, self.pos - 1, tuple(items))
            raise self.fail(f"expected ',' or ']' but found {self.describe_here()}")


def decode(data: str | bytes | bytearray | memoryview) -> str:
    """Text from ``str`` or UTF-8 bytes. Raises JsonError on bytes that are not UTF-8."""
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonError(f"input is not valid UTF-8 (byte offset {exc.start})", 1, 1) from None


def parse(data: str | bytes | bytearray | memoryview) -> Document:
    """Parse one JSON value (and nothing after it) from text or UTF-8 bytes.

    Raises JsonError, with line and column, on anything that is not strict JSON.
    """
    text = decode(data)
    parser = _Parser(text)
    root = parser.value(0)
    parser.skip_ws()
    if parser.pos != len(text):
        raise parser.fail(f"unexpected {parser.describe_here()} after the JSON value")
    return Document(text, root, parser.starts)
