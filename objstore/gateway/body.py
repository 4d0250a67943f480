"""The request body as handlers read it: ``100 Continue`` sent on the first read, a
client that goes away mid-body reported as ``IncompleteBody``, one that stalls as
``RequestTimeout``; and what becomes of a body nobody read (:func:`settle`).

An answer sent before the body was read (an early error: a failed precondition, a
missing bucket, a refusal) leaves the rest of the body on the connection, where the
next request would be looked for. :func:`settle` reads and drops a small rest; when
the rest is large, unknown or may never come (a client still waiting for ``100
Continue``), the answer carries ``Connection: close`` instead (as S3 does), so the
client opens a new connection rather than sending its next request behind bytes the
server will never parse as one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping

from aiohttp import web
from aiohttp.http import HttpVersion11

from objstore.body import replay
from objstore.errors import IncompleteBody, ObjstoreError, RequestTimeout
from objstore.gateway.caller import RequestBody

# Set on a request once its ``100 Continue`` went out.
CONTINUED = web.RequestKey("objstore.continued", bool)
# Seconds a body read may wait for the client's next bytes (set by the app per request).
BODY_TIMEOUT = web.RequestKey("objstore.body_timeout", float)
# Set on a request whose body read timed out: its connection is closed after the answer.
TIMED_OUT = web.RequestKey("objstore.timed_out", bool)
# The most of an unread body read (and dropped) to keep a connection; more closes it.
DRAIN_LIMIT = 64 * 1024
# The most of a body that has wholly arrived that an upload takes as bytes (see
# :meth:`ContinuedBody.arrived`).
ARRIVED_LIMIT = 1024 * 1024

_TIMEOUT_MESSAGE = (
    "Your socket connection to the server was not read from or written to within "
    "the timeout period. Idle connections will be closed."
)


def _expecting(request: web.Request) -> bool:
    return (
        request.version == HttpVersion11
        and request.headers.get("Expect", "").lower() == "100-continue"
    )


def timed_out(request: web.Request) -> RequestTimeout:
    """The RequestTimeout of ``request``'s client, the connection marked to close after
    the answer (:data:`TIMED_OUT`)."""
    request[TIMED_OUT] = True
    return RequestTimeout(_TIMEOUT_MESSAGE)


def uninvited(request: web.Request) -> bool:
    """Whether the client waits for ``100 Continue`` before sending its body and was
    not sent one: none of its body comes unless it is invited."""
    return _expecting(request) and not request.get(CONTINUED, False)


def must_close(request: web.Request) -> bool:
    """Whether the answer to ``request`` must close the connection: part of its body
    has not arrived (never read, or a client never invited by ``100 Continue`` that
    may or may not send it), so the connection cannot tell where the next request
    starts."""
    return not request.content.is_eof() or request.get(TIMED_OUT, False)


async def settle(request: web.Request, timeout: float) -> None:
    """Read and drop the rest of an unread body when it is small (at most
    :data:`DRAIN_LIMIT` bytes by Content-Length) and arrives within ``timeout``
    seconds, so the connection stays usable. Otherwise the rest is left unread and
    :func:`must_close` holds. Never raises for the client's failures."""
    content = request.content
    if content.is_eof() or request.get(TIMED_OUT, False):
        return
    if uninvited(request):
        return  # the client waits to be invited: the body may never come
    length = request.content_length
    if length is None or length - content.total_bytes > DRAIN_LIMIT:
        return
    try:
        async with asyncio.timeout(timeout):
            while await content.readany():
                pass
    except Exception:  # timed out, the connection broke, bad framing: must_close holds
        return


class ContinuedBody:
    """Wraps the authenticated :class:`RequestBody` of one request.

    A client that sent ``Expect: 100-continue`` waits for the interim answer before
    sending its body. It is sent only when a handler first reads the body: by then the
    request is authenticated, and the engine authorizes an upload before the namespace
    reads a byte, so a refused or failed request never invites the body.

    Each read waits at most the request's :data:`BODY_TIMEOUT` for the client's bytes
    (``read_all``: for the whole body); then it raises RequestTimeout, which aborts
    the upload reading it, and the connection is closed after the answer.
    """

    def __init__(self, body: RequestBody, request: web.Request) -> None:
        self._body = body
        self._request = request
        self._pending = _expecting(request)
        self._timeout = request.get(BODY_TIMEOUT)

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

    def _timed_out(self) -> RequestTimeout:
        return timed_out(self._request)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        await self._continue()
        pieces = aiter(self._body)
        content = self._request.content
        while True:
            try:
                if content.is_eof():  # all of it has arrived: no read can wait (no timer)
                    piece = await anext(pieces)
                else:
                    async with asyncio.timeout(self._timeout):
                        piece = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise self._timed_out() from None
            except (ObjstoreError, asyncio.CancelledError):
                raise
            except Exception as exc:  # the connection broke or the framing was bad
                raise IncompleteBody(f"the request body could not be read: {exc}") from exc
            yield piece

    async def arrived(self) -> bytes | Iterator[bytes] | None:
        """The body as an upload call takes it, when all of it has arrived already
        (a small body sent with its request head; at most :data:`ARRIVED_LIMIT` bytes on
        the wire) and it was not held back for ``100 Continue``: its bytes, decoded and
        checked now, on the loop, without waiting for the client. Else None (read the
        body itself). The upload is then one worker-thread hop instead of one per piece.

        A check that fails (a wrong ``x-amz-content-sha256``, a bad chunk signature, a
        short body) is not raised here but by the returned iterator, after the pieces
        before it, so the upload meets it where it would have met it reading the body
        (after the engine authorized the call) and stores nothing.
        """
        content = self._request.content
        if self._pending or not content.is_eof() or content.total_bytes > ARRIVED_LIMIT:
            return None
        pieces: list[bytes] = []
        try:
            async for piece in self:
                pieces.append(piece)
        except ObjstoreError as exc:
            return replay(pieces, exc)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def read_all(self, limit: int) -> bytes:
        await self._continue()
        try:
            async with asyncio.timeout(self._timeout):
                return await self._body.read_all(limit)
        except TimeoutError:
            raise self._timed_out() from None
        except (ObjstoreError, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise IncompleteBody(f"the request body could not be read: {exc}") from exc
