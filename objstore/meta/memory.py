"""An in-memory :class:`~objstore.meta.base.MetadataStore` for tests and ephemeral stores."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from objstore.errors import StoreClosed


class _MemoryTxn:
    """Copy-on-write transaction over a sorted key list and a dict."""

    def __init__(self, keys: list[bytes], data: dict[bytes, bytes], *, write: bool) -> None:
        self._keys = keys
        self._data = data
        self._write = write

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def _range(self, start: bytes, stop: bytes | None) -> tuple[int, int]:
        lo = bisect.bisect_left(self._keys, start)
        hi = len(self._keys) if stop is None else bisect.bisect_left(self._keys, stop)
        return lo, hi

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        lo, hi = self._range(start, stop)
        # Snapshot the slice: writes made while iterating must not shift the walk.
        for key in self._keys[lo:hi]:
            value = self._data.get(key)
            if value is not None:
                yield key, value

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        lo, hi = self._range(start, stop)
        for key in reversed(self._keys[lo:hi]):
            value = self._data.get(key)
            if value is not None:
                yield key, value

    def put(self, key: bytes, value: bytes) -> None:
        if not isinstance(key, bytes) or not isinstance(value, bytes):
            raise TypeError("keys and values must be bytes")
        if not key:
            raise ValueError("empty key")
        if key not in self._data:
            bisect.insort(self._keys, key)
        self._data[key] = value

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: bytes) -> bool:
        if key not in self._data:
            return False
        del self._data[key]
        i = bisect.bisect_left(self._keys, key)
        del self._keys[i]
        return True


class MemoryMetadataStore:
    """Sorted in-memory store. Readers see the last committed snapshot."""

    max_key_size = 511  # same limit as LMDB, so the namespace behaves identically

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._data: dict[bytes, bytes] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise StoreClosed("the metadata store is closed")

    @contextmanager
    def begin(self) -> Iterator[_MemoryTxn]:
        self._check()
        # Committed state is replaced wholesale on commit, so holding the
        # current objects gives a stable snapshot.
        yield _MemoryTxn(self._keys, self._data, write=False)

    @contextmanager
    def begin_write(self) -> Iterator[_MemoryTxn]:
        self._check()
        with self._lock:
            txn = _MemoryTxn(list(self._keys), dict(self._data), write=True)
            yield txn
            self._keys, self._data = txn._keys, txn._data

    def close(self) -> None:
        self._closed = True
