"""Benchmark 2: large GET with verification, against reading the plain file.

Both sides read from the page cache (the object was just written, the source file too), so the
ratio shows what chunk lookup, BLAKE3 verification and copying cost over a bare read.
Target >= 0.5. The store is read both by iterating the body and by ``read(n)`` in a loop.
"""

from __future__ import annotations

import time
from typing import Any

import blake3

from bench._util import (
    BUCKET,
    IO_PIECE,
    Config,
    Context,
    Figure,
    alternate,
    baseline_read,
    blake3_file,
    fresh_store,
    notes,
    put_file,
    say,
    verdict,
)

NAME = "get"
TARGET = 0.5


def footprint(cfg: Config) -> int:
    """One stored copy of the object."""
    return cfg.size


def _get_iter(store: Any, size: int) -> float:
    t0 = time.perf_counter()
    n = 0
    with store.root.get_object(BUCKET, "large") as body:
        for piece in body:
            n += len(piece)
    elapsed = time.perf_counter() - t0
    if n != size:
        raise RuntimeError(f"GET by iteration returned {n} bytes of {size}")
    return elapsed


def _get_read(store: Any, size: int) -> float:
    t0 = time.perf_counter()
    n = 0
    with store.root.get_object(BUCKET, "large") as body:
        while piece := body.read(IO_PIECE):
            n += len(piece)
    elapsed = time.perf_counter() - t0
    if n != size:
        raise RuntimeError(f"GET by read(n) returned {n} bytes of {size}")
    return elapsed


def verify_once(store: Any, src_blake3: str) -> str:
    """Untimed: the bytes read back hash to the source's BLAKE3 (and so does ``.checksum``)."""
    h = blake3.blake3()
    with store.root.get_object(BUCKET, "large") as body:
        for piece in body:
            h.update(piece)
        checksum = getattr(body, "checksum", None)
    if h.hexdigest() != src_blake3:
        say("GET RETURNED DIFFERENT BYTES than were PUT")
        return "WRONG BYTES"
    if checksum is not None and checksum != src_blake3:
        say(f"body.checksum {checksum!r} != BLAKE3 of the content {src_blake3}")
        return "checksum attribute differs"
    return "bytes verified"


def run(ctx: Context) -> None:
    """PUT the object once, then alternate plain read, GET by iteration and GET by read(n)."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    store = fresh_store(work / "store")
    try:
        put_file(store, "large", src)
        note = verify_once(store, blake3_file(src))
        runs = alternate(
            max(cfg.reps, 3),
            cfg.size,  # reads are cheap: a few more repetitions steady the median
            [
                ("plain read", lambda _rep: baseline_read(src)),
                ("get iter", lambda _rep: _get_iter(store, cfg.size)),
                ("get read(4MiB)", lambda _rep: _get_read(store, cfg.size)),
            ],
            before=ctx.settle,
        )
    finally:
        store.close()
    rate = {name: s.mb_s() for name, s in runs.items()}
    plain = rate["plain read"][0]
    ctx.emit(
        Figure(
            "get baseline plain read",
            plain,
            "MB/s",
            best=rate["plain read"][1],
            note=runs["plain read"].load_note(),
        )
    )
    for name in ("get iter", "get read(4MiB)"):
        med, best = rate[name]
        ctx.emit(
            Figure(
                name,
                med,
                "MB/s",
                "plain read",
                plain,
                f">= {TARGET:.2f}",
                verdict(med / plain >= TARGET),
                best=best,
                note=notes(runs[name].load_note(), note),
            )
        )
    ctx.ws.drop(work)
