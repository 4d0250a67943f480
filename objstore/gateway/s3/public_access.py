"""S3 Block Public Access at bucket level (``?publicAccessBlock``) and
GetBucketPolicyStatus (``?policyStatus``); what the settings do is the library's
(:mod:`objstore.ns.public_access`)."""

from __future__ import annotations

from aiohttp import web

from objstore.errors import MalformedXML
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.ns.public_access import SETTINGS, as_flags

_ROOT = "PublicAccessBlockConfiguration"


async def get_public_access_block(s3: S3Request) -> web.StreamResponse:
    config = await s3.client.get_public_access_block(s3.need_bucket())
    doc = xmldoc.root(_ROOT)
    for name, value in zip(SETTINGS, as_flags(config), strict=True):
        xmldoc.sub(doc, name, value)
    return xml_response(xmldoc.render(doc))


async def put_public_access_block(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    doc = xmldoc.parse(await s3.read_document(MAX_XML_BODY), _ROOT)
    settings: dict[str, bool] = {}
    for name in SETTINGS:
        text = xmldoc.child_text(doc, name)
        if text is None:
            continue  # a setting left out is off, as S3
        value = text.strip().lower()
        if value not in ("true", "false"):
            raise MalformedXML(f"{name} must be true or false")
        settings[name] = value == "true"
    await s3.client.put_public_access_block(bucket, settings)
    return web.Response(status=200)


async def delete_public_access_block(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_public_access_block(s3.need_bucket())
    return web.Response(status=204)


async def get_bucket_policy_status(s3: S3Request) -> web.StreamResponse:
    status = await s3.client.get_bucket_policy_status(s3.need_bucket())
    doc = xmldoc.root("PolicyStatus")
    xmldoc.sub(doc, "IsPublic", status.is_public)
    return xml_response(xmldoc.render(doc))
