"""Smoke test of the gateway benchmark's harness (bench/_servers.py, bench/_clients.py):
a server child process on a free loopback port, stopped with its process group; clients
as threads and as processes. No timing assertions (timings belong to ``make bench``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench import _servers
from bench._clients import BUCKET, GET_KEYS, SMALL, populate, run_clients
from bench.bench_gateway import group_cpu


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_moto_child_serves_clients_and_is_stopped_with_its_group() -> None:
    with _servers.moto() as ep:
        assert ep.url.startswith("http://127.0.0.1:") and alive(ep.pid)
        assert os.getpgid(ep.pid) == ep.pid  # its own group: killed as one
        populate(ep)
        s3 = ep.client()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert len(keys) == GET_KEYS
        for op in ("put", "get"):
            for procs, threads in ((1, 2), (2, 1)):
                load = run_clients(ep, op, procs, threads, 0.3, f"t{procs}")
                assert load.requests == len(load.latencies) > 0
                assert load.seconds > 0 and load.rate > 0
                assert 0 < load.p(50) <= load.p(99) <= max(load.latencies)
        written = s3.list_objects_v2(Bucket=BUCKET, Prefix="small/")["Contents"]
        assert written and all(o["Size"] == SMALL for o in written)
        assert group_cpu(ep.pid) > 0
    assert not alive(ep.pid)


def test_a_server_that_fails_to_start_is_reported_with_its_output(tmp_path: Path) -> None:
    code = "import sys; print('no port for you', flush=True); sys.exit(3)"
    with (
        pytest.raises(RuntimeError, match="no port for you"),
        _servers.server("broken", [sys.executable, "-c", code], "k", "s"),
    ):
        pass


def test_a_server_that_ignores_sigterm_is_killed() -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('listening on http://127.0.0.1:1234', flush=True)\n"
        "time.sleep(600)\n"
    )
    with _servers.server("stubborn", [sys.executable, "-c", code], "k", "s", grace=0.5) as ep:
        assert ep.url == "http://127.0.0.1:1234"
        pid = ep.pid
    assert not alive(pid)
