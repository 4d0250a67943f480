"""What authentication hands the rest of the gateway: who is calling, and the request body.

The gateway's modules meet here. ``auth.py`` turns an HTTP request into a
:class:`Caller` (SigV4 header or presigned query, session tokens, the payload modes
of ``x-amz-content-sha256``); the S3 handlers and the IAM/STS Query handlers act as
``caller.identity`` through the store's clients and read the payload only through
``caller.body``, which has already been stripped of aws-chunked framing and checks its
signatures and hashes as it goes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from objstore.authz import Identity


class RequestBody(Protocol):
    """The decoded payload of a request, read once, front to back.

    Iterating yields the payload's bytes (aws-chunked framing removed). A payload that
    fails a check raises the S3 error at the point it is detected (a bad chunk
    signature at that chunk; a wrong ``x-amz-content-sha256`` or a short body at the
    end), so an upload consuming it aborts before it commits. ``trailers`` is complete
    once iteration has ended (``x-amz-checksum-*`` trailers of streaming uploads).
    """

    @property
    def length(self) -> int | None:
        """The decoded payload's length when the request declares it."""
        ...

    @property
    def trailers(self) -> Mapping[str, str]:
        """Trailing headers (lower-case names), complete after the last chunk."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def read_all(self, limit: int) -> bytes:
        """The whole payload, for small XML/form bodies; raises (MaxMessageLengthExceeded
        or the service's equivalent) beyond ``limit`` bytes."""
        ...


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated (or anonymous) request.

    ``service`` and ``region`` come from the SigV4 credential scope (``None`` for an
    unsigned request: the app decides, S3 unless it is an unsigned STS call such as
    AssumeRoleWithWebIdentity). ``identity`` carries the network facts (source IP,
    TLS, user agent, referer) its ``aws:*`` condition keys are built from.
    """

    identity: Identity
    service: str | None
    region: str | None
    body: RequestBody


# The app's authentication hook: SigV4 by default (auth.py); embedders may supply their own.
Authenticate = Callable[[web.Request], Awaitable[Caller]]
