"""How an upload's body reaches the store: a small body that arrived with its request
head is handed over as bytes (one worker-thread hop), its checks still failing the
upload where reading it would have, after the engine's decision; any other body is
streamed to the worker thread."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from objstore import aio, aiobridge
from tests.gateway.s3_support import Gateway, served_store, signed_request
from tests.gateway.test_s3_connections import DENY_PUT


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="upl")
        yield gateway


@pytest.fixture
def bridged(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each upload's body was streamed through the asyncio bridge."""
    seen: list[bool] = []

    def spy(body: object) -> tuple[object, bool]:
        out = aiobridge.bridged(body)
        seen.append(out[1])
        return out

    monkeypatch.setattr(aio, "bridged", spy)
    return seen


def _send(gw: Gateway, request: bytes, *, pause_after: int | None = None) -> bytes:
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        if pause_after is None:
            sock.sendall(request)
        else:  # the head first, then (once the server has it) the body
            sock.sendall(request[:pause_after])
            time.sleep(0.3)  # sequencing only: the body comes after the head is handled
            sock.sendall(request[pause_after:])
        chunks = []
        while piece := sock.recv(65536):
            chunks.append(piece)
    return b"".join(chunks)


def _put(
    gw: Gateway,
    path: str,
    body: bytes,
    sent: bytes | None = None,
    keys: tuple[str, str] | None = None,
) -> bytes:
    """A PUT signed for ``body`` (its x-amz-content-sha256), sending ``sent`` (the same
    length) in its place when given."""
    request = signed_request(
        gw.url, keys or gw.root_keys, "PUT", path, body, "Connection: close\r\n"
    )
    if sent is None:
        return request
    assert len(sent) == len(body)
    return request[: len(request) - len(body)] + sent


def test_arrived_body_is_stored_without_the_bridge(gw: Gateway, bridged: list[bool]) -> None:
    data = b"a" * 5000
    answer = _send(gw, _put(gw, "/upl/k", data))
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert bridged == [False]
    assert gw.client().get_object(Bucket="upl", Key="k")["Body"].read() == data


def test_body_arriving_later_is_streamed(gw: Gateway, bridged: list[bool]) -> None:
    data = b"b" * 5000
    request = _put(gw, "/upl/k", data)
    answer = _send(gw, request, pause_after=len(request) - len(data))
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert bridged == [True]
    assert gw.client().get_object(Bucket="upl", Key="k")["Body"].read() == data


def test_arrived_body_with_a_wrong_sha256_stores_nothing(gw: Gateway) -> None:
    answer = _send(gw, _put(gw, "/upl/k", b"c" * 3000, b"C" * 3000))
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in answer
    assert gw.client().list_objects_v2(Bucket="upl").get("KeyCount") == 0


def test_engine_decides_before_an_arrived_body_is_checked(gw: Gateway) -> None:
    """A refused upload is refused as before, not reported as a bad body: the body's
    failure is met only where the upload would have read it."""
    answer = _send(gw, _put(gw, "/no-such-bucket/k", b"d" * 3000, b"D" * 3000))
    assert answer.startswith(b"HTTP/1.1 404"), answer
    assert b"<Code>NoSuchBucket</Code>" in answer
    reader = gw.user_keys("reader", DENY_PUT)
    answer = _send(gw, _put(gw, "/upl/k", b"d" * 3000, b"D" * 3000, keys=reader))
    assert answer.startswith(b"HTTP/1.1 403"), answer
    assert b"<Code>AccessDenied</Code>" in answer
    assert gw.client().list_objects_v2(Bucket="upl").get("KeyCount") == 0
