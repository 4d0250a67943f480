"""Headers of an object's attributes beyond metadata (pure: no I/O): S3's additional
checksums (``x-amz-checksum-*``, as headers or as trailers of a streaming upload),
``Content-MD5``, the system headers (``Cache-Control``, ``Content-Disposition``,
``Content-Encoding``, ``Content-Language``, ``Expires``) and tagging
(``x-amz-tagging``, ``x-amz-tagging-count``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from multidict import CIMultiDictProxy

from objstore import checksums
from objstore.blob.ingest import MD5
from objstore.checksums import ALGORITHMS
from objstore.errors import InvalidRequest, MalformedTrailerError
from objstore.gateway.caller import RequestBody
from objstore.ns.integrity import integrity

# Library argument -> header, for the system headers S3 stores and returns.
SYSTEM_HEADERS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "expires": "Expires",
}
_CHECKSUM_PREFIX = "x-amz-checksum-"


def checksum_header(algorithm: str) -> str:
    """``x-amz-checksum-crc32`` for ``CRC32`` ..."""
    return _CHECKSUM_PREFIX + algorithm.lower()


class Attributes(Protocol):
    """What ObjectInfo and an open body tell beyond the basics (all optional)."""

    @property
    def checksums(self) -> dict[str, str]: ...
    @property
    def checksum_type(self) -> str | None: ...
    @property
    def cache_control(self) -> str | None: ...
    @property
    def content_disposition(self) -> str | None: ...
    @property
    def content_encoding(self) -> str | None: ...
    @property
    def content_language(self) -> str | None: ...
    @property
    def expires(self) -> str | None: ...
    @property
    def tag_count(self) -> int: ...


def system_args(headers: CIMultiDictProxy[str]) -> dict[str, Any]:
    """The system headers of an upload as the library's keyword arguments.

    ``aws-chunked`` is the transfer framing of a streaming upload, not the object's
    encoding, so it is dropped from ``Content-Encoding`` (as S3 does)."""
    out: dict[str, str | None] = {arg: headers.get(h) for arg, h in SYSTEM_HEADERS.items()}
    encoding = out["content_encoding"]
    if encoding is not None:
        kept = [e.strip() for e in encoding.split(",")]
        kept = [e for e in kept if e and e.lower() != "aws-chunked"]
        out["content_encoding"] = ", ".join(kept) or None
    return out


def checksum_args(headers: CIMultiDictProxy[str], body: RequestBody) -> dict[str, Any]:
    """An upload's checksum arguments: the algorithm the client names, the values it
    sends as headers, or (declared in ``x-amz-trailer``) a callable reading them from
    the body's trailers once the body has ended; and ``Content-MD5``."""
    algorithm = headers.get("x-amz-sdk-checksum-algorithm") or headers.get(
        "x-amz-checksum-algorithm"
    )
    given = {a: headers[checksum_header(a)] for a in ALGORITHMS if checksum_header(a) in headers}
    declared = {t.strip().lower() for t in headers.get("x-amz-trailer", "").split(",")}
    trailing = [a for a in ALGORITHMS if checksum_header(a) in declared]
    supplied: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = given or None
    if given and trailing:
        # Which one would be checked? Neither silently (review 10c, F6).
        raise InvalidRequest(
            "Expecting a single x-amz-checksum- header: a checksum header and an announced "
            "checksum trailer were both sent"
        )
    if trailing:

        def from_trailers() -> Mapping[str, str]:
            trailers = body.trailers
            for a in trailing:
                if checksum_header(a) not in trailers:
                    # Announced but never sent (also: a payload mode that carries no
                    # trailers): it was taken for "no checksum" (review 10c, F6).
                    raise MalformedTrailerError(
                        f"The announced trailer {checksum_header(a)} is missing."
                    )
            return {a: trailers[checksum_header(a)] for a in trailing}

        supplied = from_trailers
    if algorithm is None and (given or trailing):
        algorithm = next(iter(given)) if given else trailing[0]
    return {
        "checksum_algorithm": algorithm.upper() if algorithm else None,
        "checksums": supplied,
        "content_md5": headers.get("Content-MD5"),
    }


def check_whole_body(
    headers: CIMultiDictProxy[str], body: RequestBody, data: bytes, *, required: bool = True
) -> None:
    """The integrity check of a request's body: a ``Content-MD5`` or an
    ``x-amz-checksum-*`` value (header or trailer), checked against ``data``, the whole
    body, read. S3 wants one (``required``) for DeleteObjects and the object-lock PUTs,
    and checks any it is given on every other request.

    Raises InvalidRequest (``required`` and neither given, or a malformed value),
    InvalidDigest, BadDigest."""
    args = checksum_args(headers, body)
    spec = integrity(args["checksum_algorithm"], args["checksums"], args["content_md5"])
    if spec.content_md5 is None and spec.expected is None and spec.later is None:
        if not required:
            return
        raise InvalidRequest("Missing required header for this request: Content-MD5")
    computed: dict[str, bytes] = {}
    if spec.content_md5 is not None:
        computed[MD5] = hashlib.md5(data, usedforsecurity=False).digest()
    if spec.algorithm is not None:
        computed[spec.algorithm] = checksums.digest(spec.algorithm, data)
    spec.verify(computed)


def checksum_headers(values: Mapping[str, str], checksum_type: str | None) -> dict[str, str]:
    """``x-amz-checksum-*`` (and ``x-amz-checksum-type``) of an answer."""
    out = {checksum_header(a): v for a, v in values.items()}
    if out and checksum_type:
        out["x-amz-checksum-type"] = checksum_type
    return out


def object_attribute_headers(obj: Attributes) -> dict[str, str]:
    """The GET/HEAD headers of an object's checksums, system headers and tag count."""
    out = checksum_headers(obj.checksums, obj.checksum_type)
    for arg, header in SYSTEM_HEADERS.items():
        value = getattr(obj, arg)
        if value:
            out[header] = value
    if obj.tag_count:
        out["x-amz-tagging-count"] = str(obj.tag_count)
    return out


def checksum_mode(headers: CIMultiDictProxy[str]) -> bool:
    """Whether a GET/HEAD asks for the stored checksums (``x-amz-checksum-mode``)."""
    return headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
