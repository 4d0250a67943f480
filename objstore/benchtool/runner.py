"""One benchmark run: open the target, measure the disk, run the phases, clean up.

Without a target the run uses the embedded store: a fresh temporary store in the current
directory (the file system a user cares about), removed afterwards, or ``config.store``
(created if missing). Either way it works in a bucket of its own and, at the end,
deletes its objects and that bucket (and, embedded, runs gc), leaving the store as it
found it. An S3 endpoint (``s3target``) gets the same phases; it has no local disk to
compare with, so its report has no disk baseline and no stored-bytes figure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass

from objstore.benchtool.config import BenchConfig, split
from objstore.benchtool.data import DataSource
from objstore.benchtool.phases import (
    Baseline,
    NullObserver,
    Observer,
    PhaseContext,
    PhaseResult,
    disk_baseline,
    get_phase,
    multipart_phase,
    put_phase,
)
from objstore.benchtool.target import Target, embedded
from objstore.blob.chunkstore import OWNER_NAME

__all__ = ["BenchReport", "chunk_bytes", "run"]


@dataclass(frozen=True, slots=True)
class BenchReport:
    """Everything a run measured."""

    config: BenchConfig
    store_path: str  # the store's directory or the endpoint's URL
    started: float  # Unix time
    baseline: Baseline | None  # None for a remote target
    phases: tuple[PhaseResult, ...]
    logical_bytes: int  # written by the phases
    stored_bytes: int | None  # what the chunk files grew by; None for a remote target
    generator_cpu_s_per_gib: float  # the synthetic data's own cost, inside the CPU figures

    @property
    def dedup_ratio(self) -> float | None:
        """Bytes written per byte stored (None when nothing new was stored, or remote)."""
        stored = self.stored_bytes
        return self.logical_bytes / stored if stored is not None and stored > 0 else None

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)


def chunk_bytes(store_path: str) -> int:
    """Bytes the chunk files of the store at ``store_path`` occupy (their sizes; the
    owner mark is not a chunk)."""
    total = 0
    for directory, _, files in os.walk(os.path.join(store_path, "chunks")):
        for name in files:
            if name == OWNER_NAME:
                continue
            with contextlib.suppress(FileNotFoundError):  # gc or a writer moved it
                total += os.path.getsize(os.path.join(directory, name))
    return total


def _even(total: int, count: int) -> list[int]:
    """``total`` bytes as ``count`` sizes differing by at most one byte."""
    each, extra = divmod(total, count)
    return [each + 1] * extra + [each] * (count - extra)


def _generator_cost(source: DataSource) -> float:
    """CPU seconds per GiB the data generator itself spends (on this thread)."""
    size = 64 << 20
    body = source.stream(size)
    buf = memoryview(bytearray(16 << 20))
    start = time.thread_time()
    while body.readinto(buf):
        pass
    return (time.thread_time() - start) / (size / (1 << 30))


def run(
    config: BenchConfig, *, observer: Observer | None = None, target: Target | None = None
) -> BenchReport:
    """Run the benchmark ``config`` describes, on ``target`` (default: the embedded store
    ``config.store`` or a temporary one).

    Raises InvalidArgument for a store that cannot be opened, OSError when the disk
    fails, and whatever the store or endpoint raises during a phase (after cleaning up)."""
    if target is not None:
        return _run(config, observer or NullObserver(), target)
    with embedded(config.store) as local:
        return _run(config, observer or NullObserver(), local)


def _run(config: BenchConfig, observer: Observer, target: Target) -> BenchReport:
    source = DataSource(config.data, config.block_size)
    started = time.time()
    path = target.directory
    baseline = None
    if path is not None:
        baseline = disk_baseline(path, min(config.size, config.baseline_size), source)
    generator = _generator_cost(source)
    bucket = f"objstore-bench-{secrets.token_hex(4)}"
    target.create_bucket(bucket)
    ctx = PhaseContext(target, bucket, source, config.concurrency, config.duration, observer)
    phases: list[PhaseResult] = []
    keys: list[str] = []
    before = chunk_bytes(path) if path is not None else 0
    try:
        sizes = _even(config.size, config.object_count)
        objects = [(f"put/{i:06d}", size) for i, size in enumerate(sizes)]
        if "put" in config.phases:
            result, keys = put_phase(ctx, objects)
            phases.append(result)
        if "get" in config.phases and keys:
            by_key = dict(objects)
            phases.append(get_phase(ctx, keys, sum(by_key[k] for k in keys)))
        if "multipart" in config.phases:
            uploads = [
                (f"multipart/{i:06d}", split(size, config.part_size))
                for i, size in enumerate(split(config.size, config.multipart_object_size))
            ]
            phases.append(multipart_phase(ctx, uploads)[0])
        stored = chunk_bytes(path) - before if path is not None else None
    finally:
        target.clean_up(bucket)
    logical = sum(p.bytes for p in phases if p.name in ("put", "multipart"))
    return BenchReport(
        config=config,
        store_path=target.location,
        started=started,
        baseline=baseline,
        phases=tuple(phases),
        logical_bytes=logical,
        stored_bytes=stored,
        generator_cpu_s_per_gib=generator,
    )
