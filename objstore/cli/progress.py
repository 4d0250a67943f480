"""A small progress bar for terminals (silent when output is not a terminal)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO


class Progress:
    """Counts bytes and redraws one status line at most 10 times a second."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.start = time.perf_counter()
        self._last = 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-9) / 1e6
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            line = f"\r{self.label} [{bar:<30}] {frac * 100:5.1f}% {rate:8.1f} MB/s"
        else:
            line = f"\r{self.label} {self.done / 1e6:10.1f} MB {rate:8.1f} MB/s"
        self.stream.write(line)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()

    def wrap(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """Pass ``pieces`` through, counting them."""
        for piece in pieces:
            self.add(len(piece))
            yield piece
        self.finish()


class CountingReader:
    """A binary reader that reports what passes through it to a Progress."""

    def __init__(self, raw: object, progress: Progress) -> None:
        self._raw = raw
        self._progress = progress

    def readinto(self, buf: memoryview) -> int:
        n: int = self._raw.readinto(buf)  # type: ignore[attr-defined]
        self._progress.add(n)
        return n
