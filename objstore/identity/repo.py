"""Identity records in the metadata store: JSON values under the keyspace's identity prefixes.

One record per entity (see ``keyspace.py``), keyed by its lower-cased name so uniqueness is
case-insensitive. Every write transaction bumps the generation counter, which is how each
process's authorizer learns that its compiled policies are stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from objstore import keyspace
from objstore.errors import DataCorruption
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix

Record = dict[str, Any]
GENERATION_KEY = keyspace.IAM_GENERATION


def key(prefix: bytes, name: str) -> bytes:
    """The record key of ``name`` under ``prefix`` (names compare case-insensitively).

    Any str makes a key: a name no record can have (a lone surrogate, refused by the name
    rules before any write) finds nothing, so a lookup of what a caller typed answers "no
    such entity" or "invalid credentials", never a UnicodeEncodeError.
    """
    return prefix + name.lower().encode("utf-8", "surrogatepass")


def decode(raw: bytes) -> Record:
    try:
        value = json.loads(raw)
    except ValueError:
        raise DataCorruption("an identity record is not valid JSON") from None
    if not isinstance(value, dict):
        raise DataCorruption("an identity record is not a JSON object")
    return value


def encode(record: Record) -> bytes:
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()


def get(txn: ReadTxn, prefix: bytes, name: str) -> Record | None:
    raw = txn.get(key(prefix, name))
    return None if raw is None else decode(raw)


def put(txn: WriteTxn, prefix: bytes, name: str, record: Record) -> None:
    txn.put(key(prefix, name), encode(record))


def delete(txn: WriteTxn, prefix: bytes, name: str) -> None:
    txn.delete(key(prefix, name))


def scan(txn: ReadTxn, prefix: bytes) -> Iterator[Record]:
    for _k, raw in scan_prefix(txn, prefix):
        yield decode(raw)


def scan_after(txn: ReadTxn, prefix: bytes, after: bytes | None) -> Iterator[tuple[bytes, Record]]:
    """``(name key, record)`` under ``prefix`` in key order, from just after the name key
    ``after`` (None: from the first)."""
    # Name keys hold no NUL, so ``after + NUL`` is the next possible key.
    start = None if after is None else prefix + after + b"\x00"
    for k, raw in scan_prefix(txn, prefix, start):
        yield k[len(prefix) :], decode(raw)


def generation(txn: ReadTxn) -> int:
    raw = txn.get(GENERATION_KEY)
    return 0 if raw is None else int.from_bytes(raw, "big")


class Repo:
    """Transactions over the identity records of one metadata store."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    @contextmanager
    def read(self) -> Iterator[ReadTxn]:
        with self.meta.begin() as txn:
            yield txn

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        """A write transaction that bumps the generation when it commits."""
        with self.meta.begin_write() as txn:
            yield txn
            txn.put(GENERATION_KEY, (generation(txn) + 1).to_bytes(8, "big"))

    def generation(self) -> int:
        with self.meta.begin() as txn:
            return generation(txn)
