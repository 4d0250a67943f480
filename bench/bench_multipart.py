"""Benchmark: multipart uploads.

1. A ``cfg.size`` file (1 GiB) uploaded with ``upload_file`` in 16 MiB parts from 4 threads,
   against plain write + fsync of the same file in the same run: target >= 0.8.
2. A 5 TB object made of 1,000 parts copied (``upload_part_copy``) from one stored 5 GiB
   object of repeated content, then completed: completion joins parts without touching
   chunks, so it must take seconds, not minutes. ``--quick`` uses a 64 MiB source (a 64 GB
   object); the figures are then only a smoke test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
    GiB,
    MiB,
    alternate,
    baseline_write_fsync,
    fresh_store,
    notes,
    say,
    verdict,
)

NAME = "multipart"
TARGET_UPLOAD = 0.8
TARGET_COMPLETE_S = 10.0
PART = 16 * MiB
THREADS = 4
COPIES = 1000


def footprint(cfg: Config) -> int:
    """Per repetition a plain copy and a store of the source; the 5 TB store is a few MiB."""
    return cfg.reps * 2 * cfg.size + 64 * MiB


def run(ctx: Context) -> None:
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    etags: list[str] = []

    def write_fsync(rep: int) -> float:
        return baseline_write_fsync(src, work / f"plain-{rep}.bin")

    def multipart(rep: int) -> float:
        store = fresh_store(work / f"store-{rep}")
        try:
            t0 = time.perf_counter()
            result = store.root.upload_file(
                src, BUCKET, "large", part_size=PART, concurrency=THREADS
            )
            elapsed = time.perf_counter() - t0
            etags.append(result.etag)
        finally:
            store.close()
        return elapsed

    subjects: list[tuple[str, Callable[[int], float]]] = [
        ("write+fsync", write_fsync),
        ("multipart", multipart),
    ]
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    wf, mp = runs["write+fsync"].mb_s(), runs["multipart"].mb_s()
    ctx.emit(Figure("multipart baseline write+fsync", wf[0], "MB/s", best=wf[1]))
    parts = -(-cfg.size // PART)
    ctx.emit(
        Figure(
            f"multipart {PART // MiB} MiB x {THREADS} threads",
            mp[0],
            "MB/s",
            "write+fsync",
            wf[0],
            f">= {TARGET_UPLOAD:.2f}",
            verdict(mp[0] / wf[0] >= TARGET_UPLOAD),
            best=mp[1],
            note=notes(
                runs["multipart"].load_note(),
                "" if all(e.endswith(f'-{parts}"') for e in etags) else "WRONG ETAG",
            ),
        )
    )
    ctx.ws.drop(work)
    big = ctx.ws.sub(f"{NAME}-5tb")
    huge(ctx, big)
    ctx.ws.drop(big)


def _repeated(total: int, block: bytes) -> Iterator[bytes]:
    for _ in range(total // len(block)):
        yield block


def huge(ctx: Context, path: Path) -> None:
    """1,000 copied parts of one big source, completed: the 5 TB figure."""
    source_size = 64 * MiB if ctx.cfg.quick else 5 * GiB
    store = fresh_store(path)
    try:
        say(f"storing the {source_size / GiB:g} GiB source of repeated content (not timed)")
        block = bytes(range(256)) * (4 * MiB // 256)
        c = store.root
        c.put_object(BUCKET, "src", _repeated(source_size, block), content_length=source_size)
        ctx.settle()
        t0 = time.perf_counter()
        uid = c.create_multipart_upload(BUCKET, "huge")
        parts = [
            c.upload_part_copy(BUCKET, "huge", uid, n, BUCKET, "src") for n in range(1, 1 + COPIES)
        ]
        t1 = time.perf_counter()
        result = c.complete_multipart_upload(BUCKET, "huge", uid, parts)
        t2 = time.perf_counter()
    finally:
        store.close()
    total = COPIES * source_size
    if result.size != total:
        raise RuntimeError(f"completed {result.size} bytes, expected {total}")
    ctx.emit(
        Figure(f"{COPIES} upload_part_copy", t1 - t0, "s", note=f"{source_size / GiB:g} GiB each")
    )
    ctx.emit(
        Figure(
            f"complete {total / 1000**4:.2f} TB, {COPIES} parts",
            t2 - t1,
            "s",
            target=f"< {TARGET_COMPLETE_S:g} s",
            status=verdict(t2 - t1 < TARGET_COMPLETE_S),
        )
    )
