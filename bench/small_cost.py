"""CPU per 4 KiB PUT, GET and HEAD of the embedded store, for code trees side by side.

    git archive main objstore | tar -x -C /tmp/main-tree
    .venv/bin/python -m bench.small_cost main=/tmp/main-tree,branch=.

``python -m bench small`` reports operations per second, which on a shared two-core machine
say as much about the other processes (and about their fsyncs, for the durable PUTs) as
about the store. This reports what the store itself spends: the process's CPU time per
operation (``time.process_time``, the store's threads included), the minimum over
``--rounds`` windows (other processes only ever add to a window) and the median. Each tree
runs in its own child process (``PYTHONPATH=<tree>``, from a scratch directory, its store
under ``bench/.work``); trees alternate, ``--repeat`` times each.

Operations: ``get`` / ``head`` (one thread, 2,000 warm objects read round), ``put`` (one
thread, durable), and ``put4`` / ``get4``: four threads as in ``bench small`` (GET reading
the objects the PUT threads wrote, each thread its own), where the child also reports
voluntary context switches per operation (``getrusage``: a GIL hand-off or a wait for a
commit each) and, for ``put4``, how many PUTs one durable commit held.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._core import WORK_ROOT
from bench._trees import add_arguments, alternated, parse_trees, scratch_dir

SIZE = 4096
WARM = 2000
OPS = ("get", "head", "put", "put4", "get4")


def _threads(n: int, count: int, op: Callable[[int, int], None]) -> None:
    """``op(thread, i)`` for i in range(count) on each of ``n`` threads."""

    def work(t: int) -> None:
        for i in range(count):
            op(t, i)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(n)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()


def _measure(op: str, count: int, rounds: int, work: Path) -> dict[str, Any]:
    import objstore
    from objstore.meta import group

    commits = [0, 0]  # commits, jobs
    execute = group.GroupCommitter._execute

    def counted(self: Any, batch: list[Any]) -> None:
        commits[0] += 1
        commits[1] += len(batch)
        execute(self, batch)

    group.GroupCommitter._execute = counted  # type: ignore[method-assign]
    store = objstore.open(str(work / "store"))
    root = store.root
    payload = os.urandom(SIZE)
    try:
        root.create_bucket("cost")
        for i in range(WARM):
            root.put_object("cost", f"w/{i}", payload)
        threads = 4 if op.endswith("4") else 1
        n = count if op != "put" else max(1, count // 20)  # a durable PUT costs ~20 GETs
        if threads == 4:
            n = max(1, n // 4)
        written = [0]

        def one(t: int, i: int) -> None:
            j = written[0] + i
            if op.startswith("put"):
                root.put_object("cost", f"p/{t}/{j}", payload)
            elif op == "head":
                root.head_object("cost", f"w/{j % WARM}")
            else:
                key = f"p/{t}/{i % 500}" if op == "get4" else f"w/{j % WARM}"
                with root.get_object("cost", key) as body:
                    body.read()

        if op == "get4":
            _threads(4, 500, lambda t, i: root.put_object("cost", f"p/{t}/{i}", payload))
        cpu: list[float] = []
        switches: list[float] = []
        per_commit: list[float] = []
        for _ in range(rounds):
            commits[:] = [0, 0]
            before = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
            start = time.process_time()
            _threads(threads, n, one)
            ops = n * threads
            cpu.append((time.process_time() - start) / ops * 1e6)
            switches.append((resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - before) / ops)
            if commits[0]:
                per_commit.append(commits[1] / commits[0])
            written[0] += n
        return {"cpu": cpu, "switches": switches, "per_commit": per_commit}
    finally:
        store.close()
        group.GroupCommitter._execute = execute  # type: ignore[method-assign]


def _child(op: str, count: int, rounds: int) -> int:
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="small-cost-", dir=WORK_ROOT))
    try:
        print(json.dumps(_measure(op, count, rounds, work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _summary(op: str, name: str, figures: dict[str, list[float]]) -> str:
    cpu = figures["cpu"]
    line = (
        f"{op} {name}: min {min(cpu):.1f} us CPU/op, median {statistics.median(cpu):.1f}"
        f" ({len(cpu)} windows); {statistics.median(figures['switches']):.2f}"
        " voluntary switches/op"
    )
    if figures["per_commit"]:
        line += f"; {statistics.median(figures['per_commit']):.2f} PUTs/commit"
    return line


def _compare(op: str, a: argparse.Namespace, scratch: str) -> None:
    got: dict[str, dict[str, list[float]]] = {}
    args = [op, "--count", str(a.count), "--rounds", str(a.rounds)]
    for name, run in alternated(parse_trees(a.trees), "bench.small_cost", args, a.repeat, scratch):
        for k, v in run.items():
            got.setdefault(name, {}).setdefault(k, []).extend(v)
        print(f"{op} {name}: " + " ".join(f"{x:.1f}" for x in run["cpu"]), flush=True)
    for name, figures in got.items():
        print(_summary(op, name, figures), flush=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.small_cost", description=__doc__)
    p.add_argument("--ops", default=",".join(OPS), help=f"some of {','.join(OPS)}")
    p.add_argument("--count", type=int, default=10_000, help="GETs per window (10,000)")
    add_arguments(p, rounds=5)
    a = p.parse_args(argv)
    if a.child:
        return _child(a.child, a.count, a.rounds)
    scratch = scratch_dir("small-cost-cwd-")
    try:
        for op in a.ops.split(","):
            _compare(op, a, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
