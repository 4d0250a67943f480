"""PostObject: a browser-based upload (``POST /bucket``, ``multipart/form-data``).

The form's fields stand for PutObject's headers: ``key`` (``${filename}`` is the
file's name), ``Content-Type``, ``Cache-Control``, ``Content-Disposition``,
``Content-Encoding``, ``Content-Language``, ``Expires``, ``x-amz-meta-*``,
``x-amz-checksum-*``, ``x-amz-storage-class``, ``x-amz-object-lock-*``, ``acl`` (as
``x-amz-acl``: only what ACLs-disabled PUTs accept, with the same errors) and
``tagging`` (a ``Tagging`` XML document). A signed form (``policy`` with a SigV4 or
SigV2 signature, :mod:`objstore.gateway.post_auth`) acts as its signer, within its
policy (:mod:`objstore.gateway.post_policy`); an unsigned one acts as the request's
caller (the anonymous principal for a browser), as any request. Either way the
upload is the library's ``put_object`` (action ``s3:PutObject`` on the key, and
``s3:PutObjectTagging`` with tags), so bucket policies, IAM policies, Block Public
Access and Object Lock defaults apply as to PUT.

The answer: a ``303`` to ``success_action_redirect`` (or ``redirect``) with
``bucket``, ``key`` and ``etag`` appended to its query, when it is an http(s) URL;
else ``success_action_status`` 200 (empty), 201 (a ``PostResponse`` document) or 204
(empty; also for any other value, as S3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from objstore.errors import InvalidArgument
from objstore.gateway import post_auth, post_policy
from objstore.gateway.body import BODY_TIMEOUT, timed_out
from objstore.gateway.s3 import attributes as attrs
from objstore.gateway.s3 import headers as hdr
from objstore.gateway.s3 import locking as lock
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import S3Request
from objstore.gateway.s3.form_body import read_form
from objstore.gateway.s3.tagging import tagging_form
from objstore.types import PutObjectResult

# Form fields that are PutObject headers by the same name (besides x-amz-*).
_HEADER_FIELDS = frozenset(
    {
        "content-type",
        "content-md5",
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
    }
)


async def post_object(s3: S3Request) -> web.StreamResponse:
    """Store the form's file. Raises what :func:`read_form`, the form's signature
    and policy checks and ``put_object`` raise, and InvalidArgument (no ``key``),
    MalformedXML (``tagging``)."""
    bucket = s3.need_bucket()
    # The fields come before anything is authenticated: all of them within one body
    # timeout, not one per piece (a byte per 59 s kept a slot for the 20 KiB of fields,
    # and 1024 such anonymous forms held every slot: review 10c, F3).
    try:
        async with asyncio.timeout(s3.request.get(BODY_TIMEOUT)):
            form = await read_form(s3.headers, s3.body)
    except TimeoutError:
        raise timed_out(s3.request) from None  # answered, then the connection closed
    fields = {n: post_policy.expand_filename(v, form.filename) for n, v in form.fields.items()}
    key = fields.get("key")
    if not key:
        raise InvalidArgument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please "
            "check the order of the fields.",
            ArgumentName="key",
            ArgumentValue="",
        )
    client = s3.client
    policy: post_policy.PostPolicy | None = None
    if post_auth.signed(fields):
        forms = s3.request.config_dict[post_auth.FORM_AUTHENTICATOR]
        identity = await forms.identity(fields, s3.client.identity)
        policy = post_policy.parse_policy(fields["policy"])
        post_policy.check_expiration(policy, forms.clock())
        post_policy.check_fields(policy, fields, bucket)
        client = forms.client_for(identity)
    headers = _as_headers(fields)
    hdr.check_write_headers("PutObject", headers, client.identity.account)

    tagging = fields.get("tagging")

    def check(size: int, final: bool) -> None:
        if policy is not None:
            post_policy.check_size(policy, size, final=final)

    result = await client.put_object(
        bucket,
        key,
        form.file(check),
        metadata=hdr.metadata_from(headers),
        content_type=fields.get("content-type"),
        tagging=None if tagging is None else tagging_form(tagging.encode("utf-8")),
        **attrs.checksum_args(headers, s3.body),
        **attrs.system_args(headers),
        **lock.lock_args(headers),
    )
    return _answer(s3, bucket, key, result, fields)


def _as_headers(fields: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """The fields that stand for PutObject's headers, as those headers (``acl`` is
    ``x-amz-acl``)."""
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in fields.items():
        if name in _HEADER_FIELDS or name.startswith("x-amz-"):
            out[name] = value
        elif name == "acl":
            out["x-amz-acl"] = value
    return CIMultiDictProxy(out)


def _redirect(target: str | None, bucket: str, key: str, etag: str) -> str | None:
    """The redirect's URL with ``bucket``, ``key`` and ``etag`` in its query, or None
    when there is none or it is not an http(s) URL (S3 ignores a URL it cannot use)."""
    if not target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = urlencode([("bucket", bucket), ("key", key), ("etag", etag)], quote_via=quote)
    joined = f"{parts.query}&{query}" if parts.query else query
    return parts._replace(query=joined).geturl()


def _answer(
    s3: S3Request, bucket: str, key: str, result: PutObjectResult, fields: Mapping[str, str]
) -> web.StreamResponse:
    location = f"{s3.request.scheme}://{s3.request.host}/{bucket}/{quote(key, safe='/~')}"
    headers = {"ETag": result.etag, "Location": location}
    headers.update(hdr.written_version_header(result.version_id))
    headers.update(attrs.checksum_headers(result.checksums, result.checksum_type))
    target = fields.get("success_action_redirect") or fields.get("redirect")
    redirect = _redirect(target, bucket, key, result.etag)
    if redirect is not None:
        return web.Response(status=303, headers={**headers, "Location": redirect})
    status = fields.get("success_action_status")
    if status == "201":
        doc = xmldoc.root("PostResponse", namespaced=False)
        xmldoc.sub(doc, "Location", location)
        xmldoc.sub(doc, "Bucket", bucket)
        xmldoc.sub(doc, "Key", key)
        xmldoc.sub(doc, "ETag", result.etag)
        return xml_response(xmldoc.render(doc), status=201, headers=headers)
    return web.Response(status=200 if status == "200" else 204, headers=headers)
