"""Chunks a reader or fsck finds bad, and what happens to them (break-it review of issue 9).

- A read that finds a chunk corrupt flags it and no longer moves its file aside: the move
  came after the reader's last look, and an upload of the same bytes landing in between
  (it saw the flag and wrote a fresh copy) had its acknowledged copy moved away.
- fsck meeting a chunk it cannot read or look at (no permission, a directory in its
  place) ended with the raw OS error; it now reports the chunk ``unreadable`` and checks
  the others, and its exit status says the store is damaged.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

import objstore
from objstore.blob import quarantine as quarantine_module
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.blob.records import get_chunk
from objstore.blob.store import BlobStore
from objstore.cli import main as cli_main
from objstore.errors import DataCorruption, InternalError, ServiceUnavailable, storage_error
from tests.conftest import chunk_files, chunk_path

CHUNK = 64 << 10
DATA = os.urandom(4 * CHUNK)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[objstore.Store]:
    s = objstore.open(tmp_path / "s", chunk_size=CHUNK, inline_threshold=1024, gc_interval=None)
    s.root.create_bucket("bkt")
    s.root.put_object("bkt", "old", DATA)
    try:
        yield s
    finally:
        s.close()


def _flip(store: objstore.Store, name: str) -> None:
    with open(chunk_path(store, name), "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_read_never_moves_aside_a_copy_an_upload_just_wrote(
    disk: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload of the same bytes runs inside the reader's quarantine: between its last
    look at the bad copy and its move (or, with no move, once it has flagged the chunk)."""
    name = sorted(chunk_files(disk))[0]
    _flip(disk, name)
    uploaded: list[str] = []

    def upload() -> None:
        if not uploaded:
            uploaded.append(disk.root.put_object("bkt", "new", DATA).etag)

    real_aside, real_quarantine = disk.blobs.chunks.set_aside, quarantine_module.quarantine

    def set_aside(cid: ChunkId) -> bool:
        upload()  # the window: the reader found the chunk bad, an upload rewrites it
        return real_aside(cid)

    def quarantine(blobs: BlobStore, cid: ChunkId) -> None:
        real_quarantine(blobs, cid)
        upload()

    monkeypatch.setattr(disk.blobs.chunks, "set_aside", set_aside)
    monkeypatch.setattr(quarantine_module, "quarantine", quarantine)
    with pytest.raises(DataCorruption):
        disk.root.get_object("bkt", "old").read()
    assert uploaded  # acknowledged ...
    assert disk.root.get_object("bkt", "new").read() == DATA  # ... and there
    assert disk.root.get_object("bkt", "old").read() == DATA  # healed too
    assert disk.fsck().healthy


def test_a_flagged_bad_chunk_is_rewritten_by_the_next_upload(disk: objstore.Store) -> None:
    name = sorted(chunk_files(disk))[0]
    _flip(disk, name)
    with pytest.raises(DataCorruption):
        disk.root.get_object("bkt", "old").read()
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and rec.quarantined
    assert disk.fsck().corrupt == (name,)  # flagged, left where it is
    disk.root.put_object("bkt", "new", DATA)
    assert disk.root.get_object("bkt", "old").read() == DATA
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and not rec.quarantined
    assert disk.fsck().healthy


@pytest.mark.parametrize("verify_data", [True, False])
def test_fsck_reports_a_chunk_that_is_a_directory_and_goes_on(
    disk: objstore.Store, verify_data: bool
) -> None:
    first, second = sorted(chunk_files(disk))[:2]
    path = chunk_path(disk, first)
    os.unlink(path)
    os.mkdir(path)
    os.unlink(chunk_path(disk, second))  # a problem after it is still found
    r = disk.fsck(verify_data=verify_data)
    assert r.unreadable == (first,) and r.missing == (second,) and not r.healthy
    assert r.failure is not None and first in r.failure
    assert r.chunks_checked == 4
    r = disk.fsck(verify_data=verify_data, repair=True)
    assert set(r.quarantined) == {first, second}
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(first))
        assert rec is not None and rec.quarantined
    # A typed error, never a raw OSError: which of the two the read meets first depends
    # on where the chunks sit in the object.
    with pytest.raises((InternalError, DataCorruption)):
        disk.root.get_object("bkt", "old").read()
    os.rmdir(path)
    disk.root.put_object("bkt", "new", DATA)  # the flag: both chunks written afresh
    assert disk.root.get_object("bkt", "old").read() == DATA
    assert disk.fsck().healthy


def test_a_chunk_a_read_cannot_read_is_flagged_and_healed_by_the_next_upload(
    disk: objstore.Store,
) -> None:
    """Review 9j, M1: a chunk the store refuses alone (here a directory in its place; an
    I/O error or a permission take the same path) failed the GET without a flag, so an
    upload of the same bytes was acknowledged by reference to it and was unreadable too;
    and once flagged, no upload could heal it (the rename over a directory failed). A
    read flags it now, and the next upload's copy replaces what stands there."""
    name = sorted(chunk_files(disk))[0]
    path = chunk_path(disk, name)
    os.unlink(path)
    os.mkdir(path)
    with pytest.raises(InternalError):
        disk.root.get_object("bkt", "old").read()
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and rec.quarantined
    disk.root.put_object("bkt", "new", DATA)
    assert disk.root.get_object("bkt", "new").read() == DATA
    assert disk.root.get_object("bkt", "old").read() == DATA
    assert os.path.isfile(path) and disk.fsck(verify_data=True).healthy


def _refuse_stat_and_get(monkeypatch: pytest.MonkeyPatch, victim: str) -> None:
    """The chunk store is refused ``victim`` (EACCES: what an unprivileged user meets)."""
    real_stat, real_get = FileChunkStore.stat, FileChunkStore.get
    denied = PermissionError(13, "Permission denied", victim)

    def stat(self: FileChunkStore, cid: ChunkId) -> tuple[int, int] | None:
        if cid.hex() == victim:
            raise storage_error(denied, f"reading the size of chunk {victim}")
        return real_stat(self, cid)

    def get(self: FileChunkStore, cid: ChunkId) -> bytes:
        if cid.hex() == victim:
            raise storage_error(denied, f"reading chunk {victim}")
        return real_get(self, cid)

    monkeypatch.setattr(FileChunkStore, "stat", stat)
    monkeypatch.setattr(FileChunkStore, "get", get)


@pytest.mark.parametrize("how", ["permission", "directory"])
def test_cli_fsck_names_an_unreadable_chunk_and_exits_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    path = tmp_path / "s"
    with objstore.open(path, chunk_size=CHUNK, gc_interval=None) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", DATA)
        victim, other = sorted(chunk_files(s))[:2]
        victim_path, other_path = chunk_path(s, victim), chunk_path(s, other)
    if how == "directory":
        os.unlink(victim_path)
        os.mkdir(victim_path)
    else:
        _refuse_stat_and_get(monkeypatch, victim)
    shutil.move(other_path, other_path + ".gone")  # missing: still reported after it
    for extra in ([], ["--no-verify-data"]):
        assert cli_main(["--store", str(path), "fsck", *extra]) == 1
        captured = capsys.readouterr()
        assert captured.err == ""
        lines = captured.out.splitlines()
        assert f"unreadable: chunk {victim}" in lines
        assert f"missing: chunk {other}" in lines
        assert "1 missing, 0 corrupt, 1 unreadable" in lines[-1]
    assert cli_main(["--store", str(path), "fsck", "--repair"]) == 1
    out = capsys.readouterr().out
    assert f"quarantined: chunk {victim} (an upload of its bytes rewrites it)" in out


def test_an_orphan_gc_cannot_look_at_does_not_stop_the_pass(
    disk: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk file no record names whose stat the chunk store refuses ended every pass that
    walked for orphans (InternalError): the other orphans, chunks/tmp and the pruning of done
    deletions were never reached."""
    orphans = []
    for _ in range(2):
        data = os.urandom(1000)
        cid = ChunkId(blake3.blake3(data).digest())
        disk.blobs.chunks.put(cid, data)
        orphans.append(cid.hex())
    disk.blobs.chunks.sync()
    for name in orphans:  # crash leftovers: older than every lease's floor
        os.utime(chunk_path(disk, name), (1_000_000_000, 1_000_000_000))
    _refuse_stat_and_get(monkeypatch, orphans[0])
    for _ in range(2):
        r = disk.gc()
        assert r.chunks_failed == 1 and not r.complete and r.failure is not None
        assert orphans[0] in r.failure
    assert r.orphans_deleted == 0  # (the first pass deleted the other one)
    names = chunk_files(disk)
    assert orphans[0] in names and orphans[1] not in names
    assert disk.root.get_object("bkt", "old").read() == DATA


@pytest.mark.parametrize("code", [24, 23, 12])  # EMFILE, ENFILE, ENOMEM
def test_a_read_meeting_a_passing_shortage_flags_nothing(
    disk: objstore.Store, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """Review 9l, L3: a GET while the process is out of file descriptors (or memory)
    flagged healthy chunks as bad; dedup stopped and uploads meant to reuse them failed.
    Such a shortage says nothing about the chunk: ServiceUnavailable (retry), no flag."""
    name = sorted(chunk_files(disk))[0]
    shortage = OSError(code, os.strerror(code))

    def refused(self: FileChunkStore, cid: ChunkId, *args: object) -> bytes:
        raise storage_error(shortage, f"reading chunk {cid.hex()}")

    monkeypatch.setattr(FileChunkStore, "get", refused)
    monkeypatch.setattr(FileChunkStore, "get_into", refused)
    with pytest.raises(ServiceUnavailable):
        disk.root.get_object("bkt", "old").read()
    monkeypatch.undo()
    with disk.blobs.meta.begin() as txn:
        rec = get_chunk(txn, bytes.fromhex(name))
        assert rec is not None and not rec.quarantined
    assert disk.root.get_object("bkt", "old").read() == DATA


def test_a_long_put_is_not_acknowledged_on_a_chunk_found_bad_during_it(
    disk: objstore.Store,
) -> None:
    """Review 10b, R2: a streamed PUT longer than one batch reused chunk X in a batch it
    committed early; a read of another object then found X damaged and flagged it, and
    the PUT was still acknowledged, since only its last batch was checked. Its final
    commit now checks the earlier batches' chunks too; the retry writes X afresh."""
    disk.blobs.settings = dataclasses.replace(
        disk.blobs.settings, batch_bytes=2 * CHUNK, window_size=2 * CHUNK
    )
    x = os.urandom(CHUNK)
    disk.root.put_object("bkt", "old", x + os.urandom(CHUNK))
    _flip(disk, blake3.blake3(x).hexdigest())  # damaged on disk, not known yet
    tail = [os.urandom(CHUNK) for _ in range(9)]
    flagged: list[bool] = []

    def body() -> Iterator[bytes]:
        yield x  # reused: its record vouches for it
        yield from tail[:6]  # earlier batches commit meanwhile
        with pytest.raises(DataCorruption):
            disk.root.get_object("bkt", "old").read()  # flags X
        with disk.blobs.meta.begin() as txn:
            rec = get_chunk(txn, ChunkId(blake3.blake3(x).digest()))
            flagged.append(rec is not None and rec.quarantined)
        yield from tail[6:]

    with pytest.raises(ServiceUnavailable, match="retry"):
        disk.root.put_object("bkt", "new", body())
    assert flagged == [True]
    with pytest.raises(objstore.errors.NoSuchKey):
        disk.root.head_object("bkt", "new")
    disk.root.put_object("bkt", "new", x + b"".join(tail))  # the retry writes X afresh
    assert disk.root.get_object("bkt", "new").read() == x + b"".join(tail)
    assert disk.root.get_object("bkt", "old").read()[:CHUNK] == x  # healed too


def test_shares_of_a_chunk_known_bad_are_refused(disk: objstore.Store) -> None:
    """Review 10b, R3: CopyObject, UploadPartCopy and CompleteMultipartUpload share bytes
    without reading them, and were acknowledged on a chunk already flagged bad: the new
    object was unreadable from birth. They are refused (DataCorruption) and create
    nothing; a copy of a healthy range of the same source still works, and uploading
    the bytes again heals all."""
    c = disk.root
    bad, good = os.urandom(CHUNK), os.urandom(CHUNK)
    c.put_object("bkt", "src", bad + good)
    _flip(disk, blake3.blake3(bad).hexdigest())
    with pytest.raises(DataCorruption):
        c.get_object("bkt", "src").read()  # flags it
    with pytest.raises(DataCorruption):
        c.copy_object("bkt", "src", "bkt", "copy")
    with pytest.raises(objstore.errors.NoSuchKey):
        c.head_object("bkt", "copy")
    up = c.create_multipart_upload("bkt", "mpu")
    with pytest.raises(DataCorruption):
        c.upload_part_copy("bkt", "mpu", up, 1, "bkt", "src")
    with pytest.raises(DataCorruption):
        c.upload_part_copy("bkt", "mpu", up, 1, "bkt", "src", src_range=(0, CHUNK - 1))
    assert list(c.list_parts("bkt", "mpu", up).parts) == []
    part = c.upload_part_copy("bkt", "mpu", up, 1, "bkt", "src", src_range=(CHUNK, 2 * CHUNK - 1))
    c.complete_multipart_upload("bkt", "mpu", up, [part])
    assert c.get_object("bkt", "mpu").read() == good
    # A part whose chunk is found bad between its upload and the completion.
    other = os.urandom(CHUNK)
    up = c.create_multipart_upload("bkt", "late")
    p1 = c.upload_part("bkt", "late", up, 1, other)
    c.put_object("bkt", "holder", other)
    _flip(disk, blake3.blake3(other).hexdigest())
    with pytest.raises(DataCorruption):
        c.get_object("bkt", "holder").read()
    with pytest.raises(DataCorruption):
        c.complete_multipart_upload("bkt", "late", up, [p1])
    with pytest.raises(objstore.errors.NoSuchKey):
        c.head_object("bkt", "late")
    # Uploading the bytes again heals the chunks; then every share works.
    c.put_object("bkt", "again", bad)
    c.put_object("bkt", "again2", other)
    c.copy_object("bkt", "src", "bkt", "copy")
    assert c.get_object("bkt", "copy").read() == bad + good
    c.complete_multipart_upload("bkt", "late", up, [p1])
    assert c.get_object("bkt", "late").read() == other
