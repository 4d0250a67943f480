"""The gateway's aiohttp application: one dispatcher for S3, IAM and STS.

Every request goes through :func:`_dispatch`: it finds the bucket and key (path-style
``/bucket/key`` or virtual-hosted ``bucket.<domain>/key``), authenticates the request
(SigV4 by default, see ``auth.py``), and routes it by the credential scope's service:
``s3`` (and unsigned requests) to the S3 handlers, ``iam``/``sts`` (and an unsigned
``AssumeRoleWithWebIdentity`` form) to the Query API. Every answer carries
``x-amz-request-id``, ``x-amz-id-2`` and ``Server``; every failure is an S3 error
document with the error's status (no body for HEAD), and an unexpected exception is
logged and answered as ``InternalError``.

Handlers act through an :class:`~objstore.aio.AsyncClient` for the caller, so the
engine authorizes every call and each store call is one worker-thread hop.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, unquote_to_bytes

from aiohttp import web

from objstore import errors
from objstore.aio import AsyncClient, AsyncStore
from objstore.gateway.auth import DEFAULT_DOMAINS, make_authenticator
from objstore.gateway.body import (
    BODY_TIMEOUT,
    TIMED_OUT,
    ContinuedBody,
    must_close,
    settle,
    uninvited,
)
from objstore.gateway.caller import Authenticate
from objstore.gateway.errors import as_objstore_error, error_response
from objstore.gateway.hosts import VirtualHosts
from objstore.gateway.post_auth import FORM_AUTHENTICATOR, FormAuthenticator
from objstore.gateway.query import handle_query
from objstore.gateway.query.handler import error_response as query_error_response
from objstore.gateway.s3 import cors, routing
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.gateway.s3.handlers import HANDLERS
from objstore.gateway.s3.headers import check_write_headers, public_acl_asked
from objstore.gateway.s3.objects import error_headers
from objstore.store import Store

SERVER_NAME = "objstore"
# Requests served at once; beyond it clients get S3's 503 SlowDown and retry.
DEFAULT_MAX_REQUESTS = 1024
# Seconds a request body may stall (no byte arriving) before the upload is aborted.
DEFAULT_BODY_TIMEOUT = 60.0
# Seconds a connection may go without a complete request head (idle keep-alive
# connections, and clients that send their head slowly) before it is closed.
DEFAULT_IDLE_TIMEOUT = 75.0
# The most seconds spent reading and dropping a small unread body after an early answer.
SETTLE_TIME = 5.0
# The answer to a request that arrives once a graceful stop began (503, as S3 sheds load).
_STOPPING_MESSAGE = "Service is unable to handle request: the server is stopping; retry."


class InFlight:
    """Requests being served, so a graceful stop can wait for them (aiohttp's own
    shutdown stops reading request bodies at once, which would stall an upload), and
    whether the stop began: from then on new requests are refused (:meth:`refuse_new`)."""

    def __init__(self) -> None:
        self.count = 0
        self.stopping = False
        self._tasks: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)

    def leave(self) -> None:
        self.count -= 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.discard(task)
        if self.count == 0:
            self._idle.set()

    def refuse_new(self) -> None:
        """A graceful stop began: requests that start from now on are answered 503
        ServiceUnavailable and their connections closed. Once the stop shuts the
        connections aiohttp drops every byte that arrives, so a request let in now could
        never read its body (the client would wait for an answer until the body
        timeout)."""
        self.stopping = True

    async def wait_idle(self, timeout: float) -> bool:
        """Whether every request finished within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def cancel(self, timeout: float) -> bool:
        """Cancel the requests still being served; whether they all ended within
        ``timeout`` seconds."""
        for task in list(self._tasks):
            task.cancel()
        return await self.wait_idle(timeout)


IN_FLIGHT = web.AppKey("objstore.in_flight", InFlight)
# The app's idle timeout, for the runner that serves it (server.make_runner).
IDLE_TIMEOUT = web.AppKey("objstore.idle_timeout", float)
_STORE = web.AppKey("objstore.store", AsyncStore)
_REQUEST_ID = web.RequestKey("objstore.request_id", str)
_HOST_ID = web.RequestKey("objstore.host_id", str)
_QUERY_SERVICES = ("iam", "sts")
_FORM = "application/x-www-form-urlencoded"
# Every path: aiohttp matches routes against the decoded path, where a key may hold any
# character ("." would not match a newline, and such keys would be unreachable).
_ANY_PATH = r"/{tail:[\s\S]*}"


def create_app(
    store: Store,
    *,
    region: str = "us-east-1",
    authenticate: Authenticate | None = None,
    domains: Sequence[str] = DEFAULT_DOMAINS,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> web.Application:
    """The gateway for ``store`` as an aiohttp application (add it to another one with
    ``add_subapp`` or run it with :mod:`objstore.gateway.server`).

    ``authenticate`` turns a request into a :class:`Caller` (default: SigV4 against the
    store's access keys, ``objstore.gateway.auth``); the signed forms of browser uploads
    (``POST /bucket``) are checked against the store's keys either way
    (``objstore.gateway.post_auth``). ``domains`` are the host names
    served path-style; ``bucket.<domain>`` addresses a bucket virtual-hosted-style.
    ``body_timeout``: seconds a request body may go without a byte arriving (then the
    upload stores nothing, the client gets RequestTimeout and the connection closes).
    ``idle_timeout``: seconds a connection may wait for a complete request head (used
    by :func:`objstore.gateway.server.make_runner`; an embedder's own runner sets its
    ``keepalive_timeout``). The store stays the caller's to close.
    """
    if authenticate is None:
        authenticate = make_authenticator(store, region=region, domains=domains)
    app = web.Application(client_max_size=MAX_XML_BODY)
    app[_STORE] = AsyncStore(store)
    app[IN_FLIGHT] = InFlight()
    app[FORM_AUTHENTICATOR] = FormAuthenticator(app[_STORE], region=region)
    app[IDLE_TIMEOUT] = idle_timeout
    gateway = _Gateway(
        app[_STORE],
        region,
        authenticate,
        _Addressing(domains),
        asyncio.Semaphore(max_requests),
        app[IN_FLIGHT],
        body_timeout,
    )
    app.router.add_route("*", _ANY_PATH, gateway.dispatch, expect_handler=_expect_later)
    app.on_response_prepare.append(_stamp)
    app.on_response_prepare.append(cors.answer_hook(app[_STORE]))
    return app


async def _expect_later(request: web.Request) -> None:
    """aiohttp answers ``100 Continue`` before the handler runs; the gateway answers it
    only once the request is authorized (see :class:`ContinuedBody`)."""


async def _stamp(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, streamed ones included, names its request and server; one that
    leaves part of its request's body unread says it closes the connection."""
    response.headers.setdefault("x-amz-request-id", request.get(_REQUEST_ID, ""))
    response.headers.setdefault("x-amz-id-2", request.get(_HOST_ID, ""))
    response.headers["Server"] = SERVER_NAME
    if must_close(request):
        # Both: aiohttp decides the Connection header before this hook runs (3.14).
        response.force_close()
        response.headers["Connection"] = "close"


class _Addressing:
    """Bucket and key of a request, path-style or virtual-hosted-style."""

    def __init__(self, domains: Iterable[str]) -> None:
        self.hosts = VirtualHosts(domains)

    def locate(self, request: web.Request) -> tuple[str | None, str | None]:
        """(bucket, key) of ``request``. Raises InvalidURI (a path that is not UTF-8)."""
        raw = request.raw_path.split("?", 1)[0]
        if not raw.startswith("/"):
            # An absolute-form target ("PUT http://host/key"): its path, as authentication
            # signs it; the whole URL as the key let a URL signed for "key" write
            # "http://host/key" too (review 10c, F9).
            raw = request.rel_url.raw_path
        if "%" in raw or not raw.isascii():
            try:
                path = unquote_to_bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise errors.InvalidURI("Couldn't parse the specified URI.") from None
        else:
            path = raw  # nothing encoded: unquoting would give it back
        path = path[1:] if path.startswith("/") else path
        bucket = self.hosts.bucket_of(request.host or "")
        if bucket is None:
            name, _, key = path.partition("/")
            return (name or None), (key or None)
        return bucket, (path or None)


class _Gateway:
    def __init__(
        self,
        store: AsyncStore,
        region: str,
        authenticate: Authenticate,
        addressing: _Addressing,
        slots: asyncio.Semaphore,
        in_flight: InFlight,
        body_timeout: float,
    ) -> None:
        self._store = store
        self._region = region
        self._authenticate = authenticate
        self._addressing = addressing
        self._slots = slots
        self._in_flight = in_flight
        self._body_timeout = body_timeout

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        request[BODY_TIMEOUT] = self._body_timeout
        refused = self._in_flight.stopping
        self._in_flight.enter()
        try:
            response = await self._answer(request, refused=refused)
            if response.prepared:
                return response
            if refused:
                # Nothing more is read on this connection (see InFlight.refuse_new): no
                # settling, and the client learns not to send its next request here.
                response.force_close()
                if uninvited(request):
                    # No body will come: close at once (aiohttp would linger for it,
                    # and its shutdown waits for that). A body being sent is read and
                    # dropped while aiohttp lingers, so the client sees this answer
                    # rather than a reset.
                    await response.prepare(request)
                    await response.write_eof()
                    request.protocol.force_close()
                return response
            await settle(request, min(self._body_timeout, SETTLE_TIME))
            if request.get(TIMED_OUT, False):
                # A stalled client: answer, then drop the connection at once (aiohttp
                # would otherwise linger reading a body that does not come).
                await response.prepare(request)
                await response.write_eof()
                request.protocol.force_close()
            return response
        finally:
            self._in_flight.leave()

    async def _answer(self, request: web.Request, *, refused: bool) -> web.StreamResponse:
        raw = os.urandom(32)  # one system call for both ids
        request_id = raw[:8].hex().upper()
        host_id = base64.b64encode(raw[8:]).decode("ascii")
        request[_REQUEST_ID] = request_id
        request[_HOST_ID] = host_id
        try:
            if refused:
                raise errors.ServiceUnavailable(_STOPPING_MESSAGE)
            if self._slots.locked():
                raise errors.SlowDown("Please reduce your request rate.")
            async with self._slots:
                return await self._serve(request, request_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            err = as_objstore_error(exc, f"{request.method} {request.path}")
            service = _query_service_of(request)
            if service is not None:
                # boto3's iam/sts clients read only the Query error form ("Unknown" otherwise).
                return query_error_response(service, err, request_id=request_id)
            return error_response(
                err,
                method=request.method,
                resource=request.path,
                headers=error_headers(err),
                request_id=request_id,
                host_id=host_id,
            )

    async def _serve(self, request: web.Request, request_id: str) -> web.StreamResponse:
        bucket, key = self._addressing.locate(request)
        if bucket is not None:
            request[cors.CORS_BUCKET] = bucket  # its answer gets the CORS headers
            if request.method == "OPTIONS":
                return await cors.preflight(self._store, request, bucket, key)  # unsigned
        caller = await self._authenticate(request)
        body = ContinuedBody(caller.body, request)
        client = self._store.client_for(caller.identity)
        service = caller.service
        if service in _QUERY_SERVICES or (
            service is None
            and bucket is None
            and request.method == "POST"
            and request.content_type == _FORM
        ):
            return await _query(service or "sts", request, body, client, request_id)
        op = routing.operation(request.method, bucket, key, request.query, request.headers)
        try:
            check_write_headers(op, request.headers, caller.identity.account)
        except errors.AccessControlListNotSupported:
            # BlockPublicAcls refuses a public ACL with AccessDenied, as S3 (before ACLs
            # being disabled refuses every ACL granting others anything).
            if (
                bucket is not None
                and public_acl_asked(op, request.headers)
                and await self._store.public_acls_blocked(bucket)
            ):
                raise errors.AccessDenied("Access Denied") from None
            raise
        s3 = S3Request(
            request=request,
            client=client,
            body=body,
            bucket=bucket,
            key=key,
            query=request.rel_url.query,
            region=self._region,
            account=caller.identity.account,
        )
        return await HANDLERS[op](s3)


async def _query(
    service: str,
    request: web.Request,
    body: ContinuedBody,
    client: AsyncClient,
    request_id: str,
) -> web.StreamResponse:
    """Hand an IAM or STS Query request (form fields, then query-string fields) to
    :func:`objstore.gateway.query.handle_query`."""
    pairs: list[tuple[str, str]] = []
    if request.content_type == _FORM:
        raw = await body.read_all(MAX_XML_BODY)
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise errors.InvalidArgument("the form is not valid UTF-8") from None
    pairs.extend(request.query.items())
    return await handle_query(service, pairs, client, request_id=request_id)


def _query_service_of(request: web.Request) -> str | None:
    """``"iam"``/``"sts"`` when a request that failed (before or after authentication) was
    meant for a Query API: its SigV4 credential scope names the service, or it is an
    unsigned form POST to the service root (STS's AssumeRoleWithWebIdentity)."""
    auth = request.headers.get("Authorization", "")
    _, found, rest = auth.partition("Credential=")
    credential = rest.split(",", 1)[0] if found else request.query.get("X-Amz-Credential", "")
    parts = credential.strip().split("/")
    if len(parts) == 5:
        return parts[3] if parts[3] in _QUERY_SERVICES else None
    if not auth and request.method == "POST" and request.path == "/":
        return "sts" if request.content_type == _FORM else None
    return None
