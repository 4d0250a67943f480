"""Where the time goes on the gateway path: ``objstore serve`` under one of the gateway
benchmark's loads, sampled with py-spy.

    .venv/bin/pip install py-spy        # a tool, not a project dependency
    .venv/bin/python -m bench.profile_gateway put|get|large-put|large-get [--seconds 10]

``put``/``get``: 16 boto3 clients (threads) doing 4 KiB requests against ``objstore serve
--workers 2``; ``large-put``/``large-get``: one 1 GiB ``upload_file``/``download_file``
(TransferManager defaults) against one worker. Prints the rate, the CPU the server and the
client spent per request (or per GiB), and the frames the server's threads spent their
GIL-holding samples in (``py-spy record --gil``: py-spy's idle detection does not work on
this VM, so without ``--gil`` every waiting thread looks busy). Native work that releases
the GIL (hashing large buffers, LMDB commits, socket I/O) is not in the samples: compare the
sampled share with the server's CPU to see how much of it is Python.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._clients import populate, run_clients
from bench._context import fresh_store
from bench._core import WORK_ROOT, GiB
from bench._data import make_source_file
from bench._servers import Endpoint, objstore_serve
from bench.bench_gateway import group_cpu

_IDLE = {"Condition.wait", "EpollSelector.select", "_worker", "Event.wait", "Thread.join"}


def _frame(raw: str) -> tuple[str, str]:
    """(function, file relative to site-packages or the stdlib) of one py-spy frame."""
    name, _, where = raw.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "/objstore/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            path = ("objstore/" + path) if marker == "/objstore/" else path
            break
    return name, path


def summarize(raw_file: Path, top: int) -> None:
    """Print the inclusive and self shares of the sampled frames."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if not f.startswith("process ")]
        total += n
        for name in {f"{fn} ({path})" for fn, path in frames}:
            inclusive[name] += n
        if frames:
            own[f"{frames[-1][0]} ({frames[-1][1]})"] += n
    print(f"{total} GIL-holding samples of the server's processes")
    skip = ("threading.py", "runpy", "spawn.py", "process.py", "runners.py", "__main__")
    print("-- inclusive (objstore, aiohttp, asyncio frames)")
    shown = 0
    for name, n in inclusive.most_common():
        if any(s in name for s in skip) or name.startswith(("<module>", "main ", "run ")):
            continue
        print(f"{100 * n / total:6.1f}%  {name}")
        shown += 1
        if shown == top:
            break
    print("-- self")
    for name, n in own.most_common(top):
        idle = " (waiting)" if name.split(" (")[0] in _IDLE else ""
        print(f"{100 * n / total:6.1f}%  {name}{idle}")


def load(ep: Endpoint, what: str, seconds: float, work: Path) -> str:
    """Run the load; return a line with its rate and client cost."""
    if what in ("put", "get"):
        result = run_clients(ep, what, 1, 16, seconds, "profile")
        return (
            f"{what} 4KiB x 16 clients: {result.rate:,.0f} req/s, p99 "
            f"{result.p(99) * 1e3:.1f} ms, client {result.client_cpu / result.requests * 1e3:.2f}"
            f" ms CPU/req ({result.requests} requests)"
        )
    s3 = ep.client()
    src = work / "source.bin"
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    if what == "large-put":
        s3.upload_file(str(src), "bench", "large")
    else:
        s3.download_file("bench", "large", str(work / "download.bin"))
    seconds = time.perf_counter() - t0
    return (
        f"{what} 1 GiB: {GiB / seconds / 1e6:,.0f} MB/s, client "
        f"{time.process_time() - cpu0:.2f} core-s/GiB"
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_gateway", description=__doc__)
    p.add_argument("what", choices=["put", "get", "large-put", "large-get"])
    p.add_argument("--seconds", type=float, default=10.0, help="small loads: duration (10)")
    p.add_argument("--rate", type=int, default=100, help="samples per second (100)")
    p.add_argument("--top", type=int, default=30, help="frames to list (30)")
    p.add_argument("--raw", help="keep py-spy's raw (collapsed) stacks in this file")
    a = p.parse_args(argv)
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not os.access(pyspy, os.X_OK):
        print("py-spy is missing: .venv/bin/pip install py-spy", file=sys.stderr)
        return 1
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="profile-", dir=WORK_ROOT))
    raw = Path(a.raw) if a.raw else work / "stacks.txt"
    try:
        fresh_store(work / "store").close()
        large = a.what.startswith("large")
        with objstore_serve(work / "store", workers=1 if large else 2) as ep:
            populate(ep)
            if large:
                make_source_file(work / "source.bin", GiB)
                if a.what == "large-get":
                    ep.client().upload_file(str(work / "source.bin"), "bench", "large")
            argv = [pyspy, "record", "-p", str(ep.pid), "--subprocesses", "--gil"]
            spy = subprocess.Popen(
                [*argv, "-r", str(a.rate), "-f", "raw", "-o", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(2.0)  # py-spy attaches to every process of the group
            server0, t0 = group_cpu(ep.pid), time.perf_counter()
            line = load(ep, a.what, a.seconds, work)
            server = group_cpu(ep.pid) - server0
            wall = time.perf_counter() - t0
            spy.send_signal(2)
            _, err = spy.communicate(timeout=60)
        print(line)
        print(f"server: {server:.2f} core-s in {wall:.1f} s ({server / wall:.2f} cores)")
        if not raw.exists():
            print(f"py-spy wrote nothing: {err.decode(errors='replace')[-400:]}")
            return 1
        summarize(raw, a.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
