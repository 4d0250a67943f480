"""What the S3 gateway tests share: a store served on a loopback port (with the real
SigV4 authenticator) and boto3 clients for its keys."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import objstore
from objstore.testing import Server
from tests.conftest import open_store

# Requests are always checked by the real SigV4 authenticator now (other test modules ask).
REAL_AUTH = True


class Gateway:
    """A served store: ``url`` and boto3 clients for its keys."""

    def __init__(self, store: objstore.Store, url: str) -> None:
        self.store = store
        self.url = url
        root_key = store.root.iam.create_access_key()
        self.root_keys = (root_key.access_key_id, root_key.secret_access_key)

    def client(
        self, keys: tuple[str, str] | None = None, *, service: str = "s3", **config: Any
    ) -> Any:
        access, secret = keys or self.root_keys
        endpoint = config.pop("endpoint", self.url)
        config.setdefault("signature_version", "s3v4")  # presigned URLs too (SigV2's are refused)
        s3_config = config.pop("s3", {"addressing_style": "path"})
        return boto3.client(
            service,
            endpoint_url=endpoint,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(s3=s3_config, retries={"max_attempts": 1}, **config),
        )

    def user_keys(self, name: str, policy: str | None = None) -> tuple[str, str]:
        """Keys of a new IAM user (with ``policy`` inline when given)."""
        iam = self.store.root.iam
        iam.create_user(name)
        if policy is not None:
            iam.put_user_policy(name, "inline", policy)
        key = iam.create_access_key(name)
        return (key.access_key_id, key.secret_access_key)


def error_of(exc: Any) -> tuple[int, str]:
    """(HTTP status, error code) of a ``pytest.raises(ClientError)`` result."""
    response = exc.value.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"]), str(response["Error"]["Code"])


@contextmanager
def serve(store: objstore.Store, **options: Any) -> Iterator[Gateway]:
    """``store`` behind the gateway on a free loopback port."""
    with Server(store, **options) as url:
        yield Gateway(store, url)


@contextmanager
def served_store(tmp_path: Path, **options: Any) -> Iterator[Gateway]:
    """A new on-disk store under ``tmp_path``, served; closed afterwards."""
    store = open_store(tmp_path / "store")
    try:
        with serve(store, **options) as gateway:
            yield gateway
    finally:
        store.close()


def signed_request(
    url: str,
    keys: tuple[str, str],
    method: str,
    path: str,
    body: bytes = b"",
    extra: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A complete SigV4-signed HTTP/1.1 request (head and body) for a raw socket;
    ``headers`` are signed with it, ``extra`` is more header lines (unsigned), each
    ending in CRLF."""
    request = AWSRequest(method=method, url=f"{url}{path}", data=body, headers=headers)
    S3SigV4Auth(Credentials(*keys), "s3", "us-east-1").add_auth(request)
    netloc = url.split("://", 1)[1]
    head = f"{method} {path} HTTP/1.1\r\nHost: {netloc}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + extra
    return head.encode() + b"\r\n" + body


def raw_answer(
    gw: Gateway,
    method: str,
    path: str,
    body: bytes = b"",
    extra: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The whole answer to a root-signed request sent on a connection of its own
    (``headers`` signed, ``extra`` header lines not)."""
    request = signed_request(
        gw.url, gw.root_keys, method, path, body, extra + "Connection: close\r\n", headers
    )
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(request)
        chunks = []
        while piece := sock.recv(65536):
            chunks.append(piece)
    return b"".join(chunks)
