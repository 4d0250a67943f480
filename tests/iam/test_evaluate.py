"""evaluate(): the evaluation order, principal types, context filling, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from objstore.errors import InvalidInput, MalformedPolicyDocument
from objstore.iam.evaluate import evaluate
from objstore.iam.policy import Policy
from objstore.iam.principal import Principal

A = "111122223333"
B = "444455556666"
ROOT = f"arn:aws:iam::{A}:root"
ROOT_B = f"arn:aws:iam::{B}:root"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/bob"
DAVE_B = f"arn:aws:iam::{B}:user/dave"
ROLE = f"arn:aws:iam::{A}:role/Reader"
SESSION = f"arn:aws:sts::{A}:assumed-role/Reader/s1"
FED = f"arn:aws:sts::{A}:federated-user/carol"
OBJ = "arn:aws:s3:::bucket/key"
GET = "s3:GetObject"


def stmt(
    effect: str = "Allow", action: Any = "s3:*", resource: Any = "*", **kw: Any
) -> dict[str, Any]:
    out = {"Effect": effect, "Action": action, "Resource": resource}
    out.update(kw)
    return out


def pol(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def rp(*statements: dict[str, Any]) -> Policy:
    return Policy.from_json(pol(*statements), kind="resource")


ALLOW_S3 = pol(stmt())
DENY_S3 = pol(stmt("Deny"))
ALLOW_IAM = pol(stmt(action="iam:*"))


def effect(
    principal: str | Principal = ALICE, action: str = GET, resource: str = OBJ, **kw: Any
) -> str:
    return evaluate(principal, action, resource, **kw).effect


# --- the basic order -------------------------------------------------------------------


def test_implicit_deny_without_policies() -> None:
    """Nothing allows: implicit deny, no matched statements."""
    decision = evaluate(ALICE, GET, OBJ)
    assert (decision.allowed, decision.effect) == (False, "implicitDeny")
    assert decision.matched_statements == () and decision.boundary_allowed


def test_identity_allow() -> None:
    """An identity Allow allows and is reported."""
    decision = evaluate(ALICE, GET, OBJ, identity_policies=[ALLOW_S3])
    assert decision.allowed and decision.effect == "allowed"
    (matched,) = decision.matched_statements
    assert (matched.source_policy_id, matched.source_policy_type) == (
        "PolicyInputList.1",
        "identity",
    )
    assert matched.effect == "Allow" and matched.start.line == 1


@pytest.mark.parametrize("where", ["identity", "resource", "boundary", "session"])
def test_deny_anywhere_wins(where: str) -> None:
    """A matching Deny in any policy type is an explicit deny, reported alone."""
    kw: dict[str, Any] = {
        "identity_policies": [ALLOW_S3],
        "resource_policy": rp(stmt(Principal="*")),
        "boundary": ALLOW_S3,
        "session_policy": ALLOW_S3,
    }
    caller = SESSION
    if where == "identity":
        kw["identity_policies"] = [ALLOW_S3, DENY_S3]
    elif where == "resource":
        kw["resource_policy"] = rp(stmt(Principal="*"), stmt("Deny", Principal="*"))
    else:
        kw[{"boundary": "boundary", "session": "session_policy"}[where]] = pol(stmt(), stmt("Deny"))
    decision = evaluate(caller, GET, OBJ, **kw)
    assert decision.effect == "explicitDeny"
    assert [m.effect for m in decision.matched_statements] == ["Deny"]


def test_false_condition_means_statement_does_not_apply() -> None:
    """A Deny whose condition is false neither denies nor allows."""
    deny_plain_http = pol(stmt("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    kw = {"identity_policies": [ALLOW_S3, deny_plain_http]}
    assert effect(context={"aws:SecureTransport": True}, **kw) == "allowed"
    assert effect(context={"aws:SecureTransport": False}, **kw) == "explicitDeny"


# --- same account: identity or resource policy, by principal form ----------------------


def test_resource_policy_naming_user_allows_alone() -> None:
    """A bucket policy naming the user allows without any identity policy."""
    assert effect(resource_policy=rp(stmt(Principal={"AWS": ALICE}))) == "allowed"
    assert effect(BOB, resource_policy=rp(stmt(Principal={"AWS": ALICE}))) == "implicitDeny"


def test_resource_policy_naming_account_delegates() -> None:
    """Naming the account in the same account adds nothing: identity must allow."""
    policy = rp(stmt(Principal={"AWS": A}))
    assert effect(resource_policy=policy) == "implicitDeny"
    assert effect(resource_policy=policy, identity_policies=[ALLOW_S3]) == "allowed"


def test_boundary_intersects_identity() -> None:
    """Identity allows limited by the boundary; boundary_allowed tells which way."""
    allowed = evaluate(ALICE, GET, OBJ, identity_policies=[ALLOW_S3], boundary=ALLOW_S3)
    assert allowed.allowed and allowed.boundary_allowed
    assert [m.source_policy_type for m in allowed.matched_statements] == ["identity", "boundary"]
    limited = evaluate(ALICE, GET, OBJ, identity_policies=[ALLOW_S3], boundary=ALLOW_IAM)
    assert limited.effect == "implicitDeny" and not limited.boundary_allowed
    # A boundary alone grants nothing.
    assert effect(boundary=ALLOW_S3) == "implicitDeny"


def test_boundary_does_not_limit_resource_policy_naming_user() -> None:
    """A resource policy naming the user is not limited by the user's boundary."""
    decision = evaluate(
        ALICE, GET, OBJ, boundary=ALLOW_IAM, resource_policy=rp(stmt(Principal={"AWS": ALICE}))
    )
    assert decision.allowed and not decision.boundary_allowed


def test_boundary_limits_resource_policy_naming_role() -> None:
    """Naming the role (for a session) still needs the boundary."""
    policy = rp(stmt(Principal={"AWS": ROLE}))
    assert effect(SESSION, resource_policy=policy) == "allowed"
    assert effect(SESSION, resource_policy=policy, boundary=ALLOW_IAM) == "implicitDeny"
    assert effect(SESSION, resource_policy=policy, boundary=ALLOW_S3) == "allowed"


def test_session_policy_intersects() -> None:
    """Session policies limit identity allows and role grants, not session grants."""
    assert effect(SESSION, identity_policies=[ALLOW_S3], session_policy=ALLOW_S3) == "allowed"
    assert effect(SESSION, identity_policies=[ALLOW_S3], session_policy=ALLOW_IAM) == (
        "implicitDeny"
    )
    by_role = rp(stmt(Principal={"AWS": ROLE}))
    assert effect(SESSION, resource_policy=by_role, session_policy=ALLOW_IAM) == "implicitDeny"
    by_session = rp(stmt(Principal={"AWS": SESSION}))
    assert effect(SESSION, resource_policy=by_session, session_policy=ALLOW_IAM) == "allowed"


def test_federated_user_needs_session_policy() -> None:
    """A federated-user session has nothing without its session policy."""
    assert effect(FED, identity_policies=[ALLOW_S3]) == "implicitDeny"
    assert effect(FED, identity_policies=[ALLOW_S3], session_policy=ALLOW_S3) == "allowed"
    assert effect(FED, resource_policy=rp(stmt(Principal={"AWS": FED}))) == "allowed"


# --- cross account ----------------------------------------------------------------------


def test_cross_account_needs_both_sides() -> None:
    """Across accounts both the identity and the resource policy must allow."""
    to_dave = rp(stmt(Principal={"AWS": DAVE_B}))
    assert effect(DAVE_B, identity_policies=[ALLOW_S3], resource_account=A) == "implicitDeny"
    assert effect(DAVE_B, resource_policy=to_dave, resource_account=A) == "implicitDeny"
    assert (
        effect(DAVE_B, identity_policies=[ALLOW_S3], resource_policy=to_dave, resource_account=A)
        == "allowed"
    )


def test_cross_account_account_principal_suffices() -> None:
    """Naming the other account is enough on the resource side."""
    to_b = rp(stmt(Principal={"AWS": B}))
    assert (
        effect(DAVE_B, identity_policies=[ALLOW_S3], resource_policy=to_b, resource_account=A)
        == "allowed"
    )
    assert effect(ROOT_B, resource_policy=to_b, resource_account=A) == "allowed"
    assert effect(ROOT_B, resource_account=A) == "implicitDeny"


def test_resource_account_defaults_to_callers() -> None:
    """Without resource_account, the resource is in the caller's account."""
    assert effect(DAVE_B, identity_policies=[ALLOW_S3]) == "allowed"


# --- root, anonymous, services -------------------------------------------------------


def test_root_is_allowed_in_its_account() -> None:
    """Root needs no policy for its own account's resources."""
    assert effect(ROOT) == "allowed"
    assert effect(A, action="iam:CreateUser", resource="*") == "allowed"


def test_root_explicit_deny_and_lockout_guard() -> None:
    """A bucket policy can deny root, except managing the bucket policy itself."""
    deny_all = rp(stmt("Deny", action="s3:*", Principal="*"))
    assert effect(ROOT, resource_policy=deny_all) == "explicitDeny"
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy"):
        assert (
            effect(ROOT, action=action, resource="arn:aws:s3:::bucket", resource_policy=deny_all)
            == "allowed"
        )
    # The guard is root's alone.
    assert (
        effect(
            ALICE,
            action="s3:PutBucketPolicy",
            identity_policies=[ALLOW_S3],
            resource_policy=deny_all,
        )
        == "explicitDeny"
    )


def test_anonymous_only_through_everyone() -> None:
    """Anonymous callers are allowed only by a resource policy for everyone."""
    public = rp(stmt(Principal="*", action=GET))
    assert effect("anonymous", resource_policy=public) == "allowed"
    assert effect("anonymous", resource_policy=public, resource_account=A) == "allowed"
    assert effect("anonymous", identity_policies=[ALLOW_S3]) == "implicitDeny"
    assert effect("anonymous", resource_policy=rp(stmt(Principal={"AWS": A}))) == "implicitDeny"


def test_service_principal() -> None:
    """A service is allowed by a resource policy naming it."""
    policy = rp(stmt(Principal={"Service": "logging.s3.amazonaws.com"}, action="s3:PutObject"))
    assert (
        effect(
            "logging.s3.amazonaws.com",
            action="s3:PutObject",
            resource_policy=policy,
            resource_account=A,
        )
        == "allowed"
    )
    assert effect("ec2.amazonaws.com", action="s3:PutObject", resource_policy=policy) == (
        "implicitDeny"
    )


def test_trust_policy_as_resource_policy() -> None:
    """A role's trust policy decides sts:AssumeRole like a resource policy."""
    trust = Policy.from_json(
        pol({"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"}),
        kind="trust",
    )
    assert effect(ALICE, action="sts:AssumeRole", resource=ROLE, resource_policy=trust) == (
        "allowed"
    )
    assert effect(BOB, action="sts:AssumeRole", resource=ROLE, resource_policy=trust) == (
        "implicitDeny"
    )


def test_not_principal_deny() -> None:
    """NotPrincipal denies everyone not exempt; with a boundary, users are never exempt."""
    policy = rp(stmt("Deny", NotPrincipal={"AWS": [ALICE, ROOT]}))
    assert effect(ALICE, identity_policies=[ALLOW_S3], resource_policy=policy) == "allowed"
    assert effect(BOB, identity_policies=[ALLOW_S3], resource_policy=policy) == "explicitDeny"
    assert (
        effect(ALICE, identity_policies=[ALLOW_S3], resource_policy=policy, boundary=ALLOW_S3)
        == "explicitDeny"
    )


# --- context ----------------------------------------------------------------------------


def test_principal_keys_fill_variables_and_conditions() -> None:
    """aws:username and tags come from the principal."""
    home = pol(stmt(resource="arn:aws:s3:::bucket/${aws:username}/*"))
    assert effect(ALICE, resource="arn:aws:s3:::bucket/alice/x", identity_policies=[home]) == (
        "allowed"
    )
    assert effect(ALICE, resource="arn:aws:s3:::bucket/bob/x", identity_policies=[home]) == (
        "implicitDeny"
    )
    tagged = pol(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    blue = Principal.from_arn(ALICE, tags={"team": "blue"})
    assert effect(blue, identity_policies=[tagged]) == "allowed"
    assert effect(ALICE, identity_policies=[tagged]) == "implicitDeny"


def test_caller_context_wins_over_derived_values() -> None:
    """A value the caller supplies replaces the derived one."""
    home = pol(stmt(resource="arn:aws:s3:::bucket/${aws:username}/*"))
    assert (
        effect(
            ALICE,
            resource="arn:aws:s3:::bucket/bob/x",
            identity_policies=[home],
            context={"AWS:UserName": "bob"},
        )
        == "allowed"
    )


def test_clock_is_injectable() -> None:
    """aws:CurrentTime and aws:EpochTime come from `now` unless supplied."""
    before_2030 = pol(stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))
    epoch = pol(stmt(Condition={"NumericLessThan": {"aws:EpochTime": 1893456000}}))
    early = datetime(2024, 5, 1, tzinfo=UTC)
    late = datetime(2031, 5, 1, tzinfo=UTC)
    for policy in (before_2030, epoch):
        assert effect(identity_policies=[policy], now=early) == "allowed"
        assert effect(identity_policies=[policy], now=late) == "implicitDeny"
    assert (
        effect(
            identity_policies=[before_2030],
            now=early,
            context={"aws:CurrentTime": "2032-01-01T00:00:00Z"},
        )
        == "implicitDeny"
    )
    naive = datetime(2024, 5, 1)
    assert effect(identity_policies=[before_2030], now=naive) == "allowed"


def test_missing_context_values_reported() -> None:
    """Keys used by applicable statements but absent are listed, sorted."""
    policy = pol(
        stmt(Condition={"StringEquals": {"s3:prefix": "home/", "aws:RequestTag/b": "x"}}),
        stmt(action="iam:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    )
    decision = evaluate(ALICE, "s3:ListBucket", "arn:aws:s3:::bucket", identity_policies=[policy])
    assert decision.missing_context_values == ("aws:RequestTag/b", "s3:prefix")
    supplied = evaluate(
        ALICE,
        "s3:ListBucket",
        "arn:aws:s3:::bucket",
        identity_policies=[policy],
        context={"s3:prefix": "home/", "aws:RequestTag/b": "x"},
    )
    assert supplied.allowed and supplied.missing_context_values == ()


def test_missing_variable_reported() -> None:
    """A resource variable without value is reported missing (root has no username)."""
    home = pol(stmt(resource="arn:aws:s3:::bucket/${aws:username}/*"))
    decision = evaluate(ROLE, GET, "arn:aws:s3:::bucket/x/y", identity_policies=[home])
    assert decision.effect == "implicitDeny"
    assert decision.missing_context_values == ("aws:username",)


# --- inputs ---------------------------------------------------------------------------


def test_text_and_objects_decide_alike_and_named_policies() -> None:
    """JSON text and Policy objects are the same input; names label results."""
    named = Policy.from_json(ALLOW_S3, name="S3")
    text = evaluate(ALICE, GET, OBJ, identity_policies=[ALLOW_S3])
    obj = evaluate(ALICE, GET, OBJ, identity_policies=[named])
    assert text.effect == obj.effect == "allowed"
    assert obj.matched_statements[0].source_policy_id == "S3"


def test_bad_inputs() -> None:
    """Bad arguments raise InvalidInput or MalformedPolicyDocument, nothing raw."""
    with pytest.raises(InvalidInput):
        evaluate("alice", GET, OBJ)
    with pytest.raises(InvalidInput):
        evaluate(ALICE, 5, OBJ)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, identity_policies=[5])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, identity_policies=ALLOW_S3)
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, resource_policy=Policy.from_json(ALLOW_S3))
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, identity_policies=[rp(stmt(Principal="*"))])
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, context=["x"])  # type: ignore[arg-type]
    with pytest.raises(MalformedPolicyDocument):
        evaluate(ALICE, GET, OBJ, identity_policies=['{"Statement": 1}'])
    with pytest.raises(MalformedPolicyDocument):
        # Identity text given as the resource policy lacks a Principal.
        evaluate(ALICE, GET, OBJ, resource_policy=ALLOW_S3)


# --- internals worth pinning down ---------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"aws:SourceIp": "10.0.0.1", "S3:Prefix": ["a/", None, "b/"], "n": 5},
        {"aws:TagKeys": ("x", "y"), "t": True, "absent": None, "s": frozenset({"a"})},
        {"when": datetime(2024, 1, 1, tzinfo=UTC), "blob": b"\x00", "f": 1.5},
    ],
)
def test_context_entries_match_request_context(context: dict[str, object]) -> None:
    """The fast context conversion gives exactly what RequestContext.from_mapping gives."""
    import sys
    from types import MappingProxyType

    from objstore.iam.context import RequestContext

    module = sys.modules["objstore.iam.evaluate"]
    fast = RequestContext(MappingProxyType(dict(module.context_entries(context))))
    assert fast == RequestContext.from_mapping(context)


@pytest.mark.parametrize(
    "context",
    [{"a": 1, "A": 2}, {"": 1}, {5: 1}, {"k": {"nested": 1}}],
)
def test_context_errors_match_request_context(context: dict[object, object]) -> None:
    """Invalid contexts are rejected like RequestContext.from_mapping rejects them."""
    from objstore.iam.context import RequestContext

    with pytest.raises(InvalidInput):
        RequestContext.from_mapping(context)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        evaluate(ALICE, GET, OBJ, context=context)  # type: ignore[arg-type]


def test_same_outcome_shares_one_decision() -> None:
    """Identical outcomes share an immutable Decision; different ones do not."""
    policy = Policy.from_json(pol(stmt(Condition={"StringEquals": {"s3:prefix": "a"}})))
    first = evaluate(ALICE, GET, OBJ, identity_policies=[policy], context={"s3:prefix": "a"})
    again = evaluate(BOB, GET, OBJ, identity_policies=[policy], context={"s3:prefix": "a"})
    assert first is again and first.allowed
    other = evaluate(ALICE, GET, OBJ, identity_policies=[policy])
    assert other is not first and other.missing_context_values == ("s3:prefix",)
    assert not other.allowed
