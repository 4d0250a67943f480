"""Reusable conformance suites for objstore's protocols, and ``Server`` (the S3 gateway
on a free loopback port, for tests of S3 clients).

Subclass them in a backend's tests and provide a factory::

    class TestMyChunks(ChunkStoreTests):
        def make_store(self, tmp_path):
            return MyChunkStore(...)
"""

from typing import Any

from objstore.testing.chunkstore import ChunkStoreTests
from objstore.testing.metadata import MetadataStoreTests

__all__ = ["ChunkStoreTests", "MetadataStoreTests", "Server"]


def __getattr__(name: str) -> Any:
    # The gateway (aiohttp) is imported only by tests that run a server.
    if name == "Server":
        from objstore.testing.server import Server

        return Server
    raise AttributeError(name)
