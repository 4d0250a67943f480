"""Request bodies as the handlers read them: plain or aws-chunked, checked as they stream.

Every class here implements :class:`objstore.gateway.caller.RequestBody` over an
aiohttp ``StreamReader`` (``request.content``):

* :class:`PlainBody` - the body as sent; with a hex ``x-amz-content-sha256`` the hash
  is checked after the last byte and a mismatch raises XAmzContentSHA256Mismatch
  instead of ending the iteration, so an upload consuming it aborts.
* :class:`ChunkedBody` - ``Content-Encoding: aws-chunked`` in the payload modes
  ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (every chunk's signature verified, chained from
  the seed signature), ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` and
  ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`` (``x-amz-checksum-*`` trailers, their
  signature verified); ``x-amz-decoded-content-length`` is enforced when sent.
* :class:`BufferedBody` - a body already read (IAM/STS requests whose signature covers
  the body's hash).

Memory stays bounded: chunk header and trailer lines have length limits, chunk data is
passed on in the pieces the connection delivers, never gathered whole.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType

from aiohttp import StreamReader
from aiohttp.http_exceptions import HttpProcessingError

from objstore.checksums import ALGORITHMS
from objstore.errors import (
    IncompleteBody,
    InternalError,
    InvalidRequest,
    MalformedTrailerError,
    MaxMessageLengthExceeded,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from objstore.gateway import sigv4

__all__ = ["BufferedBody", "ChunkedBody", "PlainBody", "declared_trailers"]

MAX_LINE = 4096  # a chunk header is ~90 bytes; a trailer line ~100
MAX_TRAILERS = 16
PIECE = 1 << 20  # the most one read asks the connection for
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,15}")
# The trailers objstore can check: one per checksum algorithm it computes.
TRAILER_NAMES = frozenset("x-amz-checksum-" + a.lower() for a in ALGORITHMS)
_NO_TRAILERS: Mapping[str, str] = MappingProxyType({})


def declared_trailers(header: str) -> tuple[str, ...]:
    """The trailer names an ``x-amz-trailer`` header announces, lower-case.

    Raises InvalidRequest for a name that is not a checksum objstore computes (S3's
    answer): an announced ``x-amz-checksum-sha512`` was read and never compared, so the
    body was stored whatever the client's checksum said (review rev11b, F6)."""
    names = tuple(n.strip().lower() for n in header.split(",") if n.strip())
    if any(n not in TRAILER_NAMES for n in names):
        raise InvalidRequest("The value specified in the x-amz-trailer header is not supported")
    return names


class _Body:
    """What every body shares: one pass, ``read_all``, declared length, trailers."""

    def __init__(self, length: int | None) -> None:
        self._length = length
        self._trailers: Mapping[str, str] = _NO_TRAILERS
        self._started = False

    @property
    def length(self) -> int | None:
        return self._length

    @property
    def trailers(self) -> Mapping[str, str]:
        return self._trailers

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._started:
            raise InternalError("the request body was read already")
        self._started = True
        return self._pieces()

    def _pieces(self) -> AsyncIterator[bytes]:
        raise NotImplementedError

    async def read_all(self, limit: int) -> bytes:
        """The whole payload; raises MaxMessageLengthExceeded beyond ``limit`` bytes,
        and whatever the payload's checks raise."""
        if self._length is not None and self._length > limit:
            raise MaxMessageLengthExceeded("Your request was too big.", MaxMessageLength=limit)
        parts: list[bytes] = []
        size = 0
        async for piece in self:
            size += len(piece)
            if size > limit:
                raise MaxMessageLengthExceeded("Your request was too big.", MaxMessageLength=limit)
            parts.append(piece)
        return b"".join(parts)


async def _read(content: StreamReader, n: int) -> bytes:
    """Up to ``n`` bytes (b"" at the end); a connection that broke is IncompleteBody."""
    try:
        return await content.read(n)
    except (HttpProcessingError, ConnectionError) as exc:
        raise IncompleteBody(f"The request body terminated unexpectedly: {exc}") from None


class BufferedBody(_Body):
    """A payload read already (and checked by whoever read it)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self._data = data

    async def _pieces(self) -> AsyncIterator[bytes]:
        if self._data:
            yield self._data


class PlainBody(_Body):
    """The body as sent, hash-checked at its end when ``sha256`` (hex) is given.

    ``length`` is the request's Content-Length (None: chunked transfer encoding).
    Raises IncompleteBody when fewer bytes arrive, XAmzContentSHA256Mismatch.
    """

    def __init__(self, content: StreamReader, length: int | None, sha256: str | None) -> None:
        super().__init__(length)
        self._content = content
        self._sha256 = sha256.lower() if sha256 is not None else None

    async def _pieces(self) -> AsyncIterator[bytes]:
        digest = hashlib.sha256() if self._sha256 is not None else None
        size = 0
        while data := await _read(self._content, PIECE):
            size += len(data)
            if digest is not None:
                digest.update(data)
            yield data
        if self._length is not None and size < self._length:
            raise IncompleteBody("The request body terminated unexpectedly")
        if digest is not None and self._sha256 is not None:
            computed = digest.hexdigest()
            if computed != self._sha256:
                raise XAmzContentSHA256Mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    ClientComputedContentSHA256=self._sha256,
                    S3ComputedContentSHA256=computed,
                )


class ChunkedBody(_Body):
    """An aws-chunked payload, decoded and checked chunk by chunk.

    ``mode`` is the request's ``x-amz-content-sha256`` (one of ``sigv4.STREAMING_MODES``);
    the signed modes need ``request`` (the verified seed request) and ``key`` (its
    signing key). ``declared_trailers`` are the names ``x-amz-trailer`` announced.

    Raises, at the point it is detected: SignatureDoesNotMatch (a chunk's or the
    trailer's signature), IncompleteBody (the body ends early, or short of
    ``decoded_length``), InvalidRequest (bad framing; more data than
    ``decoded_length``), MalformedTrailerError (trailers malformed, missing or not
    announced).
    """

    def __init__(
        self,
        content: StreamReader,
        mode: str,
        *,
        decoded_length: int | None,
        request: sigv4.SignedRequest | None = None,
        key: bytes | None = None,
        declared_trailers: tuple[str, ...] = (),
    ) -> None:
        super().__init__(decoded_length)
        if mode not in sigv4.STREAMING_MODES:
            raise InternalError(f"not a streaming payload mode: {mode}")
        self._signed = mode != sigv4.STREAMING_UNSIGNED_TRAILER
        self._with_trailers = mode != sigv4.STREAMING_SIGNED
        if self._signed and (request is None or key is None):
            raise InternalError("a signed aws-chunked body needs its seed request and key")
        if any(n not in TRAILER_NAMES for n in declared_trailers):
            raise InternalError(f"unsupported trailers announced: {declared_trailers}")
        self._content = content
        self._request = request
        self._key = key
        self._previous = request.signature if request is not None else ""
        self._declared = declared_trailers
        self._buf = bytearray()
        self._eof = False

    # ------------------------------------------------------------ reading

    async def _fill(self) -> bool:
        """Read more into the buffer; False at the end of the body."""
        if self._eof:
            return False
        data = await _read(self._content, PIECE)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    async def _line(self, what: str) -> bytes:
        """The next CRLF-terminated line (without it), at most MAX_LINE bytes."""
        start = 0
        while True:
            end = self._buf.find(b"\r\n", start)
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 2]
                return line
            if len(self._buf) > MAX_LINE:
                raise InvalidRequest(f"aws-chunked {what} line longer than {MAX_LINE} bytes")
            start = max(0, len(self._buf) - 1)
            if not await self._fill():
                raise IncompleteBody("The request body terminated unexpectedly")

    async def _data(self, size: int) -> AsyncIterator[bytes]:
        """``size`` bytes of chunk data, in the pieces they arrive in."""
        left = size
        while left:
            if not self._buf:
                # Straight from the connection: read() never returns more than asked,
                # so the bytes after this chunk stay there and nothing is copied twice.
                data = b"" if self._eof else await _read(self._content, min(left, PIECE))
                if not data:
                    raise IncompleteBody("The request body terminated unexpectedly")
                left -= len(data)
                yield data
                continue
            take = min(left, len(self._buf))
            if take == len(self._buf):
                piece = bytes(self._buf)
                self._buf.clear()
            else:
                piece = bytes(self._buf[:take])
                del self._buf[:take]
            left -= take
            yield piece

    # ------------------------------------------------------------ decoding

    def _header(self, line: bytes) -> tuple[int, str | None]:
        size_text, _, ext = line.partition(b";")
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise InvalidRequest("malformed aws-chunked chunk header")
        signature = None
        if self._signed:
            name, eq, value = ext.partition(b"=")
            if name.strip() != b"chunk-signature" or not eq:
                raise InvalidRequest("aws-chunked chunk without its chunk-signature")
            signature = value.strip().decode("ascii", "replace")
        return int(size_text, 16), signature

    def _check_signature(self, provided: str | None, data_sha256: str) -> None:
        assert self._request is not None and self._key is not None and provided is not None
        to_sign = chunk_string_to_sign(self._request, self._previous, data_sha256)
        expected = sigv4.sign(self._key, to_sign)
        if not sigv4.signatures_equal(expected, provided):
            raise SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
                AWSAccessKeyId=self._request.access_key_id,
                StringToSign=to_sign,
                SignatureProvided=provided,
            )
        self._previous = expected

    async def _pieces(self) -> AsyncIterator[bytes]:
        total = 0
        while True:
            size, signature = self._header(await self._line("chunk header"))
            if self._length is not None and total + size > self._length:
                raise InvalidRequest(
                    "The aws-chunked body holds more data than x-amz-decoded-content-length"
                )
            digest = hashlib.sha256() if self._signed else None
            async for piece in self._data(size):
                if digest is not None:
                    digest.update(piece)
                yield piece
            total += size
            if size and await self._line("chunk end"):
                raise InvalidRequest("aws-chunked chunk data longer than its declared size")
            if self._signed:
                assert digest is not None
                self._check_signature(signature, digest.hexdigest())
            if size == 0:
                break
        if self._length is not None and total < self._length:
            raise IncompleteBody(
                "The request body terminated unexpectedly",
                ExpectedLength=self._length,
                ReceivedLength=total,
            )
        if self._with_trailers:
            self._trailers = await self._read_trailers()
        elif await self._line("final"):
            raise InvalidRequest("data after the final aws-chunked chunk")
        await self._expect_end()

    async def _read_trailers(self) -> Mapping[str, str]:
        found: dict[str, str] = {}
        signature: str | None = None
        canonical: list[str] = []
        while line := await self._line("trailer"):
            name, colon, value = line.decode("utf-8", "replace").partition(":")
            name, value = name.strip().lower(), value.strip()
            if not colon or len(found) >= MAX_TRAILERS:
                raise MalformedTrailerError(
                    "The request contained trailing data that was not well-formed."
                )
            if name == "x-amz-trailer-signature" and signature is None:
                signature = value
            elif (
                # Only announced trailers (known checksums, see declared_trailers): an
                # unannounced checksum was read and never compared, so a damaged body
                # was stored (review 10c, F2).
                name in self._declared and name not in found
            ):
                found[name] = value
                canonical.append(f"{name}:{value}\n")
            else:
                raise MalformedTrailerError(f"The trailer {name!r} was not announced or repeated.")
        missing = [n for n in self._declared if n not in found]
        if missing:
            raise MalformedTrailerError(f"The announced trailer {missing[0]} is missing.")
        if self._signed:
            assert self._request is not None and self._key is not None
            if signature is None:
                raise MalformedTrailerError("The trailer signature is missing.")
            digest = hashlib.sha256("".join(sorted(canonical)).encode()).hexdigest()
            to_sign = trailer_string_to_sign(self._request, self._previous, digest)
            if not sigv4.signatures_equal(sigv4.sign(self._key, to_sign), signature):
                raise SignatureDoesNotMatch(
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your key and signing method.",
                    AWSAccessKeyId=self._request.access_key_id,
                    StringToSign=to_sign,
                    SignatureProvided=signature,
                )
        elif signature is not None:
            raise MalformedTrailerError("An unsigned payload's trailers carry no signature.")
        return MappingProxyType(found)

    async def _expect_end(self) -> None:
        if self._buf or await self._fill():
            raise InvalidRequest("data after the end of the aws-chunked body")


# -------------------------------------------- what chunk and trailer signatures sign


def chunk_string_to_sign(req: sigv4.SignedRequest, previous: str, chunk_sha256: str) -> str:
    """What a chunk's signature signs: the previous signature and the chunk's hash."""
    return (
        f"{sigv4.ALGORITHM}-PAYLOAD\n{req.amz_date}\n{req.scope}\n{previous}\n"
        f"{sigv4.EMPTY_SHA256}\n{chunk_sha256}"
    )


def trailer_string_to_sign(req: sigv4.SignedRequest, previous: str, trailer_sha256: str) -> str:
    """What the trailer signature signs: the last chunk's signature and the trailers' hash."""
    return f"{sigv4.ALGORITHM}-TRAILER\n{req.amz_date}\n{req.scope}\n{previous}\n{trailer_sha256}"
