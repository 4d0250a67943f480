"""AWS's rules for IAM names, paths, tags and ids (pure).

Names: users and roles 1-64 characters of ``[A-Za-z0-9+=,.@_-]``; groups, policies and
inline policies 1-128; virtual MFA devices 1-226. Paths: ``/`` or ``/a/b/`` of printable
ASCII, at most 512; a list call's path prefix, ``/`` then ``!`` to DEL, at most 512.
Tags: at most 50, keys 1-128 and values 0-256 characters of letters,
digits, spaces and ``_.:/=+-@``; keys may not start with ``aws:`` and are unique on one
entity case-insensitively (a new ``Team`` replaces ``team``). Violations of a parameter's
constraints (lengths, characters) raise ValidationError, as AWS's request validation does;
a duplicate or reserved key and a value of the wrong type raise InvalidInput (a duplicate
session tag key, STS's InvalidParameterValue); more than 50 tags on one entity, LimitExceeded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from objstore.errors import (
    BadRequest,
    InvalidInput,
    InvalidParameterValue,
    LimitExceeded,
    ValidationError,
)

_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/(?:[\x21-\x7e]*/)?")
_PATH_PREFIX = re.compile(r"/[\x21-\x7f]*")  # AWS's PathPrefix: \u002F[\u0021-\u007F]*
# AWS: [\p{L}\p{Z}\p{N}_.:/=+\-@]. \s also matches control characters (tab, newline ...)
# that are not separators (\p{Z}): those are excluded.
_TAG = re.compile(r"(?:(?![\t\n\r\f\v\x1c-\x1f\x85])[\w\s.:/=+\-@])*")
MAX_TAGS = 50
_DESCRIPTION = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")


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


# store.sign_in("root", ...) is the account root's sign-in: no IAM user may be called so.
ROOT_SIGN_IN_NAME = "root"


def check_user_name(value: object, what: str = "user_name") -> str:
    """A name a new or renamed IAM user may take. Raises InvalidInput, ValidationError.

    ``root`` (in any case) is refused (InvalidInput): ``store.sign_in("root", ...)`` is the
    account root's sign-in, so an IAM user of that name could never sign in by name, and
    ``Root`` (names are case-insensitive) would sign in as the user while ``root`` means
    the account.
    """
    name = check_name(value, what, 64)
    if name.lower() == ROOT_SIGN_IN_NAME:
        raise InvalidInput(f"the user name {name!r} is reserved: it names the account root")
    return name


def check_path(value: object, what: str = "path") -> str:
    path = check_str(value, what)
    if len(path) > 512 or not _PATH.fullmatch(path):
        raise ValidationError(f"{what} {path!r} must be '/' or '/segment/.../' (at most 512)")
    return path


def check_path_prefix(value: object, what: str = "path_prefix") -> str:
    """The path prefix of a list call: ``/`` followed by ``!`` to DEL, 1-512 characters, as
    AWS's ``PathPrefix``. Raises InvalidInput (not a str), ValidationError."""
    prefix = check_str(value, what)
    if len(prefix) > 512 or not _PATH_PREFIX.fullmatch(prefix):
        raise ValidationError(
            f"{what} {prefix!r} must start with '/' and hold only printable ASCII "
            "(at most 512 characters)"
        )
    return prefix


def check_tags(tags: object, duplicate: type[BadRequest] = InvalidInput) -> dict[str, str]:
    """Tags as a dict (a mapping, or AWS's list of ``{"Key", "Value"}``, where both members
    are required as AWS requires them: an entry without ``Key`` or ``Value`` is
    ValidationError, "" being a value).

    The one parsed form of a request's tags: the engine parses them so before it decides
    (``Operation.parse``), and both the condition keys (``aws:RequestTag/*``) and what is
    stored come from the dict returned. A key given twice, also in another case, is
    refused (``duplicate``: InvalidInput for IAM, InvalidParameterValue for STS session
    tags), never silently collapsed to one of its values.
    """
    if tags is None:
        return {}
    pairs: list[tuple[object, object]]
    if isinstance(tags, list | tuple):
        pairs = []
        for entry in tags:
            if not isinstance(entry, Mapping):
                raise InvalidInput('tags must be a mapping or a list of {"Key", "Value"}')
            for member in ("Key", "Value"):
                if entry.get(member) is None:
                    raise ValidationError(
                        f"1 validation error detected: Value null at 'tags.member.{member}' "
                        "failed to satisfy constraint: Member must not be null"
                    )
            pairs.append((entry["Key"], entry["Value"]))
    elif isinstance(tags, Mapping):
        pairs = list(tags.items())
    else:
        raise InvalidInput("tags must be a mapping of tag keys to values")
    out: dict[str, str] = {}
    lowered: set[str] = set()
    for raw_key, value in pairs:
        key = check_tag_key(raw_key)
        if not isinstance(value, str):
            raise InvalidInput("tag keys and values must be str")
        if len(value) > 256:
            raise ValidationError(f"tag {key!r}: values are 0-256 characters")
        if not _TAG.fullmatch(value):
            raise ValidationError(f"tag {key!r}: value has characters tags may not hold")
        if key.lower().startswith("aws:"):
            raise InvalidInput(f"tag {key!r}: the aws: prefix is reserved")
        if key.lower() in lowered:
            raise duplicate(
                f"Duplicate tag keys found: {key!r}. Please note that Tag keys are case "
                "insensitive."
            )
        lowered.add(key.lower())
        out[key] = value
    if len(out) > MAX_TAGS:
        raise LimitExceeded(f"at most {MAX_TAGS} tags per entity")
    return out


def check_session_tags(tags: object) -> dict[str, str]:
    """AssumeRole's session tags, as :func:`check_tags`; a repeated key is STS's
    InvalidParameterValue."""
    return check_tags(tags, InvalidParameterValue)


def check_tag_key(key: object) -> str:
    """One tag key: 1-128 characters tags may hold. Raises InvalidInput, ValidationError."""
    if not isinstance(key, str):
        raise InvalidInput("tag keys and values must be str")
    if not 1 <= len(key) <= 128 or not _TAG.fullmatch(key):
        raise ValidationError(
            f"tag key {key!r}: 1-128 characters of letters, digits, spaces and _.:/=+-@"
        )
    return key


def check_tag_keys(keys: object) -> list[str]:
    """The keys of an untag call: a list of 1-50 tag keys. Raises InvalidInput,
    ValidationError."""
    if isinstance(keys, str) or not isinstance(keys, list | tuple):
        raise InvalidInput("tag_keys must be a list of tag keys")
    if not 1 <= len(keys) <= MAX_TAGS:
        raise ValidationError(f"tag_keys must hold 1-{MAX_TAGS} keys, not {len(keys)}")
    return [check_tag_key(key) for key in keys]


def merge_tags(existing: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """``existing`` with ``new`` added; a new tag replaces the one whose key differs only in
    case (the new spelling stands). Raises LimitExceeded past 50 tags."""
    out = overlay_tags(existing, new)
    if len(out) > MAX_TAGS:
        raise LimitExceeded(
            f"The number of tags has reached the maximum limit: at most {MAX_TAGS} per entity"
        )
    return out


def overlay_tags(base: Mapping[str, str], over: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``over`` on top: a key of ``over`` replaces the key of ``base`` that
    differs only in case (tag keys of one entity, or a role's and its session's)."""
    replaced = {key.lower() for key in over}
    out = {k: v for k, v in base.items() if k.lower() not in replaced}
    out.update(over)
    return out


def without_tags(existing: Mapping[str, str], keys: list[str]) -> dict[str, str]:
    """``existing`` without ``keys`` (case-insensitive; absent keys are no error, as AWS)."""
    gone = {key.lower() for key in keys}
    return {k: v for k, v in existing.items() if k.lower() not in gone}


def check_description(value: object, what: str = "description") -> str:
    """A role description: at most 1,000 characters of printable Latin-1 (and tab/newline),
    as AWS. Raises InvalidInput, ValidationError."""
    text = check_str(value, what)
    if len(text) > 1000 or not _DESCRIPTION.fullmatch(text):
        raise ValidationError(
            f"{what} must be at most 1000 printable characters (tab and newline allowed)"
        )
    return text


def check_int(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(f"{what} must be between {low} and {high}, not {value}")
    return value
