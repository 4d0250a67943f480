"""Object operations: PUT, GET (ranges, parts, conditions, ``response-*``), HEAD, DELETE,
DeleteObjects and CopyObject (with its source preconditions)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import cast

from aiohttp import web

from objstore.errors import (
    DataCorruption,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NotModified,
    ObjstoreError,
    PreconditionFailed,
)
from objstore.gateway.body import BODY_TIMEOUT
from objstore.gateway.s3 import as_sent, xmldoc
from objstore.gateway.s3 import attributes as attrs
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import locking as lock
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.ns import conditional
from objstore.ns.ranges import resolve_range
from objstore.types import DeleteError

log = logging.getLogger("objstore.gateway")

MAX_DELETE_KEYS = 1000


async def put_object(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    result = await s3.client.put_object(
        bucket,
        key,
        await s3.upload_body(),
        metadata=hdr.metadata_from(s3.headers),
        content_type=s3.headers.get("Content-Type"),
        if_match=s3.headers.get("If-Match"),
        if_none_match=s3.headers.get("If-None-Match"),
        content_length=s3.body.length,
        tagging=s3.headers.get("x-amz-tagging"),
        **attrs.checksum_args(s3.headers, s3.body),
        **attrs.system_args(s3.headers),
        **lock.lock_args(s3.headers),
    )
    headers = {"ETag": result.etag, **hdr.written_version_header(result.version_id)}
    headers.update(attrs.checksum_headers(result.checksums, result.checksum_type))
    return web.Response(status=200, headers=headers)


async def get_object(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    overrides = hdr.overrides(s3.query, anonymous=s3.anonymous)
    part_number = _part_number(s3)
    body = await s3.client.get_object(
        bucket,
        key,
        version_id=s3.query.get("versionId"),
        range=hdr.requested_range(s3.headers),
        checksum_mode=attrs.checksum_mode(s3.headers),
        part_number=part_number,
        **hdr.read_conditions(s3.headers),
    )
    try:
        opened = cast(hdr.OpenObject, body)
        headers = hdr.object_headers(opened)
        headers.update(attrs.object_attribute_headers(cast(attrs.Attributes, body)))
        headers.update(lock.lock_headers(cast(lock.Locked, body)))
        headers.update(_parts_count(part_number, opened.parts_count))
        if opened.content_range is not None and part_number is None:
            # A range's checksum is not the object's: S3 sends none for it (a part's
            # checksum is the library's answer).
            headers = {k: v for k, v in headers.items() if not k.startswith("x-amz-checksum-")}
        headers.update(overrides)
        status = 200
        if opened.content_range is not None:
            status = 206
            headers["Content-Range"] = opened.content_range
        resp = as_sent.stream_response(status, headers, head_with_body=body.in_memory)
        resp.content_length = opened.size
        await resp.prepare(s3.request)
        stall = s3.request.get(BODY_TIMEOUT)  # None: no bound (an app without one)
        try:
            async for piece in body:
                await _send(resp, piece, stall)
        except ConnectionError:
            # The client went away mid-answer (a ranged reader that had enough, say).
            return resp
        except TimeoutError:
            # A reader that took nothing for `stall` seconds: it held a request slot and
            # the read window for as long as it liked (review 10c, F7). Cut it, as S3
            # closes connections that make no progress.
            log.info("cut a GET of %s/%s: the client read nothing for %s s", bucket, key, stall)
            if s3.request.transport is not None:
                s3.request.transport.abort()
            return resp
        except DataCorruption:
            # The status line is gone; cutting the connection short is all that is left
            # (the client sees fewer bytes than Content-Length and retries or fails).
            log.error("corrupt data while sending %s/%s", bucket, key)
            if isinstance(resp, as_sent.HeadWithBodyResponse):
                # Its head waits for the first piece: send it as a streamed answer would
                # have, before cutting the connection.
                with contextlib.suppress(ConnectionError):
                    await resp.write(b"")
            if s3.request.transport is not None:
                s3.request.transport.close()
            return resp
        await resp.write_eof()
        return resp
    finally:
        await body.close()


# A piece is sent in slices of this size, each allowed the body timeout: a client must take
# at least this much per timeout (17 KB/s at the default 60 s), or it is cut.
SEND_SLICE = 1 << 20


async def _send(resp: web.StreamResponse, piece: bytes, stall: float | None) -> None:
    """Write ``piece``; raises TimeoutError when the client takes no slice for ``stall``
    seconds (aiohttp's write waits for the client without a bound)."""
    view = memoryview(piece)
    for at in range(0, max(len(piece), 1), SEND_SLICE):
        async with asyncio.timeout(stall):
            await resp.write(view[at : at + SEND_SLICE])


async def head_object(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    overrides = hdr.overrides(s3.query, anonymous=s3.anonymous)
    part_number = _part_number(s3)
    requested = hdr.requested_range(s3.headers)
    if part_number is not None and requested is not None:
        raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    info = await s3.client.head_object(
        bucket,
        key,
        version_id=s3.query.get("versionId"),
        checksum_mode=attrs.checksum_mode(s3.headers),
        part_number=part_number,
    )
    headers = hdr.object_headers(info)
    headers.update(attrs.object_attribute_headers(info))
    headers.update(lock.lock_headers(info))
    headers.update(_parts_count(part_number, info.parts_count))
    try:
        conditional.check_read(info.etag, info.last_modified, **hdr.read_conditions(s3.headers))
    except NotModified:
        return web.Response(status=304, headers=_not_modified_headers(headers))
    headers.update(overrides)
    if info.content_length is not None:  # one part: answered as its GET would be
        if info.content_range is None:  # an empty part
            return as_sent.response(200, {**headers, "Content-Length": "0"})
        headers["Content-Range"] = info.content_range
        return as_sent.response(206, {**headers, "Content-Length": str(info.content_length)})
    span = resolve_range(requested, info.size)
    if span is None:
        return as_sent.response(200, {**headers, "Content-Length": str(info.size)})
    # A ranged HEAD answers as the ranged GET would, without the body (as S3).
    first, last = span
    headers = {k: v for k, v in headers.items() if not k.startswith("x-amz-checksum-")}
    headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    return as_sent.response(206, {**headers, "Content-Length": str(last - first + 1)})


def _part_number(s3: S3Request) -> int | None:
    """``partNumber`` of a GET or HEAD (the library checks its range), or None."""
    if s3.query.get("partNumber") is None:
        return None
    return s3.int_param("partNumber", 0)


def _parts_count(part_number: int | None, parts_count: int) -> dict[str, str]:
    """S3 gives a multipart object's part count only to a request by part number."""
    if part_number is None or parts_count == 0:
        return {}
    return {"x-amz-mp-parts-count": str(parts_count)}


def _not_modified_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified", "x-amz-version-id")}


async def delete_object(s3: S3Request) -> web.StreamResponse:
    result = await s3.client.delete_object(
        s3.need_bucket(),
        s3.need_key(),
        version_id=s3.query.get("versionId"),
        bypass_governance_retention=lock.bypass(s3.headers),
    )
    headers = hdr.version_header(result.version_id)
    if result.delete_marker:
        headers["x-amz-delete-marker"] = "true"
    return web.Response(status=204, headers=headers)


async def delete_objects(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    raw = await s3.body.read_all(MAX_XML_BODY)
    attrs.check_whole_body(s3.headers, s3.body, raw)
    doc = xmldoc.parse(raw, "Delete")
    quiet = _xml_boolean(xmldoc.child_text(doc, "Quiet"), "Quiet")
    items: list[tuple[str, str | None]] = []
    for obj in xmldoc.children(doc, "Object"):
        key = xmldoc.child_text(obj, "Key")
        if not key:
            raise MalformedXML("every Object needs a Key")
        vid = xmldoc.child_text(obj, "VersionId")
        items.append((key, vid.strip() if vid else None))
    if not items or len(items) > MAX_DELETE_KEYS:
        raise MalformedXML(f"a Delete names 1 to {MAX_DELETE_KEYS} objects")
    results = await s3.client.delete_objects(
        bucket, items, bypass_governance_retention=lock.bypass(s3.headers)
    )
    out = xmldoc.root("DeleteResult")
    # An entry whose key XML cannot carry says what happened without naming it
    # (xmldoc.sub_key): never another key a client would record or retry.
    for entry in results:
        if isinstance(entry, DeleteError):
            err = xmldoc.sub(out, "Error")
            xmldoc.sub_key(err, entry.key)
            if entry.version_id is not None:
                xmldoc.sub(err, "VersionId", entry.version_id)
            xmldoc.sub(err, "Code", entry.code)
            xmldoc.sub(err, "Message", entry.message)
        elif not quiet:
            done = xmldoc.sub(out, "Deleted")
            xmldoc.sub_key(done, entry.key)
            if entry.version_id is not None:
                xmldoc.sub(done, "VersionId", entry.version_id)
            if entry.delete_marker:
                xmldoc.sub(done, "DeleteMarker", True)
                if entry.delete_marker_version_id is not None:
                    xmldoc.sub(done, "DeleteMarkerVersionId", entry.delete_marker_version_id)
    return xml_response(xmldoc.render(out))


def _xml_boolean(text: str | None, name: str) -> bool:
    """An xs:boolean element (absent: false). Raises MalformedXML."""
    value = (text or "false").strip()
    if value not in ("true", "false", "1", "0"):
        raise MalformedXML(f"{name} must be true or false")
    return value in ("true", "1")


async def copy_source(s3: S3Request) -> tuple[str, str, str | None]:
    """The copy source, its preconditions checked: (bucket, key, version id pinned to
    the version the conditions were checked on). Raises the source's errors and
    PreconditionFailed (a failed ``x-amz-copy-source-if-*``, 304 cases included, as S3)."""
    src_bucket, src_key, src_vid = hdr.parse_copy_source(s3.headers["x-amz-copy-source"])
    conditions = hdr.read_conditions(s3.headers, "x-amz-copy-source-")
    if any(value is not None for value in conditions.values()):
        info = await s3.client.head_object(src_bucket, src_key, version_id=src_vid)
        try:
            conditional.check_read(info.etag, info.last_modified, **conditions)
        except NotModified:
            raise PreconditionFailed(
                "At least one of the pre-conditions you specified did not hold",
                Condition="x-amz-copy-source-If-None-Match",
            ) from None
        if info.version_id is not None:
            src_vid = info.version_id
    return src_bucket, src_key, src_vid


async def copy_object(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    src_bucket, src_key, src_vid = await copy_source(s3)
    directive = (s3.headers.get("x-amz-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument(
            "Unknown metadata directive.", ArgumentName="x-amz-metadata-directive"
        )
    replace = directive == "REPLACE"
    result = await s3.client.copy_object(
        src_bucket,
        src_key,
        bucket,
        key,
        src_version_id=src_vid,
        metadata_directive=directive,
        metadata=hdr.metadata_from(s3.headers) if replace else None,
        content_type=s3.headers.get("Content-Type") if replace else None,
        if_match=s3.headers.get("If-Match"),
        if_none_match=s3.headers.get("If-None-Match"),
        tagging_directive=(s3.headers.get("x-amz-tagging-directive") or "COPY").upper(),
        tagging=s3.headers.get("x-amz-tagging"),
        **(attrs.system_args(s3.headers) if replace else {}),
        **lock.lock_args(s3.headers),
    )
    doc = xmldoc.root("CopyObjectResult")
    xmldoc.sub(doc, "ETag", result.etag)
    xmldoc.sub(doc, "LastModified", xmldoc.timestamp(datetime.now(UTC)))
    for algorithm, value in result.checksums.items():
        xmldoc.sub(doc, f"Checksum{algorithm}", value)
    headers = hdr.written_version_header(result.version_id)
    if src_vid is not None:
        headers["x-amz-copy-source-version-id"] = src_vid
    return xml_response(xmldoc.render(doc), headers=headers)


def error_headers(exc: ObjstoreError) -> dict[str, str]:
    """Headers S3 adds to an error answer: the ETag and Last-Modified of a 304, the
    delete marker a GET/HEAD/DELETE met."""
    out: dict[str, str] = {}
    etag = exc.details.get("etag")
    if isinstance(exc, NotModified) and isinstance(etag, str):
        out["ETag"] = etag
    last_modified = exc.details.get("last_modified")
    if isinstance(exc, NotModified) and isinstance(last_modified, datetime):
        out["Last-Modified"] = hdr.http_date(last_modified)
    if exc.details.get("delete_marker"):
        out["x-amz-delete-marker"] = "true"
        vid = exc.details.get("version_id")
        if isinstance(vid, str):
            out["x-amz-version-id"] = vid
    return out
