"""A full disk is InsufficientStorage (HTTP 507), and nothing half-written is visible.

Regression (issue 6, section 0): ENOSPC / EDQUOT escaped as a raw OSError from
the chunk files and as a raw ``lmdb.Error`` from the metadata commit. Two ways
in: a real, tiny tmpfs (needs root to mount; skipped with the reason otherwise)
and an injected ENOSPC / EDQUOT in the chunk write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import lmdb
import pytest

import objstore
from objstore import errors
from objstore.blob import files
from objstore.meta.lmdb_store import translate


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    try:
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run mount: {exc}")
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def _fill(store: objstore.Store, size: int) -> tuple[dict[str, bytes], errors.ObjstoreError]:
    """PUT distinct objects until one fails; the acknowledged ones and the error."""
    acked: dict[str, bytes] = {}
    rng = random.Random(size)
    for i in range(10_000):
        data = rng.randbytes(size)
        try:
            store.root.put_object("bkt", f"k{i:05}", data)
        except errors.ObjstoreError as exc:
            return acked, exc
        acked[f"k{i:05}"] = data
    pytest.fail("the disk never filled")


def _check_only_acknowledged(store: objstore.Store, acked: dict[str, bytes]) -> None:
    listed: list[str] = []
    token = None
    while True:
        page = store.root.list_objects("bkt", continuation_token=token)
        listed.extend(o.key for o in page.contents)
        if not page.is_truncated:
            break
        token = page.next_continuation_token
    assert listed == sorted(acked)
    for key, data in acked.items():
        assert store.root.get_object("bkt", key).read() == data


@pytest.mark.parametrize("size", [300 * 1024, 900], ids=["chunked", "inline"])
def test_full_tmpfs_is_insufficient_storage(tmp_path: Path, size: int) -> None:
    """Chunked bodies fill the chunk files; inline ones fill LMDB's data file."""
    with _tmpfs(tmp_path / "mnt", "3m") as mnt:
        root = mnt / "store"
        store = objstore.open(root, chunk_size=64 * 1024, inline_threshold=1024)
        try:
            store.root.create_bucket("bkt")
            acked, exc = _fill(store, size)
            assert isinstance(exc, errors.InsufficientStorage), repr(exc)
            assert exc.http_status == 507
            assert acked, "nothing fitted at all"
            _check_only_acknowledged(store, acked)
        finally:
            store.close()
        with objstore.open(root) as again:
            _check_only_acknowledged(again, acked)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_injected_full_disk_in_the_chunk_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    store = objstore.open(tmp_path, chunk_size=64 * 1024, inline_threshold=1024)
    try:
        store.root.create_bucket("bkt")
        kept = random.Random(1).randbytes(200 * 1024)
        store.root.put_object("bkt", "kept", kept)
        writes = 0
        real = files._write_all

        def failing(fd: int, view: memoryview) -> None:
            nonlocal writes
            writes += 1
            if writes > 2:  # a few chunks get written first: a half-stored body
                raise OSError(code, os.strerror(code))
            real(fd, view)

        monkeypatch.setattr(files, "_write_all", failing)
        body = random.Random(2).randbytes(600 * 1024)
        with pytest.raises(errors.InsufficientStorage):
            store.root.put_object("bkt", "new", body)
        with pytest.raises(errors.InsufficientStorage):
            store.root.put_object("bkt", "kept", body)  # an overwrite that fails keeps the old
        _check_only_acknowledged(store, {"kept": kept})
    finally:
        store.close()


def test_upload_after_a_failed_one_of_the_same_bytes_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = objstore.open(tmp_path, chunk_size=64 * 1024, inline_threshold=1024)
    try:
        store.root.create_bucket("bkt")
        writes = 0
        real = files._write_all

        def failing(fd: int, view: memoryview) -> None:
            nonlocal writes
            writes += 1
            if writes > 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(fd, view)

        monkeypatch.setattr(files, "_write_all", failing)
        body = random.Random(2).randbytes(600 * 1024)
        with pytest.raises(errors.InsufficientStorage):
            store.root.put_object("bkt", "new", body)
        monkeypatch.setattr(files, "_write_all", real)
        store.root.put_object("bkt", "new", body)  # space is back: it works
        assert store.root.get_object("bkt", "new").read() == body
    finally:
        store.close()


def test_lmdb_failures_are_typed() -> None:
    assert isinstance(translate(lmdb.DiskError("mdb_txn_commit"), "x"), errors.InsufficientStorage)
    assert isinstance(translate(lmdb.MapFullError("full"), "x"), errors.InsufficientStorage)
    quota = lmdb.Error(f"mdb_txn_commit: {os.strerror(errno.EDQUOT)}")
    assert isinstance(translate(quota, "x"), errors.InsufficientStorage)
    assert isinstance(translate(lmdb.CorruptedError("bad"), "x"), errors.StoreDamaged)
    assert isinstance(translate(lmdb.PageNotFoundError("gone"), "x"), errors.StoreDamaged)
    assert type(translate(lmdb.BadValsizeError("size"), "x")) is errors.InternalError


def test_raw_lmdb_error_inside_a_transaction_is_typed(tmp_path: Path) -> None:
    from objstore.meta.lmdb_store import LmdbMetadataStore

    meta = LmdbMetadataStore(tmp_path)
    try:
        with pytest.raises(errors.InternalError), meta.begin_write() as txn:
            txn.put(b"", b"an empty key is refused by LMDB")
        with pytest.raises(errors.InternalError), meta.begin() as rtxn:
            rtxn.get(b"")  # LMDB refuses an empty key in reads too
    finally:
        meta.close()
