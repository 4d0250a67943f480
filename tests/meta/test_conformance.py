"""The MetadataStore conformance suite against every backend."""

from __future__ import annotations

from pathlib import Path

from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.memory import MemoryMetadataStore
from objstore.testing import MetadataStoreTests


class TestLmdb(MetadataStoreTests):
    def make_store(self, tmp_path: Path) -> LmdbMetadataStore:
        return LmdbMetadataStore(tmp_path / "meta", map_size=1 << 30)


class TestMemory(MetadataStoreTests):
    def make_store(self, tmp_path: Path) -> MemoryMetadataStore:
        return MemoryMetadataStore()
