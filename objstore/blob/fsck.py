"""fsck: check every reference the blob layer keeps, and optionally every chunk's bytes.

Read-only unless asked to repair. What it checks:

- every chunk record names a chunk file that exists (``missing``) and, with
  ``verify_data``, whose bytes match its BLAKE3 id (``corrupt``);
- every chunk record's count equals the manifest entries naming it, every
  manifest entry has a chunk record and a data record, every pending body has
  its pending record, every body's count equals the versions using it (the
  caller supplies those) (``inconsistent``: one line per problem);
- chunk files no record names, older than every live lease's floor, so not an
  upload in flight (``orphaned``: gc deletes them; reported, not an error of data).

A chunk the chunk store refuses on its own (no permission, a directory in its place:
anything but a store-wide ServiceUnavailable) is reported ``unreadable`` and the check
goes on with the others; before, the first one ended fsck with its raw OS error.

``repair=True`` quarantines every missing, corrupt or unreadable chunk (its record is
flagged: the next upload of those bytes rewrites it, healing every object that uses it)
and recounts the statistics counters. It does not invent data, rewrite reference counts
or delete anything; gc removes orphans.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId, ChunkMissing
from objstore.blob.leases import LeaseRec
from objstore.blob.quarantine import quarantine, verified
from objstore.blob.records import DATA_REC, STATE_PENDING, ChunkRec, get_doom
from objstore.errors import ObjstoreError, ServiceUnavailable, StoreClosed
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore

#: Supplies, in a read snapshot, how many versions use each body (data id -> count).
DataRefs = Callable[[ReadTxn], Counter[bytes]]

MAX_LISTED = 1000  # inconsistencies listed (the count is always exact)


@dataclass(frozen=True, slots=True)
class FsckResult:
    """What :func:`fsck` found (hex chunk ids); empty tuples mean healthy."""

    missing: tuple[str, ...]
    corrupt: tuple[str, ...]
    orphaned: tuple[str, ...]
    inconsistent: tuple[str, ...]
    inconsistencies: int  # exact count (``inconsistent`` lists at most 1000)
    chunks_checked: int
    bytes_verified: int
    # With repair: the missing, corrupt and unreadable chunks, now flagged so that the
    # next upload of their bytes writes them afresh (dedup stops trusting their records).
    quarantined: tuple[str, ...]
    unreadable: tuple[str, ...] = ()  # chunks the chunk store could not read or look at
    failure: str | None = None  # why the first of them could not be

    @property
    def healthy(self) -> bool:
        """No missing, corrupt, unreadable or orphaned chunk and no inconsistent reference."""
        return not (
            self.missing or self.corrupt or self.unreadable or self.orphaned or self.inconsistencies
        )


def fsck(
    blobs: BlobStore,
    *,
    verify_data: bool = True,
    repair: bool = False,
    data_refs: DataRefs | None = None,
    recount: Callable[[WriteTxn], None] | None = None,
    stop: threading.Event | None = None,
) -> FsckResult:
    """Check the store (see the module docstring); changes nothing unless ``repair``.

    ``data_refs`` counts the versions using each body; ``recount`` (run in a
    write transaction on repair) recounts the statistics counters. Raises StoreClosed
    once ``stop`` is set (the store is closing), checked at every chunk.
    """

    def check_stop() -> None:
        if stop is not None and stop.is_set():
            raise StoreClosed("the store was closed during fsck")

    problems: list[str] = []
    count = 0

    def problem(line: str) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_LISTED:
            problems.append(line)

    with blobs.meta.begin() as txn:
        named: Counter[bytes] = Counter()
        bodies: set[bytes] = set()
        for key, value in scan_prefix(txn, keyspace.MANIFEST):
            named[value[:32]] += 1
            bodies.add(key[1:17])
        records: dict[bytes, ChunkRec] = {
            k[1:]: ChunkRec.decode(v) for k, v in scan_prefix(txn, keyspace.CHUNKREF)
        }
        data = {k[1:]: DATA_REC.unpack(v) for k, v in scan_prefix(txn, keyspace.DATA)}
        pending = {k[1:] for k, _ in scan_prefix(txn, keyspace.PENDING)}
        dooming = {k[1:] for k, v in scan_prefix(txn, keyspace.DOOMED)}
        floor = min(
            [LeaseRec.decode(v).floor_ns for _, v in scan_prefix(txn, keyspace.LEASE)]
            + [blobs.leases.clock() - blobs.leases.skew_ns]
        )
        users = data_refs(txn) if data_refs is not None else None
    for cid, n in named.items():
        rec = records.get(cid)
        if rec is None:
            problem(f"chunk {cid.hex()}: named by {n} manifest entries but has no record")
        elif rec.refs != n:
            problem(f"chunk {cid.hex()}: record counts {rec.refs} references, manifests {n}")
    for cid, rec in records.items():
        if rec.refs and cid not in named:
            problem(f"chunk {cid.hex()}: record counts {rec.refs} references, manifests 0")
    for did in bodies - data.keys():
        problem(f"body {did.hex()}: manifest entries without a data record")
    for did, (refs, _size, state) in data.items():
        if state == STATE_PENDING and did not in pending:
            problem(f"body {did.hex()}: pending without an upload record")
        if users is not None and state != STATE_PENDING and refs != users.get(did, 0):
            problem(f"body {did.hex()}: counts {refs} versions, {users.get(did, 0)} use it")
    if users is not None:
        for did in users.keys() - data.keys():
            problem(f"body {did.hex()}: used by {users[did]} versions but has no data record")

    found: dict[str, list[str]] = {}  # "missing" / "corrupt" / "unreadable" -> hex ids
    why: dict[str, str] = {}  # unreadable chunk -> why
    verified_bytes = 0
    for cid, rec in records.items():
        check_stop()
        kind, reason, size = _check_chunk(blobs, cid, rec.length, verify_data)
        verified_bytes += size
        if kind is not None:
            found.setdefault(kind, []).append(cid.hex())
            if kind == "unreadable":
                why[cid.hex()] = reason
    if found:
        # gc may have collected a zero-reference chunk since the snapshot (its record
        # gone, or its deletion pending). A finished deletion mark beside a record is
        # no excuse: the record came later, from an upload that stored the chunk again
        # (review 9k, M1). Only its file may have arrived since the first look, so
        # such a chunk is looked at once more.
        with blobs.meta.begin() as txn:
            standing: dict[str, str | None] = {
                h: _still_stored(txn, h) for hexes in found.values() for h in hexes
            }

        def still_bad(h: str) -> bool:
            cid = bytes.fromhex(h)
            if standing[h] != "recorded again":
                return standing[h] == "recorded"
            if _check_chunk(blobs, cid, records[cid].length, verify_data)[0] is None:
                return False
            # Still bad: unless gc collected it again meanwhile (review 9l, M4).
            with blobs.meta.begin() as txn:
                return _still_stored(txn, h) is not None

        found = {kind: [h for h in hexes if still_bad(h)] for kind, hexes in found.items()}
    missing = found.get("missing", [])
    corrupt = found.get("corrupt", [])
    unreadable = found.get("unreadable", [])
    orphaned = []
    for cid in blobs.chunks.iter_ids():
        if cid in records or cid in dooming:
            continue
        check_stop()
        try:
            st = blobs.chunks.stat(cid)
        except ServiceUnavailable:
            raise
        except ObjstoreError:
            continue  # a file no record names: nothing of the store's is at stake
        if st is not None and st[1] < floor:
            orphaned.append(cid.hex())

    quarantined: list[str] = []
    if repair:
        for hex_id in missing + corrupt + unreadable:
            check_stop()
            quarantine(blobs, ChunkId(bytes.fromhex(hex_id)))
            quarantined.append(hex_id)
        if recount is not None:
            with blobs.meta.begin_write() as wtxn:
                recount(wtxn)
    return FsckResult(
        missing=tuple(missing),
        corrupt=tuple(corrupt),
        orphaned=tuple(orphaned),
        inconsistent=tuple(problems),
        inconsistencies=count,
        chunks_checked=len(records),
        bytes_verified=verified_bytes,
        quarantined=tuple(quarantined),
        unreadable=tuple(unreadable),
        failure=why[unreadable[0]] if unreadable else None,
    )


def _check_chunk(
    blobs: BlobStore, cid: bytes, length: int, verify_data: bool
) -> tuple[str | None, str, int]:
    """What is wrong with chunk ``cid`` ("missing", "corrupt", "unreadable" or None), why
    it is unreadable, and the bytes read to tell. Raises ServiceUnavailable (the whole
    chunk store: nothing more can be checked)."""
    try:
        if verify_data:
            try:
                blob = blobs.chunks.get(ChunkId(cid))
            except ChunkMissing:
                return "missing", "", 0
            ok = verified(blob, ChunkId(cid), length or None)
            return (None if ok else "corrupt"), "", len(blob)
        st = blobs.chunks.stat(ChunkId(cid))
        if st is None:
            return "missing", "", 0
        return ("corrupt" if length and st[0] != length else None), "", 0
    except ServiceUnavailable:
        raise
    except ObjstoreError as exc:
        return "unreadable", exc.message, 0


def _still_stored(txn: ReadTxn, hex_id: str) -> str | None:
    """Whether the chunk's record still stands: "recorded", "recorded again" (after a
    finished deletion), or None (gone, or gc is deleting it)."""
    cid = bytes.fromhex(hex_id)
    if txn.get(keyspace.CHUNKREF + cid) is None:
        return None
    doom = get_doom(txn, cid)
    if doom is None:
        return "recorded"
    return None if doom[1] == 0 else "recorded again"
