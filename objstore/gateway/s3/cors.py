"""Bucket CORS over HTTP: Put/Get/DeleteBucketCors (``?cors``), the ``OPTIONS`` preflight,
and the ``Access-Control-*`` headers of actual answers. The rules are the library's
(:mod:`objstore.ns.cors`).

The preflight needs no authentication (browsers send none): the app answers it before
authenticating (:func:`preflight`). Every other answer to a request naming a bucket and
carrying ``Origin`` gets the headers of the first rule allowing that origin and the
request's method, errors and presigned-URL requests included, as S3
(:func:`add_answer_headers`, run as the app's ``on_response_prepare`` hook).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable

from aiohttp import web

from objstore.aio import AsyncStore
from objstore.errors import ClientError, MalformedXML
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.types import CORSRule

log = logging.getLogger("objstore.gateway")

_ROOT = "CORSConfiguration"
_INTEGER = re.compile(r"-?[0-9]{1,18}")
# Element -> (CORSRule field, repeated).
_ELEMENTS = {
    "ID": ("id", False),
    "AllowedMethod": ("allowed_methods", True),
    "AllowedOrigin": ("allowed_origins", True),
    "AllowedHeader": ("allowed_headers", True),
    "ExposeHeader": ("expose_headers", True),
    "MaxAgeSeconds": ("max_age_seconds", False),
}
# The bucket a request names, for the answer hook (set by the app once it is located).
CORS_BUCKET = web.RequestKey("objstore.cors_bucket", str)


def parse_configuration(body: bytes) -> list[CORSRule]:
    """The rules of a ``CORSConfiguration`` document, unchecked (the library checks
    them). Raises MalformedXML (not the document, an unknown or repeated element, a
    MaxAgeSeconds that is not an integer)."""
    doc = xmldoc.parse(body, _ROOT)
    rules: list[CORSRule] = []
    for elem in doc:
        if xmldoc.local(elem.tag) != "CORSRule":
            raise MalformedXML(f"unexpected element {xmldoc.local(elem.tag)} in {_ROOT}")
        rules.append(_rule(elem))
    return rules


def _rule(elem: ET.Element) -> CORSRule:
    lists: dict[str, list[str]] = {}
    single: dict[str, str] = {}
    for child in elem:
        name = xmldoc.local(child.tag)
        if name not in _ELEMENTS:
            raise MalformedXML(f"unexpected element {name} in CORSRule")
        field, repeated = _ELEMENTS[name]
        text = (child.text or "").strip()
        if repeated:
            lists.setdefault(field, []).append(text)
        elif field in single:
            raise MalformedXML(f"CORSRule has more than one {name}")
        else:
            single[field] = text
    max_age: int | None = None
    if "max_age_seconds" in single:
        raw = single["max_age_seconds"]
        if _INTEGER.fullmatch(raw) is None:
            raise MalformedXML("MaxAgeSeconds must be an integer")
        max_age = int(raw)
    return CORSRule(
        allowed_methods=tuple(lists.get("allowed_methods", ())),
        allowed_origins=tuple(lists.get("allowed_origins", ())),
        allowed_headers=tuple(lists.get("allowed_headers", ())),
        expose_headers=tuple(lists.get("expose_headers", ())),
        max_age_seconds=max_age,
        id=single.get("id"),
    )


def render_configuration(rules: list[CORSRule]) -> bytes:
    doc = xmldoc.root(_ROOT)
    for rule in rules:
        elem = xmldoc.sub(doc, "CORSRule")
        if rule.id is not None:
            xmldoc.sub(elem, "ID", rule.id)
        for name in ("AllowedHeader", "AllowedMethod", "AllowedOrigin", "ExposeHeader"):
            for value in getattr(rule, _ELEMENTS[name][0]):
                xmldoc.sub(elem, name, value)
        if rule.max_age_seconds is not None:
            xmldoc.sub(elem, "MaxAgeSeconds", rule.max_age_seconds)
    return xmldoc.render(doc)


async def put_bucket_cors(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    rules = parse_configuration(await s3.read_document(MAX_XML_BODY))
    await s3.client.put_bucket_cors(bucket, rules)
    return web.Response(status=200)


async def get_bucket_cors(s3: S3Request) -> web.StreamResponse:
    rules = await s3.client.get_bucket_cors(s3.need_bucket())
    return xml_response(render_configuration(rules))


async def delete_bucket_cors(s3: S3Request) -> web.StreamResponse:
    await s3.client.delete_bucket_cors(s3.need_bucket())
    return web.Response(status=204)


async def preflight(
    store: AsyncStore, request: web.Request, bucket: str, key: str | None
) -> web.StreamResponse:
    """The answer to an ``OPTIONS`` preflight, unauthenticated. Raises NoSuchBucket,
    BadRequest (no ``Origin``, no or an unknown ``Access-Control-Request-Method``),
    AccessForbidden (no rule allows it)."""
    headers = request.headers
    answer = await store.cors(
        bucket,
        headers.get("Origin"),
        headers.get("Access-Control-Request-Method"),
        preflight=True,
        request_headers=headers.get("Access-Control-Request-Headers"),
        resource_type="BUCKET" if key is None else "OBJECT",
    )
    return web.Response(status=200, headers=answer)


def answer_hook(
    store: AsyncStore,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """The ``on_response_prepare`` hook adding CORS headers to answers of ``store``'s
    buckets (see the module docstring)."""

    async def add_answer_headers(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        bucket = request.get(CORS_BUCKET)
        if not origin or bucket is None or request.method == "OPTIONS":
            return
        try:
            answer = await store.cors(bucket, origin, request.method)
        except ClientError:
            return  # no such bucket (any more), a name that is none: nothing to match
        except Exception as exc:  # a damaged record, a closed store: no headers, said
            log.warning("no CORS headers for bucket %s: %s", bucket, exc)
            return
        for name, value in answer.items():
            response.headers[name] = value

    return add_answer_headers
