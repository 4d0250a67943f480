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
from collections.abc import Iterable

import pytest

import objstore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.memory import MemoryChunkStore
from objstore.errors import ObjstoreError, ServiceUnavailable
from objstore.meta.memory import MemoryMetadataStore

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


class Broken(io.RawIOBase):
    """A body that fails after the first 20 MiB of DATA (the upload's chunks are written)."""

    def __init__(self) -> None:
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        if self.pos >= 20 << 20:
            raise OSError("test: the client went away")
        n = min(len(b), (20 << 20) - self.pos)
        b[:n] = DATA[self.pos : self.pos + n]
        self.pos += n
        return n


def test_gc_finishes_its_own_failed_clean_up() -> None:
    chunks = Unreachable()
    with objstore.open(
        metadata=MemoryMetadataStore(), chunks=chunks, chunk_size=1 << 20, gc_interval=None
    ) as s:
        s.root.create_bucket(B)
        chunks.down = True
        with pytest.raises((ObjstoreError, OSError)):
            s.root.put_object(B, "k", io.BufferedReader(Broken()))
        chunks.down = False
        s.gc()
        s.root.put_object(B, "k", DATA)  # waited on the stale mark, then failed, before
        assert s.root.get_object(B, "k").read() == DATA
        assert s.fsck().healthy
