"""Reads: a byte range of a stored body, streamed, read ahead and verified.

Opening a read (:meth:`Reader.open`) only checks that the body exists: it
reads no chunk, takes no lock and holds no file, so an open body that is never
read costs nothing. Read-ahead starts with the first read, within a per-store
byte budget (:class:`ReadAheadBudget`) shared by every reader, so 100 bodies
read at once hold at most that budget in read-ahead between them. From a
local chunk store the reader reads the chunks ahead itself (a copy from the
page cache into the bytes it will hand over) and the store's I/O threads
BLAKE3 them meanwhile, so chunk N+1 is copied while chunk N is hashed; from a
remote one the I/O threads fetch and verify them. Either way no byte reaches
the caller before its chunk matched its id, and when a chunk is needed and no
I/O thread has started on it yet (the budget was spent, or the machine is busy
and the threads wait for a core), the reader does that work itself instead of
waiting: reading never depends on a thread hand-off. Closing the stream (or
dropping it) cancels what was read ahead and returns its budget.

gc: an open stream holds a lease ticket (:mod:`.leases`, in memory), so gc
keeps a body deleted meanwhile, and its chunks, while the reader reads. A
stream idle (between reads, or never read) longer than the lease ttl loses
that protection and no longer holds gc back; when it reads again it takes a
new ticket, and if its body died meanwhile it raises InternalError ("open it
again"). Chunks are verified and bad ones quarantined by :mod:`.quarantine`.

A plain body is read through its chunk manifest; a composite one (see
:mod:`.compose`) by seeking the segment holding the first byte, then reading
each segment's range of its (plain) sub-body the same way, under the
composite reader's one ticket (the composite holds its sub-bodies, and gc
drops neither while the ticket stands).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import suppress
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId, ChunkMissing, chunk_digest
from objstore.blob.compose import first_segment_key, walk_segments
from objstore.blob.leases import Ticket
from objstore.blob.quarantine import fetch_verified, refetch
from objstore.blob.records import (
    DATA_REC,
    DEAD_REC,
    LEN,
    READ_BATCH,
    STATE_DEAD,
    DataGone,
    mkey,
)
from objstore.errors import DataCorruption, InternalError, ObjstoreError, ServiceUnavailable
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore


class ReadAheadBudget:
    """Bytes that all readers of one store may hold in read-ahead at once.

    Taking never blocks: a reader that finds the budget spent reads its next
    chunk itself when it needs it, so readers cannot deadlock on the budget.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0  # high-water mark of ``used`` (for tests and diagnostics)
        self._lock = threading.Lock()

    def try_take(self, n: int) -> bool:
        """Reserve ``n`` bytes if they fit; whether they did."""
        with self._lock:
            if self.used + n > self.limit:
                return False
            self.used += n
            self.peak = max(self.peak, self.used)
            return True

    def give(self, n: int) -> None:
        """Return ``n`` bytes reserved by :meth:`try_take`."""
        with self._lock:
            self.used -= n


class _Ahead:
    """One manifest entry on its way to the reader.

    Remote chunk stores: ``fut`` is an I/O thread's fetch-and-verify (its bytes).
    Local ones: ``data`` is what the reader read itself (``loaded``: read, or found
    missing when ``data`` is None), ``fut`` an I/O thread's BLAKE3 of it (its digest).
    ``held``: the read-ahead budget holds ``length`` bytes for it.
    """

    __slots__ = ("cid", "data", "fut", "held", "length", "loaded", "off")

    def __init__(self, off: int, cid: ChunkId, length: int) -> None:
        self.off = off
        self.cid = cid
        self.length = length
        self.fut: Future[bytes] | None = None
        self.data: bytes | None = None
        self.loaded = False
        self.held = False


class Reader:
    """Streams a range of a body: seeks the manifest, reads ahead, verifies."""

    def __init__(self, blobs: BlobStore, data_id: bytes, first: int, last: int) -> None:
        self.b = blobs
        self.data_id = data_id
        self.first = first
        self.last = last

    def open(self) -> Iterator[bytes]:
        """Check that the body exists; return its (lazy) stream of verified pieces.

        Raises DataGone when the body's record is gone, DataCorruption when its
        manifest has no entry for byte 0. Nothing is read until the first ``next``.
        """
        self._ticket = self.b.leases.enter(writer=False)
        try:
            self._protected(self._ticket, first=True)
            with self.b.meta.begin() as txn:
                segment = first_segment_key(txn, self.data_id, self.first)
            if segment is not None:
                return _Stream(self._composite(segment), self)
            start = self._start_key()
        except BaseException:
            self.b.leases.leave(self._ticket)
            raise
        return _Stream(self._iterate(start), self)

    def _protected(self, t: Ticket, *, first: bool) -> None:
        """Is the body safe from gc under ticket ``t``? Raises if it is not."""
        with self.b.meta.begin() as txn:
            raw = txn.get(keyspace.DATA + self.data_id)
            dead = txn.get(keyspace.DEAD + self.data_id)
        gone = raw is None
        if not gone and dead is not None and DATA_REC.unpack(raw)[2] == STATE_DEAD:  # type: ignore[arg-type]
            died = DEAD_REC.unpack(dead)[0] if len(dead) == DEAD_REC.size else 0
            gone = died < t.gen  # died before the ticket: gc may drop it any time
        if gone:
            if first:
                raise DataGone(self.data_id.hex())
            raise InternalError(
                "the object was deleted while this body sat unread longer than the "
                "lease; open it again"
            )

    def _pause(self) -> None:
        """Handing a piece to the caller: idle from now until it asks for more."""
        self._ticket.busy = 0
        self._ticket.active_ns = self.b.leases.clock()

    def _resume(self) -> None:
        """Back from the caller: renew, or re-register if the ticket expired meanwhile."""
        leases = self.b.leases
        t = self._ticket
        if not t.expired:
            t.busy = 1
            leases.touch(t)
            return
        leases.leave(t)
        self._ticket = leases.enter(writer=False)
        self._ticket.busy = 1
        self._protected(self._ticket, first=False)

    def leave(self) -> None:
        self.b.leases.leave(self._ticket)

    def _start_key(self) -> bytes:
        with self.b.meta.begin() as txn:
            if txn.get(keyspace.DATA + self.data_id) is None:
                raise DataGone(self.data_id.hex())
            # The chunk holding `first` is the last entry whose offset <= first.
            prefix = keyspace.MANIFEST + self.data_id
            for key, _ in txn.scan_reverse(prefix, mkey(self.data_id, self.first + 1)):
                return key
        raise DataCorruption(f"manifest of {self.data_id.hex()} has no entry for byte 0")

    def _entries(self, cursor: bytes) -> Iterator[tuple[int, ChunkId, int]]:
        prefix = keyspace.MANIFEST + self.data_id
        while True:
            # A short read transaction per batch: long readers pin LMDB pages.
            with self.b.meta.begin() as txn:
                batch = []
                for key, value in scan_prefix(txn, prefix, cursor):
                    batch.append((int.from_bytes(key[-8:], "big"), value))
                    if len(batch) >= READ_BATCH:
                        break
            if not batch:
                return
            for off, value in batch:
                if off > self.last:
                    return
                yield off, ChunkId(value[:32]), LEN.unpack_from(value, 32)[0]
            if len(batch) < READ_BATCH:
                return
            cursor = mkey(self.data_id, batch[-1][0] + 1)

    def _fetch(self, cid: ChunkId, length: int) -> bytes:
        # One copy, from the page cache straight into the bytes handed to the
        # caller (who may keep them, so a reused buffer would cost a second copy).
        return fetch_verified(self.b, cid, length)

    def _take(self, item: _Ahead) -> bytes:
        """The chunk's verified bytes: from its read-ahead, or fetched here."""
        if self.b.local_reads:
            return self._take_local(item)
        fut, item.fut = item.fut, None
        if fut is None:
            return self._fetch(item.cid, item.length)
        try:
            if fut.cancel():  # no I/O thread got to it: do not wait for one
                return self._fetch(item.cid, item.length)
            return fut.result()
        finally:
            self.b.read_budget.give(item.length)

    def _schedule(self, ahead: deque[_Ahead]) -> None:
        """Start read-ahead of the entries after the next one, as the budget allows."""
        if self.b.local_reads:
            self._read_ahead(ahead)
            return
        budget = self.b.read_budget
        for i, item in enumerate(ahead):
            if i and item.fut is None:
                if not budget.try_take(item.length):
                    return
                item.fut = self.b.io.submit(self._fetch, item.cid, item.length)

    # A local chunk store's reads are copies from the page cache, so the reader makes
    # them itself and only the hashing goes to the I/O threads: bytes handed to the
    # caller are then allocated (and, once the caller drops them, freed) by one thread.
    # Allocated on an I/O thread and freed on the caller's, the 4 MiB buffers kept
    # getting fresh pages from the kernel (measured: 40,000-100,000 page faults and up
    # to 0.15 core-s per GiB, more than the copy itself; read on the thread that
    # frees them, ~15,000; docs/performance.md, "Large GET and PUT on two cores").

    def _read_ahead(self, ahead: deque[_Ahead]) -> None:
        """Read the next entry and those after it (as the budget allows) and start hashing
        each on an I/O thread, so the reader copies chunk N+1 while chunk N is hashed."""
        budget = self.b.read_budget
        for i, item in enumerate(ahead):
            if item.loaded:
                continue
            if i:
                if not budget.try_take(item.length):
                    return
                item.held = True
            self._load(item)
            if item.data is not None:
                item.fut = self.b.io.submit(chunk_digest, item.data)

    def _load(self, item: _Ahead) -> None:
        item.loaded = True
        try:
            item.data = self.b.chunks.get(item.cid)
        except ChunkMissing:
            item.data = None  # refetch() tells a lost chunk from a collected one
        except ServiceUnavailable:
            raise
        except ObjstoreError:
            item.data = None  # refused alone (EIO, a directory): refetch() flags it

    def _take_local(self, item: _Ahead) -> bytes:
        if not item.loaded:
            self._load(item)
        data, fut = item.data, item.fut
        item.data = item.fut = None
        try:
            if data is None:
                digest = None
            elif fut is None or fut.cancel():  # no I/O thread got to it: hash it here
                digest = chunk_digest(data)
            else:
                digest = fut.result()
        finally:
            if item.held:
                item.held = False
                self.b.read_budget.give(item.length)
        if data is not None and len(data) == item.length and digest == item.cid:
            return data
        return refetch(self.b, item.cid, item.length)

    def _release(self, ahead: deque[_Ahead]) -> None:
        """Cancel the read-ahead still queued, wait for what runs, return its budget."""
        for item in ahead:
            if item.fut is not None:
                item.fut.cancel()
        for item in ahead:
            fut, item.fut, item.data = item.fut, None, None
            if fut is not None and not fut.cancelled():
                with suppress(Exception):
                    fut.result()
            if self.b.local_reads:
                if item.held:
                    item.held = False
                    self.b.read_budget.give(item.length)
            elif fut is not None:
                self.b.read_budget.give(item.length)
        ahead.clear()

    def _iterate(self, start_key: bytes) -> Iterator[bytes]:
        try:
            self._resume()
            yield from self._chunks(start_key, self)
        finally:
            self.leave()

    def _composite(self, segment: bytes) -> Iterator[bytes]:
        try:
            self._resume()
            walk = walk_segments(self.b.meta, self.data_id, segment, self.last)
            for off, (sub, sub_off, n) in walk:
                lo = max(self.first, off) - off
                hi = min(self.last, off + n - 1) - off
                if hi < lo:
                    continue
                part = Reader(self.b, sub, sub_off + lo, sub_off + hi)
                try:
                    start = part._start_key()
                except DataGone:
                    # The composite holds a reference on it: missing means lost.
                    raise DataCorruption(
                        f"part body {sub.hex()} of {self.data_id.hex()} is missing"
                    ) from None
                yield from part._chunks(start, self)
        finally:
            self.leave()

    def _chunks(self, start_key: bytes, owner: Reader) -> Iterator[bytes]:
        """This body's pieces from ``start_key`` on, read under ``owner``'s ticket."""
        ahead: deque[_Ahead] = deque()
        entries = self._entries(start_key)
        depth = max(1, self.b.read_depth)
        exhausted = False
        # The reader reads local chunks one at a time: the kernel fetches the next ones
        # from the device meanwhile (a just-uploaded object is not in the page cache).
        prefetch = getattr(self.b.chunks, "prefetch", None) if self.b.local_reads else None
        try:
            while True:
                while not exhausted and len(ahead) < depth:
                    try:
                        off, cid, length = next(entries)
                    except StopIteration:
                        exhausted = True
                        break
                    ahead.append(_Ahead(off, cid, length))
                    if prefetch is not None:
                        prefetch(cid)
                if not ahead:
                    return
                self._schedule(ahead)
                item = ahead.popleft()
                data = self._take(item)
                lo = max(0, self.first - item.off)
                hi = min(len(data), self.last - item.off + 1)
                if hi <= lo:
                    continue
                owner._pause()
                yield data if lo == 0 and hi == len(data) else data[lo:hi]  # whole: no copy
                owner._resume()
        finally:
            self._release(ahead)


class _Stream:
    """The reader's iterator; closing it (even unstarted) releases its lease ticket."""

    __slots__ = ("_gen", "_reader")

    def __init__(self, gen: Iterator[bytes], reader: Reader) -> None:
        self._gen = gen
        self._reader = reader

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> bytes:
        return next(self._gen)

    def close(self) -> None:
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()
        self._reader.leave()
