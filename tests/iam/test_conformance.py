"""The IAM conformance table: every case of tests/iam/cases run through the public API.

Each case states the policies in force, one request and the decision the AWS
documentation gives. A failure names the case id; the case's ``why`` says which
documented rule it checks.
"""

from __future__ import annotations

import json

import pytest

from objstore.iam import Decision, Policy, evaluate

from .cases import CONFORMANCE, Case
from .cases.model import ROOT_A, ROOT_B, Doc

# Cases where the engine disagrees with the documented behaviour. Strict: when the
# engine is fixed the xfail turns into a failure, and the entry must be removed.
XFAIL: dict[str, str] = {}


def _text(doc: Doc) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc, indent=2)


def _params() -> list[object]:
    out: list[object] = []
    for case in CONFORMANCE:
        marks = []
        if case.id in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case.id]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def _decide(case: Case, *, parsed: bool) -> Decision:
    """Evaluate the case with policies as Policy objects (parsed) or as JSON text."""

    def prepare(doc: Doc | None, kind: str) -> Policy | str | None:
        if doc is None:
            return None
        return Policy.from_json(_text(doc), kind=kind) if parsed else _text(doc)

    identity = [prepare(doc, "identity") for doc in case.identity]
    return evaluate(
        case.principal,
        case.action,
        case.resource,
        context=case.context,
        identity_policies=identity,
        resource_policy=prepare(case.resource_policy, case.resource_policy_kind),
        boundary=prepare(case.boundary, "boundary"),
        session_policy=prepare(case.session, "session"),
        resource_account=case.resource_account,
    )


@pytest.mark.parametrize("case", _params())
def test_conformance(case: Case) -> None:
    """The engine's decision matches the documented one."""
    decision = _decide(case, parsed=True)
    effect = decision.effect
    assert effect == case.expect, f"{case.id}: {case.why}"
    assert decision.allowed is (case.expect == "allowed")
    if case.missing is not None:
        missing = {key.lower() for key in decision.missing_context_values}
        assert missing == case.missing, f"{case.id}: missing context values"
    if case.boundary_allowed is not None:
        assert decision.boundary_allowed is case.boundary_allowed
    if case.expect != "implicitDeny" and case.principal not in (ROOT_A, ROOT_B):
        # A decision other than the default names the statements that made it.
        assert decision.matched_statements, f"{case.id}: no matched statements"
    # On an explicit deny only Deny statements are reported; on an allow only Allows.
    wanted = {"allowed": "Allow", "explicitDeny": "Deny"}.get(case.expect)
    if wanted is not None:
        assert all(m.effect == wanted for m in decision.matched_statements), case.id
    if case.resource_policy_kind == "resource":
        # JSON text and parsed Policy objects are the same input to evaluate().
        assert _decide(case, parsed=False).effect == effect


def test_table_is_large_and_unique() -> None:
    """The table keeps at least 300 cases with unique ids, of all three outcomes."""
    ids = [case.id for case in CONFORMANCE]
    assert len(ids) >= 300
    assert len(set(ids)) == len(ids)
    assert {case.expect for case in CONFORMANCE} == {"allowed", "explicitDeny", "implicitDeny"}
    assert set(XFAIL) <= set(ids), "an XFAIL entry names no case"
