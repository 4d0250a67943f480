"""Store statistics: counters kept in the same transactions that change what they count.

``S stat.*`` counters (:mod:`objstore.meta.counters`): the namespace moves the
object, version and logical-byte counters when it writes or removes version
and latest-version records; the blob layer moves the chunk counters when it
creates or deletes chunk records. :func:`scan` recounts everything from the
records (slow; for checks, repairs and stores made before the counters).
"""

from __future__ import annotations

from dataclasses import dataclass

from objstore import keyspace
from objstore.blob.records import STAT_CHUNKS, STAT_STORED, ChunkRec
from objstore.meta import counters
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix
from objstore.ns.records import VersionRecord

OBJECTS = "stat.objects"
VERSIONS = "stat.versions"
LOGICAL = "stat.logical_bytes"
INLINE = "stat.inline_bytes"
KEPT = "stat.v1"  # present once the counters are kept (stores made earlier get a scan)
NAMES = (OBJECTS, VERSIONS, LOGICAL, INLINE, STAT_STORED, STAT_CHUNKS)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds.

    ``objects``: keys whose current version is an object (what ListObjects
    shows); ``versions``: object versions, current and noncurrent (delete
    markers excluded); ``logical_bytes``: their total size; ``stored_bytes``:
    what chunk files occupy (each distinct chunk once, including chunks of
    deleted objects gc has not removed yet); ``inline_bytes``: bytes of small
    objects kept in the metadata; ``chunk_count``: distinct chunks;
    ``dedup_ratio``: ``logical_bytes / (stored_bytes + inline_bytes)`` (1.0 when empty).
    """

    objects: int
    versions: int
    logical_bytes: int
    stored_bytes: int
    inline_bytes: int
    chunk_count: int

    @property
    def dedup_ratio(self) -> float:
        physical = self.stored_bytes + self.inline_bytes
        return self.logical_bytes / physical if physical else 1.0


def read(txn: ReadTxn) -> StoreStats:
    """The counters (cheap: six reads)."""
    v = [counters.get(txn, n) for n in NAMES]
    return StoreStats(
        objects=v[0],
        versions=v[1],
        logical_bytes=v[2],
        inline_bytes=v[3],
        stored_bytes=v[4],
        chunk_count=v[5],
    )


def version_added(txn: WriteTxn, rec: VersionRecord, sign: int = 1) -> None:
    """Count a version record written (``sign`` -1: removed)."""
    if rec.is_marker:
        return
    counters.add(txn, VERSIONS, sign)
    counters.add(txn, LOGICAL, sign * rec.size)
    if rec.inline is not None:
        counters.add(txn, INLINE, sign * len(rec.inline))


def set_latest(txn: WriteTxn, key: bytes, summary: bytes | None) -> None:
    """Write (or with None delete) a latest-version record, counting objects."""
    existed = txn.get(key) is not None
    if summary is None:
        if existed:
            txn.delete(key)
            counters.add(txn, OBJECTS, -1)
        return
    txn.put(key, summary)
    if not existed:
        counters.add(txn, OBJECTS, 1)


def scan(txn: ReadTxn) -> StoreStats:
    """Recount from the records (a full scan)."""
    objects = sum(1 for _ in scan_prefix(txn, keyspace.LATEST))
    versions = logical = inline = 0
    for _, value in scan_prefix(txn, keyspace.VERSION):
        rec = VersionRecord.decode(value)
        if not rec.is_marker:
            versions += 1
            logical += rec.size
            inline += len(rec.inline) if rec.inline is not None else 0
    chunks = stored = 0
    for _, value in scan_prefix(txn, keyspace.CHUNKREF):
        chunks += 1
        stored += ChunkRec.decode(value).length
    return StoreStats(objects, versions, logical, stored, inline, chunks)


def rewrite(txn: WriteTxn, stats: StoreStats) -> None:
    """Set the counters to ``stats`` (after a scan)."""
    values = (
        stats.objects,
        stats.versions,
        stats.logical_bytes,
        stats.inline_bytes,
        stats.stored_bytes,
        stats.chunk_count,
    )
    for name, value in zip(NAMES, values, strict=True):
        counters.set_value(txn, name, value)
    txn.put(counters.key(KEPT), b"")


def ensure_kept(txn: WriteTxn) -> None:
    """Start keeping counters: a store made before them is counted once, now."""
    if txn.get(counters.key(KEPT)) is None:
        rewrite(txn, scan(txn))
