"""The POST policy of a browser-based upload, pure: parse it, match a form against it.

A browser upload (``POST /bucket``, ``multipart/form-data``) may carry a ``policy`` field:
base64 of a JSON document ``{"expiration": "2030-01-01T00:00:00Z", "conditions": [...]}``
that the signer vouches for. Each condition is one of

- ``{"field": "value"}`` or ``["eq", "$field", "value"]``: the field equals the value;
- ``["starts-with", "$field", "prefix"]``: it starts with the prefix (``""``: any value);
- ``["content-length-range", min, max]``: the file's size, in bytes, inclusive.

Field names are compared without case (``$Content-Type`` is the ``content-type`` field),
values with case; ``$bucket`` is the bucket the form is posted to. A field the form
does not carry is the empty string. Every form field must be named by at least one
condition except the ones that carry the signature itself, the file, and the
``x-ignore-*`` fields (AWS's rule; see :data:`EXEMPT`). Policy documents may write a
dollar sign as ``\\$`` (AWS's escape), which JSON itself does not allow.

Nothing here does I/O; the clock is an argument.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from objstore.errors import AccessDenied, EntityTooLarge, EntityTooSmall, InvalidPolicyDocument

# Form fields no condition needs to name: the file, the policy and its signature
# (SigV2's AWSAccessKeyId and signature, SigV4's x-amz-signature), AWS's x-ignore-*
# fields, and the additional checksums (they only narrow what is accepted: a
# checksum that does not match the file refuses the upload).
EXEMPT = frozenset({"file", "policy", "signature", "awsaccesskeyid", "x-amz-signature"})
EXEMPT_PREFIXES = ("x-ignore-", "x-amz-checksum-")

# ISO 8601 in UTC, as AWS documents the expiration: 2030-01-01T12:00:00.000Z.
_EXPIRATION = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", re.ASCII)
# ``\\`` stays an escaped backslash; ``\$`` becomes ``$`` (AWS's escape, not JSON's).
_DOLLAR_ESCAPE = re.compile(r"\\([\\$])")
_DIGITS = re.compile(r"\d{1,19}", re.ASCII)
_OPERATORS = frozenset({"eq", "starts-with"})


@dataclass(frozen=True, slots=True)
class Condition:
    """One field condition: ``operator`` ``eq`` or ``starts-with``; ``field`` lower-case."""

    operator: str
    field: str
    value: str

    def holds(self, actual: str) -> bool:
        if self.operator == "eq":
            return actual == self.value
        return actual.startswith(self.value)

    def __str__(self) -> str:
        return json.dumps([self.operator, "$" + self.field, self.value])


@dataclass(frozen=True, slots=True)
class PostPolicy:
    """A parsed policy: when it expires (UTC), its field conditions and the file's
    allowed size range (``None``: any size; several ranges all apply)."""

    expiration: datetime
    conditions: tuple[Condition, ...]
    length_ranges: tuple[tuple[int, int], ...]


def _invalid(message: str) -> InvalidPolicyDocument:
    return InvalidPolicyDocument(f"Invalid Policy: {message}")


def parse_policy(encoded: str) -> PostPolicy:
    """The policy a form's ``policy`` field carries (base64 of UTF-8 JSON; whitespace,
    which some encoders insert every 60 characters, is ignored).

    Raises InvalidPolicyDocument: not base64, not UTF-8 JSON, not an object, no
    ``expiration`` (exactly that name) or one not in ISO 8601 UTC form, no
    ``conditions`` list, a condition that is not one of the three forms above, a
    size range that is not two non-negative integers with min <= max.
    """
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
        text = _DOLLAR_ESCAPE.sub(lambda m: "\\\\" if m.group(1) == "\\" else "$", raw.decode())
        document = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):  # F1, review 10c
        raise _invalid("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise _invalid("Invalid JSON.")
    if "expiration" not in document:
        raise _invalid("Policy missing expiration.")
    expiration = _expiration(document["expiration"])
    listed = document.get("conditions")
    if listed is None:
        raise _invalid("Policy missing conditions.")
    if not isinstance(listed, list):
        raise _invalid("Conditions must be a list.")
    conditions: list[Condition] = []
    ranges: list[tuple[int, int]] = []
    for item in listed:
        if isinstance(item, dict):
            conditions.append(_simple(item))
        elif isinstance(item, list) and item and isinstance(item[0], str):
            operator = item[0].lower()
            if operator == "content-length-range":
                ranges.append(_length_range(item))
            else:
                conditions.append(_operator_condition(operator, item))
        else:
            raise _invalid(f"Invalid condition: {_show(item)}")
    return PostPolicy(expiration, tuple(conditions), tuple(ranges))


def _show(item: object) -> str:
    return json.dumps(item)[:200]


def _expiration(value: object) -> datetime:
    found = _EXPIRATION.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise _invalid(f"Invalid 'expiration' value: {_show(value)}")
    year, month, day, hour, minute, second = (int(g) for g in found.groups()[:6])
    micros = int((found.group(7) or "0")[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
    except ValueError:
        raise _invalid(f"Invalid 'expiration' value: {_show(value)}") from None


def _simple(item: dict[object, object]) -> Condition:
    if len(item) != 1:
        raise _invalid(
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
        )
    ((name, value),) = item.items()
    if not isinstance(name, str) or not isinstance(value, str):
        raise _invalid(f"Invalid Simple-Condition: {_show(item)}")
    return Condition("eq", name.lower().removeprefix("$"), value)


def _operator_condition(operator: str, item: list[object]) -> Condition:
    if operator not in _OPERATORS:
        raise _invalid(f"Invalid Condition: unknown operation {_show(item[0])}")
    if len(item) != 3:
        raise _invalid(f"Invalid {operator} condition: {_show(item)}")
    _, name, value = item
    if not isinstance(name, str) or not name.startswith("$") or not isinstance(value, str):
        raise _invalid(f"Invalid {operator} condition: {_show(item)}")
    return Condition(operator, name[1:].lower(), value)


def _length_range(item: list[object]) -> tuple[int, int]:
    bounds = item[1:]
    if len(bounds) != 2:
        raise _invalid(f"Invalid content-length-range: {_show(item)}")
    low, high = (_size(b, item) for b in bounds)
    if low > high:
        raise _invalid(f"Invalid content-length-range: {_show(item)}")
    return low, high


def _size(bound: object, item: list[object]) -> int:
    # JSON integers, or strings of digits (some SDKs write them so); never negative.
    if isinstance(bound, bool):
        raise _invalid(f"Invalid content-length-range: {_show(item)}")
    if isinstance(bound, int) and bound >= 0:
        return bound
    if isinstance(bound, str) and _DIGITS.fullmatch(bound):
        return int(bound)
    raise _invalid(f"Invalid content-length-range: {_show(item)}")


def check_expiration(policy: PostPolicy, now: float) -> None:
    """Raises AccessDenied ("Policy expired") once ``now`` (Unix seconds) is past it."""
    if now > policy.expiration.timestamp():
        raise AccessDenied("Invalid according to Policy: Policy expired.")


def exempt(field: str) -> bool:
    """Whether the (lower-case) form field needs no condition."""
    return field in EXEMPT or field.startswith(EXEMPT_PREFIXES)


def check_fields(policy: PostPolicy, fields: Mapping[str, str], bucket: str) -> None:
    """Every condition holds for ``fields`` (lower-case names, values after
    ``${filename}`` expansion) posted to ``bucket``, and every field that is not
    :func:`exempt` is named by a condition.

    Raises AccessDenied ("Invalid according to Policy: ...") naming the first failed
    condition, or the fields no condition names.
    """
    values = {**fields, "bucket": bucket}
    for condition in policy.conditions:
        if not condition.holds(values.get(condition.field, "")):
            raise AccessDenied(f"Invalid according to Policy: Policy Condition failed: {condition}")
    named = {condition.field for condition in policy.conditions}
    extra = sorted(f for f in fields if f not in named and not exempt(f))
    if extra:
        raise AccessDenied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def check_size(policy: PostPolicy, size: int, *, final: bool) -> None:
    """The file's size so far (``final``: all of it) against the policy's ranges.

    Raises EntityTooLarge as soon as ``size`` passes a maximum, EntityTooSmall when the
    whole file is below a minimum (both 400, with ``ProposedSize`` and the bound)."""
    for low, high in policy.length_ranges:
        if size > high:
            raise EntityTooLarge(
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=size,
                MaxSizeAllowed=high,
            )
        if final and size < low:
            raise EntityTooSmall(
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=size,
                MinSizeAllowed=low,
            )


def expand_filename(value: str, filename: str) -> str:
    """``value`` with every ``${filename}`` replaced by the file's name, without any
    directory a browser sent with it (``C:\\dir\\a.txt`` is ``a.txt``)."""
    base = re.split(r"[/\\]", filename)[-1]
    return value.replace("${filename}", base)
