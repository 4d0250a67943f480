"""Fuzzing the policy parser: whatever it is given, Policy.from_json either returns
a Policy or raises MalformedPolicyDocument, never another exception; a document it
accepts can always be evaluated."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objstore.errors import MalformedPolicyDocument
from objstore.iam import Policy, evaluate

from .cases.documents import INVALID, VALID
from .cases.model import ALICE
from .strategies import KINDS, dump, json_values, mutated_text, policies, policy_shaped

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse(text: str | bytes, kind: str) -> Policy | None:
    """Parse, accepting only a Policy or MalformedPolicyDocument as outcomes."""
    try:
        policy = Policy.from_json(text, kind=kind)
    except MalformedPolicyDocument as err:
        assert err.message  # the error explains itself
        return None
    assert isinstance(policy, Policy)
    return policy


def _check_evaluates(policy: Policy) -> None:
    """An accepted document can be used in a decision without raising."""
    slot = {
        "identity": "identity_policies",
        "boundary": "boundary",
        "session": "session_policy",
        "resource": "resource_policy",
        "trust": "resource_policy",
    }[policy.kind]
    value: Any = [policy] if slot == "identity_policies" else policy
    decision = evaluate(
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        context={"aws:SourceIp": "10.0.0.1", "aws:PrincipalTag/team": "blue"},
        **{slot: value},
    )
    assert decision.effect in ("allowed", "explicitDeny", "implicitDeny")


_kinds = st.sampled_from(KINDS)


@FUZZ
@given(json_values(), _kinds)
def test_arbitrary_json(value: Any, kind: str) -> None:
    """Any JSON value as a document."""
    policy = _parse(json.dumps(value), kind)
    if policy is not None:
        _check_evaluates(policy)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_shaped(), _kinds)
def test_policy_shaped_json(value: Any, kind: str) -> None:
    """Objects shaped like policies with random parts anywhere."""
    policy = _parse(json.dumps(value, indent=1), kind)
    if policy is not None:
        _check_evaluates(policy)


@FUZZ
@given(st.text(), _kinds)
def test_arbitrary_text(text: str, kind: str) -> None:
    """Any Unicode text (including lone surrogates) as a document."""
    _parse(text, kind)


@FUZZ
@given(st.binary(), _kinds)
def test_arbitrary_bytes(data: bytes, kind: str) -> None:
    """Any bytes, most of them not UTF-8."""
    _parse(data, kind)


_SEEDS = [
    row.text for row in [*INVALID, *VALID] if isinstance(row.text, str) and len(row.text) < 3000
]


@FUZZ
@given(mutated_text(st.sampled_from(_SEEDS)), _kinds)
def test_mutated_table_documents(text: str, kind: str) -> None:
    """The table's documents with a few random edits."""
    policy = _parse(text, kind)
    if policy is not None:
        _check_evaluates(policy)


@FUZZ
@given(mutated_text(policies(kind="resource").map(dump)), _kinds)
def test_mutated_generated_policies(text: str, kind: str) -> None:
    """Generated valid policies with a few random edits, also encoded as UTF-8 bytes."""
    policy = _parse(text, kind)
    if policy is not None:
        _check_evaluates(policy)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be encoded; the text form was tried above
    _parse(data, kind)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


@st.composite
def _structurally_mutated(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(_kinds)
    base = draw(policies(kind="resource" if kind in ("resource", "trust") else "identity"))
    path = draw(st.sampled_from(_paths(base)))
    return json.dumps(_replace(base, path, draw(json_values(6)))), kind


@FUZZ
@given(_structurally_mutated())
def test_structurally_mutated_policies(args: tuple[str, str]) -> None:
    """A valid policy with one subtree replaced by an arbitrary JSON value."""
    text, kind = args
    policy = _parse(text, kind)
    if policy is not None:
        _check_evaluates(policy)


@FUZZ
@given(_kinds.flatmap(lambda kind: st.tuples(st.just(kind), policies(kind=kind))))
def test_generated_policies_parse(args: tuple[str, dict[str, Any]]) -> None:
    """The property tests' generator makes only valid documents of each kind."""
    kind, value = args
    policy = _parse(dump(value), kind)
    assert policy is not None
    _check_evaluates(policy)
