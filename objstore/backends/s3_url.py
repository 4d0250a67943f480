"""What an ``s3://bucket/prefix?endpoint=...`` chunk store URL names, checked.

Pure: nothing here touches a network or a client library. Every malformed part
(bucket name, prefix, endpoint, parameter) is an InvalidArgument naming it, so
that no odd value reaches the S3 client, which reports some of them only as
opaque failures of its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from objstore.errors import InvalidArgument

PARAMS: Final = frozenset(
    {
        "endpoint",
        "region",
        "profile",
        "concurrency",
        "retry_time",
        "connect_timeout",
        "read_timeout",
        "create",
        "conditional_put",
    }
)
# S3's rules for new buckets, widened to the legacy names that AWS (us-east-1) and RGW
# still serve: up to 255 characters, upper case and underscores allowed.
_BUCKET: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,253})[A-Za-z0-9]")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class S3Options:
    """The constructor arguments of :class:`~objstore.backends.s3.S3ChunkStore`."""

    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    profile: str | None
    concurrency: int
    retry_time: float
    connect_timeout: float
    read_timeout: float
    create: bool
    conditional_put: bool


def check_bucket(bucket: str) -> str:
    """``bucket`` if it can name an S3 bucket; raises InvalidArgument."""
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise InvalidArgument(
            f"{bucket!r} cannot name an S3 bucket (3 to 255 letters, digits, '.', '-' or '_', "
            "beginning and ending with a letter or digit)"
        )
    return bucket


def check_prefix(prefix: str) -> str:
    """``prefix`` without its outer slashes, if it can prefix S3 keys; raises
    InvalidArgument for empty, ``.`` or ``..`` segments and control characters."""
    if not isinstance(prefix, str):
        raise InvalidArgument("the chunk prefix must be a string")
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in stripped):
        raise InvalidArgument("the chunk prefix holds control characters")
    if any(part in ("", ".", "..") for part in stripped.split("/")):
        raise InvalidArgument(
            f"the chunk prefix {stripped!r} has an empty, '.' or '..' segment "
            "(S3 keys are not paths: name the prefix plainly)"
        )
    return stripped


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is ``http(s)://host[:port]``; raises InvalidArgument."""
    try:
        ep = urlsplit(endpoint)
        ep.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidArgument("endpoint is not a URL") from None
    if ep.scheme not in {"http", "https"} or not ep.hostname:
        raise InvalidArgument("endpoint must be an http:// or https:// URL")
    if "@" in ep.netloc:
        raise InvalidArgument("credentials are never read from the endpoint URL")
    if ep.path not in ("", "/") or ep.query or ep.fragment:
        raise InvalidArgument(
            "endpoint is scheme://host[:port] only: the bucket and prefix go in the s3:// URL"
        )
    return endpoint


def parse(url: str) -> S3Options:
    """The options named by ``s3://bucket/prefix?endpoint=http://host:port&region=...``.

    Raises InvalidArgument for a malformed URL, one that carries credentials, an
    unknown parameter or a bad value.
    """
    form = "a chunk store URL looks like s3://bucket/prefix?endpoint=..."
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidArgument(form) from None
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidArgument(form)
    if "@" in parts.netloc:
        raise InvalidArgument(
            "credentials are never read from an s3:// URL: use the AWS_* environment "
            "variables or a profile (?profile=name)"
        )
    if parts.fragment or url.endswith("#"):
        raise InvalidArgument("a chunk store URL takes no #fragment")
    query = parse_qs(parts.query)
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:
        raise InvalidArgument(f"chunk store URL parameter(s) given twice: {', '.join(repeated)}")
    params = {k: v[0] for k, v in query.items()}
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise InvalidArgument(f"unknown chunk store URL parameter(s): {', '.join(unknown)}")

    def number(name: str, default: float) -> float:
        try:
            value = float(params[name]) if name in params else default
        except ValueError:
            raise InvalidArgument(f"{name} must be a number") from None
        if not math.isfinite(value):
            raise InvalidArgument(f"{name} must be a finite number")
        return value

    def flag(name: str, default: bool) -> bool:
        value = params.get(name)
        return default if value is None else value.lower() in _TRUE

    try:
        concurrency = int(params.get("concurrency", "16"))
    except ValueError:
        raise InvalidArgument("concurrency must be a whole number") from None
    endpoint = params.get("endpoint")
    return S3Options(
        bucket=check_bucket(parts.netloc),
        prefix=check_prefix(parts.path),  # as written: keys hold it verbatim
        endpoint=None if endpoint is None else check_endpoint(endpoint),
        region=params.get("region"),
        profile=params.get("profile"),
        concurrency=concurrency,
        retry_time=number("retry_time", 30.0),
        connect_timeout=number("connect_timeout", 5.0),
        read_timeout=number("read_timeout", 30.0),
        create=flag("create", False),
        conditional_put=flag("conditional_put", True),
    )
