"""Tests for objstore.iam.arn: ARN parsing and part-wise matching."""

from __future__ import annotations

import pytest

from objstore.iam.arn import Arn, ArnPattern, arn_like, is_valid_arn, split_arn
from objstore.iam.glob import Wild


def test_parse_parts() -> None:
    """The six parts are split at the first five colons only."""
    arn = Arn.parse("arn:aws:lambda:us-east-1:111122223333:function:f:1")
    assert arn == Arn("aws", "lambda", "us-east-1", "111122223333", "function:f:1")
    assert str(arn) == "arn:aws:lambda:us-east-1:111122223333:function:f:1"


def test_parse_s3_and_iam() -> None:
    """S3 ARNs have no region/account; IAM ARNs no region."""
    assert Arn.parse("arn:aws:s3:::bucket/key/with:colon").resource == "bucket/key/with:colon"
    iam = Arn.parse("arn:aws:iam::111122223333:user/path/alice")
    assert (iam.region, iam.account) == ("", "111122223333")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "*",
        "arn",
        "arn:aws:s3",
        "arn:aws:s3::",
        "arn:aws:s3:::",
        "ARN:aws:s3:::b",
        "urn:aws:s3:::b",
        "arn::s3:::b",
        "arn:aws::::b",
    ],
)
def test_parse_rejects(text: str) -> None:
    """Malformed ARNs raise ValueError quoting the text."""
    with pytest.raises(ValueError, match="ARN"):
        Arn.parse(text)
    assert not is_valid_arn(text)


def test_parse_rejects_non_string() -> None:
    """A non-string is a ValueError too, never a TypeError."""
    with pytest.raises(ValueError):
        Arn.parse(12)  # type: ignore[arg-type]
    assert not is_valid_arn(None)  # type: ignore[arg-type]


def test_wildcards_are_valid_in_policy_arns() -> None:
    """Policy ARNs may use wildcards in any part."""
    assert is_valid_arn("arn:aws:s3:::*")
    assert is_valid_arn("arn:*:iam::*:role/*")


def test_split_arn() -> None:
    """split_arn returns six parts or None."""
    assert split_arn("arn:a:b:c:d:e:f") == ("arn", "a", "b", "c", "d", "e:f")
    assert split_arn("arn:a:b") is None


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/Admin", True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::999999999999:role/a/b", True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::999999999999:user/a", False),
        (
            "arn:aws:ec2:*:111122223333:instance/i-?????",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-12345",
            True,
        ),
        (
            "arn:aws:ec2:*:111122223333:instance/i-?????",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1234",
            False,
        ),
        # The documented example: '*' in the region part cannot swallow the next parts.
        (
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
            False,
        ),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b:c", True),
        ("arn:aws:lambda:*:*:function:*", "arn:aws:lambda:eu-west-1:1:function:f:2", True),
        ("arn:aws:s3:::b", "arn:aws:s3:::b", True),
        ("arn:aws:s3:::b", "arn:aws:s3:::B", False),
        ("arn:aws:s3:::b", "arn:aws:s3:::b/", False),
        ("arn:*:*:*:*:*", "arn:aws:s3:::b", True),
        ("arn:*:*:*:*:*", "not-an-arn", False),
        ("*", "arn:aws:s3:::b", False),
        ("arn:aws:*", "arn:aws:s3:::b", False),
        ("arn:aws:s3:::b.c", "arn:aws:s3:::bxc", False),
    ],
)
def test_arn_like(pattern: str, value: str, expected: bool) -> None:
    """Each of the six parts is matched separately and case-sensitively."""
    assert arn_like(pattern, value) is expected
    assert ArnPattern.compile(pattern).match(value) is expected


def test_pattern_literal_fast_path() -> None:
    """A wildcard-free pattern compares whole strings; a short one cannot match."""
    assert ArnPattern.compile("arn:aws:s3:::b/k").literal == "arn:aws:s3:::b/k"
    assert ArnPattern.compile("arn:aws:s3:::b/*").literal is None
    assert not ArnPattern.compile("arn:aws").can_match
    assert ArnPattern.compile("arn:aws:s3:::").can_match


def test_pattern_from_parts() -> None:
    """Substituted text splits at ':' but its '*' stays literal."""
    pattern = ArnPattern.from_parts(["arn:aws:iam::", "111:user/a*b", Wild.STAR])
    assert pattern.match("arn:aws:iam::111:user/a*bcd")
    assert not pattern.match("arn:aws:iam::111:user/aXbcd")
    split_in_substitution = ArnPattern.from_parts(["arn:aws", ":iam::1:", "role/", Wild.STAR])
    assert split_in_substitution.match("arn:aws:iam::1:role/r")
