"""Review findings: each test here failed before the fix it names (REVIEW-IAM)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from objstore.errors import InvalidInput, MalformedPolicyDocument
from objstore.iam import Policy, evaluate
from objstore.iam.policy import Kind

A = "111122223333"
ALICE = f"arn:aws:iam::{A}:user/alice"


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- principal ARNs: no catastrophic backtracking ------------------------------------

# A user path of many one-character segments followed by a name that is not valid: the
# old path pattern nested two quantifiers over '/', so each extra segment doubled the
# time to reject it (2^n). 40 segments took hours; now it is rejected at once.
_HOSTILE_USER = f"arn:aws:iam::{A}:user/" + "a/" * 40 + "a!"


def test_hostile_user_path_in_principal_element_is_rejected_quickly() -> None:
    text = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _HOSTILE_USER},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        }
    )
    started = time.perf_counter()
    with pytest.raises(MalformedPolicyDocument, match="Principal"):
        Policy.from_json(text, kind="resource")
    assert time.perf_counter() - started < 1.0


def test_hostile_user_path_as_caller_is_rejected_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput):
        evaluate(_HOSTILE_USER, "s3:GetObject", "arn:aws:s3:::b/k")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        (f"arn:aws:iam::{A}:user/alice", "alice"),
        (f"arn:aws:iam::{A}:user/division/team/dana", "dana"),
        (f"arn:aws:iam::{A}:user/a!b/c/dana", "dana"),
    ],
)
def test_user_paths_still_parse(arn: str, name: str) -> None:
    decision = evaluate(
        arn,
        "s3:GetObject",
        f"arn:aws:s3:::home/{name}",
        identity_policies=[
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::home/${aws:username}",
                }
            )
        ],
    )
    assert decision.allowed


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{A}:user//alice",  # an empty path segment
        f"arn:aws:iam::{A}:user/path/",  # no name
        f"arn:aws:iam::{A}:user/pa th/alice",  # a blank in the path
    ],
)
def test_malformed_user_paths_still_rejected(arn: str) -> None:
    with pytest.raises(InvalidInput):
        evaluate(arn, "s3:GetObject", "arn:aws:s3:::b/k")


# --- rendered resource variables: the memo must not confuse equal-comparing values ----

_BY_VALUE = _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${x}/*"})


def test_variable_memo_keeps_true_and_1_apart() -> None:
    # True == 1 in Python, but the variable renders as "true" and "1" respectively.
    policy = Policy.from_json(_BY_VALUE)
    assert evaluate(
        ALICE, "s3:GetObject", "arn:aws:s3:::b/1/k", identity_policies=[policy], context={"x": 1}
    ).allowed
    assert evaluate(
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/true/k",
        identity_policies=[policy],
        context={"x": True},
    ).allowed
    assert not evaluate(
        ALICE, "s3:GetObject", "arn:aws:s3:::b/1/k", identity_policies=[policy], context={"x": True}
    ).allowed


def test_variable_memo_keeps_decimal_text_apart() -> None:
    from decimal import Decimal

    policy = Policy.from_json(_BY_VALUE)
    assert evaluate(
        ALICE, "s3:GetObject", "arn:aws:s3:::b/2/k", identity_policies=[policy], context={"x": 2}
    ).allowed
    # Decimal("2.0") == 2, but its text is "2.0".
    assert not evaluate(
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/2/k",
        identity_policies=[policy],
        context={"x": Decimal("2.0")},
    ).allowed


# --- Sid: IAM's letters-and-digits rule does not bind S3 bucket policies ---------------

# The S3 User Guide's bucket policy example for HTTP referers, as S3 accepts it.
_REFERER_SID = "Allow GET requests originating from www.example.com and example.com."


def _with_sid(sid: str, kind: str) -> str:
    statement: dict[str, object] = {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject"}
    if kind in ("resource", "trust"):
        statement["Principal"] = "*"
    if kind != "trust":
        statement["Resource"] = "arn:aws:s3:::b/*"
    return _doc(statement)


def test_bucket_policy_accepts_free_form_sid() -> None:
    policy = Policy.from_json(_with_sid(_REFERER_SID, "resource"), kind="resource")
    assert policy.statements[0].sid == _REFERER_SID


def test_bucket_policy_sids_stay_unique() -> None:
    statement = json.loads(_with_sid("my statement", "resource"))["Statement"][0]
    with pytest.raises(MalformedPolicyDocument, match="duplicate Sid"):
        Policy.from_json(_doc(statement, statement), kind="resource")


@pytest.mark.parametrize("kind", ["identity", "trust", "boundary", "session"])
def test_iam_policies_keep_letters_and_digits_sids(kind: Kind) -> None:
    with pytest.raises(MalformedPolicyDocument, match="Sid"):
        Policy.from_json(_with_sid(_REFERER_SID, kind), kind=kind)


# --- simulator context entries: numeric values are numbers as IAM writes them ----------


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1_000", " 5", "5 ", "0x10"])
def test_numeric_context_entry_rejects_what_is_not_a_number(text: str) -> None:
    from objstore.iam.simulate import context_from_entries

    entry = {
        "ContextKeyName": "s3:max-keys",
        "ContextKeyValues": [text],
        "ContextKeyType": "numeric",
    }
    with pytest.raises(InvalidInput, match="not a number"):
        context_from_entries([entry])


def test_numeric_context_entry_beyond_float_range_still_compares() -> None:
    from objstore.iam import simulate

    policy = _doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {"NumericGreaterThan": {"n": "1e300"}},
        }
    )
    entry = {"ContextKeyName": "n", "ContextKeyValues": ["1e400"], "ContextKeyType": "numeric"}
    [result] = simulate([policy], ["s3:ListBucket"], context_entries=[entry])
    assert result.eval_decision == "allowed"


# --- objstore policy check: an unreadable file does not hide the others ----------------


def test_check_reports_every_file_after_an_unreadable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from objstore.cli.policy import EXIT_ERROR, main

    base = tmp_path
    good = base / "good.json"
    good.write_text(_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    bad = base / "bad.json"
    bad.write_text(_doc({"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}))
    missing = base / "missing.json"
    status = main(["policy", "check", str(good), str(missing), str(bad)])
    out, err = capsys.readouterr()
    assert status == EXIT_ERROR  # the worst outcome wins
    assert f"{good}: OK" in out
    assert f"{bad}:1:" in out and "Effect" in out  # checked although a file before it failed
    assert "cannot read" in err and str(missing) in err


# --- Condition errors point at the offending operator, key or value --------------------

_CONDITION_DOC = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*",
      "Condition": {
        "StringEquals": {"aws:username": "alice"},
        %s: {
          "aws:EpochTime": 1700000000,
          "aws:CurrentTime": [
            "2024-01-01T00:00:00Z",
            %s
          ]
        }
      }
    }
  ]
}"""


def _condition_error(operator: str, value: str) -> MalformedPolicyDocument:
    with pytest.raises(MalformedPolicyDocument) as caught:
        Policy.from_json(_CONDITION_DOC % (json.dumps(operator), json.dumps(value)))
    return caught.value


def test_bad_condition_value_is_located_at_the_value() -> None:
    err = _condition_error("DateLessThan", "soon")
    assert err.details["element"] == "Statement[0].Condition.DateLessThan.aws:CurrentTime"
    assert (err.details["line"], err.details["column"]) == (14, 13)
    assert "'soon' is not a date" in err.message


def test_bad_condition_operator_is_located_at_the_operator() -> None:
    err = _condition_error("DateLessThen", "2025-01-01")
    assert err.details["element"] == "Statement[0].Condition.DateLessThen"
    assert (err.details["line"], err.details["column"]) == (10, 9)
    assert "Invalid Condition type" in err.message


def test_null_with_if_exists_is_located_at_the_operator() -> None:
    err = _condition_error("NullIfExists", "true")
    assert err.details["element"] == "Statement[0].Condition.NullIfExists"
    assert err.details["line"] == 10


# --- wrongly typed arguments raise InvalidInput, never a raw Python exception ---------

_ALLOW_ALL = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


def _bad_calls() -> list[object]:
    from datetime import datetime

    from objstore.iam import Principal, simulate

    get = ["s3:GetObject"]
    calls = {
        "simulate-policies-None": lambda: simulate(None, get),  # type: ignore[arg-type]
        "simulate-actions-None": lambda: simulate([_ALLOW_ALL], None),  # type: ignore[arg-type]
        "simulate-resources-None": lambda: simulate([_ALLOW_ALL], get, None),  # type: ignore[arg-type]
        "simulate-boundaries-None": lambda: simulate(
            [_ALLOW_ALL],
            get,
            boundary_policies=None,  # type: ignore[arg-type]
        ),
        "simulate-context-None": lambda: simulate(
            [_ALLOW_ALL],
            get,
            context_entries=None,  # type: ignore[arg-type]
        ),
        "simulate-context-int": lambda: simulate(
            [_ALLOW_ALL],
            get,
            context_entries=5,  # type: ignore[arg-type]
        ),
        "simulate-account-int": lambda: simulate(
            [_ALLOW_ALL],
            get,
            resource_account=5,  # type: ignore[arg-type]
        ),
        "simulate-now-str": lambda: simulate([_ALLOW_ALL], get, now="today"),  # type: ignore[arg-type]
        "evaluate-identity-None": lambda: evaluate(
            ALICE,
            "s3:GetObject",
            "*",
            identity_policies=None,  # type: ignore[arg-type]
        ),
        "evaluate-identity-int": lambda: evaluate(
            ALICE,
            "s3:GetObject",
            "*",
            identity_policies=5,  # type: ignore[arg-type]
        ),
        "evaluate-now-str": lambda: evaluate(
            ALICE,
            "s3:GetObject",
            "*",
            identity_policies=[_ALLOW_ALL],
            now="today",  # type: ignore[arg-type]
        ),
        "evaluate-now-date-object": lambda: evaluate(
            ALICE,
            "s3:GetObject",
            "*",
            now=datetime.now().date(),  # type: ignore[arg-type]
        ),
        "principal-tags-int": lambda: Principal.from_arn(ALICE, tags=5),  # type: ignore[arg-type]
        "principal-tags-values": lambda: Principal.from_arn(ALICE, tags={"team": ["a"]}),  # type: ignore[dict-item]
        "principal-user-id-int": lambda: Principal.from_arn(ALICE, user_id=5),  # type: ignore[arg-type]
        "policy-name-int": lambda: Policy.from_json(_ALLOW_ALL, name=5),  # type: ignore[arg-type]
    }
    return [pytest.param(call, id=name) for name, call in calls.items()]


@pytest.mark.parametrize("call", _bad_calls())
def test_wrongly_typed_arguments_raise_invalid_input(call: object) -> None:
    assert callable(call)
    with pytest.raises(InvalidInput):
        call()


def test_a_simulation_is_bounded() -> None:
    """Review rev11a M2: actions x resources evaluations were unbounded (a 230 KiB request
    made 5.8M results, 93 s and 660 MiB); now at most MAX_EVALUATIONS, refused above."""
    from objstore.iam.simulate import MAX_EVALUATIONS, simulate

    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    actions = [f"s3:Action{i}" for i in range(101)]
    resources = [f"arn:aws:s3:::b/{i}" for i in range(MAX_EVALUATIONS // 100)]
    with pytest.raises(InvalidInput):
        simulate([doc], actions, resources)
    assert len(simulate([doc], actions[:100], resources)) == MAX_EVALUATIONS
