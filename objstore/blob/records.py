"""The blob layer's metadata records and the small operations on them.

A *data record* (``D data-id``: refcount, size, state) per stored body, a
*manifest* (``M data-id offset`` -> chunk id + length, one entry per chunk)
and a *chunk reference* (``C chunk-id`` -> count of manifest entries naming
it). These helpers run inside a caller's transaction and do no other I/O.
"""

from __future__ import annotations

import struct
from collections import Counter

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.errors import InternalError
from objstore.meta.base import WriteTxn
from objstore.meta.scan import scan_prefix

DATA_REC = struct.Struct("<QQB")  # refcount, size, state
REF = struct.Struct("<Q")
LEN = struct.Struct("<I")
STATE_PENDING = 0
STATE_LIVE = 1
STATE_DEAD = 2  # no version uses it; readers that opened it earlier still may
READ_BATCH = 64  # manifest entries per short read transaction


class DataGone(LookupError):
    """The data record vanished (its object was deleted concurrently)."""


def mkey(data_id: bytes, offset: int) -> bytes:
    return keyspace.MANIFEST + data_id + offset.to_bytes(8, "big")


def apply_entries(
    txn: WriteTxn,
    data_id: bytes,
    entries: list[tuple[int, ChunkId, int]],
    reused: set[ChunkId],
) -> None:
    txn.put_many((mkey(data_id, off), cid + LEN.pack(n)) for off, cid, n in entries)
    counts: Counter[ChunkId] = Counter(cid for _, cid, _ in entries)
    for cid, n in counts.items():
        ckey = keyspace.CHUNKREF + cid
        raw = txn.get(ckey)
        if raw is None:
            if cid in reused:
                # Cannot happen while writers hold the shared gc lock; fail loudly
                # rather than reference bytes that may be gone.
                raise InternalError("a reused chunk lost its reference during the upload")
            ref = 0
        else:
            (ref,) = REF.unpack(raw)
        txn.put(ckey, REF.pack(ref + n))


def drop_data(txn: WriteTxn, data_id: bytes) -> None:
    """Delete a body's manifest and record, releasing its chunk references."""
    start = keyspace.MANIFEST + data_id
    entries = list(scan_prefix(txn, start))
    counts: Counter[bytes] = Counter(v[:32] for _, v in entries)
    for key, _ in entries:
        txn.delete(key)
    for cid, n in counts.items():
        ckey = keyspace.CHUNKREF + cid
        raw = txn.get(ckey)
        if raw is None:
            continue
        (ref,) = REF.unpack(raw)
        # Zero-reference entries stay until gc(): the chunk may be reused first.
        txn.put(ckey, REF.pack(max(0, ref - n)))
    txn.delete(keyspace.DATA + data_id)
