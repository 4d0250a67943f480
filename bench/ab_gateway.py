"""Before/after of ``objstore serve`` on a busy machine: two code trees served at once,
their load windows alternated, judged by the server's CPU per request (or per GiB).

    git archive <commit> objstore | tar -x -C /tmp/before      # a tree per side
    .venv/bin/python -m bench.ab_gateway before=/tmp/before,after=. --ops get,put
    .venv/bin/python -m bench.ab_gateway before=/tmp/before,after=. --large --rounds 4
    .venv/bin/python -m bench.ab_gateway before=/tmp/before,after=. --raw --workers 1

Each tree's ``objstore serve`` runs with ``PYTHONPATH=<tree>`` from a scratch directory
(``python -m`` puts the working directory first on ``sys.path``, so a checkout there would
shadow the tree). Small: 16 boto3 clients (threads) doing 4 KiB PUTs or GETs for
``--seconds`` against ``--workers 2``; large: one 1 GiB ``upload_file`` (TransferManager
defaults) against one worker. Every round runs each tree once, in alternating order, and
the medians are printed: server CPU per request (or core-s/GiB), the client's, the rate,
and the server's context switches per request (every thread of its process group), which
count worker-thread hand-offs and do not depend on the load as much as CPU time does.
Other processes' load changes every absolute figure; compare the two trees of one run.
``--raw`` drives the small loads from a raw HTTP client replaying boto3-signed requests
(``bench/_raw_load.py``: ~0.06 ms of client CPU per request instead of boto3's 1.2-1.8),
so the server gets the cores and its cost per request is less noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._clients import populate, run_clients
from bench._context import fresh_store
from bench._core import WORK_ROOT, GiB
from bench._data import make_source_file
from bench._raw_load import raw_load
from bench._servers import Endpoint, objstore_serve
from bench.bench_gateway import group_cpu


def group_switches(pgid: int) -> int:
    """Context switches (voluntary + involuntary) of every thread in process group ``pgid``."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) != pgid:
                    continue
            for status in glob.glob(stat.replace("/stat", "/task/*/status")):
                with open(status) as f:
                    total += sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
        except (OSError, IndexError, ValueError):
            continue
    return total


def _small(ep: Endpoint, op: str, seconds: float, tag: str, raw: bool) -> tuple[float, ...]:
    cpu0, sw0 = group_cpu(ep.pid), group_switches(ep.pid)
    if raw:
        n, wall, client = raw_load(ep, op, 16, seconds, tag)
        n, rate = max(n, 1), n / wall
    else:
        load = run_clients(ep, op, 1, 16, seconds, tag)
        n, rate, client = max(load.requests, 1), load.rate, load.client_cpu
    server, switches = group_cpu(ep.pid) - cpu0, group_switches(ep.pid) - sw0
    return server / n * 1e3, client / n * 1e3, rate, switches / n


def _large(ep: Endpoint, src: Path, key: str) -> tuple[float, ...]:
    s3 = ep.client()
    cpu0, sw0 = group_cpu(ep.pid), group_switches(ep.pid)
    t0, own0 = time.perf_counter(), time.process_time()
    s3.upload_file(str(src), "bench", key)
    seconds = time.perf_counter() - t0
    server, switches = group_cpu(ep.pid) - cpu0, group_switches(ep.pid) - sw0
    s3.delete_object(Bucket="bench", Key=key)
    return server, time.process_time() - own0, GiB / seconds / 1e6, switches


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ab_gateway", description=__doc__)
    p.add_argument("trees", help="name=dir,name=dir (each dir holds an objstore package)")
    p.add_argument("--ops", default="get,put", help="small loads (get,put)")
    p.add_argument("--large", action="store_true", help="1 GiB upload_file instead")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=4.0, help="small loads: window (4)")
    p.add_argument("--raw", action="store_true", help="small loads from a raw HTTP client")
    p.add_argument("--workers", type=int, default=2, help="small loads: serve --workers (2)")
    a = p.parse_args(argv)
    trees = {n: str(Path(d).resolve()) for n, d in (t.split("=", 1) for t in a.trees.split(","))}
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ab-gateway-", dir=WORK_ROOT))
    here = os.getcwd()
    results: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    try:
        os.chdir(work)  # no checkout in the servers' working directory
        src = work / "source.bin"
        if a.large:
            make_source_file(src, GiB)
        with contextlib.ExitStack() as stack:
            eps: dict[str, Endpoint] = {}
            for name, tree in trees.items():
                os.environ["PYTHONPATH"] = tree
                fresh_store(work / name).close()
                eps[name] = stack.enter_context(
                    objstore_serve(work / name, 1 if a.large else a.workers)
                )
                populate(eps[name])
            os.environ.pop("PYTHONPATH")
            ops = ["large"] if a.large else a.ops.split(",")
            for r in range(a.rounds):
                for op in ops:
                    for name in list(trees) if r % 2 == 0 else list(trees)[::-1]:
                        if op == "large":
                            row = _large(eps[name], src, f"large-{r}")
                        else:
                            row = _small(eps[name], op, a.seconds, f"{name}-{r}", a.raw)
                        results.setdefault((op, name), []).append(row)
                        print(f"round {r} {op} {name}: " + _line(op, row), flush=True)
    finally:
        os.chdir(here)
        shutil.rmtree(work, ignore_errors=True)
    print("-- medians")
    for (op, name), rows in results.items():
        med = tuple(statistics.median(col) for col in zip(*rows, strict=True))
        print(f"{op} {name}: " + _line(op, med))
    return 0


def _line(op: str, row: tuple[float, ...]) -> str:
    if op == "large":
        return (
            f"server {row[0]:.2f} core-s/GiB, client {row[1]:.2f}, {row[2]:,.0f} MB/s, "
            f"{row[3]:,.0f} context switches"
        )
    return (
        f"server {row[0]:.3f} ms CPU/req, client {row[1]:.3f}, {row[2]:,.0f} req/s, "
        f"{row[3]:.1f} context switches/req"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
