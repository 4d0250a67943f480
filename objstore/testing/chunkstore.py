"""Conformance tests every :class:`~objstore.blob.chunkstore.ChunkStore` must pass."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from objstore.blob.chunkstore import (
    ChunkId,
    ChunkMissing,
    ChunkOwner,
    ChunkStore,
    OwnerMark,
    OwnerRewriter,
)


def cid_of(data: bytes) -> ChunkId:
    return ChunkId(blake3.blake3(data).digest())


class ChunkStoreTests:
    """Subclass and implement :meth:`make_store`."""

    def make_store(self, tmp_path: Path) -> ChunkStore:
        raise NotImplementedError

    @pytest.fixture
    def chunks(self, tmp_path: Path) -> Iterator[ChunkStore]:
        store = self.make_store(tmp_path)
        yield store
        store.close()

    def test_put_then_get_returns_the_bytes(self, chunks: ChunkStore) -> None:
        """A chunk reads back exactly as written."""
        data = os.urandom(10_000)
        chunks.put(cid_of(data), data)
        assert chunks.get(cid_of(data)) == data
        assert chunks.has(cid_of(data))

    def test_get_missing_raises_chunk_missing(self, chunks: ChunkStore) -> None:
        """An absent chunk is ChunkMissing (a KeyError), not empty bytes."""
        with pytest.raises(ChunkMissing):
            chunks.get(cid_of(b"never stored"))
        assert not chunks.has(cid_of(b"never stored"))

    def test_put_is_idempotent(self, chunks: ChunkStore) -> None:
        """Putting the same chunk twice keeps one good copy."""
        data = b"x" * 5000
        chunks.put(cid_of(data), data)
        chunks.put(cid_of(data), memoryview(data))
        assert chunks.get(cid_of(data)) == data
        assert list(chunks.iter_ids()).count(cid_of(data)) == 1

    def test_accepts_memoryview_and_bytearray(self, chunks: ChunkStore) -> None:
        """Bodies arrive as views into reused buffers."""
        buf = bytearray(os.urandom(3000))
        chunks.put(cid_of(bytes(buf[:1000])), memoryview(buf)[:1000])
        chunks.put(cid_of(bytes(buf)), buf)
        assert chunks.get(cid_of(bytes(buf[:1000]))) == bytes(buf[:1000])
        assert chunks.get(cid_of(bytes(buf))) == bytes(buf)

    def test_delete_removes_and_tolerates_absent(self, chunks: ChunkStore) -> None:
        """Deleting twice is not an error; the chunk is gone after."""
        data = b"delete me"
        chunks.put(cid_of(data), data)
        chunks.delete(cid_of(data))
        chunks.delete(cid_of(data))
        assert not chunks.has(cid_of(data))
        with pytest.raises(ChunkMissing):
            chunks.get(cid_of(data))

    def test_batch_forms(self, chunks: ChunkStore) -> None:
        """has_many / put_many / delete_many agree with the single forms."""
        blobs = [os.urandom(100 + i) for i in range(20)]
        ids = [cid_of(b) for b in blobs]
        chunks.put_many(zip(ids, blobs, strict=True))
        absent = cid_of(b"absent")
        assert chunks.has_many([*ids, absent]) == set(ids)
        chunks.delete_many(ids[:10])
        assert chunks.has_many(ids) == set(ids[10:])
        assert set(chunks.iter_ids()) == set(ids[10:])

    def test_empty_chunk(self, chunks: ChunkStore) -> None:
        """A zero-length chunk is a chunk like any other."""
        chunks.put(cid_of(b""), b"")
        assert chunks.has(cid_of(b""))
        assert chunks.get(cid_of(b"")) == b""

    def test_sync_keeps_everything(self, chunks: ChunkStore) -> None:
        """sync() may be called at any time and loses nothing."""
        chunks.sync()
        data = os.urandom(70_000)
        chunks.put(cid_of(data), data)
        chunks.sync()
        chunks.sync()
        assert chunks.get(cid_of(data)) == data

    def test_a_sync_of_named_chunks_leaves_them_durable(self, chunks: ChunkStore) -> None:
        """``sync(cids)`` returns only once those chunks are durable, and ``durable_many``
        then counts them; a chunk never put is not durable."""
        a, b = os.urandom(3000), os.urandom(3001)
        chunks.put_many([(cid_of(a), a), (cid_of(b), b)])
        chunks.sync([cid_of(a), cid_of(b)])
        absent = cid_of(b"never stored")
        assert chunks.durable_many([cid_of(a), cid_of(b), absent]) == {cid_of(a), cid_of(b)}
        chunks.delete(cid_of(a))
        assert chunks.durable_many([cid_of(a), cid_of(b)]) == {cid_of(b)}

    def test_concurrent_puts_of_the_same_chunk(self, chunks: ChunkStore) -> None:
        """Threads writing one chunk at once leave it whole."""
        data = os.urandom(200_000)
        errors: list[BaseException] = []

        def put() -> None:
            try:
                for _ in range(20):
                    chunks.put(cid_of(data), data)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=put) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert chunks.get(cid_of(data)) == data

    def test_stat_gives_size_and_write_time(self, chunks: ChunkStore) -> None:
        """gc tells crash leftovers from uploads in flight by this time."""
        data = os.urandom(4000)
        assert chunks.stat(cid_of(data)) is None
        chunks.put(cid_of(data), data)
        chunks.sync()
        st = chunks.stat(cid_of(data))
        assert st is not None and st[0] == len(data) and st[1] > 0

    def test_a_put_replaces_a_damaged_copy(self, chunks: ChunkStore) -> None:
        """The blob layer flags a chunk found bad and leaves it in place: the next upload of
        its bytes must write over it, or the objects using it could never be healed."""
        data = os.urandom(3000)
        damaged = bytearray(data)
        damaged[100] ^= 0xFF
        chunks.put(cid_of(data), damaged)  # bytes under an id they do not hash to
        chunks.sync()
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert chunks.get(cid_of(data)) == data

    def test_set_aside_makes_the_chunk_absent(self, chunks: ChunkStore) -> None:
        """A quarantined chunk is gone from its id; a new put writes it afresh."""
        data = os.urandom(3000)
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert chunks.set_aside(cid_of(data))
        assert not chunks.has(cid_of(data))
        assert cid_of(data) not in set(chunks.iter_ids())
        assert not chunks.set_aside(cid_of(data))
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert chunks.get(cid_of(data)) == data

    def test_clean_tmp_keeps_stored_chunks(self, chunks: ChunkStore) -> None:
        """Removing leftovers never touches a whole, stored chunk."""
        data = os.urandom(2000)
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert chunks.clean_tmp(2**62) >= 0
        assert chunks.get(cid_of(data)) == data

    def test_owner_mark_is_claimed_once(self, chunks: ChunkStore) -> None:
        """The owner mark: absent at first, set by the first claim only, never a chunk."""
        if not isinstance(chunks, ChunkOwner):
            pytest.skip(f"{type(chunks).__name__} keeps no owner mark (ChunkOwner is optional)")
        first = OwnerMark("first", "l1")
        assert chunks.read_owner() is None
        assert chunks.claim_owner(first) == first
        assert chunks.claim_owner(OwnerMark("first", "l2")) == first
        assert chunks.claim_owner(OwnerMark("second", "l3")) == first
        assert chunks.read_owner() == first
        data = os.urandom(1000)
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert list(chunks.iter_ids()) == [cid_of(data)]
        assert chunks.clean_tmp(2**62) >= 0
        assert chunks.read_owner() == first

    def test_a_rewritten_mark_replaces_the_old_one(self, chunks: ChunkStore) -> None:
        """An id-less mark is given a location id by rewriting it (``OwnerRewriter``)."""
        if not isinstance(chunks, ChunkOwner) or not isinstance(chunks, OwnerRewriter):
            pytest.skip(f"{type(chunks).__name__} cannot rewrite its mark (it is optional)")
        assert chunks.claim_owner(OwnerMark("first")) == OwnerMark("first")
        assert chunks.rewrite_owner(OwnerMark("first", "l1"), OwnerMark("first"))
        assert chunks.read_owner() == OwnerMark("first", "l1")
        # Only over the mark expected: a rewrite that read an older mark (a late write of
        # an open that failed) never replaces a newer one (review 9c, M1).
        assert not chunks.rewrite_owner(OwnerMark("first", "late"), OwnerMark("first"))
        assert chunks.read_owner() == OwnerMark("first", "l1")
        assert chunks.claim_owner(OwnerMark("second", "l2")) == OwnerMark("first", "l1")
        data = os.urandom(1000)
        chunks.put(cid_of(data), data)
        chunks.sync()
        assert list(chunks.iter_ids()) == [cid_of(data)]
        assert chunks.clean_tmp(2**62) >= 0
        assert chunks.read_owner() == OwnerMark("first", "l1")

    def test_racing_claims_agree_on_one_owner(self, chunks: ChunkStore) -> None:
        """Claims racing on an unmarked store: every claimant is told the same owner."""
        if not isinstance(chunks, ChunkOwner):
            pytest.skip(f"{type(chunks).__name__} keeps no owner mark (ChunkOwner is optional)")
        owner = chunks
        barrier = threading.Barrier(6)
        told: list[OwnerMark] = []

        def claim(name: str) -> None:
            barrier.wait()
            told.append(owner.claim_owner(OwnerMark(name, name)))

        threads = [threading.Thread(target=claim, args=(f"s{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(told) == 6 and len(set(told)) == 1
        assert owner.read_owner() == told[0]
