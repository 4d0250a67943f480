"""``quarantine_absent``: the rebind's check of every chunk record (blob/owner.py).

Every record is looked at exactly once whatever the page size and the ids (the edges
of the key space included), what is missing or of another length than recorded is
flagged (a wrong-length chunk stays: the next upload writes over it), and ``progress``
can stop and resume it.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.quarantine import quarantine_absent
from objstore.blob.records import ChunkRec
from objstore.errors import InternalError, ServiceUnavailable
from objstore.meta.base import WriteTxn
from objstore.meta.memory import MemoryMetadataStore

EDGES = [
    b"\x00" * 32,
    b"\x00" * 31 + b"\x01",
    b"\x7f" + b"\xff" * 31,
    b"\x80" + b"\x00" * 31,
    b"\xff" * 31 + b"\xfe",
    b"\xff" * 32,
]


class Counting(MemoryChunkStore):
    def __init__(self) -> None:
        super().__init__()
        self.looked: list[bytes] = []

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        self.looked.append(cid)
        return super().stat(cid)


def _setup(ids: list[bytes], states: list[int]) -> tuple[MemoryMetadataStore, Counting]:
    """Records of length 10 for ``ids``; each chunk (state) 0 absent, 1 whole, 2 cut short."""
    meta, chunks = MemoryMetadataStore(), Counting()
    with meta.begin_write() as txn:
        for cid in ids:
            txn.put(keyspace.CHUNKREF + cid, ChunkRec(1, 10, 0, 0).encode())
        txn.put(keyspace.DATA + b"\x00" * 16, b"x" * 13)  # the next prefix: never read
    for cid, state in zip(ids, states, strict=True):
        if state:
            chunks.put(ChunkId(cid), b"y" * (10 if state == 1 else 3))
    return meta, chunks


def _flagged(meta: MemoryMetadataStore, ids: list[bytes]) -> set[bytes]:
    with meta.begin() as txn:
        return {
            c for c in ids if ChunkRec.decode(txn.get(keyspace.CHUNKREF + c) or b"").quarantined
        }


@settings(max_examples=60, deadline=None)
@given(
    extra=st.lists(st.binary(min_size=32, max_size=32), max_size=40, unique=True),
    states=st.lists(st.integers(0, 2), min_size=46, max_size=46),
    batch=st.integers(1, 50),
)
def test_every_record_is_checked_once(extra: list[bytes], states: list[int], batch: int) -> None:
    ids = sorted(set(EDGES + extra))
    states = states[: len(ids)]
    meta, chunks = _setup(ids, states)
    bad, done = quarantine_absent(meta, chunks, batch=batch)
    assert done
    assert sorted(chunks.looked) == ids
    expected = {c for c, s in zip(ids, states, strict=True) if s != 1}
    assert set(bad) == expected == _flagged(meta, ids)
    cut = {c for c, s in zip(ids, states, strict=True) if s == 2}
    assert not chunks.set_apart  # moved by nobody but the upload that writes over it
    assert all((chunks.stat(ChunkId(c)) or (0, 0))[0] == 3 for c in cut)


def test_progress_stops_and_a_pass_resumes_after_it() -> None:
    ids = sorted(EDGES + [os.urandom(32) for _ in range(20)])
    meta, chunks = _setup(ids, [0] * len(ids))
    seen: list[bytes] = []

    def stop_after_two(txn: WriteTxn, last: bytes) -> bool:
        seen.append(last)
        return len(seen) < 2

    bad, done = quarantine_absent(meta, chunks, batch=5, progress=stop_after_two)
    # The page whose progress was refused (the check is no longer this pass's: another
    # binding, another check) flags nothing (review 9h, L3: it flagged what only this
    # location lacked); the pass resumes after the last page recorded.
    assert not done and bad == [ChunkId(c) for c in ids[:5]]
    assert seen == [keyspace.CHUNKREF + ids[4], keyspace.CHUNKREF + ids[9]]
    assert _flagged(meta, ids) == set(ids[:5])
    rest, done = quarantine_absent(meta, chunks, batch=5, start=seen[0] + b"\x00")
    assert done and rest == [ChunkId(c) for c in ids[5:]]
    assert _flagged(meta, ids) == set(ids)


@pytest.mark.parametrize("legacy", [True, False])
def test_a_record_without_a_length_is_checked_for_presence(legacy: bool) -> None:
    meta, chunks = MemoryMetadataStore(), Counting()
    cid = ChunkId(os.urandom(32))
    with meta.begin_write() as txn:
        txn.put(keyspace.CHUNKREF + cid, ChunkRec(1, 0 if legacy else 10, 0, 0).encode())
    chunks.put(cid, b"z" * 7)
    bad, _ = quarantine_absent(meta, chunks)
    assert bad == ([] if legacy else [cid])


class Refusing(Counting):
    """Refuses one chunk alone (a permission, a path that is not a file), or everything."""

    def __init__(self, refused: bytes, error: type[Exception]) -> None:
        super().__init__()
        self.refused, self.error = refused, error

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        if cid == self.refused or self.error is ServiceUnavailable:
            raise self.error("refused")
        return super().stat(cid)


def test_a_chunk_refused_alone_counts_as_not_here() -> None:
    """Review 9f, M4: one chunk whose stat always failed made every open fail, for good."""
    ids = sorted(EDGES)
    meta, _ = _setup(ids, [1] * len(ids))
    chunks = Refusing(ids[2], InternalError)
    for cid in ids:
        chunks.put(ChunkId(cid), b"y" * 10)
    bad, done = quarantine_absent(meta, chunks)
    assert done and bad == [ChunkId(ids[2])] and _flagged(meta, ids) == {ids[2]}


def test_a_store_wide_failure_stops_the_pass() -> None:
    meta, _ = _setup(sorted(EDGES), [1] * len(EDGES))
    with pytest.raises(ServiceUnavailable):
        quarantine_absent(meta, Refusing(b"", ServiceUnavailable))
