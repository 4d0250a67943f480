"""Tests for objstore.iam.context: the request context."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from objstore.errors import InvalidInput
from objstore.iam.context import EMPTY_CONTEXT, RequestContext, format_datetime, value_to_string


def test_case_insensitive_lookup() -> None:
    """Keys are found under any spelling, tag keys included."""
    ctx = RequestContext.from_mapping({"aws:SourceIp": "10.0.0.1", "aws:PrincipalTag/Team": "x"})
    assert ctx.get("AWS:SOURCEIP") == ("10.0.0.1",)
    assert ctx.get("aws:principaltag/team") == ("x",)
    assert ctx.get_lower("aws:sourceip") == ("10.0.0.1",)
    assert "Aws:SourceIP" in ctx
    assert ctx.keys() == frozenset({"aws:sourceip", "aws:principaltag/team"})


def test_absent_key_is_none() -> None:
    """An absent key gives None, an empty list gives an empty tuple."""
    ctx = RequestContext.from_mapping({"aws:TagKeys": [], "k": None})
    assert ctx.get("aws:TagKeys") == ()
    assert ctx.get("k") is None
    assert ctx.get("missing") is None
    assert len(ctx) == 1


def test_values_kept_typed() -> None:
    """Values keep their Python type; lists and tuples become tuples."""
    when = datetime(2024, 1, 2, tzinfo=UTC)
    ip = ipaddress.ip_address("10.0.0.1")
    ctx = RequestContext.from_mapping(
        {"n": 5, "b": True, "d": when, "ip": ip, "bin": b"\x00", "list": ["a", None, "b"]}
    )
    assert ctx.get("n") == (5,)
    assert ctx.get("b") == (True,)
    assert ctx.get("d") == (when,)
    assert ctx.get("ip") == (ip,)
    assert ctx.get("bin") == (b"\x00",)
    assert ctx.get("list") == ("a", "b")


def test_from_mapping_rejects_bad_input() -> None:
    """Duplicate spellings, non-string keys and mapping values are InvalidInput."""
    with pytest.raises(InvalidInput, match="twice"):
        RequestContext.from_mapping({"aws:username": "a", "AWS:UserName": "b"})
    with pytest.raises(InvalidInput):
        RequestContext.from_mapping({1: "a"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        RequestContext.from_mapping({"": "a"})
    with pytest.raises(InvalidInput):
        RequestContext.from_mapping({"k": {"a": 1}})


def test_with_values_overrides_and_removes() -> None:
    """with_values replaces keys of any spelling and None removes a key."""
    ctx = RequestContext.from_mapping({"aws:username": "alice", "k": "v"})
    newer = ctx.with_values({"AWS:UserName": "bob", "k": None, "aws:userid": "AID"})
    assert newer.get("aws:username") == ("bob",)
    assert newer.get("k") is None
    assert newer.get("aws:userid") == ("AID",)
    assert ctx.get("aws:username") == ("alice",)  # the original is unchanged
    assert ctx.get("k") == ("v",)


def test_empty_and_equality() -> None:
    """None or {} give the empty context; equality ignores key spelling."""
    assert RequestContext.from_mapping(None) is EMPTY_CONTEXT
    assert RequestContext.from_mapping({}) == EMPTY_CONTEXT
    assert RequestContext.from_mapping({"A": 1}) == RequestContext.from_mapping({"a": [1]})
    assert RequestContext.from_mapping({"A": 1}) != RequestContext.from_mapping({"a": 2})
    assert hash(RequestContext.from_mapping({"A": 1})) == hash(
        RequestContext.from_mapping({"a": 1})
    )
    assert "aws:username" in repr(RequestContext.from_mapping({"aws:username": "x"}))
    assert RequestContext.from_mapping({"X": "y"}).items() == [("X", ("y",))]


def test_value_to_string() -> None:
    """Context values have the text forms AWS uses."""
    assert value_to_string("x") == "x"
    assert value_to_string(False) == "false"
    assert value_to_string(7) == "7"
    assert value_to_string(7.0) == "7"
    assert value_to_string(0.5) == "0.5"
    assert value_to_string(ipaddress.ip_address("::1")) == "::1"
    assert value_to_string(b"hi") == "aGk="
    assert value_to_string(Decimal("1.50")) == "1.50"
    assert value_to_string(Decimal("NaN")) is None
    assert value_to_string(["a"]) is None
    assert value_to_string(None) is None


def test_format_datetime() -> None:
    """Datetimes print as UTC ISO 8601 with a Z; naive ones are taken as UTC."""
    aware = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(aware) == "2024-01-02T01:04:05Z"
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"
    assert format_datetime(datetime(2024, 1, 2, 0, 0, 0, 500, tzinfo=UTC)).endswith(".000500Z")
