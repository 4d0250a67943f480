"""An in-memory :class:`~objstore.blob.chunkstore.ChunkStore`."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable

from objstore.blob.chunkstore import ChunkId, ChunkMissing, OwnerMark


class MemoryChunkStore:
    """Chunks in a dict; ``sync`` is a no-op."""

    def __init__(self) -> None:
        self._chunks: dict[ChunkId, bytes] = {}
        self._written: dict[ChunkId, int] = {}
        self.set_apart: dict[ChunkId, bytes] = {}
        self._owner: OwnerMark | None = None
        self._lock = threading.Lock()

    def read_owner(self) -> OwnerMark | None:
        return self._owner

    def claim_owner(self, mark: OwnerMark) -> OwnerMark:
        with self._lock:
            if self._owner is None:
                self._owner = mark
            return self._owner

    def rewrite_owner(self, mark: OwnerMark, expected: OwnerMark) -> bool:
        with self._lock:
            if self._owner != expected:
                return False
            self._owner = mark
            return True

    def has(self, cid: ChunkId) -> bool:
        return cid in self._chunks

    def get(self, cid: ChunkId) -> bytes:
        try:
            return self._chunks[cid]
        except KeyError:
            raise ChunkMissing(cid.hex()) from None

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        with self._lock:
            self._chunks[cid] = bytes(data)  # over a damaged copy too (a quarantined chunk)
            self._written[cid] = time.time_ns()

    def delete(self, cid: ChunkId) -> None:
        with self._lock:
            self._chunks.pop(cid, None)
            self._written.pop(cid, None)

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        return {c for c in cids if c in self._chunks}

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        for cid, data in items:
            self.put(cid, data)

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        for cid in cids:
            self.delete(cid)

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        return None

    def durable_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        return self.has_many(cids)  # as durable as this store gets

    def iter_ids(self) -> Iterable[ChunkId]:
        return list(self._chunks)

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        with self._lock:
            data = self._chunks.get(cid)
            return None if data is None else (len(data), self._written[cid])

    def clean_tmp(self, older_than_ns: int) -> int:
        return 0  # puts are atomic: nothing is ever half-written

    def set_aside(self, cid: ChunkId) -> bool:
        with self._lock:
            data = self._chunks.pop(cid, None)
            self._written.pop(cid, None)
            if data is None:
                return False
            self.set_apart[cid] = data
            return True

    def close(self) -> None:
        return None
