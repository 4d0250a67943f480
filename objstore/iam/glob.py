"""IAM wildcard patterns: ``*`` matches any run of characters, ``?`` exactly one.

Used for actions (case-insensitive), resources and ``StringLike`` values (case-sensitive).
A pattern is compiled once, at policy parse time, into the cheapest matcher that fits it:

* no wildcard: plain string equality;
* ``*`` alone: always true;
* ``prefix*`` / ``*suffix`` / ``prefix*suffix``: ``str.startswith`` / ``str.endswith``;
* anything else: the pattern is split at each ``*`` into segments; the first segment is
  anchored at the start, the last at the end, and the middle ones are found left to right
  (leftmost-first is always correct for star-separated segments, so there is no
  backtracking and no pathological input). Segments without ``?`` use ``str.find``;
  segments with ``?`` use a regex built only from ``re.escape``-d literal text and ``.``,
  with no quantifiers, so it cannot backtrack catastrophically.

No regex is ever built from unescaped policy text: ``.``, ``(``, ``[`` ... are literal.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Glob", "Wild", "pattern_parts"]


class Wild(enum.Enum):
    """A wildcard marker inside :meth:`Glob.from_parts`."""

    STAR = "*"
    QUESTION = "?"


# One element of a segment between stars: literal text or the one-character wildcard.
_SegItem = str | Wild
_Matcher = Callable[[str], bool]


def _always(_text: str) -> bool:
    return True


def pattern_parts(pattern: str) -> list[str | Wild]:
    """Split pattern text into literal runs and :class:`Wild` markers (every * and ? is wild)."""
    parts: list[str | Wild] = []
    start = 0
    for i, ch in enumerate(pattern):
        if ch == "*" or ch == "?":
            if i > start:
                parts.append(pattern[start:i])
            parts.append(Wild.STAR if ch == "*" else Wild.QUESTION)
            start = i + 1
    if start < len(pattern):
        parts.append(pattern[start:])
    return parts


def _normalise(parts: Sequence[str | Wild], ignore_case: bool) -> tuple[str | Wild, ...]:
    """Merge adjacent literals, collapse runs of stars, lower-case when ignoring case."""
    out: list[str | Wild] = []
    for part in parts:
        if isinstance(part, Wild):
            # '**' matches exactly what '*' matches; collapsing keeps matching linear.
            if part is Wild.STAR and out and out[-1] is Wild.STAR:
                continue
            out.append(part)
        elif isinstance(part, str):
            if not part:
                continue
            text = part.lower() if ignore_case else part
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + text
            else:
                out.append(text)
        else:
            raise TypeError(f"glob part must be str or Wild, not {type(part).__name__}")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Segment:
    """A star-free piece of a pattern: its length and how to find it."""

    length: int
    literal: str | None  # set when the segment has no '?': use str methods
    regex: re.Pattern[str] | None  # set when it has '?': escaped literals and '.' only

    @staticmethod
    def build(items: Sequence[_SegItem]) -> _Segment:
        length = sum(1 if isinstance(it, Wild) else len(it) for it in items)
        if all(isinstance(it, str) for it in items):
            return _Segment(length, "".join(str(it) for it in items), None)
        source = "".join("." if isinstance(it, Wild) else re.escape(it) for it in items)
        return _Segment(length, None, re.compile(source, re.DOTALL))

    def match_at(self, text: str, pos: int) -> bool:
        """Does the segment match ``text`` starting exactly at ``pos``?"""
        if self.literal is not None:
            return text.startswith(self.literal, pos)
        assert self.regex is not None
        return self.regex.match(text, pos) is not None

    def find(self, text: str, pos: int, end: int) -> int:
        """Leftmost start >= pos where the segment fits entirely before ``end``; -1 if none."""
        if self.literal is not None:
            return text.find(self.literal, pos, end)
        assert self.regex is not None
        found = self.regex.search(text, pos, end)
        return -1 if found is None else found.start()


def _split_segments(parts: tuple[str | Wild, ...]) -> list[list[_SegItem]]:
    segments: list[list[_SegItem]] = [[]]
    for part in parts:
        if part is Wild.STAR:
            segments.append([])
        else:
            segments[-1].append(part)
    return segments


def _build_matcher(parts: tuple[str | Wild, ...]) -> _Matcher:
    """Pick the cheapest matcher for normalised parts."""
    if not parts:
        return "".__eq__
    if all(isinstance(p, str) for p in parts):
        return str(parts[0]).__eq__
    if parts == (Wild.STAR,):
        return _always
    raw = _split_segments(parts)
    segs = [_Segment.build(items) for items in raw]
    if len(segs) == 1:
        # '?' but no '*': the whole text must have the segment's exact length.
        only = segs[0]
        assert only.regex is not None
        whole = only.regex.fullmatch
        size = only.length
        return lambda text: len(text) == size and whole(text) is not None
    head, tail, middle = segs[0], segs[-1], segs[1:-1]
    minimum = sum(s.length for s in segs)
    if not middle and head.literal is not None and tail.literal is not None:
        prefix, suffix = head.literal, tail.literal
        if not suffix:
            return lambda text: text.startswith(prefix)
        if not prefix:
            return lambda text: text.endswith(suffix)
        return lambda text: (
            len(text) >= minimum and text.startswith(prefix) and text.endswith(suffix)
        )

    def general(text: str) -> bool:
        size = len(text)
        if size < minimum:
            return False
        tail_start = size - tail.length
        if head.length and not head.match_at(text, 0):
            return False
        if tail.length and not tail.match_at(text, tail_start):
            return False
        pos = head.length
        for seg in middle:
            found = seg.find(text, pos, tail_start)
            if found < 0:
                return False
            pos = found + seg.length
        return True

    return general


@dataclass(frozen=True, slots=True)
class Glob:
    """A compiled IAM wildcard pattern (immutable; compile once, match many times).

    ``parts`` is the normalised pattern: literal strings (lower-cased when ``ignore_case``)
    and :class:`Wild` markers. ``is_literal`` is true when there is no wildcard at all, in
    which case matching is plain equality and ``literal`` holds the text.
    """

    parts: tuple[str | Wild, ...]
    ignore_case: bool
    is_literal: bool
    _fn: _Matcher = field(repr=False, compare=False)

    @staticmethod
    def compile(pattern: str, *, ignore_case: bool = False) -> Glob:
        """Compile pattern text where every ``*`` and ``?`` is a wildcard.

        Raises TypeError if ``pattern`` is not a str (a programming error, not bad input).
        """
        if not isinstance(pattern, str):
            raise TypeError(f"glob pattern must be str, not {type(pattern).__name__}")
        return Glob.from_parts(pattern_parts(pattern), ignore_case=ignore_case)

    @staticmethod
    def from_parts(parts: Sequence[str | Wild], *, ignore_case: bool = False) -> Glob:
        """Compile from literal pieces and :class:`Wild` markers.

        Characters ``*`` and ``?`` inside the literal pieces are literal: this is how a
        substituted policy variable (or ``${*}``) stays a plain character.
        Raises TypeError on a part that is neither str nor Wild.
        """
        norm = _normalise(parts, ignore_case)
        literal = all(isinstance(p, str) for p in norm)
        return Glob(norm, ignore_case, literal, _build_matcher(norm))

    @staticmethod
    def literal_text(text: str, *, ignore_case: bool = False) -> Glob:
        """A pattern matching exactly ``text`` (its ``*`` and ``?`` are literal)."""
        return Glob.from_parts([text], ignore_case=ignore_case)

    @property
    def literal(self) -> str | None:
        """The exact text matched when :attr:`is_literal`, else None."""
        if not self.is_literal:
            return None
        return str(self.parts[0]) if self.parts else ""

    @property
    def matches_everything(self) -> bool:
        """True for ``*`` (and ``**``...): every text matches."""
        return self.parts == (Wild.STAR,)

    @property
    def pattern(self) -> str:
        """The pattern as text; literal ``*``/``?`` are not distinguishable here (display only)."""
        return "".join(p.value if isinstance(p, Wild) else p for p in self.parts)

    def match(self, text: str) -> bool:
        """Whether the whole of ``text`` matches. Never raises for a str argument."""
        if self.ignore_case:
            return self._fn(text.lower())
        return self._fn(text)

    def __str__(self) -> str:
        return self.pattern
