"""Benchmark: garbage collection, chunk records examined per second.

A store of 1,000,000 chunk references is built directly in the metadata (1,000 bodies of 1,000
manifest entries, each naming its own chunk record), not by uploading 4 TB; the chunk files do
not exist (a pass over live data reads no file). Two passes are timed:

- *sweep*: every chunk referenced, nothing to free (the steady state of a store with no garbage):
  the rate is what one pass costs per chunk record.
- *collect*: 10 % of the bodies deleted first, so the pass drops 100 bodies and dooms, unlinks and
  marks done 100,000 chunks (their files are absent, so the unlinks cost little).

Baseline: a bare ordered walk of the same chunk records in one read transaction (the floor of
any scan). The orphan walk over chunk files is not part of it (``orphans=False``: there are none).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench._util import Config, Context, Figure, say

NAME = "gc"
BODIES = 1000
PER_BODY = 1000


def footprint(cfg: Config) -> int:
    """Metadata only: about 150 bytes per chunk reference."""
    bodies, per_body = _shape(cfg)
    return 150 * bodies * per_body


def _shape(cfg: Config) -> tuple[int, int]:
    return (BODIES, PER_BODY) if not cfg.quick else (20, 1000)


def build(store: Any, bodies: int, per_body: int) -> list[bytes]:
    """Write ``bodies`` live bodies of ``per_body`` single-reference chunks; their data ids."""
    from objstore import keyspace
    from objstore.blob.records import (
        DATA_REC,
        LEN,
        STAT_CHUNKS,
        STAT_STORED,
        STATE_LIVE,
        ChunkRec,
        mkey,
    )
    from objstore.meta import counters

    ids = []
    chunk = 4 << 20
    for _ in range(bodies):
        did = os.urandom(16)
        ids.append(did)
        with store.blobs.meta.begin_write() as txn:
            rows = []
            for i in range(per_body):
                cid = os.urandom(32)
                rows.append((mkey(did, i * chunk), cid + LEN.pack(chunk)))
                rows.append((keyspace.CHUNKREF + cid, ChunkRec(1, chunk, 0, 0).encode()))
            txn.put_many(sorted(rows))
            txn.put(keyspace.DATA + did, DATA_REC.pack(1, per_body * chunk, STATE_LIVE))
            counters.add(txn, STAT_CHUNKS, per_body)
            counters.add(txn, STAT_STORED, per_body * chunk)
    return ids


def bare_walk(store: Any) -> float:
    """Seconds for one ordered walk of every chunk record (decoded) in a read transaction."""
    from objstore import keyspace
    from objstore.blob.records import ChunkRec
    from objstore.meta.scan import scan_prefix

    t0 = time.perf_counter()
    with store.blobs.meta.begin() as txn:
        for _, value in scan_prefix(txn, keyspace.CHUNKREF):
            ChunkRec.decode(value)
    return time.perf_counter() - t0


def run(ctx: Context) -> None:
    import objstore
    from objstore import keyspace
    from objstore.blob.records import DATA_REC, DEAD_REC, STATE_DEAD, current_gen

    bodies, per_body = _shape(ctx.cfg)
    n = bodies * per_body
    path: Path = ctx.ws.sub("gc")
    with objstore.open(path, gc_interval=None) as store:
        t0 = time.perf_counter()
        ids = build(store, bodies, per_body)
        say(f"built {n:,} chunk references in {time.perf_counter() - t0:,.1f} s")
        ctx.settle()
        walk = bare_walk(store)
        ctx.settle()
        t0 = time.perf_counter()
        r = store.gc(orphans=False)
        sweep = time.perf_counter() - t0
        assert r.chunks_examined == n and r.chunks_deleted == 0, r
        ctx.emit(
            Figure(
                "gc sweep chunks examined/s",
                n / sweep,
                "chk/s",
                baseline_name="bare record walk",
                baseline_value=n / walk,
                note=f"{n:,} chunk references, nothing to free, {sweep:.2f} s per pass",
            )
        )
        dead = ids[: max(1, bodies // 10)]
        with store.blobs.meta.begin_write() as txn:  # as deletes leave them: bodies marked dead
            gen = current_gen(txn)
            for did in dead:
                _, size, _ = DATA_REC.unpack(txn.get(keyspace.DATA + did))
                txn.put(keyspace.DATA + did, DATA_REC.pack(0, size, STATE_DEAD))
                txn.put(keyspace.DEAD + did, DEAD_REC.pack(gen))
        ctx.settle()
        t0 = time.perf_counter()
        r = store.gc(orphans=False)
        took = time.perf_counter() - t0
        assert r.bodies_dropped == len(dead) and r.chunks_deleted == len(dead) * per_body, r
        ctx.emit(
            Figure(
                "gc collect chunks examined/s",
                r.chunks_examined / took,
                "chk/s",
                note=(
                    f"{r.bodies_dropped} bodies dropped, {r.chunks_deleted:,} chunks freed "
                    f"({r.chunks_deleted / took:,.0f}/s), {took:.2f} s"
                ),
            )
        )
    ctx.ws.drop(path)
