"""Object tags: S3's rules for a tag set (pure).

S3 (User Guide, "Categorizing your storage using tags"): at most 10 tags per
object; keys of 1-128 and values of 0-256 Unicode characters, case-sensitive,
made of letters, digits, spaces and ``+ - = . _ : / @``; a key appears once
and may not start with ``aws:`` (system tags). Too many tags is S3's
``BadRequest``; every other fault is ``InvalidTag``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from objstore.errors import BadRequest, InvalidTag

MAX_TAGS = 10
MAX_BUCKET_TAGS = 50  # S3 User Guide, "Using cost allocation S3 bucket tags"
MAX_KEY = 128
MAX_VALUE = 256
_PUNCT = frozenset("+-=._:/@")


def _allowed(text: str) -> bool:
    # A per-character check of at most 384 characters of a request, not of a body.
    return all(c.isalnum() or c in _PUNCT or unicodedata.category(c).startswith("Z") for c in text)


def normalize(tags: object) -> object:
    """A private copy of what a caller passed as tags: a mapping stays a mapping, pairs
    become a list, and a string is read as S3's ``x-amz-tagging`` header
    (``k1=v1&k2=v2``, URL-encoded). Anything else is passed on for
    :func:`check_tags` to reject."""
    if isinstance(tags, str):
        return parse_qsl(tags, keep_blank_values=True)
    if isinstance(tags, Mapping):
        return dict(tags)
    if isinstance(tags, list | tuple):
        return [tuple(p) if isinstance(p, list) else p for p in tags]
    return tags


def check_tags(tags: object) -> dict[str, str]:
    """A valid tag set as a dict, from a mapping or an iterable of ``(key, value)``
    pairs (pairs let a repeated key be reported, as S3 does).

    Raises BadRequest (more than 10 tags), InvalidTag (anything else).
    """
    return _checked(tags, MAX_TAGS, BadRequest, "Object tags cannot be greater than")


def check_bucket_tags(tags: object) -> dict[str, str]:
    """A valid bucket tag set: the rules of :func:`check_tags`, but up to 50 tags, and
    too many is ``InvalidTag`` (PutBucketTagging documents no other code for it).

    Raises InvalidTag."""
    return _checked(tags, MAX_BUCKET_TAGS, InvalidTag, "Bucket tag count cannot be greater than")


def _checked(tags: object, limit: int, too_many: type[BadRequest], message: str) -> dict[str, str]:
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        pairs: list[object] = list(tags.items())
    elif isinstance(tags, Iterable) and not isinstance(tags, str | bytes):
        pairs = list(tags)
    else:
        raise InvalidTag("tags must be a mapping or (key, value) pairs")
    if len(pairs) > limit:
        raise too_many(f"{message} {limit}")
    out: dict[str, str] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidTag(f"a tag is a (key, value) pair, not {pair!r}")
        key, value = pair
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidTag("tag keys and values must be strings")
        if key in out:
            raise InvalidTag("Cannot provide multiple Tags with the same key", tag_key=key)
        if len(key) > MAX_KEY:
            raise InvalidTag(
                f"The TagKey you have provided is too long, max {MAX_KEY}", tag_key=key
            )
        if len(value) > MAX_VALUE:
            raise InvalidTag(
                f"The TagValue you have provided is too long, max {MAX_VALUE}", tag_key=key
            )
        if not key or not _allowed(key):
            raise InvalidTag("The TagKey you have provided is invalid", tag_key=key)
        if not _allowed(value):
            raise InvalidTag("The TagValue you have provided is invalid", tag_key=key)
        if key.lower().startswith("aws:"):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:", tag_key=key)
        out[key] = value
    # S3 defines no order for a tag set; objstore keeps it sorted by key, so every read
    # lists it the same way whatever order it was written in.
    return dict(sorted(out.items()))
