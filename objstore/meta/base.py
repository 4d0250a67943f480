"""The metadata boundary: an ordered, transactional key-value store.

Everything objstore knows about buckets, versions, manifests and chunk
references lives in one of these. The namespace only ever talks to this
protocol, so a distributed backend (PostgreSQL, say) plugs in here without
touching S3 rules. Keys and values are bytes; keys sort bytewise.

Contract (checked by :class:`objstore.testing.MetadataStoreTests`):

- ``begin()`` gives a read snapshot; ``begin(write=True)`` a serialisable write
  transaction (one writer at a time). A write transaction commits when its
  ``with`` block ends normally and is rolled back when it raises: nothing of it
  is then visible. A commit returns only once it is durable.
- ``scan(start, stop)`` walks keys ``start <= k < stop`` ascending;
  ``scan_reverse(start, stop)`` walks the same range descending.
- Keys are at most :attr:`MetadataStore.max_key_size` bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable


@runtime_checkable
class ReadTxn(Protocol):
    """A consistent, read-only view of the store."""

    def get(self, key: bytes) -> bytes | None:
        """Return the value stored under ``key``, or None."""
        ...

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < stop`` in ascending key order."""
        ...

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < stop`` in descending key order."""
        ...


@runtime_checkable
class WriteTxn(ReadTxn, Protocol):
    """A read-write transaction: sees its own writes, commits atomically."""

    def put(self, key: bytes, value: bytes) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        ...

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; return whether it existed."""
        ...

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Store many pairs (faster than repeated :meth:`put` on some backends)."""
        ...


@runtime_checkable
class MetadataStore(Protocol):
    """An ordered, transactional key-value store."""

    max_key_size: int

    def begin(self) -> AbstractContextManager[ReadTxn]:
        """Open a read snapshot."""
        ...

    def begin_write(self) -> AbstractContextManager[WriteTxn]:
        """Open the write transaction; blocks while another writer holds it."""
        ...

    def close(self) -> None:
        """Release the backend; further use raises."""
        ...
