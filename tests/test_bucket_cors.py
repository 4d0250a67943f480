"""Bucket CORS in the library: the configuration (S3's validation), where it lives, who
may set it, and how requests are matched (preflight and actual)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from conftest import user_client
from hypothesis import given
from hypothesis import strategies as st

import objstore
from objstore import aio
from objstore.errors import (
    AccessDenied,
    AccessForbidden,
    BadRequest,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NoSuchBucket,
    NoSuchCORSConfiguration,
)
from objstore.ns import cors
from objstore.ns.bucket_settings import CORS, setting_key
from objstore.types import CORSRule

GET_ANY = CORSRule(allowed_methods=("GET",), allowed_origins=("*",))
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def test_round_trip(root: objstore.Client) -> None:
    with pytest.raises(NoSuchCORSConfiguration) as err:
        root.get_bucket_cors("bkt")
    assert err.value.http_status == 404
    rules = [
        CORSRule(
            allowed_methods=("PUT", "POST"),
            allowed_origins=("https://*.example.com",),
            allowed_headers=("x-amz-*", "content-type"),
            expose_headers=("ETag",),
            max_age_seconds=3000,
            id="uploads",
        ),
        GET_ANY,
    ]
    root.put_bucket_cors("bkt", rules)
    assert root.get_bucket_cors("bkt") == rules
    # S3's (and boto3's) names, as a mapping; replaces the whole configuration.
    root.put_bucket_cors("bkt", [{"AllowedMethods": ["HEAD"], "AllowedOrigins": ["a"]}])
    assert root.get_bucket_cors("bkt") == [CORSRule(("HEAD",), ("a",))]
    root.delete_bucket_cors("bkt")
    with pytest.raises(NoSuchCORSConfiguration):
        root.get_bucket_cors("bkt")
    root.delete_bucket_cors("bkt")  # none is not an error


@pytest.mark.parametrize(
    ("rules", "error", "text"),
    [
        ([], MalformedXML, "at least one"),
        ([GET_ANY] * 101, MalformedXML, "at most 100"),
        ([CORSRule(("get",), ("*",))], InvalidRequest, "Unsupported method is get"),
        ([CORSRule(("PATCH",), ("*",))], InvalidRequest, "Unsupported method is PATCH"),
        ([CORSRule((), ("*",))], MalformedXML, "AllowedMethod"),
        ([CORSRule(("GET",), ())], MalformedXML, "AllowedOrigin"),
        ([CORSRule(("GET",), ("http://*.*.com",))], InvalidRequest, "more than one wildcard"),
        ([CORSRule(("GET",), ("*",), ("x-*-*",))], InvalidRequest, "more than one wildcard"),
        ([CORSRule(("GET",), ("*",), id="i" * 256)], MalformedXML, "ID"),
        ([CORSRule(("GET",), ("https://a\r\nSet-Cookie: x",))], InvalidRequest, "control"),
        ([CORSRule(("GET",), ("*",), ("x-a\n",))], InvalidRequest, "control"),
        ([CORSRule(("GET",), ("*",), expose_headers=("ETag\x00",))], InvalidRequest, "control"),
        ([CORSRule(("GET",), ("",))], InvalidRequest, "empty"),
        ([CORSRule(("GET",), ("*",), max_age_seconds=-1)], MalformedXML, "MaxAgeSeconds"),
        ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "Other": 1}], InvalidArgument, ""),
        ([{"AllowedMethods": "GET", "AllowedOrigins": ["*"]}], InvalidArgument, ""),
        (
            [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAgeSeconds": "9"}],
            InvalidArgument,
            "",
        ),
        ("GET", InvalidArgument, ""),
        ([42], InvalidArgument, ""),
    ],
)
def test_invalid_configurations_are_refused_and_change_nothing(
    root: objstore.Client, rules: object, error: type[Exception], text: str
) -> None:
    root.put_bucket_cors("bkt", [GET_ANY])
    with pytest.raises(error) as err:
        root.put_bucket_cors("bkt", rules)  # type: ignore[arg-type]
    assert text in str(err.value)
    assert root.get_bucket_cors("bkt") == [GET_ANY]


def test_limits_themselves_are_accepted(root: objstore.Client) -> None:
    rules = [CORSRule(("GET",), (f"https://{i}.example",), id="i" * 255) for i in range(100)]
    root.put_bucket_cors("bkt", rules)
    assert root.get_bucket_cors("bkt") == rules


def test_missing_bucket(store: objstore.Store) -> None:
    root = store.root
    for call in (
        lambda: root.put_bucket_cors("nope", [GET_ANY]),
        lambda: root.get_bucket_cors("nope"),
        lambda: root.delete_bucket_cors("nope"),
        lambda: store.namespace.cors_answer("nope", "https://a", "GET"),
    ):
        with pytest.raises(NoSuchBucket):
            call()


def test_configuration_goes_with_the_bucket(store: objstore.Store, root: objstore.Client) -> None:
    root.put_bucket_cors("bkt", [GET_ANY])
    root.delete_bucket("bkt")
    root.create_bucket("bkt")
    with pytest.raises(NoSuchCORSConfiguration):
        root.get_bucket_cors("bkt")
    # A record a deleted namesake left behind (an older version did not delete it)
    # does not apply: its creation stamp is not this bucket's.
    stale = {"c": 1, "v": cors.encode([GET_ANY])}
    with store.namespace.meta.begin_write() as txn:
        txn.put(setting_key("bkt", CORS), json.dumps(stale).encode())
    with pytest.raises(NoSuchCORSConfiguration):
        root.get_bucket_cors("bkt")
    assert store.namespace.cors_answer("bkt", "https://a", "GET") == {}


def test_actions_are_s3s(store: objstore.Store, root: objstore.Client) -> None:
    """Put and Delete need s3:PutBucketCORS, Get s3:GetBucketCORS, as AWS."""
    with pytest.raises(AccessDenied):
        user_client(store, "nobody").put_bucket_cors("bkt", [GET_ANY])
    writer = user_client(store, "writer", "s3:PutBucketCORS")
    writer.put_bucket_cors("bkt", [GET_ANY])
    with pytest.raises(AccessDenied):
        writer.get_bucket_cors("bkt")
    reader = user_client(store, "reader", "s3:GetBucketCORS")
    assert reader.get_bucket_cors("bkt") == [GET_ANY]
    with pytest.raises(AccessDenied):
        reader.delete_bucket_cors("bkt")
    writer.delete_bucket_cors("bkt")
    with pytest.raises(NoSuchCORSConfiguration):
        reader.get_bucket_cors("bkt")


def test_async_client(store: objstore.Store) -> None:
    async def run() -> None:
        client = aio.AsyncStore(store).root
        await client.create_bucket("bkt")
        await client.put_bucket_cors("bkt", [GET_ANY])
        assert await client.get_bucket_cors("bkt") == [GET_ANY]
        answer = await aio.AsyncStore(store).cors("bkt", "https://a", "GET")
        assert answer["Access-Control-Allow-Origin"] == "*"
        await client.delete_bucket_cors("bkt")
        with pytest.raises(NoSuchCORSConfiguration):
            await client.get_bucket_cors("bkt")

    asyncio.run(run())


# ------------------------------------------------------------------ matching

RULES = [
    CORSRule(("GET",), ("*suffix",)),
    CORSRule(("GET",), ("start*end",)),
    CORSRule(("GET",), ("prefix*",)),
    CORSRule(("PUT",), ("*.put",), ("x-amz-*", "Content-Type"), ("ETag",), 60),
]


@pytest.mark.parametrize(
    ("origin", "method", "allowed"),
    [
        ("foo.suffix", "GET", True),
        ("foo.bar", "GET", False),
        ("foo.suffix.get", "GET", False),
        ("startend", "GET", True),
        ("start12end", "GET", True),
        ("0start12end", "GET", False),
        ("prefix", "GET", True),
        ("bla.prefix", "GET", False),
        ("foo.put", "GET", False),
        ("foo.put", "PUT", True),
        ("FOO.SUFFIX", "GET", False),  # origins compare case-sensitively
    ],
)
def test_origin_and_method_matching(origin: str, method: str, allowed: bool) -> None:
    found = cors.find_rule(RULES, origin, method)
    assert (found is not None) == allowed
    answer = cors.actual(RULES, origin, method)
    if allowed:
        assert answer["Access-Control-Allow-Origin"] == origin
        assert answer["Access-Control-Allow-Methods"] == method
        assert answer["Access-Control-Allow-Credentials"] == "true"
        assert answer["Vary"] == VARY
    else:
        assert answer == {}


def test_preflight_answers(store: objstore.Store, root: objstore.Client) -> None:
    root.put_bucket_cors("bkt", RULES)
    answer = store.namespace.cors_answer(
        "bkt",
        "a.put",
        "PUT",
        preflight=True,
        request_headers="X-Amz-Meta-Colour, content-type",
    )
    assert answer == {
        "Access-Control-Allow-Origin": "a.put",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "x-amz-meta-colour, content-type",
        "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Max-Age": "60",
        "Vary": VARY,
    }
    # A header no AllowedHeader matches: no rule allows it.
    with pytest.raises(AccessForbidden) as err:
        store.namespace.cors_answer(
            "bkt", "a.put", "PUT", preflight=True, request_headers="authorization"
        )
    assert err.value.http_status == 403
    assert "This CORS request is not allowed" in err.value.message
    with pytest.raises(AccessForbidden):
        store.namespace.cors_answer("bkt", "foo.bar", "GET", preflight=True)
    with pytest.raises(BadRequest, match="Origin request header needed"):
        store.namespace.cors_answer("bkt", None, "GET", preflight=True)
    with pytest.raises(BadRequest, match="Access-Control-Request-Method: null"):
        store.namespace.cors_answer("bkt", "a.put", None, preflight=True)
    with pytest.raises(BadRequest, match="PATCH"):
        store.namespace.cors_answer("bkt", "a.put", "PATCH", preflight=True)
    root.delete_bucket_cors("bkt")
    with pytest.raises(AccessForbidden, match="CORS is not enabled"):
        store.namespace.cors_answer("bkt", "a.put", "PUT", preflight=True)
    assert store.namespace.cors_answer("bkt", "a.put", "PUT") == {}


def test_wildcard_origin_answers_star_without_credentials() -> None:
    answer = cors.actual([GET_ANY], "https://anything", "GET")
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer
    assert cors.actual([GET_ANY], "https://anything", "PUT") == {}
    assert cors.actual([GET_ANY], None, "GET") == {}


def test_first_matching_rule_wins() -> None:
    rules = [
        CORSRule(("GET", "PUT"), ("https://a",), max_age_seconds=1),
        CORSRule(("GET",), ("*",), max_age_seconds=2),
    ]
    assert cors.actual(rules, "https://a", "GET")["Access-Control-Max-Age"] == "1"
    assert cors.actual(rules, "https://a", "GET")["Access-Control-Allow-Methods"] == "GET, PUT"
    assert cors.actual(rules, "https://b", "GET")["Access-Control-Max-Age"] == "2"


_TEXT = st.text(alphabet="ab.*-:/", max_size=8)


@given(
    head=_TEXT.filter(lambda t: "*" not in t),
    tail=_TEXT.filter(lambda t: "*" not in t),
    star=st.booleans(),
    value=st.text(alphabet="ab.-:/", max_size=12),
)
def test_wildcard_match_is_a_glob_with_one_star(
    head: str, tail: str, star: bool, value: str
) -> None:
    pattern = head + ("*" if star else "") + tail
    regex = re.escape(head) + (".*" if star else "") + re.escape(tail)
    assert cors.wildcard_match(pattern, value) == bool(re.fullmatch(regex, value, re.DOTALL))
