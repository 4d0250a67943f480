"""Bucket operations: create, delete, head, list, location, versioning, policy."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aiohttp import web

from objstore.errors import (
    BucketAlreadyOwnedByYou,
    InvalidArgument,
    InvalidLocationConstraint,
    MalformedXML,
)
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.context import MAX_POLICY_BODY, MAX_XML_BODY, S3Request

MAX_BUCKETS = 10_000


def xml_response(
    doc: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A 200 (or ``status``) answer carrying an XML document."""
    return web.Response(status=status, body=doc, headers=headers, content_type="application/xml")


def owner(parent: ET.Element, account: str, tag: str = "Owner") -> None:
    """An ``<Owner>`` (or ``<Initiator>``) element: the account as ID and display name."""
    elem = xmldoc.sub(parent, tag)
    xmldoc.sub(elem, "ID", account)
    xmldoc.sub(elem, "DisplayName", account)


async def create_bucket(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    raw = await s3.read_document(MAX_XML_BODY)
    if raw.strip():
        doc = xmldoc.parse(raw, "CreateBucketConfiguration")
        constraint = (xmldoc.child_text(doc, "LocationConstraint") or "").strip()
        # us-east-1 is S3's "no constraint"; any other region must be this endpoint's.
        if constraint and constraint != s3.region:
            raise InvalidLocationConstraint(
                f"The specified location-constraint is not valid for this endpoint ({s3.region})",
                LocationConstraint=constraint,
            )
    lock = (s3.headers.get("x-amz-bucket-object-lock-enabled") or "false").strip().lower()
    if lock not in ("true", "false"):
        raise InvalidArgument(
            "x-amz-bucket-object-lock-enabled must be true or false",
            ArgumentName="x-amz-bucket-object-lock-enabled",
        )
    try:
        await s3.client.create_bucket(
            bucket,
            object_ownership=s3.headers.get("x-amz-object-ownership"),
            object_lock_enabled=lock == "true",
        )
    except BucketAlreadyOwnedByYou:
        # us-east-1 answers success to an owner re-creating a bucket (legacy S3 behaviour
        # clients rely on); other regions answer 409.
        if s3.region != "us-east-1":
            raise
    return web.Response(status=200, headers={"Location": f"/{bucket}"})


async def delete_bucket(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_bucket(s3.need_bucket())
    return web.Response(status=204)


async def head_bucket(s3: S3Request) -> web.StreamResponse:
    await s3.client.head_bucket(s3.need_bucket())
    return web.Response(status=200, headers={"x-amz-bucket-region": s3.region})


async def list_buckets(s3: S3Request) -> web.StreamResponse:
    # Pages (max-buckets, continuation-token: the last name of the previous page) are cut
    # here: the library lists every bucket, sorted by name.
    limit = s3.int_param("max-buckets", MAX_BUCKETS, low=1, high=MAX_BUCKETS)
    after = s3.query.get("continuation-token") or ""
    prefix = s3.query.get("prefix", "")
    buckets = [
        b for b in await s3.client.list_buckets() if b.name > after and b.name.startswith(prefix)
    ]
    page, more = buckets[:limit], len(buckets) > limit
    doc = xmldoc.root("ListAllMyBucketsResult")
    owner(doc, s3.account)
    listed = xmldoc.sub(doc, "Buckets")
    for info in page:
        b = xmldoc.sub(listed, "Bucket")
        xmldoc.sub(b, "Name", info.name)
        xmldoc.sub(b, "CreationDate", xmldoc.timestamp(info.creation_date))
    if more:
        xmldoc.sub(doc, "ContinuationToken", page[-1].name)
    if prefix:
        xmldoc.sub(doc, "Prefix", prefix)
    return xml_response(xmldoc.render(doc))


async def get_bucket_location(s3: S3Request) -> web.StreamResponse:
    # Authorized as the bucket's ListBucket (the library has no separate action for it).
    await s3.client.head_bucket(s3.need_bucket())
    doc = xmldoc.root("LocationConstraint")
    # S3 answers an empty constraint for us-east-1.
    if s3.region != "us-east-1":
        doc.text = s3.region
    return xml_response(xmldoc.render(doc))


async def get_bucket_versioning(s3: S3Request) -> web.StreamResponse:
    status = await s3.client.get_bucket_versioning(s3.need_bucket())
    doc = xmldoc.root("VersioningConfiguration")
    if status is not None:
        xmldoc.sub(doc, "Status", status)
    return xml_response(xmldoc.render(doc))


async def put_bucket_versioning(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    doc = xmldoc.parse(await s3.read_document(MAX_XML_BODY), "VersioningConfiguration")
    status = xmldoc.child_text(doc, "Status")
    if status is None:
        raise MalformedXML("VersioningConfiguration needs a Status")
    await s3.client.put_bucket_versioning(bucket, status.strip())
    return web.Response(status=200)


async def get_bucket_policy(s3: S3Request) -> web.StreamResponse:
    policy = await s3.client.get_bucket_policy(s3.need_bucket())
    return web.Response(status=200, text=policy, content_type="application/json")


async def put_bucket_policy(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    raw = await s3.read_document(MAX_POLICY_BODY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")  # the policy parser rejects it as MalformedPolicy
    await s3.client.put_bucket_policy(bucket, text)
    return web.Response(status=204)


async def delete_bucket_policy(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_bucket_policy(s3.need_bucket())
    return web.Response(status=204)
