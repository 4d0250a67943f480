"""Streamed bodies cut into windows (objstore/blob/source.py): the end of the stream is
known as soon as a window reaches it, even when the window comes back full."""

from __future__ import annotations

import io
import os

import pytest

from objstore.blob.source import BufferPool, windows_for

WINDOW = 1 << 16


class _Pieces(io.RawIOBase):
    """A readable stream that returns at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        n = min(len(target), self._step, len(self._data))
        target[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


class _CountingPool(BufferPool):
    def __init__(self) -> None:
        super().__init__(WINDOW, keep=0)
        self.taken = 0

    def take(self, want: int | None = None) -> bytearray:
        self.taken += 1
        return super().take(want)


@pytest.mark.parametrize("size", [0, 1, WINDOW - 1, WINDOW, WINDOW + 1, 2 * WINDOW, 3 * WINDOW + 7])
@pytest.mark.parametrize("step", [1000, WINDOW, 10 * WINDOW])
def test_windows_cover_the_stream_exactly(size: int, step: int) -> None:
    """Windows read back the stream byte for byte, whatever the read sizes, and the
    last one says the stream is exhausted."""
    data = os.urandom(size)
    pool = _CountingPool()
    windows = windows_for(_Pieces(data, step), WINDOW, pool)
    out = []
    pos = 0
    while True:
        win = windows.next(pos)
        out.append(bytes(win))
        pos += len(win)
        if windows.exhausted():
            break
        assert len(win) == WINDOW  # only the last window may be short
    assert b"".join(out) == data
    assert windows.next(pos) == b""
    windows.close()


def test_a_body_of_exactly_one_window_takes_one_buffer() -> None:
    """A body of exactly one window is known to end with its first window (regression:
    a 16 MiB part took a second 16 MiB buffer to read nothing, and hashed on threads)."""
    pool = _CountingPool()
    windows = windows_for(_Pieces(os.urandom(WINDOW), WINDOW), WINDOW, pool)
    first = windows.next(0)
    assert len(first) == WINDOW
    assert windows.exhausted()
    assert pool.taken == 1
    windows.close()
