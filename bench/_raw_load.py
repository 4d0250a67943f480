"""4 KiB GETs or PUTs at ``objstore serve`` from a raw HTTP client: requests signed by
botocore once, replayed on keep-alive connections by asyncio streams.

boto3 spends 1.2-1.8 ms of CPU per request, the server 0.5-1.5 ms: on two shared cores
the client's cost and its GIL drown the server's in every rate. This client costs
~0.06 ms per request, so the server has the cores and its CPU per request is measured
with less noise (``bench.ab_gateway --raw``). Requests are signed afresh for every load
window (SigV4 allows 15 minutes of skew; replaying one signed request is what S3 allows
too). PUTs send ``Expect: 100-continue`` and a 4 KiB body with its SHA-256 signed, as
boto3 does over http.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from typing import Any

from bench._clients import BUCKET, GET_KEYS, SMALL
from bench._servers import Endpoint

_USER_AGENT = "Boto3/1.40 md/Botocore#1.40 ua/2.1 os/linux lang/python#3.11 Botocore/1.40"


def _signed(ep: Endpoint, method: str, key: str, body: bytes) -> tuple[bytes, bytes]:
    """The request head and body as boto3 would send them."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{ep.url}/{BUCKET}/{key}"
    headers: dict[str, str] = {}
    if method == "PUT":
        headers = {"Content-Length": str(len(body)), "Expect": "100-continue"}
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    req.context["payload_signing_enabled"] = True
    creds = Credentials(ep.access_key, ep.secret_key)
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    host = url.split("/")[2]
    lines = [f"{method} /{BUCKET}/{key} HTTP/1.1", f"Host: {host}", f"User-Agent: {_USER_AGENT}"]
    lines += [f"{k}: {v}" for k, v in req.prepare().headers.items() if k.lower() != "host"]
    assert hashlib.sha256(body).hexdigest() == req.headers["x-amz-content-sha256"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> None:
    """One request and its answer on a keep-alive connection (raises unless 200)."""
    writer.write(head)
    if body:  # Expect: 100-continue
        interim = await reader.readline()
        if b" 100 " not in interim:
            raise RuntimeError(f"no 100 Continue: {interim!r}")
        await reader.readline()
        writer.write(body)
    status = await reader.readline()
    length = 0
    while (line := await reader.readline()) != b"\r\n":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    if b" 200 " not in status:
        raise RuntimeError(f"answer {status!r}")


async def _connection(
    host: str, port: int, requests: list[tuple[bytes, bytes]], stop: asyncio.Event, done: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while not stop.is_set():
            await exchange(reader, writer, *requests[i % len(requests)])
            i += 1
            done[0] += 1
    finally:
        writer.close()


async def _window(
    ep: Endpoint, requests: list[tuple[bytes, bytes]], conns: int, seconds: float
) -> tuple[int, float, float]:
    host, port = ep.url.split("//", 1)[1].rsplit(":", 1)
    stop, done = asyncio.Event(), [0]
    tasks = [
        asyncio.create_task(_connection(host, int(port), requests, stop, done))
        for _ in range(conns)
    ]
    await asyncio.sleep(min(1.0, seconds / 4))  # connections open, warm
    n0, t0, cpu0 = done[0], time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    n, wall, cpu = done[0] - n0, time.perf_counter() - t0, time.process_time() - cpu0
    stop.set()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
    return n, wall, cpu


def signed_requests(ep: Endpoint, op: str, tag: str) -> list[tuple[bytes, bytes]]:
    """ "get": GETs of the objects ``populate`` made; "put": PUTs of 64 keys under
    ``raw/<tag>/``."""
    if op == "get":
        return [_signed(ep, "GET", f"get/{i}", b"") for i in range(GET_KEYS)]
    return [_signed(ep, "PUT", f"raw/{tag}/{i}", os.urandom(SMALL)) for i in range(64)]


def raw_load(ep: Endpoint, op: str, conns: int, seconds: float, tag: str) -> Any:
    """``conns`` connections doing ``op`` (see :func:`signed_requests`) for ``seconds``;
    returns (requests, wall s, client CPU s)."""
    return asyncio.run(_window(ep, signed_requests(ep, op, tag), conns, seconds))
