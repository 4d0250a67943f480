"""Property tests for two classes of defect found by a differential run (issue 7).

* Resource ARNs match **segment by segment**: the engine is compared with a small model
  written independently here (split both sides at the first five colons, then a regex per
  segment built from escaped characters), on patterns and ARNs full of colons, slashes
  and wildcards.
* The values of a Principal element are an **OR**: one statement listing several
  principals decides exactly as several statements listing one each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objstore.iam import Policy, evaluate
from objstore.iam.principal import PrincipalElement, as_principal

from .cases.model import (
    ACCOUNT_A,
    ACCOUNT_B,
    ALICE,
    ANONYMOUS,
    BOB,
    DAVE_B,
    FEDERATED,
    OTHER_SESSION,
    ROLE,
    ROOT_A,
    SESSION,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the model ------------------------------------------------------------------------


def _segment_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def model_matches(pattern: str, resource: str, literal_suffix: str = "") -> bool:
    """What AWS documents: ``*`` alone is everything; otherwise six parts, each on its own.

    ``literal_suffix`` is text a policy variable put at the end of the pattern: literal,
    whatever characters it holds.
    """
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    got = resource.split(":", 5)
    if len(wanted) != 6 or len(got) != 6:
        return False
    regexes = [_segment_regex(w) for w in wanted]
    regexes[5] = re.compile(regexes[5].pattern + re.escape(literal_suffix), re.DOTALL)
    return all(r.fullmatch(g) is not None for r, g in zip(regexes, got, strict=True))


# --- strategies -----------------------------------------------------------------------

_SEGMENT_CHARS = "ab1-*?"
_RESOURCE_CHARS = "ab1/:.-*?"


def _text(chars: str, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=chars, max_size=max_size)


@st.composite
def resource_patterns(draw: st.DrawFn) -> str:
    """A valid Resource entry: literal partition/service, wildcards anywhere else."""
    partition = draw(st.sampled_from(["aws", "*", "a?s", "aws*"]))
    service = draw(st.sampled_from(["s3", "sqs", "iam"]))
    region = draw(_text(_SEGMENT_CHARS, 4))
    account = draw(_text(_SEGMENT_CHARS, 4))
    rest = draw(_text(_RESOURCE_CHARS, 8).filter(bool))
    return f"arn:{partition}:{service}:{region}:{account}:{rest}"


def _fill(pattern: str, draw: Callable[[st.SearchStrategy[str]], str]) -> str:
    """A string shaped by the pattern, its wildcards replaced by text that may hold ':'."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(draw(_text("ab:/1", 3)))
        elif ch == "?":
            out.append(draw(st.sampled_from(["a", ":", "/"])))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def pattern_and_resource(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(resource_patterns())
    shape = draw(st.sampled_from(["filled", "random", "s3"]))
    if shape == "filled":
        resource = _fill(pattern, draw)
    elif shape == "random":
        resource = draw(_text("arnws3qi:ab1/-", 24))
    else:
        resource = "arn:aws:s3:::" + draw(_text("ab1/:-", 10))
    return pattern, resource


def _identity(resource: str, *, negated: bool = False) -> str:
    key = "NotResource" if negated else "Resource"
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", key: resource}]}
    )


@FAST
@given(pattern_and_resource())
def test_resource_matching_is_segment_wise(case: tuple[str, str]) -> None:
    """evaluate() allows exactly the resources the segment-wise model matches."""
    pattern, resource = case
    expected = model_matches(pattern, resource)
    decision = evaluate(ALICE, "s3:GetObject", resource, identity_policies=[_identity(pattern)])
    assert decision.allowed is expected, (pattern, resource)
    negated = evaluate(
        ALICE, "s3:GetObject", resource, identity_policies=[_identity(pattern, negated=True)]
    )
    assert negated.allowed is not expected, (pattern, resource)


@FAST
@given(resource_patterns(), st.text(alphabet="ab:*?/", min_size=1, max_size=4), st.data())
def test_variables_substitute_literally_in_the_resource_part(
    pattern: str, username: str, data: st.DataObject
) -> None:
    """A ${aws:username} ending the resource part is the user's name as literal text."""
    if data.draw(st.booleans()):
        resource = _fill(pattern, data.draw) + username
    else:
        resource = _fill(pattern + "*", data.draw)
    decision = evaluate(
        as_principal(f"arn:aws:iam::{ACCOUNT_A}:user/u"),
        "s3:GetObject",
        resource,
        identity_policies=[_identity(pattern + "${aws:username}")],
        context={"aws:username": username},
    )
    assert decision.allowed is model_matches(pattern, resource, username), (pattern, resource)


@FAST
@given(
    st.sampled_from(["partition", "service", "region", "account"]),
    st.sampled_from(["aws:username", "aws:PrincipalAccount", "aws:userid"]),
)
def test_variable_before_fifth_colon_never_matches(segment: str, variable: str) -> None:
    """Whatever the variable's value, an entry with it before the fifth colon is inert."""
    parts = {"partition": "aws", "service": "iam", "region": "", "account": ACCOUNT_A}
    parts[segment] = "${" + variable + "}"
    pattern = f"arn:{parts['partition']}:{parts['service']}:{parts['region']}:{parts['account']}:*"
    principal = as_principal(ALICE)
    values = principal.context_values()
    # The ARN the pattern would name if AWS substituted there.
    filled = {k: str(values.get(variable, "x")) if "${" in v else v for k, v in parts.items()}
    resource = f"arn:{filled['partition']}:{filled['service']}:{filled['region']}:" + (
        f"{filled['account']}:user/alice"
    )
    decision = evaluate(principal, "iam:GetUser", resource, identity_policies=[_identity(pattern)])
    assert not decision.allowed


# --- principal sets are an OR ---------------------------------------------------------

_AWS_VALUES = [ACCOUNT_A, ACCOUNT_B, ROOT_A, ALICE, BOB, ROLE, SESSION, FEDERATED, DAVE_B, "*"]
_CALLERS = [ALICE, BOB, SESSION, OTHER_SESSION, FEDERATED, DAVE_B, ROOT_A, ANONYMOUS]
_LIMIT = json.dumps(
    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}}
)
_OBJECT = "arn:aws:s3:::examplebucket/k"


def _bucket_policy(principals: list[Any]) -> Policy:
    body = [
        {"Effect": "Allow", "Principal": p, "Action": "s3:GetObject", "Resource": _OBJECT}
        for p in principals
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": body})
    return Policy.from_json(text, kind="resource")


@FAST
@given(
    st.lists(st.sampled_from(_AWS_VALUES), min_size=1, max_size=4, unique=True),
    st.sampled_from(_CALLERS),
    st.sampled_from(["none", "boundary", "session"]),
    st.sampled_from([None, ACCOUNT_A, ACCOUNT_B]),
)
def test_principal_list_is_an_or(
    values: list[str], caller: str, limit: str, resource_account: str | None
) -> None:
    """Listing principals together decides as listing each in its own statement."""
    together = _bucket_policy([{"AWS": values}])
    apart = _bucket_policy([{"AWS": v} for v in values])
    kwargs: dict[str, Any] = {"resource_account": resource_account}
    if limit == "boundary":
        kwargs["boundary"] = _LIMIT
    elif limit == "session":
        kwargs["session_policy"] = _LIMIT
    one = evaluate(caller, "s3:GetObject", _OBJECT, resource_policy=together, **kwargs)
    many = evaluate(caller, "s3:GetObject", _OBJECT, resource_policy=apart, **kwargs)
    assert one.effect == many.effect
    principal = as_principal(caller)
    strongest = max(PrincipalElement.compile({"AWS": v}).grant(principal) for v in values)
    assert PrincipalElement.compile({"AWS": values}).grant(principal) is strongest
