"""ACLs and object ownership controls, ACLs disabled as S3 has them by default
(:mod:`objstore.ns.acl`): Get/PutBucketAcl, Get/PutObjectAcl (``?acl``) and
Get/Put/DeleteBucketOwnershipControls (``?ownershipControls``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aiohttp import web

from objstore.errors import MalformedACLError, MalformedXML
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.types import AccessControlPolicy, Grant

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# A grantee's name element by its xsi:type.
_GRANTEE_ID = {"CanonicalUser": "ID", "Group": "URI", "AmazonCustomerByEmail": "EmailAddress"}


def policy_document(policy: AccessControlPolicy) -> bytes:
    """An ``AccessControlPolicy`` document, as GetBucketAcl / GetObjectAcl answer."""
    doc = xmldoc.root("AccessControlPolicy")
    owner = xmldoc.sub(doc, "Owner")
    xmldoc.sub(owner, "ID", policy.owner_id)
    xmldoc.sub(owner, "DisplayName", policy.owner_display_name)
    listed = xmldoc.sub(doc, "AccessControlList")
    for grant in policy.grants:
        elem = xmldoc.sub(listed, "Grant")
        grantee = xmldoc.sub(elem, "Grantee")
        grantee.set("xmlns:xsi", _XSI)
        grantee.set("xsi:type", grant.grantee_type)
        xmldoc.sub(grantee, _GRANTEE_ID.get(grant.grantee_type, "ID"), grant.grantee_id)
        if grant.display_name is not None:
            xmldoc.sub(grantee, "DisplayName", grant.display_name)
        xmldoc.sub(elem, "Permission", grant.permission)
    return xmldoc.render(doc)


def parse_policy(raw: bytes) -> AccessControlPolicy:
    """An ``AccessControlPolicy`` request body. Raises MalformedACLError."""
    try:
        doc = xmldoc.parse(raw, "AccessControlPolicy")
    except MalformedXML as exc:
        raise MalformedACLError(
            "The XML you provided was not well-formed or did not validate against our "
            "published schema"
        ) from exc
    owner_id = ""
    for owner in xmldoc.children(doc, "Owner"):
        owner_id = (xmldoc.child_text(owner, "ID") or "").strip()
    grants: list[Grant] = []
    for listed in xmldoc.children(doc, "AccessControlList"):
        for elem in xmldoc.children(listed, "Grant"):
            grants.append(_grant(elem))
    return AccessControlPolicy(owner_id, owner_id, tuple(grants))


def _grant(elem: ET.Element) -> Grant:
    grantees = xmldoc.children(elem, "Grantee")
    permission = (xmldoc.child_text(elem, "Permission") or "").strip()
    if len(grantees) != 1 or not permission:
        raise MalformedACLError("every Grant needs one Grantee and a Permission")
    grantee = grantees[0]
    kind = grantee.get(f"{{{_XSI}}}type") or grantee.get("type") or ""
    name = _GRANTEE_ID.get(kind)
    value = (xmldoc.child_text(grantee, name) or "").strip() if name else ""
    return Grant(value, permission, kind)


def _acl_request(s3: S3Request, raw: bytes) -> tuple[str | None, AccessControlPolicy | None]:
    """The library arguments of a Put*Acl: ``x-amz-acl``, ``x-amz-grant-*`` headers (as a
    policy) or an ``AccessControlPolicy`` body. Raises MalformedACLError (none of them,
    or a body beside a header), InvalidArgument."""
    canned = s3.headers.get("x-amz-acl")
    grants = hdr.grant_headers(s3.headers)
    body = raw.strip()
    if sum((canned is not None, bool(grants), bool(body))) != 1:
        raise MalformedACLError(
            "give one of x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body"
        )
    if canned is not None:
        return canned, None
    if grants:
        return None, AccessControlPolicy(s3.account, s3.account, tuple(grants))
    return None, parse_policy(body)


async def get_bucket_acl(s3: S3Request) -> web.StreamResponse:
    policy = await s3.client.get_bucket_acl(s3.need_bucket())
    return xml_response(policy_document(policy))


async def put_bucket_acl(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    canned, policy = _acl_request(s3, await s3.read_document(MAX_XML_BODY))
    await s3.client.put_bucket_acl(bucket, acl=canned, access_control_policy=policy)
    return web.Response(status=200)


async def get_object_acl(s3: S3Request) -> web.StreamResponse:
    version_id = s3.query.get("versionId")
    policy = await s3.client.get_object_acl(s3.need_bucket(), s3.need_key(), version_id=version_id)
    return xml_response(policy_document(policy))


async def put_object_acl(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    canned, policy = _acl_request(s3, await s3.read_document(MAX_XML_BODY))
    await s3.client.put_object_acl(
        bucket, key, acl=canned, access_control_policy=policy, version_id=s3.query.get("versionId")
    )
    return web.Response(status=200)


async def get_bucket_ownership_controls(s3: S3Request) -> web.StreamResponse:
    setting = await s3.client.get_bucket_ownership_controls(s3.need_bucket())
    doc = xmldoc.root("OwnershipControls")
    xmldoc.sub(xmldoc.sub(doc, "Rule"), "ObjectOwnership", setting)
    return xml_response(xmldoc.render(doc))


async def put_bucket_ownership_controls(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    doc = xmldoc.parse(await s3.read_document(MAX_XML_BODY), "OwnershipControls")
    rules = xmldoc.children(doc, "Rule")
    setting = None if len(rules) != 1 else xmldoc.child_text(rules[0], "ObjectOwnership")
    if not setting:
        raise MalformedXML("OwnershipControls needs one Rule with an ObjectOwnership")
    await s3.client.put_bucket_ownership_controls(bucket, setting.strip())
    return web.Response(status=200)


async def delete_bucket_ownership_controls(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_bucket_ownership_controls(s3.need_bucket())
    return web.Response(status=204)
