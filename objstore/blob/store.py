"""The blob layer's facade: streams bytes into content-addressed chunks and back.

Modules by job: :mod:`.records` (the metadata records), :mod:`.ingest` (the
upload pipeline), :mod:`.reader` (verified range reads), :mod:`.gc`
(collection); this module wires them and owns the I/O threads.

``BlobStore`` owns three things in the metadata store (prefixes from
:mod:`objstore.keyspace`): *data records* (one per stored body, shared by
copies through a reference count), *manifests* (offset -> chunk id, one entry
per chunk, so a range read seeks in O(log n)), and *chunk references* (how
many manifest entries name each chunk). It knows nothing of buckets, keys or
versions.

The upload pipeline and the durability rules are described in :mod:`.ingest`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import blake3

from objstore import keyspace
from objstore.blob.chunker import Chunker, make_chunker
from objstore.blob.chunkstore import ChunkStore
from objstore.blob.gc import GcResult, collect
from objstore.blob.ingest import Ingested, IngestJob, check_length
from objstore.blob.locks import GcLock
from objstore.blob.reader import ReadAheadBudget, Reader
from objstore.blob.records import (
    DATA_REC,
    STATE_DEAD,
    STATE_LIVE,
    DataGone,
    apply_entries,
    drop_data,
)
from objstore.blob.source import BufferPool, windows_for
from objstore.errors import EntityTooLarge
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn

__all__ = ["BlobSettings", "BlobStore", "DataGone", "GcResult", "Ingested"]


@dataclass(frozen=True, slots=True)
class BlobSettings:
    """How bodies are cut and stored."""

    chunking: str = "fixed"
    chunk_size: int = 4 << 20
    inline_threshold: int = 4096
    window_size: int = 16 << 20
    batch_bytes: int = 256 << 20
    etag_mode: str = "md5"  # "md5" (S3-exact) or "blake3"
    read_ahead: int = 4  # chunks one reader fetches ahead of what it returns
    read_ahead_bytes: int = 64 << 20  # read-ahead all readers of the store hold at most

    def __post_init__(self) -> None:
        if self.etag_mode not in ("md5", "blake3"):
            raise ValueError("etag_mode must be 'md5' or 'blake3'")
        chunker = make_chunker(self.chunking, self.chunk_size)
        if self.window_size < 2 * chunker.max_size:
            raise ValueError("window_size must hold at least two maximal chunks")


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
        self.lock = lock
        # I/O threads: chunk writes on ingest, read-ahead with verification on reads.
        self.io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="objstore-io")
        self.read_budget = ReadAheadBudget(settings.read_ahead_bytes)
        self._held = threading.local()
        # Enough reused window buffers for one streaming upload's ring, plus one.
        self.buffers = BufferPool(settings.window_size, keep=4)

    def close(self) -> None:
        self.io.shutdown(wait=True)

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
        job = IngestJob(self, windows, limit, content_length, max_size)
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
        lock = self.lock.shared()
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
        with self.lock.shared():
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
        check_length(len(data), content_length, max_size)
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
        apply_entries(txn, ing.data_id, ing.final_entries, ing.reused)
        txn.put(keyspace.DATA + ing.data_id, DATA_REC.pack(1, ing.size, STATE_LIVE))
        txn.delete(keyspace.PENDING + ing.data_id)

    def abandon(self, ing: Ingested) -> None:
        """Release what ``ingest`` stored when its object was not committed."""
        if ing.finished or ing.data_id is None:
            return
        ing.finished = True
        if ing.has_pending_record:
            with self.meta.begin_write() as txn:
                drop_data(txn, ing.data_id)
                txn.delete(keyspace.PENDING + ing.data_id)

    # --------------------------------------------------------------- references

    def add_ref(self, txn: WriteTxn, data_id: bytes) -> None:
        """One more object version shares ``data_id`` (a copy)."""
        raw = txn.get(keyspace.DATA + data_id)
        if raw is None:
            raise DataGone(data_id.hex())
        ref, size, state = DATA_REC.unpack(raw)
        txn.put(keyspace.DATA + data_id, DATA_REC.pack(ref + 1, size, state))

    def release(self, txn: WriteTxn, data_id: bytes) -> None:
        """One object version no longer uses ``data_id``.

        At zero the body is only marked dead: its manifest stays until ``gc``
        (which cannot run while readers are active), so a body opened before
        the delete still reads whole, and deleting a 5 TB object costs O(1).
        """
        raw = txn.get(keyspace.DATA + data_id)
        if raw is None:
            return
        ref, size, state = DATA_REC.unpack(raw)
        if ref > 1:
            txn.put(keyspace.DATA + data_id, DATA_REC.pack(ref - 1, size, state))
            return
        txn.put(keyspace.DATA + data_id, DATA_REC.pack(0, size, STATE_DEAD))
        txn.put(keyspace.DEAD + data_id, b"")

    # --------------------------------------------------------------------- read

    def read(self, data_id: bytes, first: int, last: int) -> Iterator[bytes]:
        """The bytes ``first..last`` (inclusive) of a stored body, verified, as a stream.

        Raises DataGone now when the body was deleted before the call; nothing
        is read (and no read-ahead held) until the stream's first ``next``.
        Iterating raises DataCorruption when a chunk is missing or does not
        match its hash.
        """
        return Reader(self, data_id, first, last).open()

    def data_exists(self, txn: ReadTxn, data_id: bytes) -> bool:
        return txn.get(keyspace.DATA + data_id) is not None

    # ---------------------------------------------------------------------- gc

    def gc(self, *, timeout: float | None = None) -> GcResult:
        """Delete unreferenced chunks and the leftovers of crashed uploads (see :mod:`.gc`).

        Raises InternalError if the store stays busy past ``timeout``.
        """
        return collect(self, timeout=timeout)
