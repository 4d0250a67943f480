"""The LMDB backend's transaction views and their read cache.

py-lmdb 3.0 releases the GIL around every ``get``, ``put`` and cursor step
(and once more to touch a value's pages before copying it). With several
threads waiting for the GIL, each release hands it to another core and back
(a futex wake and a context switch or two): four threads doing 4 KiB GETs
made six such calls each and ran 2.4 x slower than one thread
(docs/performance.md, "threads on small objects"). So what can be answered
without LMDB is, from one :class:`ReadCache` per environment:

- Read transactions that see the same snapshot (``txn.id()``: the id of the
  last commit, the same in every process, since LMDB keeps it in its lock
  file) see the same bytes, so what one of them read (values, absent keys, the
  first item of a scan) serves the others.
- The cache outlives commits. A commit of this process (snapshot ``id``, the
  last one + 1, since LMDB has one writer) differs from the last snapshot only
  by the keys it wrote: it drops their values and the first items of every
  whole-prefix scan (``scan_prefix``, the request path's kind) whose prefix
  starts a written key, drops the first items of other ranges (they are
  rare), and adds the new values of the keys it held (not of keys only
  written, such as audit events) and the first items its own scans saw or
  its caller noted (:func:`objstore.meta.scan.note_first`). A write
  transaction's reads of keys it has not written see the last commit, so the
  cache serves them too. Under a mixed load a GET of an object nobody wrote
  stays warm across other objects' PUTs, and a GET right after a PUT finds
  the PUT's record (the PUT's own scan of the key's versions saw it).
- A commit by another process (a snapshot id this process did not publish,
  seen while no writer of this process is running) empties the cache.

A reader of another snapshot than the cache's reads without it. Lookups take
no lock: a publish bumps ``version`` before and after changing anything (odd
while it does), and a lookup that saw an odd version, a change of it or
another snapshot reads LMDB instead.
Adding an entry takes the cache's lock and checks the snapshot again, so a
value read before a commit never lands after it. When the cache is full it
starts over empty (a working set larger than the bound is read again once per
fill, not refused for good).

A write transaction remembers at most TRACK_MAX keys it wrote; past that it
reads from LMDB only and its commit empties the cache (it cannot tell which
keys it wrote). The one assumption: a snapshot id names one content. Replacing
``data.mdb`` by a backup while a handle keeps the environment open breaks it
(LMDB does not support that either): close every handle before restoring one.

This module does not import ``lmdb`` (``lmdb_store`` does); it drives the
py-lmdb transaction and cursor objects it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from objstore.meta.scan import prefix_end

_MISS = object()
# What the cache may hold: the hot records of many requests (bucket, policy,
# generation, counters) and the version records of a working set of small objects
# (a 4 KiB object's record is ~4.2 KB, its body inline), bounded so it never grows
# with the store. 8 MiB held 1,850 of the 9,700 records `bench small` reads from 4
# threads, and each miss costs two GIL hand-offs (a cursor seek and its item):
# 64 MiB holds ~14,000 such records, ~110,000 records of 400 bytes.
CACHE_ENTRIES = 1 << 17
CACHE_BYTES = 64 << 20
CACHE_VALUE_MAX = 64 << 10
# Python's own cost of one entry (the dict slot, the key and value objects, a
# scan's tuples), counted against CACHE_BYTES with the entry's bytes.
ENTRY_OVERHEAD = 200
# Writes one transaction remembers for the cache; a bigger transaction (a
# manifest batch, gc) empties the cache when it commits.
TRACK_MAX = 1024
# First items of its own scans one write transaction passes on (each of its later
# writes is checked against them).
SEEN_MAX = 64
# Whole-prefix scans whose start ends with a 0 byte (the key space's separator: the
# namespace's ``<bucket> 00 <encoded key>`` ends with one) are found by cutting a
# written key after each of its 0 bytes. Others by their length: a written key is
# checked against its prefix of each length held (a slice and a set lookup), of at
# most LENGTHS_MAX lengths; scans of a start of another length are kept as other
# ranges are, until the next commit.
LENGTHS_MAX = 24
# `ReadCache.snap` while a publish changes the cache: no reader's snapshot.
_CHANGING = -2

_Range = tuple[bool, bytes, bytes | None]  # (reverse, start, stop) of a scan
_Item = tuple[bytes, bytes] | None


def _is_prefix_range(start: bytes, stop: bytes | None) -> bool:
    """Whether [start, stop) is exactly the keys that start with ``start``."""
    return stop == prefix_end(start)


def _item_size(start: bytes, got: _Item) -> int:
    return len(start) + (len(got[0]) + len(got[1]) if got else 0) + ENTRY_OVERHEAD


def _value_size(key: bytes, value: bytes | None) -> int:
    return len(key) + (len(value) if value else 0) + ENTRY_OVERHEAD


class ReadCache:
    """What this process read from LMDB, valid in snapshot ``snap``."""

    def __init__(self) -> None:
        self.snap = -1
        # Bumped before and after a publish changes anything: odd while it does.
        self.version = 0
        self.lock = threading.Lock()  # adding, publishing, emptying
        self.values: dict[bytes, bytes | None] = {}
        self.firsts: dict[_Range, _Item] = {}
        self.bytes = 0
        # The whole-prefix ranges in `firsts`: their starts (-> how many of the two
        # directions) and the lengths of those not ending with a 0 byte (-> how many
        # starts), to find those a written key falls in; and the other ranges.
        self._starts: dict[bytes, int] = {}
        self._lengths: dict[int, int] = {}
        self._ranged: set[_Range] = set()

    # -- lookups (no lock; see the module docstring) ------------------------

    def value(self, snap: int, key: bytes) -> object:
        """``key``'s value in snapshot ``snap`` (None: absent), or _MISS."""
        return self._lookup(self.values, snap, key)

    def first(self, snap: int, ck: _Range) -> object:
        """The first item of scan ``ck`` in snapshot ``snap`` (None: empty), or _MISS."""
        return self._lookup(self.firsts, snap, ck)

    def _lookup(self, table: Mapping[Any, object], snap: int, key: object) -> object:
        version = self.version
        if version & 1 or self.snap != snap:  # (odd: a change is under way)
            return _MISS
        found = table.get(key, _MISS)
        return found if self.version == version else _MISS

    # -- adding what a reader of snapshot `snap` read ------------------------

    def add_value(self, snap: int, key: bytes, value: bytes | None) -> None:
        size = _value_size(key, value)
        if size > CACHE_VALUE_MAX + ENTRY_OVERHEAD:
            return
        with self.lock:
            if self.snap == snap and key not in self.values and self._room(size):
                self.values[key] = value
                self.bytes += size

    def add_first(self, snap: int, ck: _Range, got: _Item) -> None:
        size = _item_size(ck[1], got)
        if size > CACHE_VALUE_MAX + ENTRY_OVERHEAD:
            return
        with self.lock:
            if self.snap == snap and ck not in self.firsts and self._room(size):
                self._put_first(ck, got, size)

    def _put_first(self, ck: _Range, got: _Item, size: int) -> None:
        _reverse, start, stop = ck
        n = len(start)
        cut = start.endswith(b"\x00")
        if _is_prefix_range(start, stop) and (
            cut or n in self._lengths or len(self._lengths) < LENGTHS_MAX
        ):
            held = self._starts.get(start, 0)
            if not held and not cut:
                self._lengths[n] = self._lengths.get(n, 0) + 1
            self._starts[start] = held + 1
        else:
            self._ranged.add(ck)
        self.firsts[ck] = got
        self.bytes += size

    def _room(self, size: int) -> bool:
        """Whether an entry of ``size`` fits; a full cache starts over empty."""
        if len(self.values) + len(self.firsts) >= CACHE_ENTRIES or (
            self.bytes + size > CACHE_BYTES
        ):
            self._empty()
        return size <= CACHE_BYTES

    def _empty(self) -> None:
        # Dropping entries never makes a reader's lookup wrong: no version bump.
        self.values = {}
        self.firsts = {}
        self._starts = {}
        self._lengths = {}
        self._ranged = set()
        self.bytes = 0

    # -- commits -------------------------------------------------------------

    def seen_commit(self, snap: int) -> None:
        """A reader saw snapshot ``snap``, newer than the cache's, while no writer of
        this process was running: another process committed it. Start over empty."""
        with self.lock:
            if snap > self.snap >= -1:
                self.version += 1
                self._empty()
                self.snap = snap
                self.version += 1

    def publish(
        self,
        snap: int,
        written: dict[bytes, object] | None,
        seen: dict[_Range, _Item],
    ) -> None:
        """This process committed snapshot ``snap``: ``written`` maps each key it wrote
        to its value (None: deleted; _UNKEPT: too big to keep), None when it wrote more
        than it tracks; ``seen`` holds first items its scans saw, true at the commit."""
        with self.lock:
            incremental = written is not None and self.snap == snap - 1
            self.snap = _CHANGING
            self.version += 1  # odd until the change is done: lookups miss
            try:
                if not incremental or written is None:
                    self._empty()
                else:
                    self._apply(written, seen)
            except BaseException:
                self._empty()
                raise
            finally:
                self.snap = snap
                self.version += 1

    def _apply(self, written: dict[bytes, object], seen: dict[_Range, _Item]) -> None:
        for ck in self._ranged:
            found = self.firsts.pop(ck, _MISS)
            if found is not _MISS:
                self.bytes -= _item_size(ck[1], found)  # type: ignore[arg-type]
        self._ranged = set()
        values = self.values
        starts = self._starts
        lengths = tuple(self._lengths)  # (a drop may delete one: then nothing matches)
        freed = 0
        held = []
        for key in written:
            found = values.pop(key, _MISS)
            if found is not _MISS:
                freed += _value_size(key, found)  # type: ignore[arg-type]
                held.append(key)
            n = len(key)
            for length in lengths:
                if length <= n and key[:length] in starts:
                    self._drop_start(key[:length])
            cut = key.find(0)
            while cut >= 0:
                if key[: cut + 1] in starts:
                    self._drop_start(key[: cut + 1])
                cut = key.find(0, cut + 1)
        self.bytes -= freed
        # The new values of keys someone read (a counter, a bucket record, what this
        # writer looked up first); not of keys only written (an audit event, a new
        # version record, which the next GET reads through its scan's first item).
        for key in held:
            value = written[key]
            if value is not _UNKEPT:
                size = _value_size(key, value)  # type: ignore[arg-type]
                if key not in self.values and self._room(size):
                    self.values[key] = value  # type: ignore[assignment]
                    self.bytes += size
        for ck, got in seen.items():
            size = _item_size(ck[1], got)
            if ck not in self.firsts and self._room(size):
                self._put_first(ck, got, size)

    def _drop_start(self, start: bytes) -> None:
        """Drop the first items of the whole-prefix scans of ``start`` (a written key
        starts with it)."""
        del self._starts[start]
        n = len(start)
        if not start.endswith(b"\x00"):
            left = self._lengths[n] - 1
            if left:
                self._lengths[n] = left
            else:
                del self._lengths[n]
        stop = prefix_end(start)
        for ck in ((False, start, stop), (True, start, stop)):
            found = self.firsts.pop(ck, _MISS)
            if found is not _MISS:
                self.bytes -= _item_size(start, found)  # type: ignore[arg-type]


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
    """A read transaction (:class:`objstore.meta.base.ReadTxn`) of snapshot ``snap``
    through the environment's cache."""

    def __init__(self, txn: Any, cache: ReadCache | None = None, snap: int = -1) -> None:
        self._txn = txn
        self._cache = cache
        self._snap = snap

    def get(self, key: bytes) -> bytes | None:
        cache = self._cache
        if cache is not None:
            # ReadCache.value, inlined: this runs several times per request.
            version = cache.version
            if not version & 1 and cache.snap == self._snap:
                found = cache.values.get(key, _MISS)
                if found is not _MISS and cache.version == version:
                    return found  # type: ignore[return-value]
        value = self._txn.get(key)
        out = None if value is None else bytes(value)
        if cache is not None:
            cache.add_value(self._snap, key, out)
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
        first = cache.first(self._snap, ck)
        if first is _MISS:
            items = walk(self._txn, start, stop)
            got = next(items, None)
            cache.add_first(self._snap, ck, got)
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
    """A write transaction (:class:`objstore.meta.base.WriteTxn`) on snapshot ``base``:
    reads of keys it has not written come from the cache; it remembers what it wrote
    and the first items its scans saw, for :meth:`publish`."""

    def __init__(self, txn: Any, cache: ReadCache | None, base: int) -> None:
        self._txn = txn
        self._cache = cache
        self._base = base  # the last commit, which its reads of unwritten keys see
        # Keys this transaction wrote (None: deleted; _UNKEPT: value not kept).
        self._written: dict[bytes, object] = {}
        # First items of whole-prefix scans it saw, none of its later writes in range.
        self._seen: dict[_Range, _Item] = {}
        self._overflow = False
        # Whether LMDB will commit it as a new snapshot: a transaction that changed no
        # page (nothing put, nothing deleted) commits without a new txn id.
        self._dirty = False

    def get(self, key: bytes) -> bytes | None:
        if self._overflow:
            # Writes past TRACK_MAX are not recorded, so "not in _written" no longer means
            # "not written": only LMDB knows, and what it returns may be this transaction's
            # own uncommitted value, which must never reach the shared cache.
            value = self._txn.get(key)
            return None if value is None else bytes(value)
        found = self._written.get(key, _MISS)
        if found is not _MISS and found is not _UNKEPT:
            return found  # type: ignore[return-value]
        cache = self._cache
        if found is _MISS and cache is not None:
            cached = cache.value(self._base, key)
            if cached is not _MISS:
                return cached  # type: ignore[return-value]
        value = self._txn.get(key)
        out = None if value is None else bytes(value)
        if found is _MISS and cache is not None:
            cache.add_value(self._base, key, out)  # the last commit's value: true there
        return out

    def _track_write(self, key: bytes, value: object) -> None:
        if key in self._written or len(self._written) < TRACK_MAX:
            self._written[key] = value
        else:
            self._overflow = True
        if self._seen:
            for ck in [ck for ck in self._seen if key.startswith(ck[1])]:
                del self._seen[ck]  # a write in its range: the first item may differ now

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        # LMDB's own cursor: it sees this transaction's writes.
        return self._seeing(False, start, stop, _walk(self._txn, start, stop))

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._seeing(True, start, stop, _walk_reverse(self._txn, start, stop))

    def _seeing(
        self, reverse: bool, start: bytes, stop: bytes | None, items: Iterator[Any]
    ) -> Iterator[tuple[bytes, bytes]]:
        """``items``, noting the first one of a whole-prefix scan (the namespace's
        newest-version read after it stored a version: the next GET's first read)."""
        got = next(items, None)
        if _is_prefix_range(start, stop):
            self._see((reverse, start, stop), got)
        if got is None:
            return
        yield got
        yield from items

    def note_first(self, prefix: bytes, key: bytes, value: bytes) -> None:
        """``(key, value)``, just written, is the first item of the keys under ``prefix``
        (:func:`objstore.meta.scan.note_first`): passed on like a scan's first item."""
        if key.startswith(prefix) and self._written.get(key, _MISS) == value:
            self._see((False, prefix, prefix_end(prefix)), (key, value))

    def _see(self, ck: _Range, got: _Item) -> None:
        if (
            self._cache is not None
            and len(self._seen) < SEEN_MAX
            and (got is None or len(got[1]) <= CACHE_VALUE_MAX)
        ):
            self._seen[ck] = got

    def put(self, key: bytes, value: bytes) -> None:
        self._txn.put(key, value)
        self._dirty = True
        kept = len(value) <= CACHE_VALUE_MAX
        self._track_write(key, bytes(value) if kept else _UNKEPT)

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: bytes) -> bool:
        existed = bool(self._txn.delete(key))
        self._dirty = self._dirty or existed
        self._track_write(key, None)
        return existed

    def publish(self, snap: int) -> None:
        """Tell the cache this transaction committed as snapshot ``snap``; nothing when it
        changed nothing (then LMDB commits no new snapshot, and ``snap`` will be the id of
        another writer's commit)."""
        if self._cache is None or not self._dirty:
            return
        written = None if self._overflow else self._written
        self._cache.publish(snap, written, self._seen)


_UNKEPT = object()  # written, but too big to keep: read it from LMDB again
