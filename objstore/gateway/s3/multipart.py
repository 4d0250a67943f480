"""Multipart uploads: create, upload part (and part copy), complete, abort, list parts
(ListMultipartUploads is with the other listings, in :mod:`.listing`)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from objstore import checksums
from objstore.checksums import ALGORITHMS
from objstore.errors import InvalidArgument, InvalidRequest, MalformedXML
from objstore.gateway.s3 import attributes as attrs
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import locking, xmldoc
from objstore.gateway.s3.buckets import owner, xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.gateway.s3.objects import copy_source

MAX_PARTS = 10_000
PAGE = 1000


def _upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def _upload_id(s3: S3Request) -> str:
    upload_id = s3.query.get("uploadId")
    if not upload_id:
        raise InvalidRequest("uploadId must not be empty", ArgumentName="uploadId")
    return upload_id


def _part_number(s3: S3Request) -> int:
    number = s3.int_param("partNumber", 0, low=1)
    if number > MAX_PARTS:
        raise InvalidArgument(
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=str(number),
        )
    return number


async def create_multipart_upload(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    upload_id = await s3.client.create_multipart_upload(
        bucket,
        key,
        metadata=hdr.metadata_from(s3.headers),
        content_type=s3.headers.get("Content-Type"),
        checksum_algorithm=_upper(s3.headers.get("x-amz-checksum-algorithm")),
        checksum_type=_upper(s3.headers.get("x-amz-checksum-type")),
        tagging=s3.headers.get("x-amz-tagging"),
        **attrs.system_args(s3.headers),
        **locking.lock_args(s3.headers),
    )
    doc = xmldoc.root("InitiateMultipartUploadResult")
    xmldoc.sub(doc, "Bucket", bucket)
    xmldoc.sub_key(doc, key)
    xmldoc.sub(doc, "UploadId", upload_id)
    headers: dict[str, str] = {}
    algorithm = _upper(s3.headers.get("x-amz-checksum-algorithm"))
    if algorithm is not None:
        headers["x-amz-checksum-algorithm"] = algorithm
        # The type in force, S3's default when none was named (the library took both).
        chosen = checksums.check_type(algorithm, _upper(s3.headers.get("x-amz-checksum-type")))
        if chosen is not None:
            headers["x-amz-checksum-type"] = chosen
    return xml_response(xmldoc.render(doc), headers=headers)


async def upload_part(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    result = await s3.client.upload_part(
        bucket,
        key,
        _upload_id(s3),
        _part_number(s3),
        await s3.upload_body(),
        content_length=s3.body.length,
        **attrs.checksum_args(s3.headers, s3.body),
    )
    headers = {"ETag": result.etag, **attrs.checksum_headers(result.checksums, None)}
    return web.Response(status=200, headers=headers)


async def upload_part_copy(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    upload_id, number = _upload_id(s3), _part_number(s3)
    src_bucket, src_key, src_vid = await copy_source(s3)
    result = await s3.client.upload_part_copy(
        bucket,
        key,
        upload_id,
        number,
        src_bucket,
        src_key,
        src_version_id=src_vid,
        src_range=s3.headers.get("x-amz-copy-source-range"),
    )
    doc = xmldoc.root("CopyPartResult")
    xmldoc.sub(doc, "ETag", result.etag)
    xmldoc.sub(doc, "LastModified", xmldoc.timestamp(datetime.now(UTC)))
    headers = {} if src_vid is None else {"x-amz-copy-source-version-id": src_vid}
    return xml_response(xmldoc.render(doc), headers=headers)


async def complete_multipart_upload(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    upload_id = _upload_id(s3)
    doc = xmldoc.parse(await s3.body.read_all(MAX_XML_BODY), "CompleteMultipartUpload")
    parts: list[dict[str, object]] = []
    for part in xmldoc.children(doc, "Part"):
        number = (xmldoc.child_text(part, "PartNumber") or "").strip()
        etag = (xmldoc.child_text(part, "ETag") or "").strip()
        if not number.isascii() or not number.isdigit() or len(number) > 6 or not etag:
            raise MalformedXML("every Part needs a PartNumber and an ETag")
        entry: dict[str, object] = {
            "PartNumber": int(number),
            "ETag": etag if etag.startswith('"') else f'"{etag}"',
        }
        for algorithm in ALGORITHMS:
            value = xmldoc.child_text(part, f"Checksum{algorithm}")
            if value is not None:
                entry[f"Checksum{algorithm}"] = value.strip()
        parts.append(entry)
    if not parts:
        raise MalformedXML("a CompleteMultipartUpload lists at least one Part")
    result = await s3.client.complete_multipart_upload(
        bucket,
        key,
        upload_id,
        parts,
        if_match=s3.headers.get("If-Match"),
        if_none_match=s3.headers.get("If-None-Match"),
        checksums={
            a: s3.headers[attrs.checksum_header(a)]
            for a in ALGORITHMS
            if attrs.checksum_header(a) in s3.headers
        }
        or None,
    )
    out = xmldoc.root("CompleteMultipartUploadResult")
    # A URL: the key in it is percent-encoded (it may hold any character, '?' and '#' too).
    location = f"{s3.request.scheme}://{s3.request.host}/{bucket}/{quote(key, safe='/~')}"
    xmldoc.sub(out, "Location", location)
    xmldoc.sub(out, "Bucket", bucket)
    xmldoc.sub_key(out, key)
    xmldoc.sub(out, "ETag", result.etag)
    for algorithm, value in result.checksums.items():
        xmldoc.sub(out, f"Checksum{algorithm}", value)
    if result.checksums and result.checksum_type:
        xmldoc.sub(out, "ChecksumType", result.checksum_type)
    return xml_response(xmldoc.render(out), headers=hdr.written_version_header(result.version_id))


async def abort_multipart_upload(s3: S3Request) -> web.StreamResponse:
    await s3.client.abort_multipart_upload(s3.need_bucket(), s3.need_key(), _upload_id(s3))
    return web.Response(status=204)


async def list_parts(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    upload_id = _upload_id(s3)
    max_parts = s3.int_param("max-parts", PAGE, high=PAGE)
    marker = s3.int_param("part-number-marker", 0)
    # One more than asked tells whether the page is truncated (a second call when the
    # page is the library's largest).
    listed = await s3.client.list_parts(
        bucket, key, upload_id, max_parts=min(max_parts + 1, PAGE), part_number_marker=marker
    )
    truncated = len(listed) > max_parts
    if max_parts == PAGE and len(listed) == PAGE:
        more = await s3.client.list_parts(
            bucket, key, upload_id, max_parts=1, part_number_marker=listed[-1].part_number
        )
        truncated = bool(more)
    parts = listed[:max_parts]
    doc = xmldoc.root("ListPartsResult")
    xmldoc.sub(doc, "Bucket", bucket)
    xmldoc.sub_key(doc, key)
    xmldoc.sub(doc, "UploadId", upload_id)
    owner(doc, s3.account, "Initiator")
    owner(doc, s3.account)
    xmldoc.sub(doc, "StorageClass", "STANDARD")
    xmldoc.sub(doc, "PartNumberMarker", marker)
    if parts:
        xmldoc.sub(doc, "NextPartNumberMarker", parts[-1].part_number)
    xmldoc.sub(doc, "MaxParts", max_parts)
    xmldoc.sub(doc, "IsTruncated", truncated)
    if listed.checksum_algorithm is not None:
        xmldoc.sub(doc, "ChecksumAlgorithm", listed.checksum_algorithm)
        xmldoc.sub(doc, "ChecksumType", listed.checksum_type or "COMPOSITE")
    for part in parts:
        p = xmldoc.sub(doc, "Part")
        xmldoc.sub(p, "PartNumber", part.part_number)
        xmldoc.sub(p, "LastModified", xmldoc.timestamp(part.last_modified))
        xmldoc.sub(p, "ETag", part.etag)
        xmldoc.sub(p, "Size", part.size)
        for algorithm, value in part.checksums.items():
            xmldoc.sub(p, f"Checksum{algorithm}", value)
    return xml_response(xmldoc.render(doc))
