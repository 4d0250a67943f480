"""Ingest: one streaming upload cut into chunks, named, deduplicated and written.

``BlobStore`` owns three things in the metadata store (prefixes from
:mod:`objstore.keyspace`): *data records* (one per stored body, shared by
copies through a reference count), *manifests* (offset -> chunk id, one entry
per chunk, so a range read seeks in O(log n)), and *chunk references* (how
many manifest entries name each chunk). It knows nothing of buckets, keys or
versions.

Ingest pipeline (one PUT): the body is cut into windows; in each window the
chunker finds boundaries, every chunk is hashed with BLAKE3 and, unless a
committed reference shows it is already stored, written by an I/O thread. MD5
(for S3's ETag), the whole-body BLAKE3 and any requested S3 checksum
(:mod:`objstore.checksums`: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, or an MD5
for Content-MD5) each run in a thread of their own over the same windows, so
they overlap chunking instead of following it (no second pass). Every ``batch_bytes`` the
written chunks are synced and their manifest entries committed as a *pending*
data record, so a 5 TB upload never holds its manifest in memory; the last
batch is committed inside the caller's namespace transaction, which makes the
object visible atomically. Between batches the commit thread, when idle, syncs
what is written so far, so little is left to sync when the hashes finish.

Durability and races: a chunk reference is committed only after the chunk is
synced, so "referenced" implies "durable", and dedup trusts only references
(never a quarantined one: such a chunk is written again). A writer registers a
lease ticket before its first dedup decision and its commit re-checks it
(:meth:`Leases.check`); a chunk that had fallen to zero references before the
ticket is *revived* (its zero gen renewed) before reuse, so gc never deletes a
chunk an in-flight writer decided to reuse (see :mod:`.leases`). Each commit also
checks that the store is still bound to the chunk location this handle writes to
(:func:`.binding.check_bound`: a rebind elsewhere fences it). A failed upload releases
what it stored at once (:func:`release_failed`).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import blake3

from objstore import checksums, keyspace
from objstore.blob.binding import check_bound, still_bound
from objstore.blob.chunkstore import ChunkId
from objstore.blob.gc import free_now
from objstore.blob.leases import Ticket, deleted_under
from objstore.blob.records import (
    DATA_REC,
    STAT_CHUNKS,
    STAT_STORED,
    STATE_PENDING,
    ChunkRec,
    apply_entries,
    current_gen,
    drop_data,
    get_chunk,
    get_doom,
)
from objstore.blob.source import _StreamWindows
from objstore.errors import EntityTooLarge, IncompleteBody, ObjstoreError, ServiceUnavailable
from objstore.meta import counters
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore


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
    # The chunks of the batches committed before the last one: the final commit checks
    # that none was found bad since (review 10b, R2).
    earlier: set[ChunkId] = field(default_factory=set)
    has_pending_record: bool = False
    staged: bool = False
    finished: bool = False
    ticket: Ticket | None = None  # the writer's lease ticket, until commit or abandon
    written: dict[ChunkId, int] = field(default_factory=dict)  # chunks it wrote: length
    # Requested extra digests: S3 checksum algorithm (or "MD5") -> binary digest.
    checksums: dict[str, bytes] = field(default_factory=dict)


MD5 = "MD5"  # an extra digest name: the body's MD5 when the ETag mode computes none


def extra_hashers(algorithms: tuple[str, ...], have_md5: bool) -> dict[str, checksums.Hasher]:
    """Hashers for the requested extra digests (an MD5 the ETag already computes is reused)."""
    out: dict[str, checksums.Hasher] = {}
    for alg in algorithms:
        if alg == MD5:
            if not have_md5:
                out[alg] = hashlib.md5()
        else:
            out[alg] = checksums.new(alg)
    return out


def extra_digests(
    hashers: dict[str, checksums.Hasher], algorithms: tuple[str, ...], md5: bytes | None
) -> dict[str, bytes]:
    out = {alg: h.digest() for alg, h in hashers.items()}
    if MD5 in algorithms and MD5 not in out and md5 is not None:
        out[MD5] = md5
    return out


# How long a writer waits for a gc that is deleting an old copy of a chunk it
# wants to write (one batch of unlinks) before giving up with a retryable error.
DOOM_WAIT = 5.0


def release_failed(
    blobs: BlobStore,
    data_id: bytes,
    pending: bool,
    written: dict[ChunkId, int],
    ticket: Ticket | None,
) -> None:
    """Release at once what a failed or abandoned upload stored.

    Chunks it wrote that nobody references get zero-reference records (so a
    concurrent upload of the same bytes can still claim them; none once the store
    was rebound elsewhere) and are deleted right away unless another live lease may
    want them (then gc does it later).
    """
    candidates: set[ChunkId] = set(written)
    present = _durable(blobs, written)
    try:
        with blobs.meta.begin_write() as txn:
            if pending:
                for _, v in scan_prefix(txn, keyspace.MANIFEST + data_id):
                    candidates.add(ChunkId(v[:32]))
                drop_data(txn, data_id)
                txn.delete(keyspace.PENDING + data_id)
            gen = current_gen(txn)
            # After a rebind elsewhere, what this handle wrote is at a location no longer the
            # store's: a record would have dedup trust chunks the store does not hold.
            for cid, n in written.items() if still_bound(txn, blobs.bound) else ():
                # Not one a gc is deleting, or deleted after this upload decided to write it
                # (Leases.check's rule): the record would outlive the file (review 9k).
                if (
                    cid in present
                    and txn.get(keyspace.CHUNKREF + cid) is None
                    and not deleted_under(txn, cid, ticket)
                ):
                    txn.put(keyspace.CHUNKREF + cid, ChunkRec(0, n, gen, 0).encode())
                    counters.add(txn, STAT_CHUNKS, 1)
                    counters.add(txn, STAT_STORED, n)
    finally:
        # Even when the records could not be written (the metadata is full, say): the
        # ticket held gc back for good otherwise (review 9l, M3).
        if ticket is not None:
            blobs.leases.leave(ticket)
    free_now(blobs, candidates)


def _durable(blobs: BlobStore, written: dict[ChunkId, int]) -> set[ChunkId]:
    """Which chunks a failed upload wrote are here and durable. Only those get records:
    a record vouches for its chunk, and dedup trusts it without writing (break-it review
    9j: a chunk whose put failed, or still a temporary file when the upload failed, got a
    record, and the next upload of those bytes was acknowledged on a missing chunk).
    Nothing when the chunk store cannot say: what is left is then gc's, as orphan files."""
    if not written:
        return set()
    # Pending files into place first (a name only after its bytes). A chunk the sync
    # could not make durable is not counted (break-it review 9k), nor is one that is
    # only another upload's pending file of the same bytes (review 9l, H1).
    with suppress(ObjstoreError):
        blobs.chunks.sync()
    try:
        return blobs.chunks.durable_many(written)
    except ObjstoreError:
        return set()


def _written(batch: list[tuple[int, ChunkId, int]], reused: set[ChunkId]) -> set[ChunkId]:
    """The chunks a batch names that its upload stored (not reused: those a committed
    reference vouches for)."""
    return {cid for _, cid, _ in batch if cid not in reused}


def check_length(size: int, content_length: int | None, max_size: int) -> None:
    if size > max_size and (content_length is None or content_length > max_size):
        raise EntityTooLarge(f"body exceeds the limit of {max_size} bytes", max_size=max_size)
    if content_length is not None and size != content_length:
        if size < content_length:
            raise IncompleteBody(f"received {size} bytes, content_length declared {content_length}")
        raise IncompleteBody(
            f"received more than the declared content_length of {content_length} bytes"
        )


class IngestJob:
    """One streaming ingest; see the module docstring for the pipeline."""

    def __init__(
        self,
        blobs: BlobStore,
        windows: Any,
        limit: int,
        content_length: int | None,
        max_size: int,
        algorithms: tuple[str, ...] = (),
    ) -> None:
        self.b = blobs
        self.windows = windows
        self.limit = limit
        self.content_length = content_length
        self.max_size = max_size
        self.data_id = os.urandom(16)
        # Registered before the first dedup decision: gc keeps what it may reuse.
        self.ticket = blobs.leases.enter(writer=True)
        self.written: dict[ChunkId, int] = {}
        self.md5 = hashlib.md5() if blobs.settings.etag_mode == "md5" else None
        self.whole = blake3.blake3()
        self.algorithms = algorithms
        self.extras = extra_hashers(algorithms, self.md5 is not None)
        # Whole-stream hashes keep stream order, so each gets one thread of its
        # own: MD5 (the slowest step, ~0.6 GB/s) then runs beside everything
        # else. Bodies that fit one window hash inline (no threads to start).
        self.updates = [h.update for h in (self.md5, *self.extras.values()) if h is not None]
        self.updates.append(self._hash_whole)
        self.pools: list[ThreadPoolExecutor] = []
        self.hash_futures: dict[int, list[Future[None]]] = {}
        # Chunk tasks (hash + dedup check + write) by window buffer, and in stream order.
        self.write_futures: dict[int, list[Future[tuple[ChunkId, bool]]]] = {}
        self.pending: list[tuple[int, int, Future[tuple[ChunkId, bool]]]] = []
        self.seen_lock = threading.Lock()
        self.batch: list[tuple[int, ChunkId, int]] = []
        self.batch_bytes = 0
        self.batch_seen: set[ChunkId] = set()
        self.reused: set[ChunkId] = set()
        self.earlier: set[ChunkId] = set()
        self.wrote_any = False
        self.committed_batches = False
        self.committer: ThreadPoolExecutor | None = None
        self.commits: list[Future[None]] = []
        self.result: Ingested
        if isinstance(windows, _StreamWindows):
            windows.on_reuse = self._wait_buffer

    def _hashers(self) -> list[ThreadPoolExecutor]:
        if not self.pools:
            self.pools = [
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="objstore-hash")
                for _ in self.updates
            ]
        return self.pools

    def _stop_hashers(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True)

    def _hash_whole(self, data: bytes | memoryview) -> None:
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
        submit = self.b.io.submit
        store_piece = self._store_piece
        while True:
            final = self.windows.exhausted()
            end = pos + len(window)
            if end > self.limit:
                self._too_much(end)
            new = window[hashed - pos :]
            index = getattr(self.windows, "buffer_index", 0)
            # A body in one window is hashed here, after its chunks went to the I/O
            # threads (they write while this thread hashes); longer ones on threads.
            here = final and not self.pools
            if len(new) and not here:
                futs = self.hash_futures.setdefault(index, [])
                for pool, update in zip(self._hashers(), self.updates, strict=True):
                    futs.append(pool.submit(update, new))
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
            if len(new) and here:
                for update in self.updates:
                    update(new)
            if len(new):
                hashed = end
            pos += start
            if final:
                break
            if self.batch_bytes >= self.b.settings.batch_bytes:
                self._commit_batch()
            elif self.wrote_any and (self.commits == [] or self.commits[-1].done()):
                # Sync what is written so far while the commit thread is idle: whatever
                # is still unsynced when MD5 ends is waited for before the PUT returns.
                self.commits.append(self._committer().submit(self._early_sync))
            window = self.windows.next(pos)
        if self.pools:
            # A streamed body: MD5 lags the chunk writes by up to the ring's other windows,
            # so the last sync starts once the writes are done and runs beside that tail
            # (after MD5 it was the whole wait between the last hash and the return).
            self._wait_writes()
            self._drain()
            if self.wrote_any:
                self.commits.append(self._committer().submit(self._early_sync))
                self.wrote_any = False
        self._wait_all()
        self._drain()
        self._wait_commits()
        size = pos
        check_length(size, self.content_length, self.max_size)
        if scope := _written(self.batch, self.reused):
            # Also when a background sync took every write: this one checks that each chunk
            # the last batch names is durable, including one this upload did not write
            # because another's file of the same bytes was pending (review 9l, H1).
            self.b.chunks.sync(scope)
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
            earlier=self.earlier,
            has_pending_record=self.committed_batches,
            ticket=self.ticket,
            written=self.written,
            checksums=extra_digests(
                self.extras, self.algorithms, None if self.md5 is None else self.md5.digest()
            ),
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
        if self._reusable(cid):
            return cid, True
        with self.seen_lock:
            if cid in self.batch_seen:
                return cid, False  # written (or being written) earlier in this batch
            self.batch_seen.add(cid)
            self.wrote_any = True
        self.b.chunks.put(cid, piece)
        # Only once stored: a failed upload records what it wrote, and a chunk whose put
        # failed may stand under its name as another process's copy whose name is not
        # durable yet (review 9q, Q1).
        with self.seen_lock:
            self.written[cid] = len(piece)
        return cid, False

    def _reusable(self, cid: ChunkId) -> bool:
        """May this upload reference the stored copy of ``cid`` instead of writing it?"""
        t = self.ticket
        self.b.leases.touch(t)
        deadline = time.monotonic() + DOOM_WAIT
        while True:
            with self.b.meta.begin() as txn:
                rec = get_chunk(txn, cid)
                doom = get_doom(txn, cid)
                gen = current_gen(txn)
            if doom is not None and doom[1] == 0:
                # A gc is deleting an old copy: a copy written now could be unlinked.
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(
                        f"chunk {cid.hex()} is being garbage-collected; retry the upload"
                    )
                time.sleep(0.005)
                continue
            if doom is not None:
                # The old copy was gone at `gen`: what this upload uses is newer.
                t.decided[cid] = max(t.decided.get(cid, 0), gen)
            if rec is None or rec.quarantined:
                return False  # absent, or known bad: write it (again)
            if rec.refs == 0 and rec.zero_gen < t.gen and not self._revive(cid):
                continue  # collected meanwhile: decide again
            return True

    def _revive(self, cid: ChunkId) -> bool:
        """Renew the zero gen of an unreferenced chunk gc could otherwise collect now."""
        with self.b.meta.begin_write() as txn:
            rec = get_chunk(txn, cid)
            if rec is None:
                return False
            if rec.refs == 0:
                fresh = ChunkRec(0, rec.length, current_gen(txn), rec.flags)
                txn.put(keyspace.CHUNKREF + cid, fresh.encode())
            return True

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
        self._wait_writes()
        self._drain()
        batch, reused = self.batch, self.reused
        self.earlier.update(cid for _, cid, _ in batch)
        self.batch = []
        self.batch_bytes = 0
        self.batch_seen = set()
        self.reused = set()
        self.wrote_any = False
        self.commits.append(self._committer().submit(self._commit, batch, reused))

    def _early_sync(self) -> None:
        """A sync ahead of the last one. What fails in it is this upload's concern only
        for its own chunks, which the last sync checks by name: one upload's failed fsync
        failed every streamed upload in flight (review 9n, N2)."""
        with suppress(ObjstoreError):
            self.b.chunks.sync()

    def _wait_writes(self) -> None:
        for index in list(self.write_futures):
            for w in self.write_futures.pop(index):
                w.result()

    def _committer(self) -> ThreadPoolExecutor:
        """The thread that syncs and commits batches, one at a time, in order."""
        if self.committer is None:
            self.committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="objstore-commit")
        return self.committer

    def _commit(self, batch: list[tuple[int, ChunkId, int]], reused: set[ChunkId]) -> None:
        """Runs on the committer thread, one batch at a time, in order."""
        if scope := _written(batch, reused):  # durable before the references naming them
            self.b.chunks.sync(scope)
        self.b.leases.touch(self.ticket)
        with self.b.meta.begin_write() as txn:
            check_bound(txn, self.b.bound)  # StoreDamaged after a rebind elsewhere
            self.b.leases.check(txn, self.ticket, {cid for _, cid, _ in batch})
            if not self.committed_batches:
                txn.put(keyspace.DATA + self.data_id, DATA_REC.pack(1, 0, STATE_PENDING))
                txn.put(keyspace.PENDING + self.data_id, self.ticket.lease_id)
            apply_entries(txn, self.data_id, batch, reused)
        self.committed_batches = True

    def _wait_commits(self) -> None:
        """Wait for every batch commit; re-raise the first failure."""
        commits, self.commits = self.commits, []
        if self.committer is not None:
            self.committer.shutdown(wait=True)
            self.committer = None
        for fut in commits:
            fut.result()

    def _settle_all(self) -> None:
        """Stop every chunk and hash task: cancel those not started, wait for the rest.

        Each is awaited on its own: stopping at the first failure (as
        ``_wait_all`` does) would let another I/O thread's write land after
        :func:`release_failed` has decided what this upload left behind.
        """
        futures: list[Future[Any]] = [f for fs in self.hash_futures.values() for f in fs]
        futures += [f for fs in self.write_futures.values() for f in fs]
        futures += [f for _, _, f in self.pending]
        self.hash_futures, self.write_futures, self.pending = {}, {}, []
        for fut in futures:
            fut.cancel()
        for fut in futures:
            if not fut.cancelled():
                with suppress(BaseException):  # the original error is what matters
                    fut.result()

    def abort(self) -> None:
        self._settle_all()
        with suppress(BaseException):
            self._wait_commits()
        self._stop_hashers()
        self.windows.close()
        release_failed(self.b, self.data_id, self.committed_batches, self.written, self.ticket)
