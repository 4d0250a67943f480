"""GetObjectAttributes (``GET /bucket/key?attributes``): the attributes named in
``x-amz-object-attributes``, as S3's ``GetObjectAttributesResponse`` document."""

from __future__ import annotations

from aiohttp import web

from objstore.errors import InvalidArgument
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import S3Request
from objstore.types import ObjectAttributes


def _header_int(s3: S3Request, name: str) -> int | None:
    """An integer header (``x-amz-max-parts``, ``x-amz-part-number-marker``): absent is
    None; the library refuses a negative one, and a malformed one is refused as such."""
    raw = s3.headers.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 12:
        return int(raw)
    raise InvalidArgument(f"{name} must be an integer", ArgumentName=name, ArgumentValue=raw)


def attributes_document(attrs: ObjectAttributes) -> bytes:
    doc = xmldoc.root("GetObjectAttributesResponse")
    if attrs.etag is not None:
        xmldoc.sub(doc, "ETag", attrs.etag)
    if attrs.checksums:
        checksum = xmldoc.sub(doc, "Checksum")
        for algorithm, value in attrs.checksums.items():
            xmldoc.sub(checksum, f"Checksum{algorithm}", value)
        if attrs.checksum_type:
            xmldoc.sub(checksum, "ChecksumType", attrs.checksum_type)
    parts = attrs.object_parts
    if parts is not None:
        elem = xmldoc.sub(doc, "ObjectParts")
        xmldoc.sub(elem, "PartsCount", parts.total_parts_count)
        xmldoc.sub(elem, "PartNumberMarker", parts.part_number_marker)
        if parts.next_part_number_marker is not None:
            xmldoc.sub(elem, "NextPartNumberMarker", parts.next_part_number_marker)
        xmldoc.sub(elem, "MaxParts", parts.max_parts)
        xmldoc.sub(elem, "IsTruncated", parts.is_truncated)
        for part in parts.parts:
            p = xmldoc.sub(elem, "Part")
            for algorithm, value in part.checksums.items():
                xmldoc.sub(p, f"Checksum{algorithm}", value)
            xmldoc.sub(p, "PartNumber", part.part_number)
            xmldoc.sub(p, "Size", part.size)
    if attrs.storage_class is not None:
        xmldoc.sub(doc, "StorageClass", attrs.storage_class)
    if attrs.object_size is not None:
        xmldoc.sub(doc, "ObjectSize", attrs.object_size)
    return xmldoc.render(doc)


async def get_object_attributes(s3: S3Request) -> web.StreamResponse:
    # One header with a comma-separated list, or the header repeated (HTTP folds them).
    listed = ",".join(s3.headers.getall("x-amz-object-attributes", []))
    names = [n.strip() for n in listed.split(",")]
    attrs = await s3.client.get_object_attributes(
        s3.need_bucket(),
        s3.need_key(),
        object_attributes=[n for n in names if n],
        version_id=s3.query.get("versionId"),
        max_parts=_header_int(s3, "x-amz-max-parts"),
        part_number_marker=_header_int(s3, "x-amz-part-number-marker"),
    )
    headers = {"Last-Modified": hdr.http_date(attrs.last_modified)}
    headers.update(hdr.version_header(attrs.version_id))
    return xml_response(attributes_document(attrs), headers=headers)
