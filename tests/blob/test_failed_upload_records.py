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
    assert chunks._pending and not os.path.exists(chunks._path(cid))
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
    monkeypatch.setattr(chunks, "_sync_pool", lambda: stopped)
    with pytest.raises(StoreClosed):
        chunks.sync()
