"""HTTP headers to library arguments and back (pure: no I/O).

Request side: ``x-amz-meta-*`` metadata, conditional headers, HTTP dates, the
``x-amz-copy-source`` value. Answer side: the headers S3 puts on an object
(``ETag``, ``Last-Modified``, ``Content-Type``, ``x-amz-meta-*``, ``x-amz-version-id``,
``Accept-Ranges``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import unquote

from multidict import CIMultiDictProxy

from objstore.errors import InvalidArgument, InvalidRequest, InvalidStorageClass
from objstore.ns import acl
from objstore.ns.ranges import well_formed
from objstore.types import Grant

META_PREFIX = "x-amz-meta-"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ObjectFacts(Protocol):
    """What both ObjectInfo and an open object body tell about an object."""

    @property
    def version_id(self) -> str | None: ...
    @property
    def etag(self) -> str: ...
    @property
    def last_modified(self) -> datetime: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, str]: ...


class OpenObject(ObjectFacts, Protocol):
    """An object opened for reading (the attributes AsyncObjectBody copies from its body)."""

    @property
    def size(self) -> int: ...
    @property
    def content_range(self) -> str | None: ...
    @property
    def parts_count(self) -> int: ...


def metadata_from(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """User metadata from ``x-amz-meta-*`` headers (names lower-cased, as S3 stores them;
    a repeated header's values joined by commas, as HTTP folds them)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith(META_PREFIX):
            meta = lower[len(META_PREFIX) :]
            out[meta] = f"{out[meta]},{value}" if meta in out else value
    return out


def requested_range(headers: Mapping[str, str]) -> str | None:
    """The ``Range`` of a GET/HEAD when it is one range S3 serves; None for no header
    or one S3 ignores (malformed, several ranges), which answers the whole object."""
    value = headers.get("Range")
    return value if value is not None and well_formed(value) else None


# Storage classes S3 knows (botocore's StorageClass enum). objstore has one class:
# any of these is accepted and the object is stored and listed as STANDARD.
STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "FSX_ONTAP",
    }
)
# Operations that take x-amz-storage-class / x-amz-acl and x-amz-grant-*.
_STORAGE_CLASS_OPS = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
_ACL_OPS = _STORAGE_CLASS_OPS | {"CreateBucket"}


def check_write_headers(operation: str, headers: CIMultiDictProxy[str], owner: str) -> None:
    """Refuse what S3 refuses in ``x-amz-storage-class`` and, ACLs being disabled, in
    ``x-amz-acl`` and ``x-amz-grant-*`` (only the owner's full control; ``owner`` is the
    caller's account, the owner of what it creates).

    Raises InvalidStorageClass, InvalidArgument (an unknown canned ACL, a malformed
    grant), AccessControlListNotSupported, InvalidBucketAclWithObjectOwnership
    (CreateBucket)."""
    storage_class = headers.get("x-amz-storage-class")
    if (
        operation in _STORAGE_CLASS_OPS
        and storage_class is not None
        and storage_class not in STORAGE_CLASSES
    ):
        raise InvalidStorageClass(
            "The storage class you specified is not valid",
            StorageClassRequested=storage_class,
        )
    if operation not in _ACL_OPS:
        return
    new_bucket = operation == "CreateBucket"
    canned = headers.get("x-amz-acl")
    if canned is not None:
        acl.check_canned(canned, new_bucket=new_bucket)
    grants = grant_headers(headers)
    if grants:
        acl.check_grants(grants, owner, new_bucket=new_bucket)


def public_acl_asked(operation: str, headers: CIMultiDictProxy[str]) -> bool:
    """Whether a write sets a public ACL (``public-read`` ..., or a grant to the AllUsers or
    AuthenticatedUsers group): what the bucket's BlockPublicAcls refuses. Raises
    InvalidArgument (a malformed grant header)."""
    if operation not in _ACL_OPS:
        return False
    return acl.is_public(headers.get("x-amz-acl"), grant_headers(headers))


def grant_headers(headers: CIMultiDictProxy[str]) -> list[Grant]:
    """The grants of a request's ``x-amz-grant-*`` headers. Raises InvalidArgument."""
    return [
        grant
        for header in acl.GRANT_HEADERS
        for value in headers.getall(header, [])
        for grant in acl.parse_grant_header(header, value)
    ]


def http_date(when: datetime) -> str:
    """An RFC 7231 date: ``Mon, 30 Nov 2026 21:51:00 GMT``."""
    if when.tzinfo is not None and when.utcoffset():
        when = when.astimezone(UTC)
    # By hand: email.utils.format_datetime costs ~3 % of a small GET's CPU.
    return (
        f"{_WEEKDAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year:04d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} GMT"
    )


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date header's time, or None when absent or unreadable (HTTP says an
    invalid date in a condition is ignored)."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def read_conditions(headers: CIMultiDictProxy[str], prefix: str = "") -> dict[str, Any]:
    """``If-Match`` / ``If-None-Match`` / ``If-(Un)Modified-Since`` (``prefix``
    ``x-amz-copy-source-`` for a copy's source) as the library's keyword arguments."""
    return {
        "if_match": headers.get(prefix + "if-match"),
        "if_none_match": headers.get(prefix + "if-none-match"),
        "if_modified_since": parse_http_date(headers.get(prefix + "if-modified-since")),
        "if_unmodified_since": parse_http_date(headers.get(prefix + "if-unmodified-since")),
    }


def object_headers(obj: ObjectFacts) -> dict[str, str]:
    """The headers of a GET or HEAD answer that describe the object."""
    out = {
        "ETag": obj.etag,
        "Last-Modified": http_date(obj.last_modified),
        "Content-Type": obj.content_type or DEFAULT_CONTENT_TYPE,
        "Accept-Ranges": "bytes",
    }
    if obj.version_id is not None:
        out["x-amz-version-id"] = obj.version_id
    for name, value in obj.metadata.items():
        out[META_PREFIX + name] = value
    return out


def version_header(version_id: str | None) -> dict[str, str]:
    """``x-amz-version-id`` when the request names or met a version (versioned buckets)."""
    return {} if version_id is None else {"x-amz-version-id": version_id}


def written_version_header(version_id: str | None) -> dict[str, str]:
    """``x-amz-version-id`` of a write: none for the ``null`` version a
    versioning-suspended bucket writes, as S3 answers."""
    return {} if version_id in (None, "null") else {"x-amz-version-id": str(version_id)}


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``x-amz-copy-source`` (``[/]bucket/key[?versionId=id]``, URL-encoded) as
    (bucket, key, version id). Raises InvalidArgument."""
    path, sep, query = value.partition("?")
    version_id: str | None = None
    if sep:
        name, eq, vid = query.partition("=")
        if name != "versionId" or not eq:
            raise InvalidArgument("x-amz-copy-source accepts only a versionId query")
        version_id = unquote(vid)
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise InvalidArgument("x-amz-copy-source is not valid UTF-8") from None
    bucket, slash, key = decoded.lstrip("/").partition("/")
    if not bucket or not slash or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
        )
    return bucket, key, version_id


def overrides(query: Mapping[str, str], *, anonymous: bool) -> dict[str, str]:
    """GetObject's ``response-*`` query parameters as the headers they replace.

    Raises InvalidRequest when an ``anonymous`` (unsigned) request carries any, as S3
    does; InvalidArgument for a value that could not be sent as a header."""
    out: dict[str, str] = {}
    for param, header in _OVERRIDES.items():
        value = query.get(param)
        if value is None:
            continue
        if anonymous:
            # Whoever may read a public object must not choose how it is served: an
            # "image" served as text/html is script on the bucket's origin (rev11b F3).
            raise InvalidRequest(
                "Request specific response headers cannot be used for anonymous GET requests."
            )
        if _CONTROL.search(value):
            raise InvalidArgument(f"{param} contains control characters")
        out[header] = value
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
