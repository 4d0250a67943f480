"""``objstore bench``: the user-facing benchmark (the engine is :mod:`objstore.benchtool`).

Without ``--store`` (before or after ``bench``) it benchmarks a fresh temporary store in
the current directory and removes it; with one, it works in a bucket of its own there and
removes that bucket, its objects and their chunks at the end. ``$OBJSTORE_DIR`` is not
used: a benchmark should not run in someone's data by accident.

With ``--endpoint URL`` it runs the same phases against any S3 endpoint through boto3
(credentials from ``--access-key``/``--secret-key`` or boto3's usual environment
variables and profiles), in a bucket of its own that it deletes at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
from typing import Any

from objstore.benchtool import (
    BenchConfig,
    BenchReport,
    DataSpec,
    parse_duration,
    parse_size,
    run,
)
from objstore.benchtool.report import load_pyplot, plot, to_json, to_text
from objstore.benchtool.s3target import connect
from objstore.cli.common import CliError, check_can_create
from objstore.cli.escape import shown
from objstore.cli.progress import Progress

__all__ = ["register"]

_PHASES = ("put", "get", "multipart")


class _Bar:
    """The CLI's progress bar as the benchmark's observer (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bar: Progress | None = None

    def begin(self, phase: str, total: int) -> None:
        with self._lock:
            self._bar = Progress(f"{phase:<9}", total)

    def add(self, n: int) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.add(n)

    def end(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.finish()
            self._bar = None


def _config(args: argparse.Namespace) -> BenchConfig:
    phases = tuple(p for p in args.phases.split(",") if p)
    if not set(phases) <= set(_PHASES):
        raise CliError(f"--phases: choose among {', '.join(_PHASES)}")
    return BenchConfig(
        store=args.bench_store or args.explicit_store,
        size=parse_size(args.size),
        objects=args.objects,
        part_size=parse_size(args.part_size),
        concurrency=args.concurrency,
        data=DataSpec.parse(args.data),
        duration=parse_duration(args.duration),
        phases=phases,
    )


def _check_space(config: BenchConfig) -> None:
    """Refuse a run that cannot fit on the disk (better than failing half-way)."""
    where = config.store if config.store and os.path.exists(config.store) else os.getcwd()
    writes = sum(1 for p in config.phases if p in ("put", "multipart"))
    need = int(config.size * (1 - config.data.repeated) * writes)
    need += min(config.size, config.baseline_size) + config.block_size
    free = shutil.disk_usage(where).free
    if free < need:
        raise CliError(
            f"the benchmark needs about {need / 2**30:.1f} GiB free in {where} and "
            f"{free / 2**30:.1f} GiB are: choose a smaller --size"
        )


def _remote_run(config: BenchConfig, args: argparse.Namespace) -> BenchReport:
    """The benchmark against ``--endpoint``; the endpoint's refusals become CliErrors."""
    target = connect(  # raises InvalidArgument without boto3
        args.endpoint,
        access_key=args.access_key,
        secret_key=args.secret_key,
        region=args.region,
        concurrency=config.concurrency,
    )
    from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        BotoCoreError,
        ClientError,
    )

    try:
        return run(config, observer=_Bar(), target=target)
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"{shown(args.endpoint)}: {exc}") from None


def cmd_bench(args: argparse.Namespace) -> int:
    config = _config(args)
    remote = args.endpoint is not None
    if remote and config.store is not None:
        raise CliError("--endpoint and --store exclude each other")
    if not remote and (args.access_key or args.secret_key or args.region):
        raise CliError("--access-key, --secret-key and --region go with --endpoint")
    if config.store is not None:
        check_can_create(config.store)
    if args.plot:
        load_pyplot()  # fail before the run, not after it
    for path in (args.json, args.plot):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise CliError(f"no such directory for {path}")
    if remote:
        report = _remote_run(config, args)
    else:
        _check_space(config)
        report = run(config, observer=_Bar())
    print(to_text(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_json(report), f, indent=2)
            f.write("\n")
        print(f"JSON report: {shown(args.json)}")
    if args.plot:
        plot(report, args.plot)
        print(f"plot: {shown(args.plot)}")
    return 0


def register(sub: Any) -> None:
    """Add ``bench`` to the ``objstore`` parser."""
    p = sub.add_parser(
        "bench",
        help="benchmark PUT, GET and multipart uploads (like MinIO's warp, embedded)",
        description=(
            "Measure the raw disk (write + fsync), then PUT --size bytes in --objects "
            "objects, GET them back, and upload --size bytes again as multipart uploads, "
            "each with --concurrency threads; print MB/s, objects/s, latency percentiles, "
            "CPU seconds per GiB and the dedup ratio. With --endpoint, the same phases "
            "against any S3 endpoint (through boto3), to compare stores."
        ),
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="benchmark this S3 endpoint (http://host:port) instead of an embedded store",
    )
    p.add_argument(
        "--access-key",
        metavar="KEY",
        help="with --endpoint (default: AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws)",
    )
    p.add_argument(
        "--secret-key",
        metavar="SECRET",
        help="with --endpoint (default: AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws)",
    )
    p.add_argument("--region", help="with --endpoint (default: AWS_REGION, the profile, us-east-1)")
    p.add_argument(
        "--store",
        dest="bench_store",
        metavar="DIR",
        help="store to benchmark in (default: a temporary store in the current directory)",
    )
    p.add_argument("--size", default="10GiB", help="bytes per phase (default 10GiB)")
    p.add_argument("--objects", type=int, help="objects in the PUT phase (default ~64 MiB each)")
    p.add_argument("--part-size", default="64MiB", help="multipart part size (default 64MiB)")
    p.add_argument("--concurrency", type=int, default=8, help="threads (default 8)")
    p.add_argument(
        "--data",
        default="random",
        help="random (unique), zeros, or dup:F (a fraction F repeats); default random",
    )
    p.add_argument("--duration", default="60s", help="cap per phase (default 60s)")
    p.add_argument("--phases", default=",".join(_PHASES), help="comma-separated subset")
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw MB/s over time (needs objstore[plot])")
    p.set_defaults(func=cmd_bench)
