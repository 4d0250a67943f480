"""A failed upload whose clean-up cannot reach the chunk store (break-it review of
issue 9, M2).

The clean-up marks the upload's chunks for deletion (a K mark under the handle's lease)
and unlinks them; when the unlink failed (RGW unreachable), the mark stayed under a
live lease, gc skipped it as another gc's work in progress, and every later PUT of the
same bytes waited on it and failed with ServiceUnavailable for the handle's lifetime.
gc now finishes its own handle's marks that no thread of it is still at.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterable
from pathlib import Path

import pytest

import objstore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.memory import MemoryChunkStore
from objstore.errors import ObjstoreError, ServiceUnavailable
from objstore.meta.memory import MemoryMetadataStore
from tests.bodies import CutOff

B = "bkt"
DATA = os.urandom(24 << 20)


class Unreachable(MemoryChunkStore):
    """Deletes fail while ``down`` is set (an outage seen only by the clean-up)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        if self.down:
            raise ServiceUnavailable("test: the chunk store is unreachable")
        super().delete_many(cids)


def test_gc_finishes_its_own_failed_clean_up() -> None:
    chunks = Unreachable()
    with objstore.open(
        metadata=MemoryMetadataStore(), chunks=chunks, chunk_size=1 << 20, gc_interval=None
    ) as s:
        s.root.create_bucket(B)
        chunks.down = True
        with pytest.raises((ObjstoreError, OSError)):
            s.root.put_object(B, "k", io.BufferedReader(CutOff(DATA, 20 << 20)))
        chunks.down = False
        s.gc()
        s.root.put_object(B, "k", DATA)  # waited on the stale mark, then failed, before
        assert s.root.get_object(B, "k").read() == DATA
        assert s.fsck().healthy


def test_a_chunk_that_cannot_be_deleted_does_not_stop_gc(tmp_path: Path) -> None:
    """Review 9 (R4): a chunk path turned into a directory made Store.gc() raise a raw
    IsADirectoryError, at the same place on every later pass (its K mark stayed under the
    handle's lease), so no other chunk was ever collected again."""
    root = tmp_path / "s"
    gone = random.Random(4).randbytes(3 << 20)
    other = random.Random(5).randbytes(3 << 20)
    with objstore.open(root, gc_interval=None, chunk_size=1 << 20) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", gone)
        s.root.put_object(B, "other", other)
        s.root.delete_object(B, "k")
        files = [p for p in (root / "chunks").rglob("*") if len(p.name) == 64]
        victim = next(p for p in files if p.read_bytes() in gone)
        victim.unlink()
        victim.mkdir()
        (victim / "x").write_bytes(b"x")
        for _ in range(2):
            r = s.gc()
            assert r.chunks_failed == 1 and not r.complete
            assert r.failure is not None and "deleting chunk" in r.failure
        left = [p for p in (root / "chunks").rglob("*") if len(p.name) == 64 and p.is_file()]
        assert sorted(p.read_bytes() for p in left) == sorted(
            other[i : i + (1 << 20)] for i in range(0, len(other), 1 << 20)
        )
        # Repaired: the next pass deletes it, and its bytes can be stored again.
        (victim / "x").unlink()
        victim.rmdir()
        r = s.gc()
        assert r.complete and r.chunks_failed == 0
        s.root.put_object(B, "k", gone)
        assert s.root.get_object(B, "k").read() == gone
        assert s.root.get_object(B, "other").read() == other
        assert s.fsck().healthy
