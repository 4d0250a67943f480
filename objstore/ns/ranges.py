"""Byte ranges of a GET (pure)."""

from __future__ import annotations

import re

from objstore.errors import InvalidArgument, InvalidRange

# ASCII digits only: ``\d`` and ``int()`` also take Arabic-Indic, fullwidth and
# other Unicode digits, which no HTTP range may contain (RFC 9110 DIGIT is 0-9).
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)
# Beyond any object size (5 TB < 2**43): longer numbers need not be converted
# (``int()`` refuses more than 4,300 digits) to know a start is unsatisfiable
# and an end or a suffix covers everything.
_HUGE = 1 << 64
_MAX_DIGITS = 19


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return _HUGE if len(digits) > _MAX_DIGITS else int(digits)


RangeSpec = tuple[int, int] | str | None


def well_formed(spec: str) -> bool:
    """Whether an HTTP ``Range`` value is one byte range S3 serves (``bytes=a-b`` with
    ``a <= b``, ``bytes=a-``, ``bytes=-n``). S3 ignores any other value (a malformed or
    multi-range header, ``a > b``) and sends the whole object, as HTTP allows."""
    m = _RANGE.fullmatch(spec.strip(" \t"))
    if not m or (not m.group(1) and not m.group(2)):
        return False
    a, b = m.group(1), m.group(2)
    return not a or not b or _number(a) <= _number(b)


def resolve_range(spec: RangeSpec, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for ``spec`` over an object of ``size`` bytes.

    ``spec`` is None (whole object), ``(first, last)`` inclusive, or an HTTP
    form ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n``. A last byte past the end
    is clamped, as HTTP does. Raises InvalidRange when nothing is satisfiable
    (a start beyond the end, any range on an empty object) and InvalidArgument
    for a malformed spec.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        m = _RANGE.fullmatch(spec.strip(" \t"))
        if not m or (not m.group(1) and not m.group(2)):
            raise InvalidArgument(f"malformed range {spec!r} (one range of the form bytes=a-b)")
        a, b = m.group(1), m.group(2)
        if not a:
            n = _number(b)
            if n == 0 or size == 0:
                raise InvalidRange(f"range {spec!r} is not satisfiable", size=size)
            return max(0, size - n), size - 1
        first = _number(a)
        # "bytes=a-" runs to the end; past the end it is unsatisfiable, not malformed.
        last = _number(b) if b else max(first, size - 1)
    elif isinstance(spec, tuple) and len(spec) == 2 and all(type(v) is int for v in spec):
        first, last = spec
        if first < 0 or last < 0:
            raise InvalidArgument("range bounds must not be negative")
    else:
        raise InvalidArgument("range must be (first, last) or a 'bytes=...' string")
    if last < first:
        raise InvalidArgument(f"range end {last} is before its start {first}")
    if first >= size:
        raise InvalidRange(f"range start {first} is beyond the object's {size} bytes", size=size)
    return first, min(last, size - 1)
