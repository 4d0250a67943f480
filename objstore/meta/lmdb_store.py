"""The LMDB :class:`~objstore.meta.base.MetadataStore` (the only module that imports lmdb).

LMDB gives one writer at a time across processes, readers that never block,
and no recovery step after a crash. Commits are durable (``sync=True``,
``metasync=True``) because a write is acknowledged only after its commit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import lmdb

from objstore.errors import InternalError, StoreClosed


class _LmdbTxn:
    def __init__(self, txn: Any) -> None:
        self._txn = txn

    def get(self, key: bytes) -> bytes | None:
        value = self._txn.get(key)
        return None if value is None else bytes(value)

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        cur = self._txn.cursor()
        if not cur.set_range(start):
            return
        if stop is None:
            yield from cur.iternext(keys=True, values=True)
            return
        for key, value in cur.iternext(keys=True, values=True):
            if key >= stop:
                return
            yield key, value

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        cur = self._txn.cursor()
        if stop is None:
            positioned = cur.last()
        elif cur.set_range(stop):
            positioned = cur.prev()
        else:
            positioned = cur.last()
        if not positioned:
            return
        for key, value in cur.iterprev(keys=True, values=True):
            if key < start:
                return
            yield key, value

    def put(self, key: bytes, value: bytes) -> None:
        self._txn.put(key, value)

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        put = self._txn.put
        for key, value in items:
            put(key, value)

    def delete(self, key: bytes) -> bool:
        return bool(self._txn.delete(key))


class _SharedEnv:
    """One LMDB environment and its writer lock, shared by every store on its files.

    LMDB forbids opening the same environment twice in one process (its POSIX
    locks are per process, so a second open would corrupt the lock table; py-lmdb
    refuses it). Two ``objstore.open`` calls on one path therefore share one
    environment, closed when the last of them closes.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.users = 1
        # LMDB write transactions belong to their thread; serialise writers of
        # this process here so a second thread waits instead of failing.
        self.write_lock = threading.Lock()


# (pid, st_dev, st_ino) of an environment directory -> its shared environment.
# The pid keeps a forked child from inheriting its parent's handle.
_OPEN: dict[tuple[int, int, int], _SharedEnv] = {}
_OPEN_LOCK = threading.Lock()


class LmdbMetadataStore:
    """Metadata in one LMDB environment under ``path``.

    Raises InternalError when LMDB cannot open it, and StoreClosed on use after
    :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, map_size: int = 1 << 40) -> None:
        os.makedirs(path, exist_ok=True)
        st = os.stat(path)
        self._id = (os.getpid(), st.st_dev, st.st_ino)
        with _OPEN_LOCK:
            shared = _OPEN.get(self._id)
            if shared is not None:
                shared.users += 1
            else:
                try:
                    # map_size is address space, not disk: a sparse file grows as needed.
                    env = lmdb.open(
                        os.fspath(path),
                        map_size=map_size,
                        subdir=True,
                        sync=True,
                        metasync=True,
                        readahead=False,
                        max_readers=512,
                        max_dbs=0,
                    )
                    env.reader_check()
                except lmdb.Error as exc:
                    raise InternalError(f"cannot open the metadata at {path}: {exc}") from None
                shared = _OPEN[self._id] = _SharedEnv(env)
        self._shared: _SharedEnv | None = shared
        self._env = shared.env
        self._write_lock = shared.write_lock
        self.max_key_size: int = self._env.max_key_size()

    def _check(self) -> None:
        if self._shared is None:
            raise StoreClosed("the metadata store is closed")

    @contextmanager
    def begin(self) -> Iterator[_LmdbTxn]:
        self._check()
        with self._env.begin(write=False, buffers=False) as txn:
            yield _LmdbTxn(txn)

    @contextmanager
    def begin_write(self) -> Iterator[_LmdbTxn]:
        self._check()
        with self._write_lock, self._env.begin(write=True) as txn:
            yield _LmdbTxn(txn)

    def close(self) -> None:
        """Release this handle; the environment closes with its last user."""
        with _OPEN_LOCK:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            shared.users -= 1
            if shared.users == 0:
                if _OPEN.get(self._id) is shared:
                    del _OPEN[self._id]
                shared.env.close()
