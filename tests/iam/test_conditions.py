"""Tests for objstore.iam.conditions: every operator, qualifiers and missing-key rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.iam.conditions import (
    EMPTY,
    OPERATORS,
    ConditionBlock,
    ConditionResult,
    parse_date,
    parse_number,
)
from objstore.iam.context import RequestContext

V12 = "2012-10-17"
V08 = "2008-10-17"


def holds(
    operator: str,
    key: str,
    values: object,
    context: Mapping[str, object] | None,
    *,
    version: str = V12,
) -> bool:
    """Compile one operator/key and evaluate it against ``context``."""
    policy_values = values if isinstance(values, list) else [values]
    block = ConditionBlock.compile({operator: {key: policy_values}}, version=version)
    result = block.evaluate(RequestContext.from_mapping(context))
    assert result.matched is block.matches(RequestContext.from_mapping(context))
    return result.matched


# --- missing-key rules --------------------------------------------------------------------

POSITIVE = [
    ("StringEquals", "x"),
    ("StringEqualsIgnoreCase", "x"),
    ("StringLike", "x*"),
    ("NumericEquals", "1"),
    ("NumericLessThan", "1"),
    ("NumericLessThanEquals", "1"),
    ("NumericGreaterThan", "1"),
    ("NumericGreaterThanEquals", "1"),
    ("DateEquals", "2020-01-01"),
    ("DateLessThan", "2020-01-01"),
    ("DateLessThanEquals", "2020-01-01"),
    ("DateGreaterThan", "2020-01-01"),
    ("DateGreaterThanEquals", "2020-01-01"),
    ("Bool", "true"),
    ("BinaryEquals", "QmluYXJ5"),
    ("IpAddress", "10.0.0.0/8"),
    ("ArnEquals", "arn:aws:s3:::b"),
    ("ArnLike", "arn:aws:s3:::*"),
]
NEGATED = [
    ("StringNotEquals", "x"),
    ("StringNotEqualsIgnoreCase", "x"),
    ("StringNotLike", "x*"),
    ("NumericNotEquals", "1"),
    ("DateNotEquals", "2020-01-01"),
    ("NotIpAddress", "10.0.0.0/8"),
    ("ArnNotEquals", "arn:aws:s3:::b"),
    ("ArnNotLike", "arn:aws:s3:::*"),
]


@pytest.mark.parametrize(("operator", "value"), POSITIVE)
def test_missing_key_plain_operator_is_false(operator: str, value: str) -> None:
    """A plain operator on an absent key is false; with IfExists it is true."""
    assert not holds(operator, "k:missing", value, {"other:key": "x"})
    assert holds(operator + "IfExists", "k:missing", value, {})


@pytest.mark.parametrize(("operator", "value"), NEGATED)
def test_missing_key_negated_operator_is_true(operator: str, value: str) -> None:
    """A negated operator on an absent key is true, with or without IfExists."""
    assert holds(operator, "k:missing", value, {})
    assert holds(operator + "IfExists", "k:missing", value, {})


@pytest.mark.parametrize(("operator", "value"), POSITIVE + NEGATED)
def test_missing_key_set_qualifiers(operator: str, value: str) -> None:
    """ForAllValues is true and ForAnyValue false on an absent or empty key."""
    assert holds("ForAllValues:" + operator, "k", value, {})
    assert holds("ForAllValues:" + operator, "k", value, {"k": []})
    assert not holds("ForAnyValue:" + operator, "k", value, {})
    assert not holds("ForAnyValue:" + operator, "k", value, {"k": []})
    # A lone empty string is an empty data set for the set operators.
    assert holds("ForAllValues:" + operator, "k", value, {"k": ""})
    assert not holds("ForAnyValue:" + operator, "k", value, {"k": [""]})
    # ForAnyValue's missing-key rule wins over IfExists (as AWS behaves).
    assert not holds("ForAnyValue:" + operator + "IfExists", "k", value, {})
    assert holds("ForAllValues:" + operator + "IfExists", "k", value, {})


def test_every_operator_is_covered_by_the_tables() -> None:
    """The missing-key tables above name every operator but Null."""
    covered = {op for op, _ in POSITIVE + NEGATED}
    assert covered | {"Null"} == set(OPERATORS)


def test_null() -> None:
    """Null true = key absent; false = key present."""
    assert holds("Null", "aws:TokenIssueTime", "true", {})
    assert not holds("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "2020-01-01"})
    assert holds("Null", "aws:TokenIssueTime", False, {"aws:tokenissuetime": "x"})
    assert not holds("Null", "aws:TokenIssueTime", "false", {})
    assert holds("Null", "k", "TRUE", {"k": []})  # no values at all counts as null
    assert holds("Null", "k", ["true", "false"], {"k": "v"})  # OR of the values


# --- string operators ---------------------------------------------------------------------


def test_string_equals() -> None:
    """Case-sensitive exact match; several policy values are OR-ed."""
    assert holds("StringEquals", "aws:username", ["bob", "alice"], {"aws:username": "alice"})
    assert not holds("StringEquals", "aws:username", "Alice", {"aws:username": "alice"})
    assert not holds("StringEquals", "aws:username", "ali*", {"aws:username": "alice"})
    assert holds("StringEquals", "aws:username", "ali*", {"aws:username": "ali*"})


def test_string_not_equals_is_nor() -> None:
    """A negated operator holds only when no policy value matches."""
    assert holds("StringNotEquals", "k", ["a", "b"], {"k": "c"})
    assert not holds("StringNotEquals", "k", ["a", "b"], {"k": "b"})


def test_string_ignore_case() -> None:
    """IgnoreCase operators fold case on both sides."""
    assert holds("StringEqualsIgnoreCase", "k", "HeLLo", {"k": "hello"})
    assert not holds("StringNotEqualsIgnoreCase", "k", "HeLLo", {"k": "hELLO"})
    assert holds("StringNotEqualsIgnoreCase", "k", "HeLLo", {"k": "bye"})


def test_string_like() -> None:
    """Like operators use * and ? and are case-sensitive."""
    assert holds("StringLike", "s3:prefix", ["", "home/", "home/*"], {"s3:prefix": "home/x/y"})
    assert holds("StringLike", "s3:prefix", ["", "home/"], {"s3:prefix": ""})
    assert not holds("StringLike", "s3:prefix", "home/*", {"s3:prefix": "Home/x"})
    assert holds("StringLike", "k", "a?c", {"k": "abc"})
    assert holds("StringNotLike", "k", ["x*", "y*"], {"k": "abc"})
    assert not holds("StringNotLike", "k", ["x*", "a*"], {"k": "abc"})
    assert not holds("StringLike", "k", "a.c", {"k": "abc"})  # '.' is literal


def test_string_operators_compare_text_of_typed_values() -> None:
    """Numbers and booleans in the request or the policy compare as their text."""
    assert holds("StringEquals", "s3:max-keys", "10", {"s3:max-keys": 10})
    assert holds("StringEquals", "s3:max-keys", 10, {"s3:max-keys": "10"})
    assert holds("StringEquals", "aws:SecureTransport", True, {"aws:SecureTransport": "true"})
    assert holds("StringLike", "k", "1*", {"k": 15})
    assert not holds("StringEquals", "k", "x", {"k": {"x"}.__class__})  # unconvertible: no match


# --- numeric ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("NumericEquals", "10", 10, True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", 10, "10", True),
        ("NumericEquals", "0.1", 0.1, True),
        ("NumericEquals", "10", 11, False),
        ("NumericNotEquals", "10", 11, True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", "10", 9, True),
        ("NumericLessThan", "10", 10, False),
        ("NumericLessThanEquals", "10", 10, True),
        ("NumericLessThanEquals", "10", "10.5", False),
        ("NumericGreaterThan", "10", "10.5", True),
        ("NumericGreaterThan", "10", 10, False),
        ("NumericGreaterThanEquals", "-1.5", -1.5, True),
        ("NumericGreaterThanEquals", "-1.5", -2, False),
        ("NumericEquals", "10", "ten", False),
        ("NumericEquals", "1", True, False),
        ("NumericLessThan", "10", float("nan"), False),
        ("NumericLessThan", "10", Decimal("NaN"), False),
        ("NumericLessThan", "10", Decimal("5"), True),
    ],
)
def test_numeric(operator: str, policy: object, request_value: object, expected: bool) -> None:
    """Numeric operators compare exact decimals; non-numbers never match."""
    assert holds(operator, "s3:max-keys", policy, {"s3:max-keys": request_value}) is expected


def test_numeric_several_policy_values() -> None:
    """Several bounds are OR-ed: less than any of them suffices."""
    assert holds("NumericLessThan", "k", ["5", "100"], {"k": 50})
    assert not holds("NumericGreaterThan", "k", ["5", "100"], {"k": 3})
    assert holds("NumericGreaterThan", "k", ["5", "100"], {"k": 6})


# --- dates --------------------------------------------------------------------------------


def test_parse_date_forms() -> None:
    """W3C ISO 8601 forms, zones and epoch seconds all give the same instants."""
    base = parse_date("2020-01-01T00:00:00Z")
    assert base is not None
    assert parse_date("2020-01-01") == base
    assert parse_date("2020-01") == base
    assert parse_date("2020") == base
    assert parse_date("2020-01-01T00:00Z") == base
    assert parse_date("2020-01-01T00:00:00") == base
    assert parse_date("2020-01-01T01:00:00+01:00") == base
    assert parse_date("2019-12-31T19:00:00-05:00") == base
    assert parse_date("2020-01-01T00:00:00.000Z") == base
    assert parse_date("20200101T000000Z") == base
    assert parse_date("1577836800") == base
    assert parse_date(1577836800) == base
    assert parse_date(datetime(2020, 1, 1, tzinfo=UTC)) == base
    assert parse_date(datetime(2020, 1, 1)) == base
    assert parse_date(datetime(2020, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == base
    assert parse_date(date(2020, 1, 1)) == base
    assert parse_date("2020-01-01T00:00:00.5Z") == base + 500_000


@pytest.mark.parametrize(
    "bad", ["", "yesterday", "2020-13-01", "2020-01-32", "2020-01-01T25:00:00Z", True, None, []]
)
def test_parse_date_rejects(bad: object) -> None:
    """Unparseable dates give None."""
    assert parse_date(bad) is None


def test_date_operators() -> None:
    """Date operators compare instants across formats."""
    now = {"aws:CurrentTime": "2024-06-01T12:00:00Z"}
    assert holds("DateGreaterThan", "aws:CurrentTime", "2024-01-01T00:00:00Z", now)
    assert holds("DateLessThan", "aws:CurrentTime", "2025-01-01", now)
    assert not holds("DateLessThan", "aws:CurrentTime", "2024-06-01T12:00:00Z", now)
    assert holds("DateLessThanEquals", "aws:CurrentTime", "2024-06-01T12:00:00Z", now)
    assert holds("DateGreaterThanEquals", "aws:CurrentTime", "2024-06-01T14:00:00+02:00", now)
    assert holds("DateEquals", "aws:CurrentTime", "1717243200", now)
    assert holds("DateNotEquals", "aws:CurrentTime", "1717243201", now)
    assert holds(
        "DateEquals", "aws:CurrentTime", 1717243200, {"aws:currenttime": datetime(2024, 6, 1, 12)}
    )
    assert holds("DateLessThan", "aws:EpochTime", "2030-01-01", {"aws:EpochTime": 1717243200})
    assert not holds("DateLessThan", "aws:CurrentTime", "2030-01-01", {"aws:CurrentTime": "soon"})


# --- bool, binary, ip ---------------------------------------------------------------------


def test_bool() -> None:
    """Bool accepts true/false in any case and Python booleans."""
    assert holds("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": False})
    assert holds("Bool", "aws:SecureTransport", False, {"aws:SecureTransport": "FALSE"})
    assert holds("Bool", "aws:SecureTransport", "True", {"aws:SecureTransport": True})
    assert not holds("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "false"})
    assert not holds("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": 1})
    assert not holds("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "yes"})


def test_bool_with_variable() -> None:
    """AWS allows policy variables in Bool values."""
    context = {"aws:SecureTransport": True, "aws:PrincipalTag/secure": "true"}
    assert holds("Bool", "aws:SecureTransport", "${aws:PrincipalTag/secure}", context)
    assert not holds("Bool", "aws:SecureTransport", "${aws:PrincipalTag/missing}", context)


def test_binary_equals() -> None:
    """BinaryEquals compares bytes; request values may be bytes or base64 text."""
    assert holds("BinaryEquals", "k", "QmluYXJ5VmFsdWU=", {"k": b"BinaryValue"})
    assert holds("BinaryEquals", "k", "QmluYXJ5VmFsdWU=", {"k": "QmluYXJ5VmFsdWU="})
    assert not holds("BinaryEquals", "k", "QmluYXJ5VmFsdWU=", {"k": b"Other"})
    assert not holds("BinaryEquals", "k", "QmluYXJ5VmFsdWU=", {"k": "not base64!"})
    assert not holds("BinaryEquals", "k", "QmluYXJ5VmFsdWU=", {"k": 5})


@pytest.mark.parametrize(
    ("cidr", "address", "expected"),
    [
        ("203.0.113.0/24", "203.0.113.7", True),
        ("203.0.113.0/24", "203.0.114.7", False),
        ("203.0.113.7", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.8", False),
        ("203.0.113.9/24", "203.0.113.200", True),
        ("2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
        ("2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False),
        ("2001:db8::1", "2001:db8::1", True),
        ("10.0.0.0/8", "2001:db8::1", False),
        ("10.0.0.0/8", "::ffff:10.1.2.3", True),
        ("10.0.0.0/8", "not-an-ip", False),
        ("0.0.0.0/0", "8.8.8.8", True),
    ],
)
def test_ip_address(cidr: str, address: str, expected: bool) -> None:
    """IpAddress matches CIDR blocks (bare address = /32 or /128); NotIpAddress negates."""
    assert holds("IpAddress", "aws:SourceIp", cidr, {"aws:SourceIp": address}) is expected
    assert holds("NotIpAddress", "aws:SourceIp", cidr, {"aws:SourceIp": address}) is not expected


def test_ip_address_objects_and_lists() -> None:
    """ipaddress objects are accepted; mixed v4/v6 policy lists are OR-ed."""
    assert holds(
        "IpAddress",
        "aws:SourceIp",
        ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
        {"aws:SourceIp": ipaddress.ip_address("2001:db8:1234:5678::9")},
    )
    assert not holds("IpAddress", "aws:SourceIp", "10.0.0.0/8", {"aws:SourceIp": 167772161})


# --- arn ----------------------------------------------------------------------------------


def test_arn_operators() -> None:
    """Arn operators match part by part; Equals and Like are the same."""
    arn = {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}
    for operator in ("ArnEquals", "ArnLike"):
        assert holds(operator, "aws:SourceArn", "arn:aws:sns:*:123456789012:*", arn)
        assert not holds(operator, "aws:SourceArn", "arn:aws:sns:*:999999999999:*", arn)
        assert not holds(operator, "aws:SourceArn", "*", arn)
    for operator in ("ArnNotEquals", "ArnNotLike"):
        assert not holds(operator, "aws:SourceArn", "arn:aws:sns:*:123456789012:*", arn)
        assert holds(operator, "aws:SourceArn", "arn:aws:sqs:*:*:*", arn)
    documented = {
        "k": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d.txt"
    }
    assert not holds("ArnLike", "k", "arn:aws:someservice:*:111122223333:finance/*", documented)
    assert holds("StringLike", "k", "arn:aws:someservice:*:111122223333:finance/*", documented)
    assert not holds("ArnLike", "k", "arn:aws:*", {"k": 5})


def test_arn_with_variables() -> None:
    """Variables in ARN values are substituted; their text stays literal."""
    pattern = "arn:aws:iam::111122223333:user/${aws:username}"
    context = {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice", "aws:username": "alice"}
    assert holds("ArnEquals", "aws:PrincipalArn", pattern, context)
    sneaky = {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice", "aws:username": "*"}
    assert not holds("ArnLike", "aws:PrincipalArn", pattern, sneaky)
    assert not holds("ArnLike", "aws:PrincipalArn", pattern, {"aws:PrincipalArn": "arn:x"})
    escaped = "arn:aws:iam::111122223333:user/a${*}"
    assert holds("ArnLike", "k", escaped, {"k": "arn:aws:iam::111122223333:user/a*"})
    assert not holds("ArnLike", "k", escaped, {"k": "arn:aws:iam::111122223333:user/ab"})


# --- variables in string values -----------------------------------------------------------


def test_string_values_with_variables() -> None:
    """${...} in String values is substituted per request; substituted '*' is literal."""
    home = "home/${aws:username}/*"
    assert holds(
        "StringLike", "s3:prefix", home, {"s3:prefix": "home/bob/x", "aws:username": "bob"}
    )
    assert not holds(
        "StringLike", "s3:prefix", home, {"s3:prefix": "home/bob/x", "aws:username": "*"}
    )
    assert holds("StringEquals", "k", "${aws:username}", {"k": "bob", "aws:username": "bob"})
    assert holds(
        "StringEqualsIgnoreCase", "k", "${aws:username}", {"k": "BOB", "aws:username": "bob"}
    )
    # Unresolved: the value matches nothing; the other values still count.
    assert not holds("StringEquals", "k", "${aws:username}", {"k": "bob"})
    assert holds("StringEquals", "k", ["${aws:username}", "bob"], {"k": "bob"})
    assert holds("StringNotEquals", "k", "${aws:username}", {"k": "bob"})
    # Defaults apply.
    assert holds("StringEquals", "k", "${aws:username, 'anon'}", {"k": "anon"})


def test_variables_literal_in_old_version() -> None:
    """Under 2008-10-17 the ${...} text is compared literally."""
    context = {"k": "${aws:username}", "aws:username": "bob"}
    assert holds("StringEquals", "k", "${aws:username}", context, version=V08)
    assert not holds("StringEquals", "k", "${aws:username}", context)


# --- multivalued keys and set qualifiers --------------------------------------------------


def test_for_all_values() -> None:
    """ForAllValues: every request value must match some policy value."""
    allowed = ["PostDateTime", "Message", "Tags"]
    key = "dynamodb:requestedAttributes"
    assert holds("ForAllValues:StringLike", key, allowed, {key: ["PostDateTime", "Message"]})
    assert not holds("ForAllValues:StringLike", key, allowed, {key: ["PostDateTime", "UserName"]})
    assert holds("ForAllValues:StringNotEquals", key, ["ID"], {key: ["A", "B"]})
    assert not holds("ForAllValues:StringNotEquals", key, ["ID"], {key: ["A", "ID"]})


def test_for_any_value() -> None:
    """ForAnyValue: at least one request value must match some policy value."""
    key = "dynamodb:requestedAttributes"
    forbidden = ["ID", "PostDateTime"]
    assert holds("ForAnyValue:StringLike", key, forbidden, {key: ["UserName", "PostDateTime"]})
    assert not holds("ForAnyValue:StringLike", key, forbidden, {key: ["UserName", "Message"]})
    assert holds("ForAnyValue:StringNotEquals", key, ["ID"], {key: ["ID", "X"]})
    assert not holds("ForAnyValue:StringNotEquals", key, ["ID"], {key: ["ID", "ID"]})
    assert holds("ForAnyValue:NumericLessThan", "k", "5", {"k": [10, 3]})
    assert holds("ForAllValues:IpAddress", "k", "10.0.0.0/8", {"k": ["10.0.0.1", "10.9.9.9"]})


def test_plain_operator_on_several_request_values() -> None:
    """Documented decision: positive = any value matches; negated = none matches."""
    tags = {"aws:TagKeys": ["env", "owner"]}
    assert holds("StringEquals", "aws:TagKeys", "owner", tags)
    assert not holds("StringEquals", "aws:TagKeys", "cost", tags)
    assert not holds("StringNotEquals", "aws:TagKeys", "owner", tags)
    assert holds("StringNotEquals", "aws:TagKeys", "cost", tags)


# --- blocks -------------------------------------------------------------------------------


def test_block_is_and_of_operators_and_keys() -> None:
    """All operators and all keys must hold."""
    block = ConditionBlock.compile(
        {
            "StringEquals": {"aws:username": ["alice"], "aws:PrincipalTag/team": ["red"]},
            "Bool": {"aws:SecureTransport": ["true"]},
        },
        version=V12,
    )
    good = {"aws:username": "alice", "aws:principaltag/team": "red", "aws:SecureTransport": True}
    assert block.matches(RequestContext.from_mapping(good))
    for key in good:
        bad = dict(good)
        bad[key] = "nope"
        assert not block.matches(RequestContext.from_mapping(bad))
    assert block.keys == frozenset({"aws:username", "aws:PrincipalTag/team", "aws:SecureTransport"})
    assert bool(block)


def test_missing_keys_report() -> None:
    """evaluate() reports absent keys and unresolved variables, as written."""
    block = ConditionBlock.compile(
        {
            "StringEqualsIfExists": {"aws:PrincipalTag/Team": ["${aws:username}"]},
            "Null": {"aws:TokenIssueTime": ["true"]},
        },
        version=V12,
    )
    result = block.evaluate(RequestContext.from_mapping({}))
    assert result == ConditionResult(
        True, frozenset({"aws:PrincipalTag/Team", "aws:TokenIssueTime", "aws:username"})
    )
    assert block.variables == frozenset({"aws:username"})
    full = RequestContext.from_mapping(
        {"aws:principaltag/team": "x", "aws:tokenissuetime": "2020", "aws:username": "x"}
    )
    assert block.evaluate(full) == ConditionResult(False, frozenset())


def test_empty_block() -> None:
    """No Condition element always matches."""
    assert EMPTY.matches(RequestContext.from_mapping({}))
    assert EMPTY.evaluate(RequestContext.from_mapping(None)).matched
    assert not EMPTY
    assert ConditionBlock.compile({}, version=V12) is EMPTY


def test_single_value_instead_of_list() -> None:
    """A bare value is taken as a one-element list."""
    block = ConditionBlock.compile({"StringEquals": {"k": "v"}}, version=V12)  # type: ignore[dict-item]
    assert block.matches(RequestContext.from_mapping({"k": "v"}))


def test_key_names_case_insensitive() -> None:
    """Condition keys match the context whatever their case."""
    assert holds("StringEquals", "AWS:UserName", "a", {"aws:username": "a"})


# --- compile-time validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"StringEqualz": {"k": ["v"]}}, "StringEqualz"),
        ({"stringEquals": {"k": ["v"]}}, "stringEquals"),
        ({"NullIfExists": {"k": ["true"]}}, "IfExists"),
        ({"ForAnyValue:Null": {"k": ["true"]}}, "ForAllValues/ForAnyValue"),
        ({"ForSomeValues:StringEquals": {"k": ["v"]}}, "ForSomeValues"),
        ({"ForAllValues:ForAnyValue:StringEquals": {"k": ["v"]}}, "ForAnyValue"),
        ({"IfExists": {"k": ["v"]}}, "IfExists"),
        ({"StringEqualsIfExistsIfExists": {"k": ["v"]}}, "StringEqualsIfExistsIfExists"),
        ({"BinaryNotEquals": {"k": ["QQ=="]}}, "BinaryNotEquals"),
        ({"NumericEquals": {"s3:max-keys": ["abc"]}}, "s3:max-keys"),
        ({"NumericEquals": {"k": [True]}}, "NumericEquals"),
        ({"NumericLessThan": {"k": ["${aws:username}"]}}, "variables"),
        ({"DateLessThan": {"aws:CurrentTime": ["tomorrow"]}}, "aws:CurrentTime"),
        ({"DateLessThan": {"k": [False]}}, "DateLessThan"),
        ({"Bool": {"k": ["yes"]}}, "Bool"),
        ({"Bool": {"k": [1]}}, "Bool"),
        ({"Null": {"k": ["maybe"]}}, "Null"),
        ({"BinaryEquals": {"k": ["not base64!"]}}, "BinaryEquals"),
        ({"BinaryEquals": {"k": [5]}}, "BinaryEquals"),
        ({"IpAddress": {"aws:SourceIp": ["10.0.0.0/33"]}}, "aws:SourceIp"),
        ({"IpAddress": {"aws:SourceIp": ["example.com"]}}, "IpAddress"),
        ({"NotIpAddress": {"aws:SourceIp": [10]}}, "NotIpAddress"),
        ({"ArnLike": {"k": [5]}}, "ArnLike"),
        ({"StringEquals": {"k": []}}, "at least one"),
        ({"StringEquals": {"k": [None]}}, "StringEquals"),
        ({"StringEquals": {"k": [["nested"]]}}, "StringEquals"),
        ({"StringEquals": {"k": [{"a": 1}]}}, "StringEquals"),
        ({"StringEquals": {"": ["v"]}}, "key"),
        ({"StringEquals": ["v"]}, "StringEquals"),
        ({"StringLike": {"k": ["${aws:username"]}}, "variable"),
    ],
)
def test_compile_errors(raw: object, fragment: str) -> None:
    """Invalid blocks raise ValueError naming the operator or key."""
    with pytest.raises(ValueError) as caught:
        ConditionBlock.compile(raw, version=V12)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_compile_rejects_non_mapping() -> None:
    """A Condition that is not an object is a ValueError."""
    with pytest.raises(ValueError):
        ConditionBlock.compile(["StringEquals"], version=V12)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ConditionBlock.compile({5: {"k": ["v"]}}, version=V12)  # type: ignore[dict-item]


def test_numbers_and_dates_helpers() -> None:
    """parse_number is exact and refuses non-numbers."""
    assert parse_number("10") == Decimal(10)
    assert parse_number(".5") == Decimal("0.5")
    assert parse_number("1e3") == Decimal(1000)
    assert parse_number(0.1) == Decimal("0.1")
    for bad in ("", "1.2.3", "inf", "NaN", " 1", True, None, float("inf"), Decimal("sNaN")):
        assert parse_number(bad) is None


def test_condition_introspection() -> None:
    """Compiled conditions expose what was written."""
    block = ConditionBlock.compile(
        {"ForAnyValue:StringNotLikeIfExists": {"aws:TagKeys": ["a*"]}}, version=V12
    )
    (condition,) = block.conditions
    assert condition.operator == "ForAnyValue:StringNotLikeIfExists"
    assert condition.base == "StringNotLike"
    assert condition.qualifier == "any"
    assert condition.if_exists
    assert condition.negated
    assert condition.values == ("a*",)
    assert condition.missing(RequestContext.from_mapping({})) == ["aws:TagKeys"]
    assert condition.missing(RequestContext.from_mapping({"AWS:TAGKEYS": []})) == []


# --- never raises -------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
    st.datetimes(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(["10.0.0.1", "::1", "2020-01-01", "1700000000", "true", "arn:aws:s3:::b"]),
)
_ALL_OPERATORS = [
    prefix + op + suffix
    for op, _ in POSITIVE + NEGATED
    for prefix in ("", "ForAllValues:", "ForAnyValue:")
    for suffix in ("", "IfExists")
]
_VALUE_FOR = dict(POSITIVE + NEGATED)
_BLOCKS = [
    ConditionBlock.compile(
        {op: {"k": [_VALUE_FOR[op.split(":")[-1].removesuffix("IfExists")], "${aws:username}"]}}
        if op.split(":")[-1].removesuffix("IfExists").startswith(("String", "Arn"))
        else {op: {"k": [_VALUE_FOR[op.split(":")[-1].removesuffix("IfExists")]]}},
        version=V12,
    )
    for op in _ALL_OPERATORS
] + [ConditionBlock.compile({"Null": {"k": ["true"]}}, version=V12)]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)),
    st.one_of(st.none(), _SCALARS),
)
def test_evaluation_never_raises(value: object, username: object) -> None:
    """Any request value of any type evaluates without raising, under every operator."""
    context = RequestContext.from_mapping({"k": value, "aws:username": username})
    for block in _BLOCKS:
        result = block.evaluate(context)
        assert isinstance(result.matched, bool)
        assert result.matched is block.matches(context)
