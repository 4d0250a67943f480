"""Benchmark 3: re-PUT of an object whose every chunk is already stored.

Nothing new reaches the disk, so the bound is hashing alone: BLAKE3 over the bytes with MD5 in a
second thread beside it (as the store runs them). Target >= 0.8 of that bound.

For the choice between fixed and content-defined chunking it also PUTs a *shifted* copy (the
same bytes behind a 99-byte insertion) into a store holding the original, per chunking, and
reports how much of it had to be stored anew: what CDC's extra CPU buys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bench._util import (
    BUCKET,
    IO_PIECE,
    Config,
    Context,
    Figure,
    alternate,
    baseline_blake3_md5,
    fresh_store,
    notes,
    put_file,
    say,
    store_supports,
    tree_size,
    verdict,
)

NAME = "dedup"
TARGET = 0.8


INSERTION = b"inserted:" * 11  # 99 bytes: shifts every later byte off any chunk alignment


def footprint(cfg: Config) -> int:
    """One stored copy (re-PUTs add only metadata); per chunking an original and a shifted copy."""
    return cfg.size + 2 * 2 * cfg.size


def shifted(src: Path) -> Iterator[bytes]:
    """The bytes of ``src`` behind INSERTION, streamed (fresh pieces, no whole-file buffer)."""
    yield INSERTION
    with open(src, "rb") as f:
        while piece := f.read(IO_PIECE):
            yield piece


def shifted_copies(ctx: Context, work: Path) -> None:
    """Per chunking: store the source, then a shifted copy; report the share stored anew."""
    src = ctx.source()
    size = ctx.cfg.size
    for chunking in ("fixed", "cdc"):
        if not store_supports(work / "probe", chunking=chunking):
            continue
        path = work / f"shifted-{chunking}"
        store = fresh_store(path, chunking=chunking)
        try:
            put_file(store, "original", src)
            before = tree_size(path)
            ctx.settle()
            result = store.root.put_object(BUCKET, "shifted", shifted(src))
            if result.size != size + len(INSERTION):
                raise RuntimeError(f"shifted PUT stored {result.size} bytes")
        finally:
            store.close()
        new = (tree_size(path) - before) / size
        ctx.emit(
            Figure(
                f"dedup shifted copy, {chunking}",
                100 * new,
                "% new",
                note=f"bytes stored for a copy shifted by {len(INSERTION)} bytes",
            )
        )


def run(ctx: Context) -> None:
    """PUT once, then alternate the hash-only baseline and re-PUTs of the same bytes."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    store_dir = work / "store"
    store = fresh_store(store_dir)
    md5s: list[str] = []
    etags: list[str] = []
    try:
        ctx.settle()
        first, _ = put_file(store, "large", src)
        after_first = tree_size(store_dir)

        def hashing(_rep: int) -> float:
            seconds, _b3, md5 = baseline_blake3_md5(src)
            md5s.append(md5)
            return seconds

        def reput(_rep: int) -> float:
            # Same key: the realistic re-ingest (a backup re-run overwrites its object).
            seconds, result = put_file(store, "large", src)
            etags.append(result.etag)
            return seconds

        subjects = [("blake3+md5", hashing), ("re-put", reput)]
        runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    finally:
        store.close()
    growth = (tree_size(store_dir) - after_first) / cfg.size
    note = f"store grew {growth:.3f}x of the object over {cfg.reps} re-PUTs"
    if any(e != f'"{md5s[0]}"' for e in etags):
        say(f"re-PUT ETags {set(etags)} differ from the MD5 {md5s[0]}")
        note += ", ETAG differs from MD5 (blake3 ETag mode as default?)"
    rate = {name: s.mb_s() for name, s in runs.items()}
    base, base_best = rate["blake3+md5"]
    med, best = rate["re-put"]
    ctx.emit(Figure("dedup first put", cfg.size / first / 1e6, "MB/s"))
    ctx.emit(
        Figure(
            "dedup baseline blake3+md5",
            base,
            "MB/s",
            best=base_best,
            note=runs["blake3+md5"].load_note(),
        )
    )
    ctx.emit(
        Figure(
            "dedup re-put",
            med,
            "MB/s",
            "blake3+md5",
            base,
            f">= {TARGET:.2f}",
            verdict(med / base >= TARGET),
            best=best,
            note=notes(runs["re-put"].load_note(), note),
        )
    )
    shifted_copies(ctx, work)
    ctx.ws.drop(work)
