"""A rebind (``accept_chunk_loss``) is safe for the data of the store rebound.

Break-it review of the explicit rebind (three HIGH findings, each test here failed before):

1. The old location's chunk records stayed trusted by dedup: re-uploading the same bytes
   was acknowledged by reference to a chunk missing at the new location, unreadable, and
   re-uploading could never heal it. Now the rebind quarantines every recorded chunk the
   new location lacks before the store is used, and a crash before that check finished
   leaves it due for every later open.
2. Nodes still open on the old location went on writing there: acknowledged writes lost
   to the rebound store. Now each commit naming chunks re-reads the binding (StoreDamaged).
3. An unmarked location holding chunks was taken over when one of them was named by this
   store's metadata (a sample of 256); this store's gc then deleted the others. Now an
   unmarked location holding any chunk is refused for a rebind.

Review 9e of those fixes: the check looked at presence only (a chunk file cut short by
an interrupted copy stayed trusted), and was skipped where the rebind let the usual
rules bind (an id-less or absent record, the recorded location or a replica of it).
Now it compares lengths too, and every ``accept_chunk_loss`` open runs it.

Runs on both pairs: LMDB + chunk files, and PostgreSQL + Ceph RGW.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import blake3
import pytest

import objstore
from objstore.backends import urls
from objstore.blob import owner
from objstore.blob.chunkstore import ChunkId, ChunkStore
from objstore.errors import DataCorruption, NoSuchKey, StoreDamaged
from tests.backends.nodes import Backends
from tests.backends.test_chunk_owner import (
    DATA,
    OTHER,
    B,
    _chunk_ids,
    _fill,
    _forget_the_claim,
    _open,
    _other_chunks,
    _write_mark,
    new_metadata,  # noqa: F401 (a fixture)
)
from tests.backends.test_owner_upgrade import _bound, _mark, _old_store, _recorded


def _accept(pair: Backends, chunks: str) -> objstore.Store:
    return objstore.open(
        metadata=pair.metadata, chunks=chunks, secret_key=pair.key, accept_chunk_loss=True
    )


def _data_chunks(data: bytes) -> set[bytes]:
    """The chunk ids of ``data`` at the default 4 MiB fixed chunking."""
    step = 4 << 20
    return {blake3.blake3(data[i : i + step]).digest() for i in range(0, len(data), step)}


def _verify_due(pair: Backends) -> bool:
    meta = urls.open_metadata(urls.parse_metadata_url(pair.metadata))
    try:
        with meta.begin() as txn:
            return txn.get(owner.VERIFY_KEY) is not None
    finally:
        meta.close()


def test_a_rebind_quarantines_what_the_new_location_lacks(fresh_backends: Backends) -> None:
    """Finding 1: after the rebind, uploading the lost bytes again writes them afresh,
    and heals the objects that used them."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
    second = _other_chunks(pair, "rebound")
    with _accept(pair, second) as b:
        assert b.binding.lost is not None
        assert set(b.binding.lost) == _data_chunks(DATA)
        with pytest.raises(DataCorruption):
            b.root.get_object(B, "k").read()
        b.root.put_object(B, "again", DATA)  # acknowledged: it must be readable
        assert b.root.get_object(B, "again").read() == DATA
        assert b.root.get_object(B, "k").read() == DATA  # healed
        assert b.fsck().healthy
    assert not _verify_due(pair)
    assert _data_chunks(DATA) <= _chunk_ids(second)
    with _open(pair.metadata, second, pair.key) as b:
        assert b.binding.lost is None  # checked once


def test_a_crash_before_the_check_leaves_it_due(
    fresh_backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1, crash safety: the check is due from the binding's own commit until it
    finished, so the next open (a plain one) runs it before returning the store."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
    second = _other_chunks(pair, "crash")

    def crash(*_: object, **__: object) -> list[object]:
        raise KeyboardInterrupt  # the process dies after the binding committed

    with monkeypatch.context() as m:
        m.setattr(owner, "quarantine_absent", crash)
        with pytest.raises(KeyboardInterrupt):
            _accept(pair, second)
    assert _verify_due(pair)
    new = _bound(pair, second)  # the rebind itself committed
    with _open(pair.metadata, second, pair.key) as b:
        assert b.binding.lost is not None and set(b.binding.lost) == _data_chunks(DATA)
        b.root.put_object(B, "again", DATA)
        assert b.root.get_object(B, "again").read() == DATA
        assert b.root.get_object(B, "k").read() == DATA
    assert not _verify_due(pair) and _bound(pair, second) == new


def test_a_node_open_on_the_old_location_is_fenced(fresh_backends: Backends) -> None:
    """Finding 2: a store still open on the old location (another node) fails, typed,
    every commit naming chunks once the store is rebound, and commits nothing."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as old:
        _fill(old)
        second = _other_chunks(pair, "fenced")
        with _accept(pair, second) as b:
            with pytest.raises(StoreDamaged, match="rebound to another chunk location"):
                old.root.put_object(B, "late", OTHER)
            with pytest.raises(NoSuchKey):
                b.root.head_object(B, "late")
            # A body kept in the metadata (inline) is the store's wherever its chunks are.
            old.root.put_object(B, "small", b"x" * 100)
            assert b.root.get_object(B, "small").read() == b"x" * 100
            b.root.put_object(B, "new", OTHER)
            assert b.root.get_object(B, "new").read() == OTHER
            b.gc()
            assert b.fsck(verify_data=False).missing == tuple(c.hex() for c in b.binding.lost or ())
    assert _mark(pair.chunks) is not None


def test_a_rebind_refuses_an_unmarked_location_with_any_chunk(
    fresh_backends: Backends,
    new_metadata: Callable[[], str],  # noqa: F811 (the fixture)
) -> None:
    """Finding 3: an unmarked location holding one chunk this store's metadata names and
    another store's chunks was taken; this store's gc then deleted the others. Now any
    chunk there refuses the rebind until the user writes the mark ("this is mine")."""
    pair = fresh_backends
    mine = os.urandom(1 << 20)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
        s.root.put_object(B, "mine", mine)
    mark = _bound(pair, pair.chunks)
    # Another store's location, holding (the same content) one of this store's chunks.
    foreign = _other_chunks(pair, "foreign")
    other_meta = new_metadata()
    with _open(other_meta, foreign, os.urandom(32)) as o:
        _fill(o, "theirs", DATA)
        o.root.put_object(B, "other", OTHER)
    before = _chunk_ids(foreign)
    assert _data_chunks(DATA) < before
    _forget_the_claim(other_meta, foreign)  # an old store's unmarked location, say
    with pytest.raises(StoreDamaged, match="carries no owner mark and holds chunks") as caught:
        _accept(pair, foreign)
    text = str(caught.value)
    assert mark.store_id in text and mark.location is not None and mark.location not in text
    assert _mark(foreign) is None and _chunk_ids(foreign) == before
    assert _recorded(pair.metadata) == owner.encode_record(mark)  # nothing rebound
    # Written by hand, the mark is the user's word ("this is mine"): then it is rebound.
    _write_mark(foreign, mark.store_id)
    with _accept(pair, foreign) as b:
        assert b.binding.lost is not None
        assert set(b.binding.lost) == _data_chunks(mine)
        assert b.root.get_object(B, "k").read() == DATA


def _chunk_store(chunks: str) -> ChunkStore:
    return urls.open_chunks(urls.parse_chunks_url(chunks))


def test_a_chunk_cut_short_at_the_new_location_is_quarantined(fresh_backends: Backends) -> None:
    """Review 9e, 1: a copy of the lost location cut short (one chunk truncated) was
    trusted by presence; the next upload of those bytes was acknowledged and unreadable.
    Now its length is compared with the record's and it is flagged (the upload then
    writes over it)."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
        s.root.put_object(B, "other", OTHER)
    mark = _bound(pair, pair.chunks)
    copy = _other_chunks(pair, "cut")
    (cut,) = _data_chunks(DATA)
    (whole,) = _data_chunks(OTHER)
    store = _chunk_store(copy)
    try:
        store.put(ChunkId(cut), DATA[:1000])  # the copy, interrupted in this file
        store.put(ChunkId(whole), OTHER)
        store.sync()
    finally:
        store.close()
    _write_mark(copy, mark.store_id)  # it holds chunks: the user's "this is mine"
    with _accept(pair, copy) as b:
        assert b.binding.lost == (cut,)
        b.root.put_object(B, "again", DATA)  # acknowledged: it must be readable
        assert b.root.get_object(B, "again").read() == DATA
        assert b.root.get_object(B, "k").read() == DATA
        assert b.root.get_object(B, "other").read() == OTHER
        assert b.fsck().healthy


@pytest.mark.parametrize("binding", ["location id", "id-less record", "no record"])
def test_every_accept_chunk_loss_open_checks_the_chunks(
    fresh_backends: Backends, binding: str
) -> None:
    """Review 9e, 2 and 4: where the rebind let the usual rules bind (a binding recorded
    without a location id or not at all, as older versions left it; the recorded
    location itself, or a stale replica carrying its mark) nothing was checked, and a
    chunk lost there stayed trusted. The operator says chunks may be lost: every
    ``accept_chunk_loss`` open checks them."""
    pair = fresh_backends
    if binding == "location id":
        with _open(pair.metadata, pair.chunks, pair.key) as s:
            _fill(s)
    else:
        _old_store(pair, "id-less" if binding == "id-less record" else "absent")
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        s.root.put_object(B, "other", OTHER)
    (lost,) = _data_chunks(DATA)
    store = _chunk_store(pair.chunks)
    try:
        store.delete(ChunkId(lost))  # lost here (a replica taken before "k" was written)
    finally:
        store.close()
    with _accept(pair, pair.chunks) as s:
        assert s.binding.lost == (lost,)
        s.root.put_object(B, "again", DATA)
        assert s.root.get_object(B, "again").read() == DATA
        assert s.root.get_object(B, "k").read() == DATA
    assert not _verify_due(pair)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        assert s.binding.lost is None
        assert s.fsck().healthy
