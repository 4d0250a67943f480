"""AWS's rules for IAM names, paths, tags and ids (pure).

Names: users and roles 1-64 characters of ``[A-Za-z0-9+=,.@_-]``; groups, policies and
inline policies 1-128; virtual MFA devices 1-226. Paths: ``/`` or ``/a/b/`` of printable
ASCII, at most 512. Tags: at most 50, keys 1-128 and values 0-256 characters of letters,
digits, spaces and ``_.:/=+-@``; keys may not start with ``aws:``. Violations raise
ValidationError (AWS's code for a parameter outside its constraints); a value of the
wrong type raises InvalidInput.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from objstore.errors import InvalidInput, LimitExceeded, ValidationError

_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/(?:[\x21-\x7e]*/)?")
_TAG = re.compile(r"[\w\s.:/=+\-@]*")
MAX_TAGS = 50


def check_str(value: object, what: str) -> str:
    """``value`` if it is a str; InvalidInput otherwise."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a str, not {type(value).__name__}")
    return value


def check_name(value: object, what: str, max_len: int) -> str:
    """A valid IAM name. Raises InvalidInput (not a str) or ValidationError."""
    name = check_str(value, what)
    if not 1 <= len(name) <= max_len or not _NAME.fullmatch(name):
        raise ValidationError(
            f"{what} {name!r} must be 1-{max_len} characters of letters, digits and +=,.@_-"
        )
    return name


def check_path(value: object, what: str = "path") -> str:
    path = check_str(value, what)
    if len(path) > 512 or not _PATH.fullmatch(path):
        raise ValidationError(f"{what} {path!r} must be '/' or '/segment/.../' (at most 512)")
    return path


def check_tags(tags: object) -> dict[str, str]:
    """Tags as a dict (a mapping, or AWS's list of ``{"Key", "Value"}``)."""
    if tags is None:
        return {}
    if isinstance(tags, list | tuple):
        pairs: dict[str, object] = {}
        for entry in tags:
            if not isinstance(entry, Mapping) or "Key" not in entry:
                raise InvalidInput('tags must be a mapping or a list of {"Key", "Value"}')
            pairs[entry["Key"]] = entry.get("Value", "")
        tags = pairs
    if not isinstance(tags, Mapping):
        raise InvalidInput("tags must be a mapping of tag keys to values")
    out: dict[str, str] = {}
    lowered: set[str] = set()
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInput("tag keys and values must be str")
        if not 1 <= len(key) <= 128 or not _TAG.fullmatch(key) or len(value) > 256:
            raise ValidationError(f"tag {key!r}: keys 1-128, values 0-256 characters")
        if not _TAG.fullmatch(value):
            raise ValidationError(f"tag {key!r}: value has characters tags may not hold")
        if key.lower().startswith("aws:"):
            raise InvalidInput(f"tag {key!r}: the aws: prefix is reserved")
        if key.lower() in lowered:
            raise InvalidInput(f"tag {key!r} is given twice (tag keys are case-insensitive)")
        lowered.add(key.lower())
        out[key] = value
    if len(out) > MAX_TAGS:
        raise LimitExceeded(f"at most {MAX_TAGS} tags per entity")
    return out


def check_int(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(f"{what} must be between {low} and {high}, not {value}")
    return value
