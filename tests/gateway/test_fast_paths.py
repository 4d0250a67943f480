"""The gateway's per-request shortcuts give exactly what the general code they replace
gives: HTTP dates by hand, the caller's identity copied with its connection's facts,
the header and query maps parsed once for SigV2 and SigV4, paths with nothing to
decode or encode taken as they are."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st

from objstore.authz import Identity
from objstore.gateway import auth, sigv2, sigv4
from objstore.gateway.app import _Addressing
from objstore.gateway.auth import DEFAULT_DOMAINS
from objstore.gateway.s3.headers import http_date
from tests.gateway.signing import capture, client, presigned

_OFFSETS = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
    _OFFSETS,
)
def test_http_date_is_what_email_utils_formats(when: datetime, tz: timezone | None) -> None:
    when = when.replace(tzinfo=tz)
    as_utc = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    assert http_date(when) == format_datetime(as_utc.replace(microsecond=0), usegmt=True)


_TEXT = st.one_of(st.none(), st.text(max_size=20))


@given(
    st.builds(
        Identity,
        arn=st.text(max_size=30),
        account=st.text(max_size=12),
        kind=st.sampled_from(["root", "user", "assumed-role", "anonymous"]),
        name=_TEXT,
        user_id=_TEXT,
        tags=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        access_key_id=_TEXT,
        source_ip=_TEXT,
        secure_transport=st.booleans(),
        token_issued_at=st.one_of(st.none(), st.integers(0, 2**40)),
        expires_at=st.one_of(st.none(), st.integers(0, 2**40)),
        mfa_authenticated_at=st.one_of(st.none(), st.integers(0, 2**40)),
        session_policy=_TEXT,
        role_arn=_TEXT,
        user_agent=_TEXT,
        referer=_TEXT,
    ),
    st.sampled_from([None, "Mozilla/5.0", "aws-cli/2"]),
    st.sampled_from([None, "https://example.com/page"]),
)
def test_network_facts_as_dataclasses_replace_adds_them(
    identity: Identity, agent: str | None, referer: str | None
) -> None:
    headers = {k: v for k, v in (("User-Agent", agent), ("Referer", referer)) if v is not None}
    request = make_mocked_request("GET", "/b/k", headers=headers)
    got = auth._network(request, identity)
    assert got == dataclasses.replace(
        identity,
        source_ip=request.remote,
        secure_transport=request.secure,
        user_agent=agent,
        referer=referer,
    )
    assert type(got) is Identity


def _wires() -> list[Any]:
    s3 = client()
    return [
        capture(s3, "get_object", Bucket="b", Key="k"),
        capture(s3, "list_objects_v2", Bucket="b", Prefix="a b", StartAfter="x"),
        capture(s3, "put_object", Bucket="b", Key="k", Body=b"data"),
        presigned(s3, "get_object", Bucket="b", Key="k"),
        presigned(client(signature_version="s3v4"), "get_object", Bucket="b", Key="k"),
    ]


def test_parsers_read_the_same_from_shared_maps() -> None:
    for wire in _wires():
        maps = sigv4.request_maps(wire.query, wire.headers)
        args = (wire.method, wire.path, wire.query, wire.headers)
        assert sigv2.parse(*args, maps=maps) == sigv2.parse(*args)
        if sigv2.parse(*args) is None:
            assert sigv4.parse(*args, maps=maps) == sigv4.parse(*args)
        assert maps == sigv4.request_maps(wire.query, wire.headers)  # left as they were


# "/b" first: a target starting "//" would be read as a URL with a host.
_PATHS = st.text(alphabet=st.sampled_from("abcXYZ019_.~/-%20é?+ "), max_size=24).map(
    lambda p: "/b" + p
)


@given(_PATHS)
def test_canonical_uri_shortcut_is_the_round_trip(raw: str) -> None:
    """An S3 path of unreserved characters is its own canonical URI; any other path is
    still canonicalized (and the path as sent offered second when it differs)."""
    req = sigv4.parse(
        "GET",
        raw,
        "",
        [
            ("Host", "h"),
            ("x-amz-date", "20261201T000000Z"),
            ("x-amz-content-sha256", sigv4.UNSIGNED_PAYLOAD),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/s3/aws4_request, "
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00",
            ),
        ],
    )
    assert req is not None
    canonical = quote(unquote_to_bytes(raw), safe="/~")
    assert req.canonical_uris() == ((canonical,) if canonical == raw else (canonical, raw))


@given(_PATHS, st.sampled_from(["127.0.0.1:9000", "b.s3.localhost"]))
def test_bucket_and_key_shortcut_is_the_decoded_path(raw: str, host: str) -> None:
    request = make_mocked_request("GET", raw, headers={"Host": host})
    try:
        path = unquote_to_bytes(request.raw_path.split("?", 1)[0]).decode("utf-8")[1:]
    except UnicodeDecodeError:
        return
    bucket, key = _Addressing(DEFAULT_DOMAINS).locate(request)
    if host == "b.s3.localhost":
        assert (bucket, key) == ("b", path or None)
    else:
        name, _, rest = path.partition("/")
        assert (bucket, key) == (name or None, rest or None)
