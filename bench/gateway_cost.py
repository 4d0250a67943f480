"""CPU per 4 KiB request of the gateway, in one process, for code trees side by side.

    git archive main objstore | tar -x -C /tmp/main-tree
    .venv/bin/python -m bench.gateway_cost main=/tmp/main-tree,branch=. --ops get,put

Each tree runs in its own child process (``PYTHONPATH=<tree>``, from a scratch directory):
``create_app`` served by aiohttp on a loopback port and one raw client connection in the
same event loop (``bench/_raw_load.py``: boto3-signed requests replayed, PUTs with
``Expect: 100-continue``), sequential requests, so that nothing queues and the same code
path runs every time. The figure is the process's CPU time per request (server, client
and the store's threads together; the client's part is the same for every tree), and the
minimum over ``--rounds`` windows is reported with the median: other processes on a shared
machine only ever add to a window's time. Trees alternate, ``--repeat`` times each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._clients import BUCKET, GET_KEYS, SMALL
from bench._core import WORK_ROOT
from bench._raw_load import exchange, signed_requests
from bench._servers import Endpoint
from bench._trees import add_arguments, alternated, parse_trees, scratch_dir


async def _measure(op: str, requests: int, rounds: int, work: Path) -> list[float]:
    from aiohttp import web

    import objstore
    from objstore.serve import create_app

    store = objstore.open(str(work / "store"))
    try:
        key = store.root.iam.create_access_key()
        store.root.create_bucket(BUCKET)
        for i in range(GET_KEYS):
            store.root.put_object(BUCKET, f"get/{i}", os.urandom(SMALL))
        runner = web.AppRunner(create_app(store))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        ep = Endpoint("in-process", f"http://127.0.0.1:{port}", key.access_key_id,
                      key.secret_access_key, os.getpid())  # fmt: skip
        signed = signed_requests(ep, op, "cost")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(min(200, requests)):  # warm
            await exchange(reader, writer, *signed[i % len(signed)])
        per_request = []
        for _ in range(rounds):
            cpu = time.process_time()
            for i in range(requests):
                await exchange(reader, writer, *signed[i % len(signed)])
            per_request.append((time.process_time() - cpu) / requests * 1e6)
        writer.close()
        await runner.cleanup()
        return per_request
    finally:
        store.close()


def _child(op: str, requests: int, rounds: int) -> int:
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gateway-cost-", dir=WORK_ROOT))
    try:
        print(json.dumps(asyncio.run(_measure(op, requests, rounds, work))))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gateway_cost", description=__doc__)
    p.add_argument("--ops", default="get,put")
    p.add_argument("--requests", type=int, default=1000, help="per window (1000)")
    add_arguments(p, rounds=5)
    a = p.parse_args(argv)
    if a.child:
        return _child(a.child, a.requests, a.rounds)
    trees = parse_trees(a.trees)
    scratch = scratch_dir("gateway-cost-cwd-")
    try:
        for op in a.ops.split(","):
            windows: dict[str, list[float]] = {name: [] for name in trees}
            args = [op, "--requests", str(a.requests), "--rounds", str(a.rounds)]
            for name, got in alternated(trees, "bench.gateway_cost", args, a.repeat, scratch):
                windows[name] += got
                print(f"{op} {name}: " + " ".join(f"{x:.0f}" for x in got), flush=True)
            for name, values in windows.items():
                print(
                    f"{op} {name}: min {min(values):.0f} us CPU/request, "
                    f"median {statistics.median(values):.0f} ({len(values)} windows)"
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
