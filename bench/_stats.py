"""Statistics over repetitions: CPU marks, quiet moments, alternated samples."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench._core import GiB, say


@dataclass(frozen=True, slots=True)
class CpuMark:
    """A point in time: wall clock, this process's CPU (with reaped children), all CPUs busy."""

    wall: float
    own: float
    busy: float

    @staticmethod
    def now() -> CpuMark:
        """Take a mark (CPU figures in seconds)."""
        t = os.times()
        return CpuMark(
            time.perf_counter(), t.user + t.system + t.children_user + t.children_system, _busy()
        )

    def since(self, earlier: CpuMark) -> tuple[float, float]:
        """(own CPU seconds, cores used by everything else on average) between two marks.

        "Everything else" is other processes and kernel threads (including the writeback and
        reclaim our own I/O causes): the load a figure was measured under.
        """
        wall = max(self.wall - earlier.wall, 1e-9)
        own = self.own - earlier.own
        return own, max(0.0, (self.busy - earlier.busy) - own) / wall


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy() -> float:
    """Seconds all CPUs spent not idle since boot (/proc/stat; 0 where it does not exist)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest time is already included in user time; steal is time we did not get
    total = sum(fields[:8])
    return (total - idle) / _TICK


def wait_quiet(max_wait: float, threshold: float = 0.3, window: float = 0.5) -> float:
    """Wait (up to ``max_wait`` s) until other work uses under ``threshold`` cores.

    Other engineers' test runs and the kernel's writeback of the previous measurement share
    the two cores with us; starting a measurement in a quiet moment keeps them out of it.
    Returns the seconds waited.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        mark = CpuMark.now()
        time.sleep(window)
        if CpuMark.now().since(mark)[1] < threshold:
            break
    return time.perf_counter() - t0


@dataclass(frozen=True, slots=True)
class Samples:
    """Repetitions of one subject over the same ``amount`` (bytes or items)."""

    seconds: tuple[float, ...]
    amount: float
    cpu: tuple[float, ...] = ()  # own core-seconds per repetition (threads + child processes)
    others: tuple[float, ...] = ()  # cores used by everything else during each repetition

    @property
    def best_rate(self) -> float:
        """Amount per second of the fastest repetition."""
        return self.amount / min(self.seconds)

    @property
    def median_rate(self) -> float:
        """Amount per second of the median repetition (robust to one noisy repetition)."""
        return self.amount / statistics.median(self.seconds)

    def mb_s(self) -> tuple[float, float]:
        """(median, best) in MB/s (10^6 bytes, as disks and the issue quote them)."""
        return self.median_rate / 1e6, self.best_rate / 1e6

    def load_note(self, per: float = GiB, unit: str = "GiB") -> str:
        """Own CPU cost per ``per`` of amount, and the load others put on the machine meanwhile.

        CPU cost barely depends on contention, so it compares runs where MB/s cannot.
        """
        if not self.cpu:
            return ""
        cost = statistics.median(self.cpu) / self.amount * per
        return f"cpu {cost:.2f} core-s/{unit}, others {max(self.others):.1f} cores"


def alternate(
    reps: int,
    amount: float,
    subjects: Sequence[tuple[str, Callable[[int], float]]],
    before: Callable[[], object] | None = None,
) -> dict[str, Samples]:
    """Run each subject ``reps`` times, interleaved; return their Samples over ``amount``.

    A subject is called with the repetition index and returns its own elapsed time, so that it
    can leave set-up (opening a store, creating a bucket) out of the measurement; its CPU use
    and the load of other processes are recorded around the whole call. The order is rotated
    every repetition so that no subject always follows the same neighbour (page cache and CPU
    frequency effects then average out instead of biasing one side). ``before`` runs, untimed,
    ahead of every call (the run passes ``Context.settle``).
    """
    secs: dict[str, list[float]] = {name: [] for name, _ in subjects}
    cpu: dict[str, list[float]] = {name: [] for name, _ in subjects}
    others: dict[str, list[float]] = {name: [] for name, _ in subjects}
    n = len(subjects)
    for rep in range(reps):
        for j in range(n):
            name, fn = subjects[(rep + j) % n]
            if before is not None:
                before()
            mark = CpuMark.now()
            secs[name].append(fn(rep))
            own, load = CpuMark.now().since(mark)
            cpu[name].append(own)
            others[name].append(load)
    out: dict[str, Samples] = {}
    for name in secs:
        out[name] = Samples(tuple(secs[name]), amount, tuple(cpu[name]), tuple(others[name]))
        # the raw repetitions, to see the spread behind a median
        say(
            f"{name}: "
            + " ".join(f"{x:.3f}" for x in secs[name])
            + " s; others "
            + " ".join(f"{x:.1f}" for x in others[name])
            + " cores"
        )
    return out


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (perf_counter)."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
