"""Run the benchmarks: ``python -m bench [put get dedup peers list gc rss multipart gateway ...]``.

Every benchmark prints one line per figure: its value (median of alternated repetitions, best in
brackets), the baseline measured in the same run, the ratio, the target and PASS/MISS.
Exit status: 0, or 1 when a benchmark failed to run (or, with ``--strict``, missed a target).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import shlex
import shutil
import sys
import time
import traceback
from typing import Any

from bench import (
    bench_dedup,
    bench_durability,
    bench_gateway,
    bench_gc,
    bench_get,
    bench_list,
    bench_multipart,
    bench_peers,
    bench_put,
    bench_rss,
    bench_scaleout,
    bench_small,
)
from bench._load import CpuHog
from bench._util import (
    Config,
    Context,
    Figure,
    GiB,
    MemoryWarmer,
    MiB,
    Workspace,
    machine_facts,
    meminfo,
    say,
    verdict,
)


class _Iam:
    """``bench/bench_iam.py`` (issue 3, a standalone script) as one more benchmark of the run."""

    NAME = "iam"

    @staticmethod
    def footprint(cfg: Config) -> int:
        """Writes nothing."""
        return 0

    @staticmethod
    def run(ctx: Context) -> None:
        """Run its ``main`` (which prints its own lines); record its verdict."""
        from bench import bench_iam

        ctx.settle()
        status = bench_iam.main(["--seconds", "0.2", "--reps", "2"] if ctx.cfg.quick else [])
        ctx.emit(
            Figure(
                "iam decisions/s",
                0.0,
                "",
                target="see its target line above",
                status=verdict(status == 0),
                note="figures printed by bench/bench_iam.py",
            )
        )


BENCHMARKS: dict[str, Any] = {
    m.NAME: m
    for m in (
        bench_put,
        bench_get,
        bench_dedup,
        bench_peers,
        bench_list,
        bench_gc,
        bench_rss,
        bench_multipart,
        bench_small,
        bench_durability,
        bench_gateway,
        bench_scaleout,
        _Iam,
    )
}
# Benchmarks that read the shared large source file (it must fit in the warm-up too).
USES_SOURCE = {"put", "get", "dedup", "peers", "multipart", "durability", "gateway", "scaleout"}


def parse(argv: list[str]) -> tuple[list[str], Config, argparse.Namespace]:
    """Command line -> (benchmark names in run order, configuration, raw options)."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="NAME",
        help=f"benchmarks to run (default: all): {' '.join(BENCHMARKS)}",
    )
    p.add_argument("--quick", action="store_true", help="small sizes: smoke-test the harness")
    p.add_argument("--reps", type=int, help="alternated repetitions (default 3)")
    p.add_argument("--size-mib", type=int, help="large object size (default 1024)")
    p.add_argument("--list-keys", type=int, help="keys for the listing (default 1,000,000)")
    p.add_argument("--list-budget", type=float, help="max seconds to populate keys (240)")
    p.add_argument("--rss-mib", type=int, help="streamed PUT size for rss (default 4096)")
    p.add_argument("--quiet-wait", type=float, help="total s to wait for other load (90)")
    p.add_argument("--no-warm", action="store_true", help="skip the memory warm-up")
    p.add_argument("--warm", action="store_true", help="warm memory even with --quick")
    p.add_argument("--keep", action="store_true", help="keep the work dir for inspection")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument(
        "--busy", action="store_true", help="run everything beside a CPU hog on one core"
    )
    a = p.parse_args(argv)
    names = [n for n in BENCHMARKS if n in a.names] if a.names else list(BENCHMARKS)
    cfg = Config.quick_config() if a.quick else Config()
    overrides = {
        "reps": a.reps,
        "size": a.size_mib * MiB if a.size_mib else None,
        "list_keys": a.list_keys,
        "list_budget_s": a.list_budget,
        "rss_size": a.rss_mib * MiB if a.rss_mib else None,
        "quiet_wait_s": a.quiet_wait,
        "busy": a.busy or None,
    }
    from dataclasses import replace

    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    return names, cfg, a


def disk_need(names: list[str], cfg: Config) -> int:
    """Bytes the selected benchmarks write in all (source file included)."""
    need: int = sum(BENCHMARKS[n].footprint(cfg) for n in names)
    return need + (cfg.size if USES_SOURCE.intersection(names) else 0)


def freeze_store_code() -> None:
    """Import the store now, so the code measured is the code of the commit printed below.

    Others may commit to the working tree during a run; modules imported later (the LMDB
    backend is imported lazily by ``objstore.open``) would then mix two versions.
    """
    with contextlib.suppress(ImportError):
        importlib.import_module("objstore")
        importlib.import_module("objstore.meta.lmdb_store")


def main(argv: list[str]) -> int:
    """Run the selected benchmarks; return the exit status."""
    names, cfg, opts = parse(argv)
    command = "python -m bench " + shlex.join(argv) if argv else "python -m bench"
    failed: list[str] = []
    freeze_store_code()
    with Workspace(cfg.work_root, keep=opts.keep) as ws:
        print(f"# {command}")
        for k, v in machine_facts(ws.path).items():
            print(f"# {k}: {v}")
        print(
            f"# size {cfg.size / MiB:,.0f} MiB, reps {cfg.reps}, list keys {cfg.list_keys:,}, "
            f"rss {cfg.rss_size / MiB:,.0f} MiB, busy {cfg.busy}, work {ws.path}",
            flush=True,
        )
        t_run = time.perf_counter()
        need, free = disk_need(names, cfg), shutil.disk_usage(ws.path).free
        ws.defer_drops = need + 8 * GiB < free
        if not ws.defer_drops:
            say(
                f"disk: {free / GiB:.0f} GiB free < {need / GiB:.0f} GiB needed + 8: each "
                "benchmark deletes its files when done (slower: the warm-up must refill)"
            )
        warmer = None
        if opts.no_warm or (cfg.quick and not opts.warm):
            say("no memory warm-up: figures may swing 3x (fine for a smoke test, not for records)")
        else:
            warmer = MemoryWarmer(ws.path)
            say(
                f"warming memory: reading a sparse file until MemFree is at the reclaim floor "
                f"({meminfo('MemFree') / GiB:.1f} GiB free now)"
            )
            nbytes, speed = warmer.fill()
            say(
                f"warm-up read {nbytes / GiB:.1f} GiB at {speed:,.0f} MB/s; "
                f"MemFree now {warmer.floor / MiB:,.0f} MiB"
            )
        ctx = Context(cfg, ws, warmer)
        hog = None
        if cfg.busy:
            say(
                "--busy: a CPU hog spins on one core for the whole run (its load shows in `others`)"
            )
            hog = CpuHog()
        try:
            for name in names:
                print(f"== {name}", flush=True)
                t0 = time.perf_counter()
                try:
                    BENCHMARKS[name].run(ctx)
                except Exception:  # one broken benchmark must not hide the others' figures
                    traceback.print_exc()
                    print(f"{name}: ERROR (see traceback above)", flush=True)
                    failed.append(name)
                say(f"{name} took {time.perf_counter() - t0:,.0f} s")
        finally:
            if hog is not None:
                hog.close()
            if warmer is not None:
                warmer.close()
        missed = [f.name for f in ctx.figures if f.status == "MISS"]
        print(
            f"== done in {time.perf_counter() - t_run:,.0f} s: "
            f"{sum(f.status == 'PASS' for f in ctx.figures)} PASS, {len(missed)} MISS, "
            f"{len(failed)} ERROR",
            flush=True,
        )
    if failed or (opts.strict and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
