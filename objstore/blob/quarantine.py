"""Bad chunks: tell corruption from collection, and quarantine what is corrupt.

Dedup trusts chunk records, so a chunk whose file is missing or does not match
its hash must stop being trusted the moment anyone notices: its record gets
the *quarantined* flag (the bad copy is left where it is, see :func:`quarantine`).
An upload of the same bytes then writes the chunk again instead of reusing it
(over the bad copy: a chunk store's ``put`` replaces a damaged one) and clears the
flag when it commits, which heals every object that references it.

A missing file is not always corruption: a reader whose lease expired may find
its chunk collected. Only a chunk the metadata still says is stored (a record,
and no ``K`` mark of a gc deleting it) is quarantined.

A store rebound to another chunk location (``accept_chunk_loss``, ``blob/owner.py``)
flags at once every recorded chunk that location lacks or holds cut short
(:func:`quarantine_absent`):
otherwise dedup would go on acknowledging uploads of those bytes by reference to
chunks that are not there, and re-uploading could never heal them.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.binding import check_bound
from objstore.blob.chunkstore import ChunkId, ChunkMissing, ChunkStore, read_digest
from objstore.blob.records import FLAG_QUARANTINED, ChunkRec, get_chunk, get_doom
from objstore.errors import DataCorruption, InternalError, ObjstoreError, ServiceUnavailable
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
    except ServiceUnavailable:
        raise  # the store as a whole, not this chunk
    except ObjstoreError:
        pass  # the chunk store refuses this chunk alone: look again, then flag it
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
    failure: ObjstoreError
    try:
        data = read_checked(blobs.chunks, cid, length)
        if data is not None:
            return data
        failure = DataCorruption(f"chunk {cid.hex()} does not match its hash", chunk=cid.hex())
    except ChunkMissing:
        failure = DataCorruption(f"chunk {cid.hex()} is missing", chunk=cid.hex())
    except ServiceUnavailable:
        raise
    except ObjstoreError as exc:
        # Refused alone (an I/O error, a permission, a directory in its place): not
        # proven corrupt, but not readable either, so dedup must stop acknowledging
        # uploads by reference to it: flagged too, the next upload writes it again
        # (review 9j, M1), and the caller gets the chunk store's own error.
        failure = exc
    if rec is not None:
        quarantine(blobs, cid)
    raise failure


def quarantine(blobs: BlobStore, cid: ChunkId) -> None:
    """Stop trusting ``cid``: flag its record. The bad copy stays where it is: the next
    upload of those bytes writes over it (chunk files rename over it; S3 reads it back and
    overwrites it), which heals every object using it. Moving it aside came after the
    caller's last look, so an upload landing in between (it saw the flag and wrote a fresh
    copy, then its commit cleared the flag) had its acknowledged copy moved away (break-it
    review of issue 9; the rebind check's flagging dropped its move for the same reason)."""
    with blobs.meta.begin_write() as txn:
        # A node still open on a location the store was rebound away from sees chunks
        # missing that are at the new one: it must not flag them (review 9h, L1).
        check_bound(txn, blobs.bound)
        flag(txn, cid)


def flag(txn: WriteTxn, cid: ChunkId) -> None:
    """Set the quarantined flag of ``cid``'s record (nothing when it has none)."""
    raw = txn.get(keyspace.CHUNKREF + cid)
    if raw is not None:
        rec = ChunkRec.decode(raw)
        if not rec.quarantined:
            flagged = ChunkRec(rec.refs, rec.length, rec.zero_gen, rec.flags | FLAG_QUARANTINED)
            txn.put(keyspace.CHUNKREF + cid, flagged.encode())


#: Chunk records looked up per page (one short read and one write transaction each) by
#: :func:`quarantine_absent`.
ABSENT_BATCH = 1024


def quarantine_absent(
    meta: MetadataStore,
    chunks: ChunkStore,
    *,
    start: bytes | None = None,
    progress: Callable[[WriteTxn, bytes], bool] | None = None,
    batch: int | None = None,
) -> tuple[list[ChunkId], bool]:
    """Flag every chunk record whose chunk ``chunks`` lacks, or holds with another length
    than the record's (a copy cut short), a page of records at a time from key ``start``
    on. A copy cut short stays where it is: the next upload of those bytes writes over
    it (chunk files rename over it; S3 reads it back and overwrites it). Moving it aside
    here, after the page's commit, moved away the whole copy another node had uploaded
    since (break-it review 9f, H2).
    The chunks are looked at ``io_concurrency`` at a time (HEADs on S3). ``progress`` runs
    in each page's write transaction with the page's last key; False stops the pass.
    Returns the chunks found bad (flagged before or not) and whether the pass went
    through to the end. Idempotent. Damage that keeps the length is not seen (``fsck``
    verifies hashes, and reads quarantine what does not match). Raises what the stores
    raise, but a chunk the chunk store refuses on its own (not ServiceUnavailable) counts
    as not here: one unreadable chunk must not keep every open from finishing the pass
    (break-it review 9f, M4)."""
    bad: list[ChunkId] = []
    batch = batch or ABSENT_BATCH
    workers = max(1, int(getattr(chunks, "io_concurrency", None) or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="objstore-check") as pool:
        while True:
            with meta.begin() as txn:
                page = [
                    (k, ChunkRec.decode(v))
                    for k, v in itertools.islice(scan_prefix(txn, keyspace.CHUNKREF, start), batch)
                ]
            if not page:
                return bad, True
            cids = [ChunkId(k[len(keyspace.CHUNKREF) :]) for k, _ in page]
            found = pool.map(functools.partial(_look, chunks), cids)
            wrong: list[ChunkId] = []
            absent: list[ChunkId] = []
            for cid, (_, rec), st in zip(cids, page, found, strict=True):
                if st is None:
                    absent.append(cid)
                elif rec.length and st[0] != rec.length:  # 0: a legacy record, length unknown
                    wrong.append(cid)
            with meta.begin_write() as wtxn:
                # Progress first: a check that is no longer this pass's (another binding,
                # another check) flags nothing on what this location lacks (review 9h, L3).
                go = progress is None or progress(wtxn, page[-1][0])
                for cid in absent + wrong if go else ():
                    flag(wtxn, cid)
            if not go:
                return bad, False
            bad += absent + wrong
            if len(page) < batch:
                return bad, True
            start = page[-1][0] + b"\x00"  # the smallest key after the page's last


def _look(chunks: ChunkStore, cid: ChunkId) -> tuple[int, int] | None:
    """``chunks.stat(cid)``; None (not usable here) when the store refuses this chunk
    alone, such as a permission or a path that is not a file (a store-wide failure,
    ServiceUnavailable, still raises)."""
    try:
        return chunks.stat(cid)
    except ServiceUnavailable:
        raise
    except ObjstoreError:
        return None
