"""S3 Object Lock over HTTP: Get/PutObjectLockConfiguration (``?object-lock``),
Get/PutObjectRetention (``?retention``), Get/PutObjectLegalHold (``?legal-hold``), and
the ``x-amz-object-lock-*`` / ``x-amz-bypass-governance-retention`` headers of the other
operations (the rules are the library's, :mod:`objstore.ns.locking`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from multidict import CIMultiDictProxy

from objstore.errors import InvalidArgument, MalformedXML
from objstore.gateway.s3 import attributes as attrs
from objstore.gateway.s3 import xmldoc
from objstore.gateway.s3.buckets import xml_response
from objstore.gateway.s3.context import MAX_XML_BODY, S3Request
from objstore.ns import locking
from objstore.types import ObjectLockConfiguration, ObjectLockRetention

MODE = "x-amz-object-lock-mode"
UNTIL = "x-amz-object-lock-retain-until-date"
HOLD = "x-amz-object-lock-legal-hold"
BYPASS = "x-amz-bypass-governance-retention"


class Locked(Protocol):
    """What ObjectInfo and an open body tell of a version's Object Lock."""

    @property
    def object_lock_mode(self) -> str | None: ...
    @property
    def object_lock_retain_until_date(self) -> datetime | None: ...
    @property
    def object_lock_legal_hold_status(self) -> str | None: ...


def lock_args(headers: CIMultiDictProxy[str]) -> dict[str, Any]:
    """The ``x-amz-object-lock-*`` headers of a write as the library's arguments."""
    return {
        "object_lock_mode": headers.get(MODE),
        "object_lock_retain_until_date": headers.get(UNTIL),
        "object_lock_legal_hold_status": headers.get(HOLD),
    }


def bypass(headers: CIMultiDictProxy[str]) -> bool:
    """Whether the request asks to bypass GOVERNANCE retention. Raises InvalidArgument
    (a value that is not a boolean)."""
    value = headers.get(BYPASS)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidArgument(
            f"{BYPASS} must be true or false", ArgumentName=BYPASS, ArgumentValue=value
        )
    return lowered == "true"


def lock_headers(obj: Locked) -> dict[str, str]:
    """The Object Lock headers of a GET or HEAD answer (none for an unlocked version)."""
    out: dict[str, str] = {}
    if obj.object_lock_mode is not None and obj.object_lock_retain_until_date is not None:
        out[MODE] = obj.object_lock_mode
        out[UNTIL] = locking.iso(locking.to_ms(obj.object_lock_retain_until_date))
    if obj.object_lock_legal_hold_status is not None:
        out[HOLD] = obj.object_lock_legal_hold_status
    return out


async def _document(s3: S3Request, root: str) -> Any:
    """A PUT's XML body, its Content-MD5 or checksum checked (S3 wants one here)."""
    raw = await s3.body.read_all(MAX_XML_BODY)
    attrs.check_whole_body(s3.headers, s3.body, raw)
    return xmldoc.parse(raw, root)


def _count(text: str | None, name: str) -> int | None:
    """Days or Years of a DefaultRetention (their sign is checked by the library)."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise MalformedXML(f"{name} must be an integer") from None


# ------------------------------------------------------------------ bucket


async def put_object_lock_configuration(s3: S3Request) -> web.StreamResponse:
    bucket = s3.need_bucket()
    doc = await _document(s3, "ObjectLockConfiguration")
    enabled = xmldoc.child_text(doc, "ObjectLockEnabled")
    if enabled is None:
        raise MalformedXML("ObjectLockConfiguration needs ObjectLockEnabled")
    mode = days = years = None
    rules = xmldoc.children(doc, "Rule")
    if len(rules) > 1:
        raise MalformedXML("ObjectLockConfiguration has at most one Rule")
    for rule in rules:
        retention = xmldoc.children(rule, "DefaultRetention")
        if len(retention) != 1:
            raise MalformedXML("a Rule needs one DefaultRetention")
        text = xmldoc.child_text(retention[0], "Mode")
        mode = None if text is None else text.strip()
        days = _count(xmldoc.child_text(retention[0], "Days"), "Days")
        years = _count(xmldoc.child_text(retention[0], "Years"), "Years")
        if mode is None:
            raise MalformedXML("a DefaultRetention needs a Mode")
    config = ObjectLockConfiguration(enabled.strip(), mode, days, years)
    await s3.client.put_object_lock_configuration(bucket, config)
    return web.Response(status=200)


async def get_object_lock_configuration(s3: S3Request) -> web.StreamResponse:
    config = await s3.client.get_object_lock_configuration(s3.need_bucket())
    doc = xmldoc.root("ObjectLockConfiguration")
    xmldoc.sub(doc, "ObjectLockEnabled", config.object_lock_enabled)
    if config.mode is not None:
        retention = xmldoc.sub(xmldoc.sub(doc, "Rule"), "DefaultRetention")
        xmldoc.sub(retention, "Mode", config.mode)
        if config.days is not None:
            xmldoc.sub(retention, "Days", config.days)
        if config.years is not None:
            xmldoc.sub(retention, "Years", config.years)
    return xml_response(xmldoc.render(doc))


# ------------------------------------------------------------------ versions


async def put_object_retention(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    doc = await _document(s3, "Retention")
    mode = xmldoc.child_text(doc, "Mode")
    until = xmldoc.child_text(doc, "RetainUntilDate")
    retention = None
    if mode is not None or until is not None:
        if mode is None or until is None:
            raise MalformedXML("a Retention needs both Mode and RetainUntilDate")
        try:
            when = locking.from_ms(locking.parse_date(until, "RetainUntilDate"))
        except InvalidArgument:
            raise MalformedXML("RetainUntilDate must be an ISO 8601 date") from None
        retention = ObjectLockRetention(mode.strip(), when)
    await s3.client.put_object_retention(
        bucket,
        key,
        retention,
        version_id=s3.query.get("versionId"),
        bypass_governance_retention=bypass(s3.headers),
    )
    return web.Response(status=200)


async def get_object_retention(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    retention = await s3.client.get_object_retention(
        bucket, key, version_id=s3.query.get("versionId")
    )
    doc = xmldoc.root("Retention")
    xmldoc.sub(doc, "Mode", retention.mode)
    xmldoc.sub(doc, "RetainUntilDate", locking.iso(locking.to_ms(retention.retain_until_date)))
    return xml_response(xmldoc.render(doc))


async def put_object_legal_hold(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    doc = await _document(s3, "LegalHold")
    status = xmldoc.child_text(doc, "Status")
    if status is None:
        raise MalformedXML("a LegalHold needs a Status")
    await s3.client.put_object_legal_hold(
        bucket, key, status.strip(), version_id=s3.query.get("versionId")
    )
    return web.Response(status=200)


async def get_object_legal_hold(s3: S3Request) -> web.StreamResponse:
    bucket, key = s3.need_bucket(), s3.need_key()
    status = await s3.client.get_object_legal_hold(
        bucket, key, version_id=s3.query.get("versionId")
    )
    doc = xmldoc.root("LegalHold")
    xmldoc.sub(doc, "Status", status)
    return xml_response(xmldoc.render(doc))
