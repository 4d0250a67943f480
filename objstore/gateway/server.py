"""Running the gateway: ``objstore serve`` (TLS, N worker processes on one port,
graceful shutdown) and the pieces :class:`objstore.testing.Server` shares.

Each worker process opens the store itself (a store opened before a fork is unusable in
the child), binds the port with ``SO_REUSEPORT`` (the kernel spreads connections over the
workers) and serves until SIGTERM or SIGINT: then it stops accepting, lets in-flight
requests finish (up to ``drain_timeout`` seconds), and closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from objstore.gateway.app import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    IDLE_TIMEOUT,
    IN_FLIGHT,
    create_app,
)
from objstore.gateway.auth import DEFAULT_DOMAINS
from objstore.store import Store

# Bounds on what one request may send before the gateway refuses it (aiohttp checks these
# while parsing): a request line or header of 16 KiB (long keys are percent-encoded three
# bytes per character), 128 headers.
HANDLER_LIMITS: dict[str, Any] = {
    "max_line_size": 16 * 1024,
    "max_field_size": 16 * 1024,
    "max_headers": 128,
    "lingering_time": 5.0,
}
DRAIN_TIMEOUT = 60.0
# Seconds given to requests cancelled at the end of the drain to unwind.
CANCEL_GRACE = 1.0
# Seconds between looks at whether the closing connections have sent their last bytes.
FLUSH_POLL = 0.02
BACKLOG = 1024


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What ``objstore serve`` was asked for."""

    store_path: str | None
    host: str = "127.0.0.1"
    port: int = 9000
    region: str = "us-east-1"
    workers: int = 1
    tls_cert: str | None = None
    tls_key: str | None = None
    domains: Sequence[str] = field(default=DEFAULT_DOMAINS)
    drain_timeout: float = DRAIN_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    # Background gc (seconds between passes; None: only on demand) and the lease of an
    # upload or idle body (objstore.open's gc_interval and lease_ttl).
    gc_interval: float | None = 300.0
    lease_ttl: float = 600.0
    # Backend URLs (see objstore.backends.urls); never in the repr: they may hold secrets.
    metadata: str | None = field(default=None, repr=False)
    chunks: str | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"


def say(line: str) -> None:
    """One line on stdout in one write: workers share the pipe, and print's separate
    newline could interleave with another worker's line."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ssl_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files (None without a certificate)."""
    if cert is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound TCP socket (IPv4 or IPv6 by ``host``), ``SO_REUSEPORT`` when asked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


async def stop_gracefully(runner: web.AppRunner, timeout: float) -> None:
    """Stop accepting and refuse requests that arrive from now on (503
    ServiceUnavailable, connection closed), let requests in flight finish, then close
    every connection once what was written to it has been sent: all within ``timeout``
    seconds, after which a request still running is cancelled and a connection still
    sending is cut. Never raises for the clients' failures.

    aiohttp's own shutdown ignores request bytes that arrive once it has begun, so
    uploads are waited for here first (and no request may start after that wait); and
    it returns while answers may still sit in transport buffers, which only a running
    event loop sends, so the caller's loop is kept here until they are sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    in_flight = runner.app.get(IN_FLIGHT)
    if in_flight is not None:
        in_flight.refuse_new()
    for site in list(runner.sites):
        await site.stop()
    if in_flight is not None and not await in_flight.wait_idle(deadline - loop.time()):
        # Cancelled now rather than after aiohttp's own wait (another ``timeout``),
        # during which their bodies would be dropped anyway.
        await in_flight.cancel(CANCEL_GRACE)
    connections = _open_connections(runner)
    await runner.cleanup()
    await _sent_or_cut(connections, deadline)


@dataclass(frozen=True, slots=True)
class _Connection:
    """A connection being closed by a graceful stop."""

    transport: asyncio.Transport
    # Its TCP socket (under TLS too): ``fileno()`` is -1 once the transport closed it.
    sock: Any
    # Under TLS, the TCP transport beneath: asyncio's TLS transport counts only its own
    # buffer. Reached through private attributes (None without them: then only the TLS
    # layer's bytes are counted).
    tcp: asyncio.Transport | None

    def unsent(self) -> int:
        """Bytes not yet handed to the kernel."""
        size = self.tcp.get_write_buffer_size() if self.tcp is not None else 0
        # A TLS transport closed twice (aiohttp does) forgets its protocol and then
        # fails to count; what it held is in the TCP transport by then.
        with contextlib.suppress(AttributeError):
            size += self.transport.get_write_buffer_size()
        return int(size)

    def cut(self) -> None:
        """Close the socket now, dropping what is unsent."""
        (self.tcp or self.transport).abort()


def _open_connections(runner: web.AppRunner) -> list[_Connection]:
    """The connections the runner's server has open."""
    server = runner.server
    if server is None:
        return []
    found = []
    for handler in server.connections:
        transport = handler.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if transport is not None and sock is not None:
            tcp = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
            found.append(_Connection(transport, sock, tcp))
    return found


async def _sent_or_cut(connections: list[_Connection], deadline: float) -> None:
    """Wait until each connection (closing) has handed all it holds to the kernel, which
    sends it even after the process ends; then close the sockets still open: a TLS
    connection waits for the client's close_notify (which an idle pooled client never
    sends) before closing its own, and one still sending at ``deadline`` (loop time) is
    cut."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        if all(c.sock.fileno() == -1 or c.unsent() == 0 for c in connections):
            break
        # Polled: asyncio offers no public "sent" event for a transport, and this runs
        # once, at the end of the process's life.
        await asyncio.sleep(min(FLUSH_POLL, max(0.0, deadline - loop.time())))
    for connection in connections:
        if connection.sock.fileno() != -1:
            connection.cut()
    await asyncio.sleep(0)  # aborting closes the socket on the loop's next turn


class _OneLineParseErrors(logging.Filter):
    """A request aiohttp's parser refuses (bad Content-Length, a malformed header line,
    a line too long) is the client's mistake, answered 400 by aiohttp: it is logged as
    one line at INFO, not as an error with the parser's traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            detail = " ".join(str(exc.message).split())  # the parser's caret drawing
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {detail}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


# The logger of the gateway's HTTP connections (aiohttp's protocol errors).
HTTP_LOG = logging.getLogger("objstore.gateway.http")
HTTP_LOG.addFilter(_OneLineParseErrors())


class PathOnlyAccessLog(AbstractAccessLogger):
    """aiohttp's access log line without the query string: a presigned URL's query is a
    bearer credential (its signature, session token and expiry), replayable by whoever
    reads the log (review 10c, F4). Logged at INFO on ``aiohttp.access`` as before.

    The path is written as sent (percent-encoded), never decoded: a key may hold a
    newline, and ``/bkt/x%0A<line>`` wrote a forged line into the log (rev11b F9)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        # aiohttp calls this only while ``enabled``.
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.6f "%s"',
            request.remote,
            _printable(request.method),
            _printable(request.raw_path.partition("?")[0]),
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
            _printable(request.headers.get("User-Agent", "-")),
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _printable(text: str) -> str:
    """``text`` with what a log line must not hold (control characters, a quote that
    would end the field) escaped; HTTP parsing already refuses CR and LF here."""
    if text.isprintable() and '"' not in text:
        return text
    return "".join(c if c.isprintable() and c != '"' else f"\\x{ord(c):02x}" for c in text)


def make_runner(app: web.Application, drain_timeout: float = DRAIN_TIMEOUT) -> web.AppRunner:
    """An AppRunner with the gateway's request limits and the app's idle timeout."""
    return web.AppRunner(
        app,
        shutdown_timeout=drain_timeout,
        keepalive_timeout=app.get(IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
        logger=HTTP_LOG,
        access_log_class=PathOnlyAccessLog,
        **HANDLER_LIMITS,
    )


async def _serve_worker(opts: ServeOptions, ready: Callable[[int], None]) -> None:
    import objstore

    store: Store = objstore.open(
        opts.store_path,
        metadata=opts.metadata,
        chunks=opts.chunks,
        gc_interval=opts.gc_interval,
        lease_ttl=opts.lease_ttl,
    )
    try:
        app = create_app(
            store,
            region=opts.region,
            domains=opts.domains,
            body_timeout=opts.body_timeout,
            idle_timeout=opts.idle_timeout,
        )
        runner = make_runner(app, opts.drain_timeout)
        await runner.setup()
        sock = listening_socket(opts.host, opts.port, reuse_port=opts.workers > 1)
        site = web.SockSite(
            runner,
            sock,
            ssl_context=ssl_context(opts.tls_cert, opts.tls_key),
            backlog=BACKLOG,
        )
        stop = asyncio.Event()

        def stopping() -> None:
            say(f"objstore: worker {os.getpid()} stopping (finishing requests in flight)")
            stop.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping)
        try:
            await site.start()
            ready(sock.getsockname()[1])
            await stop.wait()
        finally:
            await stop_gracefully(runner, opts.drain_timeout)
    finally:
        await asyncio.to_thread(store.close)


def _worker_main(opts: ServeOptions, ready: Any) -> None:
    """Entry point of a worker process (spawned: nothing inherited but ``opts``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent forwards SIGTERM instead
    asyncio.run(_serve_worker(opts, lambda port: ready.set()))


def serve(opts: ServeOptions, *, announce: Callable[[str], None] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status. ``announce`` gets the
    base URL once every worker accepts connections."""
    announce = announce or (lambda url: say(f"objstore: serving {url}"))
    if opts.workers <= 1:
        asyncio.run(_serve_worker(opts, lambda port: announce(_url(opts, port))))
        return 0
    return _serve_workers(opts, announce)


def _url(opts: ServeOptions, port: int) -> str:
    host = f"[{opts.host}]" if ":" in opts.host else opts.host
    return f"{opts.scheme}://{host}:{port}"


def _serve_workers(opts: ServeOptions, announce: Callable[[str], None]) -> int:
    # Reserve the port (bound, never listening: it takes no connections) so --port 0
    # gives every worker the same free port.
    holder = listening_socket(opts.host, opts.port, reuse_port=True)
    port = holder.getsockname()[1]
    worker_opts = ServeOptions(**{**_fields(opts), "port": port})
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    stopping = False

    def forward(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)

    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        events: list[Any] = []
        for _ in range(opts.workers):
            ev = ctx.Event()
            proc = ctx.Process(target=_worker_main, args=(worker_opts, ev), daemon=False)
            proc.start()
            procs.append(proc)
            events.append(ev)
        for ev, proc in zip(events, procs, strict=True):
            while not ev.wait(0.2):
                if not proc.is_alive():
                    forward(signal.SIGTERM, None)
                    break
        holder.close()
        if all(p.is_alive() for p in procs) and not stopping:
            announce(_url(opts, port))
        for proc in procs:
            proc.join()
    finally:
        holder.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    codes = [p.exitcode or 0 for p in procs]
    return 0 if all(code == 0 for code in codes) else 1


def _fields(opts: ServeOptions) -> dict[str, Any]:
    return {name: getattr(opts, name) for name in ServeOptions.__slots__}


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: objstore serve")
