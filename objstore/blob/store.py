"""The blob layer's facade: streams bytes into content-addressed chunks and back.

Modules by job: :mod:`.records` (the metadata records), :mod:`.ingest` (the
upload pipeline), :mod:`.reader` (verified range reads), :mod:`.leases`
(what gc must keep for running writers and readers), :mod:`.gc` (collection),
:mod:`.quarantine` (bad chunks), :mod:`.fsck` (checks); this module wires them
and owns the I/O threads.

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
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import blake3

from objstore import keyspace
from objstore.blob.binding import check_bound
from objstore.blob.chunker import Chunker, make_chunker
from objstore.blob.chunkstore import ChunkId, ChunkStore
from objstore.blob.compose import check_shareable, segments_in
from objstore.blob.gc import DEFAULT_BATCH, GcResult, Stranded, collect, finish_stranded
from objstore.blob.ingest import (
    Ingested,
    IngestJob,
    check_length,
    extra_digests,
    extra_hashers,
    release_failed,
)
from objstore.blob.leases import Leases
from objstore.blob.reader import ReadAheadBudget, Reader
from objstore.blob.records import (
    DATA_REC,
    STATE_LIVE,
    DataGone,
    adjust_refs,
    apply_entries,
    check_not_flagged,
)
from objstore.blob.source import BufferPool, windows_for
from objstore.errors import EntityTooLarge
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn

__all__ = ["BlobSettings", "BlobStore", "DataGone", "GcResult", "GcSettings", "Ingested"]


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


MAX_LEASE_TTL = 86_400.0


@dataclass(frozen=True, slots=True)
class GcSettings:
    """How gc and its leases behave (per store handle; see :mod:`.leases`).

    ``lease_ttl``: a handle, writer or reader silent this long (seconds) loses
    its protection (a stalled upload then fails with ServiceUnavailable, an
    idle reader re-checks its body). ``clock_skew``: the largest difference
    between the clocks of the handles sharing the store and the file system's
    timestamps. ``interval``: seconds between background passes (None: none).
    """

    lease_ttl: float = 600.0
    clock_skew: float = 0.05
    interval: float | None = 300.0
    batch: int = DEFAULT_BATCH
    orphan_every: int = 12  # background passes between walks of every chunk file

    def __post_init__(self) -> None:
        # A lease records its ttl in whole nanoseconds (8 bytes), and a crashed node's lease
        # holds gc back for that long: at most a day.
        if not 0 < self.lease_ttl <= MAX_LEASE_TTL or self.clock_skew < 0 or self.batch < 1:
            raise ValueError(
                f"lease_ttl must be > 0 and <= {MAX_LEASE_TTL:g} s, clock_skew >= 0, batch >= 1"
            )
        if self.interval is not None and not self.interval > 0:
            raise ValueError("gc_interval must be a positive number of seconds or None")


class BlobStore:
    """Chunked, deduplicated, verified storage of bodies."""

    def __init__(
        self,
        chunks: ChunkStore,
        meta: MetadataStore,
        settings: BlobSettings,
        *,
        gc: GcSettings | None = None,
        clock: Callable[[], int] = time.time_ns,
        bound: bytes | None = None,
    ) -> None:
        self.chunks = chunks
        #: The chunk binding this handle opened with (``blob/owner.py``): every commit
        #: naming chunks checks it is still the store's (:func:`.binding.check_bound`).
        self.bound = bound
        self.meta = meta
        self.settings = settings
        self.gc_settings = gc or GcSettings()
        self.chunker: Chunker = make_chunker(settings.chunking, settings.chunk_size)
        self.leases = Leases(
            meta,
            clock=clock,
            ttl_ns=int(self.gc_settings.lease_ttl * 1e9),
            skew_ns=int(self.gc_settings.clock_skew * 1e9),
        )
        # I/O threads: chunk writes on ingest, read-ahead with verification on reads. Two
        # keep a local disk busy; a chunk store across a network says how many transfers
        # it wants in flight (``io_concurrency``) to hide its latency: with two, objstore
        # on Ceph RGW stayed at 0.7 x RGW's own throughput (docs/scale-out.md, "Measured").
        wanted = getattr(chunks, "io_concurrency", None)
        workers = max(1, int(wanted)) if wanted else 2
        self.io = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="objstore-io")
        #: Chunks one reader fetches ahead (``settings.read_ahead``, raised to keep every
        #: I/O thread of such a store busy; ``read_ahead_bytes`` still bounds them all).
        self.read_depth = max(settings.read_ahead, workers) if wanted else settings.read_ahead
        #: Whether readers read chunks themselves and hash them on the I/O threads (a local
        #: store: a read is a copy from the page cache), or have the I/O threads fetch and
        #: verify them (a store across a network, or one that verifies its own reads).
        self.local_reads = not wanted and getattr(chunks, "get_verified", None) is None
        self.read_budget = ReadAheadBudget(settings.read_ahead_bytes)
        #: Chunks this handle is deleting right now (under ``unlinking_lock``): gc takes over
        #: this handle's own unfinished deletions (a failed upload's cleanup whose unlink
        #: failed) only when no thread of it is still at them.
        self.unlinking: set[ChunkId] = set()
        self.unlinking_lock = threading.Lock()
        #: This handle's deletions a failed unlink left behind, finished at its next write.
        self.stranded = Stranded()
        # Enough reused window buffers for one streaming upload's ring, plus one.
        self.buffers = BufferPool(settings.window_size, keep=4)

    def close(self) -> None:
        self.io.shutdown(wait=True)
        self.leases.close()

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        body: object,
        *,
        content_length: int | None,
        max_size: int,
        inline: bool = True,
        algorithms: tuple[str, ...] = (),
    ) -> Ingested:
        """Store ``body``; the caller then commits or abandons the result.

        With ``inline=False`` even a small body becomes a data record (multipart
        parts must be bodies a composite can reference). ``algorithms``: extra
        digests to compute on the way (S3 checksum names, or ``"MD5"``), in
        ``Ingested.checksums``.

        Raises EntityTooLarge past ``max_size``, IncompleteBody / InvalidRequest
        when ``content_length`` disagrees with the body, InvalidArgument for a
        body of the wrong type. On any error nothing stays referenced.
        """
        if content_length is not None and content_length > max_size:
            raise EntityTooLarge(
                f"declared size {content_length} exceeds the limit of {max_size} bytes",
                max_size=max_size,
            )
        finish_stranded(self)
        limit = max_size if content_length is None else content_length
        window = self.settings.window_size
        if content_length is not None:
            # A body declared smaller than a window gets a window of its size and a byte
            # more (to see a body running over it): when every pooled buffer is taken, a
            # new one then costs what the body needs, not 16 MiB of zero-filling and page
            # faults (~2 ms, more than the rest of a 4 KiB PUT). The extra byte, when it
            # comes, is refused before any chunk is cut.
            window = min(window, content_length + 1)
        windows = windows_for(body, window, self.buffers)
        try:
            first = windows.next(0)
            small = windows.exhausted() and len(first) <= self.settings.inline_threshold
            if inline and small:
                data = bytes(first)
                windows.close()
                return self._ingest_inline(data, content_length, max_size, algorithms)
        except BaseException:
            windows.close()
            raise
        job = IngestJob(self, windows, limit, content_length, max_size, algorithms)
        try:
            job.run(first)
        except BaseException:
            job.abort()
            raise
        return job.result

    @contextmanager
    def stored(
        self,
        body: object,
        *,
        content_length: int | None,
        max_size: int,
        inline: bool = True,
        algorithms: tuple[str, ...] = (),
    ) -> Iterator[Ingested]:
        """Ingest ``body``; the block must call :meth:`commit` inside its transaction.

        If the block raises (or never commits), everything stored is released.
        """
        ing = self.ingest(
            body,
            content_length=content_length,
            max_size=max_size,
            inline=inline,
            algorithms=algorithms,
        )
        try:
            yield ing
        finally:
            self.finish(ing)

    def finish(self, ing: Ingested) -> None:
        """After the commit (or instead of it): release the writer's lease ticket,
        and everything stored if the body was not committed."""
        try:
            if not ing.staged:
                self.abandon(ing)
        finally:
            if ing.ticket is not None:
                self.leases.leave(ing.ticket)
                ing.ticket = None

    def _ingest_inline(
        self, data: bytes, content_length: int | None, max_size: int, algorithms: tuple[str, ...]
    ) -> Ingested:
        check_length(len(data), content_length, max_size)
        md5 = hashlib.md5(data).digest() if self.settings.etag_mode == "md5" else None
        extras = extra_hashers(algorithms, md5 is not None)
        for h in extras.values():
            h.update(data)
        return Ingested(
            size=len(data),
            md5=md5,
            blake3=blake3.blake3(data).digest(),
            inline=data,
            data_id=None,
            checksums=extra_digests(extras, algorithms, md5),
        )

    def commit(self, txn: WriteTxn, ing: Ingested) -> None:
        """Make ``ing`` a live data record inside the caller's transaction."""
        if ing.data_id is not None:
            assert ing.ticket is not None
            check_bound(txn, self.bound)  # StoreDamaged after a rebind elsewhere
            # Raises ServiceUnavailable if gc may have removed what it relies on.
            self.leases.check(txn, ing.ticket, {cid for _, cid, _ in ing.final_entries})
            apply_entries(txn, ing.data_id, ing.final_entries, ing.reused)
            # The batches committed earlier hold references already; one of their chunks
            # found missing or damaged since (a read, fsck) must not be acknowledged
            # under the object: the retry writes it afresh. A chunk the last batch wrote
            # itself is fresh (apply_entries cleared its flag).
            fresh = {cid for _, cid, _ in ing.final_entries if cid not in ing.reused}
            check_not_flagged(txn, ing.earlier - fresh)
            txn.put(keyspace.DATA + ing.data_id, DATA_REC.pack(1, ing.size, STATE_LIVE))
            txn.delete(keyspace.PENDING + ing.data_id)
        ing.staged = True

    def abandon(self, ing: Ingested) -> None:
        """Release what ``ingest`` stored when its object was not committed."""
        if ing.finished or ing.data_id is None:
            return
        ing.finished = True
        release_failed(self, ing.data_id, ing.has_pending_record, ing.written, ing.ticket)

    # --------------------------------------------------------------- references

    def add_ref(self, txn: WriteTxn, data_id: bytes, n: int = 1) -> None:
        """``n`` more holders (object versions, parts, composites) share ``data_id``.

        Raises DataGone when the body is missing or already dead, DataCorruption when
        one of its chunks is known missing or damaged (:func:`.compose.check_shareable`).
        """
        size = DATA_REC.unpack(raw)[1] if (raw := txn.get(keyspace.DATA + data_id)) else 0
        check_shareable(txn, segments_in(txn, data_id, 0, size))
        adjust_refs(txn, data_id, n)

    def release(self, txn: WriteTxn, data_id: bytes, n: int = 1) -> None:
        """``n`` holders no longer use ``data_id`` (at zero it is marked dead; see
        :func:`.records.adjust_refs`)."""
        adjust_refs(txn, data_id, -n)

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

    def gc(
        self,
        *,
        orphans: bool = True,
        batch: int | None = None,
        stop: threading.Event | None = None,
    ) -> GcResult:
        """One garbage collection pass (see :mod:`.gc`); never waits for writers or readers."""
        return collect(self, batch=batch or self.gc_settings.batch, orphans=orphans, stop=stop)
