"""simulate(): AWS-shaped results and context entries, and agreement with evaluate()."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import InvalidInput, MalformedPolicyDocument
from objstore.iam import Policy, evaluate, simulate
from objstore.iam.simulate import context_from_entries

A = "111122223333"
ALICE = f"arn:aws:iam::{A}:user/alice"
OBJ = "arn:aws:s3:::bucket/key"

IDENTITY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
            {
                "Sid": "Write",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::bucket/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            },
            {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
        ],
    },
    indent=2,
)


def entry(name: str, kind: str, *values: str) -> dict[str, object]:
    return {"ContextKeyName": name, "ContextKeyValues": list(values), "ContextKeyType": kind}


def test_one_result_per_action_and_resource() -> None:
    """Results come actions outermost, with AWS's fields."""
    results = simulate(
        [IDENTITY],
        ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        [OBJ, "arn:aws:s3:::other/key"],
    )
    assert [(r.eval_action_name, r.eval_resource_name, r.eval_decision) for r in results] == [
        ("s3:GetObject", OBJ, "allowed"),
        ("s3:GetObject", "arn:aws:s3:::other/key", "allowed"),
        ("s3:DeleteObject", OBJ, "explicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::other/key", "explicitDeny"),
        ("s3:PutObject", OBJ, "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::other/key", "implicitDeny"),
    ]
    put = results[4]
    assert put.missing_context_values == ("aws:SourceIp",)
    assert put.permissions_boundary_allowed and not put.allowed


def test_matched_statements_have_positions() -> None:
    """Matched statements name their policy and span in its text."""
    (result,) = simulate([IDENTITY], ["s3:DeleteObject"])
    (matched,) = result.matched_statements
    assert (matched.source_policy_id, matched.sid, matched.effect) == (
        "PolicyInputList.1",
        "NoDelete",
        "Deny",
    )
    lines = IDENTITY.splitlines()
    assert lines[matched.start.line - 1][matched.start.column - 1] == "{"
    assert lines[matched.end.line - 1][matched.end.column - 1] == "}"
    assert '"NoDelete"' in "\n".join(lines[matched.start.line - 1 : matched.end.line])


def test_default_resource_is_star() -> None:
    """Without resources, actions are simulated against '*'."""
    (result,) = simulate([IDENTITY], ["s3:ListAllMyBuckets"])
    assert result.eval_resource_name == "*" and result.eval_decision == "implicitDeny"


def test_context_entries_decide() -> None:
    """Typed context entries feed the conditions."""
    inside = [entry("aws:SourceIp", "ip", "10.1.2.3")]
    outside = [entry("aws:SourceIp", "ip", "192.168.0.1")]
    (ok,) = simulate([IDENTITY], ["s3:PutObject"], [OBJ], context_entries=inside)
    (no,) = simulate([IDENTITY], ["s3:PutObject"], [OBJ], context_entries=outside)
    assert (ok.eval_decision, no.eval_decision) == ("allowed", "implicitDeny")
    assert ok.missing_context_values == ()


def test_boundary_and_resource_policy() -> None:
    """Boundary results are reported; a resource policy needs a caller to name."""
    boundary = (
        '{"Version":"2012-10-17","Statement":'
        '[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}'
    )
    (result,) = simulate([IDENTITY], ["s3:GetObject"], [OBJ], boundary_policies=[boundary])
    assert result.eval_decision == "implicitDeny" and not result.permissions_boundary_allowed
    bucket_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ALICE},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::bucket/*",
                }
            ],
        }
    )
    (named,) = simulate([], ["s3:PutObject"], [OBJ], resource_policy=bucket_policy, caller=ALICE)
    assert named.eval_decision == "allowed"
    assert named.matched_statements[0].source_policy_id == "ResourcePolicy"
    (anonymous,) = simulate([], ["s3:PutObject"], [OBJ], resource_policy=bucket_policy)
    assert anonymous.eval_decision == "implicitDeny"


def test_without_caller_principal_keys_are_missing() -> None:
    """Without a caller, aws:username is not invented: it is reported missing."""
    home = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/${aws:username}/*",
                }
            ],
        }
    )
    (result,) = simulate([home], ["s3:GetObject"], ["arn:aws:s3:::b/alice/x"])
    assert result.eval_decision == "implicitDeny"
    assert result.missing_context_values == ("aws:username",)
    (as_alice,) = simulate([home], ["s3:GetObject"], ["arn:aws:s3:::b/alice/x"], caller=ALICE)
    assert as_alice.eval_decision == "allowed"
    (given,) = simulate(
        [home],
        ["s3:GetObject"],
        ["arn:aws:s3:::b/alice/x"],
        context_entries=[entry("aws:username", "string", "alice")],
    )
    assert given.eval_decision == "allowed"


def test_context_entry_conversion() -> None:
    """Each ContextKeyType converts its strings to the matching Python value."""
    values = context_from_entries(
        [
            entry("s", "string", "x"),
            entry("sl", "stringList", "a", "b"),
            entry("n", "numeric", "5"),
            entry("f", "numeric", "2.5"),
            entry("nl", "numericList", "1", "2"),
            entry("b", "boolean", "TRUE"),
            entry("bl", "booleanList", "true", "false"),
            entry("ip", "ip", "10.0.0.1"),
            entry("ipl", "ipList", "::1"),
            entry("bin", "binary", "aGk="),
            entry("d", "date", "2024-01-01T00:00:00Z"),
            entry("dl", "dateList", "1700000000"),
            entry("empty", "stringList"),
            {"ContextKeyName": "ci", "ContextKeyValues": ["x"], "ContextKeyType": "STRING"},
        ]
    )
    assert values == {
        "s": "x",
        "sl": ["a", "b"],
        "n": 5,
        "f": 2.5,
        "nl": [1, 2],
        "b": True,
        "bl": [True, False],
        "ip": ipaddress.ip_address("10.0.0.1"),
        "ipl": [ipaddress.ip_address("::1")],
        "bin": b"hi",
        "d": "2024-01-01T00:00:00Z",
        "dl": ["1700000000"],
        "empty": [],
        "ci": "x",
    }


@pytest.mark.parametrize(
    "entries",
    [
        [entry("n", "numeric", "ten")],
        [entry("b", "boolean", "yes")],
        [entry("i", "ip", "10.0.0.300")],
        [entry("x", "binary", "***")],
        [entry("d", "date", "yesterday")],
        [entry("s", "string", "a", "b")],
        [entry("s", "string")],
        [entry("s", "text", "a")],
        [entry("s", "string", "a"), entry("S", "string", "b")],
        [{"ContextKeyName": "s", "ContextKeyValues": "a", "ContextKeyType": "string"}],
        [{"ContextKeyName": "", "ContextKeyValues": ["a"], "ContextKeyType": "string"}],
        [{"ContextKeyName": "s", "ContextKeyValues": [1], "ContextKeyType": "numeric"}],
        [{"ContextKeyName": "s", "ContextKeyValues": ["a"], "ContextKeyType": "string", "X": 1}],
        ["aws:username=alice"],
        {"ContextKeyName": "s"},
    ],
)
def test_bad_context_entries(entries: Any) -> None:
    """Malformed entries raise InvalidInput."""
    with pytest.raises(InvalidInput):
        context_from_entries(entries)


def test_bad_arguments() -> None:
    """Bad actions, resources or policies raise objstore errors."""
    with pytest.raises(InvalidInput):
        simulate([IDENTITY], "s3:GetObject")
    with pytest.raises(InvalidInput):
        simulate([IDENTITY], [])
    with pytest.raises(InvalidInput):
        simulate([IDENTITY], ["s3:GetObject"], OBJ)
    with pytest.raises(InvalidInput):
        simulate([IDENTITY], ["s3:GetObject"], [])
    with pytest.raises(InvalidInput):
        simulate(IDENTITY, ["s3:GetObject"])  # type: ignore[arg-type]
    with pytest.raises(MalformedPolicyDocument):
        simulate(["{}"], ["s3:GetObject"])


# --- same decision as evaluate ------------------------------------------------------------

_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "iam:GetUser"]
_RESOURCES = [OBJ, "arn:aws:s3:::bucket", "arn:aws:s3:::other/x", "*"]
_CALLERS = [
    ALICE,
    f"arn:aws:iam::{A}:user/bob",
    f"arn:aws:iam::{A}:root",
    f"arn:aws:sts::{A}:assumed-role/R/s",
    "anonymous",
    "arn:aws:iam::444455556666:user/x",
]
_BUCKET_POLICY = Policy.from_json(
    json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bucket/*",
                    "Condition": {"StringEquals": {"aws:PrincipalType": ["User", "Anonymous"]}},
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{A}:role/R"},
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::bucket*",
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    ),
    kind="resource",
)


@settings(max_examples=120, deadline=None)
@given(
    caller=st.sampled_from(_CALLERS),
    actions=st.lists(st.sampled_from(_ACTIONS), min_size=1, max_size=3),
    resources=st.lists(st.sampled_from(_RESOURCES), min_size=1, max_size=2),
    with_rp=st.booleans(),
    secure=st.sampled_from([None, "true", "false"]),
    ip=st.sampled_from([None, "10.0.0.1", "8.8.8.8"]),
    account=st.sampled_from([None, A]),
)
def test_simulate_agrees_with_evaluate(
    caller: str,
    actions: list[str],
    resources: list[str],
    with_rp: bool,
    secure: str | None,
    ip: str | None,
    account: str | None,
) -> None:
    """For the same request, simulate and evaluate give the same decision and details."""
    entries = []
    context: dict[str, object] = {}
    if secure is not None:
        entries.append(entry("aws:SecureTransport", "boolean", secure))
        context["aws:SecureTransport"] = secure == "true"
    if ip is not None:
        entries.append(entry("aws:SourceIp", "ip", ip))
        context["aws:SourceIp"] = ip
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rp = _BUCKET_POLICY if with_rp else None
    results = simulate(
        [IDENTITY],
        actions,
        resources,
        resource_policy=rp,
        context_entries=entries,
        caller=caller,
        resource_account=account,
        now=now,
    )
    pairs = [(a, r) for a in actions for r in resources]
    assert len(results) == len(pairs)
    for (action, resource), result in zip(pairs, results, strict=True):
        decision = evaluate(
            caller,
            action,
            resource,
            context=context,
            identity_policies=[IDENTITY],
            resource_policy=rp,
            resource_account=account,
            now=now,
        )
        assert result.eval_decision == decision.effect
        assert result.matched_statements == decision.matched_statements
        assert result.missing_context_values == decision.missing_context_values
        assert result.permissions_boundary_allowed == decision.boundary_allowed
