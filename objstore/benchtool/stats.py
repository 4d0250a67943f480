"""Measurements: latency percentiles, throughput over time, process CPU time."""

from __future__ import annotations

import math
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CpuClock", "Latency", "Meter", "latency", "percentile"]


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, linearly interpolated.

    Raises IndexError on an empty sequence."""
    if not ordered:
        raise IndexError("percentile of no values")
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds per operation."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float


def latency(samples: Sequence[float]) -> Latency | None:
    """Summary of ``samples`` (None when there are none)."""
    if not samples:
        return None
    ordered = sorted(samples)
    return Latency(
        count=len(ordered),
        mean=sum(ordered) / len(ordered),
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        max=ordered[-1],
    )


class Meter:
    """Bytes done, counted from many threads, and bytes per time slice since ``start``."""

    def __init__(
        self, interval: float = 0.5, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self.start = clock()
        self.bytes = 0
        self._slices: list[int] = []

    def add(self, n: int) -> None:
        index = int((self.clock() - self.start) / self.interval)
        with self._lock:
            self.bytes += n
            if index >= len(self._slices):
                self._slices.extend([0] * (index + 1 - len(self._slices)))
            self._slices[index] += n

    def timeline(self, end: float) -> list[tuple[float, float]]:
        """(seconds since start at the slice's end, MB/s in the slice) up to ``end``.

        The last slice is cut at ``end`` so a short tail is not under-reported."""
        with self._lock:
            slices = list(self._slices)
        # Slices up to ``end`` even when no bytes arrived in the last ones (a phase's
        # final commit or a stalled writer): the timeline must end where the phase did.
        span = end - self.start
        if span > 0:
            slices += [0] * max(0, math.ceil(span / self.interval) - len(slices))
        out = []
        for i, n in enumerate(slices):
            t0 = i * self.interval
            t1 = min((i + 1) * self.interval, max(end - self.start, t0 + 1e-9))
            out.append((t1, n / max(t1 - t0, 1e-9) / 1e6))
        return out


class CpuClock:
    """User + system CPU seconds of this process (all its threads) since creation."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def elapsed(self) -> float:
        return self._read() - self._start
