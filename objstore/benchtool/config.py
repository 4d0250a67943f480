"""Benchmark settings and the parsing of their human forms (``10GiB``, ``60s``, ``dup:0.5``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from objstore.errors import InvalidArgument

__all__ = ["MIN_PART", "BenchConfig", "DataSpec", "parse_duration", "parse_size"]

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
MIN_PART = 5 * MIB  # S3's smallest part (all but the last)
MAX_PART = 5 * GIB

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": KIB,
    "mib": MIB,
    "gib": GIB,
    "tib": 1 << 40,
}
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER_UNIT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", re.ASCII)


def _number_unit(text: str, units: dict[str, float] | dict[str, int], what: str) -> float:
    match = _NUMBER_UNIT.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in units:
        names = ", ".join(u for u in units if u)
        raise InvalidArgument(f"{what} {text!r}: expected a number and one of {names}")
    return float(match.group(1)) * units[unit]


def parse_size(text: str) -> int:
    """``10GiB``, ``64MiB``, ``100MB``, ``4096`` -> bytes. Raises InvalidArgument."""
    return int(_number_unit(text, _SIZE_UNITS, "size"))


def parse_duration(text: str) -> float:
    """``60s``, ``5m``, ``500ms``, ``1h``, ``90`` -> seconds. Raises InvalidArgument."""
    return _number_unit(text, _DURATION_UNITS, "duration")


@dataclass(frozen=True, slots=True)
class DataSpec:
    """What the uploaded bytes look like.

    ``random``: incompressible and unique (nothing deduplicates); ``zeros``: every block
    the same; ``dup:F``: a fraction F of the blocks are one repeated block, the rest unique,
    so the store should keep about 1 - F of what was written.
    """

    kind: str  # "random" | "zeros" | "dup"
    dup_fraction: float = 0.0  # for "dup"

    def __post_init__(self) -> None:
        if self.kind not in ("random", "zeros", "dup") or not 0.0 <= self.dup_fraction <= 1.0:
            raise InvalidArgument(f"bad data spec {self.kind!r} {self.dup_fraction!r}")

    @property
    def repeated(self) -> float:
        """The fraction of blocks that repeat one block (all of zeros, none of random)."""
        return {"random": 0.0, "zeros": 1.0}.get(self.kind, self.dup_fraction)

    @classmethod
    def parse(cls, text: str) -> DataSpec:
        """``random``, ``zeros`` or ``dup:F`` (0 <= F <= 1). Raises InvalidArgument."""
        if text == "random":
            return cls("random", 0.0)
        if text == "zeros":
            return cls("zeros")
        kind, sep, value = text.partition(":")
        if kind == "dup" and sep:
            try:
                fraction = float(value)
            except ValueError:
                fraction = -1.0
            if 0.0 <= fraction <= 1.0:
                return cls("dup", fraction)
        raise InvalidArgument(f"data {text!r}: expected random, zeros or dup:F with 0 <= F <= 1")

    def __str__(self) -> str:
        return f"dup:{self.dup_fraction:g}" if self.kind == "dup" else self.kind


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """One benchmark run. ``store`` None: a fresh temporary store, removed afterwards.

    ``size`` bytes are written by the PUT phase (in ``objects`` objects) and again by
    the multipart phase (in parts of ``part_size``); ``duration`` caps each phase (no new
    operation starts after it). ``block_size`` is the granularity of duplicate data (the
    store's chunk size, so duplicates are found).
    """

    store: str | None = None
    size: int = 10 * GIB
    objects: int | None = None
    part_size: int = 64 * MIB
    concurrency: int = 8
    data: DataSpec = DataSpec("random")
    duration: float | None = 60.0
    phases: tuple[str, ...] = ("put", "get", "multipart")
    baseline_size: int = GIB
    block_size: int = 4 * MIB

    def __post_init__(self) -> None:
        if self.size < 1:
            raise InvalidArgument("size must be at least 1 byte")
        if self.objects is not None and not 1 <= self.objects <= self.size:
            raise InvalidArgument("objects must be between 1 and the size in bytes")
        if not MIN_PART <= self.part_size <= MAX_PART:
            raise InvalidArgument("part size must be between 5 MiB and 5 GiB (S3's limits)")
        if not 1 <= self.concurrency <= 1024:
            raise InvalidArgument("concurrency must be between 1 and 1024")
        if self.duration is not None and self.duration <= 0:
            raise InvalidArgument("duration must be positive")
        unknown = set(self.phases) - {"put", "get", "multipart"}
        if unknown or not self.phases:
            raise InvalidArgument(f"phases must be among put, get, multipart: {self.phases}")
        if self.block_size < 1 or self.baseline_size < 1:
            raise InvalidArgument("block and baseline sizes must be positive")

    @property
    def object_count(self) -> int:
        """Objects of the PUT phase: as given, else about 64 MiB each (and >= concurrency)."""
        if self.objects is not None:
            return self.objects
        return min(self.size, max(self.concurrency, -(-self.size // (64 * MIB))))

    @property
    def multipart_object_size(self) -> int:
        """Bytes per multipart object: enough parts to keep every thread busy."""
        return max(-(-self.size // self.object_count), self.part_size * self.concurrency)


def split(total: int, each: int) -> list[int]:
    """``total`` bytes in pieces of ``each`` (the last one smaller)."""
    sizes = [each] * (total // each)
    if total % each:
        sizes.append(total % each)
    return sizes
