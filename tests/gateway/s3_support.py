"""What the S3 gateway tests share: a store served on a loopback port and boto3 clients.

Until the SigV4 authenticator (``objstore.gateway.auth``) is on main, requests are
authenticated by :class:`KeyAuth`: it trusts the access key id of the Authorization
header (the secret is checked once, when the key is registered) and reads the body as
it arrives. With ``auth.py`` present the real authenticator is used instead.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import objstore
from objstore.authz import Identity
from objstore.errors import EntityTooLarge, InvalidAccessKeyId
from objstore.gateway.caller import Caller
from objstore.testing import Server
from tests.conftest import open_store

REAL_AUTH = importlib.util.find_spec("objstore.gateway.auth") is not None
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]*)/([^/]*)/")


class PlainBody:
    """The raw request body (no aws-chunked decoding, no hash check)."""

    def __init__(self, request: web.Request) -> None:
        self._request = request

    @property
    def length(self) -> int | None:
        return self._request.content_length

    @property
    def trailers(self) -> Mapping[str, str]:
        return {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        async for piece in self._request.content.iter_chunked(1 << 20):
            yield piece

    async def read_all(self, limit: int) -> bytes:
        data = await self._request.content.read(limit + 1)
        if len(data) > limit:
            raise EntityTooLarge("body too large")
        return data


class KeyAuth:
    """A stand-in authenticator keyed by access key id (see the module docstring)."""

    def __init__(self, store: objstore.Store) -> None:
        self.store = store
        self.identities: dict[str, Identity] = {}

    def register(self, access_key_id: str, secret: str) -> None:
        self.identities[access_key_id] = self.store.client(access_key_id, secret).identity

    async def __call__(self, request: web.Request) -> Caller:
        m = _CREDENTIAL.search(request.headers.get("Authorization", "")) or _CREDENTIAL.search(
            "Credential=" + request.query.get("X-Amz-Credential", "")
        )
        if m is None:
            return Caller(Identity.anonymous(), None, None, PlainBody(request))
        identity = self.identities.get(m.group(1))
        if identity is None:
            raise InvalidAccessKeyId("The AWS Access Key Id you provided does not exist")
        return Caller(identity, m.group(3), m.group(2), PlainBody(request))


class Gateway:
    """A served store: ``url`` and boto3 clients for its keys."""

    def __init__(self, store: objstore.Store, url: str, auth: KeyAuth | None) -> None:
        self.store = store
        self.url = url
        self._auth = auth
        root_key = store.root.iam.create_access_key()
        self.root_keys = (root_key.access_key_id, root_key.secret_access_key)
        self.register(*self.root_keys)

    def register(self, access_key_id: str, secret: str) -> None:
        if self._auth is not None:
            self._auth.register(access_key_id, secret)

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
        keys = (key.access_key_id, key.secret_access_key)
        self.register(*keys)
        return keys


@contextmanager
def serve(store: objstore.Store, **options: Any) -> Iterator[Gateway]:
    """``store`` behind the gateway on a free loopback port."""
    auth = None if REAL_AUTH else KeyAuth(store)
    if auth is not None:
        options.setdefault("authenticate", auth)
    with Server(store, **options) as url:
        yield Gateway(store, url, auth)


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
) -> bytes:
    """A complete SigV4-signed HTTP/1.1 request (head and body) for a raw socket;
    ``extra`` is more header lines (unsigned), each ending in CRLF."""
    request = AWSRequest(method=method, url=f"{url}{path}", data=body)
    S3SigV4Auth(Credentials(*keys), "s3", "us-east-1").add_auth(request)
    netloc = url.split("://", 1)[1]
    head = f"{method} {path} HTTP/1.1\r\nHost: {netloc}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + extra
    return head.encode() + b"\r\n" + body
