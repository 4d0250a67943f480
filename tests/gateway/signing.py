"""Test helpers: requests signed by botocore itself, and aiohttp requests carrying them.

:func:`capture` runs a real boto3 client call and stops it just before it would be sent,
returning the prepared request exactly as botocore signed and encoded it (with boto3's
default checksums and trailers). :func:`mocked` turns such a request into an aiohttp
request whose body streams from a ``StreamReader``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from aiohttp import StreamReader, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.test_utils import make_mocked_request
from botocore.config import Config
from multidict import CIMultiDict

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass(frozen=True)
class Wire:
    """A request as it would go on the wire."""

    method: str
    path: str  # percent-encoded, as sent
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def replace_header(self, name: str, value: str) -> Wire:
        headers = [(k, value if k.lower() == name.lower() else v) for k, v in self.headers]
        return Wire(self.method, self.path, self.query, headers, self.body)

    def with_body(self, body: bytes) -> Wire:
        return Wire(self.method, self.path, self.query, self.headers, body)


class _Captured(Exception):
    pass


def client(
    service: str = "s3",
    *,
    endpoint: str = "http://127.0.0.1:9000",
    key: str = AKID,
    secret: str = SECRET,
    token: str | None = None,
    region: str = "us-east-1",
    verify: bool | str = True,
    **config: Any,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
        verify=verify,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def wire_of(request: Any) -> Wire:
    """A botocore AWSPreparedRequest as bytes on the wire."""
    parts = urlsplit(request.url)
    headers = [
        (k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()
    ]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body.read()
    return Wire(request.method, parts.path or "/", parts.query, headers, data)


def capture(boto_client: Any, operation: str, **kwargs: Any) -> Wire:
    """The signed request ``boto_client.<operation>(**kwargs)`` would send."""
    seen: list[Any] = []

    def hook(request: Any, **_: Any) -> None:
        seen.append(request)
        raise _Captured

    boto_client.meta.events.register_first("before-send", hook)
    try:
        getattr(boto_client, operation)(**kwargs)
    except _Captured:
        pass
    finally:
        boto_client.meta.events.unregister("before-send", hook)
    assert seen, "the call sent nothing"
    return wire_of(seen[0])


def presigned(boto_client: Any, operation: str, expires: int = 3600, **params: Any) -> Wire:
    url = boto_client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
    parts = urlsplit(url)
    method = {"put_object": "PUT", "delete_object": "DELETE"}.get(operation, "GET")
    return Wire(method, parts.path, parts.query, [("Host", parts.netloc)], b"")


class _Protocol(BaseProtocol):
    """A connection that never pauses (the test feeds everything up front)."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, *args: Any, **kwargs: Any) -> None:
        pass


def reader(pieces: Iterable[bytes], *, eof: bool = True) -> StreamReader:
    """A StreamReader holding ``pieces`` (call inside a running loop)."""
    loop = asyncio.get_running_loop()
    stream = StreamReader(_Protocol(loop), 2**16, loop=loop)
    for piece in pieces:
        if piece:
            stream.feed_data(piece)
    if eof:
        stream.feed_eof()
    return stream


class _Transport:
    def __init__(self, peer: str) -> None:
        self._extra = {"peername": (peer, 40000)}

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        pass


def mocked(
    wire: Wire,
    *,
    peer: str = "192.0.2.10",
    tls: bool = False,
    pieces: Iterable[bytes] | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> web.Request:
    """An aiohttp request for ``wire`` from ``peer`` (inside a running loop)."""
    headers = CIMultiDict(wire.headers)
    for k, v in extra_headers:
        headers.add(k, v)
    if "Content-Length" not in headers and "Transfer-Encoding" not in headers and wire.body:
        headers["Content-Length"] = str(len(wire.body))
    body = reader([wire.body] if pieces is None else pieces)
    return make_mocked_request(
        wire.method,
        wire.target,
        headers=headers,
        payload=body,
        transport=_Transport(peer),
        sslcontext=object() if tls else None,
    )
