"""AWS Signature Version 2 for S3 requests, pure: parse and verify (no I/O).

S3 still accepts SigV2, and clients still send it: boto3's ``generate_presigned_url``
signs S3 URLs with it unless told ``signature_version="s3v4"``. A request carries it as
``Authorization: AWS AKID:SIGNATURE`` or as the query parameters ``AWSAccessKeyId``,
``Expires`` and ``Signature``. The signature is base64(HMAC-SHA1(secret, StringToSign))::

    METHOD \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
    x-amz-* headers ("name:value\\n", sorted) CanonicalizedResource

where the resource is ``/bucket`` (for a virtual-hosted request) + the path as sent +
the sub-resources among the query parameters. Only S3 speaks it; the scope is the
gateway's region.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from objstore.errors import AccessDenied, RequestTimeTooSkewed, SignatureDoesNotMatch
from objstore.gateway.s3 import routing
from objstore.gateway.sigv4 import (
    MAX_SKEW_S,
    RequestMaps,
    query_bytes,
    request_maps,
    wire_bytes,
)

# The query parameters that are part of the signed resource: what S3 and botocore sign,
# plus every subresource the router acts on (retention, legal-hold, publicAccessBlock ...,
# which botocore's older list leaves out; MinIO signs retention, legal-hold, encryption).
# A name the router reads but the signature left out would let a presigned URL's holder
# turn it into another operation (review rev11b, F1).
SUBRESOURCES = routing.SUBRESOURCES | frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
        "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
        "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore",
        "select", "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
        "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class V2Request:
    """What a SigV2-signed request asserts, with the string it must have signed."""

    access_key_id: str
    signature: str
    string_to_sign: str
    session_token: str | None
    presigned: bool
    expires: int | None  # presigned: the Unix second it stops working at
    timestamp: float | None  # header auth: the request's Date


def parse(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    *,
    bucket: str | None = None,
    maps: RequestMaps | None = None,
) -> V2Request | None:
    """The SigV2 signature a request carries, or None when it has none (it may still
    carry SigV4: see :func:`objstore.gateway.sigv4.parse`).

    ``bucket`` is the bucket a virtual-hosted request's Host names (None: path-style);
    ``maps``, when given, is :func:`~objstore.gateway.sigv4.request_maps` of the query
    and headers.
    Raises AccessDenied (a malformed header, no usable date, a non-numeric Expires).
    """
    hmap, pairs, params = maps or request_maps(raw_query, headers)
    auth = hmap.get("authorization")
    if "X-Amz-Algorithm" in params:
        return None
    if auth is not None:
        if not auth[0].startswith("AWS ") or "Signature" in params:
            return None
        key_id, colon, signature = auth[0][4:].strip().rpartition(":")
        if not colon or not key_id or not signature:
            raise AccessDenied("AWS authentication requires a valid Authorization header")
        presigned = False
    elif "AWSAccessKeyId" in params and "Signature" in params:
        key_id, signature = params["AWSAccessKeyId"], params["Signature"]
        presigned = True
    else:
        return None

    amz: dict[str, list[str]] = {n: v for n, v in hmap.items() if n.startswith("x-amz-")}
    expires = timestamp = None
    if presigned:
        for key, value in params.items():
            if key.lower().startswith("x-amz-"):
                amz.setdefault(key.lower(), []).append(value)
        text = params.get("Expires", "")
        if not re.fullmatch(r"\d{1,12}", text, re.ASCII):
            raise AccessDenied("Invalid date (should be seconds since epoch): " + text[:40])
        expires = int(text)
        date = text
    else:
        date, timestamp = _header_date(hmap)

    def standard(name: str) -> str:
        found = hmap.get(name)
        if found:
            return found[0].strip()
        return params.get(name, "").strip() if presigned else ""

    lines = [method.upper(), standard("content-md5"), standard("content-type"), date]
    lines += [f"{n}:{','.join(v.strip() for v in amz[n])}" for n in sorted(amz)]
    lines.append(_resource(raw_path, pairs, bucket))
    token = hmap.get("x-amz-security-token")
    return V2Request(
        access_key_id=key_id,
        signature=signature,
        string_to_sign="\n".join(lines),
        session_token=token[0] if token else params.get("x-amz-security-token"),
        presigned=presigned,
        expires=expires,
        timestamp=timestamp,
    )


def _resource(raw_path: str, pairs: list[tuple[str, str]], bucket: str | None) -> str:
    path = raw_path or "/"
    if bucket is not None:
        path = f"/{bucket}{path}"
    if path.count("/") == 1 and len(path) > 1:
        path += "/"  # a bucket's own resource is "/bucket/", however it was addressed
    # Names and values are decoded as the handlers decode them (yarl: percent escapes, "+"
    # for a space) before a sub-resource is chosen: a name matched as sent let
    # "versionI%64=V" or "taggin%67" through unsigned, routed as versionId / tagging
    # (review rev11b, F1). botocore sends these names plain, so its signatures still match.
    decoded = ((_decode(k), _decode(v)) for k, v in pairs)
    subs = sorted(
        ((k, v) for k, v in decoded if k in SUBRESOURCES), key=lambda kv: kv[0]
    )  # stable: repeated keys keep their order, as botocore signs them
    if not subs:
        return path
    return path + "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)


def _decode(part: str) -> str:
    return query_bytes(part).decode("utf-8", "replace")  # as yarl decodes it


def _header_date(hmap: dict[str, list[str]]) -> tuple[str, float]:
    """The Date line (empty when x-amz-date is sent, which then signs as an amz header)
    and the request's time."""
    missing = AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    amz = hmap.get("x-amz-date")
    text = amz[0] if amz else (hmap.get("date") or [""])[0]
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise missing from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return ("" if amz else text.strip()), when.timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_time(req: V2Request, now: float) -> None:
    """Raises AccessDenied ("Request has expired") past a presigned URL's Expires, and
    RequestTimeTooSkewed for a header-signed request more than 15 minutes off."""
    if req.expires is not None:
        if now > req.expires:
            raise AccessDenied(
                "Request has expired", Expires=_iso(req.expires), ServerTime=_iso(now)
            )
        return
    assert req.timestamp is not None
    if abs(now - req.timestamp) > MAX_SKEW_S:
        raise RequestTimeTooSkewed(
            "The difference between the request time and the current time is too large.",
            RequestTime=_iso(req.timestamp),
            ServerTime=_iso(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_S * 1000),
        )


def verify(req: V2Request, secret: str) -> None:
    """Check the signature in constant time; raises SignatureDoesNotMatch with S3's
    details (``AWSAccessKeyId``, ``StringToSign``, ``SignatureProvided``)."""
    digest = hmac.new(
        wire_bytes(secret),
        wire_bytes(req.string_to_sign),
        hashlib.sha1,
    ).digest()
    expected = base64.b64encode(digest)
    if not hmac.compare_digest(expected, wire_bytes(req.signature)):
        raise SignatureDoesNotMatch(
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=req.access_key_id,
            StringToSign=req.string_to_sign,
            SignatureProvided=req.signature,
            StringToSignBytes=wire_bytes(req.string_to_sign).hex(" "),
        )
