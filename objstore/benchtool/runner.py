"""One benchmark run: open the store, measure the disk, run the phases, clean up.

Without ``store`` the run uses a fresh temporary store in the current directory (the
file system a user cares about) and removes it afterwards. With ``store`` (created if
missing) it works in a bucket of its own and, at the end, deletes its objects and that
bucket and runs gc, leaving the store as it found it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import objstore
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
from objstore.store import Store

__all__ = ["BenchReport", "chunk_bytes", "run"]


@dataclass(frozen=True, slots=True)
class BenchReport:
    """Everything a run measured."""

    config: BenchConfig
    store_path: str
    started: float  # Unix time
    baseline: Baseline
    phases: tuple[PhaseResult, ...]
    logical_bytes: int  # written by the phases
    stored_bytes: int  # what the chunk files grew by
    generator_cpu_s_per_gib: float  # the synthetic data's own cost, inside the CPU figures

    @property
    def dedup_ratio(self) -> float | None:
        """Bytes written per byte stored (None when nothing new was stored)."""
        return self.logical_bytes / self.stored_bytes if self.stored_bytes > 0 else None

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)


def chunk_bytes(store_path: str) -> int:
    """Bytes the chunk files of the store at ``store_path`` occupy (their sizes)."""
    total = 0
    for directory, _, files in os.walk(os.path.join(store_path, "chunks")):
        for name in files:
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


@contextlib.contextmanager
def _opened(config: BenchConfig) -> Iterator[tuple[Store, str]]:
    """The store to benchmark and its directory; a temporary one is removed afterwards."""
    if config.store is not None:
        with objstore.open(config.store) as store:
            yield store, config.store
        return
    path = tempfile.mkdtemp(prefix=".objstore-bench-", dir=os.getcwd())
    try:
        with objstore.open(path) as store:
            yield store, path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(config: BenchConfig, *, observer: Observer | None = None) -> BenchReport:
    """Run the benchmark ``config`` describes.

    Raises InvalidArgument for a store that cannot be opened, OSError when the disk
    fails, and whatever the store raises during a phase (after cleaning up)."""
    observer = observer or NullObserver()
    source = DataSource(config.data, config.block_size)
    started = time.time()
    with _opened(config) as (store, path):
        baseline = disk_baseline(path, min(config.size, config.baseline_size), source)
        generator = _generator_cost(source)
        bucket = f"objstore-bench-{secrets.token_hex(4)}"
        client = store.root
        client.create_bucket(bucket)
        ctx = PhaseContext(client, bucket, source, config.concurrency, config.duration, observer)
        phases: list[PhaseResult] = []
        keys: list[str] = []
        before = chunk_bytes(path)
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
            stored = chunk_bytes(path) - before
        finally:
            _clean_up(store, bucket)
    logical = sum(p.bytes for p in phases if p.name in ("put", "multipart"))
    return BenchReport(
        config=config,
        store_path=path,
        started=started,
        baseline=baseline,
        phases=tuple(phases),
        logical_bytes=logical,
        stored_bytes=stored,
        generator_cpu_s_per_gib=generator,
    )


def _clean_up(store: Store, bucket: str) -> None:
    """Abort the uploads and delete every object version in ``bucket``, the bucket, and
    collect the garbage."""
    client = store.root
    while uploads := client.list_multipart_uploads(bucket):
        for upload in uploads:
            client.abort_multipart_upload(bucket, upload.key, upload.upload_id)
    while True:
        page = client.list_object_versions(bucket)
        entries = [(v.key, v.version_id) for v in page.versions]
        entries += [(m.key, m.version_id) for m in page.delete_markers]
        if not entries:
            break
        for start in range(0, len(entries), 1000):
            client.delete_objects(bucket, entries[start : start + 1000])
    client.delete_bucket(bucket)
    store.gc()
