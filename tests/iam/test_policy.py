"""Policy.from_json: parsing, validation errors with positions, limits, compiled matchers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from objstore.errors import InvalidInput, MalformedPolicyDocument
from objstore.iam.context import RequestContext
from objstore.iam.parse import MAX_DOCUMENT_CHARS
from objstore.iam.policy import SIZE_LIMITS, Policy

ALICE = "arn:aws:iam::111122223333:user/alice"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17", **top: Any) -> str:
    out: dict[str, Any] = {}
    if version is not None:
        out["Version"] = version
    out.update(top)
    out["Statement"] = list(statements)
    return json.dumps(out, indent=2)


def allow(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **extra}


def bad(text: str | bytes, kind: str = "identity") -> MalformedPolicyDocument:
    with pytest.raises(MalformedPolicyDocument) as info:
        Policy.from_json(text, kind=kind)  # type: ignore[arg-type]
    return info.value


def test_parse_basic_policy() -> None:
    """A simple policy parses into typed statements and keeps its source."""
    text = doc(allow(Sid="Read"), {"Effect": "Deny", "Action": ["s3:Delete*"], "Resource": "*"})
    policy = Policy.from_json(text)
    assert policy.kind == "identity" and policy.version == "2012-10-17"
    assert policy.source == text
    assert [s.effect for s in policy.statements] == ["Allow", "Deny"]
    assert policy.statements[0].sid == "Read" and policy.statements[1].sid is None
    assert policy.statements[1].action.patterns == ("s3:Delete*",)
    assert policy.statement_by_sid("Read") is policy.statements[0]
    assert policy.size == sum(1 for ch in text if ch not in " \t\n\r")


def test_statement_object_and_empty_list() -> None:
    """Statement may be one object; an empty list is valid and grants nothing."""
    one = Policy.from_json('{"Version":"2012-10-17","Statement":' + json.dumps(allow()) + "}")
    assert len(one.statements) == 1
    assert Policy.from_json('{"Version":"2012-10-17","Statement":[]}').statements == ()


def test_statement_positions() -> None:
    """Statements know where they start and end (1-based, end inclusive)."""
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",\n'
        '     "Action": "*", "Resource": "*"}\n  ]\n}'
    )
    statement = Policy.from_json(text).statements[0]
    assert (statement.start.line, statement.start.column) == (4, 5)
    assert (statement.end.line, statement.end.column) == (5, 36)


def test_version_default_and_variables_literal_in_2008() -> None:
    """Without Version the policy is 2008-10-17, where ${...} is literal text."""
    policy = Policy.from_json(
        '{"Statement":[{"Effect":"Allow","Action":"s3:*",'
        '"Resource":"arn:aws:s3:::b/${aws:username}/*"}]}'
    )
    assert policy.version == "2008-10-17"
    statement = policy.statements[0]
    ctx = RequestContext.from_mapping({"aws:username": "alice"})
    assert not statement.matches_resource("arn:aws:s3:::b/alice/x", lambda: ctx)
    assert statement.matches_resource("arn:aws:s3:::b/${aws:username}/x", lambda: ctx)


def test_variables_in_2012() -> None:
    """Under 2012-10-17, a resource variable is substituted; unresolved matches nothing."""
    policy = Policy.from_json(doc(allow(Resource="arn:aws:s3:::b/${aws:username}/*")))
    statement = policy.statements[0]
    assert statement.uses_context
    ctx = RequestContext.from_mapping({"aws:username": "alice"})
    assert statement.matches_resource("arn:aws:s3:::b/alice/x", lambda: ctx)
    assert not statement.matches_resource("arn:aws:s3:::b/bob/x", lambda: ctx)
    missing: set[str] = set()
    empty = RequestContext.from_mapping({})
    assert not statement.matches_resource("arn:aws:s3:::b/alice/x", lambda: empty, missing)
    assert missing == {"aws:username"}


def test_actions_case_insensitive_and_memoised() -> None:
    """Action matching ignores case; candidates are memoised per action."""
    policy = Policy.from_json(doc(allow(Action=["S3:get*", "iam:ListUsers"]), allow(Action="*")))
    assert len(policy.candidates("s3:getobject")) == 2
    assert policy.candidates("s3:getobject") is policy.candidates("s3:getobject")
    assert len(policy.candidates("iam:listusers")) == 2
    assert len(policy.candidates("s3:putobject")) == 1


def test_not_action_and_not_resource_compile_negated() -> None:
    """NotAction/NotResource compile to negated matchers."""
    policy = Policy.from_json(
        doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})
    )
    statement = policy.statements[0]
    assert statement.action.negated and statement.resource is not None
    assert statement.resource.negated
    assert statement.action.matches("s3:getobject")
    assert not statement.action.matches("iam:getuser")
    assert statement.matches_resource("arn:aws:s3:::public/x")
    assert not statement.matches_resource("arn:aws:s3:::secret/x")


def test_bytes_input() -> None:
    """UTF-8 bytes are accepted."""
    assert len(Policy.from_json(doc(allow()).encode()).statements) == 1


def test_resource_and_trust_policies() -> None:
    """Resource policies need Principal; trust policies need Principal and no Resource."""
    rp = Policy.from_json(doc(allow(Principal={"AWS": ALICE})), kind="resource")
    assert rp.statements[0].principal is not None
    trust = Policy.from_json(
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        kind="trust",
    )
    assert trust.statements[0].resource is None
    assert trust.statements[0].matches_resource("arn:aws:iam::111122223333:role/R")


def test_name_is_kept() -> None:
    """A policy can carry a name for results."""
    assert Policy.from_json(doc(allow()), name="MyPolicy").name == "MyPolicy"


def test_unknown_kind() -> None:
    """An unknown kind is a programming error reported as InvalidInput."""
    with pytest.raises(InvalidInput):
        Policy.from_json(doc(allow()), kind="group")  # type: ignore[arg-type]


# --- invalid documents ---------------------------------------------------------------

_INVALID: list[tuple[str, str, str, str]] = [
    # (id, kind, document, text the message must contain)
    ("not-object", "identity", "[]", "must be a JSON object"),
    ("unknown-top", "identity", doc(allow(), Foo=1), "Foo: unknown top-level element"),
    (
        "lowercase-statement",
        "identity",
        '{"Version":"2012-10-17","statement":[]}',
        "unknown top-level",
    ),
    ("missing-statement", "identity", '{"Version":"2012-10-17"}', "Statement: is required"),
    ("statement-string", "identity", '{"Statement":"x"}', "must be an object or a list"),
    ("statement-item-string", "identity", '{"Statement":["x"]}', "Statement[0]: must be an object"),
    ("bad-version", "identity", doc(allow(), version="2012-10-18"), "Version: must be"),
    ("version-number", "identity", '{"Version":2012,"Statement":[]}', "Version: must be a string"),
    ("id-number", "identity", doc(allow(), Id=5), "Id: must be a string"),
    (
        "unknown-statement-key",
        "identity",
        doc(allow(Actions="s3:*")),
        "Statement[0].Actions: unknown statement element",
    ),
    ("missing-effect", "identity", doc({"Action": "*", "Resource": "*"}), "Effect: is required"),
    ("lowercase-effect", "identity", doc(allow(Effect="allow")), 'must be "Allow" or "Deny"'),
    ("effect-list", "identity", doc(allow(Effect=["Allow"])), "Effect: must be a string"),
    (
        "action-and-notaction",
        "identity",
        doc(allow(NotAction="iam:*")),
        "Action and NotAction cannot be used together",
    ),
    (
        "no-action",
        "identity",
        doc({"Effect": "Allow", "Resource": "*"}),
        "Action or NotAction is required",
    ),
    ("action-empty-list", "identity", doc(allow(Action=[])), "must not be an empty list"),
    ("action-number", "identity", doc(allow(Action=5)), "must be a string or a list of strings"),
    (
        "action-list-number",
        "identity",
        doc(allow(Action=["s3:GetObject", 5])),
        "Action[1]: must be a string",
    ),
    ("action-no-vendor", "identity", doc(allow(Action="GetObject")), "is not an action"),
    ("action-empty-name", "identity", doc(allow(Action="s3:")), "is not an action"),
    ("action-space", "identity", doc(allow(Action="s3:Get Object")), "is not an action"),
    (
        "resource-and-notresource",
        "identity",
        doc(allow(NotResource="*")),
        "Resource and NotResource cannot be used together",
    ),
    (
        "no-resource",
        "identity",
        doc({"Effect": "Allow", "Action": "*"}),
        "Resource or NotResource is required",
    ),
    ("resource-not-arn", "identity", doc(allow(Resource="bucket/key")), 'not "*" or a valid ARN'),
    ("resource-short-arn", "identity", doc(allow(Resource="arn:aws:s3")), "valid ARN"),
    (
        "resource-bad-variable",
        "identity",
        doc(allow(Resource="arn:aws:s3:::b/${aws:username")),
        "Resource",
    ),
    (
        "principal-in-identity",
        "identity",
        doc(allow(Principal="*")),
        "Principal: is not allowed in an identity policy",
    ),
    (
        "notprincipal-in-boundary",
        "boundary",
        doc(allow(NotPrincipal="*")),
        "NotPrincipal: is not allowed in a boundary policy",
    ),
    ("principal-in-session", "session", doc(allow(Principal="*")), "not allowed in a session"),
    ("resource-missing-principal", "resource", doc(allow()), "Principal: is required"),
    (
        "trust-missing-principal",
        "trust",
        doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
        "Principal: is required",
    ),
    ("trust-with-resource", "trust", doc(allow(Principal="*")), "not allowed in a trust policy"),
    (
        "trust-notprincipal",
        "trust",
        doc({"Effect": "Deny", "NotPrincipal": "*", "Action": "sts:AssumeRole"}),
        "NotPrincipal: is not allowed in a trust policy",
    ),
    (
        "notprincipal-allow",
        "resource",
        doc(allow(NotPrincipal={"AWS": ALICE})),
        'only supported with "Effect": "Deny"',
    ),
    (
        "principal-and-notprincipal",
        "resource",
        doc(
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotPrincipal": "*",
                "Action": "*",
                "Resource": "*",
            }
        ),
        "cannot be used together",
    ),
    (
        "principal-wildcard-arn",
        "resource",
        doc(allow(Principal={"AWS": "arn:aws:iam::111122223333:user/*"})),
        "wildcards",
    ),
    (
        "principal-bad-type",
        "resource",
        doc(allow(Principal={"User": ALICE})),
        "unknown principal type",
    ),
    ("principal-string", "resource", doc(allow(Principal=ALICE)), 'must be "*" or an object'),
    ("principal-empty-object", "resource", doc(allow(Principal={})), "empty object"),
    ("principal-number", "resource", doc(allow(Principal={"AWS": 1})), "must be a string"),
    ("bad-sid", "identity", doc(allow(Sid="my sid")), "is not a valid Sid"),
    ("sid-dash", "identity", doc(allow(Sid="a-b")), "is not a valid Sid"),
    ("sid-number", "identity", doc(allow(Sid=1)), "Sid: must be a string"),
    ("duplicate-sid", "identity", doc(allow(Sid="A"), allow(Sid="A")), "duplicate Sid 'A'"),
    ("condition-string", "identity", doc(allow(Condition="x")), "Condition: must be an object"),
    (
        "condition-op-list",
        "identity",
        doc(allow(Condition={"StringEquals": ["a"]})),
        "must be an object of condition keys",
    ),
    (
        "condition-unknown-op",
        "identity",
        doc(allow(Condition={"StringEqualz": {"aws:username": "a"}})),
        "StringEqualz",
    ),
    (
        "condition-null-value",
        "identity",
        doc(allow(Condition={"StringEquals": {"aws:username": None}})),
        "condition values",
    ),
    (
        "condition-object-value",
        "identity",
        doc(allow(Condition={"StringEquals": {"aws:username": {"a": 1}}})),
        "condition values",
    ),
    (
        "condition-empty-values",
        "identity",
        doc(allow(Condition={"StringEquals": {"aws:username": []}})),
        "empty list",
    ),
    (
        "condition-no-keys",
        "identity",
        doc(allow(Condition={"StringEquals": {}})),
        "at least one condition key",
    ),
    (
        "condition-bad-number",
        "identity",
        doc(allow(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})),
        "NumericLessThan",
    ),
    (
        "condition-null-ifexists",
        "identity",
        doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})),
        "Null",
    ),
    (
        "duplicate-key",
        "identity",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny"}]}',
        "duplicate key 'Effect'",
    ),
    (
        "duplicate-condition-key",
        "identity",
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":'
        '{"Bool":{"aws:SecureTransport":"true","aws:SecureTransport":"false"}}}]}',
        "duplicate key",
    ),
    ("trailing-comma", "identity", '{"Statement":[],}', "invalid JSON"),
    ("empty", "identity", "  \n ", "empty"),
    ("control-char", "identity", doc(allow(Resource="arn:aws:s3:::b/\u0001")), "U+0001"),
    ("non-latin1", "identity", doc(allow(Resource="arn:aws:s3:::b/\u4e2d")), "U+4E2D"),
    (
        "escaped-control",
        "identity",
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/\\u0000"}]}',
        "U+0000",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "needle"),
    [pytest.param(k, t, n, id=i) for i, k, t, n in _INVALID],
)
def test_invalid_documents(kind: str, text: str, needle: str) -> None:
    """Each invalid document raises MalformedPolicyDocument naming the problem."""
    error = bad(text, kind)
    assert needle in error.message, error.message
    assert error.code == "MalformedPolicyDocument"


def test_errors_carry_line_and_column() -> None:
    """The error names the element and points at it."""
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Permit",'
        '\n      "Action": "*",\n      "Resource": "*"\n    }\n  ]\n}'
    )
    error = bad(text)
    assert error.details["element"] == "Statement[0].Effect"
    assert (error.details["line"], error.details["column"]) == (5, 17)
    assert "(line 5, column 17)" in error.message


def test_duplicate_sid_points_at_second() -> None:
    """A duplicate Sid is reported where it repeats."""
    text = (
        '{"Statement":[\n{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},\n'
        '{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]}'
    )
    error = bad(text)
    assert error.details["line"] == 3 and error.details["element"] == "Statement[1].Sid"


def test_condition_error_points_at_operator() -> None:
    """A bad condition is reported at its operator."""
    text = (
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{\n'
        '"Bool":{"aws:SecureTransport":"true"},\n"Fancy":{"k":"v"}}}]}'
    )
    error = bad(text)
    assert error.details["element"] == "Statement[0].Condition.Fancy"
    assert (error.details["line"], error.details["column"]) == (3, 1)


@pytest.mark.parametrize("kind", list(SIZE_LIMITS))
def test_size_limit_per_kind(kind: str) -> None:
    """Each kind has its limit; whitespace does not count."""
    limit = SIZE_LIMITS[kind]  # type: ignore[index]
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    if kind in ("resource", "trust"):
        statement["Principal"] = "*"
    if kind != "trust":
        statement["Resource"] = "*"
    base = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))
    padding = limit - len(base) - len(',"Sid":""')
    statement["Sid"] = "A" * padding
    at_limit = json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":")
    )
    assert len(at_limit) == limit
    spaced = at_limit.replace(",", ",\n    ")
    assert Policy.from_json(spaced, kind=kind).size == limit  # type: ignore[arg-type]
    statement["Sid"] += "B"
    over = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    error = bad(over, kind)
    assert f"at most {limit}" in error.message


@pytest.mark.parametrize("kind", list(SIZE_LIMITS))
def test_raw_length_is_capped_whitespace_included(kind: str) -> None:
    """Regression (review of issue 7): a small document padded with megabytes of
    whitespace was within every whitespace-free limit and stored whole. The text is
    capped at 131,072 characters, whitespace included, as AWS caps PolicyDocument."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    if kind in ("resource", "trust"):
        statement["Principal"] = "*"
    if kind != "trust":
        statement["Resource"] = "*"
    text = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    at_cap = " " * (MAX_DOCUMENT_CHARS - len(text)) + text
    assert Policy.from_json(at_cap, kind=kind).size < 200  # type: ignore[arg-type]
    for over in (" " + at_cap, " " * 10_000_000 + text):
        error = bad(over, kind)
        assert f"has {len(over)} characters" in error.message
        assert f"at most {MAX_DOCUMENT_CHARS}" in error.message


def test_resource_policy_allows_unicode() -> None:
    """Resource (bucket) policies may name keys in any script."""
    text = doc(allow(Principal="*", Resource="arn:aws:s3:::b/\u4e2d\u6587/*"))
    assert (
        Policy.from_json(text, kind="resource")
        .statements[0]
        .matches_resource("arn:aws:s3:::b/\u4e2d\u6587/x")
    )


@pytest.mark.parametrize("value", [None, 5, 1.5, [], {}, object()])
def test_non_text_input(value: object) -> None:
    """Anything that is not text or bytes is a MalformedPolicyDocument."""
    bad(value)  # type: ignore[arg-type]


def test_invalid_utf8() -> None:
    """Bytes that are not UTF-8 are a MalformedPolicyDocument."""
    assert "UTF-8" in bad(b'{"Statement": "\xff"}').message


def test_package_exports_exactly_the_public_names() -> None:
    """objstore.iam re-exports its public API, and nothing else public."""
    import objstore.iam as iam

    expected = {
        "BoundPolicySet",
        "Decision",
        "EvaluationResult",
        "MatchedStatement",
        "Policy",
        "PolicySet",
        "Position",
        "Principal",
        "PrincipalType",
        "RequestContext",
        "Statement",
        "evaluate",
        "managed_policy",
        "managed_policy_arns",
        "simulate",
    }
    assert set(iam.__all__) == expected
    assert all(callable(getattr(iam, name)) for name in expected)
    assert iam.Policy is Policy
