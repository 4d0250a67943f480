"""Benchmark (issue 9): objstore scaled out on PostgreSQL + Ceph RGW, beside RGW alone and
the local default, in the same run.

(a) Large: the 1 GiB source file PUT and GET. RGW alone: boto3's TransferManager at its
defaults (``upload_file``: 8 MiB parts, 10 threads; ``download_file``: ranged 8 MiB GETs)
straight to radosgw. objstore: the embedded API streams the file into ``put_object`` and
``get_object`` into a file, on PG + RGW (target >= 0.8 x RGW) and on the local default
(LMDB + chunk files, for reference).

(b) Small: 4 KiB PUT and GET requests/s and p99 latency from 16 concurrent callers: 16 boto3
clients (threads) straight to RGW, 16 threads calling the embedded API of one store.

(c) Listing 100,000 keys under a prefix (pages of 1,000) on PG and on LMDB.

(d) Scaling of objstore on PG + RGW: large PUT/GET MB/s with 1, 4, 16, 64 concurrent chunk
transfers (the ``concurrency`` of the S3 chunk store), and 4 KiB PUT req/s from 1, 2, 4 node
processes (each its own ``objstore.open`` of the same two URLs, 8 threads each).

The services come from :mod:`objstore.testing.services` (started, or reused: set
``OBJSTORE_SERVICES`` to share a running instance). Without them every figure is SKIP; without
the PG/S3 backends in this checkout (objstore.backends.postgres / .s3) the objstore-on-PG+RGW
figures are SKIP and RGW's and the local default's are still measured. radosgw and the OSD are
separate processes on the same two cores: each figure's note gives the CPU they spent.
"""

from __future__ import annotations

import contextlib
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import bench_list
from bench._clients import Load, run_clients
from bench._clients import populate as populate_s3
from bench._scaleout_env import (
    GET_KEYS,
    S3_CONFIG,
    Backends,
    ServerCpu,
    backends,
    distributed_available,
    empty_bucket,
    open_distributed,
    prepare_gets,
    run_callers,
    size_label,
    small_calls,
)
from bench._scaleout_scaling import CONCURRENCY, NODE_THREADS, NODES, run_concurrency, run_nodes
from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
    GiB,
    MiB,
    alternate,
    blake3_file,
    fresh_store,
    make_source_file,
    notes,
    put_file,
    say,
    verdict,
)

# Re-exported: the smoke test and docs/scale-out.md reach these through this module.
__all__ = [
    "CONCURRENCY",
    "GET_KEYS",
    "GiB",
    "MiB",
    "NODES",
    "NODE_THREADS",
    "S3_CONFIG",
    "Backends",
    "ServerCpu",
    "backends",
    "distributed_available",
    "empty_bucket",
    "footprint",
    "open_distributed",
    "prepare_gets",
    "put_file",
    "run",
    "run_callers",
    "size_label",
    "small_calls",
]

NAME = "scaleout"
TARGET_X_RGW = 0.8
CALLERS = 16
LIST_KEYS = 100_000


def footprint(cfg: Config) -> int:
    """Local: the local store's copy and one download per repetition (RGW's data is elsewhere)."""
    return cfg.reps * 2 * cfg.size + 512 * MiB


# ---- the run -------------------------------------------------------------------------------


def run(ctx: Context) -> None:
    """(a) to (d) of the module docstring; a summary table at the end."""
    rows: list[tuple[str, str, str, str]] = []
    with contextlib.ExitStack() as stack:
        try:
            b = stack.enter_context(backends())
        except Exception as exc:  # no services: the figure says why
            say(f"services unavailable: {exc}")
            ctx.emit(Figure("scaleout", 0.0, "", status="SKIP", note=f"no services: {exc}"))
            return
        missing = distributed_available()
        if missing:
            say(f"objstore on PG + RGW not measured: {missing} not in this checkout")
        work = ctx.ws.sub(NAME)
        stack.callback(ctx.ws.drop, work)
        stack.callback(summary, rows)
        key = secrets.token_bytes(32)
        say(f"rgw {b.rgw.url} (radosgw + osd pids {b.server_pids}), bucket {b.bucket}")
        run_large(ctx, work, b, key, not missing, rows)
        run_small(ctx, work, b, key, not missing, rows)
        run_list(ctx, work, b, key, not missing, rows)
        if not missing:
            run_concurrency(ctx, work, b, key, rows)
            run_nodes(ctx, b, key, rows)


def summary(rows: list[tuple[str, str, str, str]]) -> None:
    print(f"{'scaleout summary':<40}{'measured':>24}  {'target':<10}verdict")
    for what, value, target, status in rows:
        print(f"  {what:<38}{value:>24}  {target:<10}{status}")


def run_large(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """1 GiB PUT then GET: RGW alone, objstore on PG + RGW, objstore local."""
    cfg = ctx.cfg
    # A new file per repetition: a store's second PUT of the same bytes would be dedup (no
    # chunk transferred), not the transfer measured here.
    sources = [ctx.source()]
    for rep in range(1, cfg.reps):
        ctx.settle()
        say(f"writing source file {rep + 1} of {cfg.reps}")
        sources.append(
            make_source_file(work / f"source-{rep}.bin", cfg.size, seed=f"scaleout-{rep}".encode())
        )
    digest = blake3_file(sources[0])
    s3 = b.s3()
    cpu = ServerCpu(b.server_pids)
    server: dict[str, list[float]] = {}
    stores: dict[str, Any] = {"local": fresh_store(work / "local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "large", key)

        def charged(name: str, fn: Callable[[int], float]) -> Callable[[int], float]:
            def one(rep: int) -> float:
                before = cpu.now()
                seconds = fn(rep)
                server.setdefault(name, []).append(cpu.now() - before)
                return seconds

            return one

        def put_rgw(rep: int) -> float:
            t0 = time.perf_counter()
            s3.upload_file(str(sources[rep]), b.bucket, f"baseline/large-{rep}")
            return time.perf_counter() - t0

        def get_rgw(rep: int) -> float:
            dst = work / "download.bin"
            try:
                t0 = time.perf_counter()
                s3.download_file(b.bucket, f"baseline/large-{rep}", str(dst))
                seconds = time.perf_counter() - t0
                if rep == 0 and blake3_file(dst) != digest:
                    raise RuntimeError("rgw: the downloaded object differs from the source")
            finally:
                dst.unlink(missing_ok=True)
            return seconds

        def put_store(name: str) -> Callable[[int], float]:
            return lambda rep: put_file(stores[name], f"large-{rep}", sources[rep])[0]

        def get_store(name: str) -> Callable[[int], float]:
            def one(rep: int) -> float:
                dst = work / "download.bin"
                try:
                    with open(dst, "wb") as f:
                        t0 = time.perf_counter()
                        with stores[name].root.get_object(BUCKET, f"large-{rep}") as body:
                            for piece in body:
                                f.write(piece)
                        seconds = time.perf_counter() - t0
                    if rep == 0 and blake3_file(dst) != digest:
                        raise RuntimeError(f"{name}: the downloaded object differs")
                finally:
                    dst.unlink(missing_ok=True)
                return seconds

            return one

        for op, rgw_fn, store_fn in (("put", put_rgw, put_store), ("get", get_rgw, get_store)):
            subjects = [(f"{op} rgw", charged(f"{op} rgw", rgw_fn))]
            subjects += [
                (f"{op} {name}", charged(f"{op} {name}", store_fn(name))) for name in stores
            ]
            say(f"{cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
            runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
            large_figures(ctx, op, runs, server, rows)
    finally:
        for store in stores.values():
            store.close()
        with contextlib.suppress(Exception):
            empty_bucket(s3, b.bucket, "baseline/")


def server_note(server: dict[str, list[float]], name: str, per: float, unit: str) -> str:
    if not server.get(name):
        return ""
    return f"rgw+osd {statistics.median(server[name]) / per:.2f} core-s/{unit}"


def large_figures(
    ctx: Context,
    op: str,
    runs: dict[str, Any],
    server: dict[str, list[float]],
    rows: list[tuple[str, str, str, str]],
) -> None:
    gib = ctx.cfg.size / 2**30
    label = size_label(ctx.cfg.size)
    rate = {name: s.mb_s() for name, s in runs.items()}

    def note(name: str) -> str:
        return notes(runs[name].load_note(), server_note(server, name, gib, "GiB"))

    base = rate[f"{op} rgw"][0]
    for name in runs:
        subject = name.split(" ", 1)[1]
        if subject == "pg+rgw":
            continue
        ctx.emit(
            Figure(
                f"scaleout {op} {label} {subject}",
                rate[name][0],
                "MB/s",
                best=rate[name][1],
                note=note(name),
            )
        )
        rows.append((f"{op} {label} {subject}", f"{rate[name][0]:,.0f} MB/s", "", "INFO"))
    name = f"{op} pg+rgw"
    if name not in rate:
        ctx.emit(
            Figure(
                f"scaleout {op} {label} pg+rgw vs rgw",
                0.0,
                "",
                status="SKIP",
                note="no PG/S3 backends in this checkout",
            )
        )
        rows.append((f"{op} {label} pg+rgw / rgw", "-", f">= {TARGET_X_RGW}", "SKIP"))
        return
    med, best = rate[name]
    status = verdict(med >= TARGET_X_RGW * base)
    ctx.emit(
        Figure(
            f"scaleout {op} {label} pg+rgw vs rgw",
            med,
            "MB/s",
            "rgw",
            base,
            f">= {TARGET_X_RGW} x rgw",
            status,
            best=best,
            note=note(name),
        )
    )
    rows.append(
        (
            f"{op} {label} pg+rgw / rgw",
            f"{med:,.0f}/{base:,.0f} = {med / base:.2f}",
            f">= {TARGET_X_RGW}",
            status,
        )
    )


def run_small(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """4 KiB PUT and GET from 16 callers: RGW (boto3 clients), objstore on PG + RGW, local."""
    cfg = ctx.cfg
    seconds = 1.0 if cfg.quick else 4.0
    run_id = secrets.token_hex(3)
    cpu = ServerCpu(b.server_pids)
    stores: dict[str, Any] = {"local": fresh_store(work / "small-local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "small", key)
        # The baseline's clients use the bucket "bench" of bench/_clients.py.
        populate_s3(b.rgw)
        for store in stores.values():
            prepare_gets(store)
        names = ["rgw", *stores]
        loads: dict[tuple[str, str], list[Load]] = {}
        server: dict[tuple[str, str], list[float]] = {}
        for op in ("put", "get"):
            for rep in range(cfg.reps):
                for j in range(len(names)):
                    name = names[(rep + j) % len(names)]
                    ctx.settle()
                    before = cpu.now()
                    tag = f"{run_id}-r{rep}"
                    if name == "rgw":
                        load = run_clients(b.rgw, op, 1, CALLERS, seconds, tag)
                    else:
                        load = run_callers(small_calls(stores[name], op, tag), CALLERS, seconds)
                    loads.setdefault((op, name), []).append(load)
                    server.setdefault((op, name), []).append(cpu.now() - before)
            for name in names:
                say(
                    f"{op} 4KiB {name}: "
                    + " ".join(f"{x.rate:,.0f}" for x in loads[(op, name)])
                    + " req/s"
                )
        small_figures(ctx, loads, server, names, rows)
    finally:
        for store in stores.values():
            store.close()
        with contextlib.suppress(Exception):
            empty_bucket(b.s3(), "bench", f"small/{run_id}")


def small_figures(
    ctx: Context,
    loads: dict[tuple[str, str], list[Load]],
    server: dict[tuple[str, str], list[float]],
    names: list[str],
    rows: list[tuple[str, str, str, str]],
) -> None:
    def median(key: tuple[str, str]) -> Load:
        ordered = sorted(loads[key], key=lambda x: x.rate)
        return ordered[len(ordered) // 2]

    for op in ("put", "get"):
        for name in names:
            load = median((op, name))
            per = max(load.requests, 1) / 1000
            ctx.emit(
                Figure(
                    f"scaleout {op} 4KiB x{CALLERS} {name}",
                    load.rate,
                    "req/s",
                    note=(
                        f"p50 {load.p(50) * 1e3:.1f} ms, p99 {load.p(99) * 1e3:.1f} ms; cpu "
                        f"{load.client_cpu / per:.2f} caller, "
                        f"{statistics.median(server[(op, name)]) / per:.2f} rgw+osd core-s/1000 req"
                    ),
                )
            )
            rows.append(
                (
                    f"{op} 4KiB x{CALLERS} {name}",
                    f"{load.rate:,.0f}/s p99 {load.p(99) * 1e3:.0f} ms",
                    "",
                    "INFO",
                )
            )


def run_list(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """Listing LIST_KEYS zero-byte objects (metadata only) on LMDB and on PostgreSQL."""
    cfg = ctx.cfg
    n = min(LIST_KEYS, cfg.list_keys)
    stores: dict[str, Any] = {"local": fresh_store(work / "list-local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "list", key)
        counts: dict[str, int] = {}
        for name, store in stores.items():
            ctx.settle()
            got, rate, method = bench_list.populate(store, n, cfg.list_budget_s)
            counts[name] = got
            say(f"list {name}: populated {got:,} keys at {rate:,.0f}/s ({method})")
        subjects = [
            (f"list {name}", lambda _r, s=store, c=counts[name]: bench_list.list_all(s, c))
            for name, store in stores.items()
        ]
        runs = alternate(max(cfg.reps, 3), n, subjects, before=ctx.settle)
        for name in stores:
            s = runs[f"list {name}"]
            rate = counts[name] / statistics.median(s.seconds)
            ctx.emit(
                Figure(
                    f"scaleout list {n:,} keys {name}",
                    rate,
                    "keys/s",
                    best=counts[name] / min(s.seconds),
                    note=notes(f"{counts[name]:,} keys", s.load_note(1e6, "M keys")),
                )
            )
            rows.append((f"list {name}", f"{rate:,.0f} keys/s", "", "INFO"))
    finally:
        for store in stores.values():
            store.close()
