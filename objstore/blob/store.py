"""The blob layer: streams bytes into content-addressed chunks and back.

``BlobStore`` owns three things in the metadata store (prefixes from
:mod:`objstore.keyspace`): *data records* (one per stored body, shared by
copies through a reference count), *manifests* (offset -> chunk id, one entry
per chunk, so a range read seeks in O(log n)), and *chunk references* (how
many manifest entries name each chunk). It knows nothing of buckets, keys or
versions.

Ingest pipeline (one PUT): the body is cut into windows; in each window the
chunker finds boundaries, every chunk is hashed with BLAKE3 and, unless a
committed reference shows it is already stored, written by an I/O thread. MD5
(for S3's ETag) runs in its own thread over the same windows, so it overlaps
chunking and BLAKE3 instead of following them. Every ``batch_bytes`` the
written chunks are synced and their manifest entries committed as a *pending*
data record, so a 5 TB upload never holds its manifest in memory; the last
batch is committed inside the caller's namespace transaction, which makes the
object visible atomically.

Durability and races: a chunk reference is committed only after the chunk is
synced, so "referenced" implies "durable", and dedup trusts only references.
Writers hold a shared lock from the first chunk to their commit; garbage
collection holds it exclusively, so it never deletes a chunk that an
in-flight writer decided to reuse.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import blake3

from objstore import keyspace
from objstore.blob.chunker import Chunker, make_chunker
from objstore.blob.chunkstore import ChunkId, ChunkMissing, ChunkStore
from objstore.blob.locks import GcLock
from objstore.blob.source import BufferPool, _StreamWindows, windows_for
from objstore.errors import DataCorruption, EntityTooLarge, IncompleteBody, InternalError
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn

_DATA = struct.Struct("<QQB")  # refcount, size, state
_REF = struct.Struct("<Q")
_LEN = struct.Struct("<I")
_STATE_PENDING = 0
_STATE_LIVE = 1
_STATE_DEAD = 2  # no version uses it; readers that opened it earlier still may
_READ_BATCH = 64  # manifest entries per short read transaction


@dataclass(frozen=True, slots=True)
class BlobSettings:
    """How bodies are cut and stored."""

    chunking: str = "fixed"
    chunk_size: int = 4 << 20
    inline_threshold: int = 4096
    window_size: int = 16 << 20
    batch_bytes: int = 256 << 20
    etag_mode: str = "md5"  # "md5" (S3-exact) or "blake3"
    read_ahead: int = 4

    def __post_init__(self) -> None:
        if self.etag_mode not in ("md5", "blake3"):
            raise ValueError("etag_mode must be 'md5' or 'blake3'")
        chunker = make_chunker(self.chunking, self.chunk_size)
        if self.window_size < 2 * chunker.max_size:
            raise ValueError("window_size must hold at least two maximal chunks")


@dataclass(slots=True)
class Ingested:
    """A body that has been stored but is not yet referenced by any object."""

    size: int
    md5: bytes | None
    blake3: bytes
    inline: bytes | None
    data_id: bytes | None
    final_entries: list[tuple[int, ChunkId, int]] = field(default_factory=list)
    reused: set[ChunkId] = field(default_factory=set)
    has_pending_record: bool = False
    staged: bool = False
    finished: bool = False
    release_lock: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a garbage collection removed."""

    chunks_deleted: int
    pending_uploads_released: int


class DataGone(LookupError):
    """The data record vanished (its object was deleted concurrently)."""


def _mkey(data_id: bytes, offset: int) -> bytes:
    return keyspace.MANIFEST + data_id + offset.to_bytes(8, "big")


class BlobStore:
    """Chunked, deduplicated, verified storage of bodies."""

    def __init__(
        self,
        chunks: ChunkStore,
        meta: MetadataStore,
        settings: BlobSettings,
        lock: GcLock,
    ) -> None:
        self.chunks = chunks
        self.meta = meta
        self.settings = settings
        self.chunker: Chunker = make_chunker(settings.chunking, settings.chunk_size)
        self._lock = lock
        # I/O threads: chunk writes on ingest, read-ahead with verification on reads.
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="objstore-io")
        self._held = threading.local()
        # Enough reused window buffers for one streaming upload's ring, plus one.
        self.buffers = BufferPool(settings.window_size, keep=4)

    def close(self) -> None:
        self._io.shutdown(wait=True)

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        body: object,
        *,
        content_length: int | None,
        max_size: int,
    ) -> Ingested:
        """Store ``body``; the caller then commits or abandons the result.

        Raises EntityTooLarge past ``max_size``, IncompleteBody / InvalidRequest
        when ``content_length`` disagrees with the body, InvalidArgument for a
        body of the wrong type. On any error nothing stays referenced.
        """
        if content_length is not None and content_length > max_size:
            raise EntityTooLarge(
                f"declared size {content_length} exceeds the limit of {max_size} bytes",
                max_size=max_size,
            )
        limit = max_size if content_length is None else content_length
        windows = windows_for(body, self.settings.window_size, self.buffers)
        try:
            first = windows.next(0)
            if windows.exhausted() and len(first) <= self.settings.inline_threshold:
                data = bytes(first)
                windows.close()
                return self._ingest_inline(data, content_length, max_size)
        except BaseException:
            windows.close()
            raise
        job = _IngestJob(self, windows, limit, content_length, max_size)
        if getattr(self._held, "active", False):
            # The caller holds the lock for a whole batch (see `hold_shared`).
            try:
                job.run(first)
            except BaseException:
                job.abort()
                raise
            return job.result
        # Held until the object is committed or abandoned (see `stored`): gc
        # must not collect chunks this upload reuses or its pending record.
        lock = self._lock.shared()
        lock.__enter__()
        try:
            job.run(first)
        except BaseException:
            try:
                job.abort()
            finally:
                lock.__exit__(None, None, None)
            raise

        def release() -> None:
            lock.__exit__(None, None, None)

        job.result.release_lock = release
        return job.result

    @contextmanager
    def hold_shared(self) -> Iterator[None]:
        """Hold the gc lock once for many ingests made by this thread (``put_objects``).

        Without it each staged upload would hold a lock descriptor of its own
        until the batch commits, and a large batch would exhaust descriptors.
        """
        if getattr(self._held, "active", False):
            yield
            return
        with self._lock.shared():
            self._held.active = True
            try:
                yield
            finally:
                self._held.active = False

    @contextmanager
    def stored(
        self, body: object, *, content_length: int | None, max_size: int
    ) -> Iterator[Ingested]:
        """Ingest ``body``; the block must call :meth:`commit` inside its transaction.

        If the block raises (or never commits), everything stored is released.
        """
        ing = self.ingest(body, content_length=content_length, max_size=max_size)
        ok = False
        try:
            yield ing
            ok = ing.staged
        finally:
            try:
                if not ok:
                    self.abandon(ing)
            finally:
                if ing.release_lock is not None:
                    ing.release_lock()
                    ing.release_lock = None

    def _ingest_inline(self, data: bytes, content_length: int | None, max_size: int) -> Ingested:
        _check_length(len(data), content_length, max_size)
        md5 = hashlib.md5(data).digest() if self.settings.etag_mode == "md5" else None
        return Ingested(
            size=len(data),
            md5=md5,
            blake3=blake3.blake3(data).digest(),
            inline=data,
            data_id=None,
        )

    def commit(self, txn: WriteTxn, ing: Ingested) -> None:
        """Make ``ing`` a live data record inside the caller's transaction."""
        ing.staged = True
        if ing.data_id is None:
            return
        _apply_entries(txn, ing.data_id, ing.final_entries, ing.reused)
        txn.put(keyspace.DATA + ing.data_id, _DATA.pack(1, ing.size, _STATE_LIVE))
        txn.delete(keyspace.PENDING + ing.data_id)

    def abandon(self, ing: Ingested) -> None:
        """Release what ``ingest`` stored when its object was not committed."""
        if ing.finished or ing.data_id is None:
            return
        ing.finished = True
        if ing.has_pending_record:
            with self.meta.begin_write() as txn:
                self._drop_data(txn, ing.data_id)
                txn.delete(keyspace.PENDING + ing.data_id)

    # --------------------------------------------------------------- references

    def add_ref(self, txn: WriteTxn, data_id: bytes) -> None:
        """One more object version shares ``data_id`` (a copy)."""
        raw = txn.get(keyspace.DATA + data_id)
        if raw is None:
            raise DataGone(data_id.hex())
        ref, size, state = _DATA.unpack(raw)
        txn.put(keyspace.DATA + data_id, _DATA.pack(ref + 1, size, state))

    def release(self, txn: WriteTxn, data_id: bytes) -> None:
        """One object version no longer uses ``data_id``.

        At zero the body is only marked dead: its manifest stays until ``gc``
        (which cannot run while readers are active), so a body opened before
        the delete still reads whole, and deleting a 5 TB object costs O(1).
        """
        raw = txn.get(keyspace.DATA + data_id)
        if raw is None:
            return
        ref, size, state = _DATA.unpack(raw)
        if ref > 1:
            txn.put(keyspace.DATA + data_id, _DATA.pack(ref - 1, size, state))
            return
        txn.put(keyspace.DATA + data_id, _DATA.pack(0, size, _STATE_DEAD))
        txn.put(keyspace.DEAD + data_id, b"")

    def _drop_data(self, txn: WriteTxn, data_id: bytes) -> None:
        start = keyspace.MANIFEST + data_id
        entries = list(txn.scan(start, start + b"\xff" * 9))
        counts: Counter[bytes] = Counter(v[:32] for _, v in entries)
        for key, _ in entries:
            txn.delete(key)
        for cid, n in counts.items():
            ckey = keyspace.CHUNKREF + cid
            raw = txn.get(ckey)
            if raw is None:
                continue
            (ref,) = _REF.unpack(raw)
            # Zero-reference entries stay until gc(): the chunk may be reused first.
            txn.put(ckey, _REF.pack(max(0, ref - n)))
        txn.delete(keyspace.DATA + data_id)

    # --------------------------------------------------------------------- read

    def read(self, data_id: bytes, first: int, last: int) -> Iterator[bytes]:
        """Yield the bytes ``first..last`` (inclusive) of a stored body, verified.

        Raises DataCorruption when a chunk is missing or does not match its
        hash, DataGone when the body was deleted before reading started.
        """
        return _Reader(self, data_id, first, last).iterate()

    def data_exists(self, txn: ReadTxn, data_id: bytes) -> bool:
        return txn.get(keyspace.DATA + data_id) is not None

    # ---------------------------------------------------------------------- gc

    def gc(self, *, timeout: float | None = None) -> GcResult:
        """Delete unreferenced chunks and the leftovers of crashed uploads.

        Waits (up to ``timeout`` seconds) until no writer or reader is active.
        Raises InternalError if the store stays busy past ``timeout``.
        """
        with self._lock.exclusive(timeout=timeout):
            released = 0
            with self.meta.begin_write() as txn:
                # Bodies no version uses: no reader is active now, so they can go.
                dead = [k for k, _ in txn.scan(keyspace.DEAD, keyspace.DEAD + b"\xff")]
                for key in dead:
                    self._drop_data(txn, key[1:])
                    txn.delete(key)
            with self.meta.begin_write() as txn:
                # No writer runs now, in any process: every pending record is a crash leftover.
                pend = [k for k, _ in txn.scan(keyspace.PENDING, keyspace.PENDING + b"\xff")]
                for key in pend:
                    self._drop_data(txn, key[1:])
                    txn.delete(key)
                    released += 1
            doomed: list[ChunkId] = []
            with self.meta.begin_write() as txn:
                for key, value in list(txn.scan(keyspace.CHUNKREF, keyspace.CHUNKREF + b"\xff")):
                    if _REF.unpack(value)[0] == 0:
                        doomed.append(ChunkId(key[1:]))
                        txn.delete(key)
            # The references are gone (committed) before the files: a crash in
            # between leaves only unreferenced files, never a dangling reference.
            self.chunks.delete_many(doomed)
            referenced: set[bytes] = set()
            with self.meta.begin() as rtxn:
                for key, _ in rtxn.scan(keyspace.CHUNKREF, keyspace.CHUNKREF + b"\xff"):
                    referenced.add(key[1:])
            orphans = [c for c in self.chunks.iter_ids() if c not in referenced]
            self.chunks.delete_many(orphans)
            return GcResult(len(doomed) + len(orphans), released)


def _check_length(size: int, content_length: int | None, max_size: int) -> None:
    if size > max_size and (content_length is None or content_length > max_size):
        raise EntityTooLarge(f"body exceeds the limit of {max_size} bytes", max_size=max_size)
    if content_length is not None and size != content_length:
        if size < content_length:
            raise IncompleteBody(f"received {size} bytes, content_length declared {content_length}")
        raise IncompleteBody(
            f"received more than the declared content_length of {content_length} bytes"
        )


def _apply_entries(
    txn: WriteTxn,
    data_id: bytes,
    entries: list[tuple[int, ChunkId, int]],
    reused: set[ChunkId],
) -> None:
    txn.put_many((_mkey(data_id, off), cid + _LEN.pack(n)) for off, cid, n in entries)
    counts: Counter[ChunkId] = Counter(cid for _, cid, _ in entries)
    for cid, n in counts.items():
        ckey = keyspace.CHUNKREF + cid
        raw = txn.get(ckey)
        if raw is None:
            if cid in reused:
                # Cannot happen while writers hold the shared gc lock; fail loudly
                # rather than reference bytes that may be gone.
                raise InternalError("a reused chunk lost its reference during the upload")
            ref = 0
        else:
            (ref,) = _REF.unpack(raw)
        txn.put(ckey, _REF.pack(ref + n))


class _IngestJob:
    """One streaming ingest; see the module docstring for the pipeline."""

    def __init__(
        self,
        blobs: BlobStore,
        windows: Any,
        limit: int,
        content_length: int | None,
        max_size: int,
    ) -> None:
        self.b = blobs
        self.windows = windows
        self.limit = limit
        self.content_length = content_length
        self.max_size = max_size
        self.data_id = os.urandom(16)
        self.md5 = hashlib.md5() if blobs.settings.etag_mode == "md5" else None
        self.whole = blake3.blake3()
        # Whole-stream hashes keep stream order, so each gets one thread of its
        # own: MD5 (the slowest step, ~0.6 GB/s) then runs beside everything
        # else. Bodies that fit one window hash inline (no threads to start).
        self.hasher: ThreadPoolExecutor | None = None
        self.b3_hasher: ThreadPoolExecutor | None = None
        self.hash_futures: dict[int, list[Future[None]]] = {}
        # Chunk tasks (hash + dedup check + write) by window buffer, and in stream order.
        self.write_futures: dict[int, list[Future[tuple[ChunkId, bool]]]] = {}
        self.pending: list[tuple[int, int, Future[tuple[ChunkId, bool]]]] = []
        self.seen_lock = threading.Lock()
        self.batch: list[tuple[int, ChunkId, int]] = []
        self.batch_bytes = 0
        self.batch_seen: set[ChunkId] = set()
        self.reused: set[ChunkId] = set()
        self.wrote_any = False
        self.committed_batches = False
        self.committer: ThreadPoolExecutor | None = None
        self.commits: list[Future[None]] = []
        self.result: Ingested
        if isinstance(windows, _StreamWindows):
            windows.on_reuse = self._wait_buffer

    def _hashers(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        if self.hasher is None or self.b3_hasher is None:
            self.hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="objstore-md5")
            self.b3_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="objstore-b3")
        return self.hasher, self.b3_hasher

    def _stop_hashers(self) -> None:
        for pool in (self.hasher, self.b3_hasher):
            if pool is not None:
                pool.shutdown(wait=True)

    def _hash_whole(self, data: memoryview) -> None:
        self.whole.update(data)

    def _wait_buffer(self, index: int) -> None:
        for fut in self.hash_futures.pop(index, []):
            fut.result()
        for w in self.write_futures.pop(index, []):
            w.result()

    def _wait_all(self) -> None:
        for index in list(self.hash_futures) + list(self.write_futures):
            self._wait_buffer(index)

    def run(self, window: memoryview) -> None:
        pos = 0  # stream offset of window[0]
        hashed = 0  # bytes already fed to the whole-object hashes
        chunker = self.b.chunker
        submit = self.b._io.submit
        store_piece = self._store_piece
        while True:
            final = self.windows.exhausted()
            end = pos + len(window)
            if end > self.limit:
                self._too_much(end)
            new = window[hashed - pos :]
            index = getattr(self.windows, "buffer_index", 0)
            if len(new):
                if final and self.hasher is None:
                    if self.md5 is not None:
                        self.md5.update(new)
                    self.whole.update(new)
                else:
                    md5_pool, b3_pool = self._hashers()
                    futs = self.hash_futures.setdefault(index, [])
                    if self.md5 is not None:
                        futs.append(md5_pool.submit(self.md5.update, new))
                    futs.append(b3_pool.submit(self._hash_whole, new))
                hashed = end
            start = 0
            tasks = self.write_futures.setdefault(index, [])
            # This thread only cuts; naming, dedup and writing run on the I/O
            # threads, so the chunker (which holds the GIL) is the only serial step.
            for cut in chunker.cuts(window, final):
                fut = submit(store_piece, window[start:cut])
                tasks.append(fut)
                self.pending.append((pos + start, cut - start, fut))
                self.batch_bytes += cut - start
                start = cut
            pos += start
            if final:
                break
            if self.batch_bytes >= self.b.settings.batch_bytes:
                self._commit_batch()
            window = self.windows.next(pos)
        self._wait_all()
        self._drain()
        self._wait_commits()
        size = pos
        _check_length(size, self.content_length, self.max_size)
        if self.wrote_any:
            self.b.chunks.sync()
        self._stop_hashers()
        self.windows.close()
        self.result = Ingested(
            size=size,
            md5=self.md5.digest() if self.md5 is not None else None,
            blake3=self.whole.digest(),
            inline=None,
            data_id=self.data_id,
            final_entries=self.batch,
            reused=self.reused,
            has_pending_record=self.committed_batches,
        )

    def _too_much(self, end: int) -> None:
        if self.content_length is not None and self.content_length <= self.max_size:
            raise IncompleteBody(
                f"received more than the declared content_length of {self.content_length} bytes"
            )
        raise EntityTooLarge(
            f"body exceeds the limit of {self.max_size} bytes", max_size=self.max_size
        )

    def _store_piece(self, piece: memoryview) -> tuple[ChunkId, bool]:
        """On an I/O thread: name a chunk and store it unless it already is.

        Returns ``(chunk id, reused)``; reused means a committed reference
        already vouches for the stored bytes, so nothing was written.
        """
        cid = ChunkId(blake3.blake3(piece).digest())
        with self.b.meta.begin() as txn:
            if txn.get(keyspace.CHUNKREF + cid) is not None:
                return cid, True
        with self.seen_lock:
            if cid in self.batch_seen:
                return cid, False  # written (or being written) earlier in this batch
            self.batch_seen.add(cid)
            self.wrote_any = True
        self.b.chunks.put(cid, piece)
        return cid, False

    def _drain(self) -> None:
        """Turn finished chunk tasks, in stream order, into manifest entries."""
        for off, n, fut in self.pending:
            cid, reused = fut.result()
            if reused:
                self.reused.add(cid)
            self.batch.append((off, cid, n))
        self.pending = []

    def _commit_batch(self) -> None:
        # Only this batch's chunk *writes* must be done; syncing and committing
        # then run on the committer thread, so reading, hashing and writing the
        # next batch overlap the disk flush (MD5 would otherwise idle).
        for index in list(self.write_futures):
            for w in self.write_futures.pop(index):
                w.result()
        self._drain()
        batch, reused, wrote = self.batch, self.reused, self.wrote_any
        self.batch = []
        self.batch_bytes = 0
        self.batch_seen = set()
        self.reused = set()
        self.wrote_any = False
        if self.committer is None:
            self.committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="objstore-commit")
        self.commits.append(self.committer.submit(self._commit, batch, reused, wrote))

    def _commit(
        self, batch: list[tuple[int, ChunkId, int]], reused: set[ChunkId], wrote: bool
    ) -> None:
        """Runs on the committer thread, one batch at a time, in order."""
        if wrote:
            self.b.chunks.sync()  # chunks durable before the references that name them
        with self.b.meta.begin_write() as txn:
            if not self.committed_batches:
                txn.put(keyspace.DATA + self.data_id, _DATA.pack(1, 0, _STATE_PENDING))
                txn.put(keyspace.PENDING + self.data_id, b"")
            _apply_entries(txn, self.data_id, batch, reused)
        self.committed_batches = True

    def _wait_commits(self) -> None:
        """Wait for every batch commit; re-raise the first failure."""
        commits, self.commits = self.commits, []
        if self.committer is not None:
            self.committer.shutdown(wait=True)
            self.committer = None
        for fut in commits:
            fut.result()

    def abort(self) -> None:
        with suppress(BaseException):  # the original error is what matters
            self._wait_all()
        with suppress(BaseException):
            self._wait_commits()
        self._stop_hashers()
        self.windows.close()
        if self.committed_batches:
            with self.b.meta.begin_write() as txn:
                self.b._drop_data(txn, self.data_id)
                txn.delete(keyspace.PENDING + self.data_id)


class _Reader:
    """Streams a range of a body: seeks the manifest, reads ahead, verifies."""

    def __init__(self, blobs: BlobStore, data_id: bytes, first: int, last: int) -> None:
        self.b = blobs
        self.data_id = data_id
        self.first = first
        self.last = last

    def _entries(self) -> Iterator[tuple[int, ChunkId, int]]:
        prefix = keyspace.MANIFEST + self.data_id
        with self.b.meta.begin() as txn:
            if txn.get(keyspace.DATA + self.data_id) is None:
                raise DataGone(self.data_id.hex())
            # The chunk holding `first` is the last entry whose offset <= first.
            start_key = None
            for key, _ in txn.scan_reverse(prefix, _mkey(self.data_id, self.first + 1)):
                start_key = key
                break
        if start_key is None:
            raise DataCorruption(f"manifest of {self.data_id.hex()} has no entry for byte 0")
        cursor = start_key
        while True:
            # A short read transaction per batch: long readers pin LMDB pages.
            with self.b.meta.begin() as txn:
                batch = []
                for key, value in txn.scan(cursor, prefix + b"\xff" * 9):
                    batch.append((int.from_bytes(key[-8:], "big"), value))
                    if len(batch) >= _READ_BATCH:
                        break
            if not batch:
                return
            for off, value in batch:
                if off > self.last:
                    return
                yield off, ChunkId(value[:32]), _LEN.unpack_from(value, 32)[0]
            if len(batch) < _READ_BATCH:
                return
            cursor = _mkey(self.data_id, batch[-1][0] + 1)

    def _fetch(self, cid: ChunkId, length: int) -> bytes:
        try:
            data = self.b.chunks.get(cid)
        except ChunkMissing:
            raise DataCorruption(f"chunk {cid.hex()} is missing", chunk=cid.hex()) from None
        if len(data) != length or blake3.blake3(data).digest() != cid:
            raise DataCorruption(f"chunk {cid.hex()} does not match its hash", chunk=cid.hex())
        return data

    def iterate(self) -> Iterator[bytes]:
        with self.b._lock.shared():
            ahead: list[tuple[int, Future[bytes]]] = []
            entries = self._entries()
            depth = max(1, self.b.settings.read_ahead)
            try:
                exhausted = False
                while True:
                    while not exhausted and len(ahead) < depth:
                        try:
                            off, cid, length = next(entries)
                        except StopIteration:
                            exhausted = True
                            break
                        ahead.append((off, self.b._io.submit(self._fetch, cid, length)))
                    if not ahead:
                        return
                    off, fut = ahead.pop(0)
                    data = fut.result()
                    lo = max(0, self.first - off)
                    hi = min(len(data), self.last - off + 1)
                    if lo == 0 and hi == len(data):
                        yield data  # whole chunk: no copy
                    elif hi > lo:
                        yield data[lo:hi]
            finally:
                for _, fut in ahead:
                    fut.cancel()
                for _, fut in ahead:
                    if not fut.cancelled():
                        with suppress(Exception):
                            fut.result()
