"""Competing load for the "busy machine" figures: a noisy disk writer and a CPU hog.

Both run as separate processes (as a neighbour on a shared machine would), are started just
before a measured call and stopped right after it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

# Writes `size` bytes of buffered data (no fsync, so it stays dirty in the page cache), says
# "go" before its first write and "done" after its last, then waits to be killed: the classic
# victim of a `syncfs`, which would have to flush all of it.
_WRITER = r"""
import os, sys, time
path, size = sys.argv[1], int(sys.argv[2])
buf = os.urandom(1 << 20)
with open(path, "wb") as f:
    print("go", flush=True)
    for _ in range(size >> 20):
        f.write(buf)
    f.flush()
print("done", flush=True)
time.sleep(3600)
"""

# One thread spinning on a core, like `yes > /dev/null`.
_HOG = "while True:\n    pass\n"


@contextlib.contextmanager
def noisy_writer(directory: Path, size: int) -> Iterator[None]:
    """While the block runs, another process writes ``size`` bytes (buffered) under ``directory``.

    The block starts as soon as the writer has begun writing; the writer's file is deleted
    afterwards (which discards its dirty pages).
    """
    path = directory / f"noise-{os.getpid()}.bin"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(size)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "go":
            raise RuntimeError("the noisy writer did not start")
        yield
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class CpuHog:
    """A busy process on one core for as long as it is open (``--busy``)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", _HOG])

    def close(self) -> None:
        """Stop the hog."""
        self._proc.kill()
        self._proc.wait()
