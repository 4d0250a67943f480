"""The owner mark of a store's chunks, on the embedded default and in-memory stores.

The several-backend cases (two stores on one chunk location, a store reopened on a
wrong one, racing first opens) are in tests/backends/test_chunk_owner.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import lmdb
import pytest

import objstore
from objstore.blob.chunkstore import OWNER_NAME
from objstore.blob.files import FileChunkStore
from objstore.blob.memory import MemoryChunkStore
from objstore.errors import StoreDamaged
from objstore.meta import marker
from objstore.meta.memory import MemoryMetadataStore

DATA = bytes(range(256)) * 8192  # 2 MiB: chunked, not inlined


def _populated(root: Path) -> str:
    with objstore.open(root) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", DATA)
    ident = marker.read_marker(str(root))
    assert ident is not None
    return ident.store_id


def test_a_new_store_marks_its_chunk_directory(tmp_path: Path) -> None:
    store_id = _populated(tmp_path / "s")
    assert FileChunkStore(tmp_path / "s" / "chunks").read_owner() == store_id


def test_a_claim_not_yet_recorded_is_recorded_on_the_next_open(tmp_path: Path) -> None:
    """A crash after the mark was written and before the metadata recorded it."""
    root = tmp_path / "s"
    store_id = _populated(root)
    env = lmdb.open(str(root / "meta"))
    try:
        with env.begin(write=True) as txn:
            assert txn.delete(b"Gchunks-owner")
    finally:
        env.close()
    with objstore.open(root) as s:
        assert s.root.get_object("bkt", "k").read() == DATA
    env = lmdb.open(str(root / "meta"), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            assert txn.get(b"Gchunks-owner") == store_id.encode()
    finally:
        env.close()


def test_an_unreadable_mark_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _populated(root)
    (root / "chunks" / OWNER_NAME).write_text('{"store_id": 7}')
    with pytest.raises(StoreDamaged, match="unreadable"):
        objstore.open(root)


def test_a_lost_chunk_directory_is_refused_not_refilled(tmp_path: Path) -> None:
    """Every chunk file gone (a wrong mount, a wiped disk): the store refuses to open
    rather than taking new writes into a directory that lost the old ones; putting
    the mark back is the documented way to accept the loss."""
    root = tmp_path / "s"
    store_id = _populated(root)
    shutil.rmtree(root / "chunks")
    with pytest.raises(StoreDamaged, match="does not carry the mark") as caught:
        objstore.open(root)
    assert store_id in str(caught.value)
    assert not (root / "chunks" / OWNER_NAME).exists()
    (root / "chunks" / OWNER_NAME).write_text(f'{{"store_id": "{store_id}"}}')
    with objstore.open(root) as s:
        assert s.fsck().healthy is False  # the object's chunks are reported missing


def test_one_memory_chunk_store_serves_one_store(tmp_path: Path) -> None:
    chunks = MemoryChunkStore()
    with objstore.open(metadata=MemoryMetadataStore(), chunks=chunks) as a:
        # Before the first store wrote anything, only the owner mark tells them apart.
        with pytest.raises(StoreDamaged, match="belongs to store"):
            objstore.open(metadata=MemoryMetadataStore(), chunks=chunks)
        a.root.create_bucket("bkt")
        a.root.put_object("bkt", "k", DATA)
        a.gc()
        assert a.root.get_object("bkt", "k").read() == DATA


def test_a_chunk_directory_of_another_local_store_is_refused(tmp_path: Path) -> None:
    _populated(tmp_path / "a")
    _populated(tmp_path / "b")
    with pytest.raises(StoreDamaged, match="belongs to store"):
        objstore.open(tmp_path / "a", chunk_store=FileChunkStore(tmp_path / "b" / "chunks"))
    with objstore.open(tmp_path / "b") as b:
        b.gc()
        assert b.root.get_object("bkt", "k").read() == DATA
