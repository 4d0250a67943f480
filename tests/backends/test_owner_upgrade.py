"""A store bound through an owner mark without a location id gets one at its next open.

Review of issue 9 (HIGH): an old store opened through an id-less mark (written by an
older objstore, or by hand as a message asks) recorded no location id, so the "accept
the loss" message at a second location told the operator to write the same id-less
mark there, and the store opened on both locations (what one node wrote the other never
read; each location's gc, run from the one metadata, deleted the other's new chunks).
The first bind now writes a fresh location id into the mark and records it; from then
on a second location is refused as for any store made with location ids.

Runs on both pairs: LMDB + chunk files, and PostgreSQL + Ceph RGW.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

import objstore
from objstore.backends import urls
from objstore.backends.s3 import S3ChunkStore
from objstore.blob import owner
from objstore.blob.chunkstore import ChunkOwner, OwnerMark
from objstore.blob.files import FileChunkStore
from objstore.errors import StoreDamaged
from tests.backends.nodes import Backends
from tests.backends.test_chunk_owner import (
    DATA,
    B,
    _at_once,
    _fill,
    _forget_the_claim,
    _open,
    _other_chunks,
    _write_mark,
)


def _mark(chunks: str) -> OwnerMark | None:
    store = urls.open_chunks(urls.parse_chunks_url(chunks))
    try:
        assert isinstance(store, ChunkOwner)
        return store.read_owner()
    finally:
        store.close()


def _recorded(metadata: str) -> bytes | None:
    meta = urls.open_metadata(urls.parse_metadata_url(metadata))
    try:
        with meta.begin() as txn:
            return txn.get(owner.CHUNKS_KEY)
    finally:
        meta.close()


def _set_recorded(metadata: str, raw: bytes) -> None:
    meta = urls.open_metadata(urls.parse_metadata_url(metadata))
    try:
        with meta.begin_write() as txn:
            txn.put(owner.CHUNKS_KEY, raw)
    finally:
        meta.close()


def _old_store(pair: Backends, record: str = "absent") -> str:
    """A populated store bound the old way: its location carries a mark naming the store
    only (written by hand, as the messages ask, or by an older objstore), its metadata
    no location id (``record``: none at all, or the bare store id an older version
    wrote). Returns the store id."""
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
    mark = _mark(pair.chunks)
    assert mark is not None
    _forget_the_claim(pair.metadata, pair.chunks)
    _write_mark(pair.chunks, mark.store_id)
    if record == "id-less":
        _set_recorded(pair.metadata, mark.store_id.encode())
    return mark.store_id


def _bound(pair: Backends, chunks: str) -> OwnerMark:
    """The location's mark, which carries a location id and is the one recorded."""
    mark, raw = _mark(chunks), _recorded(pair.metadata)
    assert mark is not None and mark.location is not None, mark
    assert raw is not None and owner.decode_record(raw) == mark
    return mark


@pytest.mark.parametrize("record", ["absent", "id-less"])
def test_an_id_less_binding_is_upgraded_and_a_second_location_refused(
    fresh_backends: Backends, record: str
) -> None:
    pair = fresh_backends
    store_id = _old_store(pair, record)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        assert s.root.get_object(B, "k").read() == DATA
    mark = _bound(pair, pair.chunks)
    assert mark.store_id == store_id
    # The message at a second, empty location gives no mark at all (the recorded one,
    # pasted there, made it a copy: H1, tests/backends/test_accept_chunk_loss.py) ...
    second = _other_chunks(pair)
    with pytest.raises(StoreDamaged, match="is empty and carries no mark") as caught:
        _open(pair.metadata, second, pair.key)
    assert mark.location not in str(caught.value)
    # ... and the id-less mark an older message gave opens nothing any more.
    _write_mark(second, store_id)
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        _open(pair.metadata, second, pair.key)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        s.gc()
        assert s.root.get_object(B, "k").read() == DATA
        assert s.fsck().healthy
    assert _bound(pair, pair.chunks) == mark


class _Crash(Exception):
    """The process dying between two writes."""


@pytest.mark.parametrize("then", ["own", "second"])
def test_a_crash_between_the_mark_and_the_record_binds_one_location(
    fresh_backends: Backends, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """The mark gets its id first, then the record names it (one write transaction). A
    crash in between leaves a mark with an id under metadata without one: the store
    still opens its own location (and records it), or, if a location with an id-less
    mark is opened first, that one is bound instead; never both."""
    pair = fresh_backends
    store_id = _old_store(pair)
    cls = FileChunkStore if pair.name == "local" else S3ChunkStore
    real = cls.rewrite_owner

    def crash(self: FileChunkStore | S3ChunkStore, mark: OwnerMark, expected: OwnerMark) -> None:
        assert real(self, mark, expected)  # type: ignore[arg-type]
        raise _Crash

    monkeypatch.setattr(cls, "rewrite_owner", crash)
    with pytest.raises(_Crash):
        _open(pair.metadata, pair.chunks, pair.key)
    monkeypatch.undo()
    left = _mark(pair.chunks)
    assert left is not None and left.store_id == store_id and left.location is not None
    assert _recorded(pair.metadata) is None  # the record was never written
    second = _other_chunks(pair)
    _write_mark(second, store_id)  # by hand, as the old message said
    first, other = (pair.chunks, second) if then == "own" else (second, pair.chunks)
    with _open(pair.metadata, first, pair.key) as s:
        assert s.root.list_buckets()
    bound = _bound(pair, first)
    if then == "own":
        assert bound == left
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        _open(pair.metadata, other, pair.key)
    with _open(pair.metadata, first, pair.key):
        pass
    assert _bound(pair, first) == bound


def _race(pair: Backends, locations: list[str]) -> dict[int, objstore.Store | Exception]:
    return _at_once([partial(_open, pair.metadata, where, pair.key) for where in locations])


def _closing(outcome: dict[int, objstore.Store | Exception]) -> Callable[[], None]:
    def close() -> None:
        for s in outcome.values():
            if isinstance(s, objstore.Store):
                s.close()

    return close


def test_nodes_upgrading_one_location_at_once_agree(fresh_backends: Backends) -> None:
    """Several nodes open an old store at once: the metadata's write transaction takes
    them in turn, the first gives the mark its id and records it, the others find the
    record and read the mark again: all open, on one location id."""
    pair = fresh_backends
    _old_store(pair, "id-less")
    outcome = _race(pair, [pair.chunks] * 4)
    try:
        assert all(isinstance(s, objstore.Store) for s in outcome.values()), outcome
        assert len(outcome) == 4
    finally:
        _closing(outcome)()
    _bound(pair, pair.chunks)


def test_nodes_upgrading_two_locations_at_once_bind_one(fresh_backends: Backends) -> None:
    """Two id-less locations opened at once (a node configured with another prefix whose
    mark was written by hand): whichever binds first is the store's location, every
    open of the other is refused."""
    pair = fresh_backends
    store_id = _old_store(pair)
    second = _other_chunks(pair)
    _write_mark(second, store_id)
    locations = [pair.chunks, second] * 2
    outcome = _race(pair, locations)
    try:
        opened = {locations[i] for i, s in outcome.items() if isinstance(s, objstore.Store)}
        refused = [s for s in outcome.values() if not isinstance(s, objstore.Store)]
        assert len(opened) == 1, outcome
        assert len(refused) == 2 and all(isinstance(e, StoreDamaged) for e in refused), refused
        assert all("not the location its metadata recorded" in str(e) for e in refused)
    finally:
        _closing(outcome)()
    (winner,) = opened
    _bound(pair, winner)


def test_a_node_that_read_the_mark_before_another_upgraded_it_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nodes open an old store at once: B reads the location's id-less mark, A then
    upgrades the mark and records it, and B reads A's record. B compared the record with
    its stale read and refused the store's own location (StoreDamaged, 2 races in ~900
    under load in the full suite). It now reads the mark again before refusing."""
    pair = Backends("local", f"lmdb://{tmp_path}/meta", f"file://{tmp_path}/chunks", os.urandom(32))
    store_id = _old_store(pair, "id-less")
    real = FileChunkStore.read_owner
    reads: list[OwnerMark | None] = []

    def read_owner(self: FileChunkStore) -> OwnerMark | None:
        if not reads:  # B's first read, before A's upgrade ...
            reads.append(real(self))
            with _open(pair.metadata, pair.chunks, pair.key):  # ... which happens now
                pass
            return reads[0]
        return real(self)

    monkeypatch.setattr(FileChunkStore, "read_owner", read_owner)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        assert s.root.get_object(B, "k").read() == DATA
    assert reads[0] == OwnerMark(store_id, None)  # the stale, id-less read
    assert _bound(pair, pair.chunks).store_id == store_id
