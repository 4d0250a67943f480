"""The ChunkStore conformance suite against every backend."""

from __future__ import annotations

from pathlib import Path

from objstore.blob.files import FileChunkStore
from objstore.blob.memory import MemoryChunkStore
from objstore.testing import ChunkStoreTests


class TestFiles(ChunkStoreTests):
    def make_store(self, tmp_path: Path) -> FileChunkStore:
        return FileChunkStore(tmp_path / "chunks")


class TestMemory(ChunkStoreTests):
    def make_store(self, tmp_path: Path) -> MemoryChunkStore:
        return MemoryChunkStore()
