"""Smoke test of the scale-out benchmark's own helpers (bench/bench_scaleout.py); the run
itself needs the services and belongs to ``make bench-scaleout``. No timing assertions."""

from __future__ import annotations

import threading

import pytest

from bench import bench_scaleout as so
from bench._servers import Endpoint


def test_run_callers_counts_every_call() -> None:
    """Threads call back to back (0, 1, 2 ... each); requests and latencies agree."""
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def call(t: int, i: int) -> None:
        with lock:
            seen.append((t, i))

    load = so.run_callers(call, 3, 0.05)
    assert load.requests == len(load.latencies) == len(seen) > 0
    # A thread the scheduler starts after the window closed makes no call: that is allowed.
    assert {t for t, _ in seen} <= {0, 1, 2}
    for t in {t for t, _ in seen}:
        assert sorted(i for u, i in seen if u == t) == list(range(sum(u == t for u, _ in seen)))
    assert load.seconds > 0 and load.rate > 0


def test_run_callers_reports_a_failing_caller() -> None:
    """A caller that raises fails the measurement instead of looking fast."""

    def call(t: int, i: int) -> None:
        if t == 1:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        so.run_callers(call, 2, 0.05)


def test_chunks_url_and_credentials() -> None:
    """The chunk store's URL carries no credentials; they go through the environment."""
    b = so.Backends(
        dsn_base="postgresql://objstore@127.0.0.1:15432/",
        password="pw",
        rgw=Endpoint("rgw", "http://127.0.0.1:17480", "AK", "SK", 0),
        region="us-east-1",
        bucket="bench-x",
        server_pids=(),
        databases=[],
    )
    url = b.chunks_url("large", concurrency=16)
    assert url == (
        "s3://bench-x/large?endpoint=http://127.0.0.1:17480&region=us-east-1&concurrency=16"
    )
    assert "SK" not in url and "pw" not in b.dsn_base
    assert b.env()["AWS_SECRET_ACCESS_KEY"] == "SK" and b.env()["PGPASSWORD"] == "pw"


def test_size_label() -> None:
    assert so.size_label(so.GiB) == "1GiB"
    assert so.size_label(64 * so.MiB) == "64MiB"
