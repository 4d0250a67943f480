"""Policy documents for the validation tests: invalid ones with the error they
must give, and valid but tricky ones that must parse.

Sources: IAM user guide, "IAM JSON policy element reference" and "grammar"
(elements, value types, Version values, Sid characters, Statement object or
list, single values as bare strings), "Principal"/"NotPrincipal" (forbidden in
identity policies, required in resource and trust policies), "IAM and AWS STS
quotas" (sizes without whitespace: managed policies 6,144, role trust policies
and session policies 2,048; S3 bucket policies 20 KB), the IAM API's policy
document character set (tab, LF, CR and U+0020-U+00FF), "Condition operators"
(typed values) and the house reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

V = "2012-10-17"
ALLOW_GET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
PUBLIC = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::examplebucket/*",
}

# Documented size limits, whitespace not counted.
SIZE_LIMITS = {
    "identity": 6144,
    "boundary": 6144,
    "trust": 2048,
    "session": 2048,
    "resource": 20480,
}


@dataclass(frozen=True, slots=True)
class Invalid:
    """A document Policy.from_json must reject with MalformedPolicyDocument."""

    id: str
    why: str
    text: str | bytes
    needles: tuple[str, ...]  # the message contains at least one (case-insensitive)
    kind: str = "identity"
    line: int | None = None  # the line the error must point at, where it has one


@dataclass(frozen=True, slots=True)
class Valid:
    """A document Policy.from_json must accept."""

    id: str
    why: str
    text: str | bytes
    kind: str = "identity"


def doc(*statements: dict[str, Any], version: str | None = V, **top: Any) -> str:
    """Pretty JSON text: Version (unless None), any extra top-level keys, Statement."""
    out: dict[str, Any] = {}
    if version is not None:
        out["Version"] = version
    out.update(top)
    out["Statement"] = list(statements)
    return json.dumps(out, indent=2)


def st(**elements: Any) -> dict[str, Any]:
    """A statement from keyword elements (in the order given)."""
    return dict(elements)


def with_cond(condition: Any, base: dict[str, Any] | None = None) -> str:
    """An identity policy of one statement carrying the given Condition element."""
    statement = dict(base or ALLOW_GET)
    statement["Condition"] = condition
    return doc(statement)


def sized(kind: str, size: int, *, indent: int | None = None) -> str:
    """A valid document of the kind whose non-whitespace size is exactly ``size``."""
    statement: dict[str, Any] = {"Effect": "Allow"}
    if kind in ("resource", "trust"):
        statement["Principal"] = {"AWS": "111122223333"}
    if kind == "trust":
        # Trust policies have no Resource: pad a condition value instead.
        statement["Action"] = "sts:AssumeRole"
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": ""}}
    else:
        statement["Action"] = "s3:GetObject"
        statement["Resource"] = "arn:aws:s3:::b/"
    base = {"Version": V, "Statement": [statement]}
    pad = size - len(json.dumps(base, separators=(",", ":")))
    assert pad >= 0, "size too small for the skeleton"
    if kind == "trust":
        statement["Condition"]["StringEquals"]["sts:ExternalId"] = "x" * pad
    else:
        statement["Resource"] += "k" * pad
    if indent is None:
        return json.dumps(base, separators=(",", ":"))
    return json.dumps(base, indent=indent)


def _size(text: str) -> int:
    return sum(1 for ch in text if ch not in " \t\n\r")


_DUP_TOP = """{
  "Version": "2012-10-17",
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
}"""
_DUP_STATEMENT_TOP = """{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
  "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]
}"""
_DUP_EFFECT = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}"""
_DUP_ACTION = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*",
      "Action": "s3:PutObject"
    }
  ]
}"""
_DUP_OPERATOR = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*",
      "Condition": {
        "StringEquals": {"aws:PrincipalTag/team": "blue"},
        "StringEquals": {"aws:PrincipalTag/team": "red"}
      }
    }
  ]
}"""
_DUP_COND_KEY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "aws:PrincipalTag/team": "blue",
          "aws:PrincipalTag/team": "red"
        }
      }
    }
  ]
}"""
_DUP_PRINCIPAL = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "111122223333",
        "AWS": "444455556666"
      },
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::examplebucket/*"
    }
  ]
}"""
_DUP_DEEP_SECOND = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    {
      "Effect": "Deny",
      "Action": "s3:DeleteObject",
      "Resource": "*",
      "Resource": "arn:aws:s3:::b/*"
    }
  ]
}"""
_TRAILING_COMMA = """{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},]
}"""
_COMMENT = """{
  "Version": "2012-10-17",
  // allow reads
  "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
}"""
_MISSING_COLON = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect" "Allow", "Action": "s3:GetObject", "Resource": "*"}
  ]
}"""

_JSON = ("json", "parse", "syntax", "expect", "invalid", "unexpected")

INVALID: list[Invalid] = [
    # --- not JSON, not text, empty ---
    Invalid("empty", "an empty document", "", ("empty",)),
    Invalid("empty-bytes", "empty bytes", b"", ("empty",)),
    Invalid("blank", "only whitespace", "  \n\t ", ("empty",)),
    Invalid("not-json", "plain text is not JSON", "allow everything", _JSON),
    Invalid("truncated", "a truncated document", '{"Version": "2012-10-17", "Statement": [', _JSON),
    Invalid("single-quotes", "JSON needs double quotes", "{'Version': '2012-10-17'}", _JSON),
    Invalid("trailing-comma", "no trailing commas in JSON", _TRAILING_COMMA, _JSON, line=3),
    Invalid("comment", "no comments in JSON", _COMMENT, _JSON, line=3),
    Invalid("missing-colon", "a missing colon", _MISSING_COLON, _JSON, line=4),
    Invalid(
        "two-documents",
        "two JSON values one after the other",
        doc(ALLOW_GET) + doc(ALLOW_GET),
        _JSON,
    ),
    Invalid("nan", "NaN is not JSON", '{"Version": NaN, "Statement": []}', (*_JSON, "Version")),
    Invalid(
        "top-array",
        "the document must be an object, not an array",
        "[" + doc(ALLOW_GET) + "]",
        ("object", "Policy"),
    ),
    Invalid("top-null", "the document must be an object, not null", "null", ("object", "Policy")),
    Invalid(
        "top-number", "the document must be an object, not a number", "42", ("object", "Policy")
    ),
    Invalid(
        "top-string",
        "the document must be an object, not a string",
        '"policy"',
        ("object", "Policy"),
    ),
    Invalid(
        "top-true", "the document must be an object, not a boolean", "true", ("object", "Policy")
    ),
    Invalid(
        "bad-utf8",
        "bytes that are not UTF-8",
        b'{"Version": "2012-10-17", "Statement": "\xff\xfe"}',
        ("utf", "decode", "encod"),
    ),
    Invalid(
        "latin1-bytes",
        "Latin-1 bytes are not UTF-8",
        '{"Version":"2012-10-17","Statement":[],"Id":"caf\xe9"}'.encode("latin-1"),
        ("utf", "decode", "encod"),
    ),
    Invalid(
        "lone-surrogate-bytes",
        "an encoded lone surrogate is not UTF-8",
        b'{"Id": "\xed\xa0\x80"}',
        ("utf", "decode", "encod"),
    ),
    # --- top level ---
    Invalid("no-statement", "Statement is required", json.dumps({"Version": V}), ("Statement",)),
    Invalid("empty-object", "an empty object has no Statement", "{}", ("Statement",)),
    Invalid(
        "unknown-top", "unknown top-level element", doc(ALLOW_GET, Foo="bar"), ("Foo",), line=3
    ),
    Invalid(
        "lowercase-statement",
        "element names are case-sensitive: statement",
        json.dumps({"Version": V, "statement": [ALLOW_GET]}),
        ("statement",),
    ),
    Invalid(
        "lowercase-version",
        "element names are case-sensitive: version",
        json.dumps({"version": V, "Statement": [ALLOW_GET]}),
        ("version",),
    ),
    Invalid(
        "statement-string",
        "Statement must be an object or a list",
        json.dumps({"Version": V, "Statement": "allow"}),
        ("Statement",),
    ),
    Invalid(
        "statement-number",
        "Statement must be an object or a list",
        json.dumps({"Version": V, "Statement": 1}),
        ("Statement",),
    ),
    Invalid(
        "statement-null",
        "Statement must not be null",
        json.dumps({"Version": V, "Statement": None}),
        ("Statement",),
    ),
    Invalid(
        "statement-item-string",
        "each statement must be an object",
        json.dumps({"Version": V, "Statement": ["x"]}),
        ("Statement",),
    ),
    Invalid(
        "statement-item-list",
        "each statement must be an object",
        json.dumps({"Version": V, "Statement": [[ALLOW_GET]]}),
        ("Statement",),
    ),
    Invalid(
        "id-number",
        "Id must be a string",
        json.dumps({"Version": V, "Id": 7, "Statement": [ALLOW_GET]}),
        ("Id",),
    ),
    # --- Version ---
    Invalid(
        "version-unknown",
        "only two Version values exist",
        doc(ALLOW_GET, version="2012-10-18"),
        ("Version",),
        line=2,
    ),
    Invalid("version-empty", "an empty Version", doc(ALLOW_GET, version=""), ("Version",)),
    Invalid(
        "version-latest",
        "Version is a date, not a word",
        doc(ALLOW_GET, version="latest"),
        ("Version",),
    ),
    Invalid(
        "version-number",
        "Version must be a string",
        json.dumps({"Version": 2012, "Statement": [ALLOW_GET]}),
        ("Version",),
    ),
    Invalid(
        "version-list",
        "Version must be a string",
        json.dumps({"Version": [V], "Statement": [ALLOW_GET]}),
        ("Version",),
    ),
    Invalid(
        "version-null",
        "Version must not be null",
        json.dumps({"Version": None, "Statement": [ALLOW_GET]}),
        ("Version",),
    ),
    # --- statement elements ---
    Invalid(
        "unknown-statement-key",
        "unknown statement element",
        doc(st(**ALLOW_GET, Effects="Allow")),
        ("Effects",),
        line=8,
    ),
    Invalid(
        "lowercase-effect",
        "element names are case-sensitive: effect",
        doc(st(effect="Allow", Action="s3:GetObject", Resource="*")),
        ("effect",),
    ),
    Invalid(
        "missing-effect",
        "Effect is required",
        doc(st(Action="s3:GetObject", Resource="*")),
        ("Effect",),
    ),
    Invalid(
        "effect-lowercase-value",
        "Effect is Allow or Deny exactly",
        doc(st(Effect="allow", Action="s3:GetObject", Resource="*")),
        ("Effect",),
        line=5,
    ),
    Invalid(
        "effect-permit",
        "Effect is Allow or Deny",
        doc(st(Effect="Permit", Action="s3:GetObject", Resource="*")),
        ("Effect",),
    ),
    Invalid(
        "effect-empty",
        "an empty Effect",
        doc(st(Effect="", Action="s3:GetObject", Resource="*")),
        ("Effect",),
    ),
    Invalid(
        "effect-list",
        "Effect must be a string",
        doc(st(Effect=["Allow"], Action="s3:GetObject", Resource="*")),
        ("Effect",),
    ),
    Invalid(
        "effect-bool",
        "Effect must be a string",
        doc(st(Effect=True, Action="s3:GetObject", Resource="*")),
        ("Effect",),
    ),
    Invalid(
        "action-and-notaction",
        "Action and NotAction together",
        doc(st(Effect="Allow", Action="s3:*", NotAction="iam:*", Resource="*")),
        ("Action",),
    ),
    Invalid(
        "no-action",
        "Action or NotAction is required",
        doc(st(Effect="Allow", Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-no-service",
        "an action needs a service prefix",
        doc(st(Effect="Allow", Action="GetObject", Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-empty",
        "an empty action",
        doc(st(Effect="Allow", Action="", Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-empty-list",
        "an empty Action list",
        doc(st(Effect="Allow", Action=[], Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-number",
        "Action must be a string",
        doc(st(Effect="Allow", Action=42, Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-list-number",
        "Action list entries must be strings",
        doc(st(Effect="Allow", Action=["s3:GetObject", 1], Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-object",
        "Action must not be an object",
        doc(st(Effect="Allow", Action={"s3": "GetObject"}, Resource="*")),
        ("Action",),
    ),
    Invalid(
        "action-null",
        "Action must not be null",
        doc(st(Effect="Allow", Action=None, Resource="*")),
        ("Action",),
    ),
    Invalid(
        "notaction-number",
        "NotAction must be a string",
        doc(st(Effect="Allow", NotAction=3, Resource="*")),
        ("Action",),
    ),
    Invalid(
        "resource-and-notresource",
        "Resource and NotResource together",
        doc(st(Effect="Allow", Action="s3:*", Resource="*", NotResource="arn:aws:s3:::b")),
        ("Resource",),
    ),
    Invalid(
        "no-resource",
        "identity policies need Resource or NotResource",
        doc(st(Effect="Allow", Action="s3:*")),
        ("Resource",),
    ),
    Invalid(
        "resource-not-arn",
        "a resource must be an ARN or '*'",
        doc(st(Effect="Allow", Action="s3:*", Resource="examplebucket/key")),
        ("Resource", "ARN"),
    ),
    Invalid(
        "resource-short-arn",
        "an ARN has six parts",
        doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3")),
        ("Resource", "ARN"),
    ),
    Invalid(
        "resource-arn-prefix",
        "'arn' alone is not an ARN",
        doc(st(Effect="Allow", Action="s3:*", Resource="arn")),
        ("Resource", "ARN"),
    ),
    Invalid(
        "resource-empty",
        "an empty resource",
        doc(st(Effect="Allow", Action="s3:*", Resource="")),
        ("Resource",),
    ),
    Invalid(
        "resource-empty-list",
        "an empty Resource list",
        doc(st(Effect="Allow", Action="s3:*", Resource=[])),
        ("Resource",),
    ),
    Invalid(
        "resource-number",
        "Resource must be a string",
        doc(st(Effect="Allow", Action="s3:*", Resource=5)),
        ("Resource",),
    ),
    Invalid(
        "resource-null",
        "Resource must not be null",
        doc(st(Effect="Allow", Action="s3:*", Resource=None)),
        ("Resource",),
    ),
    Invalid(
        "resource-list-bad",
        "each resource in a list must be an ARN",
        doc(st(Effect="Allow", Action="s3:*", Resource=["*", "bucket"])),
        ("Resource", "ARN"),
    ),
    Invalid(
        "notresource-not-arn",
        "NotResource entries must be ARNs",
        doc(st(Effect="Allow", Action="s3:*", NotResource="bucket")),
        ("Resource", "ARN"),
    ),
    Invalid(
        "resource-bad-variable",
        "a malformed policy variable",
        doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/${aws:username")),
        ("Resource", "variable", "$"),
    ),
    # --- Sid ---
    Invalid(
        "sid-space",
        "Sid allows letters and digits only",
        doc(st(Sid="read all", **ALLOW_GET)),
        ("Sid",),
        line=5,
    ),
    Invalid(
        "sid-dash",
        "Sid allows letters and digits only (no '-')",
        doc(st(Sid="read-all", **ALLOW_GET)),
        ("Sid",),
    ),
    Invalid("sid-number", "Sid must be a string", doc(st(Sid=1, **ALLOW_GET)), ("Sid",)),
    Invalid(
        "sid-duplicate",
        "Sids are unique within a policy",
        doc(st(Sid="Read", **ALLOW_GET), st(Sid="Read", **ALLOW_GET)),
        ("Sid", "duplicate"),
    ),
    # --- Principal by kind ---
    Invalid(
        "identity-principal",
        "identity policies may not have Principal",
        doc(st(Principal="*", **ALLOW_GET)),
        ("Principal",),
    ),
    Invalid(
        "identity-notprincipal",
        "identity policies may not have NotPrincipal",
        doc(st(NotPrincipal={"AWS": "111122223333"}, **ALLOW_GET)),
        ("Principal",),
    ),
    Invalid(
        "boundary-principal",
        "a permissions boundary may not have Principal",
        doc(st(Principal="*", **ALLOW_GET)),
        ("Principal",),
        kind="boundary",
    ),
    Invalid(
        "session-principal",
        "a session policy may not have Principal",
        doc(st(Principal="*", **ALLOW_GET)),
        ("Principal",),
        kind="session",
    ),
    Invalid(
        "resource-no-principal",
        "a resource policy needs Principal",
        doc(st(Effect="Allow", Action="s3:GetObject", Resource="arn:aws:s3:::b/*")),
        ("Principal",),
        kind="resource",
    ),
    Invalid(
        "trust-no-principal",
        "a trust policy needs Principal",
        doc(st(Effect="Allow", Action="sts:AssumeRole")),
        ("Principal",),
        kind="trust",
    ),
    Invalid(
        "principal-and-notprincipal",
        "Principal and NotPrincipal together",
        doc(st(**PUBLIC, NotPrincipal={"AWS": "111122223333"})),
        ("Principal",),
        kind="resource",
    ),
    Invalid(
        "principal-bare-arn",
        "a bare Principal string must be '*'",
        doc(st(**{**PUBLIC, "Principal": "arn:aws:iam::111122223333:root"})),
        ("Principal",),
        kind="resource",
    ),
    Invalid(
        "principal-unknown-type",
        "unknown principal type",
        doc(st(**{**PUBLIC, "Principal": {"Users": "alice"}})),
        ("Principal", "Users"),
        kind="resource",
    ),
    Invalid(
        "principal-empty",
        "an empty Principal object",
        doc(st(**{**PUBLIC, "Principal": {}})),
        ("Principal",),
        kind="resource",
    ),
    Invalid(
        "principal-not-arn",
        "an AWS principal is an account id or ARN",
        doc(st(**{**PUBLIC, "Principal": {"AWS": "alice"}})),
        ("Principal", "AWS"),
        kind="resource",
    ),
    Invalid(
        "principal-short-account",
        "an account id has 12 digits",
        doc(st(**{**PUBLIC, "Principal": {"AWS": "12345"}})),
        ("Principal", "AWS"),
        kind="resource",
    ),
    Invalid(
        "principal-s3-arn",
        "an S3 ARN is not a principal",
        doc(st(**{**PUBLIC, "Principal": {"AWS": "arn:aws:s3:::examplebucket"}})),
        ("Principal", "AWS"),
        kind="resource",
    ),
    Invalid(
        "principal-number",
        "a principal must be a string",
        doc(st(**{**PUBLIC, "Principal": {"AWS": 111122223333}})),
        ("Principal", "AWS"),
        kind="resource",
    ),
    Invalid(
        "principal-list",
        "Principal must be '*' or an object",
        doc(st(**{**PUBLIC, "Principal": ["*"]})),
        ("Principal",),
        kind="resource",
    ),
    Invalid(
        "principal-service-empty",
        "an empty Service principal",
        doc(st(**{**PUBLIC, "Principal": {"Service": ""}})),
        ("Principal", "Service"),
        kind="resource",
    ),
    Invalid(
        "trust-notprincipal",
        "NotPrincipal cannot be used in a role trust policy",
        doc(
            {**TRUST},
            st(Effect="Deny", NotPrincipal={"AWS": "111122223333"}, Action="sts:AssumeRole"),
        ),
        ("NotPrincipal",),
        kind="trust",
    ),
    Invalid(
        "notprincipal-allow",
        "NotPrincipal must be used with Deny; Allow is not supported",
        doc(
            st(
                Effect="Allow",
                NotPrincipal={"AWS": "111122223333"},
                Action="s3:GetObject",
                Resource="*",
            )
        ),
        ("NotPrincipal",),
        kind="resource",
    ),
    Invalid(
        "trust-notaction-and-action",
        "Action and NotAction together in a trust policy",
        doc(st(**TRUST, NotAction="sts:TagSession")),
        ("Action",),
        kind="trust",
    ),
    # --- Condition ---
    Invalid(
        "cond-string", "Condition must be an object", with_cond("StringEquals"), ("Condition",)
    ),
    Invalid(
        "cond-list",
        "Condition must be an object",
        with_cond([{"StringEquals": {"k": "v"}}]),
        ("Condition",),
    ),
    Invalid(
        "cond-unknown-op",
        "unknown condition operator",
        with_cond({"StringEqualz": {"aws:username": "a"}}),
        ("StringEqualz", "operator"),
    ),
    Invalid(
        "cond-null-ifexists",
        "Null cannot take IfExists",
        with_cond({"NullIfExists": {"aws:TokenIssueTime": "true"}}),
        ("Null",),
    ),
    Invalid(
        "cond-forall-empty",
        "ForAllValues needs an operator",
        with_cond({"ForAllValues:": {"aws:TagKeys": "a"}}),
        ("ForAllValues", "operator"),
    ),
    Invalid(
        "cond-forsome",
        "unknown set qualifier",
        with_cond({"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}),
        ("ForSomeValues", "operator"),
    ),
    Invalid(
        "cond-forall-bogus",
        "ForAllValues with an unknown operator",
        with_cond({"ForAllValues:Bogus": {"aws:TagKeys": "a"}}),
        ("Bogus", "operator"),
    ),
    Invalid(
        "cond-op-lowercase",
        "operator names are case-sensitive",
        with_cond({"stringequals": {"aws:username": "a"}}),
        ("stringequals", "operator"),
    ),
    Invalid(
        "cond-op-value-string",
        "an operator maps to an object of keys",
        with_cond({"StringEquals": "aws:username"}),
        ("StringEquals", "Condition"),
    ),
    Invalid(
        "cond-value-object",
        "condition values are scalars",
        with_cond({"StringEquals": {"aws:username": {"a": 1}}}),
        ("StringEquals", "Condition", "aws:username"),
    ),
    Invalid(
        "cond-value-null",
        "condition values may not be null",
        with_cond({"StringEquals": {"aws:username": None}}),
        ("StringEquals", "Condition", "aws:username"),
    ),
    Invalid(
        "cond-value-nested-list",
        "condition value lists hold scalars",
        with_cond({"StringEquals": {"aws:username": [["a"]]}}),
        ("StringEquals", "Condition", "aws:username"),
    ),
    Invalid(
        "cond-numeric-text",
        "NumericEquals needs a number",
        with_cond({"NumericEquals": {"s3:max-keys": "ten"}}),
        ("Numeric", "number"),
    ),
    Invalid(
        "cond-numeric-empty",
        "NumericLessThan needs a number",
        with_cond({"NumericLessThan": {"s3:max-keys": ""}}),
        ("Numeric", "number"),
    ),
    Invalid(
        "cond-date-text",
        "DateLessThan needs a date",
        with_cond({"DateLessThan": {"aws:CurrentTime": "next tuesday"}}),
        ("Date",),
    ),
    Invalid(
        "cond-date-month",
        "month 13 is not a date",
        with_cond({"DateGreaterThan": {"aws:CurrentTime": "2024-13-01T00:00:00Z"}}),
        ("Date",),
    ),
    Invalid(
        "cond-ip-octet",
        "300 is not an octet",
        with_cond({"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}),
        ("IpAddress", "IP", "CIDR"),
    ),
    Invalid(
        "cond-ip-prefix",
        "/33 is not an IPv4 prefix",
        with_cond({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
        ("IpAddress", "IP", "CIDR"),
    ),
    Invalid(
        "cond-ip-word",
        "a word is not an address",
        with_cond({"NotIpAddress": {"aws:SourceIp": "office"}}),
        ("IpAddress", "IP", "CIDR"),
    ),
    Invalid(
        "cond-ipv6-bad",
        "a malformed IPv6 range",
        with_cond({"IpAddress": {"aws:SourceIp": "2001:db8:::1/64"}}),
        ("IpAddress", "IP", "CIDR"),
    ),
    Invalid(
        "cond-binary-bad",
        "BinaryEquals needs base64",
        with_cond({"BinaryEquals": {"s3:x-amz-meta-digest": "!!not base64!!"}}),
        ("Binary", "base64"),
    ),
    Invalid(
        "cond-bool-word",
        "Bool needs true or false",
        with_cond({"Bool": {"aws:SecureTransport": "yes"}}),
        ("Bool",),
    ),
    Invalid(
        "cond-null-word",
        "Null needs true or false",
        with_cond({"Null": {"aws:TokenIssueTime": "maybe"}}),
        ("Null",),
    ),
    Invalid(
        "cond-empty-key",
        "a condition key must not be empty",
        with_cond({"StringEquals": {"": "a"}}),
        ("Condition", "key", "StringEquals"),
    ),
]


def _size_cases() -> tuple[list[Invalid], list[Valid]]:
    invalid: list[Invalid] = []
    valid: list[Valid] = []
    for kind, limit in SIZE_LIMITS.items():
        over = sized(kind, limit + 1)
        assert _size(over) == limit + 1
        invalid.append(
            Invalid(
                f"size-{kind}-over",
                f"a {kind} policy of {limit + 1} characters is over the {limit} limit",
                over,
                ("size", "character", "limit", "long"),
                kind=kind,
            )
        )
        at = sized(kind, limit)
        assert _size(at) == limit
        valid.append(
            Valid(
                f"size-{kind}-at-limit",
                f"a {kind} policy of exactly {limit} characters",
                at,
                kind=kind,
            )
        )
        padded = sized(kind, limit, indent=8)
        # Far longer than the limit in raw characters, but not without whitespace.
        padded = padded.replace("\n", "\n" + " " * (limit // 4) + "\t\r\n")
        assert len(padded) > 2 * limit and _size(padded) == limit
        valid.append(
            Valid(
                f"size-{kind}-whitespace",
                f"whitespace does not count toward the {kind} limit",
                padded,
                kind=kind,
            )
        )
    return invalid, valid


def _dup_cases() -> list[Invalid]:
    rows = [
        ("dup-version", "duplicate keys at the top level", _DUP_TOP, "identity", 3),
        ("dup-statement", "duplicate Statement keys", _DUP_STATEMENT_TOP, "identity", 4),
        ("dup-effect", "duplicate keys inside a statement", _DUP_EFFECT, "identity", 6),
        ("dup-action", "duplicate keys inside a statement, apart", _DUP_ACTION, "identity", 8),
        ("dup-operator", "duplicate condition operators", _DUP_OPERATOR, "identity", 10),
        ("dup-cond-key", "duplicate condition keys", _DUP_COND_KEY, "identity", 11),
        ("dup-principal-type", "duplicate principal types", _DUP_PRINCIPAL, "resource", 8),
        (
            "dup-second-statement",
            "duplicate keys in a later statement",
            _DUP_DEEP_SECOND,
            "identity",
            9,
        ),
    ]
    return [
        Invalid(id, why, text, ("duplicate",), kind=kind, line=line)
        for id, why, text, kind, line in rows
    ]


def _charset_cases() -> list[Invalid]:
    needles = ("character", "char")
    return [
        Invalid(
            "char-cjk-resource",
            "U+4E2D is outside the IAM character set",
            doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/\u4e2d")).replace(
                "\\u4e2d", "\u4e2d"
            ),
            needles,
            line=7,
        ),
        Invalid(
            "char-emoji",
            "an emoji is outside the IAM character set",
            doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/x")).replace(
                "b/x", "b/\U0001f600"
            ),
            needles,
        ),
        Invalid(
            "char-escaped-cjk",
            "an escaped U+4E2D is still outside the character set",
            doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/\u4e2d")),
            needles,
        ),
        Invalid(
            "char-escaped-control",
            "an escaped control character is outside the character set",
            doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/\u0001")),
            needles,
        ),
        Invalid(
            "char-trust-cjk",
            "trust policies use the IAM character set",
            doc(st(**TRUST, Condition={"StringEquals": {"sts:ExternalId": "\u4e2d"}})).replace(
                "\\u4e2d", "\u4e2d"
            ),
            needles,
            kind="trust",
        ),
        Invalid(
            "char-raw-control-resource-policy",
            "a raw control character is not allowed in a bucket policy",
            doc(PUBLIC).replace("examplebucket/*", "examplebucket/\x01*"),
            (*needles, *_JSON),
            kind="resource",
        ),
    ]


def _base_statement(kind: str) -> dict[str, Any]:
    """A valid statement for the kind (the skeleton each defect below is applied to)."""
    if kind == "resource":
        return dict(PUBLIC)
    if kind == "trust":
        return dict(TRUST)
    return dict(ALLOW_GET)


def _per_kind_cases() -> list[Invalid]:
    """The kind-independent rules, checked for every kind of policy."""
    out: list[Invalid] = []
    for kind in SIZE_LIMITS:
        base = _base_statement(kind)
        without_action = {k: v for k, v in base.items() if k != "Action"}
        dup_effect = doc(base).replace(
            '"Effect": "Allow"', '"Effect": "Allow",\n      "Effect": "Deny"'
        )
        rows: list[tuple[str, str, str, tuple[str, ...]]] = [
            ("not-json", "not JSON", doc(base)[:-3], _JSON),
            ("unknown-top", "unknown top-level element", doc(base, Bogus=1), ("Bogus",)),
            ("unknown-element", "unknown statement element", doc({**base, "Bogus": 1}), ("Bogus",)),
            (
                "statement-type",
                "Statement of the wrong type",
                json.dumps({"Version": V, "Statement": 5}),
                ("Statement",),
            ),
            ("bad-version", "an unknown Version", doc(base, version="2012-10-18"), ("Version",)),
            (
                "bad-effect",
                "Effect is Allow or Deny exactly",
                doc({**base, "Effect": "allow"}),
                ("Effect",),
            ),
            (
                "action-notaction",
                "Action with NotAction",
                doc({**base, "NotAction": "iam:*"}),
                ("Action",),
            ),
            ("no-action", "no Action nor NotAction", doc(without_action), ("Action",)),
            (
                "action-no-service",
                "an action without a service prefix",
                doc({**base, "Action": "GetObject"}),
                ("Action",),
            ),
            (
                "dup-sid",
                "the same Sid twice",
                doc({"Sid": "S1", **base}, {"Sid": "S1", **base}),
                ("Sid",),
            ),
            ("dup-key", "a duplicated key", dup_effect, ("duplicate",)),
            (
                "unknown-operator",
                "an unknown condition operator",
                doc({**base, "Condition": {"StringEqualz": {"aws:SourceIp": "x"}}}),
                ("StringEqualz", "operator"),
            ),
            (
                "bad-date",
                "a condition date that is not a date",
                doc({**base, "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}}),
                ("Date",),
            ),
            (
                "bad-cidr",
                "a condition CIDR that is not one",
                doc({**base, "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/99"}}}),
                ("IpAddress", "IP", "CIDR"),
            ),
            (
                "bad-number",
                "a numeric condition value that is not a number",
                doc({**base, "Condition": {"NumericLessThan": {"s3:max-keys": "many"}}}),
                ("Numeric", "number"),
            ),
        ]
        if kind in ("resource", "trust"):
            no_principal = {k: v for k, v in base.items() if k != "Principal"}
            rows.append(
                ("no-principal", "Principal is required", doc(no_principal), ("Principal",))
            )
            rows.append(
                (
                    "bad-principal",
                    "a principal that is not an account or ARN",
                    doc({**base, "Principal": {"AWS": "someone"}}),
                    ("Principal", "AWS"),
                )
            )
        else:
            rows.append(
                (
                    "principal",
                    "Principal is not allowed",
                    doc({**base, "Principal": "*"}),
                    ("Principal",),
                )
            )
        if kind != "resource":
            # S3 bucket policies take free-form Sids (the S3 User Guide's own HTTP-referer
            # example has "Allow GET requests originating from www.example.com and
            # example.com."); the letters-and-digits rule is IAM's.
            rows.append(("bad-sid", "a Sid with a space", doc({"Sid": "a b", **base}), ("Sid",)))
        if kind != "trust":
            rows.append(
                (
                    "bad-arn",
                    "a resource that is not an ARN",
                    doc({**base, "Resource": "bucket/key"}),
                    ("Resource", "ARN"),
                )
            )
        if kind != "resource":
            rows.append(
                (
                    "bad-char",
                    "a character outside the IAM set",
                    doc({**base, "Sid": "S"})
                    .replace('"Sid": "S"', '"Sid": "S\u4e2d"')
                    .replace("\\u4e2d", "\u4e2d"),
                    ("character", "char", "Sid"),
                )
            )
        out.extend(
            Invalid(f"kind-{kind}-{defect}", f"{kind} policy: {why}", text, needles, kind=kind)
            for defect, why, text, needles in rows
        )
    return out


_SIZE_INVALID, _SIZE_VALID = _size_cases()
INVALID.extend(_per_kind_cases())
INVALID.extend(_dup_cases())
INVALID.extend(_charset_cases())
INVALID.extend(_SIZE_INVALID)


VALID: list[Valid] = [
    Valid("bare-strings", "Action and Resource may be bare strings", doc(ALLOW_GET)),
    Valid(
        "lists",
        "Action and Resource may be lists",
        doc(st(Effect="Allow", Action=["s3:GetObject", "s3:PutObject"], Resource=["*"])),
    ),
    Valid(
        "statement-object",
        "Statement may be a single object",
        json.dumps({"Version": V, "Statement": ALLOW_GET}),
    ),
    Valid(
        "statement-empty-list",
        "an empty Statement list grants nothing but is valid",
        json.dumps({"Version": V, "Statement": []}),
    ),
    Valid("version-2008", "Version 2008-10-17 is valid", doc(ALLOW_GET, version="2008-10-17")),
    Valid("no-version", "Version is optional", doc(ALLOW_GET, version=None)),
    Valid(
        "id-element",
        "a policy may carry an Id",
        doc(PUBLIC, Id="cd3ad3d9-2776-4ef1-a904-4c229d1642ee"),
        kind="resource",
    ),
    Valid(
        "sids",
        "distinct Sids of letters and digits",
        doc(st(Sid="Read1", **ALLOW_GET), st(Sid="read1", **ALLOW_GET)),
    ),
    Valid(
        "notprincipal-deny",
        "NotPrincipal with Deny in a resource policy",
        doc(
            st(
                Effect="Deny",
                NotPrincipal={
                    "AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]
                },
                Action="s3:*",
                Resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            )
        ),
        kind="resource",
    ),
    Valid("principal-star", "Principal '*' in a bucket policy", doc(PUBLIC), kind="resource"),
    Valid(
        "principal-aws-star",
        "Principal {'AWS': '*'}",
        doc({**PUBLIC, "Principal": {"AWS": "*"}}),
        kind="resource",
    ),
    Valid(
        "principal-account-id",
        "Principal as a 12-digit account id",
        doc({**PUBLIC, "Principal": {"AWS": "111122223333"}}),
        kind="resource",
    ),
    Valid(
        "principal-mixed",
        "several principal types in one Principal",
        doc(
            {
                **PUBLIC,
                "Principal": {
                    "AWS": [
                        "arn:aws:iam::111122223333:root",
                        "arn:aws:iam::111122223333:role/R",
                        "arn:aws:sts::111122223333:assumed-role/R/s",
                    ],
                    "Service": "ec2.amazonaws.com",
                },
            }
        ),
        kind="resource",
    ),
    Valid(
        "principal-federated",
        "a Federated principal in a trust policy",
        doc(
            st(
                Effect="Allow",
                Principal={"Federated": "arn:aws:iam::111122223333:saml-provider/Corp"},
                Action="sts:AssumeRoleWithSAML",
            )
        ),
        kind="trust",
    ),
    Valid(
        "principal-federated-web",
        "a web identity Federated principal",
        doc(
            st(
                Effect="Allow",
                Principal={"Federated": "cognito-identity.amazonaws.com"},
                Action="sts:AssumeRoleWithWebIdentity",
                Condition={
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234"}
                },
            )
        ),
        kind="trust",
    ),
    Valid("trust-no-resource", "a trust policy has no Resource", doc(TRUST), kind="trust"),
    Valid(
        "condition-json-types",
        "condition values may be JSON booleans and numbers",
        with_cond({"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"s3:max-keys": 10}}),
    ),
    Valid(
        "condition-lists",
        "condition values may be lists",
        with_cond({"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}),
    ),
    Valid(
        "condition-ifexists",
        "IfExists operators",
        with_cond(
            {
                "StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"},
                "ArnLikeIfExists": {"aws:SourceArn": "arn:aws:sns:*:*:t"},
            }
        ),
    ),
    Valid(
        "condition-sets",
        "ForAllValues and ForAnyValue qualifiers",
        with_cond(
            {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
                "ForAnyValue:StringLike": {"aws:TagKeys": "team-*"},
            }
        ),
    ),
    Valid(
        "condition-null", "the Null operator", with_cond({"Null": {"aws:TokenIssueTime": "true"}})
    ),
    Valid(
        "condition-dates",
        "ISO-8601 and epoch dates",
        with_cond(
            {
                "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                "DateLessThan": {"aws:EpochTime": "1893456000"},
            }
        ),
    ),
    Valid(
        "condition-ips",
        "IPv4 and IPv6 CIDRs",
        with_cond(
            {
                "IpAddress": {
                    "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64", "198.51.100.7"]
                }
            }
        ),
    ),
    Valid(
        "condition-binary",
        "a base64 BinaryEquals value",
        with_cond({"BinaryEquals": {"s3:x-amz-meta-digest": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
    ),
    Valid(
        "condition-arn",
        "ARN operators",
        with_cond({"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/Admin*"]}}),
    ),
    Valid(
        "condition-key-case",
        "condition key names in any case",
        with_cond({"StringEquals": {"AWS:PrincipalTag/Team": "x"}}),
    ),
    Valid(
        "variables",
        "policy variables in Resource and condition values",
        with_cond(
            {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/${*}/*",
            },
        ),
    ),
    Valid(
        "variables-2008",
        "variables are plain text under 2008-10-17",
        doc(
            st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/${aws:username}/*"),
            version="2008-10-17",
        ),
    ),
    Valid(
        "notaction-notresource",
        "NotAction with NotResource",
        doc(st(Effect="Allow", NotAction="iam:*", NotResource="arn:aws:s3:::secret/*")),
    ),
    Valid(
        "arn-wildcards",
        "wildcards in ARN parts",
        doc(st(Effect="Allow", Action="iam:Get*", Resource="arn:aws:iam::*:user/*")),
    ),
    Valid(
        "unicode-escapes",
        "JSON escapes decode to allowed characters",
        '{"Version": "2012-10-17", "Statement": [{"Effect": "\\u0041llow", '
        '"Action": "s3:Get\\u004fbject", "Resource": "*"}]}',
    ),
    Valid(
        "crlf-tabs",
        "CRLF line ends and tabs",
        doc(ALLOW_GET).replace("\n", "\r\n").replace("  ", "\t"),
    ),
    Valid("bytes-utf8", "UTF-8 bytes are accepted", doc(ALLOW_GET).encode("utf-8")),
    Valid(
        "latin1-char",
        "U+00E9 is inside the IAM character set",
        doc(st(Effect="Allow", Action="s3:*", Resource="arn:aws:s3:::b/caf\u00e9")).replace(
            "\\u00e9", "\u00e9"
        ),
    ),
    Valid(
        "bucket-policy-unicode",
        "bucket policies may name any Unicode key",
        doc({**PUBLIC, "Resource": "arn:aws:s3:::examplebucket/\u4e2d\u6587/*"}).replace(
            "\\u4e2d\\u6587", "\u4e2d\u6587"
        ),
        kind="resource",
    ),
    Valid(
        "boundary",
        "a permissions boundary document",
        doc(st(Effect="Allow", Action=["s3:*", "cloudwatch:*", "ec2:*"], Resource="*")),
        kind="boundary",
    ),
    Valid("session", "a session policy document", doc(ALLOW_GET), kind="session"),
    Valid(
        "deny-only",
        "a policy of Deny statements only",
        doc(st(Effect="Deny", Action="*", Resource="*")),
    ),
    Valid("action-star", "Action '*'", doc(st(Effect="Allow", Action="*", Resource="*"))),
    *_SIZE_VALID,
]
