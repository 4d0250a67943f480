"""Compiled policy sets (objstore.iam.compiled): bound decisions equal unbound ones."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objstore.iam import BoundPolicySet, Decision, Policy, PolicySet, Principal, evaluate
from objstore.iam.decision import conclude, context_entries, unbound_plan
from objstore.iam.principal import as_principal

from .cases.model import ALICE, SESSION
from .strategies import IAM_PRINCIPALS, TEAMS, Request, dump, requests

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

A = "111122223333"


def _unbound(
    principal: Principal,
    action: str,
    resource: str,
    context: dict[str, object],
    policy_set: PolicySet,
    resource_policy: Policy | None,
    resource_account: str | None,
) -> Decision:
    """The reference: the same core over the statements as parsed, nothing bound."""
    return conclude(
        principal,
        action.lower(),
        resource,
        unbound_plan(
            action.lower(), policy_set.identity, policy_set.boundaries, policy_set.sessions
        ),
        uses_time=policy_set.uses_time,
        context=context_entries(context),
        resource_policy=resource_policy,
        has_boundary=bool(policy_set.boundaries),
        has_session=bool(policy_set.sessions),
        resource_account=resource_account,
        now=None,
        fill_principal=True,
    )


def _parsed(request: Request) -> tuple[PolicySet, Policy | None]:
    policy_set = PolicySet.compile(
        [Policy.from_json(dump(p)) for p in request.identity],
        boundaries=() if request.boundary is None else (Policy.from_json(dump(request.boundary)),),
        sessions=() if request.session is None else (Policy.from_json(dump(request.session)),),
    )
    resource_policy = (
        None
        if request.resource_policy is None
        else Policy.from_json(dump(request.resource_policy), kind="resource")
    )
    return policy_set, resource_policy


@settings(FAST)
@given(requests(principals=IAM_PRINCIPALS), st.sampled_from([*TEAMS, None]))
def test_bound_decision_equals_unbound(request: Request, team: str | None) -> None:
    """For any policies, caller (tagged or not) and request: the same Decision."""
    tags = {} if team is None else {"team": team}
    principal = Principal.from_arn(request.principal, user_id="AIDAEXAMPLE", tags=tags)
    policy_set, resource_policy = _parsed(request)
    bound = policy_set.bind(principal)
    got = bound.decide(
        request.action,
        request.resource,
        context=request.context,
        resource_policy=resource_policy,
        resource_account=request.resource_account,
    )
    want = _unbound(
        principal,
        request.action,
        request.resource,
        request.context,
        policy_set,
        resource_policy,
        request.resource_account,
    )
    assert got == want


def _doc(*statements: dict[str, Any]) -> Policy:
    return Policy.from_json(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


HOME = _doc(
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::home/${aws:username}/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "eng"}},
    },
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::home",
        "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}},
    },
)


def test_binding_substitutes_once_and_indexes_by_action() -> None:
    """Caller variables and caller-only conditions are decided at bind time."""
    alice = Principal.from_arn(f"arn:aws:iam::{A}:user/alice", tags={"team": "eng"})
    bound = PolicySet.compile([HOME]).bind(alice)
    assert isinstance(bound, BoundPolicySet)
    assert bound.bound_keys == {"aws:username", "aws:principaltag/team"}
    (get,) = bound.plan("s3:getobject")
    _match, test, dynamic, condition, _missing, holds, deny, _group = get
    assert test is not None and dynamic is None and condition is None and holds and not deny
    assert test("arn:aws:s3:::home/alice/x") and not test("arn:aws:s3:::home/bob/x")
    assert bound.plan("iam:getuser") == ()
    assert bound.decide("s3:GetObject", "arn:aws:s3:::home/alice/x").allowed
    assert bound.decide(
        "s3:ListBucket", "arn:aws:s3:::home", context={"s3:prefix": "alice/a"}
    ).allowed
    assert not bound.decide(
        "s3:ListBucket", "arn:aws:s3:::home", context={"s3:prefix": "bob/a"}
    ).allowed


def test_failed_caller_condition_drops_the_statement() -> None:
    """A caller whose tag does not match never even looks at the statement."""
    bob = Principal.from_arn(f"arn:aws:iam::{A}:user/bob", tags={"team": "ops"})
    bound = PolicySet.compile([HOME]).bind(bob)
    assert bound.plan("s3:getobject") == ()
    assert not bound.decide("s3:GetObject", "arn:aws:s3:::home/bob/x").allowed


def test_missing_caller_key_still_reported() -> None:
    """A role has no aws:username: the bound set reports it missing, as unbound does."""
    role = as_principal(SESSION)
    policy_set = PolicySet.compile([HOME])
    got = policy_set.bind(role).decide("s3:ListBucket", "arn:aws:s3:::home")
    want = _unbound(role, "s3:ListBucket", "arn:aws:s3:::home", {}, policy_set, None, None)
    assert got == want and "aws:username" in got.missing_context_values


def test_caller_supplied_key_wins_over_binding() -> None:
    """A context value for a bound key decides the request unbound (the caller's wins)."""
    alice = Principal.from_arn(f"arn:aws:iam::{A}:user/alice", tags={"team": "eng"})
    bound = PolicySet.compile([HOME]).bind(alice)
    resource = "arn:aws:s3:::home/mallory/x"
    assert not bound.decide("s3:GetObject", resource).allowed
    assert bound.decide("s3:GetObject", resource, context={"aws:username": "mallory"}).allowed
    assert not bound.decide(
        "s3:GetObject", "arn:aws:s3:::home/alice/x", context={"aws:PrincipalTag/team": "ops"}
    ).allowed


def test_evaluate_reuses_the_bound_set_on_the_principal() -> None:
    """evaluate() with the same principal and policies binds once."""
    alice = Principal.from_arn(ALICE, tags={"team": "eng"})
    evaluate(alice, "s3:GetObject", "arn:aws:s3:::home/alice/x", identity_policies=[HOME])
    sets = alice._memo["bound_sets"]
    assert isinstance(sets, dict) and len(sets) == 1
    (first,) = sets.values()
    evaluate(alice, "s3:PutObject", "arn:aws:s3:::home/alice/y", identity_policies=[HOME])
    assert list(sets.values()) == [first]
