"""Hypothesis strategies for IAM policies, requests and hostile input.

Valid policies are drawn from small vocabularies (so that statements and requests
actually meet: matching actions, resources, condition keys and principals), in
every shape the grammar allows: Action/NotAction, Resource/NotResource, bare
strings or lists, Conditions with every operator family, IfExists and set
qualifiers, policy variables, both language versions, and for resource policies
every Principal form and NotPrincipal with Deny.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from .cases.model import (
    ACCOUNT_A,
    ACCOUNT_B,
    ALICE,
    ANONYMOUS,
    BOB,
    DAVE_B,
    EC2,
    FEDERATED,
    ROLE,
    ROOT_A,
    SESSION,
)

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "iam:GetUser",
    "sts:AssumeRole",
]
ACTION_PATTERNS = [
    *ACTIONS,
    "s3:*",
    "s3:Get*",
    "*",
    "iam:*",
    "S3:getobject",
    "s3:?etObject",
    "s3:*Object",
]
RESOURCES = [
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/home/alice/x",
    "arn:aws:s3:::b/blue/x",
    "arn:aws:s3:::other/k",
    "arn:aws:iam::111122223333:user/alice",
    "*",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::b/?",
    "arn:aws:s3:::b/home/${aws:username}/*",
    "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*",
    "arn:aws:s3:::b/${*}",
    "arn:aws:iam::*:user/${aws:username}",
]
PRINCIPALS = [ALICE, BOB, SESSION, FEDERATED, ROOT_A, DAVE_B, ANONYMOUS, EC2]
IAM_PRINCIPALS = [ALICE, BOB, SESSION, FEDERATED, DAVE_B]
SIMULATE_CALLERS = [ALICE, BOB, DAVE_B]

TEAMS = ["blue", "red", "Blue", "", "b*"]
IPS = ["10.1.2.3", "192.168.1.1", "203.0.113.7", "2001:db8::1"]
CIDRS = ["10.0.0.0/8", "203.0.113.0/24", "0.0.0.0/0", "2001:db8::/32", "192.168.1.1"]
TAG_KEYS = ["a", "b", "team", "owner"]
BASE_TIME = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)

_STRING_OPS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
]
_NUMERIC_OPS = [
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
]
_DATE_OPS = [op.replace("Numeric", "Date") for op in _NUMERIC_OPS]
_ARN_OPS = ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"]


def _maybe_list(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A single value, or a short list of values (both are valid in policies)."""
    return st.one_of(values, st.lists(values, min_size=1, max_size=3))


def _if_exists(op: str) -> st.SearchStrategy[str]:
    return st.sampled_from([op, op + "IfExists"])


@st.composite
def condition_entries(draw: st.DrawFn) -> tuple[str, str, Any]:
    """One (operator, key, values) triple of any operator family."""
    family = draw(
        st.sampled_from(["string", "numeric", "date", "bool", "ip", "arn", "null", "set", "binary"])
    )
    if family == "string":
        op = draw(_if_exists(draw(st.sampled_from(_STRING_OPS))))
        key = draw(st.sampled_from(["aws:PrincipalTag/team", "AWS:principaltag/TEAM", "s3:prefix"]))
        values = _maybe_list(
            st.sampled_from([*TEAMS, "${aws:username}", "home/*", "${aws:PrincipalTag/team}"])
        )
        return op, key, draw(values)
    if family == "numeric":
        op = draw(_if_exists(draw(st.sampled_from(_NUMERIC_OPS))))
        number = st.one_of(
            st.integers(-5, 50).map(str), st.integers(-5, 50), st.sampled_from(["1.5", "0.25"])
        )
        return op, "s3:max-keys", draw(_maybe_list(number))
    if family == "date":
        op = draw(_if_exists(draw(st.sampled_from(_DATE_OPS))))
        key = draw(st.sampled_from(["aws:CurrentTime", "aws:TokenIssueTime", "aws:EpochTime"]))
        offset = st.integers(-400, 400).map(lambda days: BASE_TIME + timedelta(days=days))
        date = st.one_of(
            offset.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
            offset.map(lambda d: str(int(d.timestamp()))),
        )
        return op, key, draw(_maybe_list(date))
    if family == "bool":
        op = draw(_if_exists("Bool"))
        key = draw(st.sampled_from(["aws:SecureTransport", "aws:MultiFactorAuthPresent"]))
        return op, key, draw(st.sampled_from(["true", "false", True, False]))
    if family == "ip":
        op = draw(_if_exists(draw(st.sampled_from(["IpAddress", "NotIpAddress"]))))
        return op, "aws:SourceIp", draw(_maybe_list(st.sampled_from(CIDRS)))
    if family == "arn":
        op = draw(_if_exists(draw(st.sampled_from(_ARN_OPS))))
        key = draw(st.sampled_from(["aws:SourceArn", "aws:PrincipalArn"]))
        arns = st.sampled_from(
            [
                "arn:aws:iam::111122223333:user/*",
                "arn:aws:iam::*:role/Reader",
                "arn:aws:sns:*:111122223333:t",
                "arn:aws:iam::111122223333:user/${aws:username}",
            ]
        )
        return op, key, draw(_maybe_list(arns))
    if family == "null":
        key = draw(st.sampled_from(["aws:TokenIssueTime", "aws:PrincipalTag/team", "aws:username"]))
        return "Null", key, draw(st.sampled_from(["true", "false", True]))
    if family == "binary":
        return (
            draw(_if_exists("BinaryEquals")),
            "s3:x-amz-meta-digest",
            draw(st.sampled_from(["AAEC", "QUJD"])),
        )
    qualifier = draw(st.sampled_from(["ForAllValues:", "ForAnyValue:"]))
    op = draw(
        st.sampled_from(["StringEquals", "StringLike", "StringNotEquals", "StringEqualsIgnoreCase"])
    )
    return qualifier + op, "aws:TagKeys", draw(_maybe_list(st.sampled_from([*TAG_KEYS, "t*"])))


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """A Condition element of one to three (operator, key) entries."""
    out: dict[str, dict[str, Any]] = {}
    for op, key, values in draw(st.lists(condition_entries(), min_size=1, max_size=3)):
        keys = out.setdefault(op, {})
        # Keys differing only in case would be duplicates for the engine's lookup.
        if all(k.lower() != key.lower() for k in keys):
            keys[key] = values
    return out


def principal_elements() -> st.SearchStrategy[Any]:
    """Every Principal form of a resource policy."""
    aws_ids = st.sampled_from(
        [ACCOUNT_A, ACCOUNT_B, ROOT_A, ALICE, BOB, ROLE, SESSION, FEDERATED, DAVE_B, "*"]
    )
    return st.one_of(
        st.just("*"),
        _maybe_list(aws_ids).map(lambda v: {"AWS": v}),
        st.sampled_from([EC2, "lambda.amazonaws.com"]).map(lambda v: {"Service": v}),
        st.just({"Federated": "cognito-identity.amazonaws.com"}),
    )


@st.composite
def statements(
    draw: st.DrawFn, *, kind: str = "identity", effect: str | None = None
) -> dict[str, Any]:
    """One valid statement for a policy of the kind."""
    chosen = effect or draw(st.sampled_from(["Allow", "Deny"]))
    out: dict[str, Any] = {"Effect": chosen}
    if kind in ("resource", "trust"):
        # NotPrincipal: only with Deny, and not in role trust policies (IAM user guide).
        if chosen == "Deny" and kind == "resource" and draw(st.booleans()):
            out["NotPrincipal"] = {
                "AWS": draw(_maybe_list(st.sampled_from([ALICE, ROOT_A, SESSION, ROLE])))
            }
        else:
            out["Principal"] = draw(principal_elements())
    action_key = draw(st.sampled_from(["Action", "Action", "NotAction"]))
    out[action_key] = draw(_maybe_list(st.sampled_from(ACTION_PATTERNS)))
    if kind != "trust":
        resource_key = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
        out[resource_key] = draw(_maybe_list(st.sampled_from(RESOURCE_PATTERNS)))
    if draw(st.booleans()):
        out["Condition"] = draw(conditions())
    return out


@st.composite
def policies(draw: st.DrawFn, *, kind: str = "identity", max_statements: int = 4) -> dict[str, Any]:
    """A valid policy document (as a dict) of the kind."""
    out: dict[str, Any] = {}
    version = draw(st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17", None]))
    if version is not None:
        out["Version"] = version
    body = draw(
        st.lists(
            statements(kind=kind), min_size=0 if kind != "resource" else 1, max_size=max_statements
        )
    )
    out["Statement"] = body[0] if len(body) == 1 and draw(st.booleans()) else body
    return out


def dump(policy: dict[str, Any]) -> str:
    """JSON text of a policy dict."""
    return json.dumps(policy, indent=1)


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, object]:
    """A request context: any subset of the keys the policies above use."""
    candidates: dict[str, st.SearchStrategy[Any]] = {
        "aws:PrincipalTag/team": st.sampled_from(TEAMS),
        "s3:prefix": st.sampled_from(["", "home/alice/x", "blue", "b*"]),
        "s3:max-keys": st.one_of(st.integers(-5, 50), st.integers(0, 50).map(str)),
        "aws:CurrentTime": st.integers(-400, 400).map(lambda d: BASE_TIME + timedelta(days=d)),
        "aws:TokenIssueTime": st.integers(-400, 0).map(lambda d: BASE_TIME + timedelta(days=d)),
        "aws:EpochTime": st.integers(-400, 400).map(
            lambda d: int((BASE_TIME + timedelta(days=d)).timestamp())
        ),
        "aws:SecureTransport": st.booleans(),
        "aws:MultiFactorAuthPresent": st.booleans(),
        "aws:SourceIp": st.one_of(
            st.sampled_from(IPS), st.sampled_from(IPS).map(ipaddress.ip_address)
        ),
        "aws:SourceArn": st.sampled_from(["arn:aws:sns:us-east-1:111122223333:t", "not-an-arn"]),
        "aws:TagKeys": st.lists(st.sampled_from(TAG_KEYS), max_size=3),
        "s3:x-amz-meta-digest": st.sampled_from([b"\x00\x01\x02", b"ABC", b""]),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(candidates)), unique=True, max_size=5))
    return {key: draw(candidates[key]) for key in chosen}


@dataclass(frozen=True, slots=True)
class Request:
    """A request and the policies in force (as dicts; resource policy optional)."""

    principal: str
    action: str
    resource: str
    context: dict[str, object]
    resource_account: str | None
    identity: tuple[dict[str, Any], ...]
    resource_policy: dict[str, Any] | None
    boundary: dict[str, Any] | None
    session: dict[str, Any] | None

    def evaluate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of objstore.iam.evaluate for this request (policies as text)."""
        return {
            "context": self.context,
            "identity_policies": [dump(p) for p in self.identity],
            "resource_policy": None if self.resource_policy is None else dump(self.resource_policy),
            "boundary": None if self.boundary is None else dump(self.boundary),
            "session_policy": None if self.session is None else dump(self.session),
            "resource_account": self.resource_account,
        }


def _action_spelling(action: str) -> st.SearchStrategy[str]:
    return st.sampled_from([action, action.lower(), action.upper()])


@st.composite
def requests(
    draw: st.DrawFn,
    *,
    principals: list[str] = PRINCIPALS,
    limits: bool = True,
) -> Request:
    """A request with identity policies, maybe a bucket policy, boundary and session policy."""
    principal = draw(st.sampled_from(principals))
    action = draw(st.sampled_from(ACTIONS).flatmap(_action_spelling))
    return Request(
        principal=principal,
        action=action,
        resource=draw(st.sampled_from(RESOURCES)),
        context=draw(contexts()),
        resource_account=draw(st.sampled_from([None, None, ACCOUNT_A, ACCOUNT_B])),
        identity=tuple(draw(st.lists(policies(), max_size=3))),
        resource_policy=draw(st.none() | policies(kind="resource")),
        boundary=draw(st.none() | policies(kind="boundary")) if limits else None,
        session=draw(st.none() | policies(kind="session")) if limits else None,
    )


# --- hostile input for the parser ---------------------------------------------------

POLICY_WORDS = [
    "Version",
    "Statement",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "Sid",
    "Id",
    "AWS",
    "Service",
    "Federated",
    "Allow",
    "Deny",
    "2012-10-17",
    "2008-10-17",
    "StringEquals",
    "ForAllValues:StringLike",
    "NumericLessThanIfExists",
    "Null",
    "IpAddress",
    "DateGreaterThan",
    "BinaryEquals",
    "ArnLike",
    "*",
    "s3:GetObject",
    "arn:aws:s3:::b/*",
    "${aws:username}",
    "${",
    "arn:",
    "111122223333",
]


def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values, biased toward policy vocabulary."""
    text = st.one_of(st.sampled_from(POLICY_WORDS), st.text(max_size=12))
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(text, children, max_size=5),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def policy_shaped(draw: st.DrawFn) -> Any:
    """Objects that look like policies but have random parts anywhere."""
    statement = draw(
        st.dictionaries(
            st.sampled_from(POLICY_WORDS[:11]) | st.text(max_size=8),
            json_values(8),
            max_size=7,
        )
    )
    body = draw(st.sampled_from(["object", "list", "random"]))
    statement_value = {"object": statement, "list": [statement], "random": draw(json_values(6))}[
        body
    ]
    top: dict[str, Any] = {"Statement": statement_value}
    if draw(st.booleans()):
        top["Version"] = draw(st.sampled_from(["2012-10-17", "2008-10-17"]) | json_values(2))
    return top


KINDS = ["identity", "resource", "trust", "boundary", "session"]


@st.composite
def mutated_text(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid document's text with a few random edits (delete, insert, duplicate, swap)."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 20)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "replace", "swap"]))
        if edit == "delete":
            text = text[:i] + text[j:]
        elif edit == "insert":
            piece = draw(
                st.sampled_from(
                    ['"', "{", "}", "[", "]", ",", ":", "\\", "\x00", "\u4e2d", "\ud800"]
                )
                | st.text(max_size=4)
            )
            text = text[:i] + piece + text[i:]
        elif edit == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif edit == "replace":
            text = text[:i] + draw(st.characters()) + text[i + 1 :]
        else:
            k = draw(st.integers(0, len(text) - 1))
            a, b = sorted((i, k))
            text = text[:a] + text[b:] + text[a:b]
    return text
