"""Many S3 clients at once: small PUTs or GETs for a fixed time, one boto3 client per thread.

The clients run as threads of this process, or spread over several processes (each with its
threads) when the GIL on the client side would otherwise be what is measured. Every client
is created and has made one request before the clock starts; then all start together and
issue requests back to back until the window closes. Each request's latency is recorded.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench._servers import Endpoint

SMALL = 4096
GET_KEYS = 64  # objects the GET clients read, round robin (written untimed beforehand)
BUCKET = "bench"


@dataclass(frozen=True, slots=True)
class Load:
    """What a set of clients did in one window."""

    requests: int
    seconds: float  # from the start signal to the last request's end (slowest client)
    latencies: tuple[float, ...]
    client_cpu: float  # CPU seconds the client processes spent in the window

    @property
    def rate(self) -> float:
        return self.requests / max(self.seconds, 1e-9)

    def p(self, q: float) -> float:
        """The ``q``-th percentile of the latencies (seconds)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def populate(endpoint: Endpoint) -> None:
    """Create the bucket (if missing) and the objects the GET clients read."""
    s3 = endpoint.client()
    names = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if BUCKET not in names:
        s3.create_bucket(Bucket=BUCKET)
    for i in range(GET_KEYS):
        s3.put_object(Bucket=BUCKET, Key=f"get/{i}", Body=os.urandom(SMALL))


def _one(op: str, s3: Any, tag: str, i: int) -> None:
    if op == "put":
        s3.put_object(Bucket=BUCKET, Key=f"small/{tag}/{i}", Body=os.urandom(SMALL))
    else:
        body = s3.get_object(Bucket=BUCKET, Key=f"get/{(i * 7 + hash(tag)) % GET_KEYS}")["Body"]
        if len(body.read()) != SMALL:
            raise RuntimeError("GET returned a short body")


def _threads(
    endpoint: Endpoint, op: str, threads: int, seconds: float, tag: str, ready: Any, go: Any
) -> tuple[int, float, list[float], float]:
    """Run ``threads`` clients in this process: (requests, seconds, latencies, cpu)."""
    clients = [endpoint.client() for _ in range(threads)]
    for s3 in clients:  # connect and warm each client outside the window
        s3.head_bucket(Bucket=BUCKET)
    lat: list[list[float]] = [[] for _ in range(threads)]
    ends = [0.0] * threads
    errors: list[BaseException] = []
    started = threading.Event()
    origin = [0.0]

    def client(t: int) -> None:
        started.wait()
        stop = origin[0] + seconds
        i = 0
        try:
            while (now := time.perf_counter()) < stop:
                _one(op, clients[t], f"{tag}-{t}", i)
                lat[t].append(time.perf_counter() - now)
                i += 1
        except BaseException as exc:  # reported below: a failing client must not look fast
            errors.append(exc)
        ends[t] = time.perf_counter()

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    ready()
    go()
    cpu0 = time.process_time()
    origin[0] = time.perf_counter()
    started.set()
    for th in pool:
        th.join()
    if errors:
        raise errors[0]
    cpu = time.process_time() - cpu0
    return sum(map(len, lat)), max(ends) - origin[0], [x for xs in lat for x in xs], cpu


def _child(endpoint: Endpoint, op: str, threads: int, seconds: float, tag: str, conn: Any) -> None:
    """A client process: report ready, wait for "go", run, send the results back."""
    try:
        out = _threads(endpoint, op, threads, seconds, tag, lambda: conn.send("ready"), conn.recv)
        conn.send(out)
    except BaseException as exc:
        conn.send(exc)
        raise


def run_clients(
    endpoint: Endpoint, op: str, procs: int, threads: int, seconds: float, tag: str
) -> Load:
    """``procs`` x ``threads`` clients doing ``op`` ("put" or "get") for ``seconds``."""
    if procs == 1:
        n, secs, lat, cpu = _threads(
            endpoint, op, threads, seconds, tag, lambda: None, lambda: None
        )
        return Load(n, secs, tuple(lat), cpu)
    ctx = multiprocessing.get_context("spawn")  # no fork of a process with threads
    pipes, children = [], []
    for p in range(procs):
        mine, theirs = ctx.Pipe()
        child = ctx.Process(
            target=_child, args=(endpoint, op, threads, seconds, f"{tag}-p{p}", theirs)
        )
        child.start()
        pipes.append(mine)
        children.append(child)
    try:
        for conn in pipes:
            msg = conn.recv()
            if isinstance(msg, BaseException):
                raise msg
        for conn in pipes:
            conn.send("go")
        results = [conn.recv() for conn in pipes]
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
                child.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return Load(
        sum(r[0] for r in results),
        max(r[1] for r in results),
        tuple(x for r in results for x in r[2]),
        sum(r[3] for r in results),
    )
