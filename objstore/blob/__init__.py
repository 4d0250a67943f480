"""Bytes: chunking, hashing, chunk stores and object manifests."""

from objstore.blob.chunkstore import ChunkId, ChunkStore
from objstore.blob.files import FileChunkStore
from objstore.blob.memory import MemoryChunkStore

__all__ = ["ChunkId", "ChunkStore", "FileChunkStore", "MemoryChunkStore"]
