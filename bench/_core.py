"""Sizes, the run's configuration and its result lines (what every benchmark prints)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Read/write piece for baselines: large enough that per-call overhead vanishes and hashlib drops
# the GIL, small enough to stay in L2/L3-friendly territory and cost no memory.
IO_PIECE = 4 * MiB

BENCH_DIR = Path(__file__).resolve().parent
# Same filesystem as the project (the store under test lives there too); git-ignored.
WORK_ROOT = BENCH_DIR / ".work"

Status = Literal["PASS", "MISS", "INFO", "SKIP"]


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures: sizes, repetitions, and where work data goes."""

    size: int = 1 * GiB  # the large object of PUT/GET/dedup/peers
    reps: int = 3  # alternated repetitions per subject
    list_keys: int = 1_000_000  # keys for the listing benchmark
    list_budget_s: float = 240.0  # populate time the listing benchmark may spend at most
    rss_size: int = 4 * GiB  # the streamed PUT whose peak RSS is measured
    quiet_wait_s: float = 90.0  # total time a run may wait for other load to calm down
    quick: bool = False
    work_root: Path = WORK_ROOT
    noise_size: int = 1 * GiB  # what the noisy neighbour writes during "noisy" figures
    busy: bool = False  # a CPU hog runs on one core for the whole run (--busy)

    @staticmethod
    def quick_config(work_root: Path = WORK_ROOT) -> Config:
        """Small sizes for smoke-testing the harness (figures are not meaningful)."""
        return Config(
            size=64 * MiB,
            reps=2,
            list_keys=5_000,
            list_budget_s=30.0,
            rss_size=256 * MiB,
            noise_size=64 * MiB,
            quiet_wait_s=0.0,
            quick=True,
            work_root=work_root,
        )


@dataclass(frozen=True, slots=True)
class Figure:
    """One printed result line: a value, its baseline, the ratio and the verdict."""

    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float = 0.0
    target: str = ""  # e.g. ">= 0.9 x bound" or "< 128 MiB"; empty for information only
    status: Status = "INFO"
    best: float = 0.0  # best of the repetitions (value is the median), 0 when not applicable
    note: str = ""

    @property
    def ratio(self) -> float:
        """Value over baseline (0 when there is no baseline)."""
        return self.value / self.baseline_value if self.baseline_value else 0.0

    def line(self) -> str:
        """The one-line rendering printed by every benchmark."""
        # A figure without a unit only carries a verdict (its numbers were printed elsewhere).
        value = f"{self.value:>11,.1f} {self.unit:<6}" if self.unit else " " * 18
        parts = [f"{self.name:<30} {value}"]
        if self.best:
            parts.append(f"(best {self.best:,.1f})")
        if self.baseline_name:
            parts.append(
                f"| {self.baseline_name} {self.baseline_value:,.1f} {self.unit}"
                f" | ratio {self.ratio:.2f}"
            )
        if self.target:
            parts.append(f"| target {self.target}")
        parts.append(f"| {self.status}")
        if self.note:
            parts.append(f"| {self.note}")
        return " ".join(parts)


def notes(*parts: str) -> str:
    """Join the non-empty parts of a figure's note."""
    return "; ".join(p for p in parts if p)


def verdict(ok: bool) -> Status:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def emit(fig: Figure, sink: list[Figure]) -> Figure:
    """Print a figure as soon as it is known (a long run shows progress) and collect it."""
    print(fig.line(), flush=True)
    sink.append(fig)
    return fig


def say(msg: str) -> None:
    """Progress and notes, prefixed so they are not mistaken for result lines."""
    print(f"  .. {msg}", flush=True)
