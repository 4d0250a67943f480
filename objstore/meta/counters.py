"""Named 64-bit counters kept in the metadata store (``S <name>``, signed big-endian).

Updated inside the caller's write transaction, so a counter moves exactly when
the records it counts do (a rolled-back transaction moves neither).
"""

from __future__ import annotations

from objstore import keyspace
from objstore.meta.base import ReadTxn, WriteTxn


def key(name: str) -> bytes:
    return keyspace.COUNTER + name.encode()


def get(txn: ReadTxn, name: str) -> int:
    raw = txn.get(key(name))
    return 0 if raw is None else int.from_bytes(raw, "big", signed=True)


def add(txn: WriteTxn, name: str, delta: int) -> int:
    """Add ``delta`` (may be negative) and return the new value."""
    value = get(txn, name) + delta
    if delta:
        txn.put(key(name), value.to_bytes(8, "big", signed=True))
    return value


def set_value(txn: WriteTxn, name: str, value: int) -> None:
    txn.put(key(name), value.to_bytes(8, "big", signed=True))
