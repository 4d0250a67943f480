"""Read-ahead: nothing held by unread bodies, a per-store budget, everything returned on close."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

import objstore
from objstore.blob.records import get_chunk
from objstore.errors import DataCorruption
from objstore.store import Store

KiB = 1024
CHUNK = 64 * KiB


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with objstore.open(tmp_path / "s", chunk_size=CHUNK) as s:
        s.root.create_bucket("ra-bucket")
        yield s


def _put(store: Store, key: str, size: int) -> bytes:
    data = os.urandom(size)
    store.root.put_object("ra-bucket", key, data)
    return data


def test_open_unread_bodies_hold_no_read_ahead_and_no_descriptors(store: Store) -> None:
    data = _put(store, "k", 40 * CHUNK)
    budget = store.blobs.read_budget
    before = _fds()
    bodies = [store.root.get_object("ra-bucket", "k") for _ in range(100)]
    assert _fds() == before
    assert budget.used == 0 and budget.peak == 0
    assert bodies[7].read() == data  # each one still reads whole
    for b in bodies:
        b.close()
    assert budget.used == 0
    assert _fds() == before


def test_read_ahead_starts_on_first_read_and_is_released_by_close_or_gc(store: Store) -> None:
    data = _put(store, "k", 40 * CHUNK)
    budget = store.blobs.read_budget
    before = _fds()
    body = store.root.get_object("ra-bucket", "k")
    assert body.read(10) == data[:10]
    assert budget.used > 0  # chunks after the first are being read ahead
    body.close()
    assert budget.used == 0 and _fds() == before
    body = store.root.get_object("ra-bucket", "k")
    assert body.read(CHUNK + 1) == data[: CHUNK + 1]
    del body  # dropped without close: the garbage collector releases it
    gc.collect()
    assert budget.used == 0 and _fds() == before


def test_concurrent_readers_share_one_bounded_budget(store: Store) -> None:
    """100 bodies read at once hold at most the store's budget in read-ahead."""
    data = _put(store, "k", 24 * CHUNK)
    budget = store.blobs.read_budget
    budget.limit = 8 * CHUNK
    bodies = [store.root.get_object("ra-bucket", "k") for _ in range(100)]
    errors: list[BaseException] = []
    start = threading.Barrier(100)

    def read(body: objstore.ObjectBody) -> None:
        try:
            start.wait()
            got = b"".join(iter(lambda: body.read(CHUNK // 3), b""))
            assert got == data
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert 0 < budget.peak <= budget.limit
    assert budget.used == 0


def test_reads_without_any_budget_fetch_inline(store: Store) -> None:
    """A spent budget never blocks a reader: it fetches what it needs itself."""
    data = _put(store, "k", 10 * CHUNK + 5)
    store.blobs.read_budget.limit = 0
    assert store.root.get_object("ra-bucket", "k").read() == data
    got = store.root.get_object("ra-bucket", "k", range="bytes=100-300000").read()
    assert got == data[100:300001]
    assert store.blobs.read_budget.peak == 0


def _chunk_file(store: Store, piece: bytes) -> str:
    assert store.path is not None
    name = blake3.blake3(piece).hexdigest()
    return os.path.join(store.path, "chunks", name[:2], name[2:4], name)


@pytest.mark.parametrize("damage", ["append", "flip", "delete"])
def test_a_chunk_damaged_mid_stream_ends_the_stream_after_the_good_ones(
    store: Store, damage: str
) -> None:
    """The reader reads chunks itself and hashes them on the I/O threads: pieces before
    a damaged chunk arrive whole, the damaged one never, its budget comes back, and it is
    quarantined (the next upload of those bytes writes it again)."""
    data = _put(store, "k", 12 * CHUNK)
    bad = data[5 * CHUNK : 6 * CHUNK]
    path = _chunk_file(store, bad)
    if damage == "append":
        with open(path, "ab") as f:
            f.write(b"x")
    elif damage == "flip":
        with open(path, "r+b") as f:
            f.seek(77)
            f.write(bytes([bad[77] ^ 1]))
    else:
        os.unlink(path)
    got: list[bytes] = []
    with pytest.raises(DataCorruption), store.root.get_object("ra-bucket", "k") as body:
        for piece in body:
            got.append(piece)
    assert b"".join(got) == data[: 5 * CHUNK]
    assert store.blobs.read_budget.used == 0
    with store.blobs.meta.begin() as txn:
        rec = get_chunk(txn, blake3.blake3(bad).digest())
        assert rec is not None and rec.quarantined  # dedup no longer trusts it
    store.root.put_object("ra-bucket", "again", bad)  # heals every holder
    assert store.root.get_object("ra-bucket", "k").read() == data


def test_reads_do_not_wait_for_busy_io_threads(store: Store) -> None:
    """With every I/O thread held up elsewhere, a reader hashes its chunks itself: it
    neither waits for them nor returns an unverified byte."""
    data = _put(store, "k", 9 * CHUNK + 7)
    bad = data[3 * CHUNK : 4 * CHUNK]
    release = threading.Event()
    blockers = [store.blobs.io.submit(release.wait) for _ in range(8)]
    try:
        assert store.root.get_object("ra-bucket", "k").read() == data
        with open(_chunk_file(store, bad), "r+b") as f:
            f.write(bytes([bad[0] ^ 1]))
        with pytest.raises(DataCorruption):
            store.root.get_object("ra-bucket", "k").read()
    finally:
        release.set()
        for b in blockers:
            b.result()
    assert store.blobs.read_budget.used == 0
