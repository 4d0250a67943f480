"""The LMDB backend's transaction views and their per-snapshot read cache.

py-lmdb 3.0 releases the GIL around every ``get``, ``put`` and cursor step.
With several threads waiting for the GIL, each release hands it to another
core and back (a futex wake and a context switch or two): four threads doing
4 KiB GETs made six such calls each and ran 2.4 x slower than one thread
(docs/performance.md, "threads on small objects"). So what can be answered
without LMDB is:

- Read transactions that see the same snapshot (``txn.id()``: the id of the
  last commit, the same in every process, since LMDB keeps it in its lock
  file) see the same bytes, so what one of them read (values, absent keys, the
  first item of a scan) serves the others from :class:`SnapshotCache`.
- A write transaction's reads of keys it has not written see the last commit:
  that snapshot's cache serves them. Once it commits (as snapshot ``id``, the
  last one + 1, since LMDB has one writer), the new snapshot differs from the
  last one only by what it wrote, so its cache starts with the last one's
  values overlaid with those writes, instead of empty.

A write transaction remembers at most TRACK_MAX keys it wrote; past that it
reads from LMDB only and publishes nothing (it cannot tell which keys it wrote).
The one assumption: a snapshot id names one content. Replacing ``data.mdb`` by
a backup while a handle keeps the environment open breaks it (LMDB does not
support that either): close every handle before restoring a backup.

A reader of an older snapshot than the cache's reads without it. This module
does not import ``lmdb`` (``lmdb_store`` does); it drives the py-lmdb
transaction and cursor objects it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

_MISS = object()
# What one snapshot's cache may hold: the hot records of many requests (bucket,
# policy, generation, counters) and the version records of a working set of small
# objects (a 4 KiB object's record is ~4.2 KB, its body inline), bounded so it
# never grows with the store. 8 MiB held 1,850 of the 9,700 records `bench small`
# reads from 4 threads, and each miss costs two GIL hand-offs (a cursor seek and
# its item): 64 MiB holds ~14,000 such records, ~110,000 records of 400 bytes.
CACHE_ENTRIES = 1 << 17
CACHE_BYTES = 64 << 20
CACHE_VALUE_MAX = 64 << 10
# Python's own cost of one entry (the dict slot, the key and value objects, a
# scan's tuples), counted against CACHE_BYTES with the entry's bytes.
ENTRY_OVERHEAD = 200
# A commit copies the last snapshot's values into the next one's cache only when
# they are this few (a copy per commit must stay cheap); else it starts with its
# own reads and writes alone.
CARRY_MAX = 512
# Writes one transaction remembers for the next snapshot's cache; a bigger
# transaction (a manifest batch, gc) starts the next snapshot empty.
TRACK_MAX = 1024


class SnapshotCache:
    """Values read in one LMDB snapshot (one committed txn id)."""

    __slots__ = ("bytes", "firsts", "snap", "value_bytes", "values")

    def __init__(self, snap: int) -> None:
        self.snap = snap
        self.values: dict[bytes, bytes | None] = {}
        # First item of a scan: (reverse, start, stop) -> (key, value) or None.
        self.firsts: dict[tuple[bool, bytes, bytes | None], tuple[bytes, bytes] | None] = {}
        self.bytes = 0  # what every entry counts against CACHE_BYTES
        # The share of `bytes` that `values` holds: a commit carries only the values to
        # the next snapshot's cache, so only they may be counted there (counting the
        # firsts too made each commit's cache start fuller, until it admitted nothing).
        self.value_bytes = 0

    def room(self, size: int) -> bool:
        """Whether one more entry of ``size`` bytes fits (and, if so, count it)."""
        if size > CACHE_VALUE_MAX:
            return False
        if len(self.values) + len(self.firsts) >= CACHE_ENTRIES:
            return False
        size += ENTRY_OVERHEAD
        if self.bytes + size > CACHE_BYTES:
            return False
        self.bytes += size
        return True

    def remember(self, key: bytes, value: bytes | None) -> None:
        size = _value_size(key, value)
        if key not in self.values and self.room(size):
            self.values[key] = value
            self.value_bytes += size + ENTRY_OVERHEAD

    def forget(self, key: bytes) -> None:
        """Drop ``key``'s value (and what it counted), if held."""
        found = self.values.pop(key, _MISS)
        if found is not _MISS:
            freed = _value_size(key, found) + ENTRY_OVERHEAD  # type: ignore[arg-type]
            self.bytes -= freed
            self.value_bytes -= freed


def _value_size(key: bytes, value: bytes | None) -> int:
    return len(key) + (len(value) if value else 0)


def _walk(txn: Any, start: bytes, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    cur = txn.cursor()
    if not cur.set_range(start):
        return
    if stop is None:
        yield from cur.iternext(keys=True, values=True)
        return
    for key, value in cur.iternext(keys=True, values=True):
        if key >= stop:
            return
        yield key, value


def _walk_reverse(txn: Any, start: bytes, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    cur = txn.cursor()
    if stop is None:
        positioned = cur.last()
    elif cur.set_range(stop):
        positioned = cur.prev()
    else:
        positioned = cur.last()
    if not positioned:
        return
    for key, value in cur.iterprev(keys=True, values=True):
        if key < start:
            return
        yield key, value


class ReadTxnView:
    """A read transaction (:class:`objstore.meta.base.ReadTxn`) through its snapshot's cache."""

    def __init__(self, txn: Any, cache: SnapshotCache | None = None) -> None:
        self._txn = txn
        self._cache = cache

    def get(self, key: bytes) -> bytes | None:
        cache = self._cache
        if cache is not None:
            found = cache.values.get(key, _MISS)
            if found is not _MISS:
                return found  # type: ignore[return-value]
        value = self._txn.get(key)
        out = None if value is None else bytes(value)
        if cache is not None:
            cache.remember(key, out)
        return out

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        return self._cached(False, start, stop)

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._cached(True, start, stop)

    def _cached(
        self, reverse: bool, start: bytes, stop: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        """A scan whose first item may come from the cache (most scans on a request's
        path stop after it: the newest version of a key, a manifest seek)."""
        walk = _walk_reverse if reverse else _walk
        cache = self._cache
        if cache is None:
            yield from walk(self._txn, start, stop)
            return
        ck = (reverse, start, stop)
        first = cache.firsts.get(ck, _MISS)
        if first is _MISS:
            items = walk(self._txn, start, stop)
            got = next(items, None)
            if cache.room(len(start) + (len(got[0]) + len(got[1]) if got else 0)):
                cache.firsts[ck] = got
            if got is None:
                return
            yield got
            yield from items
            return
        if first is None:
            return
        yield first  # type: ignore[misc]
        # Asked for more: walk on from the first item's key (same snapshot, same keys).
        after: bytes = first[0]  # type: ignore[index]
        if reverse:
            yield from _walk_reverse(self._txn, start, after)
        else:
            for k, v in _walk(self._txn, after, stop):
                if k != after:
                    yield k, v


class WriteTxnView:
    """A write transaction (:class:`objstore.meta.base.WriteTxn`): reads of keys it has
    not written come from the last snapshot's cache; it remembers what it read and
    wrote for the cache of the snapshot it commits."""

    def __init__(self, txn: Any, base: SnapshotCache | None) -> None:
        self._txn = txn
        self._base = base  # the last commit's cache (None: an older one is cached)
        # Keys this transaction wrote (None: deleted; _MISS: value not kept) or read.
        self._written: dict[bytes, object] = {}
        self._read: dict[bytes, bytes | None] = {}
        self._overflow = False
        # Whether LMDB will commit it as a new snapshot: a transaction that changed no
        # page (nothing put, nothing deleted) commits without a new txn id.
        self._dirty = False

    def get(self, key: bytes) -> bytes | None:
        if self._overflow:
            # Writes past TRACK_MAX are not recorded, so "not in _written" no longer means
            # "not written": only LMDB knows, and what it returns may be this transaction's
            # own uncommitted value, which must never reach the last commit's shared cache.
            value = self._txn.get(key)
            return None if value is None else bytes(value)
        found = self._written.get(key, _MISS)
        if found is not _MISS and found is not _WRITTEN_UNKEPT:
            return found  # type: ignore[return-value]
        if found is _MISS and self._base is not None:
            cached = self._base.values.get(key, _MISS)
            if cached is not _MISS:
                return cached  # type: ignore[return-value]
        value = self._txn.get(key)
        out = None if value is None else bytes(value)
        if found is _MISS:
            if self._base is not None:
                self._base.remember(key, out)  # the last commit's value: true there too
            self._track_read(key, out)
        return out

    def _track_read(self, key: bytes, value: bytes | None) -> None:
        if len(self._read) < TRACK_MAX:
            self._read[key] = value

    def _track_write(self, key: bytes, value: object) -> None:
        if key in self._written or len(self._written) < TRACK_MAX:
            self._written[key] = value
        else:
            self._overflow = True

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        # LMDB's own cursor: it sees this transaction's writes.
        return _walk(self._txn, start, stop)

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return _walk_reverse(self._txn, start, stop)

    def put(self, key: bytes, value: bytes) -> None:
        self._txn.put(key, value)
        self._dirty = True
        kept = len(value) <= CACHE_VALUE_MAX
        self._track_write(key, bytes(value) if kept else _WRITTEN_UNKEPT)

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: bytes) -> bool:
        existed = bool(self._txn.delete(key))
        self._dirty = self._dirty or existed
        self._track_write(key, None)
        return existed

    def next_cache(self, snap: int) -> SnapshotCache | None:
        """The cache of snapshot ``snap``, which this transaction committed: the last
        snapshot's values (when few) overlaid with what it read and wrote; None when it
        wrote more than it tracks, or nothing at all (then LMDB commits no new snapshot,
        and ``snap`` will be the id of another writer's commit)."""
        if self._overflow or not self._dirty:
            return None
        cache = SnapshotCache(snap)
        base = self._base
        if base is not None and base.snap == snap - 1 and len(base.values) <= CARRY_MAX:
            cache.values = dict(base.values)  # a copy at C speed: this runs per commit
            cache.bytes = cache.value_bytes = base.value_bytes  # (not its scans' firsts)
        for key, value in self._read.items():
            cache.remember(key, value)
        for key, written in self._written.items():
            cache.forget(key)  # the last snapshot's value is stale now
            if written is not _WRITTEN_UNKEPT:  # (too big to keep: read from LMDB again)
                cache.remember(key, written)  # type: ignore[arg-type]
        return cache


_WRITTEN_UNKEPT = object()  # written, but too big to keep: read it from LMDB again
