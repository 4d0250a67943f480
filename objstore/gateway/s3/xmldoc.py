"""S3's XML: rendering answers and parsing (untrusted) request bodies.

Answers are built as ElementTree elements in S3's namespace and written by
:func:`render` through the gateway's one escaping path (:mod:`objstore.gateway.xmltext`:
never a character XML 1.0 cannot carry, carriage returns kept). Request bodies are parsed
with ``defusedxml`` only: no DTDs, no entity expansion, no external entities; anything
else than a well-formed document is ``MalformedXML``. Characters XML cannot carry (in keys
a client may PUT) are accepted raw or as character references and read back exactly
(``xmltext.shield``). Element names are compared without their namespace, as S3 accepts
bodies with or without it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from objstore.errors import MalformedXML
from objstore.gateway import xmltext

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def root(tag: str, *, namespaced: bool = True) -> ET.Element:
    """A document's root element (in S3's namespace unless ``namespaced`` is false)."""
    elem = ET.Element(tag)
    if namespaced:
        elem.set("xmlns", NS)
    return elem


def sub(parent: ET.Element, tag: str, text: str | int | bool | None = None) -> ET.Element:
    """Append a child element; booleans render as S3 spells them (``true``/``false``)."""
    elem = ET.SubElement(parent, tag)
    if isinstance(text, bool):
        elem.text = "true" if text else "false"
    elif text is not None:
        elem.text = str(text)
    return elem


def sub_key(parent: ET.Element, key: str) -> None:
    """Append ``<Key>`` naming ``key``, unless XML 1.0 cannot carry it (U+0001 ...) in an
    answer without ``encoding-type``: with U+FFFD in place it would name another key, one
    a client could act on (delete, retry, abort); left out, the answer names none."""
    if xmltext.representable(key):
        sub(parent, "Key", key)


def render(elem: ET.Element) -> bytes:
    """The document as UTF-8 bytes, with its XML declaration (always well-formed: see
    :func:`objstore.gateway.xmltext.escape`)."""
    out: list[str] = []
    _write(elem, out)
    return _DECLARATION + "".join(out).encode("utf-8")


def _write(elem: ET.Element, out: list[str]) -> None:
    # ElementTree's own writer copies characters XML cannot carry and raw CRs as they are.
    tag = elem.tag
    if elem.attrib:
        attributes = "".join(f' {k}="{xmltext.attribute(v)}"' for k, v in elem.attrib.items())
        out.append(f"<{tag}{attributes}")
    else:
        out.append(f"<{tag}")
    text = elem.text
    if not text and len(elem) == 0:
        out.append(" />")
    else:
        out.append(f">{xmltext.escape(text)}" if text else ">")
        for child in elem:
            _write(child, out)
        out.append(f"</{tag}>")
    if elem.tail:
        out.append(xmltext.escape(elem.tail))


def timestamp(when: datetime) -> str:
    """S3's ISO 8601 form in listings: ``2026-11-30T21:51:00.000Z``."""
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def local(tag: str) -> str:
    """An element name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def parse(body: bytes, expected_root: str) -> ET.Element:
    """Parse an untrusted request body whose root must be ``expected_root``.

    Raises MalformedXML (not well-formed, a DTD or entity, another root element).
    """
    source: str | bytes = body
    marker = None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass  # left to the parser (another declared encoding, or not text at all)
    else:
        shielded, marker = xmltext.shield(text.removeprefix("\ufeff"))
        if marker is not None:
            source = shielded
    try:
        elem = SafeET.fromstring(source)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate against our "
            "published schema"
        ) from exc
    if local(elem.tag) != expected_root:
        raise MalformedXML(f"the document's root element must be {expected_root}")
    if marker is not None:
        for node in elem.iter():
            if node.text:
                node.text = xmltext.unshield(node.text, marker)
            if node.tail:
                node.tail = xmltext.unshield(node.tail, marker)
    return elem


def children(elem: ET.Element, tag: str) -> list[ET.Element]:
    """The direct children named ``tag`` (any namespace)."""
    return [child for child in elem if local(child.tag) == tag]


def child_text(elem: ET.Element, tag: str) -> str | None:
    """The text of the first direct child named ``tag`` ("" when empty), or None.

    Not stripped: object keys may begin or end with white space."""
    for child in elem:
        if local(child.tag) == tag:
            return child.text or ""
    return None
