"""Property tests of evaluation: it never raises on valid input, explicit deny
overrides, allows are monotone, and the simulator agrees with evaluate."""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import replace
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objstore.iam import Policy, evaluate, simulate

from .cases.model import ANONYMOUS, EC2, FEDERATED, SESSION
from .strategies import (
    IAM_PRINCIPALS,
    SIMULATE_CALLERS,
    Request,
    dump,
    policies,
    requests,
    statements,
)

EFFECTS = {"allowed", "explicitDeny", "implicitDeny"}
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decide(request: Request) -> Any:
    return evaluate(
        request.principal, request.action, request.resource, **request.evaluate_kwargs()
    )


def _with_policy_added(request: Request, where: str, statement: dict[str, Any]) -> Request:
    """The request with one more statement in the named policy."""
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    if where == "identity":
        return replace(request, identity=(*request.identity, doc))
    if where == "resource":
        base = request.resource_policy
        body = [] if base is None else base["Statement"]
        body = body if isinstance(body, list) else [body]
        return replace(request, resource_policy={**(base or doc), "Statement": [*body, statement]})
    current = getattr(request, where)
    body = (
        current["Statement"] if isinstance(current["Statement"], list) else [current["Statement"]]
    )
    return replace(request, **{where: {**current, "Statement": [*body, statement]}})


@FAST
@given(requests())
def test_evaluate_never_raises(request: Request) -> None:
    """Any valid policies and request give a decision of one of the three kinds."""
    decision = _decide(request)
    assert decision.effect in EFFECTS
    assert decision.allowed is (decision.effect == "allowed")
    assert isinstance(decision.boundary_allowed, bool)
    assert all(isinstance(key, str) for key in decision.missing_context_values)
    # Compiled matchers keep no state between decisions: the same input decides alike.
    again = _decide(request)
    assert (again.effect, again.missing_context_values) == (
        decision.effect,
        decision.missing_context_values,
    )


@st.composite
def _deny_additions(draw: st.DrawFn) -> tuple[Request, str, dict[str, Any]]:
    request = draw(requests())
    where = draw(st.sampled_from(["identity", "resource"]))
    kind = "resource" if where == "resource" else "identity"
    return request, where, draw(statements(kind=kind, effect="Deny"))


@FAST
@given(_deny_additions())
def test_adding_a_deny_never_allows(args: tuple[Request, str, dict[str, Any]]) -> None:
    """Adding a Deny statement never turns a denial into an allow, nor an explicit deny away."""
    request, where, statement = args
    before = _decide(request).effect
    after = _decide(_with_policy_added(request, where, statement)).effect
    if before != "allowed":
        assert after != "allowed"
    if before == "explicitDeny":
        assert after == "explicitDeny"


@st.composite
def _matching_denies(draw: st.DrawFn) -> tuple[Request, str, dict[str, Any]]:
    request = draw(requests(principals=[*IAM_PRINCIPALS, ANONYMOUS, EC2]))
    # Where a Deny applies to this principal: identity policies only bind IAM principals,
    # session policies only sessions; a bucket policy with Principal "*" binds everyone.
    places = ["resource"]
    if request.principal in IAM_PRINCIPALS:
        places += ["identity", "boundary"]
    if request.principal in (SESSION, FEDERATED):
        places.append("session")
    where = draw(st.sampled_from(places))
    statement: dict[str, Any] = {
        "Effect": "Deny",
        "Action": draw(st.sampled_from([request.action, request.action.upper(), "*"])),
        "Resource": draw(st.sampled_from([request.resource, "*"])),
    }
    if where == "resource":
        statement = {"Effect": "Deny", "Principal": "*", **statement}
    if where in ("boundary", "session") and getattr(request, where) is None:
        request = replace(request, **{where: {"Version": "2012-10-17", "Statement": []}})
    return request, where, statement


@FAST
@given(_matching_denies())
def test_matching_unconditional_deny_always_denies(
    args: tuple[Request, str, dict[str, Any]],
) -> None:
    """An unconditional Deny naming the request's action and resource is an explicit deny."""
    request, where, statement = args
    decision = _decide(_with_policy_added(request, where, statement))
    assert decision.effect == "explicitDeny"
    assert decision.matched_statements


@st.composite
def _allow_additions(draw: st.DrawFn) -> tuple[Request, str, dict[str, Any]]:
    request = draw(requests())
    places = ["identity", "resource"] + [
        p for p in ("boundary", "session") if getattr(request, p) is not None
    ]
    where = draw(st.sampled_from(places))
    kind = "resource" if where == "resource" else "identity"
    return request, where, draw(statements(kind=kind, effect="Allow"))


@FAST
@given(_allow_additions())
def test_adding_an_allow_never_denies(args: tuple[Request, str, dict[str, Any]]) -> None:
    """Adding an Allow statement to any policy never turns an allow into a denial."""
    request, where, statement = args
    before = _decide(request).effect
    after = _decide(_with_policy_added(request, where, statement)).effect
    if before == "allowed":
        assert after == "allowed"


def _entry(key: str, value: object) -> dict[str, object]:
    """A context value in the simulator's AWS shape (typed strings)."""

    def typed(item: object) -> tuple[str, str]:
        if isinstance(item, bool):
            return "boolean", "true" if item else "false"
        if isinstance(item, int | float):
            return "numeric", str(item)
        if isinstance(item, datetime):
            return "date", item.isoformat()
        if isinstance(item, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return "ip", str(item)
        if isinstance(item, bytes):
            return "binary", base64.b64encode(item).decode("ascii")
        assert isinstance(item, str)
        if key.lower() == "aws:sourceip":
            return "ip", item
        return "string", item

    if isinstance(value, list):
        kinds = {typed(v)[0] for v in value} or {"string"}
        (kind,) = kinds
        return {
            "ContextKeyName": key,
            "ContextKeyValues": [typed(v)[1] for v in value],
            "ContextKeyType": kind + "List",
        }
    kind, text = typed(value)
    return {"ContextKeyName": key, "ContextKeyValues": [text], "ContextKeyType": kind}


@FAST
@given(requests(principals=SIMULATE_CALLERS, limits=False), st.booleans())
def test_simulate_agrees_with_evaluate(request: Request, with_boundary: bool) -> None:
    """simulate() gives the decision evaluate() gives for the same caller and request."""
    boundary = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    request = replace(request, boundary=boundary if with_boundary else None)
    expected = _decide(request)
    kwargs = request.evaluate_kwargs()
    results = simulate(
        kwargs["identity_policies"],
        [request.action],
        [request.resource],
        resource_policy=kwargs["resource_policy"],
        boundary_policies=[] if kwargs["boundary"] is None else [kwargs["boundary"]],
        context_entries=[_entry(k, v) for k, v in request.context.items()],
        caller=request.principal,
        resource_account=request.resource_account,
    )
    assert len(results) == 1
    (result,) = results
    assert result.eval_decision == expected.effect
    assert result.eval_action_name == request.action
    assert result.eval_resource_name == request.resource
    assert result.permissions_boundary_allowed == expected.boundary_allowed


@settings(max_examples=60, deadline=None)
@given(st.lists(policies(), min_size=1, max_size=3), requests())
def test_policy_objects_equal_text(extra: list[dict[str, Any]], request: Request) -> None:
    """Parsed Policy objects and their JSON text decide alike."""
    request = replace(request, identity=(*request.identity, *extra))
    kwargs = request.evaluate_kwargs()
    parsed = dict(kwargs)
    parsed["identity_policies"] = [
        Policy.from_json(t, kind="identity") for t in kwargs["identity_policies"]
    ]
    if request.resource_policy is not None:
        parsed["resource_policy"] = Policy.from_json(dump(request.resource_policy), kind="resource")
    a = evaluate(request.principal, request.action, request.resource, **kwargs)
    b = evaluate(request.principal, request.action, request.resource, **parsed)
    assert a.effect == b.effect
