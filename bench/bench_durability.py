"""Benchmark 8: how a PUT is made durable, quiet and beside a noisy neighbour (issue 6).

Three designs, each a ``ChunkStore`` passed to ``objstore.open(chunk_store=...)``, PUT the same
1 GiB with BLAKE3 ETags (so the storage path, not MD5, is the limit) and with the default MD5:

- ``fsync``: the store's design (objstore/blob/files.py): per-file fsync of the batch's
  temporary files on a thread pool, rename, fsync of the directories;
- ``syncfs``: one ``syncfs`` per batch (the design before issue 6), bench/proto_pack.py;
- ``pack``: chunks appended to one pack file per batch + an index, bench/proto_pack.py.

"noisy" repetitions run while another process writes 1 GiB to the same filesystem (buffered,
no fsync). Information only: the target line is bench_put's "while another process writes".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._load import noisy_writer
from bench._util import Config, Context, Figure, GiB, alternate, fresh_store, put_file, say

NAME = "durability"


def footprint(cfg: Config) -> int:
    """Per repetition: 3 designs x 2 ETag modes x quiet/noisy stores, plus the noise."""
    return cfg.reps * 14 * cfg.size


def _chunk_store(design: str, path: Path) -> Any:
    from bench.proto_pack import PackChunkStore, SyncfsChunkStore
    from objstore.blob.files import FileChunkStore

    root = str(path / "chunks")
    if design == "pack":
        return PackChunkStore(root)
    if design == "syncfs":
        return SyncfsChunkStore(root)
    return FileChunkStore(root)


def run(ctx: Context) -> None:
    """Alternate every design x ETag mode, quiet then noisy; one line per combination."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    noise = 64 << 20 if cfg.quick else 1 * GiB

    def subject(design: str, etag: str, noisy: bool) -> tuple[str, Callable[[int], float]]:
        label = f"{design} {etag}{' noisy' if noisy else ''}"

        def one(rep: int) -> float:
            path = work / f"{label.replace(' ', '-')}-{rep}"
            path.mkdir()
            store = fresh_store(path, etag_mode=etag, chunk_store=_chunk_store(design, path))
            try:
                if noisy:
                    with noisy_writer(work, noise):
                        return put_file(store, "large", src)[0]
                return put_file(store, "large", src)[0]
            finally:
                store.close()

        return label, one

    subjects = [
        subject(d, e, n)
        for n in (False, True)
        for e in ("blake3", "md5")
        for d in ("fsync", "syncfs", "pack")
    ]
    say(f"{cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    rate = {name: s.mb_s() for name, s in runs.items()}
    for name, _ in subjects:
        design, rest = name.split(" ", 1)
        base = f"fsync {rest}"
        ctx.emit(
            Figure(
                f"durable put {name}",
                rate[name][0],
                "MB/s",
                base if design != "fsync" else "",
                rate[base][0] if design != "fsync" else 0.0,
                best=rate[name][1],
                note=runs[name].load_note(),
            )
        )
    ctx.ws.drop(work)
