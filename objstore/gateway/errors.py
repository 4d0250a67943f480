"""S3 error documents: an objstore error as the HTTP answer S3 would give.

``<Error><Code/><Message/><Resource/><RequestId/><HostId/></Error>`` with the error's
``.http_status`` (or S3's own status for a code whose class is shared with IAM and STS:
:func:`s3_status`), plus the facts S3 adds for some codes (``BucketName``, ``Key``,
``Condition``, SignatureDoesNotMatch's canonical request and string to sign ...). A HEAD
answer carries no body. Anything that is not an :class:`ObjstoreError` is logged here and
answered as ``InternalError``, never with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web

from objstore.errors import InternalError, ObjstoreError
from objstore.gateway.s3 import xmldoc

log = logging.getLogger("objstore.gateway")

# Lower-case detail names the library uses, as the elements S3 spells them.
_DETAIL_ELEMENTS = {
    "bucket": "BucketName",
    "key": "Key",
    "version_id": "VersionId",
    "upload_id": "UploadId",
    "condition": "Condition",
    "size": "ActualObjectSize",
}
# Details that are never shown (internal facts, or carried in headers instead).
_HIDDEN = frozenset({"delete_marker", "etag", "last_modified"})
# Where S3's REST API answers a code with another status than the error class carries
# (the class's status is what IAM and STS answer: the library's classes are shared).
# S3 documents ExpiredToken as 400 Bad Request; the Query APIs answer it 403.
_S3_STATUS = {"ExpiredToken": 400}


def s3_status(exc: ObjstoreError) -> int:
    """The HTTP status S3's REST API answers ``exc`` with."""
    return _S3_STATUS.get(exc.code, exc.http_status)


def error_document(exc: ObjstoreError, *, resource: str, request_id: str, host_id: str) -> bytes:
    """The XML body of ``exc``'s answer."""
    doc = xmldoc.root("Error", namespaced=False)
    xmldoc.sub(doc, "Code", exc.code)
    xmldoc.sub(doc, "Message", exc.message)
    for name, value in _details(exc.details).items():
        xmldoc.sub(doc, name, value)
    xmldoc.sub(doc, "Resource", resource)
    xmldoc.sub(doc, "RequestId", request_id)
    xmldoc.sub(doc, "HostId", host_id)
    return xmldoc.render(doc)


def _details(details: Mapping[str, object]) -> dict[str, str]:
    """The details S3 shows: known lower-case facts renamed, and any detail already named
    as S3's element (``CanonicalRequest``, ``StringToSign``, ``AWSAccessKeyId`` ...)."""
    out: dict[str, str] = {}
    for name, value in details.items():
        if name in _HIDDEN or not isinstance(value, str | int) or isinstance(value, bool):
            continue
        element = _DETAIL_ELEMENTS.get(name) or (name if name[:1].isupper() else None)
        if element is not None and element.isidentifier():
            out[element] = str(value)
    return out


def as_objstore_error(exc: BaseException, what: str) -> ObjstoreError:
    """``exc`` itself, or (logged with its traceback) an InternalError that hides it."""
    if isinstance(exc, ObjstoreError):
        return exc
    log.error("unexpected error in %s", what, exc_info=exc)
    return InternalError("We encountered an internal error. Please try again.")


def error_response(
    exc: ObjstoreError,
    *,
    method: str,
    resource: str,
    headers: Mapping[str, str],
    request_id: str,
    host_id: str,
) -> web.Response:
    """The answer for ``exc`` (no body for HEAD, as S3), with S3's status for it."""
    status = s3_status(exc)
    if status == 304 or method == "HEAD":
        return web.Response(status=status, headers=headers)
    body = error_document(exc, resource=resource, request_id=request_id, host_id=host_id)
    return web.Response(status=status, body=body, headers=headers, content_type="application/xml")
