"""How the command line prints names it did not choose (keys, buckets, metadata, paths).

A key may hold any character, so a key printed raw could move the cursor, recolour or
clear the terminal (ESC sequences), or forge whole ``ls`` lines (newlines). Every such
string is printed through :func:`shown`, which makes it one line of inert text:

- ``\\`` becomes ``\\\\``, so every backslash in the output starts an escape;
- newline, carriage return and tab become ``\\n``, ``\\r``, ``\\t``;
- every other control character (C0, DEL, C1), the Unicode line and paragraph
  separators and the bidirectional-override characters (which reorder what a terminal
  shows) become ``\\xHH`` (below U+0100) or ``\\uHHHH``;
- everything else, including non-ASCII letters, is printed as it is.

The escapes are those of Python string literals, so the original is recoverable and two
different names never print alike. Lone surrogates (which cannot be printed) are escaped
as ``\\uHHHH`` too.
"""

from __future__ import annotations

import re

__all__ = ["shown"]

_SIMPLE = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# C0 controls, DEL, C1 controls, backslash; U+2028/2029 (line/paragraph separators);
# the bidi embedding/override/isolate marks and U+061C, U+200E, U+200F; lone surrogates.
_UNSAFE = re.compile(
    "[\\\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    simple = _SIMPLE.get(char)
    if simple is not None:
        return simple
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` with control and layout characters escaped (see the module docstring)."""
    return _UNSAFE.sub(_escape, text)
