"""Bucket tagging: Put/Get/DeleteBucketTagging (``?tagging`` on a bucket); the rules are
the library's (:mod:`objstore.ns.tags`, at most 50 tags)."""

from __future__ import annotations

from aiohttp import web

from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.gateway.s3.tagging import parse_tagging, render_tagging


async def put_bucket_tagging(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    # Pairs, so a repeated key reaches the library (InvalidTag).
    pairs = parse_tagging(await s3.read_document(MAX_XML_BODY))
    await s3.client.put_bucket_tagging(bucket, pairs)
    return web.Response(status=204)


async def get_bucket_tagging(s3: S3Request) -> web.StreamResponse:
    tags = await s3.client.get_bucket_tagging(s3.need_bucket())
    return xml_response(render_tagging(tags))


async def delete_bucket_tagging(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_bucket_tagging(s3.need_bucket())
    return web.Response(status=204)
