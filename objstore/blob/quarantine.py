"""Bad chunks: tell corruption from collection, and quarantine what is corrupt.

Dedup trusts chunk records, so a chunk whose file is missing or does not match
its hash must stop being trusted the moment anyone notices: its record gets
the *quarantined* flag and the file is moved aside. An upload of the same
bytes then writes the chunk again instead of reusing it (and clears the flag
when it commits), which heals every object that references it.

A missing file is not always corruption: a reader whose lease expired may find
its chunk collected. Only a chunk the metadata still says is stored (a record,
and no ``K`` mark of a gc deleting it) is quarantined.

A store rebound to another chunk location (``accept_chunk_loss``, ``blob/owner.py``)
flags at once every recorded chunk that location lacks (:func:`quarantine_absent`):
otherwise dedup would go on acknowledging uploads of those bytes by reference to
chunks that are not there, and re-uploading could never heal them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId, ChunkMissing, ChunkStore, read_digest
from objstore.blob.records import FLAG_QUARANTINED, ChunkRec, get_chunk, get_doom
from objstore.errors import DataCorruption, InternalError
from objstore.meta.base import MetadataStore, WriteTxn
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore


def verified(data: bytes, cid: ChunkId, length: int | None) -> bool:
    return (length is None or len(data) == length) and read_digest(data) == cid


def read_checked(chunks: ChunkStore, cid: ChunkId, length: int | None) -> bytes | None:
    """The chunk's bytes when they match ``cid`` (and ``length``), else None; raises
    ChunkMissing. Hashed once: by the chunk store when it checks its reads itself
    (``get_verified``, see :class:`ChunkStore`), else here."""
    get_verified = getattr(chunks, "get_verified", None)
    if get_verified is None:
        data = chunks.get(cid)
        return data if verified(data, cid, length) else None
    got: bytes | None = get_verified(cid)
    return got if got is not None and (length is None or len(got) == length) else None


def fetch_verified(blobs: BlobStore, cid: ChunkId, length: int | None) -> bytes:
    """A chunk's bytes, verified; raises DataCorruption (after quarantining it)
    or InternalError when gc collected it under a reader that lost its lease."""
    try:
        data = read_checked(blobs.chunks, cid, length)
        if data is not None:
            return data
    except ChunkMissing:
        pass
    return refetch(blobs, cid, length)


def refetch(blobs: BlobStore, cid: ChunkId, length: int | None) -> bytes:
    """After a read of ``cid`` failed its check or found no chunk: the chunk's bytes if
    a second read finds them right (an upload may just have rewritten it); raises
    DataCorruption (after quarantining it) or InternalError when gc collected it under
    a reader that lost its lease."""
    with blobs.meta.begin() as txn:
        rec = get_chunk(txn, cid)
        doom = get_doom(txn, cid)
    if doom is not None and (rec is None or doom[1] == 0):
        raise InternalError(
            f"chunk {cid.hex()} was garbage-collected: its object was deleted while this "
            "body sat unread longer than the lease; open it again",
            chunk=cid.hex(),
        )
    # A concurrent upload may just have rewritten a quarantined chunk: look once more.
    try:
        data = read_checked(blobs.chunks, cid, length)
        if data is not None:
            return data
        what = "does not match its hash"
    except ChunkMissing:
        what = "is missing"
    if rec is not None:
        quarantine(blobs, cid)
    raise DataCorruption(f"chunk {cid.hex()} {what}", chunk=cid.hex())


def quarantine(blobs: BlobStore, cid: ChunkId) -> None:
    """Stop trusting ``cid``: flag its record and move its file aside."""
    with blobs.meta.begin_write() as txn:
        flag(txn, cid)
    # After the flag: an upload that rewrites the chunk saw the flag first, so
    # at worst this moves its fresh copy aside and the next read flags it again.
    try:
        right = read_checked(blobs.chunks, cid, None) is not None
    except ChunkMissing:
        return
    if not right:
        blobs.chunks.set_aside(cid)


def flag(txn: WriteTxn, cid: ChunkId) -> None:
    """Set the quarantined flag of ``cid``'s record (nothing when it has none)."""
    raw = txn.get(keyspace.CHUNKREF + cid)
    if raw is not None:
        rec = ChunkRec.decode(raw)
        if not rec.quarantined:
            flagged = ChunkRec(rec.refs, rec.length, rec.zero_gen, rec.flags | FLAG_QUARANTINED)
            txn.put(keyspace.CHUNKREF + cid, flagged.encode())


#: Chunk records looked up per ``has_many`` call (and per short transaction) by
#: :func:`quarantine_absent`.
ABSENT_BATCH = 1024


def quarantine_absent(
    meta: MetadataStore,
    has_many: Callable[[Iterable[ChunkId]], set[ChunkId]],
    *,
    batch: int = ABSENT_BATCH,
) -> list[ChunkId]:
    """Flag every chunk record whose chunk the chunk store lacks (``has_many``, one
    page of records at a time, each page in short transactions); the chunks found absent,
    flagged before or not. Idempotent: a pass cut short is run again whole. Raises what
    the stores raise."""
    absent: list[ChunkId] = []
    start: bytes | None = None
    while True:
        with meta.begin() as txn:
            keys = [
                k for k, _ in itertools.islice(scan_prefix(txn, keyspace.CHUNKREF, start), batch)
            ]
        if not keys:
            return absent
        cids = [ChunkId(k[len(keyspace.CHUNKREF) :]) for k in keys]
        present = has_many(cids)
        lacking = [c for c in cids if c not in present]
        if lacking:
            with meta.begin_write() as wtxn:
                for cid in lacking:
                    flag(wtxn, cid)
            absent += lacking
        if len(keys) < batch:
            return absent
        start = keys[-1] + b"\x00"  # the smallest key after the page's last
