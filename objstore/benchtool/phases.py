"""The raw-disk baseline and the benchmark phases (PUT, GET, multipart).

Each phase runs its operations on ``concurrency`` threads, counts bytes as the store
consumes or yields them (the throughput timeline and the progress bar), times every
operation (latency) and charges the process's CPU time to the phase. A phase stops
starting operations at its deadline; what was started finishes.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from objstore.benchtool.data import BodyStream, DataSource
from objstore.benchtool.stats import CpuClock, Latency, Meter, latency
from objstore.benchtool.target import Target

__all__ = [
    "Baseline",
    "Observer",
    "PhaseContext",
    "PhaseResult",
    "disk_baseline",
    "get_phase",
    "multipart_phase",
    "put_phase",
]

GIB = 1 << 30


class Observer(Protocol):
    """Told what a phase does (a progress bar). ``add`` is called from many threads."""

    def begin(self, phase: str, total: int) -> None: ...

    def add(self, n: int) -> None: ...

    def end(self) -> None: ...


class NullObserver:
    """Watches nothing."""

    def begin(self, phase: str, total: int) -> None:
        return None

    def add(self, n: int) -> None:
        return None

    def end(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Baseline:
    """Plain file write + one fsync of ``bytes`` bytes in the store's directory."""

    bytes: int
    seconds: float

    @property
    def mb_s(self) -> float:
        return self.bytes / max(self.seconds, 1e-9) / 1e6


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """What one phase did and how fast."""

    name: str
    bytes: int
    objects: int
    parts: int
    seconds: float
    cpu_seconds: float
    object_latency: Latency | None
    part_latency: Latency | None
    timeline: tuple[tuple[float, float], ...]  # (seconds since start, MB/s in the slice)
    complete: bool  # False when the deadline stopped it early

    @property
    def mb_s(self) -> float:
        return self.bytes / max(self.seconds, 1e-9) / 1e6

    @property
    def objects_s(self) -> float:
        return self.objects / max(self.seconds, 1e-9)

    @property
    def cpu_s_per_gib(self) -> float | None:
        return self.cpu_seconds / (self.bytes / GIB) if self.bytes else None


@dataclass(slots=True)
class PhaseContext:
    """What every phase needs: where to write, how, and whom to tell."""

    target: Target
    bucket: str
    source: DataSource
    concurrency: int
    duration: float | None
    observer: Observer = field(default_factory=NullObserver)


class CountingBody:
    """A body that reports the bytes the store reads from it.

    S3 clients may read a body to hash it, rewind it and read it again to send it:
    only bytes past the furthest position reached so far are counted."""

    def __init__(self, body: BodyStream, meter: Meter, observer: Observer) -> None:
        self._body = body
        self._meter = meter
        self._observer = observer
        self._reached = 0

    def _count(self) -> None:
        pos = self._body.tell()
        if pos > self._reached:
            self._meter.add(pos - self._reached)
            self._observer.add(pos - self._reached)
            self._reached = pos

    def readinto(self, target: memoryview) -> int:
        n = self._body.readinto(target)
        self._count()
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._body.read(size)
        self._count()
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._body.seek(offset, whence)

    def tell(self) -> int:
        return self._body.tell()

    def seekable(self) -> bool:
        return True


def disk_baseline(directory: str, size: int, source: DataSource) -> Baseline:
    """Write ``size`` unique-looking bytes to a new plain file in ``directory``, fsync it,
    delete it; return the time taken. Raises OSError."""
    piece = bytearray(min(size, 16 << 20))
    source.fill(piece)
    view = memoryview(piece)
    path = os.path.join(directory, f".bench-baseline-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        start = time.perf_counter()
        left = size
        while left:
            left -= os.write(fd, view[: min(left, len(view))])
        os.fsync(fd)
        seconds = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return Baseline(size, seconds)


def _run(
    ops: Sequence[Callable[[], None]],
    concurrency: int,
) -> None:
    """Run ``ops`` on ``concurrency`` threads; the first failure cancels the rest and is
    raised."""
    with ThreadPoolExecutor(concurrency, thread_name_prefix="objstore-bench") as pool:
        futures: list[Future[None]] = [pool.submit(op) for op in ops]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in futures:
                    other.cancel()
                future.result()


class _Phase:
    """Book-keeping shared by the phases: deadline, meter, CPU clock, latencies."""

    def __init__(self, ctx: PhaseContext, name: str, total: int) -> None:
        self.ctx = ctx
        self.name = name
        self.meter = Meter()
        self.cpu = CpuClock()
        self.deadline = (
            self.meter.start + ctx.duration if ctx.duration is not None else float("inf")
        )
        self.lock = threading.Lock()
        self.object_times: list[float] = []
        self.part_times: list[float] = []
        self.skipped = False
        ctx.observer.begin(name, total)

    def expired(self) -> bool:
        if time.perf_counter() >= self.deadline:
            self.skipped = True
            return True
        return False

    def record(self, times: list[float], seconds: float) -> None:
        with self.lock:
            times.append(seconds)

    def result(self) -> PhaseResult:
        end = time.perf_counter()
        self.ctx.observer.end()
        return PhaseResult(
            name=self.name,
            bytes=self.meter.bytes,
            objects=len(self.object_times),
            parts=len(self.part_times),
            seconds=end - self.meter.start,
            cpu_seconds=self.cpu.elapsed(),
            object_latency=latency(self.object_times),
            part_latency=latency(self.part_times),
            timeline=tuple(self.meter.timeline(end)),
            complete=not self.skipped,
        )


def put_phase(
    ctx: PhaseContext, objects: Sequence[tuple[str, int]]
) -> tuple[PhaseResult, list[str]]:
    """PUT each (key, size); returns the result and the keys written."""
    phase = _Phase(ctx, "put", sum(size for _, size in objects))
    written: list[str] = []

    def put(key: str, size: int) -> None:
        if phase.expired():
            return
        body = CountingBody(ctx.source.stream(size), phase.meter, ctx.observer)
        start = time.perf_counter()
        ctx.target.put_object(ctx.bucket, key, body, size)
        phase.record(phase.object_times, time.perf_counter() - start)
        with phase.lock:
            written.append(key)

    _run([functools.partial(put, key, size) for key, size in objects], ctx.concurrency)
    return phase.result(), written


def get_phase(ctx: PhaseContext, keys: Sequence[str], total: int) -> PhaseResult:
    """GET each key whole (the store verifies every chunk), discarding the bytes."""
    phase = _Phase(ctx, "get", total)

    def get(key: str) -> None:
        if phase.expired():
            return
        start = time.perf_counter()
        with ctx.target.get_object(ctx.bucket, key) as body:
            for piece in body:
                phase.meter.add(len(piece))
                ctx.observer.add(len(piece))
        phase.record(phase.object_times, time.perf_counter() - start)

    _run([functools.partial(get, key) for key in keys], ctx.concurrency)
    return phase.result()


class _Upload:
    """One multipart object of the phase: created by whichever thread starts its first
    part, completed by whichever finishes its last."""

    def __init__(self, key: str, parts: int) -> None:
        self.key = key
        self.parts = parts
        self.lock = threading.Lock()
        self.upload_id: str | None = None
        self.skipped = False
        self.started = 0.0
        self.done: list[tuple[int, str]] = []  # (part number, ETag)


def multipart_phase(
    ctx: PhaseContext, objects: Sequence[tuple[str, Sequence[int]]]
) -> tuple[PhaseResult, list[str]]:
    """Upload each (key, part sizes) as a multipart upload, the parts of all objects on
    the phase's threads (in order, so each object's parts run side by side). An object's
    latency runs from creating its upload to completing it.

    Returns the result and the keys completed. At the deadline no new upload starts;
    started ones finish."""
    phase = _Phase(ctx, "multipart", sum(sum(sizes) for _, sizes in objects))
    target, bucket = ctx.target, ctx.bucket
    written: list[str] = []

    def part(upload: _Upload, number: int, size: int) -> None:
        with upload.lock:
            if upload.upload_id is None and not upload.skipped:
                if phase.expired():
                    upload.skipped = True
                else:
                    upload.started = time.perf_counter()
                    upload.upload_id = target.create_multipart_upload(bucket, upload.key)
            upload_id = upload.upload_id
        if upload_id is None:  # skipped: the deadline passed before it began
            return
        body = CountingBody(ctx.source.stream(size), phase.meter, ctx.observer)
        start = time.perf_counter()
        result = target.upload_part(bucket, upload.key, upload_id, number, body, size)
        phase.record(phase.part_times, time.perf_counter() - start)
        with upload.lock:
            upload.done.append(result)
            last = len(upload.done) == upload.parts
        if last:
            parts = sorted(upload.done)  # S3 wants them in order of part number
            target.complete_multipart_upload(bucket, upload.key, upload_id, parts)
            phase.record(phase.object_times, time.perf_counter() - upload.started)
            with phase.lock:
                written.append(upload.key)

    ops: list[Callable[[], None]] = []
    for key, sizes in objects:
        upload = _Upload(key, len(sizes))
        ops += [functools.partial(part, upload, n, size) for n, size in enumerate(sizes, 1)]
    _run(ops, ctx.concurrency)
    return phase.result(), written
