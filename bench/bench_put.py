"""Benchmark 1: large PUT streamed from a file, against its real bound.

The bound of an S3-exact PUT is the slower of (a) writing + fsyncing the same bytes to a plain
file and (b) MD5-hashing them: target >= 0.9 of it. With BLAKE3-derived ETags MD5 drops out and
the target is >= 0.8 of plain write + fsync. Fixed and content-defined chunking are both measured
so the default can be chosen from numbers.

Then the same with a noisy neighbour (issue 6): the baselines and a PUT with the default
settings each run while another process writes ``noise_size`` (1 GiB) of buffered data to the
same filesystem without syncing it. A store that synced with ``syncfs`` would have to flush that
too; target >= 0.9 of min(write+fsync, MD5) measured under the same noise.

Last, the cost of S3's additional checksums: the default PUT with each algorithm against
none, and each compiled implementation alone (GiB/s on one thread, and whether it lets another
Python thread run meanwhile, i.e. releases the GIL).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bench._core import GiB
from bench._load import noisy_writer
from bench._util import (
    Config,
    Context,
    Figure,
    alternate,
    baseline_md5,
    baseline_write_fsync,
    fresh_store,
    notes,
    put_file,
    say,
    store_supports,
    tree_size,
    verdict,
)

NAME = "put"
TARGET_MD5 = 0.9
TARGET_BLAKE3 = 0.8


def variants(ctx: Context) -> list[tuple[str, dict[str, str]]]:
    """(label, objstore.open options) for every ETag mode x chunking the store accepts."""
    probe = ctx.ws.path / "probe"
    etags = [m for m in ("md5", "blake3") if store_supports(probe, etag_mode=m)]
    chunkings = [c for c in ("cdc", "fixed") if store_supports(probe, chunking=c)]
    if not etags:
        say("etag_mode not supported: measuring the default (MD5) ETag only")
    if not chunkings:
        say("chunking option not supported: measuring the default chunking only")
    out: list[tuple[str, dict[str, str]]] = []
    for e in etags or [""]:
        for c in chunkings or [""]:
            opts = {k: v for k, v in (("etag_mode", e), ("chunking", c)) if v}
            label = f"{e or 'md5'}/{c or 'default'}"
            out.append((label, opts))
    return out


def footprint(cfg: Config) -> int:
    """Bytes kept on disk at the peak: per repetition 2 plain copies + 5 stores, and the noise."""
    return cfg.reps * 7 * cfg.size + cfg.noise_size


def run(ctx: Context) -> None:
    """Alternate the baselines and every store variant, then print one line per figure."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    vs = variants(ctx)
    md5_hex: list[str] = []
    etags: dict[str, tuple[str, Path]] = {}  # label -> (ETag, store dir) of repetition 0

    def write_fsync(rep: int) -> float:
        return baseline_write_fsync(src, work / f"plain-{rep}.bin")

    def md5(rep: int) -> float:
        seconds, digest = baseline_md5(src)
        md5_hex.append(digest)
        return seconds

    def subject(label: str, opts: dict[str, str]) -> tuple[str, Callable[[int], float]]:
        def one(rep: int) -> float:
            path = work / f"{label.replace('/', '-')}-{rep}"
            store = fresh_store(path, **opts)
            try:
                seconds, result = put_file(store, "large", src)
            finally:
                store.close()
            if rep == 0:
                etags[label] = (result.etag, path)
            return seconds

        return label, one

    subjects: list[tuple[str, Callable[[int], float]]] = [
        ("write+fsync", write_fsync),
        ("md5", md5),
    ]
    subjects += [subject(label, opts) for label, opts in vs]
    say(f"{cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    checks = {label: check_etag(label, *etags[label], md5_hex[0], cfg.size) for label in etags}

    rate = {name: s.mb_s() for name, s in runs.items()}
    wf, md = rate["write+fsync"][0], rate["md5"][0]
    bound = min(wf, md)
    for name in ("write+fsync", "md5"):
        med, best = rate[name]
        ctx.emit(
            Figure(f"put baseline {name}", med, "MB/s", best=best, note=runs[name].load_note())
        )
    for label, _opts in vs:
        med, best = rate[label]
        if label.startswith("blake3"):
            base_name, base, target = "write+fsync", wf, TARGET_BLAKE3
        else:
            base_name = "bound=min(write+fsync,md5)"
            base, target = bound, TARGET_MD5
        ctx.emit(
            Figure(
                f"put {label}",
                med,
                "MB/s",
                base_name,
                base,
                f">= {target:.2f}",
                verdict(med / base >= target),
                best=best,
                note=notes(runs[label].load_note(), checks.get(label, "")),
            )
        )
    labels = [label for label, _ in vs]
    for etag in ("md5", "blake3"):
        cdc, fixed = f"{etag}/cdc", f"{etag}/fixed"
        if cdc in labels and fixed in labels:
            ctx.emit(
                Figure(f"put {etag} fixed vs cdc", rate[fixed][0], "MB/s", "cdc", rate[cdc][0])
            )
    run_noisy(ctx, src, work, bound)
    run_checksums(ctx, src, work)
    ctx.ws.drop(work)


def run_noisy(ctx: Context, src: Path, work: Path, quiet_bound: float) -> None:
    """Baselines and the default PUT, each while another process writes ``cfg.noise_size``."""
    cfg = ctx.cfg

    def noisy(fn: Callable[[int], float]) -> Callable[[int], float]:
        def one(rep: int) -> float:
            with noisy_writer(work, cfg.noise_size):
                return fn(rep)

        return one

    def write_fsync(rep: int) -> float:
        return baseline_write_fsync(src, work / f"plain-noisy-{rep}.bin")

    def put_default(rep: int) -> float:
        store = fresh_store(work / f"default-noisy-{rep}")
        try:
            return put_file(store, "large", src)[0]
        finally:
            store.close()

    subjects = [
        ("write+fsync noisy", noisy(write_fsync)),
        ("md5 noisy", noisy(lambda _rep: baseline_md5(src)[0])),
        ("put default noisy", noisy(put_default)),
    ]
    say(
        f"noisy neighbour: another process writes {cfg.noise_size >> 20} MiB (buffered, no "
        f"fsync) during each of: {', '.join(n for n, _ in subjects)}"
    )
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    rate = {name: s.mb_s() for name, s in runs.items()}
    for name in ("write+fsync noisy", "md5 noisy"):
        ctx.emit(
            Figure(
                f"put baseline {name}",
                rate[name][0],
                "MB/s",
                best=rate[name][1],
                note=runs[name].load_note(),
            )
        )
    bound = min(rate["write+fsync noisy"][0], rate["md5 noisy"][0])
    med, best = rate["put default noisy"]
    ctx.emit(
        Figure(
            "put default, noisy neighbour",
            med,
            "MB/s",
            "bound=min(write+fsync,md5) noisy",
            bound,
            f">= {TARGET_MD5:.2f}",
            verdict(med / bound >= TARGET_MD5),
            best=best,
            note=notes(
                runs["put default noisy"].load_note(),
                f"{med / quiet_bound:.2f} of the quiet bound {quiet_bound:,.0f}",
            ),
        )
    )


def check_etag(label: str, etag: str, store_dir: Path, md5_hex: str, size: int) -> str:
    """A short note on the ETag (exact MD5 expected in md5 mode) and the bytes stored."""
    stored = tree_size(store_dir) / size
    note = f"stored {stored:.2f}x"
    if label.startswith("md5") and etag != f'"{md5_hex}"':
        say(f"WRONG ETAG for {label}: {etag} (expected MD5 {md5_hex})")
        note += ", WRONG ETAG"
    elif label.startswith("blake3") and len(etag.strip('"')) == 32:
        note += ", etag looks like MD5?"
    return note


# The algorithms of S3's additional checksums (objstore.checksums.ALGORITHMS).
CHECKSUMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def run_checksums(ctx: Context, src: Path, work: Path) -> None:
    """The cost of an S3 checksum on the default PUT: one per algorithm, against none.

    Ingest computes the checksum in a thread of its own over the same windows as MD5 and
    BLAKE3; the figure is the PUT's rate with it over the rate without, and the CPU each
    costs per GiB (the MB/s of a busy machine says less than the core-seconds).
    """
    cfg = ctx.cfg

    def put(algorithm: str | None) -> Callable[[int], float]:
        def one(rep: int) -> float:
            store = fresh_store(work / f"sum-{algorithm or 'none'}-{rep}")
            try:
                extra = {"checksum_algorithm": algorithm} if algorithm else {}
                seconds, result = put_file(store, "large", src, **extra)
            finally:
                store.close()
                ctx.ws.drop(work / f"sum-{algorithm or 'none'}-{rep}")  # keep the footprint
            if algorithm and set(result.checksums) != {algorithm}:
                raise RuntimeError(f"PUT with {algorithm} stored {result.checksums}")
            return seconds

        return one

    subjects = [("put no checksum", put(None))]
    subjects += [(f"put {alg}", put(alg)) for alg in CHECKSUMS]
    say(f"checksum cost: {cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    rate = {name: s.mb_s() for name, s in runs.items()}
    base = rate["put no checksum"][0]
    ctx.emit(
        Figure(
            "put no checksum",
            base,
            "MB/s",
            best=rate["put no checksum"][1],
            note=runs["put no checksum"].load_note(),
        )
    )
    for alg in CHECKSUMS:
        med, best = rate[f"put {alg}"]
        ctx.emit(
            Figure(
                f"put checksum {alg}",
                med,
                "MB/s",
                "no checksum",
                base,
                best=best,
                note=runs[f"put {alg}"].load_note(),
            )
        )
    run_algorithms(ctx)


def run_algorithms(ctx: Context) -> None:
    """Each compiled checksum alone over a 256 MiB buffer (best of 3 passes on one thread),
    and how fast a pure-Python thread counts meanwhile relative to alone (~1: the GIL is
    released, so the checksum's ingest thread never stalls the chunker)."""
    import hashlib
    import threading
    import zlib

    from awscrt import checksums as crt
    from isal import isal_zlib

    buf = os.urandom((16 if ctx.cfg.quick else 256) << 20)
    impls: list[tuple[str, Callable[[bytes], object]]] = [
        ("CRC32 isal (used)", isal_zlib.crc32),
        ("CRC32 zlib", zlib.crc32),
        ("CRC32 awscrt", crt.crc32),
        ("CRC32C awscrt (used)", crt.crc32c),
        ("CRC64NVME awscrt (used)", crt.crc64nvme),
        ("SHA1 hashlib (used)", lambda b: hashlib.sha1(b).digest()),
        ("SHA256 hashlib (used)", lambda b: hashlib.sha256(b).digest()),
    ]

    def spin_rate(work: Callable[[], object] | None, seconds: float = 0.3) -> float:
        count, stop = [0], [False]

        def spin() -> None:
            while not stop[0]:
                count[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        t0 = time.perf_counter()
        if work is None:
            time.sleep(seconds)
        else:
            work()
        elapsed = time.perf_counter() - t0
        stop[0] = True
        t.join()
        return count[0] / elapsed

    alone = spin_rate(None)
    for name, fn in impls:
        best = min(_timed(fn, buf) for _ in range(3))
        beside = spin_rate(lambda fn=fn: _repeat(fn, buf, 0.3)) / alone
        ctx.emit(
            Figure(
                f"checksum {name}",
                len(buf) / best / GiB,
                "GiB/s",
                note=f"a Python thread ran at {beside:.2f} of its speed alone meanwhile",
            )
        )


def _timed(fn: Callable[[bytes], object], buf: bytes) -> float:
    t0 = time.perf_counter()
    fn(buf)
    return time.perf_counter() - t0


def _repeat(fn: Callable[[bytes], object], buf: bytes, seconds: float) -> None:
    """Call ``fn(buf)`` again and again for ``seconds`` (long enough to see a thread beside it)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn(buf)
