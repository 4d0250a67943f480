"""Garbage collection: incremental, lease-based, safe beside writers, readers and other gcs.

One pass (:func:`collect`), each step in bounded batches, each batch its own
short transaction (re-checking what a read snapshot suggested):

1. :meth:`Leases.advance`: bump the gc gen, renew this handle's lease, delete
   expired leases; the result says what died early enough to be collected.
2. Release pending uploads whose lease is gone (crashed or stalled writers).
3. Drop dead bodies that died below the horizon gen (their manifests and
   chunk references).
4. Advance again, so chunks released by 2-3 are eligible in the same pass.
5. Doom zero-reference chunks that fell to zero below the horizon gen: one
   transaction deletes their records and writes ``K`` marks owned by this
   lease; then the files are unlinked; then a transaction bumps the gen and
   marks the ``K`` records done. A writer that decided to use such a chunk
   before the done gen fails at its commit (see :meth:`Leases.check`).
6. Finish dooms whose owner died mid-way; doom chunk files no record names
   that are older than every live lease's floor (leftovers of crashed
   uploads); remove old ``chunks/tmp`` files the same way.
7. Forget done ``K`` marks every live ticket started after.

Nothing here waits for a writer or reader, and two passes at once (in one
process or many) are safe: every step re-checks its preconditions inside the
transaction that acts on them, and only the lease that doomed a chunk marks it
done (another gc takes over only once that lease has expired).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.binding import check_bound
from objstore.blob.chunkstore import ChunkId
from objstore.blob.leases import Horizon
from objstore.blob.records import (
    DATA_REC,
    DEAD_REC,
    DOOM_REC,
    GEN,
    STAT_CHUNKS,
    STAT_STORED,
    STATE_DEAD,
    ChunkRec,
    drop_data,
    get_chunk,
    get_doom,
)
from objstore.errors import ObjstoreError, ServiceUnavailable, StoreClosed, StoreDamaged
from objstore.meta import counters
from objstore.meta.base import MetadataStore, ReadTxn
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore

DEFAULT_BATCH = 1000
DOOM_BATCHES = 8  # a doom transaction takes up to this many batches' worth of chunks


@dataclass(frozen=True, slots=True)
class GcResult:
    """What one garbage collection pass examined and removed."""

    chunks_examined: int  # chunk records and unreferenced chunk files looked at
    chunks_deleted: int  # chunk files deleted (zero-reference and orphaned)
    bytes_freed: int  # their size
    bodies_dropped: int  # deleted objects' bodies whose manifests were dropped
    uploads_released: int  # pending uploads of crashed or stalled writers
    orphans_deleted: int  # of chunks_deleted: files no chunk record named
    tmp_deleted: int  # leftover files in chunks/tmp
    leases_expired: int  # leases of handles that stopped renewing them
    complete: bool  # False if the pass stopped early or a chunk could not be deleted
    chunks_failed: int = 0  # chunk files that could not be deleted or looked at (next pass)
    failure: str | None = None  # why the first of them could not be

    @property
    def pending_uploads_released(self) -> int:
        """Older name of :attr:`uploads_released`."""
        return self.uploads_released


class _Stop(Exception):
    """The pass must stop: the store is closing or this handle lost its lease."""


class _Fenced(_Stop):
    """The store was rebound to another chunk location after this handle opened it;
    carries the StoreDamaged a writer gets."""

    def __init__(self, error: StoreDamaged) -> None:
        super().__init__(error)
        self.error = error


class _Pass:
    def __init__(self, blobs: BlobStore, batch: int, stop: threading.Event | None) -> None:
        self.b = blobs
        self.meta: MetadataStore = blobs.meta
        self.batch = max(1, batch)
        self.stop = stop
        self.examined = self.deleted = self.freed = self.bodies = 0
        self.uploads = self.orphans = self.tmp = self.leases = 0
        self.failed: set[ChunkId] = set()  # could not be deleted (this pass does not retry)
        self.failure: str | None = None

    def check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Stop

    def check_bound(self, txn: ReadTxn) -> None:
        # In every transaction that writes K marks: a node still open on the chunk
        # location a rebind left must not doom chunks (its marks, under its live lease,
        # would hold up every upload of those bytes at the store's location, and it
        # would drop the store's own zero-reference records).
        try:
            check_bound(txn, self.b.bound)
        except StoreDamaged as exc:
            raise _Fenced(exc) from None

    def advance(self) -> Horizon:
        h = self.b.leases.advance()
        self.leases += h.reaped
        return h

    def _batches(self, prefix: bytes) -> Iterator[list[tuple[bytes, bytes]]]:
        """Records under ``prefix`` in batches, each read in its own short snapshot."""
        cursor: bytes | None = None
        while True:
            self.check_stop()
            with self.meta.begin() as txn:
                rows = []
                for key, value in scan_prefix(txn, prefix, cursor):
                    if key == cursor:
                        continue
                    rows.append((key, value))
                    if len(rows) >= self.batch:
                        break
            if not rows:
                return
            yield rows
            if len(rows) < self.batch:
                return
            cursor = rows[-1][0]

    # ------------------------------------------------------------ bodies

    def release_uploads(self, h: Horizon) -> None:
        for rows in self._batches(keyspace.PENDING):
            stale = [k for k, v in rows if v not in h.live]
            if not stale:
                continue
            with self.meta.begin_write() as txn:
                for key in stale:
                    lid = txn.get(key)
                    if lid is None or txn.get(keyspace.LEASE + lid) is not None:
                        continue  # committed, aborted, or its writer is alive after all
                    drop_data(txn, key[1:])
                    txn.delete(key)
                    self.uploads += 1

    def drop_bodies(self, h: Horizon) -> None:
        for rows in self._batches(keyspace.DEAD):
            ripe = [k for k, v in rows if _dead_gen(v) < h.gen]
            if not ripe:
                continue
            with self.meta.begin_write() as txn:
                for key in ripe:
                    raw = txn.get(key)
                    if raw is None or _dead_gen(raw) >= h.gen:
                        continue
                    rec = txn.get(keyspace.DATA + key[1:])
                    if rec is None or DATA_REC.unpack(rec)[2] == STATE_DEAD:
                        if rec is not None:
                            drop_data(txn, key[1:])
                        self.bodies += 1
                    txn.delete(key)

    # ------------------------------------------------------------ chunks

    def sweep_chunks(self, h: Horizon) -> None:
        # Candidates from several read batches share one doom: each doom costs two
        # durable commits, which would otherwise dominate when much is freed.
        ripe: list[ChunkId] = []
        for rows in self._batches(keyspace.CHUNKREF):
            self.examined += len(rows)
            for key, value in rows:
                rec = ChunkRec.decode(value)
                if rec.refs == 0 and rec.zero_gen < h.gen:
                    ripe.append(ChunkId(key[1:]))
            if len(ripe) >= DOOM_BATCHES * self.batch:
                self.doom(h, ripe, orphans=False)
                ripe = []
        if ripe:
            self.doom(h, ripe, orphans=False)

    def doom(self, h: Horizon, cids: list[ChunkId], *, orphans: bool) -> None:
        """Delete ``cids`` (re-checked) by the K protocol: mark, unlink, mark done."""
        with self.b.unlinking_lock:
            # Ids another thread of this handle is deleting are its (doom below would
            # skip them anyway); the rest are registered before they are marked, so that
            # take_over never unlinks beside this call.
            cids = [c for c in dict.fromkeys(cids) if c not in self.b.unlinking]
            self.b.unlinking.update(cids)
        try:
            self._doom(h, cids, orphans=orphans)
        finally:
            with self.b.unlinking_lock:
                self.b.unlinking.difference_update(cids)

    def _doom(self, h: Horizon, cids: list[ChunkId], *, orphans: bool) -> None:
        doomed: list[ChunkId] = []
        freed = 0
        with self.meta.begin_write() as txn:
            self.check_bound(txn)
            for cid in cids:
                doom = get_doom(txn, cid)
                if doom is not None and doom[1] == 0:
                    continue  # another gc is deleting it
                rec = get_chunk(txn, cid)
                if orphans:
                    if rec is not None:
                        continue  # a writer committed a reference meanwhile
                else:
                    if rec is None or rec.refs != 0 or rec.zero_gen >= h.gen:
                        continue  # reused or revived meanwhile
                    txn.delete(keyspace.CHUNKREF + cid)
                    freed += rec.length
                txn.put(keyspace.DOOMED + cid, DOOM_REC.pack(h.own, 0))
                doomed.append(cid)
            if not orphans:  # once per batch: the counters are two hot records
                counters.add(txn, STAT_CHUNKS, -len(doomed))
                counters.add(txn, STAT_STORED, -freed)
        self.freed += freed
        if doomed:
            self.unlink(h.own, doomed)

    def unlink(self, owner: bytes, cids: list[ChunkId]) -> None:
        # The lease must still be ours with time to spare: once it expires another
        # gc may finish these dooms, and our unlink must not land after theirs. Checked
        # once the deletion is counted (kept_alive), so that a close either waits for it
        # or has begun already and fresh() says no (break-it review 9g, H2).
        with self.b.leases.kept_alive():
            if not self.b.leases.fresh(owner):
                raise _Stop
            gone = self._delete(cids)
        self.deleted += len(gone)
        if not gone:
            return
        with self.meta.begin_write() as txn:
            done = counters.add(txn, GEN, 1)
            for cid in gone:
                doom = get_doom(txn, cid)
                if doom is not None and doom[0] == owner and doom[1] == 0:
                    txn.put(keyspace.DOOMED + cid, DOOM_REC.pack(owner, done))

    def _delete(self, cids: list[ChunkId]) -> list[ChunkId]:
        """Delete the files; those deleted. One that cannot be (a directory in its place,
        a read-only file system, a refused key) keeps its K mark, owned by this lease, for
        the next pass to retry (take_over), and does not stop the deletion of the rest.
        An unreachable chunk store (ServiceUnavailable) stops the pass."""
        try:
            self.b.chunks.delete_many(cids)
            return cids
        except ServiceUnavailable:
            raise
        except ObjstoreError:
            pass  # one by one, to tell which cannot be deleted
        gone = []
        for cid in cids:
            try:
                self.b.chunks.delete(cid)
            except ServiceUnavailable:
                raise
            except ObjstoreError as exc:
                self._failed(cid, exc)
                continue
            gone.append(cid)
        return gone

    def _failed(self, cid: ChunkId, exc: ObjstoreError) -> None:
        self.failed.add(cid)
        if self.failure is None:
            self.failure = str(exc)

    def take_over(self, h: Horizon) -> None:
        """Finish dooms whose owning gc died between its mark and its done mark, and this
        handle's own that no thread of it is still at: an unlink that failed (the chunk
        store unreachable) left them, and writers of those bytes wait on them until a
        deletion finishes (break-it review of issue 9, M2)."""
        for rows in self._batches(keyspace.DOOMED):
            orphaned = [
                ChunkId(k[1:])
                for k, v in rows
                if DOOM_REC.unpack(v)[1] == 0
                and (DOOM_REC.unpack(v)[0] not in h.live or DOOM_REC.unpack(v)[0] == h.own)
            ]
            if not orphaned:
                continue
            with self.b.unlinking_lock:
                orphaned = [
                    c for c in orphaned if c not in self.b.unlinking and c not in self.failed
                ]
                self.b.unlinking.update(orphaned)
            try:
                mine = []
                with self.meta.begin_write() as txn:
                    self.check_bound(txn)
                    for cid in orphaned:
                        doom = get_doom(txn, cid)
                        if doom is None or doom[1] != 0:
                            continue
                        if doom[0] != h.own and txn.get(keyspace.LEASE + doom[0]) is not None:
                            continue
                        txn.put(keyspace.DOOMED + cid, DOOM_REC.pack(h.own, 0))
                        mine.append(cid)
                if mine:
                    self.unlink(h.own, mine)
            finally:
                with self.b.unlinking_lock:
                    self.b.unlinking.difference_update(orphaned)

    def sweep_orphans(self, h: Horizon) -> None:
        """Chunk files no record names, older than every live lease's floor."""
        for ids in _chunked(self.b.chunks.iter_ids(), self.batch):
            self.check_stop()
            self.examined += len(ids)
            with self.meta.begin() as txn:
                unnamed = [
                    c
                    for c in ids
                    if get_chunk(txn, c) is None and (get_doom(txn, c) or (b"", 1))[1] != 0
                ]
            ripe = []
            for cid in unnamed:
                st = self._stat(cid)
                if st is not None and st[1] < h.floor_ns:
                    ripe.append(cid)
                    self.freed += st[0]
            if ripe:
                before = self.deleted
                self.doom(h, ripe, orphans=True)
                self.orphans += self.deleted - before
        self.tmp += self.b.chunks.clean_tmp(h.floor_ns)

    def _stat(self, cid: ChunkId) -> tuple[int, int] | None:
        """The chunk store's stat of an unnamed chunk; None, counted as failed, when it
        refuses this one alone (a permission): it ended every pass that walked for orphans,
        so the rest of them, chunks/tmp and the pruning of done K marks never ran."""
        try:
            return self.b.chunks.stat(cid)
        except ServiceUnavailable:
            raise
        except ObjstoreError as exc:
            self._failed(cid, exc)
            return None

    def prune_dooms(self, h: Horizon) -> None:
        """Forget done K marks: every live ticket started after the files were gone."""
        for rows in self._batches(keyspace.DOOMED):
            old = [k for k, v in rows if 0 < DOOM_REC.unpack(v)[1] <= h.gen]
            if not old:
                continue
            with self.meta.begin_write() as txn:
                for key in old:
                    raw = txn.get(key)
                    if raw is not None and 0 < DOOM_REC.unpack(raw)[1] <= h.gen:
                        txn.delete(key)

    def result(self, complete: bool) -> GcResult:
        return GcResult(
            chunks_examined=self.examined,
            chunks_deleted=self.deleted,
            bytes_freed=self.freed,
            bodies_dropped=self.bodies,
            uploads_released=self.uploads,
            orphans_deleted=self.orphans,
            tmp_deleted=self.tmp,
            leases_expired=self.leases,
            complete=complete and not self.failed,
            chunks_failed=len(self.failed),
            failure=self.failure,
        )


def _dead_gen(raw: bytes) -> int:
    return DEAD_REC.unpack(raw)[0] if len(raw) == DEAD_REC.size else 0


def _chunked(items: Iterable[ChunkId], n: int) -> Iterator[list[ChunkId]]:
    batch: list[ChunkId] = []
    for item in items:
        batch.append(item)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def collect(
    blobs: BlobStore,
    *,
    batch: int = DEFAULT_BATCH,
    orphans: bool = True,
    stop: threading.Event | None = None,
) -> GcResult:
    """One gc pass (see the module docstring); never waits for writers or readers.

    ``orphans`` also walks every chunk file for leftovers no record names (the
    costly step: a directory walk). ``stop`` ends the pass between batches.
    """
    p = _Pass(blobs, batch, stop)
    try:
        with blobs.meta.begin() as txn:
            p.check_bound(txn)  # a fenced node collects nothing (each K-mark write re-checks)
        h = p.advance()
        p.release_uploads(h)
        p.drop_bodies(h)
        h = p.advance()
        p.sweep_chunks(h)
        p.take_over(h)
        if orphans:
            p.sweep_orphans(h)
        p.prune_dooms(h)
    except _Fenced as fenced:
        _finish_fenced(blobs)
        raise fenced.error from None
    except _Stop:
        return p.result(False)
    return p.result(True)


def _finish_fenced(blobs: BlobStore) -> None:
    """On a node a rebind fenced: mark done, without unlinking, its own dooms not done
    (deletions that failed before the rebind). Their chunks are at a location that is
    no longer the store's, and uploads of those bytes at the store's location wait on
    the marks for as long as this node's lease lives (break-it review 9f, M1). Marked
    done, as an unlink would: a writer that decided before them fails retryably."""
    own = blobs.leases.lease_id
    if own is None:
        return
    with blobs.unlinking_lock:
        # Those another thread of this node is deleting stay: a later rebind may have
        # made its location the store's again, and its unlink marks them done itself
        # (break-it review 9g, H1).
        busy = {keyspace.DOOMED + cid for cid in blobs.unlinking}
    with blobs.meta.begin_write() as txn:
        mine = [
            k
            for k, v in scan_prefix(txn, keyspace.DOOMED)
            if DOOM_REC.unpack(v) == (own, 0) and k not in busy
        ]
        if mine:
            done = counters.add(txn, GEN, 1)
            for key in mine:
                txn.put(key, DOOM_REC.pack(own, done))


def free_now(blobs: BlobStore, cids: Iterable[ChunkId]) -> int:
    """Delete ``cids`` at once if they are unreferenced and no live ticket may want them.

    For a failed upload's chunks. Those another lease may still want stay for
    the next gc. Returns how many files were deleted.
    """
    wanted = list(dict.fromkeys(cids))
    if not wanted:
        return 0
    p = _Pass(blobs, DEFAULT_BATCH, None)
    try:
        h = p.advance()
        for i in range(0, len(wanted), p.batch):
            p.doom(h, wanted[i : i + p.batch], orphans=False)
    except _Fenced:
        _finish_fenced(blobs)
        return p.deleted  # the upload failed on the fence already
    except _Stop:
        blobs.stranded.note()
    except BaseException:
        blobs.stranded.note()  # K marks may be left under this handle's live lease
        raise
    if p.failed:
        blobs.stranded.note()
    return p.deleted


class Stranded:
    """This handle's own deletions a failed unlink left behind (K marks under its live
    lease, the chunk store having been unreachable). Other handles' gc leaves them alone
    while the lease lives, and every PUT of those bytes fails meanwhile, so the handle
    finishes them itself, at its next write (:func:`finish_stranded`), also when it runs
    no gc of its own (``gc_interval=None``: review 9, R3)."""

    RETRY_S = 1.0  # at most one attempt a second while the chunk store stays unreachable

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures = 0  # failed clean-ups so far
        self.finished = 0  # ``failures`` when the last attempt left nothing behind
        self.tried = float("-inf")

    def note(self) -> None:
        with self.lock:
            self.failures += 1

    def due(self) -> int | None:
        """The failure count to finish up to, if an attempt is due now (None: not)."""
        with self.lock:
            now = time.monotonic()
            if self.failures == self.finished or now - self.tried < self.RETRY_S:
                return None
            self.tried = now
            return self.failures


def finish_stranded(blobs: BlobStore) -> None:
    """Finish this handle's stranded deletions (see :class:`Stranded`) if any are due.
    Never raises for the chunk store or the metadata: the next write tries again."""
    upto = blobs.stranded.due()
    if upto is None:
        return
    p = _Pass(blobs, DEFAULT_BATCH, None)
    try:
        h = p.advance()
        p.take_over(h)
    except _Fenced:
        _finish_fenced(blobs)  # a node running no gc of its own (review 9g, M2)
        return
    except (_Stop, ObjstoreError):
        return
    if not p.failed:
        with blobs.stranded.lock:
            blobs.stranded.finished = max(blobs.stranded.finished, upto)


class Background:
    """One daemon thread per store handle: lease heartbeats and periodic gc passes.

    Every quarter of the lease ttl it renews the lease; every ``interval``
    seconds it runs a pass (walking every chunk file for leftovers only every
    ``orphan_every``-th pass, since that walk is the costly part). A failing
    pass is remembered in :attr:`error` and retried at the next interval.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        self.stop = threading.Event()
        self.last: GcResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="objstore-gc", daemon=True)

    @classmethod
    def start(cls, blobs: BlobStore) -> Background | None:
        if blobs.gc_settings.interval is None:
            return None
        bg = cls(blobs)
        bg.thread.start()
        return bg

    def _run(self) -> None:
        s = self.blobs.gc_settings
        assert s.interval is not None
        beat = s.lease_ttl / 4
        next_gc = time.monotonic() + s.interval
        passes = 0
        while not self.stop.wait(max(0.0, min(beat, next_gc - time.monotonic()))):
            try:
                if time.monotonic() >= next_gc:
                    passes += 1
                    self.last = self.blobs.gc(orphans=passes % s.orphan_every == 0, stop=self.stop)
                    next_gc = time.monotonic() + s.interval
                else:
                    self.blobs.leases.heartbeat()
            except StoreClosed:
                return
            except Exception as exc:  # kept for inspection; retried at the next interval
                self.error = exc
                next_gc = time.monotonic() + s.interval

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
