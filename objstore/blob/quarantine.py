"""Bad chunks: tell corruption from collection, and quarantine what is corrupt.

Dedup trusts chunk records, so a chunk whose file is missing or does not match
its hash must stop being trusted the moment anyone notices: its record gets
the *quarantined* flag and the file is moved aside. An upload of the same
bytes then writes the chunk again instead of reusing it (and clears the flag
when it commits), which heals every object that references it.

A missing file is not always corruption: a reader whose lease expired may find
its chunk collected. Only a chunk the metadata still says is stored (a record,
and no ``K`` mark of a gc deleting it) is quarantined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId, ChunkMissing, ChunkStore, read_digest
from objstore.blob.records import FLAG_QUARANTINED, ChunkRec, get_chunk, get_doom
from objstore.errors import DataCorruption, InternalError

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
    return _bad(blobs, cid, length)


def _bad(blobs: BlobStore, cid: ChunkId, length: int | None) -> bytes:
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
        raw = txn.get(keyspace.CHUNKREF + cid)
        if raw is not None:
            rec = ChunkRec.decode(raw)
            if not rec.quarantined:
                flagged = ChunkRec(rec.refs, rec.length, rec.zero_gen, rec.flags | FLAG_QUARANTINED)
                txn.put(keyspace.CHUNKREF + cid, flagged.encode())
    # After the flag: an upload that rewrites the chunk saw the flag first, so
    # at worst this moves its fresh copy aside and the next read flags it again.
    try:
        right = read_checked(blobs.chunks, cid, None) is not None
    except ChunkMissing:
        return
    if not right:
        blobs.chunks.set_aside(cid)
