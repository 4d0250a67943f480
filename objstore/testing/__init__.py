"""Reusable conformance suites for objstore's protocols.

Subclass them in a backend's tests and provide a factory::

    class TestMyChunks(ChunkStoreTests):
        def make_store(self, tmp_path):
            return MyChunkStore(...)
"""

from objstore.testing.chunkstore import ChunkStoreTests
from objstore.testing.metadata import MetadataStoreTests

__all__ = ["ChunkStoreTests", "MetadataStoreTests"]
