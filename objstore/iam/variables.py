"""Policy variables: ``${aws:username}`` and friends, in resources and condition values.

Syntax (policy language Version ``2012-10-17`` only; under ``2008-10-17`` the text is
always literal, as AWS documents):

* ``${key}`` is replaced by the value of condition key ``key`` from the request
  context. Key names are case-insensitive. Surrounding blanks are ignored.
* ``${key, 'default'}`` uses ``default`` when the key has no usable value. AWS
  documents a comma and a space before the quoted default; any blanks are accepted.
  The default is literal text (it cannot contain ``'``).
* ``${*}``, ``${?}``, ``${$}`` are the literal characters ``*``, ``?``, ``$``, so that
  a pattern can match those characters themselves.
* A ``$`` not followed by ``{`` is an ordinary character.

A key that is absent, or has no value, or has several values (multivalued keys such
as ``aws:TagKeys`` cannot be variables) is *unresolved*: its default is used if it has
one; otherwise :meth:`Template.render` returns None and the caller treats the whole
value as matching nothing.

Substituted values are always literal: in :meth:`Template.render_glob` a user named
``a*`` does not become a wildcard. Only ``*`` and ``?`` written in the template text
itself are wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from objstore.iam.context import RequestContext, value_to_string
from objstore.iam.glob import Glob, Wild, pattern_parts

__all__ = ["VARIABLES_VERSION", "Template"]

VARIABLES_VERSION = "2012-10-17"

_ESCAPES = {"*": "*", "?": "?", "$": "$"}
# Characters that cannot appear in a variable name: they would make ${...} ambiguous.
_NAME_FORBIDDEN = frozenset("${}'")


@dataclass(frozen=True, slots=True)
class _Var:
    """One ``${name}`` or ``${name, 'default'}`` reference."""

    name: str  # as written, trimmed
    lower: str
    default: str | None


@dataclass(frozen=True, slots=True)
class _Escaped:
    """A ``${*}`` / ``${?}`` / ``${$}``: a character that is always literal."""

    char: str


_Piece = str | _Var | _Escaped


def _parse_reference(text: str, start: int, body: str) -> _Var | _Escaped:
    """Interpret the text between ``${`` and ``}``; raise ValueError if malformed."""
    if body in _ESCAPES:
        return _Escaped(_ESCAPES[body])
    name, comma, rest = body.partition(",")
    name = name.strip()
    default: str | None = None
    if comma:
        rest = rest.strip()
        if len(rest) < 2 or rest[0] != "'" or rest[-1] != "'" or "'" in rest[1:-1]:
            raise ValueError(
                f"malformed policy variable at offset {start} in {text!r}: "
                "the default must be one single-quoted string, as in ${key, 'default'}"
            )
        default = rest[1:-1]
    if not name:
        raise ValueError(f"empty policy variable name at offset {start} in {text!r}")
    bad = sorted(set(name) & _NAME_FORBIDDEN)
    if bad or any(ch.isspace() and ch != " " for ch in name):
        raise ValueError(f"malformed policy variable name {name!r} at offset {start} in {text!r}")
    return _Var(name, name.lower(), default)


def _tokenize(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    pos = 0
    literal_start = 0
    size = len(text)
    while True:
        start = text.find("${", pos)
        if start < 0:
            break
        # A default may legitimately contain '}', so find the closing brace after it.
        close = _find_close(text, start + 2)
        if close < 0:
            raise ValueError(f"unterminated policy variable at offset {start} in {text!r}")
        if start > literal_start:
            pieces.append(text[literal_start:start])
        pieces.append(_parse_reference(text, start, text[start + 2 : close]))
        pos = literal_start = close + 1
    if literal_start < size:
        pieces.append(text[literal_start:])
    return pieces


def _find_close(text: str, pos: int) -> int:
    """Index of the '}' ending a reference whose body starts at pos; quotes are skipped."""
    quoted = False
    for i in range(pos, len(text)):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif ch == "}" and not quoted:
            return i
        elif ch == "{" and not quoted:
            return -1
    return -1


def _resolve(var: _Var, ctx: RequestContext) -> str | None:
    values = ctx.get_lower(var.lower)
    if values is not None and len(values) == 1:
        text = value_to_string(values[0])
        if text is not None:
            return text
    return var.default


@dataclass(frozen=True, slots=True)
class Template:
    """A resource string or condition value, compiled once, rendered per request."""

    text: str
    version: str
    has_variables: bool
    variables: frozenset[str]  # lower-cased key names referenced
    variable_names: tuple[str, ...]  # the same, as written, in order of appearance
    _pieces: tuple[_Piece, ...] = field(repr=False, compare=False)
    _static: str | None = field(repr=False, compare=False)  # rendered text if no variables
    _static_glob: Glob | None = field(repr=False, compare=False)

    @staticmethod
    def compile(text: str, *, version: str) -> Template:
        """Compile ``text`` for policy-language ``version``.

        Under any version but ``2012-10-17`` the text is literal. Raises ValueError on a
        malformed reference: ``${`` without ``}``, an empty name, a name containing
        ``$ { } '``, or a default that is not one single-quoted string.
        """
        if not isinstance(text, str):
            raise ValueError(f"policy text must be a string, not {type(text).__name__}")
        if version != VARIABLES_VERSION or "${" not in text:
            pieces: list[_Piece] = [text] if text else []
        else:
            pieces = _tokenize(text)
        variables = [p for p in pieces if isinstance(p, _Var)]
        names: list[str] = []
        for var in variables:
            if var.name not in names:
                names.append(var.name)
        static: str | None = None
        static_glob: Glob | None = None
        if not variables:
            static = "".join(p.char if isinstance(p, _Escaped) else str(p) for p in pieces)
            static_parts = _glob_parts(pieces, None)
            assert static_parts is not None  # no variables, so nothing can be unresolved
            static_glob = Glob.from_parts(static_parts)
        return Template(
            text,
            version,
            bool(variables),
            frozenset(v.lower for v in variables),
            tuple(names),
            tuple(pieces),
            static,
            static_glob,
        )

    def render(self, ctx: RequestContext) -> str | None:
        """The text with every variable substituted; None if one is unresolved.

        Never raises.
        """
        if self._static is not None:
            return self._static
        out: list[str] = []
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, _Escaped):
                out.append(piece.char)
            else:
                value = _resolve(piece, ctx)
                if value is None:
                    return None
                out.append(value)
        return "".join(out)

    def render_parts(self, ctx: RequestContext) -> list[str | Wild] | None:
        """Glob parts: template ``*``/``?`` as :class:`Wild`, everything else literal text.

        None if a variable is unresolved. Never raises.
        """
        return _glob_parts(self._pieces, ctx)

    def render_glob(self, ctx: RequestContext, *, ignore_case: bool = False) -> Glob | None:
        """A compiled pattern: template ``*``/``?`` are wildcards, substituted values and
        ``${*}``/``${?}`` are literal. None if a variable is unresolved. Never raises.
        """
        if self._static_glob is not None and not ignore_case:
            return self._static_glob
        parts = _glob_parts(self._pieces, ctx)
        if parts is None:
            return None
        return Glob.from_parts(parts, ignore_case=ignore_case)

    def colons_before_first_variable(self) -> int:
        """How many ``:`` of the template's own text come before its first variable
        (all of them when it has none): an ARN's resource part starts after the fifth."""
        count = 0
        for piece in self._pieces:
            if isinstance(piece, _Var):
                return count
            if isinstance(piece, str):
                count += piece.count(":")
        return count

    def missing_variables(self, ctx: RequestContext) -> list[str]:
        """Names (as written) of referenced keys absent from ``ctx`` and without default."""
        return [
            p.name
            for p in self._pieces
            if isinstance(p, _Var) and p.default is None and ctx.get_lower(p.lower) is None
        ]

    def __str__(self) -> str:
        return self.text


def _glob_parts(
    pieces: tuple[_Piece, ...] | list[_Piece], ctx: RequestContext | None
) -> list[str | Wild] | None:
    parts: list[str | Wild] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.extend(pattern_parts(piece))
        elif isinstance(piece, _Escaped):
            parts.append(piece.char)
        else:
            if ctx is None:
                return None
            value = _resolve(piece, ctx)
            if value is None:
                return None
            parts.append(value)
    return parts
