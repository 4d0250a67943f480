"""Benchmark 4: first ingest of the same file by objstore, borg and restic, in one run.

The peers a user would pick instead of objstore for content-addressed storage. Each repetition
starts from an empty repository/store for each tool; only the ingest is timed (``borg create``,
``restic backup``; for objstore open + put_object + close, the same steps the peers' commands
take), never the ``init``. Target: objstore >= 1.5x the faster peer.

borg runs as ``borg init --encryption=none`` with its default compression (lz4), restic 0.14 has
no compression; both fsync their data, like the store. Their caches live in the work space.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench._util import (
    Config,
    Context,
    Figure,
    alternate,
    ensure_tool,
    fresh_store,
    open_store,
    put_file,
    say,
    tool_version,
    verdict,
)

NAME = "peers"
TARGET = 1.5


def footprint(cfg: Config) -> int:
    """Per repetition one copy each in borg, restic and objstore."""
    return cfg.reps * 3 * cfg.size


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Run a peer command, timing it; raise with its stderr when it fails."""
    t0 = time.perf_counter()
    res = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return elapsed


def borg_subject(borg: str, work: Path, src: Path) -> Callable[[int], float]:
    """A repetition: init an unencrypted repo (untimed), then time ``borg create``."""
    env = {
        **os.environ,
        "BORG_BASE_DIR": str(work / "borg-home"),  # cache, config, security dirs: all in work
        "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
        "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
    }

    def one(rep: int) -> float:
        repo = work / f"borg-{rep}"
        _run([borg, "init", "--encryption=none", str(repo)], env, src.parent)
        return _run([borg, "create", f"{repo}::first", src.name], env, src.parent)

    return one


def restic_subject(restic: str, work: Path, src: Path) -> Callable[[int], float]:
    """A repetition: init a repo with a password file (untimed), then time ``restic backup``."""
    pw = work / "restic-password"
    pw.write_text("objstore-bench\n")
    env = {**os.environ, "RESTIC_CACHE_DIR": str(work / "restic-cache")}

    def one(rep: int) -> float:
        repo = work / f"restic-{rep}"
        base = [restic, "--quiet", "--repo", str(repo), "--password-file", str(pw)]
        _run([*base, "init"], env, src.parent)
        return _run([*base, "backup", src.name], env, src.parent)

    return one


def objstore_subject(work: Path, src: Path) -> Callable[[int], float]:
    """A repetition: create a store and bucket (untimed), then time open + put + close."""

    def one(rep: int) -> float:
        path = work / f"objstore-{rep}"
        fresh_store(path).close()
        t0 = time.perf_counter()
        store = open_store(path)
        try:
            put_file(store, "large", src)
        finally:
            store.close()
        return time.perf_counter() - t0

    return one


def run(ctx: Context) -> None:
    """Alternate objstore, borg and restic first ingests; compare with the faster peer."""
    cfg = ctx.cfg
    src = ctx.source()
    work = ctx.ws.sub(NAME)
    subjects: list[tuple[str, Callable[[int], float]]] = [("objstore", objstore_subject(work, src))]
    borg = ensure_tool("borg", "borgbackup")
    if borg:
        say(tool_version(borg))
        subjects.append(("borg", borg_subject(borg, work, src)))
    restic = ensure_tool("restic", "restic")
    if restic:
        say(tool_version(restic))
        subjects.append(("restic", restic_subject(restic, work, src)))
    runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
    rate = {name: s.mb_s() for name, s in runs.items()}
    for peer in ("borg", "restic"):
        if peer in rate:
            ctx.emit(
                Figure(
                    f"peers {peer} first ingest",
                    rate[peer][0],
                    "MB/s",
                    best=rate[peer][1],
                    note=runs[peer].load_note(),
                )
            )
        else:
            ctx.emit(
                Figure(
                    f"peers {peer} first ingest",
                    0.0,
                    "MB/s",
                    status="SKIP",
                    note=f"{peer} not available",
                )
            )
    med, best = rate["objstore"]
    peers = {p: rate[p][0] for p in ("borg", "restic") if p in rate}
    if peers:
        faster = max(peers, key=lambda p: peers[p])
        ctx.emit(
            Figure(
                "peers objstore first ingest",
                med,
                "MB/s",
                f"faster peer ({faster})",
                peers[faster],
                f">= {TARGET:.2f}",
                verdict(med / peers[faster] >= TARGET),
                best=best,
                note=runs["objstore"].load_note(),
            )
        )
    else:
        ctx.emit(
            Figure(
                "peers objstore first ingest",
                med,
                "MB/s",
                best=best,
                status="SKIP",
                note="no peer available to compare with",
            )
        )
    ctx.ws.drop(work)
