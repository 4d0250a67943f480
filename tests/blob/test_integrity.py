"""Quarantine, fsck and statistics.

Regression for "dedup trusts a reference to a missing or corrupt chunk": once a
chunk file is lost, a read quarantines it and the next upload of those bytes
rewrites it, which heals the objects that referenced it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.records import get_chunk
from objstore.cli import main as cli_main
from objstore.errors import DataCorruption
from objstore.ns import stats
from tests.conftest import chunk_files, chunk_path

KiB = 1 << 10
CHUNK = 64 * KiB


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[objstore.Store]:
    s = objstore.open(tmp_path / "s", chunk_size=CHUNK, inline_threshold=1024, gc_interval=None)
    s.root.create_bucket("bkt")
    try:
        yield s
    finally:
        s.close()


def _damage(store: objstore.Store, how: str) -> str:
    """Damage one chunk file of the store; returns its name."""
    name = sorted(chunk_files(store))[0]
    path = chunk_path(store, name)
    if how == "delete":
        os.unlink(path)
    else:
        with open(path, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 0xFF]))
    return name


@pytest.mark.parametrize("how", ["delete", "flip"])
def test_reupload_heals_a_lost_chunk(disk: objstore.Store, how: str) -> None:
    data = os.urandom(4 * CHUNK)
    disk.root.put_object("bkt", "old", data)
    name = _damage(disk, how)
    with pytest.raises(DataCorruption):
        disk.root.get_object("bkt", "old").read()
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and rec.quarantined
    # Flagged and left where it is (moving it aside could take a fresh copy an upload had
    # just written: tests/blob/test_bad_chunks.py).
    assert (name in chunk_files(disk)) == (how == "flip")
    # A PUT of the same bytes is not acknowledged on top of the bad chunk: it rewrites it.
    disk.root.put_object("bkt", "new", data)
    assert disk.root.get_object("bkt", "new").read() == data
    assert disk.root.get_object("bkt", "old").read() == data  # healed
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and not rec.quarantined
    assert disk.fsck().healthy


def test_fsck_reports_and_changes_nothing(disk: objstore.Store) -> None:
    data = os.urandom(3 * CHUNK)
    disk.root.put_object("bkt", "k", data)
    disk.root.copy_object("bkt", "k", "bkt", "copy")
    disk.root.put_object("bkt", "small", b"tiny")
    clean = disk.fsck()
    assert clean.healthy and clean.chunks_checked == 3 and clean.bytes_verified == len(data)
    names = sorted(chunk_files(disk))
    os.unlink(chunk_path(disk, names[0]))
    with open(chunk_path(disk, names[1]), "r+b") as f:
        f.write(b"\0" * 10)
    orphan = os.urandom(CHUNK)
    import blake3

    oid = ChunkId(blake3.blake3(orphan).digest())
    disk.blobs.chunks.put(oid, orphan)
    disk.blobs.chunks.sync()
    old = time.time() - 3600
    os.utime(chunk_path(disk, oid.hex()), (old, old))
    before = sorted(chunk_files(disk))
    r = disk.fsck()
    assert not r.healthy
    assert r.missing == (names[0],)
    assert r.corrupt == (names[1],)
    assert r.orphaned == (oid.hex(),)
    assert r.inconsistent == () and r.quarantined == ()
    assert sorted(chunk_files(disk)) == before  # nothing changed
    quick = disk.fsck(verify_data=False)  # same length: only the missing file shows
    assert quick.missing == (names[0],) and quick.corrupt == ()
    fixed = disk.fsck(repair=True)
    assert set(fixed.quarantined) == {names[0], names[1]}
    disk.root.put_object("bkt", "again", data)  # heals both
    disk.gc()  # removes the orphan
    assert disk.fsck().healthy
    assert disk.root.get_object("bkt", "copy").read() == data


def test_fsck_finds_inconsistent_references(disk: objstore.Store) -> None:
    disk.root.put_object("bkt", "k", os.urandom(2 * CHUNK))
    name = sorted(chunk_files(disk))[0]
    from objstore import keyspace
    from objstore.blob.records import ChunkRec

    with disk.blobs.meta.begin_write() as txn:
        key = keyspace.CHUNKREF + bytes.fromhex(name)
        rec = ChunkRec.decode(txn.get(key) or b"")
        txn.put(key, ChunkRec(rec.refs + 1, rec.length, 0, 0).encode())
    r = disk.fsck(verify_data=False)
    assert r.inconsistencies == 1 and "record counts 2 references, manifests 1" in r.inconsistent[0]


def test_cli_fsck_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s"
    with objstore.open(path, chunk_size=CHUNK, gc_interval=None) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", os.urandom(2 * CHUNK))
    assert cli_main(["--store", str(path), "fsck"]) == 0
    assert "healthy" in capsys.readouterr().out
    with objstore.open(path, gc_interval=None) as s:
        os.unlink(chunk_path(s, sorted(chunk_files(s))[0]))
    assert cli_main(["--store", str(path), "fsck", "--no-verify-data"]) == 1
    out = capsys.readouterr().out
    assert "missing" in out
    assert cli_main(["--store", str(path), "fsck", "--repair"]) == 1
    assert "quarantined" in capsys.readouterr().out
    assert cli_main(["--store", str(path), "stats"]) == 0
    assert "objects" in capsys.readouterr().out
    assert cli_main(["--store", str(tmp_path / "nothing"), "fsck"]) == 1


def test_stats_basics() -> None:
    with objstore.open(None, chunk_size=CHUNK, inline_threshold=1024, gc_interval=None) as s:
        s.root.create_bucket("bkt")
        data = os.urandom(2 * CHUNK)
        s.root.put_object("bkt", "a", data)
        s.root.put_object("bkt", "b", data)
        s.root.put_object("bkt", "c", b"x" * 100)
        st = s.stats()
        assert (st.objects, st.versions, st.chunk_count) == (3, 3, 2)
        assert st.logical_bytes == 2 * len(data) + 100
        assert st.stored_bytes == len(data) and st.inline_bytes == 100
        assert st.dedup_ratio == pytest.approx((2 * len(data) + 100) / (len(data) + 100))
        s.root.delete_object("bkt", "a")
        s.root.delete_object("bkt", "b")
        s.gc()
        st = s.stats()
        assert (st.objects, st.chunk_count, st.stored_bytes) == (1, 0, 0)


_op = st.one_of(
    st.tuples(
        st.just("put"), st.integers(0, 5), st.sampled_from([0, 10, 2000, CHUNK + 7, 3 * CHUNK])
    ),
    st.tuples(st.just("delete"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("copy"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("versioning"), st.sampled_from([0, 1]), st.just(0)),
    st.tuples(st.just("delete_version"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("gc"), st.just(0), st.just(0)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_op, max_size=25), st.integers(0, 3))
def test_stats_match_a_full_scan(ops: list[tuple[str, int, int]], seed: int) -> None:
    """Counters kept in the transactions equal a recount after any workload."""
    pool = [bytes([seed + i]) * (3 * CHUNK) for i in range(3)]  # shared content: dedup
    with objstore.open(None, chunk_size=CHUNK, inline_threshold=1024, gc_interval=None) as s:
        c = s.root
        c.create_bucket("bkt")
        for op, a, b in ops:
            key = f"k{a}"
            try:
                if op == "put":
                    c.put_object("bkt", key, pool[a % 3][:b] if b else b"")
                elif op == "delete":
                    c.delete_object("bkt", key)
                elif op == "copy":
                    c.copy_object("bkt", key, "bkt", f"k{b}")
                elif op == "versioning":
                    c.put_bucket_versioning("bkt", "Enabled" if a else "Suspended")
                elif op == "delete_version":
                    vs = c.list_object_versions("bkt", prefix=key).versions
                    if vs:
                        c.delete_object("bkt", key, version_id=vs[-1].version_id)
                else:
                    s.gc()
            except objstore.errors.ClientError:
                pass
        with s.blobs.meta.begin() as txn:
            assert s.stats() == stats.scan(txn)


class _SelfCheckingChunks(MemoryChunkStore):
    """A chunk store that checks its own reads (``get_verified``), as S3ChunkStore does;
    ``bad`` chunks are the ones it finds damaged. Plain ``get`` is never the read path."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: set[ChunkId] = set()
        self.checked = 0

    def get_verified(self, cid: ChunkId) -> bytes | None:
        self.checked += 1
        data = self.get(cid)
        return None if cid in self.bad else data


def test_a_store_checking_its_own_reads_is_trusted_and_its_bad_chunks_quarantined() -> None:
    """Reads go through ``get_verified`` (the bytes are not hashed twice); a chunk it finds
    damaged is DataCorruption and quarantined (flagged, left in place), and re-uploading
    heals it."""
    chunks = _SelfCheckingChunks()
    store = objstore.open(None, chunk_store=chunks, chunk_size=CHUNK, gc_interval=None)
    try:
        store.root.create_bucket("bkt")
        data = os.urandom(4 * CHUNK)
        store.root.put_object("bkt", "old", data)
        assert store.root.get_object("bkt", "old").read() == data
        assert chunks.checked == 4
        victim = ChunkId(blake3.blake3(data[CHUNK : 2 * CHUNK]).digest())
        chunks.bad.add(victim)
        with pytest.raises(DataCorruption):
            store.root.get_object("bkt", "old").read()
        with store.blobs.meta.begin() as txn:
            rec = get_chunk(txn, victim)
            assert rec is not None and rec.quarantined
        assert chunks.has(victim)  # left in place: the next upload writes over it
        chunks.bad.clear()
        store.root.put_object("bkt", "new", data)
        assert store.root.get_object("bkt", "old").read() == data  # healed
    finally:
        store.close()
