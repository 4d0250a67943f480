"""The scale-out benchmark's plumbing (bench/bench_scaleout.py): the running PostgreSQL and
Ceph RGW services and what a run creates on them, objstore opened on them, the CPU radosgw and
the OSD spend, and threads calling the embedded API back to back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._clients import SMALL, Load
from bench._servers import Endpoint
from bench._util import BUCKET, GiB, MiB

GET_KEYS = 64
# botocore >= 1.36 adds CRC trailers by default; radosgw 16 predates them.
S3_CONFIG: dict[str, Any] = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}


@dataclass(frozen=True)
class Backends:
    """The running services, and what this run created on them (removed at the end)."""

    dsn_base: str  # postgresql://user@host:port/ (no password: PGPASSWORD is set)
    password: str
    rgw: Endpoint
    region: str
    bucket: str  # the RGW bucket holding the chunks (and the baseline's objects)
    server_pids: tuple[int, ...]  # radosgw and ceph-osd: their CPU is charged to RGW
    databases: list[str]

    def env(self) -> dict[str, str]:
        """Credentials as the backends read them: from the environment, never the URL."""
        return {
            "PGPASSWORD": self.password,
            "AWS_ACCESS_KEY_ID": self.rgw.access_key,
            "AWS_SECRET_ACCESS_KEY": self.rgw.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def s3(self) -> Any:
        return self.rgw.client(**S3_CONFIG)

    def new_database(self) -> str:
        """A fresh database; returns its URL (dropped at the end of the run)."""
        import psycopg

        name = "bench_" + secrets.token_hex(6)
        with psycopg.connect(self.dsn_base + "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        self.databases.append(name)
        return self.dsn_base + name

    def chunks_url(self, prefix: str, **query: object) -> str:
        params = {"endpoint": self.rgw.url, "region": self.region, **query}
        return f"s3://{self.bucket}/{prefix}?" + "&".join(f"{k}={v}" for k, v in params.items())


def distributed_available() -> str:
    """Empty when this checkout has the PG and S3 backends; else what is missing."""
    missing = []
    for module in ("objstore.backends.postgres", "objstore.backends.s3"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # no objstore.backends package at all
            found = False
        if not found:
            missing.append(module)
    return ", ".join(missing)


@contextlib.contextmanager
def backends() -> Iterator[Backends]:
    """Start (or reuse) PostgreSQL and Ceph RGW; a bucket of this run; clean up after."""
    from objstore.testing.services import start

    state = start()
    assert state.postgres is not None and state.rgw is not None and state.ceph is not None
    pg, rgw = state.postgres, state.rgw
    run_dir = Path(state.ceph.conf).parent / "run"
    pids = []
    for name in ("client.rgw.x", "osd.0"):
        with contextlib.suppress(OSError, ValueError):
            pids.append(int((run_dir / f"{name}.pid").read_text().split()[0]))
    b = Backends(
        dsn_base=f"postgresql://{pg.user}@{pg.host}:{pg.port}/",
        password=pg.password,
        rgw=Endpoint("rgw", rgw.endpoint, rgw.access_key, rgw.secret_key, pids[0] if pids else 0),
        region=rgw.region,
        bucket="bench-" + secrets.token_hex(4),
        server_pids=tuple(pids),
        databases=[],
    )
    saved = {k: os.environ.get(k) for k in b.env()}
    os.environ.update(b.env())
    s3 = b.s3()
    s3.create_bucket(Bucket=b.bucket)
    try:
        yield b
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        with contextlib.suppress(Exception):  # cleaning up must not hide the figures
            empty_bucket(s3, b.bucket)
            s3.delete_bucket(Bucket=b.bucket)
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(b.dsn_base + "postgres", password=b.password) as conn:
                conn.autocommit = True
                for name in b.databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_bucket(s3: Any, bucket: str, prefix: str = "") -> None:
    """Delete every object under ``prefix`` (1,000 per request)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def open_distributed(b: Backends, dsn: str, prefix: str, key: bytes, **query: object) -> Any:
    """objstore on PG (database ``dsn``) + RGW (chunks under ``prefix``), with the
    benchmark bucket created when missing."""
    import objstore
    from objstore.errors import BucketAlreadyOwnedByYou

    opener: Callable[..., Any] = objstore.open  # type: ignore[attr-defined, unused-ignore]
    store = opener(metadata=dsn, chunks=b.chunks_url(prefix, **query), secret_key=key)
    with contextlib.suppress(BucketAlreadyOwnedByYou):
        store.root.create_bucket(BUCKET)
    return store


class ServerCpu:
    """CPU radosgw + the OSD spent (they are daemons of their own sessions: read /proc)."""

    def __init__(self, pids: tuple[int, ...]) -> None:
        self.pids = pids

    def now(self) -> float:
        total = 0
        for pid in self.pids:
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


# ---- callers of the embedded API ------------------------------------------------------------


def run_callers(call: Callable[[int, int], None], threads: int, seconds: float) -> Load:
    """``threads`` threads calling ``call(thread, i)`` back to back for ``seconds``."""
    lat: list[list[float]] = [[] for _ in range(threads)]
    ends = [0.0] * threads
    errors: list[BaseException] = []
    go = threading.Event()
    origin = [0.0]

    def caller(t: int) -> None:
        go.wait()
        stop, i = origin[0] + seconds, 0
        try:
            while (now := time.perf_counter()) < stop:
                call(t, i)
                lat[t].append(time.perf_counter() - now)
                i += 1
        except BaseException as exc:  # a failing caller must not look fast
            errors.append(exc)
        ends[t] = time.perf_counter()

    pool = [threading.Thread(target=caller, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    cpu0 = time.process_time()
    origin[0] = time.perf_counter()
    go.set()
    for th in pool:
        th.join()
    if errors:
        raise errors[0]
    flat = tuple(x for xs in lat for x in xs)
    return Load(len(flat), max(ends) - origin[0], flat, time.process_time() - cpu0)


def small_calls(store: Any, op: str, tag: str) -> Callable[[int, int], None]:
    """A 4 KiB PUT (new key each call) or GET (of GET_KEYS prepared keys) on ``store``."""
    root = store.root
    data = os.urandom(SMALL)
    if op == "put":
        return lambda t, i: root.put_object(BUCKET, f"small/{tag}/{t}/{i}", data) and None

    def get(t: int, i: int) -> None:
        with root.get_object(BUCKET, f"get/{(i * 7 + t) % GET_KEYS}") as body:
            if len(body.read()) != SMALL:
                raise RuntimeError("GET returned a short body")

    return get


def prepare_gets(store: Any) -> None:
    for i in range(GET_KEYS):
        store.root.put_object(BUCKET, f"get/{i}", os.urandom(SMALL))


def size_label(size: int) -> str:
    """``1GiB``, ``64MiB``: the size a figure's name states (``--quick`` shrinks it)."""
    return f"{size // GiB}GiB" if size % GiB == 0 else f"{size // MiB}MiB"
