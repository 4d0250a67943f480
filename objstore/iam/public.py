"""Whether a bucket policy is public, as S3 defines it for Block Public Access and
GetBucketPolicyStatus (pure: no I/O).

S3 starts from "public" and calls a policy non-public only if every statement that
allows something is bounded: it grants only to fixed principals (an account, user,
role, service ...: no ``*`` or ``?`` wildcard, no ``${...}`` policy variable), or it
holds only under a condition that pins one of a few keys to fixed values: ``aws:SourceIp``
(CIDR blocks covering at most an IPv4 /8 and an IPv6 /32 in all: ``0.0.0.0/0``, two ``/1``
blocks or 256 ``/8`` blocks are everyone), ``aws:SourceArn``,
``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceOwner``, ``aws:SourceAccount``,
``aws:PrincipalOrgID``, ``aws:userid`` (never ``anonymous``, which every unsigned caller
carries), ``s3:x-amz-server-side-encryption-aws-kms-key-id``,
``s3:DataAccessPointArn``, ``s3:DataAccessPointAccount``.

A condition pins a key only if it cannot hold for a request without that key or with
another value: an equality operator (``StringEquals``, ``StringLike``, ``ArnEquals``,
``ArnLike``, ``IpAddress`` ..., optionally ``ForAnyValue:``), never a negated one
(``StringNotEquals``, ``NotIpAddress``), an ``...IfExists`` one or ``ForAllValues:`` (both
hold when the key is absent). Deny statements never make a policy public, and an Allow
with ``NotPrincipal`` grants everyone but a few: public.

The input is a policy the store already accepted (JSON text or its parsed form).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["FIXING_KEYS", "deny_only", "is_public", "is_public_statement"]

# Condition keys whose fixed values bound who can use a statement (lower case: IAM's
# condition key names are case-insensitive).
FIXING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "aws:PrincipalOrgID",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
_SOURCE_IP = "aws:sourceip"
_USERID = "aws:userid"
# Every unsigned caller's aws:userid (docs/iam.md, the request context): a statement
# pinned to it is bounded to nobody in particular, i.e. to everyone.
_ANONYMOUS_USERID = "anonymous"
# The most addresses of one family that a condition's aws:SourceIp blocks may cover and
# still count as a fixed set: an IPv4 /8 and an IPv6 /32 (summed over the blocks, so two
# /1 blocks, or 256 /8 blocks, are the whole Internet as much as 0.0.0.0/0 is).
_MOST_ADDRESSES = {4: 2**24, 6: 2**96}
# Operators that hold only when the key has one of the listed values.
_STRING_EQUALITY = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_IP_EQUALITY = "ipaddress"


def _document(policy: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(policy, str):
        loaded = json.loads(policy)
        if not isinstance(loaded, Mapping):
            raise ValueError("a policy is a JSON object")
        return loaded
    return policy


def _statements(doc: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    listed = doc.get("Statement", [])
    for statement in listed if isinstance(listed, list) else [listed]:
        if isinstance(statement, Mapping):
            yield statement


def _values(raw: Any) -> list[Any]:
    return list(raw) if isinstance(raw, list) else [raw]


def _fixed(value: Any) -> bool:
    """A value without a wildcard or a policy variable."""
    text = str(value)
    return "*" not in text and "?" not in text and "${" not in text


def _fixed_principal(principal: Any) -> bool:
    if not isinstance(principal, Mapping):
        return False  # "*" (or anything else that is not a typed principal)
    values = [v for raw in principal.values() for v in _values(raw)]
    return bool(values) and all(_fixed(v) for v in values)


def _fixed_cidrs(values: list[Any]) -> bool:
    covered = {4: 0, 6: 0}
    for value in values:
        try:
            network = ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            return False
        covered[network.version] += network.num_addresses
    return all(covered[family] <= most for family, most in _MOST_ADDRESSES.items())


def _pins(operator: str, key: str, raw_values: Any) -> bool:
    """Whether ``operator`` on ``key`` holds only for requests whose key has one of a set
    of fixed values that S3 counts as bounding the statement."""
    op = operator.lower()
    if op.startswith("forallvalues:") or op.endswith("ifexists"):
        return False
    op = op.removeprefix("foranyvalue:")
    name = key.lower()
    values = _values(raw_values)
    if name not in FIXING_KEYS or not values:
        return False
    if name == _SOURCE_IP:
        return op == _IP_EQUALITY and _fixed_cidrs(values)
    if name == _USERID and any(str(v).lower() == _ANONYMOUS_USERID for v in values):
        return False
    return op in _STRING_EQUALITY and all(_fixed(v) for v in values)


def _bounded_by_condition(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    return any(
        _pins(str(operator), str(key), values)
        for operator, block in condition.items()
        if isinstance(block, Mapping)
        for key, values in block.items()
    )


def is_public_statement(statement: Mapping[str, Any]) -> bool:
    """Whether one statement makes a policy public: it allows something to principals
    that are not all fixed, under no condition pinning a key of :data:`FIXING_KEYS`."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    if _fixed_principal(statement.get("Principal")):
        return False
    return not _bounded_by_condition(statement.get("Condition"))


def is_public(policy: str | Mapping[str, Any]) -> bool:
    """Whether the bucket policy (JSON text or parsed) is public. Raises ValueError for
    text that is not a JSON object (a stored policy always is)."""
    return any(is_public_statement(s) for s in _statements(_document(policy)))


def deny_only(policy: str | Mapping[str, Any]) -> dict[str, Any] | None:
    """The policy with its Deny statements only (None when it has none): what a public
    policy still does to callers RestrictPublicBuckets keeps its grants from."""
    doc = dict(_document(policy))
    denies = [s for s in _statements(doc) if s.get("Effect") == "Deny"]
    if not denies:
        return None
    doc["Statement"] = denies
    return doc
