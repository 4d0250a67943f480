"""Benchmark 5: listing many keys under a prefix, page by page (max_keys=1000).

Target >= 200,000 keys/s. The baseline is a raw LMDB cursor scan over the same key bytes (with
values of about an object record's size): the floor any LMDB-backed listing can reach.

Populating is the slow part: every ``put_object`` is a durable commit (~1 ms here), so zero-byte
objects go in through the store's batch extension ``put_objects`` (one commit per 10,000), or,
without it, through ``put_object`` from a few threads. When the measured rate cannot reach
``cfg.list_keys`` within ``cfg.list_budget_s``, the key count is reduced and the line says so.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
    alternate,
    baseline_lmdb_scan,
    fresh_store,
    lmdb_fill,
    notes,
    say,
    verdict,
)

NAME = "list"
TARGET = 200_000.0
PREFIX = "list/"
RECORD_BYTES = 100  # the raw-scan baseline's value size, about one object record
THREADS = 4
BATCH = 2_000  # keys per progress check with put_object
BULK_BATCH = 10_000  # keys per put_objects call (the store's maximum)


def footprint(cfg: Config) -> int:
    """Metadata only: a generous 1 KiB per key in the store and the baseline together."""
    return cfg.list_keys * 1024


def key(i: int) -> str:
    """The i-th key under the prefix (fixed width, so numeric and byte order agree)."""
    return f"{PREFIX}{i:09d}"


def populate(store: Any, n: int, budget_s: float) -> tuple[int, float, str]:
    """Put up to ``n`` zero-byte objects under PREFIX; return (keys written, keys/s, method).

    Uses the store's batch path (``put_objects``: one durable commit per batch) when it has
    one, else ``put_object`` from a few threads. Stops early when the rate measured on the
    first batch says ``n`` would not fit in ``budget_s``. Also puts a few keys before and after
    the prefix, so the listing has to seek to it and stop at its end.
    """
    root = store.root
    bulk = getattr(root, "put_objects", None)
    batch_size = BULK_BATCH if bulk is not None else BATCH
    for side in ("a-before", "z-after"):
        for i in range(100):
            root.put_object(BUCKET, f"{side}/{i:04d}", b"")

    def write(batch: range) -> None:
        if bulk is not None:
            bulk(BUCKET, [(key(i), b"") for i in batch])
        else:
            list(pool.map(lambda i: root.put_object(BUCKET, key(i), b""), batch))

    method = (
        f"put_objects x{BULK_BATCH:,}" if bulk is not None else f"put_object, {THREADS} threads"
    )
    done = 0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        while done < n:
            batch = range(done, min(n, done + batch_size))
            write(batch)
            done = batch.stop
            elapsed = time.perf_counter() - t0
            rate = done / elapsed
            if done == batch_size and n / rate > budget_s:
                # Decide once, early, how many keys fit: the put rate barely drifts.
                n = max(done, int(rate * budget_s) // batch_size * batch_size)
                say(f"populating at {rate:,.0f} keys/s: {n:,} keys fit in {budget_s:.0f} s")
            elif elapsed > 1.5 * budget_s:
                say(f"populate over budget at {done:,} keys ({rate:,.0f} keys/s): stopping")
                break
    return done, done / (time.perf_counter() - t0), method


def list_all(store: Any, expected: int) -> float:
    """List every key under PREFIX through continuation tokens; return the seconds taken."""
    root = store.root
    token = None
    seen = 0
    t0 = time.perf_counter()
    while True:
        page = root.list_objects(BUCKET, prefix=PREFIX, max_keys=1000, continuation_token=token)
        seen += len(page.contents)
        if not page.is_truncated:
            break
        token = page.next_continuation_token
    elapsed = time.perf_counter() - t0
    if seen != expected:
        raise RuntimeError(f"listing returned {seen} keys, expected {expected}")
    return elapsed


def run(ctx: Context) -> None:
    """Populate, then alternate the raw LMDB scan and the full paginated listing."""
    cfg = ctx.cfg
    work = ctx.ws.sub(NAME)
    store = fresh_store(work / "store")
    try:
        say(f"populating up to {cfg.list_keys:,} zero-byte objects")
        ctx.settle()
        n, put_rate, method = populate(store, cfg.list_keys, cfg.list_budget_s)
        raw = work / "raw-lmdb"
        raw.mkdir()
        lmdb_fill(raw, (key(i).encode() for i in range(n)), b"\x00" * RECORD_BYTES)

        def raw_scan(_rep: int) -> float:
            seconds, count = baseline_lmdb_scan(raw)
            if count != n:
                raise RuntimeError(f"raw scan saw {count} keys, expected {n}")
            return seconds

        runs = alternate(
            max(cfg.reps, 3),
            n,
            [("raw lmdb scan", raw_scan), ("list", lambda _r: list_all(store, n))],
            before=ctx.settle,
        )
    finally:
        store.close()
    base = runs["raw lmdb scan"].median_rate
    med, best = runs["list"].median_rate, runs["list"].best_rate
    scale = (
        "" if n >= cfg.list_keys else f"ONLY {n:,} of {cfg.list_keys:,} keys (populate too slow)"
    )
    ctx.emit(Figure("list populate", put_rate, "keys/s", note=f"{n:,} keys by {method}"))
    ctx.emit(
        Figure(
            "list baseline raw lmdb scan",
            base,
            "keys/s",
            best=runs["raw lmdb scan"].best_rate,
            note=runs["raw lmdb scan"].load_note(1e6, "M keys"),
        )
    )
    ctx.emit(
        Figure(
            "list keys under prefix",
            med,
            "keys/s",
            "raw lmdb scan",
            base,
            f">= {TARGET:,.0f} keys/s",
            verdict(med >= TARGET),
            best=best,
            note=notes(f"{n:,} keys", scale, runs["list"].load_note(1e6, "M keys")),
        )
    )
    ctx.ws.drop(work)
