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
    only ``host`` is signed and an S3 payload is ``UNSIGNED-PAYLOAD``. Raises
    InvalidArgument for a URL without a host or ``expires`` outside 1..604800 seconds.
    """
    parts = urlsplit(url)
    if not parts.netloc or isinstance(expires, bool) or not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise InvalidArgument(
            f"cannot presign {url!r} for {expires!r} seconds (1 to {MAX_PRESIGN_EXPIRES})"
        )
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
        canonical_headers=f"host:{parts.netloc}",
    )
    payload = UNSIGNED_PAYLOAD if service == "s3" else EMPTY_SHA256
    string_to_sign = req.string_to_sign(req.canonical_request(req.canonical_uris()[0], payload))
    signature = sign(signing_key(secret, scope), string_to_sign)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, f"{query}&X-Amz-Signature={signature}", "")
    )
