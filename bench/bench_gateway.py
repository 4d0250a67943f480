"""Benchmark: the S3 gateway (``objstore serve``) through boto3, beside moto server and the
embedded API, in the same run.

(a) Large: a 1 GiB file PUT with boto3's TransferManager at its default settings
(``upload_file``: 8 MiB parts, 10 threads) and GET back (``download_file``: ranged 8 MiB
GETs, 10 threads) against ``objstore serve`` (default: one worker) and ``moto server``; the
embedded API streams the same file into ``put_object`` and ``get_object`` into a file.
Targets: gateway >= 0.6 x embedded, and >= 2 x moto server.

(b) Small: 4 KiB PUT and GET requests/s and p99 latency from 16 concurrent clients (one
boto3 client each) against ``objstore serve --workers 2`` and moto server, with the clients
as 16 threads of one process and as 4 processes x 4 threads (the client side's GIL): target
>= 3 x moto server, in the client layout that loads the servers most.

Servers run as child processes on free loopback ports (``bench/_servers.py``); clients,
servers and the rest of the machine share its two cores. Each figure's note gives the CPU
the client (``cpu``) and the server (``server``) spent per GiB or per request; ``others``
counts every process but this one, the server's included.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench._clients import Load, populate, run_clients
from bench._servers import Endpoint, moto, objstore_serve, serve_available
from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
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

NAME = "gateway"
TARGET_X_EMBEDDED = 0.6
TARGET_X_MOTO_LARGE = 2.0
TARGET_X_MOTO_SMALL = 3.0
SLOW_GET_S = 30.0  # a download slower than this is measured once, not every repetition
# Client layouts: 16 threads of one process, or 4 processes of 4 threads (client-side GIL).
LAYOUTS = {"16 thr": (1, 16), "4x4 thr": (4, 4)}


def footprint(cfg: Config) -> int:
    """Per repetition: a source file, the object in two stores, one download."""
    return cfg.reps * 4 * cfg.size + 512 * MiB


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class _ServerCpu:
    """CPU the servers spent, per subject name, summed over repetitions."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.cores: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def charge(self, name: str, endpoint: Endpoint) -> Iterator[None]:
        before, t0 = group_cpu(endpoint.pid), time.perf_counter()
        yield
        spent = group_cpu(endpoint.pid) - before
        self.seconds.setdefault(name, []).append(spent)
        self.cores.setdefault(name, []).append(spent / (time.perf_counter() - t0))

    def note(self, name: str, per: float, unit: str) -> str:
        """The server's CPU per ``unit`` (its cores are part of ``others``)."""
        if name not in self.seconds:
            return ""
        return (
            f"server {statistics.median(self.seconds[name]) / per:.2f} core-s/{unit} "
            f"({statistics.median(self.cores[name]):.1f} of the others' cores)"
        )


def run(ctx: Context) -> None:
    """Large PUT/GET, then small requests/s; one line per figure, then a summary table."""
    have_serve = serve_available()
    if not have_serve:
        say("`objstore serve` is not in this checkout: embedded and moto only, targets SKIP")
    work = ctx.ws.sub(NAME)
    rows: list[tuple[str, str, str, str]] = []
    try:
        run_large(ctx, work, have_serve, rows)
        run_small(ctx, work, have_serve, rows)
    finally:
        print(f"{'gateway summary':<34}{'measured':>16}  {'target':<22}verdict")
        for what, value, target, status in rows:
            print(f"  {what:<32}{value:>16}  {target:<22}{status}")
        ctx.ws.drop(work)


def run_large(
    ctx: Context, work: Path, have_serve: bool, rows: list[tuple[str, str, str, str]]
) -> None:
    """1 GiB upload_file/download_file vs the embedded API."""
    cfg = ctx.cfg
    sources = [ctx.source()]
    for rep in range(1, cfg.reps):  # a new file per repetition: no re-PUT deduplicates
        ctx.settle()
        say(f"writing source file {rep + 1} of {cfg.reps}")
        path = work / f"source-{rep}.bin"
        sources.append(make_source_file(path, cfg.size, seed=f"gateway-{rep}".encode()))
    digests = {rep: blake3_file(src) for rep, src in enumerate(sources[:1])}
    server_cpu = _ServerCpu()
    with contextlib.ExitStack() as stack:
        embedded = fresh_store(work / "embedded")
        stack.callback(embedded.close)
        endpoints: dict[str, Endpoint] = {"moto": stack.enter_context(moto())}
        if have_serve:
            fresh_store(work / "serve").close()
            endpoints["serve"] = stack.enter_context(objstore_serve(work / "serve", workers=1))
        clients = {name: ep.client() for name, ep in endpoints.items()}
        with contextlib.suppress(Exception):  # moto starts empty; the stores have it
            clients["moto"].create_bucket(Bucket=BUCKET)
        for name, ep in endpoints.items():
            say(f"{name}: {ep.url} (pid {ep.pid})")

        def put_embedded(rep: int) -> float:
            return put_file(embedded, f"large-{rep}", sources[rep])[0]

        def put_remote(name: str) -> Callable[[int], float]:
            def one(rep: int) -> float:
                with server_cpu.charge(f"put {name}", endpoints[name]):
                    t0 = time.perf_counter()
                    clients[name].upload_file(str(sources[rep]), BUCKET, f"large-{rep}")
                    return time.perf_counter() - t0

            return one

        def get_embedded(rep: int) -> float:
            dst = work / "download.bin"
            try:
                with open(dst, "wb") as f:
                    t0 = time.perf_counter()
                    with embedded.root.get_object(BUCKET, f"large-{rep}") as body:
                        for piece in body:
                            f.write(piece)
                    seconds = time.perf_counter() - t0
                _check(dst, rep, digests, "embedded")
            finally:
                dst.unlink(missing_ok=True)
            return seconds

        slow: dict[str, float] = {}

        def get_remote(name: str) -> Callable[[int], float]:
            def one(rep: int) -> float:
                if name in slow:
                    return slow[name]
                dst = work / "download.bin"
                try:
                    with server_cpu.charge(f"get {name}", endpoints[name]):
                        t0 = time.perf_counter()
                        clients[name].download_file(BUCKET, f"large-{rep}", str(dst))
                        seconds = time.perf_counter() - t0
                    _check(dst, rep, digests, name)
                finally:
                    dst.unlink(missing_ok=True)
                if seconds > SLOW_GET_S:
                    # moto reads the whole object for every ranged GET: 128 ranges of a
                    # 1 GiB object take minutes. Its first time stands for its repetitions.
                    say(f"get {name} took {seconds:.0f} s: not repeated (its time is reused)")
                    slow[name] = seconds
                return seconds

            return one

        for op, local, remote in (
            ("put", put_embedded, put_remote),
            ("get", get_embedded, get_remote),
        ):
            subjects: list[tuple[str, Callable[[int], float]]] = [(f"{op} embedded", local)]
            subjects += [(f"{op} {name}", remote(name)) for name in endpoints]
            say(f"{cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
            runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
            _large_figures(ctx, op, runs, server_cpu, rows)


def _check(dst: Path, rep: int, digests: dict[int, str], name: str) -> None:
    """The first repetition's download must be the source, byte for byte (untimed)."""
    if rep in digests and blake3_file(dst) != digests[rep]:
        raise RuntimeError(f"{name}: the downloaded object differs from the uploaded file")


def _large_figures(
    ctx: Context,
    op: str,
    runs: dict[str, Any],
    server_cpu: _ServerCpu,
    rows: list[tuple[str, str, str, str]],
) -> None:
    size = ctx.cfg.size
    rate = {name: s.mb_s() for name, s in runs.items()}
    emb = rate[f"{op} embedded"][0]
    moto_rate = rate[f"{op} moto"][0]
    ctx.emit(
        Figure(
            f"gateway {op} 1GiB embedded",
            emb,
            "MB/s",
            best=rate[f"{op} embedded"][1],
            note=runs[f"{op} embedded"].load_note(),
        )
    )
    ctx.emit(
        Figure(
            f"gateway {op} 1GiB moto",
            moto_rate,
            "MB/s",
            best=rate[f"{op} moto"][1],
            note=notes(
                runs[f"{op} moto"].load_note(), server_cpu.note(f"{op} moto", size / 2**30, "GiB")
            ),
        )
    )
    name = f"{op} serve"
    if name not in rate:
        for base in ("embedded", "moto"):
            ctx.emit(Figure(f"gateway {op} 1GiB vs {base}", 0.0, "", status="SKIP"))
        rows.append((f"{op} 1GiB serve", "-", "no objstore serve", "SKIP"))
        return
    med, best = rate[name]
    note = notes(runs[name].load_note(), server_cpu.note(name, size / 2**30, "GiB"))
    for base, value, target in (
        ("embedded", emb, TARGET_X_EMBEDDED),
        ("moto", moto_rate, TARGET_X_MOTO_LARGE),
    ):
        status = verdict(med / value >= target)
        ctx.emit(
            Figure(
                f"gateway {op} 1GiB vs {base}",
                med,
                "MB/s",
                base,
                value,
                f">= {target:.1f} x {base}",
                status,
                best=best,
                note=note,
            )
        )
        rows.append(
            (
                f"{op} 1GiB serve / {base}",
                f"{med:,.0f}/{value:,.0f} = {med / value:.2f}",
                f">= {target:.1f}",
                status,
            )
        )


def run_small(
    ctx: Context, work: Path, have_serve: bool, rows: list[tuple[str, str, str, str]]
) -> None:
    """4 KiB PUT and GET from 16 clients, per client layout, against serve and moto."""
    cfg = ctx.cfg
    seconds = 1.0 if cfg.quick else 4.0
    with contextlib.ExitStack() as stack:
        endpoints: dict[str, Endpoint] = {"moto": stack.enter_context(moto())}
        if have_serve:
            fresh_store(work / "serve-small").close()
            endpoints["serve"] = stack.enter_context(
                objstore_serve(work / "serve-small", workers=2)
            )
        for ep in endpoints.values():
            populate(ep)
            say(f"{ep.name}: {ep.url} (pid {ep.pid})")
        loads: dict[tuple[str, str, str], list[Load]] = {}
        server: dict[tuple[str, str, str], list[float]] = {}
        names = list(endpoints)
        for op in ("put", "get"):
            for layout, (procs, threads) in LAYOUTS.items():
                for rep in range(cfg.reps):
                    for j in range(len(names)):  # rotated, as alternate() does
                        name = names[(rep + j) % len(names)]
                        ep = endpoints[name]
                        ctx.settle()
                        before = group_cpu(ep.pid)
                        load = run_clients(ep, op, procs, threads, seconds, f"r{rep}")
                        key = (op, layout, name)
                        loads.setdefault(key, []).append(load)
                        server.setdefault(key, []).append(group_cpu(ep.pid) - before)
                for name in names:
                    key = (op, layout, name)
                    say(
                        f"{op} {layout} {name}: "
                        + " ".join(f"{x.rate:,.0f}" for x in loads[key])
                        + " req/s"
                    )
        _small_figures(ctx, loads, server, names, rows)


def _small_figures(
    ctx: Context,
    loads: dict[tuple[str, str, str], list[Load]],
    server: dict[tuple[str, str, str], list[float]],
    names: list[str],
    rows: list[tuple[str, str, str, str]],
) -> None:
    def median_load(key: tuple[str, str, str]) -> Load:
        ordered = sorted(loads[key], key=lambda x: x.rate)
        return ordered[len(ordered) // 2]

    for op in ("put", "get"):
        best_layout: dict[str, tuple[float, str]] = {}
        for layout in LAYOUTS:
            for name in names:
                load = median_load((op, layout, name))
                per = max(load.requests, 1) / 1000
                cpu = statistics.median(server[(op, layout, name)]) / per
                ctx.emit(
                    Figure(
                        f"gateway {op} 4KiB {name} {layout}",
                        load.rate,
                        "req/s",
                        note=(
                            f"p50 {load.p(50) * 1e3:.1f} ms, p99 {load.p(99) * 1e3:.1f} ms; "
                            f"cpu {load.client_cpu / per:.2f} client, {cpu:.2f} server "
                            "core-s/1000 req"
                        ),
                    )
                )
                if load.rate > best_layout.get(name, (0.0, ""))[0]:
                    best_layout[name] = (load.rate, layout)
        if "serve" not in best_layout:
            ctx.emit(Figure(f"gateway {op} 4KiB vs moto", 0.0, "", status="SKIP"))
            rows.append((f"{op} 4KiB serve / moto", "-", "no objstore serve", "SKIP"))
            continue
        layout = best_layout["serve"][1]
        mine, theirs = median_load((op, layout, "serve")), median_load((op, layout, "moto"))
        ok = mine.rate >= TARGET_X_MOTO_SMALL * theirs.rate
        ctx.emit(
            Figure(
                f"gateway {op} 4KiB vs moto",
                mine.rate,
                "req/s",
                "moto",
                theirs.rate,
                f">= {TARGET_X_MOTO_SMALL:.1f} x moto",
                verdict(ok),
                note=(
                    f"serve's best layout, {layout}; p99 {mine.p(99) * 1e3:.1f} ms "
                    f"vs moto {theirs.p(99) * 1e3:.1f} ms"
                ),
            )
        )
        rows.append(
            (
                f"{op} 4KiB req/s serve / moto",
                f"{mine.rate:,.0f}/{theirs.rate:,.0f} = {mine.rate / theirs.rate:.2f}",
                f">= {TARGET_X_MOTO_SMALL:.1f}",
                verdict(ok),
            )
        )
        rows.append(
            (
                f"{op} 4KiB p99 serve / moto",
                f"{mine.p(99) * 1e3:.1f}/{theirs.p(99) * 1e3:.1f} ms",
                "",
                "INFO",
            )
        )
