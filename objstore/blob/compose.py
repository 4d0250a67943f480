"""Composite bodies: one body made of ranges of others, joined without touching bytes.

A completed multipart upload (and a part copied from a byte range of another
object) is stored as a *composite* data record: an ordinary ``D`` record
(refcount, size, state) whose contents are *segments* instead of a chunk
manifest::

    Q <data id> <offset>  ->  <sub data id> <sub offset> <length>

Each segment names a range of a *plain* body (one with a chunk manifest).
Composites are kept flat — a segment never names another composite — so a
read of any byte costs two ordered seeks: the segment holding it (``Q``,
reverse seek) and then the chunk holding it inside the sub-body (``M``,
reverse seek). Offset 0 and offset 5 TB cost the same.

A composite holds one reference (:func:`.records.adjust_refs`) on its
sub-body per segment, so part bodies and copied sources stay alive while any
composite names them, and stay ordinary data records: dropping a composite
(:func:`.records.drop_data`, called by gc for dead bodies) releases them, and
gc then reclaims whichever reached zero. Building a composite writes only
metadata: no chunk is read, copied or hashed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from objstore import keyspace
from objstore.blob.records import (
    DATA_REC,
    LEN,
    READ_BATCH,
    SEG,
    STATE_LIVE,
    DataGone,
    adjust_refs,
    get_chunk,
    skey,
)
from objstore.errors import DataCorruption
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix, scan_prefix_reverse

# (sub data id, offset in the sub-body, length)
Segment = tuple[bytes, int, int]


def set_part_sums(txn: WriteTxn, data_id: bytes, sums: bytes) -> None:
    """Keep a composite's part checksums (its parts' digests of one algorithm, joined in
    part order) under a key of their own, beside its segments, rather than in the version
    record every GET and HEAD decodes (10,000 SHA-256 parts are ~430 KB of JSON there).
    Only a read of one part's checksum fetches them; :func:`.records.drop_data` drops them
    with the body."""
    if sums:
        txn.put(keyspace.PART_SUMS + data_id, sums)


def part_sums(txn: ReadTxn, data_id: bytes) -> bytes:
    """What :func:`set_part_sums` kept for ``data_id`` (empty when nothing was)."""
    return txn.get(keyspace.PART_SUMS + data_id) or b""


def is_composite(txn: ReadTxn, data_id: bytes) -> bool:
    """Whether ``data_id`` is stored as segments rather than as a chunk manifest."""
    return next(iter(scan_prefix(txn, keyspace.SEGMENT + data_id)), None) is not None


def body_size(txn: ReadTxn, data_id: bytes) -> int:
    """The size of a live body; raises DataGone when it is missing."""
    raw = txn.get(keyspace.DATA + data_id)
    if raw is None:
        raise DataGone(data_id.hex())
    return int(DATA_REC.unpack(raw)[1])


def first_segment_key(txn: ReadTxn, data_id: bytes, offset: int) -> bytes | None:
    """The key of the segment holding byte ``offset``, or None for a plain body."""
    prefix = keyspace.SEGMENT + data_id
    for key, _ in scan_prefix_reverse(txn, prefix, skey(data_id, offset + 1)):
        return key
    return None


def segments_in(txn: ReadTxn, data_id: bytes, first: int, length: int) -> list[Segment]:
    """The flat segments covering bytes ``first .. first+length-1`` of ``data_id``.

    A plain body gives one segment of itself; a composite gives the parts of
    its segments that overlap the range.
    """
    if length <= 0:
        return []
    start = first_segment_key(txn, data_id, first)
    if start is None:
        return [(data_id, first, length)]
    end = first + length
    out: list[Segment] = []
    for key, value in scan_prefix(txn, keyspace.SEGMENT + data_id, start):
        off = int.from_bytes(key[-8:], "big")
        if off >= end:
            break
        sub, sub_off, n = SEG.unpack(value)
        lo = max(first, off)
        hi = min(end, off + n)
        if hi > lo:
            out.append((sub, sub_off + (lo - off), hi - lo))
    return out


def check_shareable(txn: ReadTxn, segments: Iterable[Segment]) -> None:
    """No chunk under the flat ``segments`` is known missing or damaged.

    Sharing bytes without reading them (a copy, a copied part, a completion) must not
    create an object that is unreadable from birth and tell its caller it succeeded
    (review 10b, R3): a quarantined chunk is refused as a read of it would be. A
    manifest entry costs one cursor step; each distinct chunk one lookup.

    Raises DataCorruption naming the chunk (an upload of its bytes heals it).
    """
    wanted: dict[bytes, list[tuple[int, int]]] = {}
    for sub, sub_off, n in segments:
        if n > 0:
            wanted.setdefault(sub, []).append((sub_off, sub_off + n))
    seen: set[bytes] = set()
    for sub, spans in wanted.items():
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        for key, value in scan_prefix(txn, keyspace.MANIFEST + sub):
            off = int.from_bytes(key[-8:], "big")
            if off >= hi:
                break
            end = off + LEN.unpack_from(value, 32)[0]
            cid = value[:32]
            if end <= lo or cid in seen or not any(a < end and off < b for a, b in spans):
                continue
            seen.add(cid)
            rec = get_chunk(txn, cid)
            if rec is not None and rec.quarantined:
                raise DataCorruption(
                    f"chunk {cid.hex()} of the data to be shared was found missing or "
                    "damaged; upload those bytes again (that heals every object using them)"
                )


def write_composite(txn: WriteTxn, data_id: bytes, segments: Iterable[Segment]) -> int:
    """Create the live composite ``data_id`` (one holder) from flat ``segments``.

    Adjacent segments that continue each other are merged. Takes the
    references on the sub-bodies (raises DataGone if one is missing or dead;
    DataCorruption if a chunk in range is known damaged: :func:`check_shareable`)
    and returns the composite's size.
    """
    segments = list(segments)
    check_shareable(txn, segments)
    merged: list[Segment] = []
    for sub, sub_off, n in segments:
        if n <= 0:
            continue
        if merged:
            psub, poff, pn = merged[-1]
            if psub == sub and poff + pn == sub_off:
                merged[-1] = (psub, poff, pn + n)
                continue
        merged.append((sub, sub_off, n))
    pos = 0
    rows: list[tuple[bytes, bytes]] = []
    holders: Counter[bytes] = Counter()
    for sub, sub_off, n in merged:
        rows.append((skey(data_id, pos), SEG.pack(sub, sub_off, n)))
        holders[sub] += 1
        pos += n
    for sub, count in holders.items():
        adjust_refs(txn, sub, count)
    txn.put_many(rows)
    txn.put(keyspace.DATA + data_id, DATA_REC.pack(1, pos, STATE_LIVE))
    return pos


def walk_segments(
    meta: MetadataStore, data_id: bytes, start_key: bytes, last: int
) -> Iterator[tuple[int, Segment]]:
    """``(offset, segment)`` from ``start_key`` on, up to the one holding byte ``last``.

    Reads segments a batch per short read transaction, like the chunk
    manifest reader, so a slow reader never pins LMDB pages.
    """
    prefix = keyspace.SEGMENT + data_id
    cursor = start_key
    while True:
        with meta.begin() as txn:
            batch: list[tuple[int, bytes]] = []
            for key, value in scan_prefix(txn, prefix, cursor):
                batch.append((int.from_bytes(key[-8:], "big"), value))
                if len(batch) >= READ_BATCH:
                    break
        for off, value in batch:
            if off > last:
                return
            sub, sub_off, n = SEG.unpack(value)
            yield off, (sub, sub_off, n)
        if len(batch) < READ_BATCH:
            return
        cursor = skey(data_id, batch[-1][0] + 1)
