"""The gateway's graceful stop (``stop_gracefully``) at its edges: a request that arrives
as the drain ends, and an answer still in the connection's write buffer when the last
handler returns."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from objstore.gateway.app import InFlight
from objstore.testing import Server
from objstore.testing import server as server_module
from tests.conftest import open_store
from tests.gateway.s3_support import signed_request
from tests.gateway.test_auth_http import tls  # noqa: F401  (the fixture)


class _Drain:
    """``InFlight.wait_idle`` instrumented: says when the drain began and ended, and
    holds the stop for ``hold`` seconds after the drain, before the connections are
    shut (that window is where a request can slip in)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold: float) -> None:
        self.began = threading.Event()
        self.ended = threading.Event()
        original = InFlight.wait_idle

        async def wait_idle(in_flight: InFlight, timeout: float) -> bool:
            self.began.set()
            idle = await original(in_flight, timeout)
            self.ended.set()
            await asyncio.sleep(hold)
            return idle

        monkeypatch.setattr(InFlight, "wait_idle", wait_idle)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    store = open_store(tmp_path / "store")
    try:
        yield store
    finally:
        store.close()


def _keys(store: Any) -> tuple[str, str]:
    key = store.root.iam.create_access_key()
    return key.access_key_id, key.secret_access_key


def _connect(url: str, *, rcvbuf: int | None = None) -> socket.socket:
    scheme, _, netloc = url.partition("://")
    host, port = netloc.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connect, so the window is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect((host, int(port)))
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
        return context.wrap_socket(sock)
    return sock


def _head(answer: Any) -> tuple[bytes, dict[str, str]]:
    """Status line and headers (lower-case names) of the next answer on ``answer``."""
    status = answer.readline()
    headers = {}
    while (line := answer.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def test_request_arriving_as_the_drain_ends_is_answered_at_once(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PUT whose head arrives on a kept-alive connection once the drain is over (before
    the connections are shut) gets an answer at once: refused with 503 and
    ``Connection: close``, never invited by ``100 Continue`` to send a body the server
    would then drop (the client would wait for an answer until the body timeout)."""
    keys = _keys(store)
    store.root.create_bucket("stop")
    drain = _Drain(monkeypatch, hold=1.5)
    server = Server(store, body_timeout=4.0)
    url = server.start()
    stopper = threading.Thread(target=server.stop)
    with _connect(url) as sock:
        answer = sock.makefile("rb")
        sock.sendall(signed_request(url, keys, "HEAD", "/stop"))
        status, headers = _head(answer)
        assert status.startswith(b"HTTP/1.1 200"), status
        assert headers.get("connection", "").lower() != "close"
        stopper.start()
        assert drain.ended.wait(5)
        body = b"late" * 64
        raw = signed_request(url, keys, "PUT", "/stop/late", body, "Expect: 100-continue\r\n")
        started = time.monotonic()
        sock.sendall(raw[: len(raw) - len(body)])
        status, headers = _head(answer)
        if status.startswith(b"HTTP/1.1 100"):
            # Invited: the body must be read and answered even though it comes after the
            # connections began to shut.
            time.sleep(2.0)
            sock.sendall(body)
            status, headers = _head(answer)
            assert status.startswith(b"HTTP/1.1 200"), status
        else:
            assert status.startswith(b"HTTP/1.1 503"), status
            assert headers.get("connection", "").lower() == "close"
            length = int(headers["content-length"])
            assert b"<Code>ServiceUnavailable</Code>" in answer.read(length)
        assert time.monotonic() - started < 3.5
    stopper.join(10)
    assert not stopper.is_alive()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_stop_flushes_an_answer_the_handler_has_finished(
    store: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, scheme: str
) -> None:
    """A GET whose handler returns during the stop while the end of its body still sits
    in the connection's write buffer (a slow reader) is delivered whole: the stop waits
    for the buffer to reach the client before it ends the event loop (under TLS: the
    buffer of the TCP transport beneath the TLS one too)."""
    context = request.getfixturevalue("tls") if scheme == "https" else None
    keys = _keys(store)
    store.root.create_bucket("stop")
    data = os.urandom(2 * 1024 * 1024)
    store.root.put_object("stop", "big", data)
    drain = _Drain(monkeypatch, hold=0.0)
    listening_socket = server_module.listening_socket

    def small_send_buffer(host: str, port: int, *, reuse_port: bool) -> socket.socket:
        # Accepted connections inherit it: the kernel takes little of the answer, so
        # the rest waits in the transport's buffer as it would for a slow remote client.
        sock = listening_socket(host, port, reuse_port=reuse_port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        return sock

    monkeypatch.setattr(server_module, "listening_socket", small_send_buffer)
    server = Server(store, ssl_context=context)
    url = server.start()
    stopper = threading.Thread(target=server.stop)
    try:
        with _connect(url, rcvbuf=16 * 1024) as sock:
            sock.sendall(signed_request(url, keys, "GET", "/stop/big"))
            answer = sock.makefile("rb", buffering=0)
            got = bytearray(answer.read(64 * 1024))
            stopper.start()
            assert drain.began.wait(5)
            # Read slowly until the handler has returned (the drain is over) ...
            while not drain.ended.is_set():
                got += answer.read(8 * 1024)
                time.sleep(0.002)
            # ... then not at all for a while: an unflushed buffer would be lost now.
            time.sleep(1.0)
            while piece := answer.read(64 * 1024):
                got += piece
            # Once all is sent the stop ends (under TLS without waiting for the client's
            # close_notify, which this client, like an idle pooled one, never sends).
            stopper.join(5)
            assert not stopper.is_alive()
        head, _, received = bytes(got).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert len(received) == len(data)
        assert received == data
    finally:
        if not stopper.is_alive() and not stopper.ident:
            stopper.start()
        stopper.join(15)
    assert not stopper.is_alive()
