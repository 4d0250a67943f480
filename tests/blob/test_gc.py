"""Garbage collection beside writers, readers and other gcs: each race made to happen.

Writers are paused between their dedup decisions and their commit by using the
blob layer's two steps directly (``blobs.ingest`` decides and writes, the
commit happens later in a transaction of the test's choosing). Time is a fake
clock, so lease expiry is exact.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

import objstore
from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.blob.ingest import Ingested
from objstore.blob.records import get_chunk
from objstore.blob.store import BlobSettings, GcSettings
from objstore.errors import InternalError, ServiceUnavailable
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.scan import scan_prefix
from tests.conftest import chunk_files, chunk_path

KiB = 1 << 10
CHUNK = 64 * KiB
TTL = 60.0


class Clock:
    """A wall clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_at(path: Path | None, clock: Clock, **kw: object) -> objstore.Store:
    return objstore.open(
        path,
        chunk_size=CHUNK,
        inline_threshold=1024,
        clock=clock,
        gc_interval=None,
        lease_ttl=TTL,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["memory", "lmdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[objstore.Store]:
    s = open_at(None if request.param == "memory" else tmp_path / "s", clock)
    s.root.create_bucket("bkt")
    try:
        yield s
    finally:
        s.close()


def staged(store: objstore.Store, data: bytes) -> Ingested:
    """An upload stopped after its dedup decisions and writes, before its commit."""
    return store.blobs.ingest(data, content_length=None, max_size=1 << 40)


def commit(store: objstore.Store, ing: Ingested) -> bytes:
    """Commit a staged upload as a bare body; returns its data id."""
    try:
        with store.blobs.meta.begin_write() as txn:
            store.blobs.commit(txn, ing)
    finally:
        store.blobs.finish(ing)
    assert ing.data_id is not None
    return ing.data_id


def read_body(store: objstore.Store, data_id: bytes, size: int) -> bytes:
    return b"".join(store.blobs.read(data_id, 0, size - 1))


def n_chunks(store: objstore.Store) -> int:
    return len(list(store.blobs.chunks.iter_ids()))


def test_shared_chunks_stay_unreferenced_ones_go(store: objstore.Store) -> None:
    data = os.urandom(9 * CHUNK + 5)
    s3 = store.root
    s3.put_object("bkt", "a", data)
    s3.put_object("bkt", "same", data)
    s3.copy_object("bkt", "a", "bkt", "c")
    assert n_chunks(store) == 10
    s3.delete_object("bkt", "a")
    assert store.gc().chunks_deleted == 0
    s3.delete_object("bkt", "same")
    assert store.gc().chunks_deleted == 0  # the copy "c" still shares them
    assert s3.get_object("bkt", "c").read() == data
    s3.delete_object("bkt", "c")
    r = store.gc()
    assert (r.chunks_deleted, r.bodies_dropped, r.bytes_freed) == (10, 1, len(data))
    assert r.chunks_examined >= 10 and r.complete
    assert n_chunks(store) == 0


def test_reader_keeps_a_deleted_body_and_never_blocks_gc(store: objstore.Store) -> None:
    """A body opened before its delete reads whole; gc returns at once meanwhile."""
    data = os.urandom(6 * CHUNK)
    store.root.put_object("bkt", "k", data)
    body = store.root.get_object("bkt", "k")
    first = body.read(CHUNK)
    store.root.delete_object("bkt", "k")
    r = store.gc()  # does not wait for the reader
    assert (r.chunks_deleted, r.bodies_dropped) == (0, 0)
    rest = bytearray()
    for piece in body:  # a gc between every piece the reader takes
        rest += piece
        assert store.gc().chunks_deleted == 0
    assert first + rest == data
    body.close()
    r = store.gc()
    assert (r.chunks_deleted, r.bodies_dropped) == (6, 1)


def test_idle_reader_does_not_block_gc_and_never_reads_wrong_bytes(
    store: objstore.Store, clock: Clock
) -> None:
    """An opened, unread body stops protecting its data after the lease ttl;
    reading it then raises a typed error (not corruption, not short data)."""
    data = os.urandom(6 * CHUNK)
    store.root.put_object("bkt", "gone", data)
    store.root.put_object("bkt", "kept", data[::-1])
    idle = store.root.get_object("bkt", "gone")
    idle_kept = store.root.get_object("bkt", "kept")
    store.root.delete_object("bkt", "gone")
    clock.advance(TTL + 1)
    r = store.gc()
    assert (r.chunks_deleted, r.bodies_dropped) == (6, 1)
    with pytest.raises(InternalError, match="open it again"):
        idle.read()
    assert idle_kept.read() == data[::-1]  # a live body just carries on
    with store.blobs.meta.begin() as txn:  # nothing was quarantined by mistake
        assert all(not get_chunk(txn, c).quarantined for c in store.blobs.chunks.iter_ids())  # type: ignore[union-attr]


def test_reuse_decided_before_the_delete_survives_gc(store: objstore.Store) -> None:
    """A writer reuses chunks; the only object using them is deleted and gc runs
    before the writer commits: the chunks stay and the new object reads whole."""
    data = os.urandom(5 * CHUNK)
    store.root.put_object("bkt", "old", data)
    ing = staged(store, data)
    assert ing.reused and not ing.written  # pure dedup: nothing written
    store.root.delete_object("bkt", "old")
    r = store.gc()  # the writer's ticket keeps even the dead body (it died after it)
    assert (r.bodies_dropped, r.chunks_deleted) == (0, 0)
    data_id = commit(store, ing)
    r = store.gc()
    assert (r.bodies_dropped, r.chunks_deleted) == (1, 0)  # the new body uses them
    assert read_body(store, data_id, len(data)) == data


def test_garbage_reused_after_it_died_is_revived(store: objstore.Store) -> None:
    """Chunks already unreferenced before the writer started (a gc could not take
    them yet) are revived when reused, so the next gc leaves them alone."""
    data = os.urandom(4 * CHUNK)
    store.root.put_object("bkt", "old", data)
    store.root.put_object("bkt", "other", os.urandom(2 * CHUNK))
    store.root.delete_object("bkt", "old")
    store.blobs.leases.advance()  # a later gen: the reader below starts after the delete
    blocker = store.root.get_object("bkt", "other")  # holds the chunks' horizon back
    r = store.gc()
    assert (r.bodies_dropped, r.chunks_deleted) == (1, 0)  # dead, but not yet collectable
    blocker.close()
    ing = staged(store, data)  # sees refs == 0 from before its ticket: revives
    assert ing.reused
    assert store.gc().chunks_deleted == 0
    data_id = commit(store, ing)
    assert read_body(store, data_id, len(data)) == data


def test_writer_whose_chunk_gc_deleted_fails_retryably(tmp_path: Path, clock: Clock) -> None:
    """The last line of defence: if gc deletes a chunk file a writer wrote (here an
    orphan made to look old), the writer's commit fails instead of referencing it."""
    with open_at(tmp_path / "s", clock) as store:
        data = os.urandom(3 * CHUNK)
        ing = staged(store, data)
        old = (time.time_ns() - 3600 * 10**9) // 10**9
        for name in chunk_files(store):
            os.utime(store.blobs.chunks._path(bytes.fromhex(name)), (old, old))  # type: ignore[attr-defined]
        assert store.gc().orphans_deleted == 3
        with pytest.raises(ServiceUnavailable):
            commit(store, ing)
        with store.blobs.meta.begin() as txn:
            assert list(scan_prefix(txn, keyspace.CHUNKREF)) == []
        store.root.create_bucket("bkt")
        store.root.put_object("bkt", "k", data)  # the retry stores it again
        assert store.root.get_object("bkt", "k").read() == data


def test_two_gcs_at_once(tmp_path: Path, clock: Clock) -> None:
    """Two handles collect the same garbage concurrently: each chunk goes once,
    live data stays, and their K marks end up done and pruned."""
    a = open_at(tmp_path / "s", clock)
    b = open_at(tmp_path / "s", clock)
    try:
        a.root.create_bucket("bkt")
        live = os.urandom(3 * CHUNK)
        a.root.put_object("bkt", "live", live)
        for i in range(4):
            a.root.put_object("bkt", f"k{i}", os.urandom(2 * CHUNK))
            a.root.delete_object("bkt", f"k{i}")
        pause, resume = threading.Event(), threading.Event()
        real = a.blobs.chunks.delete_many

        def slow_delete(cids: object) -> None:
            pause.set()
            assert resume.wait(10)
            real(cids)  # type: ignore[arg-type]

        a.blobs.chunks.delete_many = slow_delete  # type: ignore[method-assign]
        results = []
        t = threading.Thread(target=lambda: results.append(a.gc()))
        t.start()
        assert pause.wait(10)  # a has doomed a batch and is about to unlink it
        rb = b.gc()  # b skips what a is deleting and collects the rest
        resume.set()
        t.join(10)
        a.blobs.chunks.delete_many = real  # type: ignore[method-assign]
        assert rb.complete and results[0].complete
        assert results[0].chunks_deleted + rb.chunks_deleted == 8
        assert len(chunk_files(a)) == 3
        assert a.root.get_object("bkt", "live").read() == live
        a.gc()
        b.gc()
        with a.blobs.meta.begin() as txn:
            assert list(scan_prefix(txn, keyspace.DOOMED)) == []
        assert a.fsck().healthy
    finally:
        a.close()
        b.close()


def test_gc_that_died_mid_delete_is_taken_over(tmp_path: Path, clock: Clock) -> None:
    """A gc that doomed chunks and died before marking them done blocks nothing
    for good: once its lease expires another gc finishes the job."""
    a = open_at(tmp_path / "s", clock)
    b = open_at(tmp_path / "s", clock)
    try:
        a.root.create_bucket("bkt")
        a.root.put_object("bkt", "k", os.urandom(2 * CHUNK))
        a.root.delete_object("bkt", "k")

        def crash(cids: object) -> None:
            raise KeyboardInterrupt  # dies between its K marks and its unlinks

        a.blobs.chunks.delete_many = crash  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            a.gc()
        with a.blobs.meta.begin() as txn:
            assert len(list(scan_prefix(txn, keyspace.DOOMED))) == 2
        assert b.gc().chunks_deleted == 0  # a's lease is live: b leaves its dooms alone
        assert len(chunk_files(b)) == 2
        clock.advance(TTL + 1)  # a never renews its lease
        b.gc()
        assert len(chunk_files(b)) == 0
        b.gc()
        with b.blobs.meta.begin() as txn:
            assert list(scan_prefix(txn, keyspace.DOOMED)) == []
    finally:
        a.close()
        b.close()


def test_crashed_writers_lease_expires(tmp_path: Path, clock: Clock) -> None:
    """A writer that stops renewing its lease (crashed or stalled) has its pending
    upload released by gc, and if it wakes up its commit fails retryably."""
    small = BlobSettings(
        chunk_size=4096, inline_threshold=100, window_size=16384, batch_bytes=16384
    )
    path = tmp_path / "s"
    survivor = open_at(path, clock)
    stalled = objstore.Store(
        FileChunkStore(path / "chunks"),
        LmdbMetadataStore(path / "meta"),
        path=str(path),
        settings=small,
        clock=clock,
        gc=GcSettings(lease_ttl=TTL, interval=None),
    )
    try:
        survivor.root.create_bucket("bkt")
        kept = os.urandom(100 * KiB)
        survivor.root.put_object("bkt", "kept", kept)
        ing = staged(stalled, os.urandom(100 * KiB))
        assert ing.has_pending_record  # several batches were committed as pending
        r = survivor.gc()
        assert r.uploads_released == 0  # its lease is live
        clock.advance(TTL + 1)
        r = survivor.gc()
        assert (r.leases_expired, r.uploads_released) == (1, 1)
        assert r.chunks_deleted > 0
        with pytest.raises(ServiceUnavailable):
            commit(stalled, ing)
        assert survivor.root.get_object("bkt", "kept").read() == kept
        assert survivor.fsck().healthy
        stalled.root.put_object("bkt", "again", b"x" * 5000)  # a new lease for new work
        assert survivor.root.get_object("bkt", "again").read() == b"x" * 5000
    finally:
        stalled.close()
        survivor.close()


def test_failed_upload_releases_its_chunks_at_once(tmp_path: Path, clock: Clock) -> None:
    """Without any gc: a body that fails midway, and an over-limit one, leave no chunk."""
    limits = objstore.Limits(max_put_size=20 * CHUNK)
    with open_at(tmp_path / "s", clock, limits=limits) as store:
        store.root.create_bucket("bkt")
        kept = os.urandom(3 * CHUNK)
        store.root.put_object("bkt", "kept", kept)

        def failing() -> Iterator[bytes]:
            yield kept + os.urandom(7 * CHUNK)  # shares chunks with "kept"
            raise OSError("connection reset")

        with pytest.raises(OSError):
            store.root.put_object("bkt", "k", failing())
        with pytest.raises(objstore.errors.EntityTooLarge):
            store.root.put_object("bkt", "big", os.urandom(21 * CHUNK))
        assert len(chunk_files(store)) == 3
        assert store.root.get_object("bkt", "kept").read() == kept
        assert store.stats().chunk_count == 3
        assert store.fsck().healthy


def test_failed_batched_upload_releases_pending_records_at_once(tmp_path: Path) -> None:
    from tests.conftest import open_batched

    with open_batched(tmp_path / "s") as store:
        store.root.create_bucket("bkt")

        def failing() -> Iterator[bytes]:
            for _ in range(20):
                yield os.urandom(8 * KiB)
            raise OSError("connection reset")

        with pytest.raises(OSError):
            store.root.put_object("bkt", "k", failing())
        assert chunk_files(store) == set()
        with store.blobs.meta.begin() as txn:
            for prefix in (keyspace.PENDING, keyspace.DATA, keyspace.CHUNKREF, keyspace.MANIFEST):
                assert list(scan_prefix(txn, prefix)) == []


def test_tmp_leftovers_are_removed_when_old(tmp_path: Path, clock: Clock) -> None:
    with open_at(tmp_path / "s", clock) as store:
        tmp = tmp_path / "s" / "chunks" / "tmp"
        old, fresh = tmp / "123.4.5", tmp / "123.4.6"
        old.write_bytes(b"half a chunk")
        fresh.write_bytes(b"being written")
        t_old = (clock.now - 3600 * 10**9) / 1e9
        t_new = (clock.now + 3600 * 10**9) / 1e9  # newer than any lease's floor
        os.utime(old, (t_old, t_old))
        os.utime(fresh, (t_new, t_new))
        assert store.gc().tmp_deleted == 1
        assert not old.exists() and fresh.exists()


def test_orphans_of_a_crash_go_but_not_those_of_a_live_writer(tmp_path: Path, clock: Clock) -> None:
    with open_at(tmp_path / "s", clock) as store:
        data = os.urandom(2 * CHUNK)
        ing = staged(store, data)  # a live writer's files: no records yet
        crashed = os.urandom(CHUNK)
        name = blake3.blake3(crashed).hexdigest()
        store.blobs.chunks.put(ChunkId(bytes.fromhex(name)), crashed)
        store.blobs.chunks.sync()
        t_old = (clock.now - 3600 * 10**9) / 1e9
        os.utime(store.blobs.chunks._path(bytes.fromhex(name)), (t_old, t_old))  # type: ignore[attr-defined]
        r = store.gc()
        assert r.orphans_deleted == 1
        assert name not in chunk_files(store)
        data_id = commit(store, ing)
        assert read_body(store, data_id, len(data)) == data


def test_background_gc(tmp_path: Path) -> None:
    """gc_interval runs passes on a thread of the store's own."""
    with objstore.open(tmp_path / "s", chunk_size=CHUNK, gc_interval=0.05) as store:
        store.root.create_bucket("bkt")
        store.root.put_object("bkt", "k", os.urandom(3 * CHUNK))
        store.root.delete_object("bkt", "k")
        deadline = time.monotonic() + 30
        while chunk_files(store) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert chunk_files(store) == set()


def test_gc_after_close_is_store_closed(tmp_path: Path, clock: Clock) -> None:
    store = open_at(tmp_path / "s", clock)
    store.close()
    with pytest.raises(objstore.errors.StoreClosed):
        store.gc()


@pytest.mark.parametrize("bad", [0, -1.0, "often", True])
def test_bad_gc_settings_are_invalid_argument(bad: object) -> None:
    with pytest.raises(objstore.errors.InvalidArgument):
        objstore.open(None, gc_interval=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("verify_data", [True, False])
def test_fsck_reports_a_chunk_lost_after_gc_collected_it_once(
    tmp_path: Path, clock: Clock, verify_data: bool
) -> None:
    """A chunk gc deleted, then stored again by a later upload, keeps gc's finished
    deletion mark until a later pass prunes it. fsck must still report that chunk when
    its file goes missing: the mark is about the earlier file (review 9k, M1)."""
    s = open_at(tmp_path / "s", clock)
    try:
        s.root.create_bucket("bkt")
        data = os.urandom(2 * CHUNK)
        s.root.put_object("bkt", "k", data)
        s.root.delete_object("bkt", "k")
        assert s.gc().chunks_deleted == 2
        s.root.put_object("bkt", "k", data)  # the same bytes: both chunks again
        with s.blobs.meta.begin() as txn:
            assert len(list(scan_prefix(txn, keyspace.DOOMED))) == 2  # not pruned yet
        assert s.fsck(verify_data=verify_data).healthy
        lost = sorted(chunk_files(s))[0]
        os.unlink(chunk_path(s, lost))
        result = s.fsck(verify_data=verify_data)
        assert result.missing == (lost,)
        assert not result.healthy
    finally:
        s.close()


def test_fsck_does_not_report_a_chunk_collected_and_stored_again_while_it_looked(
    tmp_path: Path, clock: Clock
) -> None:
    """The other side of the rule above: gc collects a chunk between fsck's snapshot
    and its look at the file, and an upload stores the chunk again before fsck
    re-checks. The chunk is there: nothing is reported."""
    s = open_at(tmp_path / "s", clock)
    try:
        s.root.create_bucket("bkt")
        data = os.urandom(CHUNK)
        s.root.put_object("bkt", "k", data)
        s.root.delete_object("bkt", "k")  # its chunk: zero references, not collected yet
        real_get = s.blobs.chunks.get
        looks: list[bool] = []

        def get(cid: ChunkId) -> bytes:
            if not looks:
                assert s.gc().chunks_deleted == 1  # collected under fsck's snapshot
            try:
                return real_get(cid)
            except Exception:
                looks.append(False)
                s.root.put_object("bkt", "k", data)  # stored again before the re-check
                raise
            finally:
                looks.append(True)

        s.blobs.chunks.get = get  # type: ignore[method-assign]
        result = s.fsck()
        assert looks[0] is False  # the first look found the file gone
        assert result.healthy, result
        assert s.root.get_object("bkt", "k").read() == data
    finally:
        s.close()


def test_fsck_does_not_report_a_chunk_gc_collected_again_before_the_second_look(
    tmp_path: Path, clock: Clock
) -> None:
    """Review 9l, M4: the chunk is collected under fsck's snapshot, stored again (so its
    record stands beside gc's finished mark), then collected once more before fsck's
    second look. The second look finds no file, but no record names the chunk any more:
    the store is healthy and fsck must say so."""
    s = open_at(tmp_path / "s", clock)
    try:
        s.root.create_bucket("bkt")
        data = os.urandom(CHUNK)
        s.root.put_object("bkt", "k", data)
        s.root.delete_object("bkt", "k")
        real_get = s.blobs.chunks.get
        looks: list[str] = []

        def get(cid: ChunkId) -> bytes:
            if not looks:
                assert s.gc().chunks_deleted == 1  # collected under fsck's snapshot
                looks.append("first")
                try:
                    return real_get(cid)
                finally:
                    s.root.put_object("bkt", "k", data)  # recorded again
            looks.append("second")
            s.root.delete_object("bkt", "k")
            assert s.gc().chunks_deleted == 1  # and collected again
            return real_get(cid)

        s.blobs.chunks.get = get  # type: ignore[method-assign]
        result = s.fsck()
        assert looks == ["first", "second"]
        assert result.healthy, result
    finally:
        s.close()
