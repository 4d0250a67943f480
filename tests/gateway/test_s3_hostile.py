"""Hostile and broken requests against the S3 gateway: each gets S3's error, nothing is
stored, and the server keeps serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from objstore.gateway.caller import Caller
from objstore.testing import Server
from tests.conftest import open_store
from tests.gateway.s3_support import Gateway, served_store, signed_request


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="host")
        yield gateway


def _raw(url: str, data: bytes) -> bytes:
    """Send ``data`` on a new connection; the whole answer (the server closes)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(data)
        chunks = []
        while piece := sock.recv(65536):
            chunks.append(piece)
    return b"".join(chunks)


def test_key_that_is_not_utf8(gw: Gateway) -> None:
    """A path that does not decode as UTF-8 is InvalidURI (400)."""
    answer = _raw(gw.url, b"GET /host/%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<Code>InvalidURI</Code>" in answer


def test_oversized_header_is_refused(gw: Gateway) -> None:
    """A header beyond the 16 KiB limit is refused by the parser; others still served."""
    big = b"x" * (64 * 1024)
    answer = _raw(gw.url, b"GET /host HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n")
    assert answer.split(b" ", 2)[1] in (b"400", b"431")
    assert gw.client().list_objects_v2(Bucket="host")["KeyCount"] == 0


def test_unknown_method(gw: Gateway) -> None:
    """A method S3 does not know is MethodNotAllowed (405) with an error document."""
    answer = _raw(gw.url, b"PATCH /host/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405")
    assert b"<Code>MethodNotAllowed</Code>" in answer


def test_disconnect_mid_upload_stores_nothing(gw: Gateway) -> None:
    """A PUT whose client goes away halfway leaves no object; the server goes on."""
    s3 = gw.client()
    request = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "host", "Key": "half"}
    ).removeprefix(gw.url)
    head = f"PUT {request} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".encode()
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head + b"z" * 300_000)
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="host", Key="half")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_object(Bucket="host", Key="whole", Body=b"fine")
    assert s3.get_object(Bucket="host", Key="whole")["Body"].read() == b"fine"


def test_oversized_xml_body(gw: Gateway) -> None:
    """A Delete document beyond the XML limit is refused, nothing deleted."""
    s3 = gw.client()
    s3.put_object(Bucket="host", Key="keep", Body=b"x")
    junk = b"<Delete>" + b"<Object><Key>keep</Key></Object>" * 100_000 + b"</Delete>"
    answer = _raw(gw.url, signed_request(gw.url, gw.root_keys, "POST", "/host?delete=", junk))
    assert answer.split(b" ", 2)[1] == b"400"
    assert s3.head_object(Bucket="host", Key="keep")["ContentLength"] == 1


def test_unexpected_exception_is_internal_error(tmp_path: Path) -> None:
    """An exception that is not objstore's is logged and answered InternalError (500),
    without a traceback."""

    async def broken(request: web.Request) -> Caller:
        raise RuntimeError("secret detail")

    store = open_store(tmp_path / "store")
    try:
        with Server(store, authenticate=broken) as url:
            answer = _raw(url, b"GET /x/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    finally:
        store.close()
    assert answer.startswith(b"HTTP/1.1 500")
    assert b"<Code>InternalError</Code>" in answer
    assert b"secret detail" not in answer and b"Traceback" not in answer
    assert b"x-amz-request-id: " in answer.lower() or b"X-Amz-Request-Id" in answer


def test_head_error_has_no_body(gw: Gateway) -> None:
    """HEAD errors carry the status and request id, no document."""
    answer = _raw(gw.url, b"HEAD /nobucket/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, _, rest = answer.partition(b"\r\n")
    assert status.split(b" ")[1] in (b"403", b"404")
    assert rest.endswith(b"\r\n\r\n")
    assert b"x-amz-request-id" in rest.lower()
