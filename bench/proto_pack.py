"""Prototypes of the two durability designs the store does not use, for ``bench durability``.

- :class:`SyncfsChunkStore`: the design before issue 6: one ``syncfs`` per batch, which also
  flushes every other process's dirty data on the filesystem.
- :class:`PackChunkStore`: chunks appended to one pack file per batch, with an index file;
  ``sync`` fsyncs the pack, appends the batch's index entries and fsyncs the index. Enough of
  the ``ChunkStore`` protocol for PUT and GET (``delete`` only forgets: reclaiming the space
  would need repacking, which is part of why the store does not use packs).
"""

from __future__ import annotations

import ctypes
import os
import struct
import threading
from collections.abc import Collection, Iterable, Iterator

from objstore.blob.chunkstore import ChunkId, ChunkMissing
from objstore.blob.files import FileChunkStore

_libc = ctypes.CDLL(None, use_errno=True)
_INDEX = struct.Struct("<32sIQI")  # chunk id, pack number, offset, length
_SFR_WRITE = 2


class SyncfsChunkStore(FileChunkStore):
    """FileChunkStore whose sync is one ``syncfs`` of the whole filesystem (then the renames)."""

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _libc.syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)
        changed: set[str] = set()
        for cid, tmp in list(self._q.files.items()):
            self._place(cid, tmp, changed)
            self._q.take_back(cid)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            _libc.syncfs(fd)  # the renames
        finally:
            os.close(fd)


class PackChunkStore:
    """Chunks appended to pack files (one per batch), located through an index."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._lock = threading.Lock()
        self._index: dict[ChunkId, tuple[int, int, int]] = {}
        self._unsynced: list[tuple[ChunkId, int, int, int]] = []
        self._fds: dict[int, int] = {}
        self._pack = -1
        self._end = 0
        self._index_fd = os.open(
            os.path.join(root, "index"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644
        )
        raw = os.pread(self._index_fd, os.fstat(self._index_fd).st_size, 0)
        for cid, pack, off, n in _INDEX.iter_unpack(raw[: len(raw) // _INDEX.size * _INDEX.size]):
            self._index[ChunkId(cid)] = (pack, off, n)
            self._pack = max(self._pack, pack)
        self._new_pack()

    def _new_pack(self) -> None:
        self._pack += 1
        self._end = 0
        self._fds[self._pack] = os.open(
            os.path.join(self.root, f"pack-{self._pack:08d}"), os.O_RDWR | os.O_CREAT, 0o644
        )

    def _fd(self, pack: int) -> int:
        fd = self._fds.get(pack)
        if fd is None:
            fd = os.open(os.path.join(self.root, f"pack-{pack:08d}"), os.O_RDONLY)
            self._fds[pack] = fd
        return fd

    def has(self, cid: ChunkId) -> bool:
        return cid in self._index

    def get(self, cid: ChunkId) -> bytes:
        try:
            pack, off, n = self._index[cid]
        except KeyError:
            raise ChunkMissing(cid.hex()) from None
        return os.pread(self._fd(pack), n, off)

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        with self._lock:
            if cid in self._index:
                return
            pack, off = self._pack, self._end
            self._end += n
            self._index[cid] = (pack, off, n)
            fd = self._fds[pack]
        view = memoryview(data)
        done = 0
        while done < n:
            done += os.pwrite(fd, view[done:], off + done)
        _libc.sync_file_range(fd, ctypes.c_int64(off), ctypes.c_int64(n), _SFR_WRITE)
        with self._lock:
            self._unsynced.append((cid, pack, off, n))

    def delete(self, cid: ChunkId) -> None:
        with self._lock:
            self._index.pop(cid, None)

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        return {c for c in cids if c in self._index}

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        for cid, data in items:
            self.put(cid, data)

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        for cid in cids:
            self.delete(cid)

    def durable_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        with self._lock:
            unsynced = {c for c, *_ in self._unsynced}
        return self.has_many(cids) - unsynced

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        with self._lock:
            entries, self._unsynced = self._unsynced, []
            packs = {p for _, p, _, _ in entries}
            if self._pack in packs:
                self._new_pack()  # the next batch appends to a fresh pack
        if not entries:
            return
        for pack in packs:
            os.fsync(self._fds[pack])
        os.write(self._index_fd, b"".join(_INDEX.pack(*e) for e in entries))
        os.fsync(self._index_fd)
        fd = os.open(self.root, os.O_RDONLY)  # the new pack files' names
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def iter_ids(self) -> Iterator[ChunkId]:
        return iter(list(self._index))

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        os.close(self._index_fd)
