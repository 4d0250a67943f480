"""The POST policy of browser uploads (objstore/gateway/post_policy.py): parsing, the
condition matcher (with a hypothesis model), sizes and ``${filename}``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objstore.errors import AccessDenied, EntityTooLarge, EntityTooSmall, InvalidPolicyDocument
from objstore.gateway import post_policy as pp

FUTURE = "2099-01-01T00:00:00.000Z"


def encode(document: Any) -> str:
    text = document if isinstance(document, str) else json.dumps(document)
    return base64.b64encode(text.encode()).decode()


def policy(*conditions: Any, expiration: str = FUTURE) -> pp.PostPolicy:
    return pp.parse_policy(encode({"expiration": expiration, "conditions": list(conditions)}))


def test_parse_all_condition_forms() -> None:
    parsed = policy(
        {"bucket": "b"},
        ["eq", "$Key", "k"],
        ["StArTs-WiTh", "$Content-Type", "text/"],
        ["content-length-range", 1, "10"],
    )
    assert parsed.expiration == datetime(2099, 1, 1, tzinfo=UTC)
    assert parsed.conditions == (
        pp.Condition("eq", "bucket", "b"),
        pp.Condition("eq", "key", "k"),
        pp.Condition("starts-with", "content-type", "text/"),
    )
    assert parsed.length_ranges == ((1, 10),)


def test_base64_with_line_breaks_is_read() -> None:
    encoded = encode({"expiration": FUTURE, "conditions": [{"key": "k"}]})
    wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    assert pp.parse_policy(wrapped).conditions == (pp.Condition("eq", "key", "k"),)


def test_dollar_escape_of_aws() -> None:
    # JSON does not allow \$; AWS documents it as a dollar sign. \\$ stays a backslash + $.
    raw = '{"expiration": "%s", "conditions": [["starts-with", "$key", "\\$a"], {"x": "\\\\$b"}]}'
    parsed = pp.parse_policy(encode(raw % FUTURE))
    assert parsed.conditions[0].value == "$a"
    assert parsed.conditions[1].value == "\\$b"


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[1, 2]",
        "[" * 5000,  # a RecursionError in json (review 10c, F1)
        {"conditions": []},  # no expiration
        {"EXPIRATION": FUTURE, "conditions": []},  # names are case-sensitive
        {"expiration": FUTURE},  # no conditions
        {"expiration": FUTURE, "CONDITIONS": []},
        {"expiration": "2099-01-01 00:00:00+00:00", "conditions": []},
        {"expiration": "2099-02-30T00:00:00Z", "conditions": []},
        {"expiration": 4070908800, "conditions": []},
        {"expiration": FUTURE, "conditions": {"key": "k"}},
        {"expiration": FUTURE, "conditions": [{}]},
        {"expiration": FUTURE, "conditions": [{"a": "1", "b": "2"}]},
        {"expiration": FUTURE, "conditions": [{"a": 1}]},
        {"expiration": FUTURE, "conditions": [["eq", "key", "k"]]},  # no $
        {"expiration": FUTURE, "conditions": [["eq", "$key"]]},
        {"expiration": FUTURE, "conditions": [["matches", "$key", "k"]]},
        {"expiration": FUTURE, "conditions": [["content-length-range", 0]]},
        {"expiration": FUTURE, "conditions": [["content-length-range", -1, 0]]},
        {"expiration": FUTURE, "conditions": [["content-length-range", 5, 1]]},
        {"expiration": FUTURE, "conditions": [["content-length-range", True, 1]]},
        {"expiration": FUTURE, "conditions": [7]},
    ],
)
def test_invalid_documents(document: Any) -> None:
    with pytest.raises(InvalidPolicyDocument):
        pp.parse_policy(encode(document))


def test_not_base64() -> None:
    with pytest.raises(InvalidPolicyDocument):
        pp.parse_policy("!!!not-base64!!!")


def test_expiration() -> None:
    parsed = policy(expiration="2030-06-01T12:00:00Z")
    pp.check_expiration(parsed, datetime(2030, 6, 1, 12, tzinfo=UTC).timestamp())
    with pytest.raises(AccessDenied, match="Policy expired"):
        pp.check_expiration(parsed, datetime(2030, 6, 1, 12, 0, 1, tzinfo=UTC).timestamp())


def test_fields_and_bucket() -> None:
    parsed = policy({"bucket": "b"}, ["starts-with", "$key", "up/"], {"acl": "private"})
    pp.check_fields(parsed, {"key": "up/a", "acl": "private"}, "b")
    with pytest.raises(AccessDenied, match=r'Condition failed: \["eq", "\$bucket", "b"\]'):
        pp.check_fields(parsed, {"key": "up/a", "acl": "private"}, "other")
    with pytest.raises(AccessDenied, match="starts-with"):
        pp.check_fields(parsed, {"key": "down/a", "acl": "private"}, "b")
    with pytest.raises(AccessDenied, match="Extra input fields: x-amz-meta-a"):
        pp.check_fields(parsed, {"key": "up/a", "acl": "private", "x-amz-meta-a": "1"}, "b")
    # A condition on a field the form lacks compares the empty string.
    with pytest.raises(AccessDenied):
        pp.check_fields(parsed, {"key": "up/a"}, "b")


def test_exempt_fields_need_no_condition() -> None:
    parsed = policy(["starts-with", "$key", ""])
    fields = {
        "key": "k",
        "policy": "p",
        "signature": "s",
        "awsaccesskeyid": "a",
        "x-amz-signature": "s",
        "x-ignore-submit": "Upload",
        "x-amz-checksum-sha256": "c",
        "file": "",
    }
    pp.check_fields(parsed, fields, "b")
    # The SigV4 fields are not exempt (AWS: the policy names them).
    with pytest.raises(AccessDenied, match="x-amz-credential"):
        pp.check_fields(parsed, {**fields, "x-amz-credential": "c"}, "b")


def test_sizes() -> None:
    parsed = policy(["content-length-range", 2, 4])
    pp.check_size(parsed, 1, final=False)  # more may come
    pp.check_size(parsed, 4, final=True)
    with pytest.raises(EntityTooLarge) as large:
        pp.check_size(parsed, 5, final=False)
    assert large.value.details == {"ProposedSize": 5, "MaxSizeAllowed": 4}
    with pytest.raises(EntityTooSmall):
        pp.check_size(parsed, 1, final=True)
    pp.check_size(policy(), 10**12, final=True)  # no range: any size


@pytest.mark.parametrize(
    ("value", "filename", "expected"),
    [
        ("up/${filename}", "a.txt", "up/a.txt"),
        ("${filename}", "C:\\Program Files\\dir\\a.txt", "a.txt"),
        ("${filename}-${filename}", "x/y/z", "z-z"),
        ("up/${filename}", "", "up/"),
        ("plain", "a", "plain"),
    ],
)
def test_expand_filename(value: str, filename: str, expected: str) -> None:
    assert pp.expand_filename(value, filename) == expected


# --- the matcher against a model ---------------------------------------------------

names = st.sampled_from(["key", "acl", "content-type", "x-amz-meta-a", "success_action_status"])
values = st.text(alphabet="ab/$.", max_size=6)


@given(
    fields=st.dictionaries(names, values, min_size=1),
    picks=st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=5, max_size=5),
    spoil=st.one_of(st.none(), st.integers(0, 4)),
)
def test_matcher_model(
    fields: dict[str, str], picks: list[tuple[bool, int]], spoil: int | None
) -> None:
    """Conditions made from the fields (exact values, or prefixes of them, named in any
    case) accept the form; spoiling one condition's value (a value no field has: it
    ends in "!") refuses it; dropping a field's only condition refuses it too."""
    conditions: list[Any] = []
    for (exact, cut), (name, value) in zip(picks, sorted(fields.items()), strict=False):
        named = "$" + name.upper()
        conditions.append(["eq", named, value] if exact else ["starts-with", named, value[:cut]])
    if spoil is not None and spoil < len(conditions):
        conditions[spoil][2] += "!"
        with pytest.raises(AccessDenied, match="Condition failed"):
            pp.check_fields(policy(*conditions), fields, "b")
        return
    pp.check_fields(policy(*conditions), fields, "b")
    if len(conditions) > 1:
        with pytest.raises(AccessDenied, match="Extra input fields"):
            pp.check_fields(policy(*conditions[1:]), fields, "b")
