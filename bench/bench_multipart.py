"""Benchmark: multipart uploads.

1. A ``cfg.size`` file (1 GiB) uploaded with ``upload_file`` in 16 MiB parts from 4 threads,
   against plain write + fsync of the same file in the same run: target >= 0.8. Measured in
   both ETag modes, as PUT is: the default (S3-exact MD5 part ETags) also against its own
   bound, min(write+fsync, MD5 of the parts on the machine's cores), since MD5 costs more
   CPU than everything else of an upload; ``etag_mode="blake3"`` against write+fsync. Every
   upload's ETag is checked against the one its parts' digests give.
2. A 5 TB object made of 1,000 parts copied (``upload_part_copy``) from one stored 5 GiB
   object of repeated content, then completed: completion joins parts without touching
   chunks, so it must take seconds, not minutes. ``--quick`` uses a 64 MiB source (a 64 GB
   object); the figures are then only a smoke test.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import blake3

from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
    GiB,
    MiB,
    alternate,
    baseline_md5_parts,
    baseline_write_fsync,
    fresh_store,
    notes,
    say,
    store_supports,
    verdict,
)

NAME = "multipart"
TARGET_UPLOAD = 0.8
TARGET_COMPLETE_S = 10.0
PART = 16 * MiB
THREADS = 4
COPIES = 1000


def footprint(cfg: Config) -> int:
    """Per repetition a plain copy and a store of the source per ETag mode; the 5 TB store is
    a few MiB."""
    return cfg.reps * 3 * cfg.size + 64 * MiB


def _expected_etag(part_digests: list[bytes], mode: str) -> str:
    """The object ETag S3 (md5) or objstore's blake3 mode gives these parts' digests."""
    joined = b"".join(part_digests)
    digest = hashlib.md5(joined) if mode == "md5" else blake3.blake3(joined)
    return f'"{digest.hexdigest()}-{len(part_digests)}"'


def _blake3_parts(src: Path, part: int = PART) -> list[bytes]:
    """BLAKE3 of each ``part`` of ``src`` (outside the timed sections: the blake3 ETag check)."""
    out = []
    with open(src, "rb") as f:
        while piece := f.read(part):
            out.append(blake3.blake3(piece).digest())
    return out


def run(ctx: Context) -> None:
    """Upload the source in parts in each ETag mode the store accepts, beside write+fsync and
    MD5 of the parts on the machine's cores; then the 5 TB completion."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    cores = min(THREADS, os.cpu_count() or 1)
    modes = ["md5"] + (["blake3"] if store_supports(work / "probe", etag_mode="blake3") else [])
    etags: dict[str, list[str]] = {m: [] for m in modes}
    md5_parts: list[str] = []

    def write_fsync(rep: int) -> float:
        return baseline_write_fsync(src, work / f"plain-{rep}.bin")

    def md5_on_cores(rep: int) -> float:
        seconds, digests = baseline_md5_parts(src, PART, cores)
        md5_parts[:] = digests
        return seconds

    def multipart(mode: str) -> Callable[[int], float]:
        def upload(rep: int) -> float:
            # The default store for md5 (the figure issue 6 set), etag_mode for the others.
            options = {"etag_mode": mode} if mode != "md5" else {}
            store = fresh_store(work / f"store-{mode}-{rep}", **options)
            try:
                t0 = time.perf_counter()
                result = store.root.upload_file(
                    src, BUCKET, "large", part_size=PART, concurrency=THREADS
                )
                elapsed = time.perf_counter() - t0
                etags[mode].append(result.etag)
            finally:
                store.close()
            return elapsed

        return upload

    subjects: list[tuple[str, Callable[[int], float]]] = [
        ("write+fsync", write_fsync),
        (f"md5 on {cores} cores", md5_on_cores),
    ] + [(f"multipart {m}" if m != "md5" else "multipart", multipart(m)) for m in modes]
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    expected = {"md5": _expected_etag([bytes.fromhex(d) for d in md5_parts], "md5")}
    if "blake3" in etags:
        expected["blake3"] = _expected_etag(_blake3_parts(src), "blake3")

    def etag_note(mode: str) -> str:
        wrong = [e for e in etags[mode] if e != expected[mode]]
        return f"WRONG ETAG {wrong[0]} (expected {expected[mode]})" if wrong else ""

    wf, md = runs["write+fsync"].mb_s(), runs[f"md5 on {cores} cores"].mb_s()
    mp = runs["multipart"].mb_s()
    bound = min(wf[0], md[0])
    ctx.emit(Figure("multipart baseline write+fsync", wf[0], "MB/s", best=wf[1]))
    ctx.emit(
        Figure(
            f"multipart baseline md5 {cores} cores",
            md[0],
            "MB/s",
            best=md[1],
            note=f"MD5 of each {PART // MiB} MiB part, {cores} parts at a time",
        )
    )

    def upload_figure(
        name: str, got: tuple[float, float], base: str, value: float, note: str
    ) -> None:
        ctx.emit(
            Figure(
                name,
                got[0],
                "MB/s",
                base,
                value,
                f">= {TARGET_UPLOAD:.2f}",
                verdict(got[0] / value >= TARGET_UPLOAD),
                best=got[1],
                note=note,
            )
        )

    upload_figure(
        f"multipart {PART // MiB} MiB x {THREADS} threads",
        mp,
        "write+fsync",
        wf[0],
        notes(runs["multipart"].load_note(), etag_note("md5")),
    )
    # The same md5-mode runs against what S3-exact part ETags allow on this machine.
    upload_figure(
        "multipart md5 vs its bound",
        mp,
        f"bound=min(write+fsync,md5 {cores} cores)",
        bound,
        "the same runs as the line above",
    )
    if "blake3" in etags:
        upload_figure(
            f"multipart blake3 {PART // MiB} MiB x {THREADS} thr",
            runs["multipart blake3"].mb_s(),
            "write+fsync",
            wf[0],
            notes(runs["multipart blake3"].load_note(), etag_note("blake3")),
        )
    else:
        say("etag_mode='blake3' not supported: multipart measured with MD5 part ETags only")
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
