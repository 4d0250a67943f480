"""Connections after early answers, stalled clients and refused requests: a body left
unread never swallows the next request, a stalled upload is aborted, idle connections
close, and parser refusals are logged as one line."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, served_store, signed_request

DENY_PUT = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    '"Resource":"*"}]}'
)


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        s3 = gateway.client()
        s3.create_bucket(Bucket="conn")
        s3.put_object(Bucket="conn", Key="there", Body=b"old")
        yield gateway


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=20)
    return sock


def _response(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer from ``stream``: status, headers (lower-case names), body."""
    status_line = stream.readline()
    assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def _head_of(request: bytes) -> bytes:
    return request[: request.index(b"\r\n\r\n") + 4]


def test_refused_expect_100_closes_the_connection(gw: Gateway) -> None:
    """A PUT waiting for ``100 Continue`` that fails first (If-None-Match on an existing
    key) is answered with ``Connection: close``: the client may or may not send its
    body, so the connection cannot carry another request."""
    put = signed_request(
        gw.url,
        gw.root_keys,
        "PUT",
        "/conn/there",
        b"n" * 5000,
        extra="If-None-Match: *\r\nExpect: 100-continue\r\n",
    )
    with _connect(gw.url) as sock, sock.makefile("rb") as stream:
        sock.sendall(_head_of(put))
        status, headers, body = _response(stream)
        assert status == 412
        assert b"<Code>PreconditionFailed</Code>" in body
        assert headers.get("connection") == "close"
    assert gw.client().get_object(Bucket="conn", Key="there")["Body"].read() == b"old"


def test_large_unread_body_closes_the_connection(gw: Gateway) -> None:
    """A PUT to a missing bucket whose (large) body is still arriving is answered at
    once with ``Connection: close``, never read to its end."""
    put = signed_request(gw.url, gw.root_keys, "PUT", "/no-such-bucket/k", b"b" * 4_000_000)
    with _connect(gw.url) as sock, sock.makefile("rb") as stream:
        sock.sendall(_head_of(put) + b"b" * 100_000)
        status, headers, body = _response(stream)
        assert status == 404
        assert b"<Code>NoSuchBucket</Code>" in body
        assert headers.get("connection") == "close"


@pytest.mark.parametrize("rest", [0, 1000])
def test_request_after_an_early_error_is_answered(gw: Gateway, rest: int) -> None:
    """A failing PUT with a small body, then a GET on the same connection, both answered
    and the connection kept: sent at once (pipelined), or with the body's last ``rest``
    bytes sent later (they are read and dropped before the answer)."""
    put = signed_request(
        gw.url, gw.root_keys, "PUT", "/conn/there", b"p" * 3000, extra="If-None-Match: *\r\n"
    )
    get = signed_request(gw.url, gw.root_keys, "GET", "/conn/there")
    with _connect(gw.url) as sock, sock.makefile("rb") as stream:
        cut = len(put) - rest
        if rest:
            sock.sendall(put[:cut])
            time.sleep(0.2)  # sequencing only: the rest comes after the server has begun
        sock.sendall(put[cut if rest else 0 :] + get)
        status, headers, _ = _response(stream)
        assert status == 412
        assert headers.get("connection") != "close"
        status, _, body = _response(stream)
        assert (status, body) == (200, b"old")


def test_boto3_failing_puts_in_a_row(gw: Gateway) -> None:
    """boto3 (Expect: 100-continue on every PutObject, one client, no retries): failing
    PutObjects in a row each get their own error, and the client goes on working."""
    s3 = gw.client()
    denied = gw.client(gw.user_keys("reader", DENY_PUT))
    calls = [
        (s3, {"Bucket": "conn", "Key": "there", "IfNoneMatch": "*"}, "PreconditionFailed"),
        (s3, {"Bucket": "no-such-bucket", "Key": "k"}, "NoSuchBucket"),
        (denied, {"Bucket": "conn", "Key": "k"}, "AccessDenied"),
    ]
    for _ in range(3):
        for client, params, code in calls:
            with pytest.raises(ClientError) as err:
                client.put_object(Body=b"x" * 200_000, **params)
            assert err.value.response["Error"]["Code"] == code
            headers = err.value.response["ResponseMetadata"]["HTTPHeaders"]
            assert headers.get("connection") == "close"
            assert client.get_object(Bucket="conn", Key="there")["Body"].read() == b"old"
    s3.put_object(Bucket="conn", Key="new", Body=b"fine")
    assert s3.get_object(Bucket="conn", Key="new")["Body"].read() == b"fine"


def test_stalled_body_times_out_and_stores_nothing(tmp_path: Path) -> None:
    """A client that stops sending mid-body gets RequestTimeout after the configured
    body timeout, the connection is closed, and nothing is stored."""
    with served_store(tmp_path, body_timeout=0.3) as gw:
        s3 = gw.client()
        s3.create_bucket(Bucket="slow")
        put = signed_request(gw.url, gw.root_keys, "PUT", "/slow/stalled", b"z" * 50_000)
        with _connect(gw.url) as sock, sock.makefile("rb") as stream:
            sock.sendall(put[:-40_000])
            status, headers, body = _response(stream)
            assert status == 400
            assert b"<Code>RequestTimeout</Code>" in body
            assert headers.get("connection") == "close"
            assert stream.read(1) == b""  # closed by the server, not lingering
        with pytest.raises(ClientError) as err:
            s3.head_object(Bucket="slow", Key="stalled")
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        s3.put_object(Bucket="slow", Key="quick", Body=b"q")
        assert s3.get_object(Bucket="slow", Key="quick")["Body"].read() == b"q"


def test_stalled_request_head_and_idle_connection_are_closed(tmp_path: Path) -> None:
    """A connection whose request head stops halfway, and one idle after an answer,
    are closed after the configured idle timeout."""
    with served_store(tmp_path, idle_timeout=0.3) as gw:
        with _connect(gw.url) as sock:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Half: ")
            assert sock.recv(100) == b""
        get = signed_request(gw.url, gw.root_keys, "GET", "/")
        with _connect(gw.url) as sock, sock.makefile("rb") as stream:
            sock.sendall(get)
            assert _response(stream)[0] == 200
            assert stream.read(1) == b""


def test_parser_refusal_is_one_log_line(gw: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    """A request aiohttp's parser refuses (a bad Content-Length, a header line without
    a colon) gets 400 and is logged as one line, without a traceback."""
    caplog.set_level(logging.DEBUG)
    for bad in (
        b"PUT /conn/k HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
        b"GET /conn HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    ):
        with _connect(gw.url) as sock, sock.makefile("rb") as stream:
            sock.sendall(bad)
            assert _response(stream)[0] == 400
    assert gw.client().list_objects_v2(Bucket="conn")["KeyCount"] == 1
    refusals = [r for r in caplog.records if r.name == "objstore.gateway.http"]
    assert len(refusals) == 2
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
    for record in refusals:
        assert "\n" not in record.getMessage()
        assert record.levelno == logging.INFO
        assert "Content-Length" in record.getMessage() or "no colon" in record.getMessage()


def test_a_get_client_that_reads_nothing_is_cut_after_the_body_timeout(tmp_path: Path) -> None:
    """Review 10c, F7: nothing bounded how long a GET waited for a client that never
    reads: it held a request slot and the read window (~6 MiB) for as long as it liked.
    A client that takes nothing for the body timeout is cut; others are served."""
    with served_store(tmp_path, body_timeout=0.5) as gw:
        s3 = gw.client()
        s3.create_bucket(Bucket="big")
        s3.put_object(Bucket="big", Key="k", Body=b"x" * (24 << 20))
        get = signed_request(gw.url, gw.root_keys, "GET", "/big/k")
        host, port = gw.url.removeprefix("http://").rsplit(":", 1)
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the window
            sock.settimeout(20)
            sock.connect((host, int(port)))
            sock.sendall(get)
            time.sleep(3)  # reads nothing: the server's writes stall
            got, t0 = 0, time.monotonic()
            try:
                while chunk := sock.recv(1 << 20):
                    got += len(chunk)
            except ConnectionResetError:
                pass
            assert got < 24 << 20  # cut short, not sent whole
            assert time.monotonic() - t0 < 15
        assert s3.get_object(Bucket="big", Key="k")["ContentLength"] == 24 << 20


def test_a_browser_form_dribbling_its_fields_is_cut_after_one_body_timeout(
    tmp_path: Path,
) -> None:
    """Review 10c, F3: the fields of a browser POST upload are read before anything is
    authenticated, and the body timeout counted per piece, so a byte now and then held a
    request slot for up to 20 KiB x the timeout; 1040 anonymous such forms made every
    other request 503. All fields must come within one body timeout."""
    with served_store(tmp_path, body_timeout=1.0) as gw:
        gw.client().create_bucket(Bucket="forms")
        host, port = gw.url.removeprefix("http://").rsplit(":", 1)
        head = (
            b"POST /forms HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n"
            b'--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\n'
        )
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(head)
            t0, answer = time.monotonic(), b""
            while time.monotonic() - t0 < 10:  # a byte every 0.4 s: each piece in time
                try:
                    sock.sendall(b"k")
                except OSError:
                    break
                sock.settimeout(0.4)
                try:
                    answer += sock.recv(4096)
                    if answer:
                        break
                except TimeoutError:
                    continue
            assert b" 400 " in answer.split(b"\r\n", 1)[0], answer[:200]
            assert b"<Code>RequestTimeout</Code>" in answer or b"RequestTimeout" in answer
            assert time.monotonic() - t0 < 5


def test_an_absolute_form_target_addresses_the_key_it_signs(gw: Gateway) -> None:
    """Review 10c, F9: a request line with a whole URL ("PUT http://host/bucket/key")
    was signed for its path but routed on the whole URL, so the key it wrote was the URL.
    It addresses the path it signs."""
    put = signed_request(gw.url, gw.root_keys, "PUT", "/conn/abs", b"A")
    line, rest = put.split(b"\r\n", 1)
    absolute = line.replace(b" /conn/abs ", f" {gw.url}/conn/abs ".encode()) + b"\r\n" + rest
    with _connect(gw.url) as sock, sock.makefile("rb") as stream:
        sock.sendall(absolute)
        assert _response(stream)[0] == 200
    s3 = gw.client()
    assert s3.get_object(Bucket="conn", Key="abs")["Body"].read() == b"A"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="conn").get("Contents", [])]
    assert not any(k.startswith("http") for k in keys), keys
