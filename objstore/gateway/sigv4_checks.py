"""Whether a parsed SigV4 request may be checked at all: its credential scope fits this
gateway, and its time is within S3's window (15 minutes of skew; a presigned URL's
``X-Amz-Expires``). Pure: the caller passes the region and the clock's reading; parsing
and the signature itself are in :mod:`objstore.gateway.sigv4`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from objstore.errors import AccessDenied, RequestTimeTooSkewed
from objstore.gateway.sigv4 import MAX_SKEW_S, SERVICES, TERMINAL, SignedRequest, malformed


def check_scope(req: SignedRequest, region: str) -> None:
    """The credential scope fits this gateway (``region``) and the signed date.

    Raises AuthorizationHeaderMalformed / AuthorizationQueryParametersError (terminal,
    date, unknown service, an S3 request scoped to another region: its ``Region``
    detail names the right one).
    """
    p = req.presigned
    scope = req.scope
    prefix = "Error parsing the X-Amz-Credential parameter; " if p else ""
    if scope.terminal != TERMINAL:
        raise malformed(
            p, f'{prefix}incorrect terminal "{scope.terminal}". This endpoint uses "{TERMINAL}".'
        )
    if scope.date != req.amz_date[:8]:
        raise malformed(p, f"{prefix}Invalid credential date. Date is not the same as X-Amz-Date.")
    if scope.service not in SERVICES:
        raise malformed(
            p, f'{prefix}incorrect service "{scope.service}". This endpoint belongs to "s3".'
        )
    # IAM and STS take any region: boto3 signs them with the client's configured region
    # even when pointed at this endpoint (IAM is global; one gateway serves one STS).
    if scope.service == "s3" and scope.region != region:
        raise malformed(
            p,
            f"{prefix}the region '{scope.region}' is wrong; expecting '{region}'",
            Region=region,
        )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_time(req: SignedRequest, now: float) -> None:
    """The request is within its time window at ``now`` (Unix seconds).

    Raises RequestTimeTooSkewed (header auth more than 15 minutes off), AccessDenied
    ("Request has expired" past a presigned URL's X-Amz-Expires; "Request is not valid
    yet" for one dated more than 15 minutes ahead).
    """
    if req.presigned:
        assert req.expires is not None
        if req.timestamp - now > MAX_SKEW_S:
            raise AccessDenied("Request is not valid yet")
        if now > req.timestamp + req.expires:
            raise AccessDenied(
                "Request has expired",
                **{
                    "X-Amz-Expires": str(req.expires),
                    "Expires": _iso(req.timestamp + req.expires),
                    "ServerTime": _iso(now),
                },
            )
        return
    if abs(now - req.timestamp) > MAX_SKEW_S:
        raise RequestTimeTooSkewed(
            "The difference between the request time and the current time is too large.",
            RequestTime=req.amz_date,
            ServerTime=_iso(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_S * 1000),
        )
