"""Text in the gateway's XML, both ways: the one escaping path of every answer (S3 and the
IAM/STS Query APIs) and the shield that lets request bodies carry any key (pure).

XML 1.0 cannot carry U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+FFFE and U+FFFF at
all, not even as character references (``&#x1;`` is not well-formed), yet S3 keys may
hold them. S3 writes them as such references anyway, and clients then fail to parse the
whole document (botocore: "reference to invalid character number"). The gateway never
writes a document a parser refuses:

* :func:`escape` writes markup characters as entities and a carriage return as ``&#13;``
  (a parser folds a raw CR into LF, so a key ending in ``\\r`` would come back changed),
  and writes each character XML cannot carry as U+FFFD. Only where S3 has no other way
  to show such a string and no client acts on it (an error document's text); a ``Key``
  element is left out instead (``objstore/gateway/s3/xmldoc.py`` ``sub_key``).
* Listings have one: ``encoding-type=url``. Unasked, a listing page holding a string XML
  cannot carry is refused (InvalidArgument), never encoded: clients decode only what
  they asked to have encoded (see ``objstore/gateway/s3/listing.py``).

Request bodies (DeleteObjects' keys, tags ...) are parsed with defusedxml, whose expat
parser refuses those characters raw and as references. :func:`shield` replaces them by a
private-use marker the body does not otherwise hold, and :func:`unshield` puts them back
in the parsed text, so a key a client may PUT it may also name in DeleteObjects.
"""

from __future__ import annotations

import re

__all__ = [
    "REPLACEMENT",
    "attribute",
    "escape",
    "representable",
    "shield",
    "unshield",
]

# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#9;",
    }
)


def representable(text: str) -> bool:
    """Whether XML 1.0 can carry ``text`` exactly."""
    return _NOT_XML.search(text) is None


# Anything escape() changes: most text (names, ETags, dates) has none of it.
_SPECIAL = re.compile("[&<>\r]|" + _NOT_XML.pattern)


def escape(text: str) -> str:
    """``text`` as element content: markup escaped, CR as ``&#13;``, a character XML
    cannot carry as U+FFFD."""
    if _SPECIAL.search(text) is None:
        return text
    return _NOT_XML.sub(REPLACEMENT, text).translate(_TEXT)


def attribute(text: str) -> str:
    """``text`` as a double-quoted attribute value (white space kept as references)."""
    return _NOT_XML.sub(REPLACEMENT, text).translate(_ATTRIBUTE)


# In a request body: a character XML cannot carry, raw or as a character reference.
_FORBIDDEN_REF = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")
_PRIVATE = range(0xE000, 0xF900)


def _forbidden(code: int) -> bool:
    return code < 0x110000 and not representable(chr(code))


def shield(text: str) -> tuple[str, str | None]:
    """``text`` with each character XML 1.0 cannot carry (raw, or as ``&#x..;``/``&#..;``)
    replaced by a private-use marker followed by its code as 4 hex digits, and the marker
    (None when nothing needed replacing: ``text`` is returned as it is).

    The marker is a private-use character ``text`` does not hold, so every marker in the
    parsed document is one of ours. Markup is left alone: a marker inside a tag name
    still makes the document malformed, as the character did."""
    raw = _NOT_XML.search(text) is not None
    refs = any(
        _forbidden(int(m.group(1), 16) if m.group(1) else int(m.group(2)))
        for m in _FORBIDDEN_REF.finditer(text)
        if len(m.group(1) or m.group(2)) <= 8
    )
    if not raw and not refs:
        return text, None
    held = set(text)
    marker = next((chr(c) for c in _PRIVATE if chr(c) not in held), None)
    if marker is None:  # a body holding every private-use character: left to the parser
        return text, None

    def code(ch: str) -> str:
        return f"{marker}{ord(ch):04X}"

    def ref(m: re.Match[str]) -> str:
        digits = m.group(1) or m.group(2)
        value = int(digits, 16 if m.group(1) else 10) if len(digits) <= 8 else -1
        return code(chr(value)) if value >= 0 and _forbidden(value) else m.group(0)

    return _NOT_XML.sub(lambda m: code(m.group(0)), _FORBIDDEN_REF.sub(ref, text)), marker


def unshield(text: str, marker: str) -> str:
    """Parsed text with :func:`shield`'s markers turned back into their characters."""
    if marker not in text:
        return text
    return re.sub(re.escape(marker) + "([0-9A-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
