"""Chunks as files: ``<root>/ab/cd/<64 hex digits>``.

One file per chunk keeps deletion trivial and maps one-to-one onto an
S3-compatible backend later. Writes go to a temporary name and are renamed
into place, so a chunk id never names half-written bytes; durability comes
from one ``syncfs`` per batch rather than one ``fsync`` per file (a journal
commit each), which is what makes large uploads run at disk speed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Iterable, Iterator

from objstore.blob.chunkstore import ChunkId, ChunkMissing

_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name, use_errno=True) if _libc_name else None
_syncfs = getattr(_libc, "syncfs", None)
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
_SYNC_FILE_RANGE_WRITE = 2


class FileChunkStore:
    """A directory of chunk files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        os.makedirs(self.root, exist_ok=True)
        self._tmp = os.path.join(self.root, "tmp")
        os.makedirs(self._tmp, exist_ok=True)
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._counter = 0
        self._pid = os.getpid()

    def _path(self, cid: ChunkId) -> str:
        h = cid.hex()
        return os.path.join(self.root, h[:2], h[2:4], h)

    def _dir(self, cid: ChunkId) -> str:
        h = cid.hex()
        d = os.path.join(self.root, h[:2], h[2:4])
        if d not in self._made:
            os.makedirs(d, exist_ok=True)
            self._made.add(d)
        return d

    def has(self, cid: ChunkId) -> bool:
        return os.path.exists(self._path(cid))

    def get(self, cid: ChunkId) -> bytes:
        try:
            with open(self._path(cid), "rb", buffering=0) as f:
                return f.read()
        except FileNotFoundError:
            raise ChunkMissing(cid.hex()) from None

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        final = os.path.join(self._dir(cid), cid.hex())
        with self._lock:
            self._counter += 1
            n = self._counter
        tmp = os.path.join(self._tmp, f"{self._pid}.{threading.get_ident()}.{n}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if _sync_file_range is not None:
                # Start writeback now (it does not wait): the batch's syncfs
                # then finds little left to flush, and disk and CPU overlap.
                _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        # rename is atomic: readers see the old chunk or the whole new one.
        os.replace(tmp, final)

    def delete(self, cid: ChunkId) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(cid))

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        return {c for c in cids if self.has(c)}

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        for cid, data in items:
            self.put(cid, data)

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        for cid in cids:
            self.delete(cid)

    def sync(self) -> None:
        # Always flush: skipping when "nothing is dirty" races with another
        # thread's flush that is still running.
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs is None or _syncfs(fd) != 0:
                os.sync()  # no syncfs (or it failed): the whole-system flush still guarantees it
        finally:
            os.close(fd)

    def iter_ids(self) -> Iterator[ChunkId]:
        for top in sorted(os.listdir(self.root)):
            if len(top) != 2:
                continue
            for mid in sorted(os.listdir(os.path.join(self.root, top))):
                for name in sorted(os.listdir(os.path.join(self.root, top, mid))):
                    if len(name) == 64:
                        yield ChunkId(bytes.fromhex(name))

    def close(self) -> None:
        return None
