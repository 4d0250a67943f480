"""Validation of names, keys and metadata exactly as S3 does (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from objstore.errors import (
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    MetadataTooLarge,
)

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048

# Fixed grammar, not user input: 3-63 of a-z 0-9 . -, starting and ending alphanumeric.
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# "Formatted as an IP address" is about the shape: four dot-separated numbers,
# whether or not they make a valid address (999.999.999.999, 010.1.1.1).
_IP_SHAPED = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def check_bucket_name(name: object) -> str:
    """Return ``name`` if S3 accepts it as a bucket name; raise InvalidBucketName otherwise."""
    if not isinstance(name, str):
        raise InvalidBucketName("bucket name must be a string", bucket=name)
    why = _bucket_name_problem(name)
    if why:
        raise InvalidBucketName(f"invalid bucket name {name!r}: {why}", bucket=name)
    return name


def _bucket_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not _BUCKET_RE.fullmatch(name):
        return "only a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
    if ".." in name:
        return "must not contain '..'"
    if ".-" in name or "-." in name:
        return "must not contain '.-' or '-.'"
    if _IP_SHAPED.fullmatch(name):
        return "must not be formatted as an IP address"
    for p in _RESERVED_PREFIXES:
        if name.startswith(p):
            return f"the prefix {p!r} is reserved"
    for s in _RESERVED_SUFFIXES:
        if name.endswith(s):
            return f"the suffix {s!r} is reserved"
    return None


def check_text(value: object, name: str) -> str:
    """Return ``value`` if it is a string with a UTF-8 form; raise InvalidArgument otherwise."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{name} must be valid UTF-8 (no lone surrogates)") from None
    return value


def bucket_bytes(bucket: object) -> bytes:
    """The UTF-8 bytes of a bucket name used in a lookup; raise InvalidBucketName for a
    value that cannot be one (not a string, or no UTF-8 form)."""
    if isinstance(bucket, str):
        try:
            return bucket.encode("utf-8")
        except UnicodeEncodeError:
            pass
    raise InvalidBucketName(f"invalid bucket name {bucket!r}", bucket=bucket)


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid object key; raise KeyTooLongError / InvalidArgument."""
    if not isinstance(key, str):
        raise InvalidArgument("object key must be a string", key=key)
    if not key:
        raise InvalidArgument("object key must not be empty")
    try:
        n = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgument("object key must be valid UTF-8 (no lone surrogates)") from None
    if n > MAX_KEY_BYTES:
        raise KeyTooLongError(f"key is {n} bytes; the limit is {MAX_KEY_BYTES}", size=n)
    return key


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Validate user metadata (names are HTTP tokens, 2 KB in all); return it lower-cased."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArgument("metadata must be a mapping of strings")
    out: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidArgument("metadata names and values must be strings")
        if not _HTTP_TOKEN.fullmatch(name):
            raise InvalidArgument(f"metadata name {name!r} is not a valid header token")
        if any(ord(c) < 32 and c != "\t" for c in value):
            raise InvalidArgument(f"metadata value for {name!r} contains control characters")
        try:
            total += len(name.encode("utf-8")) + len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidArgument("metadata must be valid UTF-8") from None
        # S3 treats metadata names case-insensitively and returns them lower-cased.
        low = name.lower()
        if low in out:
            raise InvalidArgument(f"metadata name {name!r} given twice")
        out[low] = value
    if total > MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            f"user metadata is {total} bytes; the limit is {MAX_METADATA_BYTES}", size=total
        )
    return out


def check_content_type(value: object) -> str | None:
    """A content type is any short string an HTTP header can carry; raise InvalidArgument."""
    return check_header_value(value, "content_type")


def check_header_value(value: object, name: str) -> str | None:
    """None, or a short string an HTTP header can carry; raise InvalidArgument."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > 1024
        # Control characters (DEL included) cannot appear in a header value.
        or any(ord(c) < 32 or c == "\x7f" for c in value)
    ):
        raise InvalidArgument(f"{name} must be a printable string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{name} must be valid UTF-8 (no lone surrogates)") from None
    return value


# The system metadata S3 stores with an object and returns as these response headers.
SYSTEM_HEADERS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "expires": "Expires",
}


def check_headers(values: Mapping[str, object]) -> dict[str, str]:
    """The system headers given (``SYSTEM_HEADERS`` names -> value), None ones left out.

    ``expires`` may be a timezone-aware datetime (stored as an HTTP date) or the
    header's text, which S3 keeps as sent. Raises InvalidArgument.
    """
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "expires" and isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidArgument("expires must be a timezone-aware datetime")
            value = format_datetime(value.astimezone(UTC), usegmt=True)
        checked = check_header_value(value, name)
        if checked is not None:
            out[name] = checked
    return out
