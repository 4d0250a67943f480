"""The gateway's default authentication: an aiohttp request -> a :class:`Caller`.

An unsigned request is the anonymous principal (bucket policies decide what it may do).
A signed one (SigV4 header or presigned URL, see ``sigv4.py``; S3 also takes SigV2,
``sigv2.py``, which boto3 presigns with by default) is checked in S3's order: syntax,
credential scope against the gateway's region, time window, the access key (long-term,
or temporary with its session token, looked up through the identity layer), then the
signature in constant time. The payload mode of
``x-amz-content-sha256`` picks the body decoder (``chunked.py``), whose checks run as
the handler reads the body. Every identity carries the connection's facts for the
``aws:SourceIp``, ``aws:SecureTransport``, ``aws:UserAgent`` and ``aws:Referer``
condition keys; the client's own ``X-Forwarded-For`` is never trusted.
"""

from __future__ import annotations

import asyncio
import hashlib
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from aiohttp import web

from objstore.authz import Identity
from objstore.errors import (
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidClientTokenId,
    InvalidRequest,
    InvalidToken,
)
from objstore.gateway import sigv2, sigv4, sigv4_checks
from objstore.gateway.body import ContinuedBody
from objstore.gateway.caller import Authenticate, Caller, RequestBody
from objstore.gateway.chunked import BufferedBody, ChunkedBody, PlainBody, declared_trailers
from objstore.gateway.hosts import VirtualHosts
from objstore.identity.layer import IdentityLayer

__all__ = ["MAX_SIGNED_BODY", "credentials_for", "make_authenticator", "request_body"]

# IAM/STS requests sign their body's hash, so it is read before the signature is checked;
# Query API forms are far smaller than this.
MAX_SIGNED_BODY = 2 * 1024 * 1024
# Host names served path-style; ``bucket.<domain>`` is virtual-hosted (SigV2 signs the
# bucket of such a request, so authentication must know them as the app does).
DEFAULT_DOMAINS = ("localhost", "s3.localhost")


def _split_target(request: web.Request) -> tuple[str, str]:
    """The request target's path and query exactly as sent (still percent-encoded)."""
    target = request.raw_path
    if not target.startswith("/"):  # absolute-form (a proxy-style request line)
        url = request.rel_url
        return url.raw_path, url.raw_query_string
    path, _, query = target.partition("?")
    return path, query.partition("#")[0]


# Identity's fields in the order its constructor takes them (all are init fields, none
# keyword-only: checked here), so _network can copy one positionally.
_IDENTITY_FIELDS = tuple(f.name for f in fields(Identity))
assert all(f.init and not f.kw_only for f in fields(Identity))
_identity_values = operator.attrgetter(*_IDENTITY_FIELDS)
_NETWORK_AT = tuple(
    _IDENTITY_FIELDS.index(n) for n in ("source_ip", "secure_transport", "user_agent", "referer")
)


def _network(request: web.Request, identity: Identity) -> Identity:
    """``identity`` with the connection's facts (``dataclasses.replace``, at half its
    cost: this runs for every request)."""
    headers = request.headers
    values = list(_identity_values(identity))
    ip, secure, agent, referer = _NETWORK_AT
    values[ip] = request.remote
    values[secure] = request.secure
    values[agent] = headers.get("User-Agent")
    values[referer] = headers.get("Referer")
    return Identity(*values)


def _decoded_length(request: web.Request) -> int | None:
    value = request.headers.get("x-amz-decoded-content-length")
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise InvalidArgument(
            "x-amz-decoded-content-length must be a non-negative integer",
            ArgumentName="x-amz-decoded-content-length",
            ArgumentValue=value,
        )
    return int(value)


def request_body(
    request: web.Request,
    mode: str | None,
    signed: sigv4.SignedRequest | None = None,
    key: bytes | None = None,
) -> RequestBody:
    """The decoder for a request's body in payload mode ``mode`` (``x-amz-content-sha256``).

    Raises InvalidRequest (a signed streaming mode on an unsigned request; an
    ``x-amz-trailer`` naming a checksum objstore does not compute),
    InvalidArgument (``x-amz-decoded-content-length`` not a number).
    """
    content = request.content
    # Whatever the payload mode: a checksum the client announced and objstore cannot
    # compute must not let the body be stored unchecked (review rev11b, F6).
    declared = declared_trailers(request.headers.get("x-amz-trailer", ""))
    if mode is None or mode == sigv4.UNSIGNED_PAYLOAD:
        return PlainBody(content, request.content_length, None)
    if mode not in sigv4.STREAMING_MODES:
        return PlainBody(content, request.content_length, mode)
    if mode != sigv4.STREAMING_UNSIGNED_TRAILER and key is None:
        raise InvalidRequest(f"x-amz-content-sha256 {mode} needs a request signed with SigV4")
    return ChunkedBody(
        content,
        mode,
        decoded_length=_decoded_length(request),
        request=signed,
        key=key,
        declared_trailers=declared,
    )


def _anonymous_mode(request: web.Request) -> str | None:
    # An unsigned request's payload mode still says how to read its body; the modes that
    # need a signature are refused by request_body().
    mode = request.headers.get("x-amz-content-sha256")
    if mode is None or mode == sigv4.UNSIGNED_PAYLOAD or mode in sigv4.STREAMING_MODES:
        return mode
    return mode if sigv4.is_sha256(mode) else None


def credentials_for(
    layer: IdentityLayer, access_key_id: str, session_token: str | None, service: str
) -> tuple[str, Identity]:
    """The secret and identity behind a request's key, with each service's error codes.

    Raises (S3) InvalidAccessKeyId, InvalidToken, ExpiredToken; (IAM, STS)
    InvalidClientTokenId, ExpiredToken."""
    try:
        return layer.signing_credentials(access_key_id, session_token)
    except InvalidClientTokenId:
        if service != "s3":
            raise
        if session_token is None:
            raise InvalidAccessKeyId(
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key_id,
            ) from None
        raise InvalidToken("The provided token is malformed or otherwise invalid.") from None
    except ExpiredToken:
        if service != "s3":
            raise
        raise ExpiredToken("The provided token has expired.") from None


def make_authenticator(
    store: Any,
    *,
    region: str,
    clock: Callable[[], float] = time.time,
    domains: Sequence[str] | None = None,
) -> Authenticate:
    """The SigV4 (and S3's SigV2) authenticator for ``store`` (an ``objstore.Store`` or
    ``AsyncStore``) serving ``region``; ``clock`` gives Unix seconds (tests move it).
    ``domains`` are the gateway's host names (default: the app's), so that a SigV2
    signature of a virtual-hosted request covers ``/bucket/key``.

    The returned coroutine function raises, for a request it refuses: the parse errors
    of :func:`sigv4.parse` and :func:`sigv2.parse`, AuthorizationHeaderMalformed /
    AuthorizationQueryParametersError (scope: date, service, region), RequestTimeTooSkewed,
    AccessDenied (presigned URL expired or not yet valid), InvalidAccessKeyId /
    InvalidToken / ExpiredToken (S3) or InvalidClientTokenId / ExpiredToken (IAM, STS),
    SignatureDoesNotMatch, InvalidRequest / InvalidArgument (payload mode).
    """
    layer: IdentityLayer = getattr(store, "sync", store).identity
    service = layer.service
    hosts = VirtualHosts(DEFAULT_DOMAINS if domains is None else domains)  # as the app's

    async def note_used(identity: Identity, service_name: str) -> None:
        key_id = identity.access_key_id
        # Long-term keys' last-used dates, as the library client records them (at most
        # once a minute per key, in a thread: it is a disk write).
        if key_id and identity.token_issued_at is None and service.last_used_due(key_id):
            await asyncio.to_thread(service.note_used, key_id, service_name)

    async def authenticate_v2(request: web.Request, signed: sigv2.V2Request) -> Caller:
        sigv2.check_time(signed, clock())
        secret, identity = credentials_for(layer, signed.access_key_id, signed.session_token, "s3")
        sigv2.verify(signed, secret)
        del secret
        await note_used(identity, "s3")
        body = request_body(request, _anonymous_mode(request))
        return Caller(_network(request, identity), "s3", region, body)

    async def authenticate(request: web.Request) -> Caller:
        path, query = _split_target(request)
        headers = request.headers.items()
        maps = sigv4.request_maps(query, headers)  # one pass for both signature versions
        old = sigv2.parse(
            request.method,
            path,
            query,
            headers,
            bucket=hosts.bucket_of(request.host),
            maps=maps,
        )
        if old is not None:
            return await authenticate_v2(request, old)
        signed = sigv4.parse(request.method, path, query, headers, maps=maps)
        if signed is None:
            body = request_body(request, _anonymous_mode(request))
            return Caller(_network(request, Identity.anonymous()), None, None, body)
        sigv4_checks.check_scope(signed, region)
        sigv4_checks.check_time(signed, clock())
        payload = signed.payload_hash()
        secret, identity = credentials_for(
            layer, signed.access_key_id, signed.session_token, signed.service
        )
        buffered = None
        if payload is None:
            # The signature covers the body's hash: read it (bounded) before checking.
            # A client waiting for "100 Continue" is invited first (body.py's rule).
            reader = ContinuedBody(
                PlainBody(request.content, request.content_length, None), request
            )
            data = await reader.read_all(MAX_SIGNED_BODY)
            payload = hashlib.sha256(data).hexdigest()
            buffered = BufferedBody(data)
        key = sigv4.verify(signed, secret, payload)
        del secret
        await note_used(identity, signed.service)
        body = buffered or request_body(request, payload, signed, key)
        return Caller(_network(request, identity), signed.service, signed.scope.region, body)

    return authenticate
