"""Presigned URLs (SigV4 in the query), as the AWS SDKs' ``generate_presigned_url`` makes
them: pure, no I/O.

What the gateway verifies (``sigv4.py``) and what this module signs share one canonical
form, so a URL made here works against the gateway and against S3 alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

from objstore.errors import InvalidArgument
from objstore.gateway.sigv4 import (
    ALGORITHM,
    EMPTY_SHA256,
    MAX_PRESIGN_EXPIRES,
    UNSIGNED_PAYLOAD,
    Scope,
    SignedRequest,
    canonical_query,
    request_maps,
    sign,
    signing_key,
)

__all__ = ["presign"]


def presign(
    method: str,
    url: str,
    *,
    access_key_id: str,
    secret: str,
    region: str,
    now: float,
    expires: int = 3600,
    service: str = "s3",
    session_token: str | None = None,
) -> str:
    """``url`` presigned for ``method`` until ``now + expires`` (Unix seconds).

    ``url``'s path and query must be percent-encoded already (as they will be sent);
    only ``host`` is signed (lower-case, without a default port: the URL returned is
    written so) and an S3 payload is ``UNSIGNED-PAYLOAD``. Raises InvalidArgument for a
    URL without a usable host or ``expires`` not an integer in 1..604800 seconds.
    """
    parts = urlsplit(url)
    if (
        not isinstance(expires, int)
        or isinstance(expires, bool)
        or not 1 <= expires <= MAX_PRESIGN_EXPIRES
    ):
        raise InvalidArgument(
            f"cannot presign {url!r} for {expires!r} seconds (1 to {MAX_PRESIGN_EXPIRES})"
        )
    host = _host(parts.scheme, parts.netloc)
    amz_date = datetime.fromtimestamp(int(now), UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = Scope(amz_date[:8], region, service)
    auth = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key_id}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if session_token is not None:
        auth.append(("X-Amz-Security-Token", session_token))
    ours = "&".join(f"{k}={quote(v, safe='-_.~')}" for k, v in auth)
    query = f"{parts.query}&{ours}" if parts.query else ours
    _, pairs, _ = request_maps(query, ())
    req = SignedRequest(
        method=method.upper(),
        raw_path=parts.path or "/",
        access_key_id=access_key_id,
        scope=scope,
        amz_date=amz_date,
        timestamp=float(int(now)),
        signed_headers=("host",),
        signature="",
        session_token=session_token,
        presigned=True,
        expires=expires,
        content_sha256=None,
        canonical_query=canonical_query(pairs, skip_signature=True),
        canonical_headers=f"host:{host}",
    )
    payload = UNSIGNED_PAYLOAD if service == "s3" else EMPTY_SHA256
    string_to_sign = req.string_to_sign(req.canonical_request(req.canonical_uris()[0], payload))
    signature = sign(signing_key(secret, scope), string_to_sign)
    return urlunsplit((parts.scheme, host, parts.path, f"{query}&X-Amz-Signature={signature}", ""))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host(scheme: str, netloc: str) -> str:
    """The Host header a client sends for ``netloc``, as botocore signs it: lower-case,
    without the scheme's default port. Signing ``host:80`` made URLs that never worked,
    as curl and browsers send ``Host: host`` for port 80 (review rev11b F5).

    Raises InvalidArgument (no host, a user name or password in it, a bad port)."""
    probe = urlsplit(f"{scheme}://{netloc}")
    try:
        port = probe.port
    except ValueError:
        port = -1
    name = probe.hostname
    if not name or "@" in netloc or port == -1 or not netloc.isprintable() or " " in netloc:
        raise InvalidArgument(f"not a host[:port] to presign for: {netloc!r}")
    if ":" in name:  # an IPv6 literal keeps its brackets
        name = f"[{name}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme.lower()):
        return name
    return f"{name}:{port}"
