"""objstore.iam.public: S3's definition of a public bucket policy (pure)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.iam.public import FIXING_KEYS, deny_only, is_public, is_public_statement

ARN = "arn:aws:s3:::b/*"


def allow(principal: Any = "*", condition: Any = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ARN}
    statement["Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return statement


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_everyone_is_public() -> None:
    assert is_public(policy(allow("*")))
    assert is_public(policy(allow({"AWS": "*"})))
    assert is_public(policy(allow({"AWS": ["arn:aws:iam::111122223333:root", "*"]})))
    assert is_public(policy(allow({"AWS": "arn:aws:iam::*:root"})))
    assert is_public(policy(allow({"AWS": "arn:aws:iam::111122223333:user/${aws:username}"})))


def test_fixed_principals_are_not_public() -> None:
    assert not is_public(policy(allow({"AWS": "arn:aws:iam::111122223333:root"})))
    assert not is_public(policy(allow({"AWS": ["111122223333", "arn:aws:iam::4:user/a"]})))
    assert not is_public(policy(allow({"Service": "cloudfront.amazonaws.com"})))
    assert not is_public(policy(allow({"CanonicalUser": "79a59df900b949e55d96a1e698fbace"})))
    # As the s3-tests suite writes it (an RGW tenant as account).
    assert not is_public(policy(allow({"AWS": "arn:aws:iam::s3tenant1:root"})))


def test_conditions_that_bound_everyone() -> None:
    assert not is_public(policy(allow(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}})))
    assert not is_public(
        policy(allow(condition={"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}))
    )
    assert not is_public(
        policy(allow(condition={"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}}))
    )
    assert not is_public(policy(allow(condition={"ArnEquals": {"aws:SourceArn": "arn:a:b"}})))
    assert not is_public(policy(allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})))
    # Key names are case-insensitive; ForAnyValue still needs one of the fixed values.
    assert not is_public(
        policy(allow(condition={"ForAnyValue:StringEquals": {"AWS:SOURCEACCOUNT": "1"}}))
    )
    # One bounding condition among others is enough (conditions are ANDed).
    assert not is_public(
        policy(
            allow(
                condition={
                    "StringLike": {"aws:UserAgent": "*"},
                    "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
                }
            )
        )
    )


def test_conditions_that_do_not_bound() -> None:
    for condition in (
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": "::/0"}},
        {"IpAddress": {"aws:SourceIp": "not-an-address"}},
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"StringLike": {"aws:SourceVpc": "vpc-*"}},
        {"StringEquals": {"aws:SourceArn": "arn:aws:sns:${aws:username}"}},
        {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}},
        {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
        {"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}},
        {"StringEquals": {"aws:UserAgent": "curl"}},  # not a key S3 counts
        {"StringEquals": {"aws:SourceIp": "10.0.0.1"}},  # not an address comparison
        {"StringEquals": {"aws:SourceVpc": []}},
        # Review rev11a H4: what every unsigned caller carries bounds nothing.
        {"StringEquals": {"aws:userid": "anonymous"}},
        {"StringEqualsIgnoreCase": {"aws:userid": ["AIDAEXAMPLE", "Anonymous"]}},
        # ... nor do address blocks that cover (about) everyone between them.
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},
        {"IpAddress": {"aws:SourceIp": ["::/1", "8000::/1"]}},
        {"IpAddress": {"aws:SourceIp": [f"{a}.0.0.0/8" for a in range(256)]}},
        {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "11.0.0.0/24"]}},
        {"IpAddress": {"aws:SourceIp": "2001::/31"}},
    ):
        assert is_public(policy(allow(condition=condition))), condition
    # The widest sets still counted as fixed: an IPv4 /8 and an IPv6 /32 in all.
    for blocks in (["10.0.0.0/8"], ["10.0.0.0/9", "11.0.0.0/9"], ["2001:db8::/32"]):
        condition = {"IpAddress": {"aws:SourceIp": blocks}}
        assert not is_public(policy(allow(condition=condition))), condition
    assert not is_public(policy(allow(condition={"StringEquals": {"aws:userid": "AIDAEXAMPLE"}})))


def test_deny_and_not_principal() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ARN}
    assert not is_public(policy(deny))
    not_principal = allow(None)
    del not_principal["Principal"]
    not_principal["NotPrincipal"] = {"AWS": "arn:aws:iam::111122223333:root"}
    assert is_public(policy(not_principal))
    assert not is_public(policy())
    assert not is_public({"Version": "2012-10-17", "Statement": deny})


def test_deny_only_keeps_denials() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": ARN}
    both = policy(allow("*"), deny)
    kept = deny_only(both)
    assert kept is not None and kept["Statement"] == [deny] and kept["Version"] == "2012-10-17"
    assert deny_only(policy(allow("*"))) is None


# ------------------------------------------------------------------ properties

fixed_text = st.text(st.sampled_from("abcdefghijXYZ0123456789"), min_size=1, max_size=8)
fixed_principals = st.one_of(
    st.builds(lambda a: {"AWS": f"arn:aws:iam::{a}:root"}, fixed_text),
    st.builds(lambda a, u: {"AWS": [f"arn:aws:iam::{a}:user/{u}", a]}, fixed_text, fixed_text),
    st.builds(lambda s: {"Service": f"{s}.amazonaws.com"}, fixed_text),
)
wild_principals = st.sampled_from(
    ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": "arn:aws:iam::*:root"}]
)
string_keys = sorted(k for k in FIXING_KEYS if k != "aws:sourceip")
bounding = st.one_of(
    st.builds(
        lambda key, values: {"StringEquals": {key: values}},
        st.sampled_from(string_keys),
        st.lists(fixed_text, min_size=1, max_size=3),
    ),
    st.builds(
        lambda a, b, n: {"IpAddress": {"aws:SourceIp": f"10.{a}.{b}.0/{n}"}},
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(8, 32),
    ),
)
statements = st.one_of(
    st.builds(allow, fixed_principals),
    st.builds(allow, wild_principals),
    st.builds(lambda p, c: allow(p, c), wild_principals, bounding),
    st.builds(
        lambda p: {"Effect": "Deny", "Principal": p, "Action": "s3:*", "Resource": ARN},
        st.one_of(wild_principals, fixed_principals),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(statements, max_size=6), st.randoms(use_true_random=False))
def test_public_iff_some_statement_is(listed: list[dict[str, Any]], rnd: Any) -> None:
    """A policy is public exactly when one of its statements is, in any order, and
    whether given as text or parsed."""
    expected = any(is_public_statement(s) for s in listed)
    shuffled = list(listed)
    rnd.shuffle(shuffled)
    assert is_public(policy(*listed)) == expected
    assert is_public(json.loads(policy(*shuffled))) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(statements, max_size=5), fixed_principals)
def test_fixed_principals_and_denials_never_make_a_policy_public(
    listed: list[dict[str, Any]], principal: dict[str, Any]
) -> None:
    before = is_public(policy(*listed))
    assert is_public(policy(*listed, allow(principal))) == before
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ARN}
    assert is_public(policy(*listed, deny)) == before
    assert not is_public(policy(*[s for s in listed if s["Effect"] == "Deny"]))


@settings(max_examples=200, deadline=None)
@given(wild_principals, bounding, st.sampled_from(["*", "?", "${aws:username}"]))
def test_a_wildcard_in_the_bounding_value_makes_it_public(
    principal: Any, condition: dict[str, Any], wildcard: str
) -> None:
    assert not is_public(policy(allow(principal, condition)))
    ((operator, block),) = condition.items()
    ((key, values),) = block.items()
    widened = {operator: {key: [*(values if isinstance(values, list) else [values]), wildcard]}}
    assert is_public(policy(allow(principal, widened)))
    negated = {"StringNotEquals" if operator == "StringEquals" else "NotIpAddress": block}
    assert is_public(policy(allow(principal, negated)))
