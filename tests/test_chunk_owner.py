"""The owner mark of a store's chunks, on the embedded default and in-memory stores.

The several-backend cases (two stores on one chunk location, a store reopened on a
wrong one, racing first opens) are in tests/backends/test_chunk_owner.py.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import lmdb
import pytest
from conftest import BATCHED_CHUNK, open_batched

import objstore
from objstore import keyspace
from objstore.blob import owner, quarantine
from objstore.blob.chunkstore import OWNER_NAME, ChunkId, OwnerMark
from objstore.blob.files import FileChunkStore
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.records import ChunkRec
from objstore.cli import main
from objstore.errors import InvalidArgument, StoreDamaged
from objstore.meta import marker
from objstore.meta.memory import MemoryMetadataStore
from objstore.meta.scan import scan_prefix

DATA = bytes(range(256)) * 8192  # 2 MiB: chunked, not inlined


def _populated(root: Path) -> str:
    with objstore.open(root) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", DATA)
    ident = marker.read_marker(str(root))
    assert ident is not None
    return ident.store_id


def test_a_new_store_marks_its_chunk_directory(tmp_path: Path) -> None:
    store_id = _populated(tmp_path / "s")
    mark = FileChunkStore(tmp_path / "s" / "chunks").read_owner()
    assert mark is not None and mark.store_id == store_id
    assert mark.location is not None and len(mark.location) == 32  # a random location id


def test_a_claim_not_yet_recorded_is_recorded_on_the_next_open(tmp_path: Path) -> None:
    """A crash after the mark was written and before the metadata recorded it."""
    root = tmp_path / "s"
    store_id = _populated(root)
    env = lmdb.open(str(root / "meta"))
    try:
        with env.begin(write=True) as txn:
            assert txn.delete(b"Gchunks-owner")
    finally:
        env.close()
    with objstore.open(root) as s:
        assert s.root.get_object("bkt", "k").read() == DATA
    env = lmdb.open(str(root / "meta"), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            raw = txn.get(b"Gchunks-owner")
            assert raw is not None
            assert owner.decode_record(raw) == FileChunkStore(root / "chunks").read_owner()
            assert owner.decode_record(raw).store_id == store_id
    finally:
        env.close()


def test_an_unreadable_mark_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _populated(root)
    (root / "chunks" / OWNER_NAME).write_text('{"store_id": 7}')
    with pytest.raises(StoreDamaged, match="unreadable"):
        objstore.open(root)


def test_a_lost_chunk_directory_is_refused_not_refilled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every chunk file gone (a wrong mount, a wiped disk): the store refuses to open
    rather than taking new writes into a directory that lost the old ones; accepting
    the loss is an explicit rebind (``fsck --accept-chunk-loss``), never a mark the
    message gives (H1: pasted at a second location, it made a copy of the first)."""
    root = tmp_path / "s"
    store_id = _populated(root)
    before = FileChunkStore(root / "chunks").read_owner()
    assert before is not None and before.location is not None
    shutil.rmtree(root / "chunks")
    with pytest.raises(StoreDamaged, match="is empty and carries no mark") as caught:
        objstore.open(root)
    text = str(caught.value)
    assert store_id in text and "truly lost" in text and "--accept-chunk-loss" in text
    assert before.location not in text and "holding" not in text
    assert not (root / "chunks" / OWNER_NAME).exists()
    # A mark naming the store only is not enough once a location id is recorded ...
    (root / "chunks").mkdir(exist_ok=True)
    (root / "chunks" / OWNER_NAME).write_text(f'{{"store_id": "{store_id}"}}')
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded") as caught:
        objstore.open(root)
    assert before.location not in str(caught.value)
    # ... the rebind is: fsck then reports the object's chunks missing (exit 1).
    assert main(["--store", str(root), "fsck", "--accept-chunk-loss"]) == 1
    out = capsys.readouterr().out
    lost = {
        blake3.blake3(DATA[i : i + (4 << 20)]).digest().hex() for i in range(0, len(DATA), 4 << 20)
    }
    assert "missing: chunk" in out and f"rebind: {len(lost)} chunks the metadata names" in out
    assert {
        line.split()[2] for line in out.splitlines() if line.startswith("rebind: chunk")
    } == lost
    after = FileChunkStore(root / "chunks").read_owner()
    assert after is not None and after.store_id == store_id
    assert after.location not in (None, before.location)
    with objstore.open(root) as s:
        s.root.put_object("bkt", "new", DATA[:5000])
        assert s.root.get_object("bkt", "new").read() == DATA[:5000]
    # The old location's mark (a backup of the lost directory) is refused from now on.
    (root / "chunks" / OWNER_NAME).write_bytes(owner.encode_record(before))
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        objstore.open(root)


def test_a_rebind_never_takes_another_stores_location(tmp_path: Path) -> None:
    """``accept_chunk_loss`` refuses a location marked by another store, and an
    unmarked one holding chunks this store's metadata does not name."""
    a, b = tmp_path / "a", tmp_path / "b"
    _populated(a)
    with objstore.open(b) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "other", os.urandom(1 << 20))
    os.rename(a / "chunks", tmp_path / "a-chunks")
    shutil.copytree(b / "chunks", a / "chunks")
    with pytest.raises(StoreDamaged, match="belongs to store"):
        objstore.open(a, accept_chunk_loss=True)
    (a / "chunks" / OWNER_NAME).unlink()
    with pytest.raises(StoreDamaged, match="carries no owner mark and holds chunks"):
        objstore.open(a, accept_chunk_loss=True)
    assert FileChunkStore(a / "chunks").read_owner() is None
    shutil.rmtree(a / "chunks")
    os.rename(tmp_path / "a-chunks", a / "chunks")
    with objstore.open(a) as s:  # still bound to its own chunks
        assert s.root.get_object("bkt", "k").read() == DATA


def test_one_memory_chunk_store_serves_one_store(tmp_path: Path) -> None:
    chunks = MemoryChunkStore()
    with objstore.open(metadata=MemoryMetadataStore(), chunks=chunks) as a:
        # Before the first store wrote anything, only the owner mark tells them apart.
        with pytest.raises(StoreDamaged, match="belongs to store"):
            objstore.open(metadata=MemoryMetadataStore(), chunks=chunks)
        a.root.create_bucket("bkt")
        a.root.put_object("bkt", "k", DATA)
        a.gc()
        assert a.root.get_object("bkt", "k").read() == DATA


def test_a_chunk_directory_of_another_local_store_is_refused(tmp_path: Path) -> None:
    _populated(tmp_path / "a")
    _populated(tmp_path / "b")
    with pytest.raises(StoreDamaged, match="belongs to store"):
        objstore.open(tmp_path / "a", chunk_store=FileChunkStore(tmp_path / "b" / "chunks"))
    with objstore.open(tmp_path / "b") as b:
        b.gc()
        assert b.root.get_object("bkt", "k").read() == DATA


def _make_legacy(root: Path) -> None:
    """Turn the store at ``root`` into one made before chunk stores were marked."""
    (root / "chunks" / OWNER_NAME).unlink()
    env = lmdb.open(str(root / "meta"))
    try:
        with env.begin(write=True) as txn:
            assert txn.delete(b"Gchunks-owner")
    finally:
        env.close()


def _legacy_pair(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    for root, seed in ((a, 1), (b, 2)):
        with objstore.open(root, chunk_size=64 * 1024) as s:
            s.root.create_bucket("bkt")
            s.root.put_object("bkt", "k", random.Random(seed).randbytes(1 << 20))
        _make_legacy(root)
    return a, b


def test_adoption_refuses_another_legacy_stores_location(tmp_path: Path) -> None:
    """Break-it reviews: an unmarked location was claimed by whichever old store opened it
    first (later: by one whose 16-id sample matched, steerable through deduplication), and
    that store's gc deleted the other's chunks. An explicitly named location of an old
    store is now claimed only once the user wrote the mark."""
    a, b = _legacy_pair(tmp_path)
    before = sorted(p.name for p in (b / "chunks").rglob("*") if len(p.name) == 64)
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(a, chunk_store=FileChunkStore(b / "chunks"))
    assert FileChunkStore(b / "chunks").read_owner() is None
    assert sorted(p.name for p in (b / "chunks").rglob("*") if len(p.name) == 64) == before
    for root, seed in ((a, 1), (b, 2)):  # each adopts its own path/chunks
        with objstore.open(root) as s:
            s.gc()
            assert s.root.get_object("bkt", "k").read() == random.Random(seed).randbytes(1 << 20)


def test_adoption_refuses_an_empty_wrong_location(tmp_path: Path) -> None:
    a, _ = _legacy_pair(tmp_path)
    wrong = tmp_path / "typo"
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(a, chunk_store=FileChunkStore(wrong))
    assert FileChunkStore(wrong).read_owner() is None


def test_a_legacy_store_with_a_few_leftovers_is_adopted(tmp_path: Path) -> None:
    """The store's own path/chunks is adopted whatever it holds (a crashed upload's
    chunks too): objstore.json binds it to the store."""
    a, _ = _legacy_pair(tmp_path)
    stray = FileChunkStore(a / "chunks")
    for i in range(2):
        data = f"leftover {i}".encode()
        stray.put(ChunkId(blake3.blake3(data).digest()), data)
    stray.sync()
    with objstore.open(a) as s:
        assert s.root.get_object("bkt", "k").read() == random.Random(1).randbytes(1 << 20)
    assert FileChunkStore(a / "chunks").read_owner() is not None


@pytest.mark.parametrize(
    "damage",
    ["nested", "directory", "huge", "empty"],
)
def test_a_damaged_mark_is_store_damaged(tmp_path: Path, damage: str) -> None:
    """Break-it review M3: deep JSON raised RecursionError, a directory InvalidArgument."""
    root = tmp_path / "s"
    _populated(root)
    mark = root / "chunks" / OWNER_NAME
    mark.unlink()
    if damage == "nested":
        mark.write_text("[" * 3000 + "]" * 3000)
    elif damage == "directory":
        mark.mkdir()
    elif damage == "huge":
        mark.write_bytes(b" " * (1 << 20) + b'{"store_id": "x"}')
    else:
        mark.write_bytes(b"")
    with pytest.raises(StoreDamaged, match="owner mark"):
        objstore.open(root)


def test_stray_entries_in_the_chunk_directory_do_not_break_gc_or_fsck(tmp_path: Path) -> None:
    """Break-it review M4: a stray file or directory made gc and fsck raise raw OSError or
    ValueError; another store nested inside made them fail for good."""
    root = tmp_path / "s"
    _populated(root)
    chunks = root / "chunks"
    (chunks / "zz").write_text("a file with a two-letter name")
    top = next(p for p in chunks.iterdir() if len(p.name) == 2 and p.is_dir())
    (top / "stray").write_text("not a directory of chunks")
    mid = next(p for p in top.iterdir() if p.is_dir())
    (mid / ("g" * 64)).write_text("64 characters, not hex")
    (chunks / "tmp" / "subdir").mkdir()
    (chunks / "ab").mkdir(exist_ok=True)
    with objstore.open(chunks / "ab" / "inner") as inner:  # another store nested inside
        inner.root.create_bucket("inner")
        inner.root.put_object("inner", "k", DATA[::-1])
    with objstore.open(root, lease_ttl=0.001) as s:
        s.gc()
        assert s.fsck().healthy
        assert s.root.get_object("bkt", "k").read() == DATA
    assert (chunks / "zz").exists() and (chunks / "tmp" / "subdir").is_dir()
    with objstore.open(chunks / "ab" / "inner") as inner:
        assert inner.root.get_object("inner", "k").read() == DATA[::-1]


def test_persistent_metadata_under_a_path_refuses_memory_chunks(tmp_path: Path) -> None:
    """Break-it review M2: the URL form refused it, the path form did not, and every
    acknowledged write vanished with the process."""
    with pytest.raises(InvalidArgument, match="persistent chunks"):
        objstore.open(tmp_path / "s", chunks="memory:")
    assert not (tmp_path / "s" / "meta").exists() or not any((tmp_path / "s" / "meta").iterdir())


def test_a_symlinked_chunk_directory_is_not_adopted_unmarked(tmp_path: Path) -> None:
    """Fourth break-it review, H1: an old store whose ``chunks`` was a symlink to another
    old store's adopted those chunks as its own ``path/chunks``, and its gc deleted the
    other's data."""
    a, b = _legacy_pair(tmp_path)
    before = sorted(p.name for p in (b / "chunks").rglob("*") if len(p.name) == 64)
    shutil.rmtree(a / "chunks")
    (a / "chunks").symlink_to(b / "chunks", target_is_directory=True)
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(a)
    assert FileChunkStore(b / "chunks").read_owner() is None
    assert sorted(p.name for p in (b / "chunks").rglob("*") if len(p.name) == 64) == before
    with objstore.open(b) as s:
        s.gc()
        assert s.root.get_object("bkt", "k").read() == random.Random(2).randbytes(1 << 20)


def test_metadata_named_elsewhere_does_not_adopt_a_new_directory(tmp_path: Path) -> None:
    """Fourth break-it review, M1: an old store's metadata opened with a new path and no
    ``chunks=`` adopted the empty ``path/chunks``, and later the real location was refused."""
    a, _ = _legacy_pair(tmp_path)
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(tmp_path / "new", metadata=f"lmdb://{a}/meta")
    assert FileChunkStore(tmp_path / "new" / "chunks").read_owner() is None
    with objstore.open(a) as s:
        assert s.root.get_object("bkt", "k").read() == random.Random(1).randbytes(1 << 20)


def test_a_relative_path_stays_where_it_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifth break-it review: with a relative path, a chdir of the host program after
    opening pointed gc at another directory's chunks, and deleted them."""
    (tmp_path / "a").mkdir()
    other = tmp_path / "b" / "s"
    with objstore.open(other) as b:
        b.root.create_bucket("bkt")
        b.root.put_object("bkt", "k", DATA)
    monkeypatch.chdir(tmp_path / "a")
    with objstore.open("s") as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "mine", DATA[::-1])
        monkeypatch.chdir(tmp_path / "b")
        s.gc()
        assert s.root.get_object("bkt", "mine").read() == DATA[::-1]
    with objstore.open(other) as b:
        assert b.root.get_object("bkt", "k").read() == DATA


def test_a_symlinked_tmp_is_never_cleaned_through(tmp_path: Path) -> None:
    """Fifth break-it review: chunks/tmp symlinked into another store's chunk tree let the
    temporary-file clean-up delete that store's old chunk files."""
    victim = FileChunkStore(tmp_path / "victim")
    data = b"an old chunk of another store"
    cid = ChunkId(blake3.blake3(data).digest())
    victim.put(cid, data)
    victim.sync()
    h = cid.hex()
    own = tmp_path / "own"
    own.mkdir()
    (own / "tmp").symlink_to(tmp_path / "victim" / h[:2] / h[2:4], target_is_directory=True)
    assert FileChunkStore(own).clean_tmp(2**62) == 0
    assert victim.get(cid) == data


def test_a_symlinked_meta_directory_does_not_adopt(tmp_path: Path) -> None:
    """Fifth break-it review: a new directory whose ``meta`` was a symlink to an old store's
    metadata adopted an empty ``chunks`` and locked the real store out."""
    _, b = _legacy_pair(tmp_path)
    x = tmp_path / "x"
    x.mkdir()
    (x / "meta").symlink_to(b / "meta", target_is_directory=True)
    with pytest.raises(StoreDamaged):
        objstore.open(x)
    with objstore.open(b) as s:
        assert s.root.get_object("bkt", "k").read() == random.Random(2).randbytes(1 << 20)


@pytest.mark.parametrize("form", ["path", "chunks"])
def test_a_store_nested_in_chunks_tmp_keeps_its_files(tmp_path: Path, form: str) -> None:
    """Review 9 (R2): the outer store's tmp clean-up deleted every regular file in its
    ``chunks/tmp``: a nested store's ``objstore.json`` and ``identity.key`` (a store at
    that path), or its ``objstore-owner.json`` (a store whose chunks= is that directory)."""
    a = tmp_path / "a"
    with objstore.open(a, gc_interval=None) as s:
        s.root.create_bucket("outer")
    inner = a / "chunks" / "tmp"

    def open_inner() -> objstore.Store:
        if form == "path":
            return objstore.open(inner, gc_interval=None)
        return objstore.open(tmp_path / "b", chunks=f"file://{inner}", gc_interval=None)

    with open_inner() as s:
        s.root.create_bucket("inner")
        s.root.put_object("inner", "k", DATA)
    before = sorted(os.listdir(inner))
    clock = time.time_ns() + 10**12  # every file is older than the outer pass's floor
    with objstore.open(a, gc_interval=None, clock=lambda: clock) as s:
        s.gc()
    assert sorted(os.listdir(inner)) == before
    with open_inner() as s:
        assert s.root.get_object("inner", "k").read() == DATA


def _chunk_names(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if len(p.name) == 64 and p.is_file())


def test_metadata_left_by_a_refused_first_open_does_not_claim_an_old_stores_chunks(
    tmp_path: Path,
) -> None:
    """Review 9 (R1): metadata holding an identity and nothing else (a first open refused
    after the identity was committed; a lost first-open race; a crash before the claim)
    claimed any unmarked location, an old store's full of chunks too, and its gc deleted
    them. A brand-new metadata store was refused there; this one now is too."""
    x, _ = _legacy_pair(tmp_path)
    before = _chunk_names(x / "chunks")
    with objstore.open(tmp_path / "z"):
        pass  # another store (no chunk yet): its mark is the only thing to tell
    y = tmp_path / "y"
    with pytest.raises(StoreDamaged, match="belongs to store"):
        objstore.open(y, chunks=f"file://{tmp_path}/z/chunks")
    with pytest.raises(StoreDamaged, match="holds chunks but carries no owner mark"):
        objstore.open(y, chunks=f"file://{x}/chunks", gc_interval=None)
    assert FileChunkStore(x / "chunks").read_owner() is None
    assert _chunk_names(x / "chunks") == before
    # An empty location of its own is still claimed.
    with objstore.open(y, chunks=f"file://{tmp_path}/y-chunks") as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", DATA)
        s.gc()
    with objstore.open(x) as s:  # the old store adopts its own path/chunks
        assert s.root.get_object("bkt", "k").read() == random.Random(1).randbytes(1 << 20)


def test_an_old_store_does_not_adopt_an_empty_chunk_directory(tmp_path: Path) -> None:
    """Review 9 (R8): an old store whose chunk disk was not mounted yet (the empty mount
    point is there) adopted it, took writes into it and served its objects as
    DataCorruption; once the disk was back the writes were elsewhere."""
    a, _ = _legacy_pair(tmp_path)
    os.rename(a / "chunks", tmp_path / "disk")
    (a / "chunks").mkdir()
    with pytest.raises(StoreDamaged, match="names chunks but its chunk store") as caught:
        objstore.open(a)
    assert "mount" in str(caught.value)
    assert FileChunkStore(a / "chunks").read_owner() is None
    (a / "chunks" / "tmp").rmdir()
    (a / "chunks").rmdir()
    os.rename(tmp_path / "disk", a / "chunks")  # the disk is back
    with objstore.open(a) as s:
        assert s.root.get_object("bkt", "k").read() == random.Random(1).randbytes(1 << 20)


def test_an_old_store_without_chunk_references_adopts_an_empty_directory(
    tmp_path: Path,
) -> None:
    """Only small (inlined) objects: no chunk is named, so an empty directory is right."""
    root = tmp_path / "s"
    with objstore.open(root) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "small", b"tiny")
    _make_legacy(root)
    with objstore.open(root) as s:
        assert s.root.get_object("bkt", "small").read() == b"tiny"
    assert FileChunkStore(root / "chunks").read_owner() is not None


def test_an_old_store_does_not_adopt_a_mount_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9 (R10), without root: ``path/chunks`` seen as a mount point is not adopted
    (the bind-mount case itself is test_a_bind_mounted_chunk_directory_is_not_adopted)."""
    a, _ = _legacy_pair(tmp_path)
    chunks = str(a / "chunks")
    real = owner._mount_point
    monkeypatch.setattr(owner, "_mount_point", lambda p: p == chunks or real(p))
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(a)
    assert FileChunkStore(chunks).read_owner() is None
    monkeypatch.undo()
    assert owner.own_chunk_dir(str(a), named=False)
    assert not owner.own_chunk_dir(str(a), named=True)


def test_a_bind_mounted_chunk_directory_is_not_adopted(tmp_path: Path) -> None:
    """Review 9 (R10): an old store whose ``path/chunks`` is a bind mount of another old
    store's chunks (a wrong volume) adopted them, and its gc deleted them. Needs root."""
    import subprocess

    a, b = _legacy_pair(tmp_path)
    before = _chunk_names(b / "chunks")
    shutil.rmtree(a / "chunks")
    (a / "chunks").mkdir()
    mount = subprocess.run(
        ["mount", "--bind", str(b / "chunks"), str(a / "chunks")], capture_output=True
    )
    if mount.returncode:
        pytest.skip(f"mount --bind is not permitted here: {mount.stderr.decode().strip()}")
    try:
        with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
            objstore.open(a, gc_interval=None)
    finally:
        subprocess.run(["umount", str(a / "chunks")], check=True)
    assert FileChunkStore(b / "chunks").read_owner() is None
    assert _chunk_names(b / "chunks") == before
    with objstore.open(b) as s:
        assert s.root.get_object("bkt", "k").read() == random.Random(2).randbytes(1 << 20)


def test_a_mark_without_a_location_id_is_refused_once_one_is_recorded(tmp_path: Path) -> None:
    """Once the metadata recorded a location id, a mark naming only the store (written
    by hand at a second location) is refused: accepting it put one store on two
    locations (break-it review)."""
    root = tmp_path / "s"
    store_id = _populated(root)
    mark = root / "chunks" / OWNER_NAME
    got = FileChunkStore(root / "chunks").read_owner()
    assert got is not None and got.store_id == store_id and got.location
    assert got == OwnerMark(store_id, got.location)
    mark.write_text(f'{{"store_id": "{store_id}"}}')
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        objstore.open(root)
    mark.write_text(f'{{"store_id": "{store_id}", "location": "another"}}')
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        objstore.open(root)


def test_an_old_store_does_not_adopt_chunks_its_metadata_does_not_know(tmp_path: Path) -> None:
    """Break-it review: another store's metadata restored into an old store's directory
    (its own chunks unmarked) adopted them, and the first gc deleted every one."""
    a, b = _legacy_pair(tmp_path)
    before = sorted(p.name for p in (a / "chunks").rglob("*") if len(p.name) == 64)
    shutil.rmtree(a / "meta")
    shutil.copytree(b / "meta", a / "meta")
    shutil.copy(b / marker.MARKER_NAME, a / marker.MARKER_NAME)
    with pytest.raises(StoreDamaged, match="never claimed a chunk store"):
        objstore.open(a)
    assert FileChunkStore(a / "chunks").read_owner() is None
    assert sorted(p.name for p in (a / "chunks").rglob("*") if len(p.name) == 64) == before


@pytest.mark.parametrize("kind", ["new", "old"])
def test_an_open_lists_the_chunk_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """An old store adopting its unmarked ``path/chunks`` listed it twice (the adoption
    rule, then the empty-location rule), a new store's first open twice too (the
    identity's check, then the claim's): once each now."""
    root = tmp_path / "s"
    if kind == "old":
        _populated(root)
        _make_legacy(root)
    listed: list[str] = []
    real = FileChunkStore.iter_ids

    def counting(self: FileChunkStore) -> Iterator[ChunkId]:
        listed.append(self.root)
        return real(self)

    monkeypatch.setattr(FileChunkStore, "iter_ids", counting)
    with objstore.open(root, gc_interval=None) as s:
        if kind == "old":
            assert s.root.get_object("bkt", "k").read() == DATA
    assert listed == [str(root / "chunks")]
    assert FileChunkStore(root / "chunks").read_owner() is not None
    with objstore.open(root, gc_interval=None):
        pass  # marked and recorded: nothing to list
    assert len(listed) == 1


def test_an_old_store_with_a_hand_written_mark_gets_a_location_id(tmp_path: Path) -> None:
    """The embedded default (review of issue 9, HIGH; both pairs in
    tests/backends/test_owner_upgrade.py): a store bound through a mark naming the store
    only, under the bare id an older version recorded, stayed without a location id, so
    the same hand-written mark opened it on a second directory too. Its next open now
    gives the mark an id and records it; the second directory is refused."""
    root = tmp_path / "s"
    store_id = _populated(root)
    mark = root / "chunks" / OWNER_NAME
    mark.write_text(f'{{"store_id": "{store_id}"}}')
    env = lmdb.open(str(root / "meta"))
    try:
        with env.begin(write=True) as txn:
            txn.put(b"Gchunks-owner", store_id.encode())
    finally:
        env.close()
    with objstore.open(root) as s:
        assert s.root.get_object("bkt", "k").read() == DATA
    got = FileChunkStore(root / "chunks").read_owner()
    assert got is not None and got.store_id == store_id and got.location
    second = tmp_path / "second"
    second.mkdir()
    (second / OWNER_NAME).write_text(f'{{"store_id": "{store_id}"}}')
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        objstore.open(root, chunk_store=FileChunkStore(second))
    with objstore.open(root) as s:
        s.gc()
        assert s.root.get_object("bkt", "k").read() == DATA
    assert FileChunkStore(root / "chunks").read_owner() == got


def test_racing_mark_rewrites_replace_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewrites of one mark racing (threads here, processes alike: each takes the
    directory's flock on its own descriptor): exactly one replaces it, the others see
    it changed (review 9c M1: a rewrite never replaces a mark it did not read)."""
    chunks = FileChunkStore(tmp_path / "c")
    assert chunks.claim_owner(OwnerMark("s")) == OwnerMark("s")
    read = chunks.read_owner

    def slow_read() -> OwnerMark | None:
        mark = read()
        time.sleep(0.02)  # widens the window between the look and the rename
        return mark

    monkeypatch.setattr(chunks, "read_owner", slow_read)
    start = threading.Barrier(8)
    won: list[str] = []

    def rewrite(i: int) -> None:
        start.wait()
        if chunks.rewrite_owner(OwnerMark("s", f"l{i}"), OwnerMark("s")):
            won.append(f"l{i}")

    threads = [threading.Thread(target=rewrite, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and read() == OwnerMark("s", won[0])


def test_every_commit_naming_chunks_checks_the_binding() -> None:
    """A handle whose binding is no longer the store's (rebound elsewhere: break-it
    review, HIGH) commits no chunk references: the last commit of an upload and its
    intermediate batches raise StoreDamaged, and a failed upload leaves no record that
    dedup would trust. Bodies kept in the metadata still commit."""
    s = open_batched(None, binding=owner.Binding(b"bound"))
    try:
        with s._meta.begin_write() as txn:
            txn.put(owner.CHUNKS_KEY, b"bound")
        s.root.create_bucket("bkt")
        body = os.urandom(40_000)  # several batches of BATCHED
        s.root.put_object("bkt", "before", body)
        with s._meta.begin_write() as txn:
            txn.put(owner.CHUNKS_KEY, b"rebound")
        with pytest.raises(StoreDamaged, match="rebound to another chunk location"):
            s.root.put_object("bkt", "after", os.urandom(40_000))
        with pytest.raises(StoreDamaged, match="rebound to another chunk location"):
            s.root.put_object("bkt", "one-chunk", os.urandom(1000))
        s.root.put_object("bkt", "inline", b"x" * 50)
        assert [o.key for o in s.root.list_objects("bkt").contents] == ["before", "inline"]
        assert s.root.get_object("bkt", "before").read() == body
        with s._meta.begin() as rtxn:
            records = sum(1 for _ in scan_prefix(rtxn, keyspace.CHUNKREF))
        assert records == len(body) // BATCHED_CHUNK + 1  # "before"'s chunks only
    finally:
        s.close()


def test_accepting_the_loss_of_an_old_stores_own_directory_adopts_it(tmp_path: Path) -> None:
    """Review 9e, 6: a store from before marks (data, no claim) on its own
    ``path/chunks`` opened plainly, but ``accept_chunk_loss`` refused it ("write its
    mark"); the usual rules decide now, and the chunks are checked too."""
    root = tmp_path / "s"
    _populated(root)
    other = os.urandom(1 << 20)
    with objstore.open(root) as s:
        s.root.put_object("bkt", "other", other)
    _make_legacy(root)
    lost = ChunkId(blake3.blake3(DATA).digest())
    FileChunkStore(root / "chunks").delete(lost)  # lost; "other"'s chunk is still there
    with objstore.open(root, accept_chunk_loss=True) as s:
        assert s.binding.lost == (lost,)
        s.root.put_object("bkt", "again", DATA)
        assert s.root.get_object("bkt", "k").read() == DATA
        assert s.root.get_object("bkt", "other").read() == other
    assert FileChunkStore(root / "chunks").read_owner() is not None


@pytest.mark.parametrize("retry", ["plain open", "accept_chunk_loss again"])
def test_a_check_cut_short_resumes_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry: str
) -> None:
    """Review 9e, 7: the rebind's check started again from the first chunk at every open
    while it was due (a million chunks: minutes per open on S3). Each page's progress
    is kept with its flags, and a pass cut short resumes after the last page done, also
    when the retry is another ``accept_chunk_loss`` open (review 9f, M3: it drew a new
    check, so a retried ``fsck --accept-chunk-loss`` never got further than one pass)."""
    root = tmp_path / "s"
    with objstore.open(root, chunk_size=4096, inline_threshold=100) as s:
        s.root.create_bucket("bkt")
        for i in range(12):
            s.root.put_object("bkt", f"k{i}", os.urandom(4096))  # one chunk each
    shutil.rmtree(root / "chunks")
    (root / "chunks").mkdir()
    monkeypatch.setattr(quarantine, "ABSENT_BATCH", 4)
    looked: list[bytes] = []
    real = FileChunkStore.stat

    def stat(self: FileChunkStore, cid: ChunkId) -> tuple[int, int] | None:
        if len(looked) == 6:
            raise KeyboardInterrupt  # the process dies in the second page
        looked.append(cid)
        return real(self, cid)

    monkeypatch.setattr(FileChunkStore, "stat", stat)
    with pytest.raises(KeyboardInterrupt):
        objstore.open(root, accept_chunk_loss=True)
    first = looked[:4]
    looked.clear()

    def count(self: FileChunkStore, cid: ChunkId) -> tuple[int, int] | None:
        looked.append(cid)
        return real(self, cid)

    monkeypatch.setattr(FileChunkStore, "stat", count)
    # Either open finishes it, from the second page on.
    with objstore.open(root, accept_chunk_loss=retry != "plain open") as s:
        assert s.binding.lost is not None and set(s.binding.lost) == set(looked)
        assert len(looked) == 8 and not set(first) & set(looked)
        with s._meta.begin() as txn:
            recs = [ChunkRec.decode(v) for _, v in scan_prefix(txn, keyspace.CHUNKREF)]
            assert txn.get(owner.VERIFY_KEY) is None
        assert len(recs) == 12 and all(r.quarantined for r in recs)


def test_a_check_cut_short_at_one_copy_starts_again_at_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9g, M3: a check cut short at one copy of the location, retried at an older
    copy carrying the same mark (a replica), resumed after the pages the first copy had
    passed; the chunks lost only at the second copy stayed trusted, and re-uploads of
    them were acknowledged by reference and unreadable. The retry starts again there."""
    meta_url, a, b = f"lmdb://{tmp_path}/meta", tmp_path / "a", tmp_path / "b"

    def at(copy: Path, **kw: Any) -> objstore.Store:
        return objstore.open(metadata=meta_url, chunks=f"file://{copy}", secret_key=key, **kw)

    key = os.urandom(32)
    bodies = [os.urandom(4096) for _ in range(12)]  # one chunk each
    with at(a, chunk_size=4096, inline_threshold=100) as s:
        s.root.create_bucket("bkt")
        for i, body in enumerate(bodies):
            s.root.put_object("bkt", f"k{i}", body)
    shutil.copytree(a, b)  # the older replica: same mark, same chunks
    lost_at_b = _chunk_names(b)
    monkeypatch.setattr(quarantine, "ABSENT_BATCH", 4)
    real = FileChunkStore.stat
    looked: list[ChunkId] = []

    def dies(self: FileChunkStore, cid: ChunkId) -> tuple[int, int] | None:
        if len(looked) == 6:
            raise KeyboardInterrupt  # the check at copy a dies in its second page
        looked.append(cid)
        return real(self, cid)

    monkeypatch.setattr(FileChunkStore, "stat", dies)
    with pytest.raises(KeyboardInterrupt):
        at(a, accept_chunk_loss=True)
    monkeypatch.setattr(FileChunkStore, "stat", real)
    for name in lost_at_b:  # every chunk is lost at copy b only
        for path in b.rglob(name):
            path.unlink()
    with at(b, accept_chunk_loss=True) as s:
        assert s.binding.lost is not None and len(s.binding.lost) == 12
        for i, body in enumerate(bodies):
            s.root.put_object("bkt", f"again{i}", body)  # rewrites every chunk at b
            assert s.root.get_object("bkt", f"again{i}").read() == body


def test_the_copy_a_check_is_made_at_is_named_with_its_endpoint() -> None:
    """Review 9h, M2: two copies of ``s3://b/p`` at two endpoints (one taken from the
    environment) had one name, so a check cut short at one resumed at the other. The
    chunk store's ``site`` (S3: with the endpoint in use) names the copy."""

    def at(chunks: MemoryChunkStore, where: str = "s3://b/p") -> owner.Location:
        return owner.Location(
            where, chunks, chunks.read_owner, chunks.claim_owner, None, bool, bool
        )

    one, two, plain = MemoryChunkStore(), MemoryChunkStore(), MemoryChunkStore()
    one.site, two.site = "s3://b/p at http://one:80", "s3://b/p at http://two:80"  # type: ignore[attr-defined]
    assert owner._site(at(one)) != owner._site(at(two))
    assert owner._site(at(plain)) == owner._site(at(MemoryChunkStore()))  # by ``where``
    assert owner._site(at(plain)) != owner._site(at(plain, "/other/chunks"))


def test_a_node_left_on_the_old_location_flags_nothing_it_lacks(tmp_path: Path) -> None:
    """Review 9h, L1: a node still open on the location the store was rebound away from
    read an object written at the new one, found its chunk missing and flagged the
    store's record of a chunk the new location holds whole (DataCorruption there, and a
    needless rewrite later). It now answers StoreDamaged (open again) and flags nothing."""
    key = os.urandom(32)

    def node(copy: str, **kw: Any) -> objstore.Store:
        return objstore.open(
            metadata=f"lmdb://{tmp_path}/meta",
            chunks=f"file://{tmp_path}/{copy}",
            secret_key=key,
            inline_threshold=16,
            gc_interval=None,
            **kw,
        )

    with node("a") as left:
        left.root.create_bucket("bkt")
        with node("b", accept_chunk_loss=True) as moved:
            data = os.urandom(30_000)
            moved.root.put_object("bkt", "new", data)
            with pytest.raises(StoreDamaged, match="rebound"):
                left.root.get_object("bkt", "new").read()
            with moved._meta.begin() as txn:
                recs = [ChunkRec.decode(v) for _, v in scan_prefix(txn, keyspace.CHUNKREF)]
            assert recs and not any(r.quarantined for r in recs)
            assert moved.root.get_object("bkt", "new").read() == data


class _OwnerOnly(MemoryChunkStore):
    """A chunk store that keeps a mark but cannot rewrite it (``OwnerRewriter`` is optional)."""

    rewrite_owner = None


def test_accepting_the_loss_on_a_new_store_claims_as_any_open() -> None:
    """Nothing recorded and nothing named: nothing to lose or check, so the option is a
    plain open, also with a chunk store that cannot rewrite its mark."""
    chunks = _OwnerOnly()
    with objstore.open(chunks=chunks, accept_chunk_loss=True) as s:
        assert s.binding.lost is None
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", DATA)
        assert s.root.get_object("bkt", "k").read() == DATA
    mark = chunks.read_owner()
    assert mark is not None and mark.location is not None


def test_an_open_whose_check_another_open_restarted_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``accept_chunk_loss`` opens at once: the second draws a new check while the
    first is checking. The first stopped at its next page and returned its store with
    the chunks after that page unchecked (trusted by dedup); it now follows the new check
    to its end before it returns."""
    root = tmp_path / "s"
    _populated(root)
    lost = ChunkId(blake3.blake3(DATA).digest())
    FileChunkStore(root / "chunks").delete(lost)
    real = owner.quarantine_absent
    calls: list[object] = []

    def racing(meta: Any, *args: Any, **kw: Any) -> Any:
        if not calls:  # another accept_chunk_loss open starts its own check now
            with meta.begin_write() as txn:
                txn.put(owner.VERIFY_KEY, os.urandom(16))
        calls.append(kw.get("start"))
        return real(meta, *args, **kw)

    monkeypatch.setattr(owner, "quarantine_absent", racing)
    with objstore.open(root, accept_chunk_loss=True) as s:
        assert len(calls) == 2 and s.binding.lost is not None and lost in s.binding.lost
        with s._meta.begin() as txn:
            assert txn.get(owner.VERIFY_KEY) is None


def test_the_check_never_moves_a_chunk_another_node_wrote_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9f, H2: the check flagged a chunk cut short, committed the page, and only
    then moved the file aside. Another node, finding the page done, finished the check,
    uploaded those bytes (written afresh, the flag cleared, acknowledged) before that
    move, which then took its whole copy away. Now nothing is moved: the upload writes
    over the short copy."""
    body = os.urandom(9 << 20)  # three chunks
    meta, c1, c2 = f"lmdb://{tmp_path}/meta", f"{tmp_path}/c1", f"{tmp_path}/c2"
    key = os.urandom(32)

    def store(chunks: str, **kw: Any) -> objstore.Store:
        return objstore.open(metadata=meta, chunks=f"file://{chunks}", secret_key=key, **kw)

    with store(c1) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", body)
    mark = FileChunkStore(c1).read_owner()
    assert mark is not None
    shutil.copytree(c1, c2, ignore=shutil.ignore_patterns(OWNER_NAME, "tmp"))
    cut = blake3.blake3(body[4 << 20 : 8 << 20]).hexdigest()
    os.truncate(os.path.join(c2, cut[:2], cut[2:4], cut), 1 << 20)
    FileChunkStore(c2).claim_owner(OwnerMark(mark.store_id))  # "this is mine"
    other_node: list[bool] = []

    def other_node_uploads() -> None:  # B: opens, finds the check done, uploads the bytes
        other_node.append(True)
        with store(c2) as b:
            b.root.put_object("bkt", "fresh", body)

    real = FileChunkStore.set_aside

    def stalled(self: FileChunkStore, cid: ChunkId) -> bool:
        if not other_node:
            other_node_uploads()  # what ran while the check's move was on its way
        return real(self, cid)

    monkeypatch.setattr(FileChunkStore, "set_aside", stalled)
    with store(c2, accept_chunk_loss=True) as a:
        assert a.binding.lost == (ChunkId(bytes.fromhex(cut)),)
    if not other_node:
        other_node_uploads()
    with store(c2) as s:
        assert s.root.get_object("bkt", "fresh").read() == body
        assert s.root.get_object("bkt", "k").read() == body
