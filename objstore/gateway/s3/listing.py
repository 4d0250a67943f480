"""Listings: ListObjects (v1 and v2), ListObjectVersions and ListMultipartUploads, with
``delimiter`` and ``encoding-type=url``.

Keys may hold characters XML 1.0 cannot carry at all (U+0001 ...). S3 writes them as
character references no XML parser accepts, so the client cannot read the page; it
URL-encodes names only when ``encoding-type=url`` is asked (and then says so with
``<EncodingType>url</EncodingType>``). Here too names are encoded only when asked: a page
encoded unasked reaches clients that do not decode it (botocore never decodes
ListMultipartUploads) with every name changed. A page that would hold such a name
unasked is refused instead (InvalidArgument naming ``encoding-type``): the client fails
loudly, as it does on S3's page, but with an answer it can parse and act on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from objstore.errors import InvalidArgument
from objstore.gateway import xmltext
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import owner, xml_response
from objstore.gateway.s3.context import S3Request
from objstore.types import DeleteMarkerEntry, ObjectVersion

MAX_KEYS = 1000


class _Text:
    """Names as the listing shows them: URL-encoded when ``encoded``; otherwise as they
    are, noting whether one cannot be written in XML."""

    def __init__(self, encoded: bool) -> None:
        self.encoded = encoded
        self.unrepresentable = False

    def __call__(self, value: str) -> str:
        if self.encoded:
            return quote(value, safe="/")
        if not xmltext.representable(value):
            self.unrepresentable = True
        return value

    def header(self, doc: ET.Element) -> None:
        if self.encoded:
            xmldoc.sub(doc, "EncodingType", "url")


def _url_encoding_asked(s3: S3Request) -> bool:
    """Whether ``encoding-type=url`` was asked. Raises InvalidArgument (another value)."""
    enc = s3.query.get("encoding-type")
    if enc is not None and enc.lower() != "url":
        raise InvalidArgument(
            "Invalid Encoding Method specified in Request", ArgumentName="encoding-type"
        )
    return enc is not None


def _page(s3: S3Request, build: Callable[[_Text], ET.Element]) -> web.StreamResponse:
    """The page ``build`` writes, URL-encoded when asked. Raises InvalidArgument when it
    was not asked and a name on the page (key, prefix, delimiter, marker) is one XML
    cannot carry: never a document a client cannot parse, nor names it did not ask to
    have changed."""
    text = _Text(_url_encoding_asked(s3))
    doc = build(text)
    if text.unrepresentable:
        raise InvalidArgument(
            "The listing holds a name XML 1.0 cannot carry; ask for encoding-type=url",
            ArgumentName="encoding-type",
        )
    return xml_response(xmldoc.render(doc))


def _markers(
    doc: ET.Element,
    text: _Text,
    name: str,
    given: tuple[str | None, str | None],
    truncated: bool,
    following: tuple[str | None, str | None],
) -> None:
    """``KeyMarker``/``<name>Marker`` as asked, and on a truncated page the next ones
    (only ``NextKeyMarker`` when the page ended on a common prefix)."""
    xmldoc.sub(doc, "KeyMarker", text(given[0] or ""))
    xmldoc.sub(doc, f"{name}Marker", given[1] or "")
    if truncated:
        if following[0] is not None:
            xmldoc.sub(doc, "NextKeyMarker", text(following[0]))
        if following[1] is not None:
            xmldoc.sub(doc, f"Next{name}Marker", following[1])


async def list_objects(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    _url_encoding_asked(s3)  # another encoding is refused before anything is listed
    list_type = s3.query.get("list-type")
    if list_type not in (None, "2"):
        raise InvalidArgument(
            "Invalid List Type specified", ArgumentName="list-type", ArgumentValue=list_type
        )
    v2 = list_type == "2"
    prefix = s3.query.get("prefix", "")
    delimiter = s3.query.get("delimiter") or None
    max_keys = s3.int_param("max-keys", MAX_KEYS, high=MAX_KEYS)
    token = s3.query.get("continuation-token") if v2 else None
    after = s3.query.get("start-after" if v2 else "marker") or None
    page = await s3.client.list_objects(
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=max_keys,
        # An empty token is no token (S3 lists from the start and echoes it back).
        continuation_token=token or None,
        start_after=after,
    )

    def build(text: _Text) -> ET.Element:
        doc = xmldoc.root("ListBucketResult")
        xmldoc.sub(doc, "Name", bucket)
        # v1 writes its Prefix as given even with encoding-type=url (what S3 answers:
        # botocore decodes Delimiter, Marker, NextMarker and the keys of a v1 page, not
        # its Prefix); one XML cannot carry is still encoded (and refused unasked).
        v1_raw = not v2 and xmltext.representable(prefix)
        xmldoc.sub(doc, "Prefix", prefix if v1_raw else text(prefix))
        if v2:
            if token is not None:
                xmldoc.sub(doc, "ContinuationToken", token)
            if page.next_continuation_token is not None:
                xmldoc.sub(doc, "NextContinuationToken", page.next_continuation_token)
            if after is not None:
                xmldoc.sub(doc, "StartAfter", text(after))
            xmldoc.sub(doc, "KeyCount", page.key_count)
        else:
            xmldoc.sub(doc, "Marker", text(after or ""))
            if page.is_truncated and delimiter is not None:
                # S3 gives NextMarker only with a delimiter; clients use the last key otherwise.
                last = max(
                    [c.key for c in page.contents[-1:]] + list(page.common_prefixes[-1:]),
                    key=lambda name: name.encode("utf-8"),
                )
                xmldoc.sub(doc, "NextMarker", text(last))
        xmldoc.sub(doc, "MaxKeys", max_keys)
        if delimiter is not None:
            xmldoc.sub(doc, "Delimiter", text(delimiter))
        text.header(doc)
        xmldoc.sub(doc, "IsTruncated", page.is_truncated)
        fetch_owner = not v2 or s3.query.get("fetch-owner", "").lower() == "true"
        for obj in page.contents:
            c = xmldoc.sub(doc, "Contents")
            xmldoc.sub(c, "Key", text(obj.key))
            xmldoc.sub(c, "LastModified", xmldoc.timestamp(obj.last_modified))
            xmldoc.sub(c, "ETag", obj.etag)
            xmldoc.sub(c, "Size", obj.size)
            if fetch_owner:
                owner(c, s3.account)
            xmldoc.sub(c, "StorageClass", obj.storage_class)
        for cp in page.common_prefixes:
            xmldoc.sub(xmldoc.sub(doc, "CommonPrefixes"), "Prefix", text(cp))
        return doc

    return _page(s3, build)


async def list_object_versions(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    _url_encoding_asked(s3)  # another encoding is refused before anything is listed
    prefix = s3.query.get("prefix", "")
    delimiter = s3.query.get("delimiter") or None
    key_marker = s3.query.get("key-marker") or None
    vid_marker = s3.query.get("version-id-marker") or None
    max_keys = s3.int_param("max-keys", MAX_KEYS, high=MAX_KEYS)
    page = await s3.client.list_object_versions(
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        version_id_marker=vid_marker if key_marker else None,
        max_keys=max_keys,
    )

    def build(text: _Text) -> ET.Element:
        doc = xmldoc.root("ListVersionsResult")
        xmldoc.sub(doc, "Name", bucket)
        xmldoc.sub(doc, "Prefix", text(prefix))
        _markers(
            doc,
            text,
            "VersionId",
            (key_marker, vid_marker),
            page.is_truncated,
            (page.next_key_marker, page.next_version_id_marker),
        )
        xmldoc.sub(doc, "MaxKeys", max_keys)
        if delimiter is not None:
            xmldoc.sub(doc, "Delimiter", text(delimiter))
        text.header(doc)
        xmldoc.sub(doc, "IsTruncated", page.is_truncated)
        entries: list[ObjectVersion | DeleteMarkerEntry] = [*page.versions, *page.delete_markers]
        # One stream in S3's order: by key, then newest first.
        entries.sort(
            key=lambda e: (e.key.encode("utf-8"), not e.is_latest, -e.last_modified.timestamp())
        )
        for entry in entries:
            if isinstance(entry, ObjectVersion):
                v = xmldoc.sub(doc, "Version")
                xmldoc.sub(v, "Key", text(entry.key))
                xmldoc.sub(v, "VersionId", entry.version_id)
                xmldoc.sub(v, "IsLatest", entry.is_latest)
                xmldoc.sub(v, "LastModified", xmldoc.timestamp(entry.last_modified))
                xmldoc.sub(v, "ETag", entry.etag)
                xmldoc.sub(v, "Size", entry.size)
                owner(v, s3.account)
                xmldoc.sub(v, "StorageClass", "STANDARD")
            else:
                m = xmldoc.sub(doc, "DeleteMarker")
                xmldoc.sub(m, "Key", text(entry.key))
                xmldoc.sub(m, "VersionId", entry.version_id)
                xmldoc.sub(m, "IsLatest", entry.is_latest)
                xmldoc.sub(m, "LastModified", xmldoc.timestamp(entry.last_modified))
                owner(m, s3.account)
        for cp in page.common_prefixes:
            xmldoc.sub(xmldoc.sub(doc, "CommonPrefixes"), "Prefix", text(cp))
        return doc

    return _page(s3, build)


async def list_multipart_uploads(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    _url_encoding_asked(s3)  # another encoding is refused before anything is listed
    prefix = s3.query.get("prefix", "")
    delimiter = s3.query.get("delimiter") or None
    key_marker = s3.query.get("key-marker") or None
    id_marker = s3.query.get("upload-id-marker") or None
    max_uploads = s3.int_param("max-uploads", MAX_KEYS, high=MAX_KEYS)
    page = await s3.client.list_multipart_uploads(
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        # S3 ignores an upload id marker without a key marker.
        upload_id_marker=id_marker if key_marker else None,
        max_uploads=max_uploads,
    )

    def build(text: _Text) -> ET.Element:
        doc = xmldoc.root("ListMultipartUploadsResult")
        xmldoc.sub(doc, "Bucket", bucket)
        _markers(
            doc,
            text,
            "UploadId",
            (key_marker, id_marker),
            page.is_truncated,
            (page.next_key_marker, page.next_upload_id_marker),
        )
        if delimiter is not None:
            xmldoc.sub(doc, "Delimiter", text(delimiter))
        xmldoc.sub(doc, "Prefix", text(prefix))
        xmldoc.sub(doc, "MaxUploads", max_uploads)
        text.header(doc)
        xmldoc.sub(doc, "IsTruncated", page.is_truncated)
        for up in page.uploads:
            u = xmldoc.sub(doc, "Upload")
            xmldoc.sub(u, "Key", text(up.key))
            xmldoc.sub(u, "UploadId", up.upload_id)
            owner(u, s3.account, "Initiator")
            owner(u, s3.account)
            xmldoc.sub(u, "StorageClass", "STANDARD")
            xmldoc.sub(u, "Initiated", xmldoc.timestamp(up.initiated))
        for cp in page.common_prefixes:
            xmldoc.sub(xmldoc.sub(doc, "CommonPrefixes"), "Prefix", text(cp))
        return doc

    return _page(s3, build)
