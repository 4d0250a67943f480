"""What a failed upload leaves for dedup to trust (break-it review 9j)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

import objstore
from objstore import keyspace
from objstore.blob import ingest
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.errors import InsufficientStorage, ObjstoreError

CH = 4096


@pytest.mark.parametrize("freed", [True, False])
def test_a_chunk_a_failed_upload_never_stored_gets_no_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, freed: bool
) -> None:
    """A failed upload gave every chunk it meant to write a zero-reference record, also
    one whose put failed (disk full). Left in place (another upload in flight, or a close
    stopping the release: ``freed`` False), the record had the next upload of those bytes
    acknowledged by reference to a chunk that was never stored: DataCorruption on read.
    Only chunks that are here and durable get records now."""
    lost = os.urandom(CH)
    cid = ChunkId(blake3.blake3(lost).digest())
    real_put = FileChunkStore.put

    def put(self: FileChunkStore, c: ChunkId, data: bytes | bytearray | memoryview) -> None:
        if c == cid:
            raise InsufficientStorage("no space left on device (simulated)")
        real_put(self, c, data)

    if not freed:
        monkeypatch.setattr(ingest, "free_now", lambda blobs, cids: 0)
    with objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None) as s:
        s.root.create_bucket("bkt")
        monkeypatch.setattr(FileChunkStore, "put", put)

        def body() -> Iterator[bytes]:
            yield os.urandom(CH)
            yield lost

        with pytest.raises(ObjstoreError):
            s.root.put_object("bkt", "b", body())
        monkeypatch.setattr(FileChunkStore, "put", real_put)
        with s._meta.begin() as txn:
            assert txn.get(keyspace.CHUNKREF + cid) is None
        s.root.put_object("bkt", "c", lost)
        assert s.root.get_object("bkt", "c").read() == lost
        assert s.fsck(verify_data=True).healthy


def test_a_closed_chunk_directory_leaves_no_chunk_pending(tmp_path: Path) -> None:
    """Review 9j: a failed upload whose own sync failed may record a chunk still pending
    (a temporary file); a close that left it so had the record name a chunk gone at the
    next open. Close makes what is pending durable, under its name."""
    chunks = FileChunkStore(tmp_path / "c")
    data = os.urandom(CH)
    cid = ChunkId(blake3.blake3(data).digest())
    chunks.put(cid, data)
    assert chunks._q.files and not os.path.exists(chunks._path(cid))
    chunks.close()
    again = FileChunkStore(tmp_path / "c")
    assert again.get(cid) == data
    again.close()


def test_a_sync_meeting_a_close_is_store_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9j, L1: a close that stopped the fsync threads under a running sync failed
    the upload with the executor's raw RuntimeError."""
    from concurrent.futures import ThreadPoolExecutor

    from objstore.errors import StoreClosed

    chunks = FileChunkStore(tmp_path / "c")
    data = os.urandom(CH)
    chunks.put(ChunkId(blake3.blake3(data).digest()), data)
    stopped = ThreadPoolExecutor(1)
    stopped.shutdown()
    monkeypatch.setattr(chunks._q, "_sync_pool", lambda: stopped)
    with pytest.raises(StoreClosed):
        chunks.sync()


def test_a_chunk_an_orphan_sweep_has_doomed_gets_no_record(tmp_path: Path) -> None:
    """Review 9k: a failed upload recorded a chunk that a gc's orphan sweep had marked for
    deletion (no record named it: a crash leftover) and then unlinked; the next upload
    of those bytes trusted the record, wrote nothing, was acknowledged and was
    unreadable. A chunk with a pending doom gets no record now."""
    import threading
    import time

    s = objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None)
    try:
        s.root.create_bucket("bkt")
        chunks = s.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        x = os.urandom(2 * CH)
        c, d = (ChunkId(blake3.blake3(x[i : i + CH]).digest()) for i in (0, CH))
        chunks.put(c, x[:CH])  # a crash leftover: synced under its name, no record, old
        chunks.sync()
        os.utime(chunks._path(c), (time.time() - 3600,) * 2)
        at_put, go_put = threading.Event(), threading.Event()
        at_unlink, go_unlink = threading.Event(), threading.Event()
        real_put, real_delete_many = chunks.put, chunks.delete_many

        def put(cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
            if cid == c and not go_put.is_set():
                at_put.set()
                go_put.wait(30)
            if cid == d:
                raise InsufficientStorage("no space left on device (simulated)")
            real_put(cid, data)

        def delete_many(cids: Iterator[ChunkId]) -> None:
            cids = list(cids)
            if c in cids and not go_unlink.is_set():
                at_unlink.set()
                go_unlink.wait(30)
            real_delete_many(cids)

        chunks.put, chunks.delete_many = put, delete_many  # type: ignore[method-assign]
        failed: list[BaseException] = []

        def upload() -> None:
            try:
                s.root.put_object("bkt", "u1", x)
            except ObjstoreError as exc:
                failed.append(exc)

        u1 = threading.Thread(target=upload)
        u1.start()
        assert at_put.wait(30)  # u1 decided to write c (no record, no doom)
        sweep = threading.Thread(target=lambda: s.gc(orphans=True))
        sweep.start()
        assert at_unlink.wait(30)  # the sweep doomed c and is about to unlink it
        go_put.set()
        u1.join(30)
        go_unlink.set()
        sweep.join(30)
        assert failed
        chunks.put, chunks.delete_many = real_put, real_delete_many  # type: ignore[method-assign]
        s.root.put_object("bkt", "u2", x[:CH])
        assert s.root.get_object("bkt", "u2").read() == x[:CH]
    finally:
        s.close()


def test_a_put_objects_rolled_back_releases_every_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9l, L2: when the second body of a put_objects failed its commit check, the
    transaction rolled back, yet the first body counted as committed and its chunk files
    stayed with no record until an orphan sweep. Both bodies are released now."""
    from objstore.blob.store import BlobStore
    from objstore.errors import NoSuchKey, ServiceUnavailable

    s = objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None)
    try:
        s.root.create_bucket("bkt")
        real_commit = BlobStore.commit
        calls: list[int] = []

        def commit(self: BlobStore, txn: object, ing: object) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise ServiceUnavailable("collected during the upload (injected)")
            real_commit(self, txn, ing)  # type: ignore[arg-type]

        monkeypatch.setattr(BlobStore, "commit", commit)
        with pytest.raises(ServiceUnavailable):
            s.root.put_objects("bkt", [("a", os.urandom(3 * CH)), ("b", os.urandom(2 * CH))])
        monkeypatch.undo()
        with pytest.raises(NoSuchKey):
            s.root.head_object("bkt", "a")
        left = set(s.blobs.chunks.iter_ids())
        with s._meta.begin() as txn:
            # Freed at once, or recorded (unreferenced) for gc while the other body's
            # ticket was live: never a file no record names, left for an orphan sweep.
            assert all(txn.get(keyspace.CHUNKREF + cid) is not None for cid in left)
        s.gc()
        assert list(s.blobs.chunks.iter_ids()) == []
        assert s.fsck().healthy
    finally:
        s.close()
