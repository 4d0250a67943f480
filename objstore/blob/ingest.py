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
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import blake3

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.blob.records import DATA_REC, STATE_PENDING, apply_entries, drop_data
from objstore.blob.source import _StreamWindows
from objstore.errors import EntityTooLarge, IncompleteBody

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
    has_pending_record: bool = False
    staged: bool = False
    finished: bool = False
    release_lock: Callable[[], None] | None = None


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
        submit = self.b.io.submit
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
        check_length(size, self.content_length, self.max_size)
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
                txn.put(keyspace.DATA + self.data_id, DATA_REC.pack(1, 0, STATE_PENDING))
                txn.put(keyspace.PENDING + self.data_id, b"")
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

    def abort(self) -> None:
        with suppress(BaseException):  # the original error is what matters
            self._wait_all()
        with suppress(BaseException):
            self._wait_commits()
        self._stop_hashers()
        self.windows.close()
        if self.committed_batches:
            with self.b.meta.begin_write() as txn:
                drop_data(txn, self.data_id)
                txn.delete(keyspace.PENDING + self.data_id)
