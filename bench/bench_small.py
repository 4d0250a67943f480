"""Benchmark 7: small (4 KiB) objects, durable PUT/s and GET/s from 1 and 4 threads.

Every PUT returns after its durable commit (the store's default), so PUT/s is bounded by how
many durable LMDB commits the machine does per second unless commits are shared (group commit,
issue 6 section 5). Targets: >= 2,000 PUT/s with 4 threads, >= 20,000 GET/s.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench._util import BUCKET, Config, Context, Figure, fresh_store, say, verdict

NAME = "small"
SIZE = 4096
TARGET_PUT_4 = 2_000.0
TARGET_GET = 20_000.0


def footprint(cfg: Config) -> int:
    """A few thousand 4 KiB objects."""
    return 256 << 20


def _run_threads(threads: int, seconds: float, op: Any) -> tuple[list[int], float]:
    """Run ``op(thread, i)`` in ``threads`` threads for ``seconds``; (ops per thread, elapsed)."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        start.wait()
        i = 0
        try:
            while time.perf_counter() < stop:
                op(t, i)
                i += 1
        except BaseException as exc:  # reported below: a failed op must not look fast
            errors.append(exc)
        counts[t] = i

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return counts, elapsed


def run(ctx: Context) -> None:
    """PUT for a few seconds with 1 then 4 threads, then GET the objects back likewise."""
    seconds = 0.5 if ctx.cfg.quick else 4.0
    work = ctx.ws.sub(NAME)
    store = fresh_store(work / "store")
    payload = os.urandom(SIZE)
    try:
        root = store.root
        written: dict[int, list[int]] = {}
        for threads in (1, 4):
            ctx.settle()

            def put(t: int, i: int, threads: int = threads) -> None:
                root.put_object(BUCKET, f"p{threads}/{t}/{i}", payload)

            counts, elapsed = _run_threads(threads, seconds, put)
            written[threads] = counts
            n = sum(counts)
            rate = n / elapsed
            target = TARGET_PUT_4 if threads == 4 else 0.0
            ctx.emit(
                Figure(
                    f"small put 4KiB {threads} thread{'s' if threads > 1 else ''}",
                    rate,
                    "op/s",
                    target=f">= {target:,.0f} op/s" if target else "",
                    status=verdict(rate >= target) if target else "INFO",
                    note=f"{n:,} durable PUTs in {elapsed:.1f} s",
                )
            )
        per_thread = written[4]  # keys p4/t/0 .. p4/t/(per_thread[t] - 1) exist
        for threads in (1, 4):
            ctx.settle()

            def get(t: int, i: int) -> None:
                key = f"p4/{t}/{i % per_thread[t]}"
                with root.get_object(BUCKET, key) as body:
                    if len(body.read()) != SIZE:
                        raise RuntimeError(f"GET {key} returned a short body")

            counts, elapsed = _run_threads(threads, seconds, get)
            n = sum(counts)
            rate = n / elapsed
            ctx.emit(
                Figure(
                    f"small get 4KiB {threads} thread{'s' if threads > 1 else ''}",
                    rate,
                    "op/s",
                    target=f">= {TARGET_GET:,.0f} op/s",
                    status=verdict(rate >= TARGET_GET),
                    note=f"{n:,} GETs in {elapsed:.1f} s",
                )
            )
    finally:
        store.close()
    say("small objects: group commit (issue 6 section 5) is what lifts PUT/s with threads")
    ctx.ws.drop(work)
