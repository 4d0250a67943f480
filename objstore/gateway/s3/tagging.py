"""Object tagging: Put/Get/DeleteObjectTagging (``?tagging`` on an object)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from objstore.errors import MalformedXML
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request


def parse_tagging(body: bytes) -> list[tuple[str, str]]:
    """The (key, value) pairs of a ``Tagging`` document, in order, repeats kept (the
    library refuses them). Raises MalformedXML."""
    doc = xmldoc.parse(body, "Tagging")
    pairs: list[tuple[str, str]] = []
    for tag_set in xmldoc.children(doc, "TagSet"):
        for tag in xmldoc.children(tag_set, "Tag"):
            name, value = xmldoc.child_text(tag, "Key"), xmldoc.child_text(tag, "Value")
            if name is None or value is None:
                raise MalformedXML("every Tag needs a Key and a Value")
            pairs.append((name, value))
    return pairs


def tagging_form(raw: bytes) -> str:
    """A ``Tagging`` document (``<TagSet><Tag><Key/><Value/>...``) as ``x-amz-tagging``'s
    URL-encoded form, so a repeated key reaches the library (InvalidTag). Raises
    MalformedXML."""
    return urlencode(parse_tagging(raw))


def render_tagging(tags: Mapping[str, str]) -> bytes:
    doc = xmldoc.root("Tagging")
    tag_set = xmldoc.sub(doc, "TagSet")
    for name, value in tags.items():
        tag = xmldoc.sub(tag_set, "Tag")
        xmldoc.sub(tag, "Key", name)
        xmldoc.sub(tag, "Value", value)
    return xmldoc.render(doc)


async def put_object_tagging(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    tags = tagging_form(await s3.read_document(MAX_XML_BODY))
    version_id = await s3.client.put_object_tagging(
        bucket, key, tags, version_id=s3.query.get("versionId")
    )
    return web.Response(status=200, headers=hdr.version_header(version_id))


async def get_object_tagging(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    asked = s3.query.get("versionId")
    tags = await s3.client.get_object_tagging(bucket, key, version_id=asked)
    # The version read, as S3 ("the versionId of the object for which you got the tagging
    # information"): a caller reading the current tags can pin that version. A version
    # named in a never-versioned bucket (only "null" resolves there) is echoed as before.
    version_id = tags.version_id if tags.version_id is not None else asked
    return xml_response(render_tagging(tags), headers=hdr.version_header(version_id))


async def delete_object_tagging(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    version_id = await s3.client.delete_object_tagging(
        bucket, key, version_id=s3.query.get("versionId")
    )
    return web.Response(status=204, headers=hdr.version_header(version_id))
