"""The request body as handlers read it: ``100 Continue`` sent on the first read, and a
client that goes away mid-body reported as ``IncompleteBody``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from aiohttp import web
from aiohttp.http import HttpVersion11

from objstore.errors import IncompleteBody, ObjstoreError
from objstore.gateway.caller import RequestBody

# Set on a request once its ``100 Continue`` went out.
CONTINUED = web.RequestKey("objstore.continued", bool)


def must_close(request: web.Request) -> bool:
    """Whether the answer to ``request`` must close the connection: the client asked
    ``Expect: 100-continue`` and was never invited, so it may or may not send its body
    and the connection cannot tell where the next request starts."""
    return (
        request.version == HttpVersion11
        and request.headers.get("Expect", "").lower() == "100-continue"
        and not request.get(CONTINUED, False)
    )


class ContinuedBody:
    """Wraps the authenticated :class:`RequestBody` of one request.

    A client that sent ``Expect: 100-continue`` waits for the interim answer before
    sending its body. It is sent only when a handler first reads the body: by then the
    request is authenticated, and the engine authorizes an upload before the namespace
    reads a byte, so a refused or failed request never invites the body.
    """

    def __init__(self, body: RequestBody, request: web.Request) -> None:
        self._body = body
        self._request = request
        self._pending = (
            request.version == HttpVersion11
            and request.headers.get("Expect", "").lower() == "100-continue"
        )

    @property
    def length(self) -> int | None:
        return self._body.length

    @property
    def trailers(self) -> Mapping[str, str]:
        return self._body.trailers

    async def _continue(self) -> None:
        if self._pending:
            self._pending = False
            self._request[CONTINUED] = True
            await self._request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._request.writer.output_size = 0  # the answer proper has not started

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        await self._continue()
        try:
            async for piece in self._body:
                yield piece
        except (ObjstoreError, asyncio.CancelledError):
            raise
        except Exception as exc:  # the connection broke or the framing was bad
            raise IncompleteBody(f"the request body could not be read: {exc}") from exc

    async def read_all(self, limit: int) -> bytes:
        await self._continue()
        try:
            return await self._body.read_all(limit)
        except (ObjstoreError, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise IncompleteBody(f"the request body could not be read: {exc}") from exc
