"""The ChunkStore conformance suite, unchanged, against S3ChunkStore on RGW (or moto)."""

from __future__ import annotations

from pathlib import Path

import pytest

from objstore.backends.s3 import S3ChunkStore
from objstore.testing import ChunkStoreTests


class TestS3Chunks(ChunkStoreTests):
    @pytest.fixture(autouse=True)
    def _url(self, s3_url: str) -> None:
        self.url = s3_url

    def make_store(self, tmp_path: Path) -> S3ChunkStore:
        return S3ChunkStore.from_url(self.url)
