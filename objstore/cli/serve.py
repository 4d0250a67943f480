"""``objstore serve``: the S3, IAM and STS gateway over HTTP(S)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from objstore.cli.common import CliError, add_backend_flags, backends, check_can_create

_DOMAIN = re.compile(r"[A-Za-z0-9_.-]+(:[0-9]{1,5})?", re.ASCII)


def cmd_serve(args: argparse.Namespace) -> int:
    from objstore.gateway.server import ServeOptions, serve

    if (args.tls_cert is None) != (args.tls_key is None):
        raise CliError("--tls-cert and --tls-key go together")
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    if not 0 <= args.port <= 65535:
        raise CliError("--port must be 0-65535")
    if not (0 < args.body_timeout < float("inf") and 0 < args.idle_timeout < float("inf")):
        # Written to refuse NaN too: "nan <= 0" is False, and a NaN body timeout made
        # every upload RequestTimeout at once (review rev11b F4).
        raise CliError("--body-timeout and --idle-timeout must be positive numbers")
    if not (args.gc_interval >= 0 and args.lease_ttl > 0):  # also refuses NaN
        raise CliError("--gc-interval must be >= 0 and --lease-ttl positive")
    if not 0 <= args.shutdown_timeout < float("inf"):  # also refuses NaN
        raise CliError("--shutdown-timeout must be a number >= 0")
    for domain in args.domain or ():
        if not _DOMAIN.fullmatch(domain):
            raise CliError(f"--domain takes a host name (a port is ignored): {domain!r}")
    if getattr(args, "serve_store", None):
        args.store = args.explicit_store = args.serve_store
    for name in ("metadata", "chunks"):
        if getattr(args, f"serve_{name}", None):
            setattr(args, name, getattr(args, f"serve_{name}"))
    store, metadata, chunks = backends(args)
    if store is not None:
        check_can_create(store)
    opts = ServeOptions(
        store_path=store,
        metadata=metadata,
        chunks=chunks,
        host=args.host,
        port=args.port,
        region=args.region,
        workers=args.workers,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        domains=tuple(args.domain) if args.domain else ("localhost", "s3.localhost"),
        body_timeout=args.body_timeout,
        idle_timeout=args.idle_timeout,
        drain_timeout=args.shutdown_timeout,
        gc_interval=args.gc_interval or None,
        lease_ttl=args.lease_ttl,
    )
    return serve(opts)


def register(sub: Any) -> None:
    """Add ``serve`` to the ``objstore`` parser."""
    p = sub.add_parser(
        "serve",
        help="serve S3, IAM and STS over HTTP (boto3, the aws cli, rclone ...)",
        description=(
            "Serve the store as an S3 endpoint (IAM and STS at the same address). "
            "Requests are signed with the store's access keys (SigV4). SIGTERM or "
            "Ctrl-C stops accepting, finishes in-flight requests and exits. "
            "A missing store is created. Several 'objstore serve' processes on different "
            "hosts given the same --metadata and --chunks URLs (and the same "
            "$OBJSTORE_SECRET_KEY) serve one store."
        ),
    )
    p.add_argument(
        "--store",
        dest="serve_store",
        default=argparse.SUPPRESS,
        help="store directory (as the global --store)",
    )
    add_backend_flags(p, dest_prefix="serve_")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9000, help="port (default 9000; 0: a free one)")
    p.add_argument("--tls-cert", help="PEM certificate (chain): serve HTTPS")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port (SO_REUSEPORT), each opening the store (default 1)",
    )
    p.add_argument("--region", default="us-east-1", help="the region clients sign for")
    p.add_argument(
        "--domain",
        action="append",
        help="host name served path-style; BUCKET.DOMAIN is virtual-hosted-style "
        "(repeatable; default localhost and s3.localhost; a :PORT after it is ignored)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        help="seconds a request body may stall before its upload is aborted (default 60)",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=75.0,
        help="seconds a connection may wait for a complete request head (default 75)",
    )
    p.add_argument(
        "--shutdown-timeout",
        type=float,
        default=60.0,
        help="seconds SIGTERM/Ctrl-C waits for requests in flight and their answers to be "
        "sent before cutting them (default 60)",
    )
    p.add_argument(
        "--gc-interval",
        type=float,
        default=300.0,
        help="seconds between background garbage collection passes; 0: none, run "
        "'objstore gc' yourself (default 300; every node may run it, see docs/scale-out.md)",
    )
    p.add_argument(
        "--lease-ttl",
        type=float,
        default=600.0,
        help="seconds a stalled upload or an idle open body stays protected from gc (default 600)",
    )
    p.set_defaults(func=cmd_serve)
