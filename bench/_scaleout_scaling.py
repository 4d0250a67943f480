"""Section (d) of the scale-out benchmark (bench/bench_scaleout.py): objstore on PG + RGW
against the number of concurrent chunk transfers, and against the number of node processes
sharing the two backends.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._clients import Load
from bench._scaleout_env import Backends, open_distributed, run_callers, size_label, small_calls
from bench._util import BUCKET, Context, Figure, MiB, alternate, make_source_file, notes, put_file

CONCURRENCY = (1, 4, 16, 64)
NODES = (1, 2, 4)
NODE_THREADS = 8


def run_concurrency(
    ctx: Context, work: Path, b: Backends, key: bytes, rows: list[tuple[str, str, str, str]]
) -> None:
    """PUT then GET MB/s of objstore on PG + RGW against the chunk store's ``concurrency``
    (the chunk transfers in flight), alternated repetitions as for the other figures."""
    cfg = ctx.cfg
    size = min(cfg.size, 256 * MiB)
    # A file per repetition and a store per setting (database and prefix): neither a
    # repeated body nor chunks already in a shared database would be transferred again.
    sources = [
        make_source_file(work / f"concurrency-{rep}.bin", size, seed=f"conc-{rep}".encode())
        for rep in range(cfg.reps)
    ]
    stores = {
        n: open_distributed(b, b.new_database(), f"conc{n}", key, concurrency=n)
        for n in CONCURRENCY
    }
    try:

        def put(n: int) -> Callable[[int], float]:
            return lambda rep: put_file(stores[n], f"c{rep}", sources[rep])[0]

        def get(n: int) -> Callable[[int], float]:
            def one(rep: int) -> float:
                t0 = time.perf_counter()
                with stores[n].root.get_object(BUCKET, f"c{rep}") as body:
                    got = sum(len(piece) for piece in body)
                seconds = time.perf_counter() - t0
                if got != size:
                    raise RuntimeError(f"concurrency {n}: GET returned {got} of {size} bytes")
                return seconds

            return one

        rates: dict[str, dict[int, tuple[float, float]]] = {}
        for op, fn in (("put", put), ("get", get)):
            subjects = [(f"{op} x{n}", fn(n)) for n in CONCURRENCY]
            runs = alternate(cfg.reps, size, subjects, before=ctx.settle)
            rates[op] = {n: runs[f"{op} x{n}"].mb_s() for n in CONCURRENCY}
            for n in CONCURRENCY:
                med, best = rates[op][n]
                ctx.emit(
                    Figure(
                        f"scaleout concurrency {n} {op}",
                        med,
                        "MB/s",
                        best=best,
                        note=notes(f"{size // MiB} MiB", runs[f"{op} x{n}"].load_note()),
                    )
                )
        for n in CONCURRENCY:
            rows.append(
                (
                    f"chunk transfers x{n}",
                    f"put {rates['put'][n][0]:,.0f} get {rates['get'][n][0]:,.0f} MB/s",
                    "",
                    "INFO",
                )
            )
    finally:
        for store in stores.values():
            store.close()
        for src in sources:
            src.unlink(missing_ok=True)


def _node(
    dsn: str,
    chunks: str,
    key: str,
    env: dict[str, str],
    tag: str,
    seconds: float,
    large: int,
    conn: Any,
) -> None:
    """One node process: open the shared store; on "go", 4 KiB PUTs from threads for
    ``seconds``; on the next "go", one PUT of ``large`` bytes of its own (start, end sent)."""
    try:
        os.environ.update(env)
        import objstore

        store = objstore.open(metadata=dsn, chunks=chunks, secret_key=base64.b64decode(key))
        with store:
            calls = small_calls(store, "put", tag)
            calls(0, -1)  # connect and warm outside the window
            data = os.urandom(large)  # distinct bytes per node: nothing deduplicates
            conn.send("ready")
            conn.recv()
            conn.send(run_callers(calls, NODE_THREADS, seconds))
            conn.recv()
            t0 = time.monotonic()  # CLOCK_MONOTONIC: one clock for all processes
            store.root.put_object(BUCKET, f"large/{tag}", data)
            conn.send((t0, time.monotonic()))
    except BaseException as exc:
        conn.send(exc)
        raise


def _receive(pipes: list[Any]) -> list[Any]:
    out = [conn.recv() for conn in pipes]
    for msg in out:
        if isinstance(msg, BaseException):
            raise msg
    return out


def run_nodes(ctx: Context, b: Backends, key: bytes, rows: list[tuple[str, str, str, str]]) -> None:
    """1, 2, 4 node processes on the same PG database and bucket: 4 KiB PUT req/s (all
    nodes' threads at once), then one large PUT per node at once (MB/s over all of them)."""
    seconds = 1.0 if ctx.cfg.quick else 4.0
    large = min(ctx.cfg.size, 128 * MiB)
    dsn = b.new_database()
    open_distributed(b, dsn, "nodes", key).close()  # schema and bucket, once
    chunks = b.chunks_url("nodes")
    mp = multiprocessing.get_context("spawn")
    base_small = base_large = 0.0
    for n in NODES:
        pipes, children = [], []
        for p in range(n):
            mine, theirs = mp.Pipe()
            args = (dsn, chunks, base64.b64encode(key).decode(), b.env(), f"n{n}-{p}")
            child = mp.Process(target=_node, args=(*args, seconds, large, theirs))
            child.start()
            pipes.append(mine)
            children.append(child)
        try:
            _receive(pipes)
            ctx.settle()
            for conn in pipes:
                conn.send("go")
            loads: list[Load] = _receive(pipes)
            ctx.settle()
            for conn in pipes:
                conn.send("go")
            spans: list[tuple[float, float]] = _receive(pipes)
        finally:
            for child in children:
                child.join(60)
                if child.is_alive():
                    child.kill()
        rate = sum(x.rate for x in loads)
        mb_s = n * large / (max(e for _, e in spans) - min(s for s, _ in spans)) / 1e6
        base_small, base_large = base_small or rate, base_large or mb_s
        p99 = max(x.p(99) for x in loads)
        ctx.emit(
            Figure(
                f"scaleout nodes {n} put 4KiB",
                rate,
                "req/s",
                "1 node",
                base_small,
                note=f"{n} x {NODE_THREADS} threads; worst p99 {p99 * 1e3:.1f} ms",
            )
        )
        ctx.emit(
            Figure(
                f"scaleout nodes {n} put {size_label(large)} each",
                mb_s,
                "MB/s",
                "1 node",
                base_large,
                note=f"{n} PUTs at once, MB/s over all",
            )
        )
        rows.append(
            (
                f"{n} node(s) PUT 4KiB / {size_label(large)}",
                f"{rate:,.0f}/s {mb_s:,.0f} MB/s",
                "",
                "INFO",
            )
        )
