"""The blob layer's metadata records and the small operations on them.

A *data record* (``D data-id``: refcount, size, state) per stored body, a
*manifest* (``M data-id offset`` -> chunk id + length, one entry per chunk)
and a *chunk record* (``C chunk-id``: how many manifest entries name the
chunk, its length, the gc generation at which the count last fell to zero,
and flags such as *quarantined*). A *composite* body (a completed multipart
upload, a ranged part copy) has no manifest but *segments* (``Q data-id
offset`` -> sub data id, sub offset, length) naming ranges of plain bodies, on
which it holds references (see :mod:`.compose`). These helpers run inside a
caller's transaction and do no other I/O; they keep the ``stat.*`` counters
in step.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.errors import ServiceUnavailable
from objstore.meta import counters
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix

DATA_REC = struct.Struct("<QQB")  # refcount, size, state
CHUNK_REC = struct.Struct("<QIQB")  # refcount, length, zero gen, flags
LEGACY_REF = struct.Struct("<Q")  # chunk records written before lengths and gens were kept
DEAD_REC = struct.Struct("<Q")  # gen at which the body lost its last version
DOOM_REC = struct.Struct("<16sQ")  # owner lease id, done gen (0: files still being deleted)
LEN = struct.Struct("<I")
SEG = struct.Struct("<16sQQ")  # sub data id, offset in it, length
STATE_PENDING = 0
STATE_LIVE = 1
STATE_DEAD = 2  # no version uses it; readers that opened it earlier still may
FLAG_QUARANTINED = 1  # a read found the file missing or corrupt: the next upload rewrites it
READ_BATCH = 64  # manifest entries per short read transaction

GEN = "gcgen"  # counter: the gc generation (see objstore.blob.leases)
STAT_CHUNKS = "stat.chunks"
STAT_STORED = "stat.stored_bytes"


class DataGone(LookupError):
    """The data record vanished (its object was deleted concurrently)."""


@dataclass(frozen=True, slots=True)
class ChunkRec:
    refs: int
    length: int
    zero_gen: int
    flags: int

    @property
    def quarantined(self) -> bool:
        return bool(self.flags & FLAG_QUARANTINED)

    def encode(self) -> bytes:
        return CHUNK_REC.pack(self.refs, self.length, self.zero_gen, self.flags)

    @staticmethod
    def decode(raw: bytes) -> ChunkRec:
        if len(raw) == LEGACY_REF.size:
            return ChunkRec(LEGACY_REF.unpack(raw)[0], 0, 0, 0)
        return ChunkRec(*CHUNK_REC.unpack(raw))


def get_chunk(txn: ReadTxn, cid: bytes) -> ChunkRec | None:
    raw = txn.get(keyspace.CHUNKREF + cid)
    return None if raw is None else ChunkRec.decode(raw)


def get_doom(txn: ReadTxn, cid: bytes) -> tuple[bytes, int] | None:
    """``(owner lease id, done gen)`` of a chunk gc is deleting (done gen 0: not yet)."""
    raw = txn.get(keyspace.DOOMED + cid)
    if raw is None:
        return None
    owner, done = DOOM_REC.unpack(raw)
    return owner, done


def current_gen(txn: ReadTxn) -> int:
    return counters.get(txn, GEN)


def mkey(data_id: bytes, offset: int) -> bytes:
    return keyspace.MANIFEST + data_id + offset.to_bytes(8, "big")


def skey(data_id: bytes, offset: int) -> bytes:
    return keyspace.SEGMENT + data_id + offset.to_bytes(8, "big")


def adjust_refs(txn: WriteTxn, data_id: bytes, delta: int) -> None:
    """Add ``delta`` holders (versions, parts, composites) to a body.

    Taking a reference on a missing or dead body raises DataGone: reviving a
    body that gc may already be dropping would lose it. At zero the body is
    only marked dead, with the current gc gen: gc drops its manifest once no
    lease older than that remains, so a body opened before the last release
    still reads whole, and deleting a 5 TB object costs O(1).
    """
    raw = txn.get(keyspace.DATA + data_id)
    if raw is None:
        if delta > 0:
            raise DataGone(data_id.hex())
        return
    ref, size, state = DATA_REC.unpack(raw)
    if delta > 0 and state == STATE_DEAD:
        raise DataGone(data_id.hex())
    if ref + delta > 0:
        txn.put(keyspace.DATA + data_id, DATA_REC.pack(ref + delta, size, state))
        return
    txn.put(keyspace.DATA + data_id, DATA_REC.pack(0, size, STATE_DEAD))
    txn.put(keyspace.DEAD + data_id, DEAD_REC.pack(current_gen(txn)))


def apply_entries(
    txn: WriteTxn,
    data_id: bytes,
    entries: list[tuple[int, ChunkId, int]],
    reused: set[ChunkId],
) -> None:
    """Write manifest entries and count their chunk references.

    A chunk this upload wrote itself (not in ``reused``) gets a fresh record
    or loses its quarantine mark: its bytes were just written and synced. A reused
    chunk quarantined since the upload decided to reuse it fails the commit
    (ServiceUnavailable: the retry writes it).
    """
    txn.put_many((mkey(data_id, off), cid + LEN.pack(n)) for off, cid, n in entries)
    counts: Counter[ChunkId] = Counter(cid for _, cid, _ in entries)
    lengths = {cid: n for _, cid, n in entries}
    for cid, n in counts.items():
        ckey = keyspace.CHUNKREF + cid
        raw = txn.get(ckey)
        if raw is None:
            if cid in reused:
                # The writer's commit check (leases.check_chunks) rules this out;
                # never reference bytes that may be gone.
                raise ServiceUnavailable("a reused chunk was collected during the upload; retry")
            counters.add(txn, STAT_CHUNKS, 1)
            counters.add(txn, STAT_STORED, lengths[cid])
            rec = ChunkRec(n, lengths[cid], 0, 0)
        else:
            old = ChunkRec.decode(raw)
            if cid in reused and old.quarantined:
                # Found missing or damaged (a read, fsck, a rebind's check) after this
                # upload decided to reuse it: the retry writes it afresh (review 9f, M2).
                raise ServiceUnavailable(
                    f"chunk {cid.hex()} was found missing or damaged during the upload; retry"
                )
            flags = old.flags if cid in reused else old.flags & ~FLAG_QUARANTINED
            length = old.length or lengths[cid]
            if old.length == 0:  # a legacy record: its length is learnt now
                counters.add(txn, STAT_STORED, length)
            rec = ChunkRec(old.refs + n, length, 0, flags)
        txn.put(ckey, rec.encode())


def check_not_flagged(txn: WriteTxn, cids: Iterable[ChunkId]) -> None:
    """Each of ``cids`` is recorded and not quarantined.

    Raises ServiceUnavailable (retry: the next upload writes the chunk afresh) otherwise.
    """
    for cid in cids:
        rec = get_chunk(txn, cid)
        if rec is None or rec.quarantined:
            raise ServiceUnavailable(
                f"chunk {cid.hex()} was found missing or damaged during the upload; retry"
            )


def release_chunks(txn: WriteTxn, counts: Counter[bytes]) -> None:
    """Drop ``counts`` references; a chunk reaching zero records the current gen.

    Zero-reference records stay until gc: the chunk may be reused first, and
    gc needs the gen to know which writers and readers might still want it.
    """
    gen = current_gen(txn)
    for cid, n in counts.items():
        ckey = keyspace.CHUNKREF + cid
        raw = txn.get(ckey)
        if raw is None:
            continue
        old = ChunkRec.decode(raw)
        refs = max(0, old.refs - n)
        txn.put(ckey, ChunkRec(refs, old.length, gen if refs == 0 else 0, old.flags).encode())


def drop_data(txn: WriteTxn, data_id: bytes) -> None:
    """Delete a body's manifest (or segments) and record, releasing what it references.

    A composite's sub-bodies lose one reference per segment; one that reaches
    zero is marked dead like any body, for a later collection to drop.
    """
    segments = list(scan_prefix(txn, keyspace.SEGMENT + data_id))
    subs: Counter[bytes] = Counter(SEG.unpack(v)[0] for _, v in segments)
    for key, _ in segments:
        txn.delete(key)
    for sub, n in subs.items():
        adjust_refs(txn, sub, -n)
    if segments:  # a composite: its part checksums, if it kept them (compose.set_part_sums)
        txn.delete(keyspace.PART_SUMS + data_id)
    start = keyspace.MANIFEST + data_id
    entries = list(scan_prefix(txn, start))
    counts: Counter[bytes] = Counter(v[:32] for _, v in entries)
    for key, _ in entries:
        txn.delete(key)
    release_chunks(txn, counts)
    txn.delete(keyspace.DATA + data_id)
