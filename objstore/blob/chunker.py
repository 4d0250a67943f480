"""Where chunk boundaries fall: fixed-size or content-defined (FastCDC).

A chunker sees a window of the stream and returns the end offsets of the
complete chunks in it. Unless the window is the stream's last, the bytes after
the last cut are carried into the next window, so boundaries never depend on
how the stream was buffered.
"""

from __future__ import annotations

from typing import Protocol

from fastcdc import fastcdc_cy as _cdc_module  # compiled Cython; never the pure-Python fallback

_chunk_generator = _cdc_module.chunk_generator
_cdc_compiled = _cdc_module.__file__ is not None and not _cdc_module.__file__.endswith(".py")
if not _cdc_compiled:  # pragma: no cover - depends on the wheel installed
    raise ImportError("objstore needs the compiled fastcdc extension (fastcdc_cy)")


class Chunker(Protocol):
    """Finds chunk boundaries in a window of the stream."""

    name: str
    max_size: int

    def cuts(self, window: memoryview, final: bool) -> list[int]:
        """End offsets of complete chunks in ``window``, ascending.

        When ``final`` is true the last offset is ``len(window)`` (if the
        window is not empty); otherwise the tail after the last offset is
        carried over by the caller.
        """
        ...


class FixedChunker:
    """Chunks of exactly ``size`` bytes (the last one shorter)."""

    name = "fixed"

    def __init__(self, size: int = 4 << 20) -> None:
        if size < 4096:
            raise ValueError("fixed chunk size must be at least 4 KiB")
        self.size = size
        self.max_size = size

    def cuts(self, window: memoryview, final: bool) -> list[int]:
        n = len(window)
        out = list(range(self.size, n + 1, self.size))
        if final and n and (not out or out[-1] != n):
            out.append(n)
        return out


class CdcChunker:
    """FastCDC (Gear hash, normalised chunking) via the compiled ``fastcdc`` package."""

    name = "cdc"

    def __init__(
        self, avg_size: int = 1 << 20, min_size: int | None = None, max_size: int | None = None
    ) -> None:
        self.avg_size = avg_size
        # avg/2 (as restic: 512 KiB for 1 MiB): measured 1.65x faster than avg/4 with the
        # same chunk count, and more of the stream skips the Gear hash entirely.
        self.min_size = min_size if min_size is not None else avg_size // 2
        self.max_size = max_size if max_size is not None else avg_size * 4
        if not (64 <= self.min_size <= self.avg_size <= self.max_size):
            raise ValueError("CDC sizes must satisfy 64 <= min <= avg <= max")

    def cuts(self, window: memoryview, final: bool) -> list[int]:
        out: list[int] = []
        end = 0
        for chunk in _chunk_generator(
            window, self.min_size, self.avg_size, self.max_size, False, None
        ):
            end = chunk.offset + chunk.length
            out.append(end)
        if not final and out:
            # The last chunk was cut by the window's end, not by the content.
            out.pop()
        return out


def make_chunker(kind: str, size: int) -> Chunker:
    """Build the chunker a store's settings name; raises ValueError for an unknown kind."""
    if kind == "fixed":
        return FixedChunker(size)
    if kind == "cdc":
        return CdcChunker(size)
    raise ValueError(f"unknown chunking {kind!r} (expected 'fixed' or 'cdc')")
