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


class LmdbMetadataStore:
    """Metadata in one LMDB environment under ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, map_size: int = 1 << 40) -> None:
        os.makedirs(path, exist_ok=True)
        # map_size is address space, not disk: a sparse file grows as needed.
        self._env = lmdb.open(
            os.fspath(path),
            map_size=map_size,
            subdir=True,
            sync=True,
            metasync=True,
            readahead=False,
            max_readers=512,
            max_dbs=0,
        )
        self.max_key_size: int = self._env.max_key_size()
        # LMDB write transactions belong to their thread; serialise writers of
        # this process here so a second thread waits instead of failing.
        self._write_lock = threading.Lock()
        self._env.reader_check()

    @contextmanager
    def begin(self) -> Iterator[_LmdbTxn]:
        with self._env.begin(write=False, buffers=False) as txn:
            yield _LmdbTxn(txn)

    @contextmanager
    def begin_write(self) -> Iterator[_LmdbTxn]:
        with self._write_lock, self._env.begin(write=True) as txn:
            yield _LmdbTxn(txn)

    def close(self) -> None:
        self._env.close()
