"""Benchmark (issue 9): objstore scaled out on PostgreSQL + Ceph RGW, beside RGW alone and
the local default, in the same run.

(a) Large: the 1 GiB source file PUT and GET. RGW alone: boto3's TransferManager at its
defaults (``upload_file``: 8 MiB parts, 10 threads; ``download_file``: ranged 8 MiB GETs)
straight to radosgw. objstore: the embedded API streams the file into ``put_object`` and
``get_object`` into a file, on PG + RGW (target >= 0.8 x RGW) and on the local default
(LMDB + chunk files, for reference).

(b) Small: 4 KiB PUT and GET requests/s and p99 latency from 16 concurrent callers: 16 boto3
clients (threads) straight to RGW, 16 threads calling the embedded API of one store.

(c) Listing 100,000 keys under a prefix (pages of 1,000) on PG and on LMDB.

(d) Scaling of objstore on PG + RGW: large PUT/GET MB/s with 1, 4, 16, 64 concurrent chunk
transfers (the ``concurrency`` of the S3 chunk store), and 4 KiB PUT req/s from 1, 2, 4 node
processes (each its own ``objstore.open`` of the same two URLs, 8 threads each).

The services come from :mod:`objstore.testing.services` (started, or reused: set
``OBJSTORE_SERVICES`` to share a running instance). Without them every figure is SKIP; without
the PG/S3 backends in this checkout (objstore.backends.postgres / .s3) the objstore-on-PG+RGW
figures are SKIP and RGW's and the local default's are still measured. radosgw and the OSD are
separate processes on the same two cores: each figure's note gives the CPU they spent.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import multiprocessing
import os
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import bench_list
from bench._clients import SMALL, Load, run_clients
from bench._clients import populate as populate_s3
from bench._servers import Endpoint
from bench._util import (
    BUCKET,
    Config,
    Context,
    Figure,
    GiB,
    MiB,
    alternate,
    blake3_file,
    fresh_store,
    make_source_file,
    notes,
    put_file,
    say,
    verdict,
)

NAME = "scaleout"
TARGET_X_RGW = 0.8
CALLERS = 16
CONCURRENCY = (1, 4, 16, 64)
NODES = (1, 2, 4)
NODE_THREADS = 8
LIST_KEYS = 100_000
GET_KEYS = 64
# botocore >= 1.36 adds CRC trailers by default; radosgw 16 predates them.
S3_CONFIG: dict[str, Any] = {
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
}


def footprint(cfg: Config) -> int:
    """Local: the local store's copy and one download per repetition (RGW's data is elsewhere)."""
    return cfg.reps * 2 * cfg.size + 512 * MiB


# ---- the services and the stores under test -----------------------------------------------


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


# ---- the run -------------------------------------------------------------------------------


def run(ctx: Context) -> None:
    """(a) to (d) of the module docstring; a summary table at the end."""
    rows: list[tuple[str, str, str, str]] = []
    with contextlib.ExitStack() as stack:
        try:
            b = stack.enter_context(backends())
        except Exception as exc:  # no services: the figure says why
            say(f"services unavailable: {exc}")
            ctx.emit(Figure("scaleout", 0.0, "", status="SKIP", note=f"no services: {exc}"))
            return
        missing = distributed_available()
        if missing:
            say(f"objstore on PG + RGW not measured: {missing} not in this checkout")
        work = ctx.ws.sub(NAME)
        stack.callback(ctx.ws.drop, work)
        stack.callback(summary, rows)
        key = secrets.token_bytes(32)
        say(f"rgw {b.rgw.url} (radosgw + osd pids {b.server_pids}), bucket {b.bucket}")
        run_large(ctx, work, b, key, not missing, rows)
        run_small(ctx, work, b, key, not missing, rows)
        run_list(ctx, work, b, key, not missing, rows)
        if not missing:
            run_concurrency(ctx, work, b, key, rows)
            run_nodes(ctx, b, key, rows)


def summary(rows: list[tuple[str, str, str, str]]) -> None:
    print(f"{'scaleout summary':<40}{'measured':>24}  {'target':<10}verdict")
    for what, value, target, status in rows:
        print(f"  {what:<38}{value:>24}  {target:<10}{status}")


def run_large(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """1 GiB PUT then GET: RGW alone, objstore on PG + RGW, objstore local."""
    cfg = ctx.cfg
    # A new file per repetition: a store's second PUT of the same bytes would be dedup (no
    # chunk transferred), not the transfer measured here.
    sources = [ctx.source()]
    for rep in range(1, cfg.reps):
        ctx.settle()
        say(f"writing source file {rep + 1} of {cfg.reps}")
        sources.append(
            make_source_file(work / f"source-{rep}.bin", cfg.size, seed=f"scaleout-{rep}".encode())
        )
    digest = blake3_file(sources[0])
    s3 = b.s3()
    cpu = ServerCpu(b.server_pids)
    server: dict[str, list[float]] = {}
    stores: dict[str, Any] = {"local": fresh_store(work / "local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "large", key)

        def charged(name: str, fn: Callable[[int], float]) -> Callable[[int], float]:
            def one(rep: int) -> float:
                before = cpu.now()
                seconds = fn(rep)
                server.setdefault(name, []).append(cpu.now() - before)
                return seconds

            return one

        def put_rgw(rep: int) -> float:
            t0 = time.perf_counter()
            s3.upload_file(str(sources[rep]), b.bucket, f"baseline/large-{rep}")
            return time.perf_counter() - t0

        def get_rgw(rep: int) -> float:
            dst = work / "download.bin"
            try:
                t0 = time.perf_counter()
                s3.download_file(b.bucket, f"baseline/large-{rep}", str(dst))
                seconds = time.perf_counter() - t0
                if rep == 0 and blake3_file(dst) != digest:
                    raise RuntimeError("rgw: the downloaded object differs from the source")
            finally:
                dst.unlink(missing_ok=True)
            return seconds

        def put_store(name: str) -> Callable[[int], float]:
            return lambda rep: put_file(stores[name], f"large-{rep}", sources[rep])[0]

        def get_store(name: str) -> Callable[[int], float]:
            def one(rep: int) -> float:
                dst = work / "download.bin"
                try:
                    with open(dst, "wb") as f:
                        t0 = time.perf_counter()
                        with stores[name].root.get_object(BUCKET, f"large-{rep}") as body:
                            for piece in body:
                                f.write(piece)
                        seconds = time.perf_counter() - t0
                    if rep == 0 and blake3_file(dst) != digest:
                        raise RuntimeError(f"{name}: the downloaded object differs")
                finally:
                    dst.unlink(missing_ok=True)
                return seconds

            return one

        for op, rgw_fn, store_fn in (("put", put_rgw, put_store), ("get", get_rgw, get_store)):
            subjects = [(f"{op} rgw", charged(f"{op} rgw", rgw_fn))]
            subjects += [
                (f"{op} {name}", charged(f"{op} {name}", store_fn(name))) for name in stores
            ]
            say(f"{cfg.reps} alternated repetitions of: {', '.join(n for n, _ in subjects)}")
            runs = alternate(cfg.reps, cfg.size, subjects, before=ctx.settle)
            large_figures(ctx, op, runs, server, rows)
    finally:
        for store in stores.values():
            store.close()
        with contextlib.suppress(Exception):
            empty_bucket(s3, b.bucket, "baseline/")


def size_label(size: int) -> str:
    """``1GiB``, ``64MiB``: the size a figure's name states (``--quick`` shrinks it)."""
    return f"{size // GiB}GiB" if size % GiB == 0 else f"{size // MiB}MiB"


def server_note(server: dict[str, list[float]], name: str, per: float, unit: str) -> str:
    if not server.get(name):
        return ""
    return f"rgw+osd {statistics.median(server[name]) / per:.2f} core-s/{unit}"


def large_figures(
    ctx: Context,
    op: str,
    runs: dict[str, Any],
    server: dict[str, list[float]],
    rows: list[tuple[str, str, str, str]],
) -> None:
    gib = ctx.cfg.size / 2**30
    label = size_label(ctx.cfg.size)
    rate = {name: s.mb_s() for name, s in runs.items()}

    def note(name: str) -> str:
        return notes(runs[name].load_note(), server_note(server, name, gib, "GiB"))

    base = rate[f"{op} rgw"][0]
    for name in runs:
        subject = name.split(" ", 1)[1]
        if subject == "pg+rgw":
            continue
        ctx.emit(
            Figure(
                f"scaleout {op} {label} {subject}",
                rate[name][0],
                "MB/s",
                best=rate[name][1],
                note=note(name),
            )
        )
        rows.append((f"{op} {label} {subject}", f"{rate[name][0]:,.0f} MB/s", "", "INFO"))
    name = f"{op} pg+rgw"
    if name not in rate:
        ctx.emit(
            Figure(
                f"scaleout {op} {label} pg+rgw vs rgw",
                0.0,
                "",
                status="SKIP",
                note="no PG/S3 backends in this checkout",
            )
        )
        rows.append((f"{op} {label} pg+rgw / rgw", "-", f">= {TARGET_X_RGW}", "SKIP"))
        return
    med, best = rate[name]
    status = verdict(med >= TARGET_X_RGW * base)
    ctx.emit(
        Figure(
            f"scaleout {op} {label} pg+rgw vs rgw",
            med,
            "MB/s",
            "rgw",
            base,
            f">= {TARGET_X_RGW} x rgw",
            status,
            best=best,
            note=note(name),
        )
    )
    rows.append(
        (
            f"{op} {label} pg+rgw / rgw",
            f"{med:,.0f}/{base:,.0f} = {med / base:.2f}",
            f">= {TARGET_X_RGW}",
            status,
        )
    )


def run_small(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """4 KiB PUT and GET from 16 callers: RGW (boto3 clients), objstore on PG + RGW, local."""
    cfg = ctx.cfg
    seconds = 1.0 if cfg.quick else 4.0
    run_id = secrets.token_hex(3)
    cpu = ServerCpu(b.server_pids)
    stores: dict[str, Any] = {"local": fresh_store(work / "small-local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "small", key)
        # The baseline's clients use the bucket "bench" of bench/_clients.py.
        populate_s3(b.rgw)
        for store in stores.values():
            prepare_gets(store)
        names = ["rgw", *stores]
        loads: dict[tuple[str, str], list[Load]] = {}
        server: dict[tuple[str, str], list[float]] = {}
        for op in ("put", "get"):
            for rep in range(cfg.reps):
                for j in range(len(names)):
                    name = names[(rep + j) % len(names)]
                    ctx.settle()
                    before = cpu.now()
                    tag = f"{run_id}-r{rep}"
                    if name == "rgw":
                        load = run_clients(b.rgw, op, 1, CALLERS, seconds, tag)
                    else:
                        load = run_callers(small_calls(stores[name], op, tag), CALLERS, seconds)
                    loads.setdefault((op, name), []).append(load)
                    server.setdefault((op, name), []).append(cpu.now() - before)
            for name in names:
                say(
                    f"{op} 4KiB {name}: "
                    + " ".join(f"{x.rate:,.0f}" for x in loads[(op, name)])
                    + " req/s"
                )
        small_figures(ctx, loads, server, names, rows)
    finally:
        for store in stores.values():
            store.close()
        with contextlib.suppress(Exception):
            empty_bucket(b.s3(), "bench", f"small/{run_id}")


def small_figures(
    ctx: Context,
    loads: dict[tuple[str, str], list[Load]],
    server: dict[tuple[str, str], list[float]],
    names: list[str],
    rows: list[tuple[str, str, str, str]],
) -> None:
    def median(key: tuple[str, str]) -> Load:
        ordered = sorted(loads[key], key=lambda x: x.rate)
        return ordered[len(ordered) // 2]

    for op in ("put", "get"):
        for name in names:
            load = median((op, name))
            per = max(load.requests, 1) / 1000
            ctx.emit(
                Figure(
                    f"scaleout {op} 4KiB x{CALLERS} {name}",
                    load.rate,
                    "req/s",
                    note=(
                        f"p50 {load.p(50) * 1e3:.1f} ms, p99 {load.p(99) * 1e3:.1f} ms; cpu "
                        f"{load.client_cpu / per:.2f} caller, "
                        f"{statistics.median(server[(op, name)]) / per:.2f} rgw+osd core-s/1000 req"
                    ),
                )
            )
            rows.append(
                (
                    f"{op} 4KiB x{CALLERS} {name}",
                    f"{load.rate:,.0f}/s p99 {load.p(99) * 1e3:.0f} ms",
                    "",
                    "INFO",
                )
            )


def run_list(
    ctx: Context,
    work: Path,
    b: Backends,
    key: bytes,
    distributed: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """Listing LIST_KEYS zero-byte objects (metadata only) on LMDB and on PostgreSQL."""
    cfg = ctx.cfg
    n = min(LIST_KEYS, cfg.list_keys)
    stores: dict[str, Any] = {"local": fresh_store(work / "list-local")}
    try:
        if distributed:
            stores["pg+rgw"] = open_distributed(b, b.new_database(), "list", key)
        counts: dict[str, int] = {}
        for name, store in stores.items():
            ctx.settle()
            got, rate, method = bench_list.populate(store, n, cfg.list_budget_s)
            counts[name] = got
            say(f"list {name}: populated {got:,} keys at {rate:,.0f}/s ({method})")
        subjects = [
            (f"list {name}", lambda _r, s=store, c=counts[name]: bench_list.list_all(s, c))
            for name, store in stores.items()
        ]
        runs = alternate(max(cfg.reps, 3), n, subjects, before=ctx.settle)
        for name in stores:
            s = runs[f"list {name}"]
            rate = counts[name] / statistics.median(s.seconds)
            ctx.emit(
                Figure(
                    f"scaleout list {n:,} keys {name}",
                    rate,
                    "keys/s",
                    best=counts[name] / min(s.seconds),
                    note=notes(f"{counts[name]:,} keys", s.load_note(1e6, "M keys")),
                )
            )
            rows.append((f"list {name}", f"{rate:,.0f} keys/s", "", "INFO"))
    finally:
        for store in stores.values():
            store.close()


def run_concurrency(
    ctx: Context, work: Path, b: Backends, key: bytes, rows: list[tuple[str, str, str, str]]
) -> None:
    """PUT then GET MB/s of objstore on PG + RGW against the chunk store's ``concurrency``
    (the chunk transfers in flight), alternated repetitions as for the other figures."""
    cfg = ctx.cfg
    size = min(cfg.size, 256 * MiB)
    # A file per repetition and a store per setting (database and prefix): neither a
    # repeated body nor chunks already in a shared database would be transferred again.
    sources = [
        make_source_file(work / f"concurrency-{rep}.bin", size, seed=f"conc-{rep}".encode())
        for rep in range(cfg.reps)
    ]
    stores = {
        n: open_distributed(b, b.new_database(), f"conc{n}", key, concurrency=n)
        for n in CONCURRENCY
    }
    try:

        def put(n: int) -> Callable[[int], float]:
            return lambda rep: put_file(stores[n], f"c{rep}", sources[rep])[0]

        def get(n: int) -> Callable[[int], float]:
            def one(rep: int) -> float:
                t0 = time.perf_counter()
                with stores[n].root.get_object(BUCKET, f"c{rep}") as body:
                    got = sum(len(piece) for piece in body)
                seconds = time.perf_counter() - t0
                if got != size:
                    raise RuntimeError(f"concurrency {n}: GET returned {got} of {size} bytes")
                return seconds

            return one

        rates: dict[str, dict[int, tuple[float, float]]] = {}
        for op, fn in (("put", put), ("get", get)):
            subjects = [(f"{op} x{n}", fn(n)) for n in CONCURRENCY]
            runs = alternate(cfg.reps, size, subjects, before=ctx.settle)
            rates[op] = {n: runs[f"{op} x{n}"].mb_s() for n in CONCURRENCY}
            for n in CONCURRENCY:
                med, best = rates[op][n]
                ctx.emit(
                    Figure(
                        f"scaleout concurrency {n} {op}",
                        med,
                        "MB/s",
                        best=best,
                        note=notes(f"{size // MiB} MiB", runs[f"{op} x{n}"].load_note()),
                    )
                )
        for n in CONCURRENCY:
            rows.append(
                (
                    f"chunk transfers x{n}",
                    f"put {rates['put'][n][0]:,.0f} get {rates['get'][n][0]:,.0f} MB/s",
                    "",
                    "INFO",
                )
            )
    finally:
        for store in stores.values():
            store.close()
        for src in sources:
            src.unlink(missing_ok=True)


def _node(
    dsn: str,
    chunks: str,
    key: str,
    env: dict[str, str],
    tag: str,
    seconds: float,
    large: int,
    conn: Any,
) -> None:
    """One node process: open the shared store; on "go", 4 KiB PUTs from threads for
    ``seconds``; on the next "go", one PUT of ``large`` bytes of its own (start, end sent)."""
    try:
        os.environ.update(env)
        import objstore

        store = objstore.open(metadata=dsn, chunks=chunks, secret_key=base64.b64decode(key))
        with store:
            calls = small_calls(store, "put", tag)
            calls(0, -1)  # connect and warm outside the window
            data = os.urandom(large)  # distinct bytes per node: nothing deduplicates
            conn.send("ready")
            conn.recv()
            conn.send(run_callers(calls, NODE_THREADS, seconds))
            conn.recv()
            t0 = time.monotonic()  # CLOCK_MONOTONIC: one clock for all processes
            store.root.put_object(BUCKET, f"large/{tag}", data)
            conn.send((t0, time.monotonic()))
    except BaseException as exc:
        conn.send(exc)
        raise


def _receive(pipes: list[Any]) -> list[Any]:
    out = [conn.recv() for conn in pipes]
    for msg in out:
        if isinstance(msg, BaseException):
            raise msg
    return out


def run_nodes(ctx: Context, b: Backends, key: bytes, rows: list[tuple[str, str, str, str]]) -> None:
    """1, 2, 4 node processes on the same PG database and bucket: 4 KiB PUT req/s (all
    nodes' threads at once), then one large PUT per node at once (MB/s over all of them)."""
    seconds = 1.0 if ctx.cfg.quick else 4.0
    large = min(ctx.cfg.size, 128 * MiB)
    dsn = b.new_database()
    open_distributed(b, dsn, "nodes", key).close()  # schema and bucket, once
    chunks = b.chunks_url("nodes")
    mp = multiprocessing.get_context("spawn")
    base_small = base_large = 0.0
    for n in NODES:
        pipes, children = [], []
        for p in range(n):
            mine, theirs = mp.Pipe()
            args = (dsn, chunks, base64.b64encode(key).decode(), b.env(), f"n{n}-{p}")
            child = mp.Process(target=_node, args=(*args, seconds, large, theirs))
            child.start()
            pipes.append(mine)
            children.append(child)
        try:
            _receive(pipes)
            ctx.settle()
            for conn in pipes:
                conn.send("go")
            loads: list[Load] = _receive(pipes)
            ctx.settle()
            for conn in pipes:
                conn.send("go")
            spans: list[tuple[float, float]] = _receive(pipes)
        finally:
            for child in children:
                child.join(60)
                if child.is_alive():
                    child.kill()
        rate = sum(x.rate for x in loads)
        mb_s = n * large / (max(e for _, e in spans) - min(s for s, _ in spans)) / 1e6
        base_small, base_large = base_small or rate, base_large or mb_s
        p99 = max(x.p(99) for x in loads)
        ctx.emit(
            Figure(
                f"scaleout nodes {n} put 4KiB",
                rate,
                "req/s",
                "1 node",
                base_small,
                note=f"{n} x {NODE_THREADS} threads; worst p99 {p99 * 1e3:.1f} ms",
            )
        )
        ctx.emit(
            Figure(
                f"scaleout nodes {n} put {size_label(large)} each",
                mb_s,
                "MB/s",
                "1 node",
                base_large,
                note=f"{n} PUTs at once, MB/s over all",
            )
        )
        rows.append(
            (
                f"{n} node(s) PUT 4KiB / {size_label(large)}",
                f"{rate:,.0f}/s {mb_s:,.0f} MB/s",
                "",
                "INFO",
            )
        )
