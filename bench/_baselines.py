"""Baselines measured in the same run: each returns elapsed seconds."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import blake3

from bench._core import IO_PIECE, GiB


def _pieces(src: Path, buf: bytearray) -> Iterator[memoryview]:
    """Read ``src`` into the one reused ``buf`` (no allocation per piece), yielding views."""
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return
            yield view[:n]


def baseline_write_fsync(src: Path, dst: Path) -> float:
    """Copy ``src`` to a new plain file ``dst`` and fsync it: the disk bound of a PUT."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    with open(dst, "wb", buffering=0) as out:
        for piece in _pieces(src, buf):
            out.write(piece)
        os.fsync(out.fileno())
    return time.perf_counter() - t0


def baseline_md5(src: Path) -> tuple[float, str]:
    """MD5 of ``src`` (read included): the hash bound of an S3-exact ETag. Returns (s, hex)."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    h = hashlib.md5()
    for piece in _pieces(src, buf):
        h.update(piece)
    return time.perf_counter() - t0, h.hexdigest()


def baseline_md5_parts(src: Path, part: int, threads: int) -> tuple[float, list[str]]:
    """MD5 of each ``part``-byte part of ``src`` (read included), ``threads`` parts at a time:
    the hash bound of S3-exact part ETags when parts upload in parallel (hashlib releases
    the GIL, so the threads use as many cores). Returns (s, hex MD5 of each part, in order)."""
    size = src.stat().st_size
    offsets = list(range(0, size, part))
    digests = [""] * len(offsets)
    claim = threading.Lock()
    todo = iter(range(len(offsets)))

    def worker(fd: int) -> None:
        buf = bytearray(part)
        while True:
            with claim:
                i = next(todo, None)
            if i is None:
                return
            n = os.preadv(fd, [buf], offsets[i])
            digests[i] = hashlib.md5(memoryview(buf)[:n]).hexdigest()

    fd = os.open(src, os.O_RDONLY)
    try:
        t0 = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(fd,)) for _ in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        elapsed = time.perf_counter() - t0
    finally:
        os.close(fd)
    if any(not d for d in digests):
        raise RuntimeError("a part was not hashed")
    return elapsed, digests


def baseline_read(src: Path) -> float:
    """Read ``src`` through a reused buffer (page cache, no hashing): the bound of a GET."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    for _ in _pieces(src, buf):
        pass
    return time.perf_counter() - t0


def blake3_file(src: Path) -> str:
    """BLAKE3 hex of a file (for correctness checks outside the timed sections)."""
    h = blake3.blake3()
    for piece in _pieces(src, bytearray(IO_PIECE)):
        h.update(piece)
    return h.hexdigest()


def baseline_blake3_md5(src: Path, nbufs: int = 4) -> tuple[float, str, str]:
    """BLAKE3 in this thread and MD5 in a second one over ``src``: the bound of a dedup re-PUT.

    Buffers circulate through a small pool (read -> BLAKE3 here -> MD5 there -> back to the
    pool), the way a store pipelines them, so the MD5 thread never waits on a fresh allocation.
    Returns (seconds, blake3 hex, md5 hex).
    """
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(nbufs):
        free.put(bytearray(IO_PIECE))
    todo: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
    md5 = hashlib.md5()

    def md5_worker() -> None:
        while (item := todo.get()) is not None:
            buf, n = item
            md5.update(memoryview(buf)[:n])
            free.put(buf)

    t0 = time.perf_counter()
    worker = threading.Thread(target=md5_worker, name="bench-md5")
    worker.start()
    b3 = blake3.blake3()
    try:
        with open(src, "rb", buffering=0) as f:
            while True:
                buf = free.get()
                n = f.readinto(buf)
                if not n:
                    break
                b3.update(memoryview(buf)[:n])
                todo.put((buf, n))
    finally:
        todo.put(None)
        worker.join()
    return time.perf_counter() - t0, b3.hexdigest(), md5.hexdigest()


def lmdb_fill(directory: Path, keys: Iterable[bytes], value: bytes) -> int:
    """Write ``keys`` (each with ``value``) into a plain LMDB environment in one transaction.

    The counterpart of the listing benchmark's populate step, for its raw-scan baseline.
    Returns the number of keys written.
    """
    import lmdb  # local: only the listing benchmark needs it

    env = lmdb.open(str(directory), map_size=16 * GiB, sync=False, metasync=False)
    n = 0
    try:
        with env.begin(write=True) as txn:
            for k in keys:
                txn.put(k, value)
                n += 1
    finally:
        env.close()
    return n


def baseline_lmdb_scan(directory: Path) -> tuple[float, int]:
    """Cursor-scan every key of the LMDB environment at ``directory``: (seconds, keys seen).

    The floor of any LMDB-backed listing: what visiting the same number of keys costs with no
    S3 logic on top (keys and values are materialised as bytes, as a lister must).
    """
    import lmdb

    env = lmdb.open(str(directory), map_size=16 * GiB, readonly=True, lock=False)
    try:
        t0 = time.perf_counter()
        count = 0
        with env.begin() as txn:
            for _k, _v in txn.cursor():
                count += 1
        elapsed = time.perf_counter() - t0
    finally:
        env.close()
    return elapsed, count
