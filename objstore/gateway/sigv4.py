"""AWS Signature Version 4 for requests, pure: parse, canonicalize, verify (no I/O).

A request is signed either in the ``Authorization`` header or in a presigned URL's
``X-Amz-*`` query parameters. :func:`parse` reads whichever is present (None for an
unsigned request) into a :class:`SignedRequest`; :mod:`.sigv4_checks` applies the
gateway's region and clock to it; :func:`verify` recomputes the
signature from the caller's secret and compares it in constant time, returning the
signing key the aws-chunked decoder chains chunk signatures from.

Canonical URIs differ by service, as botocore signs them: S3 signs the path as sent
(encoded once, not normalized); IAM and STS sign the path with dot segments removed
and encoded a second time. The payload line is ``x-amz-content-sha256`` when sent; a
presigned S3 URL signs ``UNSIGNED-PAYLOAD``; IAM/STS requests without the header sign
the body's SHA-256, which the caller must compute before verifying.

No derived key is cached: deriving one costs four HMACs, and a cache keyed on
credentials would keep secrets in memory beyond the request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import quote, unquote, unquote_to_bytes

from objstore.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadRequest,
    InvalidArgument,
    InvalidRequest,
    SignatureDoesNotMatch,
)

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINAL = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MODES = frozenset(
    {STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER}
)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_S = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
SERVICES = ("s3", "iam", "sts")

_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z", re.ASCII)
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+", re.ASCII)
# A path of unreserved characters and slashes is its own canonical form (quote() of its
# unquoted bytes gives it back): the common case, checked without the round trip.
_CANONICAL_PATH = re.compile(r"[A-Za-z0-9_.~/-]*", re.ASCII)
_CREDENTIAL_FORM = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


@dataclass(frozen=True, slots=True)
class Scope:
    """The credential scope ``DATE/REGION/SERVICE/aws4_request``."""

    date: str
    region: str
    service: str
    terminal: str = TERMINAL

    def __str__(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminal}"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a SigV4-signed request asserts, with the parts its canonical request needs."""

    method: str
    raw_path: str
    access_key_id: str
    scope: Scope
    amz_date: str  # the signed timestamp, YYYYMMDDTHHMMSSZ
    timestamp: float  # the same, in Unix seconds
    signed_headers: tuple[str, ...]
    signature: str
    session_token: str | None
    presigned: bool
    expires: int | None  # presigned: X-Amz-Expires
    content_sha256: str | None  # x-amz-content-sha256 as sent (None: absent)
    canonical_query: str
    canonical_headers: str

    @property
    def service(self) -> str:
        return self.scope.service

    def payload_hash(self) -> str | None:
        """The canonical request's payload line, or None when it is the body's SHA-256
        (IAM/STS requests without ``x-amz-content-sha256``).

        Raises InvalidRequest (S3 header auth without ``x-amz-content-sha256``) and
        InvalidArgument (a value that is neither a payload mode nor a SHA-256).
        """
        value = self.content_sha256
        if value is None:
            if self.service != "s3":
                return None
            if self.presigned:
                return UNSIGNED_PAYLOAD
            raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
        if value == UNSIGNED_PAYLOAD or value in STREAMING_MODES or is_sha256(value):
            return value
        raise InvalidArgument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
            "or a valid sha256 value.",
            ArgumentName="x-amz-content-sha256",
            ArgumentValue=value,
        )

    def canonical_uris(self) -> tuple[str, ...]:
        """The canonical URI, and the path as sent when that differs (S3 only).

        S3 canonicalizes the decoded path; a client that signed exactly the path it sent,
        in another but equivalent encoding, is accepted too (same key either way).
        """
        raw = self.raw_path or "/"
        if self.service == "s3":
            if _CANONICAL_PATH.fullmatch(raw):
                return (raw,)
            canonical = quote(unquote_to_bytes(raw), safe="/~")
            return (canonical,) if canonical == raw else (canonical, raw)
        return (quote(_remove_dot_segments(raw), safe="/~"),)

    def canonical_request(self, uri: str, payload_hash: str) -> str:
        return "\n".join(
            (
                self.method,
                uri,
                self.canonical_query,
                self.canonical_headers + "\n",
                ";".join(self.signed_headers),
                payload_hash,
            )
        )

    def string_to_sign(self, canonical_request: str) -> str:
        digest = hashlib.sha256(wire_bytes(canonical_request)).hexdigest()
        return f"{ALGORITHM}\n{self.amz_date}\n{self.scope}\n{digest}"


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a hex SHA-256 digest."""
    return _SHA256_HEX.fullmatch(value) is not None


# ------------------------------------------------------------------ parsing


def parse(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    *,
    maps: RequestMaps | None = None,
) -> SignedRequest | None:
    """The SigV4 signature a request carries, or None when it is unsigned.

    ``raw_path`` and ``raw_query`` are the request target as sent (percent-encoded);
    ``headers`` every (name, value) pair, repeated names included; ``maps``, when
    given, is :func:`request_maps` of them (computed once for SigV2 and SigV4).

    Raises AuthorizationHeaderMalformed, AuthorizationQueryParametersError, InvalidArgument
    (two auth mechanisms; an unknown Authorization scheme), InvalidRequest (SigV2,
    which ``sigv2.py`` reads, or SigV4a), AccessDenied (no usable date; unsigned ``host`` or
    ``x-amz-*`` headers).
    """
    hmap, pairs, params = maps or request_maps(raw_query, headers)
    auth = hmap.get("authorization")
    query_auth = "X-Amz-Algorithm" in params
    v2_query = "Signature" in params and "AWSAccessKeyId" in params
    if auth is not None and (query_auth or v2_query):
        raise InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
            ArgumentValue=auth[0],
        )
    if auth is not None:
        return _from_header(method, raw_path, pairs, hmap, auth[0])
    if query_auth:
        return _from_query(method, raw_path, pairs, params, hmap)
    if v2_query:
        raise _unsupported()
    return None


def _unsupported() -> InvalidRequest:
    return InvalidRequest(
        "The authorization mechanism you have provided is not supported. "
        "Please use AWS4-HMAC-SHA256."
    )


RequestMaps = tuple[dict[str, list[str]], list[tuple[str, str]], dict[str, str]]


def request_maps(raw_query: str, headers: Iterable[tuple[str, str]]) -> RequestMaps:
    """The headers by lower-case name (every value), the query's (key, value) pairs as
    sent (still percent-encoded; empty parts skipped), and its decoded parameters (the
    first value of each)."""
    hmap: dict[str, list[str]] = {}
    for name, value in headers:
        hmap.setdefault(name.lower(), []).append(value)
    pairs = []
    for part in raw_query.split("&") if raw_query else ():
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(unquote(key), unquote(value))
    return hmap, pairs, params


def query_bytes(part: str) -> bytes:
    """A query name or value as the handlers read it (percent escapes, "+" a space)."""
    # A literal "+" in a query is a space to the handlers (form decoding, as S3 reads a
    # query), so it is signed as the space it is served as: canonicalised as %2B, a URL
    # signed for "team+a/" (sent as %2B) still verified with "+" and listed "team a/"
    # (review 10c, F10).
    return unquote_to_bytes(part.replace("+", " "))


def canonical_query(pairs: list[tuple[str, str]], *, skip_signature: bool) -> str:
    """The canonical query string of (key, value) pairs as sent: each part decoded and
    encoded again the one SigV4 way, sorted (``X-Amz-Signature`` left out if asked)."""
    encoded = sorted(
        (quote(query_bytes(k), safe="-_.~"), quote(query_bytes(v), safe="-_.~"))
        for k, v in pairs
        if not (skip_signature and unquote(k) == "X-Amz-Signature")
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def malformed(presigned: bool, message: str, **details: str) -> BadRequest:
    if presigned:
        return AuthorizationQueryParametersError(message, **details)
    return AuthorizationHeaderMalformed(
        "The authorization header is malformed; " + message, **details
    )


def _scope_of(credential: str, presigned: bool) -> tuple[str, Scope]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts[:4]):
        prefix = "Error parsing the X-Amz-Credential parameter; " if presigned else ""
        raise malformed(
            presigned, f"{prefix}the Credential is mal-formed; expecting {_CREDENTIAL_FORM}."
        )
    return parts[0], Scope(parts[1], parts[2], parts[3], parts[4])


def _signed_headers(value: str, presigned: bool) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not value or not all(_HEADER_NAME.fullmatch(n) for n in names):
        what = "X-Amz-SignedHeaders" if presigned else "SignedHeaders"
        raise malformed(presigned, f"the {what} value is malformed: {value!r}")
    return names


def _from_header(
    method: str,
    raw_path: str,
    pairs: list[tuple[str, str]],
    hmap: dict[str, list[str]],
    header: str,
) -> SignedRequest:
    scheme, _, rest = header.strip().partition(" ")
    if scheme != ALGORITHM:
        if scheme in ("AWS", "AWS4-ECDSA-P256-SHA256"):
            raise _unsupported()
        raise InvalidArgument(
            "Unsupported Authorization Type", ArgumentName="Authorization", ArgumentValue=header
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, value = part.strip().partition("=")
        if eq and key in ("Credential", "SignedHeaders", "Signature") and key not in fields:
            fields[key] = value.strip()
        elif part.strip():
            raise malformed(False, f"the authorization component {part.strip()!r} is malformed.")
    if len(fields) != 3:
        raise malformed(
            False,
            "the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature.",
        )
    key_id, scope = _scope_of(fields["Credential"], False)
    amz_date, timestamp = _header_date(hmap)
    token = hmap.get("x-amz-security-token")
    claims = _Claims(
        key_id,
        scope,
        amz_date,
        timestamp,
        _signed_headers(fields["SignedHeaders"], False),
        fields["Signature"],
        token[0] if token else None,
        None,
    )
    return _build(method, raw_path, hmap, claims, canonical_query(pairs, skip_signature=False))


def _from_query(
    method: str,
    raw_path: str,
    pairs: list[tuple[str, str]],
    params: dict[str, str],
    hmap: dict[str, list[str]],
) -> SignedRequest:
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthorizationQueryParametersError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    if not all(p in params for p in _QUERY_PARAMS):
        raise AuthorizationQueryParametersError(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
            "and X-Amz-Expires parameters."
        )
    key_id, scope = _scope_of(params["X-Amz-Credential"], True)
    amz_date = params["X-Amz-Date"]
    timestamp = _amz_timestamp(amz_date)
    if timestamp is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    expires_text = params["X-Amz-Expires"]
    if not re.fullmatch(r"-?\d{1,12}", expires_text, re.ASCII):
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires < 0:
        raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        )
    # A session token may travel in the query (presigned) or, unusually, as a header.
    token = params.get("X-Amz-Security-Token")
    if token is None and hmap.get("x-amz-security-token"):
        token = hmap["x-amz-security-token"][0]
    claims = _Claims(
        key_id,
        scope,
        amz_date,
        timestamp,
        _signed_headers(params["X-Amz-SignedHeaders"], True),
        params["X-Amz-Signature"],
        token,
        expires,
    )
    return _build(method, raw_path, hmap, claims, canonical_query(pairs, skip_signature=True))


class _Claims(NamedTuple):
    """What the header or the query asserts (``expires`` is set exactly for presigned)."""

    key_id: str
    scope: Scope
    amz_date: str
    timestamp: float
    signed: tuple[str, ...]
    signature: str
    token: str | None
    expires: int | None


def _build(
    method: str,
    raw_path: str,
    hmap: dict[str, list[str]],
    claims: _Claims,
    canonical_query: str,
) -> SignedRequest:
    signed = claims.signed
    signed_set = set(signed)
    # S3 refuses what the signature does not cover: the host, and every x-amz-* header.
    unsigned = sorted(
        n for n in hmap if n not in signed_set and (n == "host" or n.startswith("x-amz-"))
    )
    if "host" not in signed_set and "host" not in unsigned:
        unsigned.insert(0, "host")
    if unsigned:
        raise AccessDenied(
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(unsigned),
        )
    canonical_headers = "\n".join(
        f"{name}:{','.join(' '.join(v.split()) for v in hmap.get(name, ()))}" for name in signed
    )
    sha = hmap.get("x-amz-content-sha256")
    return SignedRequest(
        method=method.upper(),
        raw_path=raw_path,
        access_key_id=claims.key_id,
        scope=claims.scope,
        amz_date=claims.amz_date,
        timestamp=claims.timestamp,
        signed_headers=signed,
        signature=claims.signature,
        session_token=claims.token,
        presigned=claims.expires is not None,
        expires=claims.expires,
        content_sha256=sha[0].strip() if sha else None,
        canonical_query=canonical_query,
        canonical_headers=canonical_headers,
    )


def _amz_timestamp(text: str) -> float | None:
    if not _AMZ_DATE.fullmatch(text):
        return None
    try:  # by hand: strptime costs a third of a request's authentication
        when = datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[9:11]), int(text[11:13]), int(text[13:15]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None
    return when.timestamp()


def _no_date() -> AccessDenied:
    return AccessDenied("AWS authentication requires a valid Date or x-amz-date header")


def _header_date(hmap: dict[str, list[str]]) -> tuple[str, float]:
    """The signed timestamp: ``x-amz-date``, else the HTTP ``Date`` header."""
    amz = hmap.get("x-amz-date")
    if amz:
        stamp = _amz_timestamp(amz[0].strip())
        if stamp is None:
            raise _no_date()
        return amz[0].strip(), stamp
    date = hmap.get("date")
    if not date:
        raise _no_date()
    try:
        parsed = parsedate_to_datetime(date[0])
    except (TypeError, ValueError, IndexError):
        raise _no_date() from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y%m%dT%H%M%SZ"), parsed.timestamp()


def _remove_dot_segments(path: str) -> str:
    """The path with ``.``/``..`` segments resolved and empty segments dropped (how
    botocore normalizes the paths of non-S3 requests before signing them)."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    lead = "/" if path.startswith("/") else ""
    tail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + tail


# ------------------------------------------------------------------ signature


def wire_bytes(text: str) -> bytes:
    """The bytes ``text`` was sent as (aiohttp decodes header bytes with surrogateescape)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _hmac(key: bytes, msg: str) -> bytes:
    # hmac.digest: OpenSSL's one-shot HMAC, a third cheaper than hmac.new().digest().
    return hmac.digest(key, wire_bytes(msg), "sha256")


def signing_key(secret: str, scope: Scope) -> bytes:
    """The key derived for one scope: HMAC chain over date, region, service, terminal."""
    key = _hmac(wire_bytes("AWS4" + secret), scope.date)
    key = _hmac(key, scope.region)
    key = _hmac(key, scope.service)
    return _hmac(key, scope.terminal)


def sign(key: bytes, string_to_sign: str) -> str:
    """The hex signature of ``string_to_sign`` under a derived signing key."""
    return hmac.digest(key, wire_bytes(string_to_sign), "sha256").hex()


def signatures_equal(expected: str, provided: str) -> bool:
    """Constant-time comparison of a computed and a presented signature."""
    return hmac.compare_digest(expected.encode("ascii"), wire_bytes(provided))


def verify(req: SignedRequest, secret: str, payload_hash: str) -> bytes:
    """Check the request's signature against ``secret``; return the signing key.

    ``payload_hash`` is the canonical request's last line (see
    :meth:`SignedRequest.payload_hash`; the body's SHA-256 when that is None).
    Raises SignatureDoesNotMatch with S3's details (``AWSAccessKeyId``,
    ``StringToSign``, ``SignatureProvided``, ``CanonicalRequest`` and their bytes).
    """
    key = signing_key(secret, req.scope)
    first: tuple[str, str] | None = None
    for uri in req.canonical_uris():
        canonical = req.canonical_request(uri, payload_hash)
        to_sign = req.string_to_sign(canonical)
        if signatures_equal(sign(key, to_sign), req.signature):
            return key
        first = first or (canonical, to_sign)
    assert first is not None
    canonical, to_sign = first
    raise SignatureDoesNotMatch(
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        AWSAccessKeyId=req.access_key_id,
        StringToSign=to_sign,
        SignatureProvided=req.signature,
        StringToSignBytes=wire_bytes(to_sign).hex(" "),
        CanonicalRequest=canonical,
        CanonicalRequestBytes=wire_bytes(canonical).hex(" "),
    )
