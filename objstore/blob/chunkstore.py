"""The chunk boundary: content-addressed chunks, keyed by their BLAKE3 digest.

A chunk store is dumb storage: it does not verify, count references or know
about objects. The blob layer above it hashes, verifies and keeps reference
counts in the metadata store. Contract (checked by
:class:`objstore.testing.ChunkStoreTests`):

- ``put`` is idempotent; a chunk put and then :meth:`ChunkStore.sync`-ed is
  durable; a half-written chunk is never visible under its id. A ``put`` over a
  damaged copy (bytes that do not match the id) replaces it: the blob layer flags a
  chunk it finds bad and leaves it where it is, and relies on the next upload of
  those bytes to rewrite it.
- ``get`` of an absent chunk raises :class:`ChunkMissing`.
- ``delete`` of an absent chunk is not an error.

A chunk store may also carry its owner's mark (:class:`ChunkOwner`): the id of
the one store whose chunks it holds and the id of this location of it
(:class:`OwnerMark`), so that two stores never share (and garbage-collect) one
chunk location and one store never spreads over two.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NewType, Protocol, runtime_checkable

import blake3

from objstore.errors import StoreDamaged

#: Raw 32-byte BLAKE3 digest of a chunk's bytes.
ChunkId = NewType("ChunkId", bytes)


#: Inputs at least this long are hashed on several threads when read back.
_PARALLEL_HASH = 1 << 20


def read_digest(data: bytes | bytearray | memoryview) -> bytes:
    """BLAKE3 of chunk bytes read back, for verification against the chunk id.

    Large chunks are hashed by BLAKE3's own thread pool (the GIL is released
    meanwhile): on a machine whose other core is busy, one reader's
    verification then still uses whatever share of both cores it can get,
    instead of waiting on one thread.
    """
    if len(data) >= _PARALLEL_HASH:
        return blake3.blake3(data, max_threads=blake3.blake3.AUTO).digest()
    return blake3.blake3(data).digest()


def chunk_digest(data: bytes | bytearray | memoryview) -> bytes:
    """BLAKE3 of chunk bytes on the calling thread alone (the GIL released), for callers
    that spread whole chunks over their own threads: a thread pool inside each hash
    would only add hand-offs between them."""
    return blake3.blake3(data).digest()


class ChunkMissing(KeyError):
    """A chunk the caller expected is not in the store.

    Internal to the blob layer: readers turn it into
    :class:`objstore.errors.DataCorruption`, never into "no such key".
    """


@runtime_checkable
class ChunkStore(Protocol):
    """Where chunk bytes live.

    Optional: an ``io_concurrency`` attribute (int), how many chunk transfers the blob layer
    should keep in flight through this store (I/O threads and read-ahead; default 2, right
    for a local disk; a store across a network wants more).

    Optional: a ``get_verified(cid) -> bytes | None`` method, for a store that hashes what
    it reads anyway (to read again a transfer spoiled in flight): the chunk's bytes when
    they match ``cid``, None when they still do not (raises :class:`ChunkMissing` as
    ``get``). The blob layer then trusts that answer instead of hashing the bytes twice.

    Optional: a ``prefetch(cid) -> None`` method, a hint that the chunk will be read soon
    (a local store may start reading it from the device); it never raises.
    """

    def has(self, cid: ChunkId) -> bool:
        """Whether the chunk is present."""
        ...

    def get(self, cid: ChunkId) -> bytes:
        """The chunk's bytes; raises :class:`ChunkMissing`."""
        ...

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        """Store a chunk (idempotent; a damaged copy is replaced). Durable only after
        :meth:`sync`."""
        ...

    def delete(self, cid: ChunkId) -> None:
        """Remove a chunk if present."""
        ...

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The subset of ``cids`` that is present."""
        ...

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        """Store many chunks."""
        ...

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        """Remove many chunks."""
        ...

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        """Make every chunk put so far durable. Raises when one of ``cids`` is not durable
        afterwards (its put or its sync failed, or another caller's put of the same bytes,
        which this one's relied on, did); with no ``cids``, when any chunk failed. A chunk
        whose sync failed must be put again."""
        ...

    def durable_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The subset of ``cids`` stored durably (a crash keeps them): for a store whose
        ``put`` is durable on return, those present."""
        ...

    def iter_ids(self) -> Iterable[ChunkId]:
        """Every chunk id present (for garbage collection and scrubbing)."""
        ...

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        """``(size, mtime in ns)`` of a chunk, or None if absent.

        The time is when the chunk was last written, on the clock of whoever
        wrote it (gc compares it with lease floors to spot crash leftovers).
        """
        ...

    def clean_tmp(self, older_than_ns: int) -> int:
        """Delete half-written leftovers last touched before ``older_than_ns``; how many."""
        ...

    def set_aside(self, cid: ChunkId) -> bool:
        """Move a bad chunk out of the way (kept for inspection, never read again). The blob
        layer no longer calls it (a move after its last look could take away a fresh copy
        an upload had just written): it flags bad chunks and leaves them in place.

        Afterwards the chunk is absent, so a new ``put`` writes it afresh.
        Returns whether there was anything to move.
        """
        ...

    def close(self) -> None:
        """Release resources."""
        ...


#: Name of the owner mark inside a chunk store (a file, or an object under the prefix).
OWNER_NAME = "objstore-owner.json"
#: A mark is a few dozen bytes; anything longer than this is damage, not read further.
MAX_OWNER_BYTES = 4096


@dataclass(frozen=True, slots=True)
class OwnerMark:
    """What ``objstore-owner.json`` says: the owning store's id, and the random id its
    claim gave this location (None in a mark written before locations had ids).

    A copy of the location (a replica, a restored backup) carries the same mark, so it
    is the same location to its store; another location claimed under the same store id
    (two first opens racing with different chunk URLs) has another ``location``."""

    store_id: str
    location: str | None = None


@runtime_checkable
class ChunkOwner(Protocol):
    """A chunk store that records which store owns it (every shipped backend does).

    Opening a store claims its chunk store and refuses one claimed by another store:
    each store's gc deletes the chunks its own metadata does not name, so two stores
    sharing one chunk location would delete each other's data (``meta/marker.py``).
    """

    def read_owner(self) -> OwnerMark | None:
        """The owner mark, or None when the chunk store carries none."""
        ...

    def claim_owner(self, mark: OwnerMark) -> OwnerMark:
        """Write ``mark`` unless the chunk store is marked already (create-if-absent,
        durable on return); the mark it has afterwards."""
        ...


@runtime_checkable
class OwnerRewriter(Protocol):
    """A :class:`ChunkOwner` that can also replace its mark (every shipped backend can):
    a mark without a location id (an older version's, or written by hand) is given one at
    the store's next open (``blob/owner.py``). Optional apart from ``ChunkOwner``, so a
    chunk store written against the two-method protocol stays guarded (its id-less marks
    stay id-less)."""

    def rewrite_owner(self, mark: OwnerMark, expected: OwnerMark) -> bool:
        """Replace the mark by ``mark``, whole (a reader sees the old mark or the new one),
        durable on return, only if it is ``expected`` (a compare-and-swap: a rewrite
        landing late, after another node's, must never replace the newer mark); True
        when replaced, False when the mark is another or gone. Called only under the
        metadata's write transaction."""
        ...


def encode_owner(mark: OwnerMark) -> bytes:
    """The owner mark's bytes."""
    d = {"store_id": mark.store_id}
    if mark.location is not None:
        d["location"] = mark.location
    return json.dumps(d).encode()


def decode_owner(raw: bytes, where: str) -> OwnerMark:
    """The owner mark in ``raw``; raises StoreDamaged when it is unreadable."""
    try:
        if len(raw) > MAX_OWNER_BYTES:
            raise ValueError
        d = json.loads(raw)
        mark = OwnerMark(d["store_id"], d.get("location"))
        if not isinstance(mark.store_id, str) or not mark.store_id:
            raise TypeError
        if mark.location is not None and (not isinstance(mark.location, str) or not mark.location):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError, AttributeError):
        raise StoreDamaged(f"the owner mark {where} is unreadable") from None
    return mark
