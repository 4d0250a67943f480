"""Byte ranges of a GET (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from objstore.errors import (
    DataCorruption,
    InvalidArgument,
    InvalidPartNumber,
    InvalidRange,
    InvalidRequest,
)

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
MAX_PART_NUMBER = 10_000


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


def part_runs(sizes: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """Part sizes as ``((size, count), ...)`` runs: every part of a multipart upload but
    the last usually has one size, so 10,000 parts are mostly two runs."""
    runs: list[list[int]] = []
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return tuple((size, count) for size, count in runs)


def part_span(
    part_number: object, *, size: int, parts: int, runs: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """``(first, length)`` of part ``part_number`` of an object of ``size`` bytes.

    ``parts`` is the object's part count (0 for a single PUT, whose only part is the
    whole object, as S3 answers ``partNumber=1``), ``runs`` its part sizes (see
    :func:`part_runs`). Parts are numbered 1..count in the object's order, whatever
    numbers the upload gave them. Raises InvalidArgument (not an integer in 1..10,000),
    InvalidPartNumber (beyond the part count), InvalidRequest (part 2 or later of a
    multipart object completed before part sizes were recorded), DataCorruption (the
    runs do not add up to the count).
    """
    if type(part_number) is not int or not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidArgument(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=str(part_number),
        )
    count = max(parts, 1)
    if part_number > count:
        raise InvalidPartNumber(
            "The requested partnumber is not satisfiable",
            PartNumberRequested=part_number,
            ActualPartCount=count,
        )
    if count == 1:
        return 0, size
    if not runs:
        raise InvalidRequest(
            "this multipart object was completed before objstore recorded part sizes: "
            "only part 1 of 1-part objects can be read by number; read it by byte range",
            part_number=part_number,
        )
    first, left = 0, part_number - 1
    for psize, n in runs:
        if left < n:
            return first + left * psize, psize
        first += psize * n
        left -= n
    raise DataCorruption(f"the part sizes of this object add up to fewer than {parts} parts")


def read_span(
    spec: RangeSpec,
    part_number: int | None,
    *,
    size: int,
    parts: int,
    runs: Sequence[tuple[int, int]],
) -> tuple[int, int] | None:
    """``(first, last)`` inclusive that a GET or HEAD reads: the range ``spec`` or part
    ``part_number`` (an empty part is ``(first, first - 1)``), None for the whole object.

    Raises InvalidRequest when both are given (as S3), and the errors of
    :func:`resolve_range` and :func:`part_span`.
    """
    if part_number is None:
        return resolve_range(spec, size)
    if spec is not None:
        raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    first, length = part_span(part_number, size=size, parts=parts, runs=runs)
    return first, first + length - 1
