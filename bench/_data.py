"""Work space, generated data and the memory warm-up (see MemoryWarmer for why)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import blake3

from bench._core import WORK_ROOT, GiB, KiB, MiB


class Workspace:
    """A temp dir under bench/.work (same filesystem as the store); removed on exit."""

    def __init__(self, root: Path = WORK_ROOT, keep: bool = False) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="run-", dir=root))
        self.keep = keep
        # Deleting cached files frees memory, which this VM turns cold (see MemoryWarmer), so a
        # run keeps every benchmark's files to the end when the disk has room for them all.
        self.defer_drops = False

    def sub(self, name: str) -> Path:
        """A fresh sub-directory (removed with the workspace, or earlier with ``drop``)."""
        p = self.path / name
        p.mkdir(parents=True, exist_ok=False)
        return p

    def drop(self, p: Path) -> None:
        """Remove a sub-directory a benchmark is done with (at close, when drops are deferred)."""
        if not self.keep and not self.defer_drops:
            shutil.rmtree(p, ignore_errors=True)

    def close(self) -> None:
        """Remove everything (unless asked to keep it for inspection)."""
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # only succeeds when no other run is using it

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def data_piece(seed: bytes, offset: int, length: int) -> bytes:
    """``length`` pseudo-random bytes at ``offset`` of the stream named ``seed``.

    BLAKE3's extendable output is seekable and runs at ~4.5 GB/s here, so data of any size is
    incompressible, never repeats (no accidental dedup inside one object), and costs no memory.
    """
    return blake3.blake3(seed).digest(length=length, seek=offset)


def generate(size: int, seed: bytes = b"objstore-bench", piece: int = 1 * MiB) -> Iterator[bytes]:
    """Yield ``size`` bytes of the ``seed`` stream as fresh ``piece``-sized bytes objects.

    Fresh objects, not one reused buffer: a consumer may legitimately keep a piece alive (hand
    it to a hashing thread), so mutating it under its feet would corrupt the measurement.
    """
    off = 0
    while off < size:
        n = min(piece, size - off)
        yield data_piece(seed, off, n)
        off += n


def make_source_file(path: Path, size: int, seed: bytes = b"objstore-bench") -> Path:
    """Write ``size`` bytes of the ``seed`` stream to ``path`` and fsync it (left in cache)."""
    with open(path, "wb") as f:
        for piece in generate(size, seed, 8 * MiB):
            f.write(piece)
        f.flush()
        os.fsync(f.fileno())
    return path


def meminfo(field: str) -> int:
    """One field of /proc/meminfo (``MemFree``, ``MemAvailable``...) in bytes; 0 when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * KiB
    except OSError:
        pass
    return 0


class MemoryWarmer:
    """Keeps the page cache full of touched, clean, reclaimable pages for the whole run.

    Why not "write and delete a big file" (what performance.md first suggested): this VM runs
    with free page reporting (virtio-balloon, ``page_reporting``), so pages freed by a delete are
    handed back to the host within seconds and are cold again: measured here, a 1 GiB write+fsync
    ran at 1.58 GB/s right after deleting a file, 0.26 GB/s ten seconds later. Freed memory does
    not stay warm; only memory still in use does.

    So the warmer reads a sparse file (holes: no disk blocks, no disk I/O) until MemFree is down
    to the kernel's reclaim floor. From then on every allocation -- page cache of the store and of
    the baselines, a peer's heap -- is served by reclaiming filler pages, which were touched and
    are warm. Whenever memory is freed during the run (a child exits, files are deleted),
    ``top_up`` reads on until MemFree is back at that floor. The file is removed at the end.
    """

    CHUNK = 64 * MiB

    def __init__(self, directory: Path) -> None:
        self.path = directory / "warm-filler.sparse"
        with open(self.path, "wb") as f:
            f.truncate(1 << 40)  # 1 TiB of holes: costs no disk, reads allocate page cache
        self._fd = os.open(self.path, os.O_RDONLY)
        self._buf = bytearray(self.CHUNK)
        self.offset = 0
        self.floor = 0  # MemFree once the page cache is full (the kernel's reclaim point)

    def _read(self, nbytes: int) -> int:
        done = 0
        while done < nbytes:
            n = os.preadv(self._fd, [self._buf], self.offset)
            self.offset += n
            done += n
        return done

    def fill(self, limit: int | None = None) -> tuple[int, float]:
        """Read filler until MemFree stops falling (or ``limit`` bytes); return (bytes, MB/s)."""
        cap = limit if limit is not None else meminfo("MemFree") + 2 * GiB
        done = 0
        t0 = time.perf_counter()
        while done < cap:
            before = meminfo("MemFree")
            done += self._read(min(4 * self.CHUNK, cap - done))
            # Reading no longer lowers MemFree: the kernel now reclaims to serve allocations.
            if before - meminfo("MemFree") < 2 * self.CHUNK and before < 2 * GiB:
                break
        self.floor = meminfo("MemFree")
        return done, done / max(time.perf_counter() - t0, 1e-9) / 1e6

    def top_up(self) -> int:
        """Give back to the page cache what was freed since the last call; return bytes read."""
        excess = meminfo("MemFree") - self.floor - 256 * MiB
        return self._read(excess + self.CHUNK) if excess > 0 else 0

    def close(self) -> None:
        """Drop the filler (its pages are freed: the run is over)."""
        os.close(self._fd)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def tree_size(path: Path) -> int:
    """Disk bytes allocated to the files under ``path`` (what a store or repo occupies).

    Allocated blocks, not ``st_size``: LMDB and sparse files may claim more than they use.
    """
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total
