"""Regression tests for the policy-engine defects of issue 7, one block per defect.

Each decision here is the one AWS documents; before the fix the engine decided otherwise.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from objstore.errors import MalformedPolicyDocument
from objstore.iam import Policy, evaluate
from objstore.iam.principal import Grant, PrincipalElement, as_principal

A = "111122223333"
ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/Reader"
SESSION = f"arn:aws:sts::{A}:assumed-role/Reader/s1"
FED = f"arn:aws:sts::{A}:federated-user/carol"
GET = "s3:GetObject"
OBJ = "arn:aws:s3:::photos/cat.jpg"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(resource: Any, action: Any = "s3:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def decide(principal: str, resource: str, action: str = GET, **kwargs: Any) -> str:
    return evaluate(principal, action, resource, **kwargs).effect


# --- 1. a wildcard stays inside its ARN segment ----------------------------------------


def test_wildcard_in_region_does_not_cross_into_resource() -> None:
    """``arn:aws:s3:*:*:photos/*`` must not match an object whose key holds a colon."""
    policy = doc(allow("arn:aws:s3:*:*:photos/*"))
    assert decide(ALICE, "arn:aws:s3:::logs/x:photos/y.txt", identity_policies=[policy]) == (
        "implicitDeny"
    )
    # The pattern still matches what it names: any region and account, bucket photos.
    assert decide(ALICE, "arn:aws:s3:::photos/y.txt", identity_policies=[policy]) == "allowed"
    assert decide(ALICE, "arn:aws:s3:us-east-1:123:photos/a", identity_policies=[policy]) == (
        "allowed"
    )


def test_question_mark_does_not_match_a_segment_colon() -> None:
    """``?`` in the account segment is one character of that segment, never a ``:``."""
    policy = doc(allow("arn:aws:sqs:us-east-1:?:q", action="*"))
    assert decide(ALICE, "arn:aws:sqs:us-east-1:::q", "sqs:SendMessage",
                  identity_policies=[policy]) == "implicitDeny"  # fmt: skip
    assert decide(ALICE, "arn:aws:sqs:us-east-1:1:q", "sqs:SendMessage",
                  identity_policies=[policy]) == "allowed"  # fmt: skip


def test_wildcard_in_resource_part_matches_colons() -> None:
    """After the fifth colon a ``*`` matches anything, colons and slashes included."""
    policy = doc(allow("arn:aws:s3:::logs/*"))
    assert decide(ALICE, "arn:aws:s3:::logs/a:b/c:d", identity_policies=[policy]) == "allowed"


def test_deny_with_segment_wildcard_does_not_spill_over() -> None:
    """The same rule for Deny and NotResource: a deny for photos/* leaves logs alone."""
    policies = [doc(allow("*"), {"Effect": "Deny", "Action": "s3:*", "Resource":
                                 "arn:aws:s3:*:*:photos/*"})]  # fmt: skip
    assert decide(ALICE, "arn:aws:s3:::logs/x:photos/y", identity_policies=policies) == "allowed"
    not_photos = doc(
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:*:*:photos/*"}
    )
    assert decide(ALICE, "arn:aws:s3:::logs/x:photos/y", identity_policies=[not_photos]) == (
        "allowed"
    )


def test_arn_like_condition_also_segment_wise() -> None:
    """ArnLike keeps matching part by part (the same rule, one implementation)."""
    policy = doc(allow("*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:photos/*"}}))
    context = {"aws:SourceArn": "arn:aws:s3:::logs/x:photos/y"}
    assert decide(ALICE, OBJ, identity_policies=[policy], context=context) == "implicitDeny"


# --- 2. no variables before the fifth colon, no wildcard service -----------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:iam::${aws:PrincipalAccount}:user/*",
        "arn:aws:${aws:username}:::photos/*",
        "arn:${aws:username}:s3:::photos/*",
        "arn:aws:s3:${aws:username}::photos/*",
    ],
)
def test_variable_before_fifth_colon_grants_nothing(pattern: str) -> None:
    """AWS substitutes variables only in the resource part: such an entry matches nothing."""
    principal = as_principal(ALICE)
    resource = "arn:aws:iam::111122223333:user/alice" if ":iam:" in pattern else OBJ
    # The resource each pattern would name if the variable were substituted.
    substituted = {
        "arn:aws:${aws:username}:::photos/*": "arn:aws:alice:::photos/cat.jpg",
        "arn:${aws:username}:s3:::photos/*": "arn:alice:s3:::photos/cat.jpg",
        "arn:aws:s3:${aws:username}::photos/*": "arn:aws:s3:alice::photos/cat.jpg",
    }.get(pattern, resource)
    policy = doc(allow(pattern, action="*"))
    decision = evaluate(principal, "iam:GetUser", substituted, identity_policies=[policy])
    assert decision.effect == "implicitDeny"
    assert decision.missing_context_values == ()
    # As a Deny it denies nothing either; as NotResource it leaves everything listed.
    deny = doc(allow("*", action="*"), {"Effect": "Deny", "Action": "*", "Resource": pattern})
    assert evaluate(principal, "iam:GetUser", substituted, identity_policies=[deny]).allowed


def test_variable_in_resource_part_still_substituted() -> None:
    """The resource part keeps its variables (the IAMUserChangePassword shape)."""
    policy = doc(allow("arn:aws:iam::*:user/${aws:username}", action="iam:ChangePassword"))
    assert decide(ALICE, f"arn:aws:iam::{A}:user/alice", "iam:ChangePassword",
                  identity_policies=[policy]) == "allowed"  # fmt: skip


@pytest.mark.parametrize(
    "pattern", ["arn:aws:*:::photos/*", "arn:aws:s3*:::photos/*", "arn:aws:s?:::photos/*"]
)
@pytest.mark.parametrize("kind", ["identity", "resource", "boundary", "session"])
def test_wildcard_service_segment_is_malformed(pattern: str, kind: str) -> None:
    """IAM refuses a wildcard in the service segment ("vendor must be fully qualified")."""
    statement = allow(pattern)
    if kind == "resource":
        statement["Principal"] = "*"
    with pytest.raises(MalformedPolicyDocument, match="service segment") as caught:
        Policy.from_json(doc(statement), kind=kind)  # type: ignore[arg-type]
    assert "Statement[0].Resource" in str(caught.value)


def test_wildcards_elsewhere_in_the_arn_stay_valid() -> None:
    """Partition, region and account may hold wildcards; only the service may not."""
    Policy.from_json(doc(allow(["arn:*:s3:::b/*", "arn:aws:sqs:*:*:q", "arn:aws:sqs:us-?:1*:q"])))


# --- 3. a same-account grant to everyone is not limited by boundary or session policy ---

ALLOW_IAM_ONLY = doc(allow("*", action="iam:*"))


def _everyone(**extra: Any) -> Policy:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJ}
    statement.update(extra)
    return Policy.from_json(doc(statement), kind="resource")


@pytest.mark.parametrize("principal", [ALICE, SESSION, FED])
def test_everyone_grant_not_limited_by_boundary(principal: str) -> None:
    """AWS: boundaries do not limit a grant to ``"*"`` (with or without aws:PrincipalArn)."""
    for policy in (
        _everyone(),
        _everyone(Condition={"ArnEquals": {"aws:PrincipalArn": [ROLE, ALICE, FED]}}),
    ):
        decision = evaluate(principal, GET, OBJ, resource_policy=policy, boundary=ALLOW_IAM_ONLY)
        assert decision.effect == "allowed"
        assert not decision.boundary_allowed


@pytest.mark.parametrize("principal", [SESSION, FED])
def test_everyone_grant_not_limited_by_session_policy(principal: str) -> None:
    """AWS: session policies do not limit a grant to ``"*"`` either."""
    for policy in (
        _everyone(),
        _everyone(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:*::*:*"}}),
    ):
        assert decide(principal, OBJ, resource_policy=policy, session_policy=ALLOW_IAM_ONLY) == (
            "allowed"
        )


def test_role_grant_still_limited_and_deny_still_wins() -> None:
    """Naming the role stays limited; an explicit deny anywhere still beats a '*' grant."""
    by_role = Policy.from_json(
        doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": GET, "Resource": OBJ}),
        kind="resource",
    )
    assert decide(SESSION, OBJ, resource_policy=by_role, boundary=ALLOW_IAM_ONLY) == (
        "implicitDeny"
    )
    deny = doc(allow("*", action="*"), {"Effect": "Deny", "Action": GET, "Resource": OBJ})
    assert decide(SESSION, OBJ, resource_policy=_everyone(), boundary=deny) == "explicitDeny"
    assert decide(SESSION, OBJ, resource_policy=_everyone(), identity_policies=[deny]) == (
        "explicitDeny"
    )


def test_everyone_grant_with_unmet_condition_grants_nothing() -> None:
    """A '*' grant whose aws:PrincipalArn condition names someone else does not apply."""
    policy = _everyone(Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/bob"}})
    assert decide(ALICE, OBJ, resource_policy=policy) == "implicitDeny"


# --- 4. several principals are alternatives --------------------------------------------


def test_account_and_everyone_is_everyone() -> None:
    """``{"AWS": [account, "*"]}`` keeps the '*': for a bounded user it still grants."""
    for listed in ([A, "*"], ["*", A], [f"arn:aws:iam::{A}:root", "*"]):
        policy = Policy.from_json(
            doc({"Effect": "Allow", "Principal": {"AWS": listed}, "Action": GET, "Resource": OBJ}),
            kind="resource",
        )
        assert decide(ALICE, OBJ, resource_policy=policy, boundary=ALLOW_IAM_ONLY) == "allowed"
        assert decide(SESSION, OBJ, resource_policy=policy, session_policy=ALLOW_IAM_ONLY) == (
            "allowed"
        )


@pytest.mark.parametrize(
    ("listed", "caller", "grant"),
    [
        ({"AWS": [A, "*"]}, ALICE, Grant.EVERYONE),
        ({"AWS": [ROLE, "*"]}, SESSION, Grant.EVERYONE),
        ({"AWS": [A, ROLE]}, SESSION, Grant.ROLE),
        ({"AWS": [A, ALICE, "*"]}, ALICE, Grant.DIRECT),
        ({"AWS": A, "Service": "ec2.amazonaws.com"}, ALICE, Grant.ACCOUNT),
        ({"AWS": "*", "Service": "ec2.amazonaws.com"}, "ec2.amazonaws.com", Grant.DIRECT),
        ({"AWS": [A, "*"]}, "anonymous", Grant.EVERYONE),
    ],
)
def test_grant_is_the_strongest_listed(listed: dict[str, Any], caller: str, grant: Grant) -> None:
    """The element's grant is the strongest of its values' grants."""
    assert PrincipalElement.compile(listed).grant(as_principal(caller)) is grant
