"""A store whose metadata is missing, truncated or damaged refuses to open.

Regression (issue 6, section 0): a truncated or deleted ``data.mdb`` opened as
a new, empty store, and the next gc deleted every chunk file; a file cut short
inside its data made LMDB fault with SIGBUS. Every damage below is opened in a
child process, which must exit normally (no signal) with StoreDamaged, and the
chunk files must all still be there; restoring the metadata brings the data back.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import lmdb
import pytest

import objstore
from objstore import errors
from objstore.blob.chunkstore import OWNER_NAME
from objstore.blob.files import FileChunkStore
from objstore.meta import marker
from objstore.meta.lmdb_header import check_data_file

PAGE = 4096


def _body(i: int) -> bytes:
    """300 KiB of distinct bytes: five 64 KiB chunks, none shared or inlined."""
    return random.Random(i).randbytes(300 * 1024)


_CHILD = """
import sys, objstore
try:
    with objstore.open(sys.argv[1], chunk_size=64 * 1024) as s:
        s.gc()
        print("OPENED")
except objstore.errors.ObjstoreError as exc:
    print(type(exc).__name__)
"""


def _chunk_files(root: Path) -> set[str]:
    return {p.name for p in (root / "chunks").rglob("*") if p.is_file() and len(p.name) == 64}


@pytest.fixture
def populated(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    with objstore.open(root, chunk_size=64 * 1024) as s:
        s.root.create_bucket("bkt")
        for i in range(3):
            s.root.put_object("bkt", f"k{i}", _body(i))
    return root


def _open_in_child(root: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, timeout=120
    )
    # A negative return code is death by a signal (SIGBUS from mapping a short file).
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    return proc.stdout.strip()


def _truncate(size: Callable[[int], int]) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        data = root / "meta" / "data.mdb"
        os.truncate(data, size(data.stat().st_size))

    return damage


def _overwrite(offset: int, raw: bytes) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        with open(root / "meta" / "data.mdb", "r+b") as f:
            f.seek(offset)
            f.write(raw)

    return damage


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated to 0": _truncate(lambda n: 0),
    "truncated mid-header": _truncate(lambda n: 100),
    "truncated in meta page 1": _truncate(lambda n: PAGE + 60),
    "truncated after the meta pages": _truncate(lambda n: 2 * PAGE),
    "truncated mid-data, page-aligned": _truncate(lambda n: n - PAGE),
    "truncated mid-data, unaligned": _truncate(lambda n: n // 2 + 123),
    "data.mdb deleted": lambda root: os.unlink(root / "meta" / "data.mdb"),
    "meta directory deleted": lambda root: shutil.rmtree(root / "meta"),
    "magic corrupted": _overwrite(16, b"\x00\x00\x00\x00"),
    "meta page 0 zeroed": _overwrite(0, bytes(PAGE)),
    "meta page 1 zeroed": _overwrite(PAGE, bytes(PAGE)),
    "format version changed": _overwrite(20, (999).to_bytes(4, "little")),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_metadata_refuses_to_open_and_keeps_chunks(populated: Path, damage: str) -> None:
    before = _chunk_files(populated)
    assert len(before) == 15
    saved = (populated / "meta" / "data.mdb").read_bytes()
    DAMAGES[damage](populated)
    assert _open_in_child(populated) == "StoreDamaged"
    assert _chunk_files(populated) == before
    # In this process too: typed, and the chunks are untouched.
    with pytest.raises(errors.StoreDamaged):
        objstore.open(populated)
    assert _chunk_files(populated) == before
    # Putting the metadata back restores the store whole.
    (populated / "meta").mkdir(exist_ok=True)
    (populated / "meta" / "data.mdb").write_bytes(saved)
    with objstore.open(populated, chunk_size=64 * 1024) as s:
        s.gc()
        for i in range(3):
            assert s.root.get_object("bkt", f"k{i}").read() == _body(i)
    assert _chunk_files(populated) == before


def test_metadata_of_another_store_is_refused(populated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    with objstore.open(other) as s:
        s.root.create_bucket("bkt")
    before = _chunk_files(populated)
    shutil.rmtree(populated / "meta")
    shutil.copytree(other / "meta", populated / "meta")
    assert _open_in_child(populated) == "StoreDamaged"
    assert _chunk_files(populated) == before


def test_chunks_without_metadata_or_marker_are_refused(populated: Path) -> None:
    """A store that lost both its metadata and its marker still is not opened empty."""
    before = _chunk_files(populated)
    shutil.rmtree(populated / "meta")
    os.unlink(populated / marker.MARKER_NAME)
    assert _open_in_child(populated) == "StoreDamaged"
    assert _open_in_child(populated) == "StoreDamaged"  # the refused open created nothing
    assert _chunk_files(populated) == before


def test_marker_names_the_identity_recorded_in_the_metadata(populated: Path) -> None:
    ident = json.loads((populated / marker.MARKER_NAME).read_text())
    assert ident["format"] == marker.FORMAT
    assert len(ident["store_id"]) == 32
    env = lmdb.open(str(populated / "meta"), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            raw = txn.get(b"Gstore")
            assert raw is not None
            assert json.loads(raw) == ident
    finally:
        env.close()


def test_lost_marker_is_written_again_from_the_metadata(populated: Path) -> None:
    ident = (populated / marker.MARKER_NAME).read_bytes()
    os.unlink(populated / marker.MARKER_NAME)
    with objstore.open(populated) as s:
        assert s.root.get_object("bkt", "k0").read() == _body(0)
    assert (populated / marker.MARKER_NAME).read_bytes() == ident


def test_store_made_before_the_marker_is_adopted(populated: Path) -> None:
    """A store created before identities existed has no copy of its identity and no
    owner mark on its chunks: it opens and gets all of them."""
    os.unlink(populated / marker.MARKER_NAME)
    os.unlink(populated / "chunks" / OWNER_NAME)
    env = lmdb.open(str(populated / "meta"))
    try:
        with env.begin(write=True) as txn:
            assert txn.delete(b"Gstore")
            assert txn.delete(b"Gchunks-owner")
    finally:
        env.close()
    before = _chunk_files(populated)
    assert _open_in_child(populated) == "OPENED"
    assert _chunk_files(populated) == before
    ident = marker.read_marker(str(populated))
    assert ident is not None
    mark = FileChunkStore(populated / "chunks").read_owner()
    assert mark is not None and mark.store_id == ident.store_id


def test_unreadable_marker_is_refused(populated: Path) -> None:
    (populated / marker.MARKER_NAME).write_text("{not json")
    with pytest.raises(errors.StoreDamaged):
        objstore.open(populated)


def test_new_and_empty_directories_open_as_new_stores(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "fresh") as s:
        s.root.create_bucket("bkt")
    assert marker.read_marker(str(tmp_path / "fresh")) is not None
    with objstore.open(tmp_path / "fresh") as s:
        assert [b.name for b in s.root.list_buckets()] == ["bkt"]


def test_header_check_accepts_every_size_of_a_healthy_file(tmp_path: Path) -> None:
    """The check must never refuse a sound file: one grown commit by commit."""
    env = lmdb.open(str(tmp_path), map_size=1 << 30)
    try:
        for i in range(40):
            with env.begin(write=True) as txn:
                txn.put(b"k%d" % i, os.urandom(300 * i))
            meta = check_data_file(str(tmp_path / "data.mdb"))
            assert meta is not None
            assert (meta.last_page + 1) * meta.page_size <= (tmp_path / "data.mdb").stat().st_size
    finally:
        env.close()


def test_a_new_store_is_private_to_its_owner(tmp_path: Path) -> None:
    """Review rev11a L3: under umask 022 a new store was 0755 with 0644 files, so every
    local user could read every object's bytes. A new (or empty) store directory is now
    0700; an existing store's directory keeps the mode its owner gave it."""
    old = os.umask(0o022)
    try:
        for where in (tmp_path / "new" / "store", tmp_path / "empty"):
            if where.name == "empty":
                where.mkdir(mode=0o755)
            with objstore.open(where) as s:
                s.root.create_bucket("bkt")
                s.root.put_object("bkt", "k", os.urandom(5 << 20))
            assert stat.S_IMODE(where.stat().st_mode) == 0o700, where
        shared = tmp_path / "new" / "store"
        shared.chmod(0o750)  # an owner who shares the store with a group
        with objstore.open(shared):
            pass
        assert stat.S_IMODE(shared.stat().st_mode) == 0o750
        # Chunks and metadata kept elsewhere are private too.
        with objstore.open(
            None,
            metadata=f"lmdb://{tmp_path}/m",
            chunks=f"file://{tmp_path}/c",
            secret_key=bytes(32),
        ) as s:
            s.root.create_bucket("bkt")
        for part in ("m", "c"):
            assert stat.S_IMODE((tmp_path / part).stat().st_mode) == 0o700, part
    finally:
        os.umask(old)
