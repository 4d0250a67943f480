"""Garbage collection: drop dead bodies, crashed uploads' leftovers, unreferenced chunks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.blob.records import REF, drop_data
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a garbage collection removed."""

    chunks_deleted: int
    pending_uploads_released: int


def collect(blobs: BlobStore, *, timeout: float | None = None) -> GcResult:
    """Delete unreferenced chunks and the leftovers of crashed uploads.

    Waits (up to ``timeout`` seconds) until no writer or reader is active.
    Raises InternalError if the store stays busy past ``timeout``.
    """
    with blobs.lock.exclusive(timeout=timeout):
        released = 0
        with blobs.meta.begin_write() as txn:
            # Bodies no version uses: no reader is active now, so they can go.
            dead = [k for k, _ in scan_prefix(txn, keyspace.DEAD)]
            for key in dead:
                drop_data(txn, key[1:])
                txn.delete(key)
        with blobs.meta.begin_write() as txn:
            # No writer runs now, in any process: every pending record is a crash leftover.
            pend = [k for k, _ in scan_prefix(txn, keyspace.PENDING)]
            for key in pend:
                drop_data(txn, key[1:])
                txn.delete(key)
                released += 1
        doomed: list[ChunkId] = []
        with blobs.meta.begin_write() as txn:
            for key, value in list(scan_prefix(txn, keyspace.CHUNKREF)):
                if REF.unpack(value)[0] == 0:
                    doomed.append(ChunkId(key[1:]))
                    txn.delete(key)
        # The references are gone (committed) before the files: a crash in
        # between leaves only unreferenced files, never a dangling reference.
        blobs.chunks.delete_many(doomed)
        referenced: set[bytes] = set()
        with blobs.meta.begin() as rtxn:
            for key, _ in scan_prefix(rtxn, keyspace.CHUNKREF):
                referenced.add(key[1:])
        orphans = [c for c in blobs.chunks.iter_ids() if c not in referenced]
        blobs.chunks.delete_many(orphans)
        return GcResult(len(doomed) + len(orphans), released)
