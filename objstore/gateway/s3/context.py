"""What an S3 handler gets: the request, who calls, and what it addresses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDictProxy, MultiDictProxy

from objstore.aio import AsyncClient
from objstore.errors import InvalidArgument, InvalidRequest
from objstore.gateway.body import ContinuedBody
from objstore.gateway.caller import RequestBody
from objstore.gateway.s3.attributes import check_whole_body

# Largest XML (or JSON policy) body a handler reads whole; S3's own documents stay far
# below (DeleteObjects with 1000 keys of 1 KiB each is about 1.1 MiB).
MAX_XML_BODY = 2 * 1024 * 1024
MAX_POLICY_BODY = 20 * 1024


@dataclass(frozen=True, slots=True)
class S3Request:
    """One S3 request, authenticated and routed.

    ``client`` acts as the caller (every call is authorized by the engine);
    ``body`` is the payload (read only through it; the ``100 Continue`` interim
    answer goes out when it is first read).
    """

    request: web.Request
    client: AsyncClient
    body: RequestBody
    bucket: str | None
    key: str | None
    query: MultiDictProxy[str]
    region: str
    account: str

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self.request.headers

    @property
    def anonymous(self) -> bool:
        """Whether the request is unsigned (the anonymous principal calls)."""
        return bool(self.client.identity.kind == "anonymous")

    async def read_document(self, limit: int) -> bytes:
        """The whole body of a configuration PUT (an XML or JSON document, at most
        ``limit`` bytes), checked against the ``Content-MD5`` or ``x-amz-checksum-*``
        the client sent: they were ignored, and a body damaged in transit was applied
        (tags, a bucket policy ...) where S3 answers BadDigest.

        Raises MaxMessageLengthExceeded, BadDigest, InvalidDigest, InvalidRequest, and
        what reading the body raises."""
        data = await self.body.read_all(limit)
        check_whole_body(self.headers, self.body, data, required=False)
        return data

    async def upload_body(self) -> object:
        """The body as an upload call should read it: its bytes when it has wholly
        arrived already (:meth:`ContinuedBody.arrived`: one thread hop), else ``body``."""
        if isinstance(self.body, ContinuedBody):
            arrived = await self.body.arrived()
            if arrived is not None:
                return arrived
        return self.body

    def need_bucket(self) -> str:
        if self.bucket is None:  # routing never sends a service request here
            raise InvalidRequest("this operation needs a bucket")
        return self.bucket

    def need_key(self) -> str:
        if self.key is None:
            raise InvalidRequest("this operation needs an object key")
        return self.key

    def int_param(self, name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        """An integer query parameter. Raises InvalidArgument (not a number, too small);
        a value above ``high`` is capped, as S3 caps max-keys at 1000."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            raise InvalidArgument(
                f"{name} must be an integer", ArgumentName=name, ArgumentValue=raw
            )
        value = int(raw)
        if value < low:
            raise InvalidArgument(
                f"{name} must be at least {low}", ArgumentName=name, ArgumentValue=raw
            )
        return value if high is None else min(value, high)


Handler = Callable[[S3Request], Awaitable[web.StreamResponse]]
