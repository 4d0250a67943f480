"""Binding a store to its one chunk location (``objstore-owner.json``), at open.

Each store's gc deletes every chunk its own metadata does not name, so two stores must
never share a chunk location, and one store must never write to two (what one node
writes, another would never find) nor to a wrong or empty one. The rules, checked by
:func:`bind_chunks` (docs/scale-out.md, "One chunk location, one store"):

- The location's mark (:class:`~objstore.blob.chunkstore.OwnerMark`) names the owning
  store and carries a random id of this location, drawn by the claim that wrote it. The
  metadata records the mark it was bound to (``G chunks-owner``), written only while
  no record with a location id exists, in the same write transaction as that check: of several first
  opens racing with different chunk locations, one location is recorded and the others
  are refused (marked with this store's id but another location id). A copy of the
  location (a replica, a restored backup) carries the same mark and is accepted.
- A mark without a location id (written by an older objstore, or by hand for an old
  store as its message asks: the user's "this is mine") is accepted for its store id only while the
  record has no location id either (none at all, or the bare id an older version
  wrote), and the first such open upgrades both: it writes a fresh location id into
  the mark, then records it, under the metadata's write transaction (:func:`_record`
  has the crash and race argument). From then on the store is bound like one made with
  location ids: a second location, an id-less mark there too, is refused. (A chunk
  store without ``OwnerRewriter`` keeps its id-less mark and record, and the older
  guard.)
- An unmarked location is claimed only (a) by metadata that recorded no claim, and (b)
  if it holds no chunks, unless the metadata is an old store's (it holds data but never
  recorded a claim, made before the mark existed) and the location is its own
  ``path/chunks`` (:func:`own_chunk_dir`). Metadata holding no data never takes a
  location holding chunks: an identity left by a refused first open, a lost first-open
  race or a crash before the claim would otherwise adopt another store's old chunks.
- An old store adopts its ``path/chunks`` only when that is a real directory, not a
  mount point, on the device of ``path/meta`` (a symlink or a bind mount may show
  another store's chunks), not empty when the metadata names chunks (a disk not
  mounted yet), and holding some of the chunks the metadata names (another store's
  metadata restored into the directory). Anywhere else the user confirms by writing
  the mark.
- Accepting the loss of the recorded location is an explicit rebind
  (``accept_chunk_loss``, :func:`_rebind`): a fresh location id written into this
  location's mark and recorded. No message ever shows a location id: the recorded mark,
  pasted at a second location, made it an accepted copy (break-it review, H1). A rebind
  refuses an unmarked location holding any chunk once a location is recorded (the user
  writes the mark: chunk ids are content hashes, so no listing can tell this store's
  chunks from another's); every ``accept_chunk_loss`` open quarantines, before the
  store is used, every recorded chunk the location lacks or holds cut short
  (:func:`_verify`, due from the binding's own commit, or from before the usual rules
  bind, until done, so a crash cannot skip it; a pass cut short resumes); and every
  commit naming chunks compares the binding with the one its node opened with
  (:func:`.binding.check_bound`), fencing nodes still open on the old location.

The location is handed around as one :class:`Location` (its mark's operations, its
listing and its batch ``has``); an open returns its :class:`Binding`.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import blake3

from objstore import keyspace
from objstore.blob.binding import CHUNKS_KEY
from objstore.blob.chunkstore import (
    ChunkId,
    ChunkOwner,
    ChunkStore,
    OwnerMark,
    OwnerRewriter,
)
from objstore.blob.quarantine import quarantine_absent
from objstore.errors import InvalidArgument, StoreDamaged
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.marker import StoreIdentity, holds_records
from objstore.meta.scan import scan_prefix

#: Present from a rebind's commit (or, where the usual rules bind, before them) until every
#: recorded chunk has been checked at the location (:func:`_verify`).
VERIFY_KEY = keyspace.CONFIG + b"chunks-verify"
_TOKEN = 16  # bytes of the check's token (drawn by each rebind); the pass's progress follows
_SITE = 16  # bytes naming the copy of the location a pass's progress was made at (_site)


def encode_record(mark: OwnerMark) -> bytes:
    """``G chunks-owner``: JSON of the mark (written before location ids: the bare id)."""
    if mark.location is None:
        return mark.store_id.encode()
    return json.dumps({"store_id": mark.store_id, "location": mark.location}).encode()


def decode_record(raw: bytes) -> OwnerMark:
    """The mark recorded in ``G chunks-owner``; StoreDamaged when unreadable."""
    try:
        if not raw.startswith(b"{"):
            return OwnerMark(raw.decode(), None)
        d = json.loads(raw)
        mark = OwnerMark(d["store_id"], d["location"])
        if not isinstance(mark.store_id, str) or not isinstance(mark.location, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError, AttributeError):
        raise StoreDamaged("the chunk store record in the metadata is unreadable") from None
    return mark


def own_chunk_dir(where: str | None, *, named: bool) -> bool:
    """Whether the chunks are the store directory's own ``path/chunks`` beside its own
    LMDB metadata: nothing ``named`` (``chunks=`` or ``metadata=``: metadata elsewhere may
    belong to a store whose chunks are elsewhere too), real directories (a symlink may
    lead to another store's), ``path/chunks`` no mount point and on the device of
    ``path/meta`` (a bind mount or another volume may be another store's chunks). Only
    such a location is adopted unmarked by an old store."""
    if where is None or named:
        return False
    chunks, meta = os.path.join(where, "chunks"), os.path.join(where, "meta")
    if os.path.islink(chunks) or os.path.islink(meta):
        return False
    try:
        if _mount_point(chunks):
            return False
        return os.stat(chunks).st_dev == os.stat(meta).st_dev
    except OSError:
        return False


def names_present(
    meta: MetadataStore, has_many: Callable[[Iterable[ChunkId]], set[ChunkId]], sample: int = 256
) -> bool:
    """Whether the chunk store holds some of the chunks the metadata names (True when it
    names none): checked before an old store adopts its unmarked ``path/chunks``, so that
    metadata restored or mounted from another store never adopts chunks it does not know
    (its gc would delete them all). Looks at up to ``sample`` recorded chunks."""
    with meta.begin() as txn:
        ids = [
            ChunkId(key[len(keyspace.CHUNKREF) :])
            for key, _ in itertools.islice(scan_prefix(txn, keyspace.CHUNKREF), sample)
        ]
    return not ids or bool(has_many(ids))


def _mount_point(path: str) -> bool:
    """Whether something is mounted at ``path``: ``os.path.ismount`` (another device),
    or, on Linux, a mount point in ``/proc/self/mountinfo`` (a bind mount of a directory
    of the same file system looks like any directory otherwise)."""
    if os.path.ismount(path):
        return True
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            table = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return False
    for line in table.splitlines():
        fields = line.split(" ")
        # Field 5 is the mount point, with space, tab, newline and backslash as octal.
        if len(fields) > 4 and _unescape(fields[4]) == real:
            return True
    return False


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _names_chunks(txn: ReadTxn) -> bool:
    return any(True for _ in scan_prefix(txn, keyspace.CHUNKREF))


#: How every refusal tells the operator to accept a lost location: an explicit action
#: that rebinds the store (:func:`_rebind`). No message ever gives a recorded mark, which
#: written at a second location would make it an accepted "copy" (break-it review, H1).
ACCEPT = (
    "accept that loss (every object whose chunks are not here reads as missing, and "
    "the recorded location is refused from then on) by rebinding the store to this "
    "location: 'objstore fsck --accept-chunk-loss' with the same --store or "
    "--metadata/--chunks, or objstore.open(..., accept_chunk_loss=True)"
)


def _mark_text(store_id: str) -> str:
    return f'objstore-owner.json holding {{"store_id": "{store_id}"}}'


def _check_unmarked(meta: MetadataStore, ident: StoreIdentity, loc: Location) -> None:
    """Raise StoreDamaged unless this metadata may claim the unmarked location."""
    with meta.begin() as rtxn:
        recorded = rtxn.get(CHUNKS_KEY)
        populated = holds_records(rtxn)
        names_chunks = populated and _names_chunks(rtxn)
    sid, where = ident.store_id, loc.where
    there = functools.cache(loc.has_chunks)  # listed at most once, and only if a rule asks
    if recorded is not None and names_chunks and not there():
        # Never hands out the recorded mark: pasted at a mistyped, empty location it made
        # that one a "copy" and put one store on two locations (break-it review, H1).
        raise StoreDamaged(
            f"the chunk store {where} is empty and carries no mark, but the metadata of "
            f"store {sid} names chunks and recorded another location when it claimed its "
            "chunk store (a mistyped prefix or directory, a disk not mounted?); refusing "
            "to open it: name the recorded location. Only if every chunk of this store is "
            f"truly lost, {ACCEPT}",
            store_id=sid,
        )
    if recorded is not None:
        raise StoreDamaged(
            f"the chunk store {where} does not carry the mark of store {sid}, "
            "which this store's metadata recorded when it claimed its chunk store: it is "
            "another location (a mistyped prefix or directory, a disk not mounted?) or its "
            "mark was removed; refusing to open it. Name the recorded location; only if it "
            f"is lost and this one is to replace it, {ACCEPT}",
            store_id=sid,
        )
    # An empty one is refused below with its own message (R8).
    if populated and not (
        loc.own_dir() and (not there() or names_present(meta, loc.chunks.has_many))
    ):
        raise StoreDamaged(
            f"the metadata of store {sid} holds data but never claimed a chunk store, and "
            f"{where} carries no owner mark: objstore cannot tell whether it is this "
            "store's chunk store or another's (whose chunks this store's gc would "
            f"delete); refusing to claim it. If it is this store's, write its "
            f"{_mark_text(sid)} and open again",
            store_id=sid,
        )
    if not populated and there():
        raise StoreDamaged(
            f"the chunk store {where} holds chunks but carries no owner mark, and the "
            f"metadata of store {sid} holds no data: they are another store's (whose "
            "chunks this store's gc would delete); refusing to claim it (give this store "
            "an empty location of its own)",
            store_id=sid,
        )
    if names_chunks and not there():
        raise StoreDamaged(
            f"the metadata of store {sid} names chunks but its chunk store {where} is "
            "empty and unmarked (a disk not mounted yet? a wrong directory?); refusing to "
            f"adopt it. Mount or name the right one; only if the chunks truly are lost, {ACCEPT}",
            store_id=sid,
        )


@dataclass(frozen=True, slots=True)
class Location:
    """The chunk location being bound, as the rules see it: its chunk store (for
    ``has_many`` and ``stat``), its mark's three operations
    (``rewrite_owner`` None when marks cannot be replaced), ``has_chunks`` (whether it
    holds any chunk: a listing, asked at most once), ``own_dir`` (whether it is the
    store directory's own ``path/chunks``, :func:`own_chunk_dir`; asked only when an old
    store meets it unmarked), and how messages name it (``where``)."""

    where: str
    chunks: ChunkStore
    read_owner: Callable[[], OwnerMark | None]
    claim_owner: Callable[[OwnerMark], OwnerMark]
    rewrite_owner: Callable[[OwnerMark, OwnerMark], bool] | None
    has_chunks: Callable[[], bool]
    own_dir: Callable[[], bool]


@dataclass(frozen=True, slots=True)
class Binding:
    """What an open bound: ``record``, the ``G chunks-owner`` bytes it checked (every
    commit naming chunks compares it again: :func:`.binding.check_bound`; None for a chunk store
    that keeps no mark), and ``lost``, the chunks a rebind's check found missing here
    and quarantined, when this open ran that check (None otherwise)."""

    record: bytes | None
    lost: tuple[ChunkId, ...] | None = None


def bind_store(
    meta: MetadataStore,
    ident: StoreIdentity,
    chunks: ChunkStore,
    *,
    has_chunks: Callable[[], bool],
    own_dir: Callable[[], bool],
    where: str,
    rebind: bool = False,
) -> Binding:
    """:func:`bind_chunks` for a chunk store object; nothing for one that keeps no mark
    (``ChunkOwner`` is optional, and so is ``OwnerRewriter``)."""
    if not isinstance(chunks, ChunkOwner):
        return Binding(None)
    loc = Location(
        where,
        chunks,
        chunks.read_owner,
        chunks.claim_owner,
        chunks.rewrite_owner if isinstance(chunks, OwnerRewriter) else None,
        has_chunks,
        own_dir,
    )
    return bind_chunks(meta, ident, loc, rebind=rebind)


def bind_chunks(
    meta: MetadataStore, ident: StoreIdentity, loc: Location, *, rebind: bool = False
) -> Binding:
    """Check that the chunk location ``loc`` is this store's one location, claiming it
    if no store has yet (see the module docstring), and finish a rebind's check of the
    chunks if one is pending (:func:`_verify`). Raises StoreDamaged when another store
    owns it, when it is another location of this store, or when it is unmarked and may
    not be claimed; what the stores raise when they cannot be read or written.
    ``rebind``: the operator accepts the loss of the recorded location, and this one
    replaces it (:func:`_rebind`)."""
    if rebind:
        _rebind(meta, ident, loc)
    where, mark = loc.where, loc.read_owner()
    if mark is None:
        _check_unmarked(meta, ident, loc)
        mark = loc.claim_owner(OwnerMark(ident.store_id, uuid.uuid4().hex))
    _check_store(mark, ident, where)
    with meta.begin() as rtxn:
        raw, due = rtxn.get(CHUNKS_KEY), rtxn.get(VERIFY_KEY)
    recorded = None if raw is None else decode_record(raw)
    if recorded is None or (
        recorded.location is None
        and recorded.store_id == ident.store_id
        and (mark.location is not None or loc.rewrite_owner is not None)
    ):
        recorded, mark, raw = _record(meta, ident, mark, loc)
        with meta.begin() as rtxn:  # a rebind may have committed meanwhile (rare path)
            due = rtxn.get(VERIFY_KEY)
    if recorded.store_id != ident.store_id:
        raise StoreDamaged(
            f"the metadata of store {ident.store_id} recorded a chunk store of store "
            f"{recorded.store_id}; refusing to open it",
            store_id=ident.store_id,
        )
    # A mark without a location id (older versions, or hand-written) is accepted only
    # while the record has none either: once a location id is recorded, an id-less mark
    # elsewhere would let this store onto a second location.
    if recorded.location is not None and recorded.location != mark.location:
        # The mark was read before the record: another node's upgrade may have written
        # the location's mark and recorded it in between (a mark is always written before
        # the record naming it), so this location's mark as it is now decides; a stale
        # id-less read refused an old store's own location to a node opening it at the
        # same time as another (1 race in ~500 under load).
        mark = loc.read_owner() or mark
        _check_store(mark, ident, where)
    if recorded.location is not None and recorded.location != mark.location:
        raise StoreDamaged(
            f"the chunk store {where} carries the mark of store {ident.store_id} but is "
            "not the location its metadata recorded: another location of this store (a "
            "node configured with another prefix or directory?), or this location's mark "
            "was rewritten by an open that then failed; what one location holds a node on "
            "the other never reads, so refusing to open it. Name the recorded location; "
            f"only if it is lost and this one is to replace it, {ACCEPT}",
            store_id=ident.store_id,
        )
    return Binding(raw, None if due is None else _verify(loc, meta, ident, raw, due))


def _record(
    meta: MetadataStore, ident: StoreIdentity, mark: OwnerMark, loc: Location
) -> tuple[OwnerMark, OwnerMark, bytes]:
    """Bind the store to the location marked ``mark``: record the mark in the metadata,
    giving an id-less mark a location id first; the record, the location's mark and the
    record's bytes after.

    The record is the arbiter and the mark is written first, both under the metadata's
    write transaction, which every node's bind of this store holds in turn:

    - Recorded only while no record with a location id exists, checked in the writing
      transaction: of first opens racing with different locations, exactly one location
      is recorded; a later one finds the record and is compared with it.
    - An id-less mark (and so an id-less or absent record) is upgraded: a fresh id is
      written into the mark (whole, durable), then recorded in the same transaction. A
      crash before the commit leaves a mark with an id under a record without one, a
      state accepted and recorded by the next open (like a crash after a first claim);
      nothing records an id before the location carries it, so no crash leaves a store
      that refuses its own location. Until the record has an id any mark of the store is
      accepted, as before; once it has one, every other location is refused.
    - Nodes binding at once queue on the transaction: the second finds the record the
      first wrote and reads the location's mark again (the first may have upgraded it).
    - The rewrite replaces only the mark it read (``loc.rewrite_owner``'s compare-and-swap:
      If-Match on S3): an open that timed out, its transaction rolled back, may have its
      write land later, after another node upgraded the location and recorded it; an
      unconditional write then left mark and record differing for good, the store
      refusing its own location (break-it review, M1). If the late write lands first,
      its mark is the location's and the next open records it, as after a crash.
    """
    sid = ident.store_id
    with meta.begin_write() as txn:
        raw = txn.get(CHUNKS_KEY)
        recorded = None if raw is None else decode_record(raw)
        if (
            raw is not None
            and recorded is not None
            and (recorded.location is not None or recorded.store_id != sid)
        ):
            return recorded, _reread(loc, ident), raw
        if mark.location is None and loc.rewrite_owner is not None:
            mark = _reread(loc, ident)  # never replace a mark with an id
            if mark.location is None:
                fresh = OwnerMark(sid, uuid.uuid4().hex)
                # Durable before the record names it, and only over the mark just read
                # (M1); if rewritten since (a late write of an open that failed), take it.
                replaced = loc.rewrite_owner(fresh, mark)
                mark = fresh if replaced else _reread(loc, ident)
        new = encode_record(mark)
        if raw != new:
            txn.put(CHUNKS_KEY, new)
    return mark, mark, new


def _rebind(meta: MetadataStore, ident: StoreIdentity, loc: Location) -> None:
    """Bind the store to ``loc`` in place of the recorded location, whose loss the
    operator accepts: a fresh location id is written into this location's mark, then
    recorded, under the metadata's write transaction (as :func:`_record`), together
    with :data:`VERIFY_KEY`: the check of every recorded chunk (:func:`_verify`) is due
    before the binding is used. Where the usual rules accept the location (bound
    already, a replica, an id-less binding; or no claim recorded and the location not
    empty: an old store's own directory is adopted, anything else refused) only the
    check is made due, in a commit of its own before they bind; :func:`bind_chunks`
    checks the result as at any open.

    Safe because a location id is only ever drawn fresh and written to the location
    being bound: the record names one id, which only this location (and copies made of
    it afterwards) carries; the old location, its copies, and any mark a message ever
    showed are refused from then on, and nodes still open on it are fenced
    (:func:`.binding.check_bound`). A crash between the mark and the commit leaves the record as
    it was: the old location is still the bound one, this one refused until the rebind
    is run again; never both. Refuses (StoreDamaged) a location marked by another
    store, and, once a location is recorded, an unmarked one holding any chunk (whose
    they are, nothing can tell:
    chunk ids are hashes of content, which stores share; this store's gc would delete
    another's); InvalidArgument when the chunk store cannot rewrite its mark."""
    sid, where = ident.store_id, loc.where
    with meta.begin() as rtxn:
        raw = rtxn.get(CHUNKS_KEY)
        names = holds_records(rtxn) and _names_chunks(rtxn)
    recorded = None if raw is None else decode_record(raw)
    mark = loc.read_owner()
    if mark is None and recorded is None and not names:
        return  # nothing to lose, nothing to check: claimed (or refused) as at any open
    if mark is not None:
        _check_store(mark, ident, where)
        if recorded is None or recorded.location is None or recorded == mark:
            # The usual rules bind it (an id-less binding is upgraded); the operator says
            # chunks may be lost, so the check is due all the same (break-it review 9e:
            # missing chunks of an id-less or stale binding stayed trusted).
            _check_due(meta)
            return
    elif loc.has_chunks():
        if recorded is None:
            # No claim recorded (an old store): the usual rules decide, which adopt the
            # store's own path/chunks and refuse anything else (write the mark).
            _check_due(meta)
            return
        # Not "some (or all) of its chunks are named here": another store holding the
        # same content has the same chunk ids (break-it review: one named chunk was
        # enough to take over, and gc then deleted the rest).
        raise StoreDamaged(
            f"the chunk store {where} carries no owner mark and holds chunks: nothing "
            "can tell whether they are this store's or another's (chunk ids are hashes of "
            "content, which stores share), and this store's gc would delete every chunk "
            f"its metadata does not name; refusing to bind store {sid} to it. If they are "
            f"this store's, write its {_mark_text(sid)} and run the rebind again",
            store_id=sid,
        )
    if loc.rewrite_owner is None:
        raise InvalidArgument(
            f"the chunk store {where} cannot rewrite its owner mark, so this store cannot "
            "be rebound to it",
            argument="accept_chunk_loss",
        )
    with meta.begin_write() as txn:
        # Another node's open may have bound or rebound meanwhile: decide again then.
        if txn.get(CHUNKS_KEY) != raw or loc.read_owner() != mark:
            raise StoreDamaged(
                f"the binding of store {sid} changed while it was being rebound to "
                f"{where}; open again to see the new state",
                store_id=sid,
            )
        fresh = OwnerMark(sid, uuid.uuid4().hex)
        if mark is None:
            if loc.claim_owner(fresh) != fresh:
                raise StoreDamaged(
                    f"the chunk store {where} was marked while store {sid} was being "
                    "rebound to it; open again to see the new state",
                    store_id=sid,
                )
        elif not loc.rewrite_owner(fresh, mark):  # durable before the record names it
            raise StoreDamaged(
                f"the owner mark of {where} was rewritten while store {sid} was being "
                "rebound to it; open again to see the new state",
                store_id=sid,
            )
        txn.put(CHUNKS_KEY, encode_record(fresh))
        # In the binding's own commit: no crash leaves the binding without its check due.
        txn.put(VERIFY_KEY, os.urandom(_TOKEN))


def _check_due(meta: MetadataStore) -> None:
    """Make the check of every recorded chunk due (its own commit, before the usual rules
    bind anything: a crash then leaves it due, never skipped). A check due already is
    kept with its progress: the binding is the same, so a retried ``fsck
    --accept-chunk-loss`` resumes it instead of starting over (break-it review 9f, M3)."""
    with meta.begin_write() as txn:
        if txn.get(VERIFY_KEY) is None:
            txn.put(VERIFY_KEY, os.urandom(_TOKEN))


def _verify(
    loc: Location, meta: MetadataStore, ident: StoreIdentity, bound: bytes | None, due: bytes
) -> tuple[ChunkId, ...]:
    """Run the check a rebind left due (:data:`VERIFY_KEY`, ``due``): quarantine every
    recorded chunk this location lacks or holds with another length than recorded, so
    that dedup never again acknowledges an upload by reference to a chunk that is not
    here whole (break-it reviews: re-uploading could never heal such an object). The
    key is removed only after the whole pass, so every open until then runs it before
    it returns a store (this one crashed, several at once: flags are idempotent, and a
    flag on a chunk that is there costs one rewrite). It keeps the pass's progress (the
    last key of each page checked, in the page's write transaction), so a pass cut
    short resumes there; only while the binding is still ``bound`` (the record this
    open checked) and the check the same (a token drawn by each rebind, or each
    ``accept_chunk_loss`` open): a node bound elsewhere meanwhile neither advances nor
    ends another binding's check. Another open's new check takes over (this one then
    follows it); another binding meanwhile is StoreDamaged. Returns the chunks this
    open found bad."""
    lost: list[ChunkId] = []
    site = _site(loc)
    while True:
        token, at, cursor = due[:_TOKEN], due[_TOKEN : _TOKEN + _SITE], due[_TOKEN + _SITE :]

        def progress(txn: WriteTxn, last: bytes, token: bytes = token) -> bool:
            now = txn.get(VERIFY_KEY)
            if now is None or now[:_TOKEN] != token or txn.get(CHUNKS_KEY) != bound:
                return False
            txn.put(VERIFY_KEY, token + site + last)
            return True

        # A key of the chunk records, or none yet (or what an earlier build kept there).
        # Pages checked at another copy of the location (a replica carries the same mark)
        # say nothing of this one: start again (break-it review 9g, M3: a retry at an
        # older replica resumed after pages another copy had passed, and re-uploads of
        # chunks lost there were acknowledged by reference and unreadable).
        resume = at == site and cursor.startswith(keyspace.CHUNKREF)
        start = cursor + b"\x00" if resume else None
        found, done = quarantine_absent(meta, loc.chunks, start=start, progress=progress)
        lost += found
        with meta.begin_write() as txn:
            now, binding = txn.get(VERIFY_KEY), txn.get(CHUNKS_KEY)
            if binding != bound:
                raise StoreDamaged(
                    f"store {ident.store_id} was rebound to another chunk location while "
                    "it was being opened; open it again to see the new state",
                    store_id=ident.store_id,
                )
            if now is None:
                return tuple(lost)  # another open finished it
            if done and now[:_TOKEN] == token:
                txn.delete(VERIFY_KEY)
                return tuple(lost)
        due = now  # another accept_chunk_loss open's check, started since: follow it


def _site(loc: Location) -> bytes:
    """Which copy of the location a pass ran at, as far as an open can tell, hashed: the
    chunk store's ``site`` if it has one (S3: bucket, prefix and the endpoint in use, also
    one from the environment: review 9h, M2), else ``where``. Not a copy swapped in place."""
    name = getattr(loc.chunks, "site", None) or loc.where
    return blake3.blake3(str(name).encode("utf-8", "surrogatepass")).digest(length=_SITE)


def _reread(loc: Location, ident: StoreIdentity) -> OwnerMark:
    mark = loc.read_owner()
    if mark is None:
        raise StoreDamaged(
            f"the owner mark of {loc.where} vanished while the store was being opened",
            store_id=ident.store_id,
        )
    _check_store(mark, ident, loc.where)
    return mark


def _check_store(mark: OwnerMark, ident: StoreIdentity, where: str) -> None:
    if mark.store_id != ident.store_id:
        raise StoreDamaged(
            f"the chunk store {where} belongs to store {mark.store_id}, not to store "
            f"{ident.store_id} whose metadata this is; two stores sharing one chunk store "
            "would delete each other's chunks, so refusing to open it (give each store a "
            "prefix or directory of its own)",
            store_id=ident.store_id,
        )
