"""The two transaction kinds of the PostgreSQL metadata store, without the driver.

A transaction runs statements through ``run(query, params, doing)`` (given by
:mod:`objstore.backends.postgres`, which owns the connection and turns driver
errors into objstore errors). Here: paged scans, and the write transaction's
buffer (puts and deletes kept in memory, read back by ``get`` and scans, sent
in one statement) and cache of what it read: it holds the store's writer lock,
so nobody else changes a key it read until it ends.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from objstore.backends.pg_sql import MAX_KEY_SIZE, Statements
from objstore.errors import InternalError

# Runs one statement in the transaction and returns its rows (raises objstore errors).
Run = Callable[[str, tuple[object, ...], str], list[Any]]

# Scans: the first page is small (most walks stop early), later ones grow while
# the values stay small.
_PAGE_FIRST = 32
_PAGE_MAX = 2048
_PAGE_GROW_BELOW = 4 << 20
# A write transaction remembers at most this many keys it read, and new ones only
# while the values it holds stay under this many bytes.
_SEEN_MAX = 1 << 16
_SEEN_BYTES = 8 << 20
# Keys written since a scan last looked are merged into the sorted record one by one
# up to this many, and by sorting beyond it.
_INSORT_MAX = 64
# One flush statement carries at most this much (a protocol message is < 1 GiB).
_FLUSH_BYTES = 32 << 20
_FLUSH_ROWS = 10_000


def _key(key: object) -> bytes:
    if not isinstance(key, bytes):
        raise InternalError(f"metadata keys are bytes, not {type(key).__name__}")
    if not 0 < len(key) <= MAX_KEY_SIZE:
        raise InternalError(f"a metadata key has 1 to {MAX_KEY_SIZE} bytes, not {len(key)}")
    return key


def _bound(key: object) -> bytes:
    if not isinstance(key, bytes):
        raise InternalError(f"scan bounds are bytes, not {type(key).__name__}")
    return key


def _value(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise InternalError(f"metadata values are bytes, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A connection's row in ``<prefix>commits`` and the session that owns it."""

    id: bytes
    pid: int
    started: str


class PgRead:
    """A read snapshot (and the read side of the write transaction)."""

    def __init__(self, sql: Statements, run: Run) -> None:
        self._sql = sql
        self._run = run
        self.live = True

    def _query(self, query: str, params: tuple[object, ...], doing: str) -> list[Any]:
        if not self.live:
            raise InternalError("the metadata transaction has ended")
        try:
            return self._run(query, params, doing)
        except BaseException:
            # PostgreSQL has aborted the transaction: nothing more can run in it.
            self.live = False
            raise

    def _fetch(self, key: bytes) -> bytes | None:
        rows = self._query(self._sql.get, (key,), "reading")
        return rows[0][0] if rows else None

    def get(self, key: bytes) -> bytes | None:
        return self._fetch(_key(key))

    def _before_page(self) -> None:
        """Hook: a write transaction sends its buffer first."""

    def _pages(
        self, start: bytes, stop: bytes | None, reverse: bool
    ) -> Iterator[tuple[list[tuple[bytes, bytes]], bool]]:
        """Yield each page of rows, and whether it is the last one."""
        sql = self._sql
        lo, hi = _bound(start), None if stop is None else _bound(stop)
        n = _PAGE_FIRST
        while True:
            self._before_page()
            if reverse:
                query = sql.scan_reverse_from if hi is None else sql.scan_reverse_range
            else:
                query = sql.scan_from if hi is None else sql.scan_range
            params = (lo, n) if hi is None else (lo, hi, n)
            rows = self._query(query, params, "scanning")
            yield rows, len(rows) < n
            if len(rows) < n:
                return
            if reverse:
                hi = rows[-1][0]
            else:
                # The smallest key above the last one: no key lies between k and k + 00.
                lo = rows[-1][0] + b"\x00"
            if sum(len(v) for _, v in rows) < _PAGE_GROW_BELOW:
                n = min(n * 4, _PAGE_MAX)

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        for rows, _ in self._pages(start, stop, False):
            yield from rows

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        for rows, _ in self._pages(start, stop, True):
            yield from rows


class PgWrite(PgRead):
    """The write transaction: buffered writes, cached reads, under the writer lock."""

    def __init__(self, sql: Statements, run: Run, slot: Slot) -> None:
        super().__init__(sql, run)
        self.slot = slot
        self.token = os.urandom(16)
        # Key -> new value, or None for deleted; not yet sent.
        self.dirty: dict[bytes, bytes | None] = {}
        # Key -> value (None: deleted) of everything this transaction wrote, sent or
        # not. A flush does not clear it: a scan may hold rows it read before a write
        # (and before another scan's flush), and this record is what corrects them.
        self._written: dict[bytes, bytes | None] = {}
        # The keys of _written in order (for scans), and those not yet placed in it.
        self._order: list[bytes] = []
        self._unplaced: list[bytes] = []
        # Counts writes, so that a scan knows when what it found in _written is stale.
        self._writes = 0
        # Key -> value (None: absent) as this transaction read it from the server, for
        # keys it has not written (those answer from _written).
        self._seen: dict[bytes, bytes | None] = {}
        self._seen_bytes = 0
        self.wrote = False

    def _remember(self, key: bytes, value: bytes | None) -> None:
        if key in self._written:
            return
        # A key already remembered is always updated (a stale entry would lie).
        if key in self._seen:
            self._seen_bytes -= len(self._seen[key] or b"")
        elif len(self._seen) >= _SEEN_MAX or self._seen_bytes >= _SEEN_BYTES:
            return
        self._seen[key] = value
        self._seen_bytes += len(value or b"")

    def _write(self, key: bytes, value: bytes | None) -> None:
        if key not in self._written:
            self._unplaced.append(key)
        self._written[key] = value
        self.dirty[key] = value
        self._writes += 1

    def get(self, key: bytes) -> bytes | None:
        key = _key(key)
        if key in self._written:
            return self._written[key]
        if key in self._seen:
            return self._seen[key]
        value = self._fetch(key)
        self._remember(key, value)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        if not self.live:
            raise InternalError("the metadata transaction has ended")
        self._write(_key(key), _value(value))

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: bytes) -> bool:
        existed = self.get(key) is not None
        if existed:
            self._write(key, None)
        return existed

    def _before_page(self) -> None:
        if self.dirty:
            self.flush()

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        return self._merged(_bound(start), None if stop is None else _bound(stop), False)

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._merged(_bound(start), None if stop is None else _bound(stop), True)

    def _placed(self) -> list[bytes]:
        """The written keys in order (placing those written since the last call)."""
        fresh = self._unplaced
        if fresh:
            self._unplaced = []
            if len(fresh) <= _INSORT_MAX:
                for key in fresh:
                    insort(self._order, key)
            else:
                # Two sorted runs: the sort merges them in linear time.
                self._order.extend(sorted(fresh))
                self._order.sort()
        return self._order

    def _next_written(
        self, last: bytes | None, start: bytes, stop: bytes | None, reverse: bool
    ) -> bytes | None:
        """The first key written with a value after ``last`` (or from the edge of the
        range) in the scan's direction, within ``start <= key < stop``."""
        order, written = self._placed(), self._written
        if not reverse:
            i = bisect_left(order, start) if last is None else bisect_right(order, last)
            while i < len(order) and (stop is None or order[i] < stop):
                if written[order[i]] is not None:
                    return order[i]
                i += 1
            return None
        if last is not None:
            i = bisect_left(order, last) - 1
        else:
            i = (len(order) if stop is None else bisect_left(order, stop)) - 1
        while i >= 0 and order[i] >= start:
            if written[order[i]] is not None:
                return order[i]
            i -= 1
        return None

    def _merged(
        self, start: bytes, stop: bytes | None, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        # The cursor semantics of LMDB: each step yields the first key after the last
        # one yielded, as the transaction stands *now*. A page is read after the buffer
        # was sent, and nobody else writes while this transaction holds the writer lock,
        # so a row is current unless this transaction wrote its key since (then
        # _written has it), and the only keys missing from a page are those written
        # since; a page that is not the last covers the keys up to its last row only
        # (the next page is read after the next flush).
        def after(a: bytes, b: bytes) -> bool:
            return a < b if reverse else a > b

        last: bytes | None = None
        # The next written key and the write count it was found at: while nothing new
        # is written, keys already skipped need not be skipped again.
        ahead: bytes | None = None
        ahead_at = -1
        for rows, final in self._pages(start, stop, reverse):
            i = 0
            while True:
                while i < len(rows) and last is not None and not after(rows[i][0], last):
                    i += 1
                if ahead_at != self._writes or (
                    ahead is not None and last is not None and not after(ahead, last)
                ):
                    ahead, ahead_at = self._next_written(last, start, stop, reverse), self._writes
                if i < len(rows) and (ahead is None or not after(rows[i][0], ahead)):
                    key, value = rows[i]
                    if key in self._written:
                        changed = self._written[key]
                        last = key
                        if changed is None:
                            continue
                        value = changed
                    else:
                        self._remember(key, value)
                elif ahead is not None and (i < len(rows) or final):
                    key = ahead
                    value = self._written[key] or b""  # ahead always has a value
                else:
                    break
                last = key
                yield key, value

    def flush(self) -> None:
        """Send the buffered writes (with this connection's commit token)."""
        items, self.dirty = self.dirty, {}
        batch: list[tuple[bytes, bytes | None]] = []
        size = 0
        for key, value in items.items():
            batch.append((key, value))
            size += len(key) + (0 if value is None else len(value))
            if size >= _FLUSH_BYTES or len(batch) >= _FLUSH_ROWS:
                self._send(batch)
                batch, size = [], 0
        if batch:
            self._send(batch)

    def _send(self, batch: list[tuple[bytes, bytes | None]]) -> None:
        deleted = [k for k, v in batch if v is None]
        keys = [k for k, v in batch if v is not None]
        values = [v for _, v in batch if v is not None]
        params = (deleted, keys, values, self.slot.id, self.token)
        self._query(self._sql.flush, params, "writing")
        self.wrote = True
