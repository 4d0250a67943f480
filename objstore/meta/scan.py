"""Prefix bounds for ordered key scans (pure).

Every "all keys that start with P" walk goes through :func:`prefix_end` or
:func:`scan_prefix`. The tempting ``P + b"\\xff"`` stop is wrong for binary
ids: it excludes every key whose next byte is ``ff`` (1 id in 256), which once
made garbage collection delete live chunks. A test forbids that literal
anywhere else in the package.
"""

from __future__ import annotations

from collections.abc import Iterator

from objstore.meta.base import ReadTxn


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``.

    Trailing ``ff`` bytes cannot be incremented, so they are dropped first;
    ``None`` (scan to the end of the key space) when nothing is left.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def scan_prefix(
    txn: ReadTxn, prefix: bytes, start: bytes | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(key, value)`` for every key starting with ``prefix``, ascending.

    ``start`` (which must itself start with ``prefix``) resumes a walk there.
    """
    return txn.scan(prefix if start is None else start, prefix_end(prefix))


def scan_prefix_reverse(
    txn: ReadTxn, prefix: bytes, stop: bytes | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """Yield keys starting with ``prefix`` below ``stop`` (default: all), descending."""
    return txn.scan_reverse(prefix, prefix_end(prefix) if stop is None else stop)


def note_first(txn: ReadTxn, prefix: bytes, key: bytes, value: bytes) -> None:
    """Tell ``txn``, which just wrote ``key`` = ``value``, that this is the first item
    of :func:`scan_prefix` ``(prefix)`` once it commits (unless it writes under
    ``prefix`` again). A store with a read cache (LMDB) hands it to the next reads, so
    the first GET after a PUT needs no lookup; the others have no ``note_first``.
    The caller must know it: e.g. a new version, whose sequence sorts first."""
    note = getattr(txn, "note_first", None)
    if note is not None:
        note(prefix, key, value)
