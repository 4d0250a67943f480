"""SigV4 parsing and verification against requests botocore itself signed."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objstore.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    InvalidArgument,
    InvalidRequest,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from objstore.gateway import sigv4, sigv4_checks
from tests.gateway.signing import AKID, SECRET, Wire, capture, client, presigned

S3 = client()
S3_TLS = client(endpoint="https://127.0.0.1:9000")
S3_V4 = client(signature_version="s3v4")


def parsed(wire: Wire) -> sigv4.SignedRequest:
    req = sigv4.parse(wire.method, wire.path, wire.query, wire.headers)
    assert req is not None
    return req


def verified(wire: Wire, secret: str = SECRET) -> sigv4.SignedRequest:
    req = parsed(wire)
    sigv4_checks.check_scope(req, "us-east-1")
    sigv4_checks.check_time(req, time.time())
    payload = req.payload_hash()
    if payload is None:
        import hashlib

        payload = hashlib.sha256(wire.body).hexdigest()
    sigv4.verify(req, secret, payload)
    return req


KEYS = ["k", "a b/c+d~e!*()'é", "x/../y/./z//w/", "q?x=1&y=#", "%2F%41", "日本/語 ü", "a;b=c,d$@:"]


@pytest.mark.parametrize("key", KEYS)
def test_botocore_header_signatures_verify(key: str) -> None:
    for boto in (S3, S3_TLS):
        req = verified(capture(boto, "put_object", Bucket="bkt", Key=key, Body=b"hello"))
        assert req.access_key_id == AKID and req.service == "s3"
        assert req.scope.region == "us-east-1" and not req.presigned
        verified(capture(boto, "get_object", Bucket="bkt", Key=key, Range="bytes=0-1"))


def test_query_strings_verify() -> None:
    wire = capture(
        S3, "list_objects_v2", Bucket="bkt", Prefix="a b+c/é=&", StartAfter="~!*()'", MaxKeys=3
    )
    assert wire.query
    verified(wire)
    verified(capture(S3, "create_multipart_upload", Bucket="bkt", Key="k k"))  # "?uploads"
    verified(capture(S3, "put_object_tagging", Bucket="b", Key="k", Tagging={"TagSet": []}))


def test_unsigned_payload_and_session_token() -> None:
    boto = client(
        endpoint="https://127.0.0.1:9000", token="tok/en+=", s3={"payload_signing_enabled": False}
    )
    wire = capture(boto, "get_object", Bucket="bkt", Key="k")
    req = verified(wire)
    assert req.session_token == "tok/en+="
    assert req.payload_hash() == sigv4.UNSIGNED_PAYLOAD


def test_iam_and_sts_sign_the_body_hash() -> None:
    wire = capture(client("iam"), "create_user", UserName="bob", Path="/a/")
    req = verified(wire)
    assert req.service == "iam" and req.payload_hash() is None
    with pytest.raises(SignatureDoesNotMatch):
        sigv4.verify(req, SECRET, sigv4.EMPTY_SHA256)  # a changed body
    verified(capture(client("sts"), "get_caller_identity"))


def test_non_s3_paths_are_normalized_and_encoded_twice() -> None:
    # What botocore's SigV4Auth does to a path (S3SigV4Auth leaves it alone).
    req = sigv4.SignedRequest(
        "GET",
        "/a/./b/../c%20d//",
        AKID,
        sigv4.Scope("20200101", "us-east-1", "iam"),
        "20200101T000000Z",
        0.0,
        ("host",),
        "",
        None,
        False,
        None,
        None,
        "",
        "host:h",
    )
    assert req.canonical_uris() == ("/a/c%2520d/",)
    s3 = dataclasses.replace(req, scope=sigv4.Scope("20200101", "us-east-1", "s3"))
    assert s3.canonical_uris() == ("/a/./b/../c%20d//",)


def test_presigned_urls_verify_and_expire() -> None:
    wire = presigned(S3_V4, "get_object", expires=60, Bucket="bkt", Key="a b/é")
    req = verified(wire)
    assert req.presigned and req.expires == 60
    assert req.payload_hash() == sigv4.UNSIGNED_PAYLOAD
    with pytest.raises(AccessDenied, match="Request has expired") as err:
        sigv4_checks.check_time(req, req.timestamp + 61)
    assert err.value.details["X-Amz-Expires"] == "60"
    sigv4_checks.check_time(req, req.timestamp + 60)
    with pytest.raises(AccessDenied, match="not valid yet"):
        sigv4_checks.check_time(req, req.timestamp - 16 * 60)
    verified(presigned(S3_V4, "put_object", Bucket="bkt", Key="k").with_body(b"anything"))


def test_presigned_tampering_fails() -> None:
    wire = presigned(S3_V4, "get_object", Bucket="bkt", Key="k")
    for query in (
        wire.query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"),
        wire.query + "&versionId=1",
        wire.query + "&versionI%64=1",  # names are signed decoded, as routed (rev11b F1)
        wire.query + "&taggin%67",
    ):
        with pytest.raises(SignatureDoesNotMatch):
            verified(Wire(wire.method, wire.path, query, wire.headers, b""))
    with pytest.raises(SignatureDoesNotMatch):
        verified(Wire(wire.method, "/bkt/other", wire.query, wire.headers, b""))
    with pytest.raises(SignatureDoesNotMatch):
        verified(Wire("PUT", wire.path, wire.query, wire.headers, b""))


@pytest.mark.parametrize(
    ("expires", "message"),
    [("604801", "less than a week"), ("-1", "non-negative"), ("abc", "should be a number")],
)
def test_presigned_expires_limits(expires: str, message: str) -> None:
    wire = presigned(S3_V4, "get_object", Bucket="bkt", Key="k")
    query = wire.query.replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}")
    with pytest.raises(AuthorizationQueryParametersError, match=message):
        parsed(Wire(wire.method, wire.path, query, wire.headers, b""))


def test_presigned_missing_parameter_and_bad_algorithm() -> None:
    wire = presigned(S3_V4, "get_object", Bucket="bkt", Key="k")
    dropped = "&".join(p for p in wire.query.split("&") if not p.startswith("X-Amz-Date="))
    with pytest.raises(AuthorizationQueryParametersError, match="requires"):
        parsed(Wire("GET", wire.path, dropped, wire.headers, b""))
    other = wire.query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
    with pytest.raises(AuthorizationQueryParametersError, match="only supports"):
        parsed(Wire("GET", wire.path, other, wire.headers, b""))


def test_wrong_secret_reports_the_canonical_request() -> None:
    wire = capture(S3, "put_object", Bucket="bkt", Key="a b", Body=b"x")
    with pytest.raises(SignatureDoesNotMatch) as err:
        verified(wire, secret="not-the-secret")
    details = err.value.details
    assert details["AWSAccessKeyId"] == AKID
    assert details["CanonicalRequest"].startswith("PUT\n/bkt/a%20b\n\n")
    assert details["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert details["SignatureProvided"] == parsed(wire).signature
    assert err.value.code == "SignatureDoesNotMatch" and err.value.http_status == 403


def test_modified_header_or_forged_signature_fails() -> None:
    wire = capture(S3, "put_object", Bucket="bkt", Key="k", Body=b"x", Metadata={"a": "1"})
    with pytest.raises(SignatureDoesNotMatch):
        verified(wire.replace_header("x-amz-meta-a", "2"))
    auth = wire.header("Authorization")
    assert auth is not None
    forged = auth[:-64] + "0" * 64
    with pytest.raises(SignatureDoesNotMatch):
        verified(wire.replace_header("Authorization", forged))
    with pytest.raises(SignatureDoesNotMatch):
        verified(wire.replace_header("Authorization", auth[:-64] + "é" * 64))


def test_unsigned_amz_headers_are_refused() -> None:
    wire = capture(S3, "get_object", Bucket="bkt", Key="k")
    extra = Wire(wire.method, wire.path, wire.query, [*wire.headers, ("x-amz-meta-z", "1")], b"")
    with pytest.raises(AccessDenied, match="not signed") as err:
        parsed(extra)
    assert err.value.details["HeadersNotSigned"] == "x-amz-meta-z"


def _with_auth(value: str) -> Wire:
    wire = capture(S3, "get_object", Bucket="bkt", Key="k")
    return wire.replace_header("Authorization", value)


CRED = f"Credential={AKID}/20200101/us-east-1/s3/aws4_request"
SH = "SignedHeaders=host;x-amz-content-sha256;x-amz-date"
SIG = "Signature=" + "a" * 64


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (f"AWS4-HMAC-SHA256 {CRED}, {SH}", AuthorizationHeaderMalformed),
        (f"AWS4-HMAC-SHA256 {CRED}, {SH}, {SIG}, Extra=1", AuthorizationHeaderMalformed),
        (
            f"AWS4-HMAC-SHA256 Credential={AKID}/20200101/s3/aws4_request, {SH}, {SIG}",
            AuthorizationHeaderMalformed,
        ),
        (f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders=Host;X, {SIG}", AuthorizationHeaderMalformed),
        (f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders=, {SIG}", AuthorizationHeaderMalformed),
        ("AWS4-HMAC-SHA256", AuthorizationHeaderMalformed),
        (f"AWS {AKID}:c2lnbmF0dXJl", InvalidRequest),
        ("Bearer abc", InvalidArgument),
    ],
)
def test_bad_authorization_headers(header: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parsed(_with_auth(header))


def test_both_mechanisms_at_once() -> None:
    wire = capture(S3, "get_object", Bucket="bkt", Key="k")
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    with pytest.raises(InvalidArgument, match="Only one auth mechanism"):
        parsed(Wire("GET", wire.path, query, wire.headers, b""))


def test_content_sha256_header_rules() -> None:
    wire = capture(S3, "get_object", Bucket="bkt", Key="k")
    missing = Wire(
        "GET", wire.path, "", [h for h in wire.headers if h[0] != "x-amz-content-sha256"], b""
    )
    with pytest.raises(InvalidRequest, match="x-amz-content-sha256"):
        parsed(missing).payload_hash()
    with pytest.raises(InvalidArgument):
        parsed(wire.replace_header("x-amz-content-sha256", "nonsense")).payload_hash()


def test_missing_date_is_access_denied() -> None:
    wire = capture(S3, "get_object", Bucket="bkt", Key="k")
    no_date = Wire("GET", wire.path, "", [h for h in wire.headers if h[0] != "X-Amz-Date"], b"")
    with pytest.raises(AccessDenied, match="Date or x-amz-date"):
        parsed(no_date)
    with pytest.raises(AccessDenied, match="Date or x-amz-date"):
        parsed(wire.replace_header("X-Amz-Date", "yesterday"))


def test_http_date_header_is_accepted() -> None:
    headers = [("Host", "h"), ("Date", "Wed, 01 Jan 2020 00:00:00 GMT")]
    headers.append(("Authorization", f"AWS4-HMAC-SHA256 {CRED}, SignedHeaders=date;host, {SIG}"))
    req = sigv4.parse("GET", "/", "", headers)
    assert req is not None and req.amz_date == "20200101T000000Z"
    sigv4_checks.check_scope(req, "us-east-1")


def test_scope_checks() -> None:
    wire = capture(client(region="eu-west-1"), "get_object", Bucket="bkt", Key="k")
    req = parsed(wire)
    with pytest.raises(AuthorizationHeaderMalformed, match="region 'eu-west-1' is wrong") as err:
        sigv4_checks.check_scope(req, "us-east-1")
    assert err.value.details["Region"] == "us-east-1"
    sigv4_checks.check_scope(req, "eu-west-1")
    pre = parsed(
        presigned(
            client(region="eu-west-1", signature_version="s3v4"), "get_object", Bucket="b", Key="k"
        )
    )
    with pytest.raises(AuthorizationQueryParametersError, match="region"):
        sigv4_checks.check_scope(pre, "us-east-1")
    # IAM and STS requests are taken whatever region the client was configured with.
    sigv4_checks.check_scope(parsed(capture(client("iam"), "list_users")), "eu-west-1")
    sts = client("sts", region="ap-south-1")
    sigv4_checks.check_scope(parsed(capture(sts, "get_caller_identity")), "eu-west-1")


def _scoped(credential: str, date: str = "20200101T000000Z") -> sigv4.SignedRequest:
    headers = [("Host", "h"), ("x-amz-date", date), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
    sh = "SignedHeaders=host;x-amz-content-sha256;x-amz-date"
    headers.append(("Authorization", f"AWS4-HMAC-SHA256 Credential={credential}, {sh}, {SIG}"))
    req = sigv4.parse("GET", "/", "", headers)
    assert req is not None
    return req


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        (f"{AKID}/20200102/us-east-1/s3/aws4_request", "Invalid credential date"),
        (f"{AKID}/20200101/us-east-1/ec2/aws4_request", 'incorrect service "ec2"'),
        (f"{AKID}/20200101/us-east-1/s3/aws5_request", 'incorrect terminal "aws5_request"'),
    ],
)
def test_scope_errors(credential: str, message: str) -> None:
    with pytest.raises(AuthorizationHeaderMalformed, match=message):
        sigv4_checks.check_scope(_scoped(credential), "us-east-1")


def test_clock_skew() -> None:
    req = verified(capture(S3, "get_object", Bucket="bkt", Key="k"))
    sigv4_checks.check_time(req, req.timestamp + 15 * 60)
    sigv4_checks.check_time(req, req.timestamp - 15 * 60)
    for off in (15 * 60 + 1, -15 * 60 - 1):
        with pytest.raises(RequestTimeTooSkewed) as err:
            sigv4_checks.check_time(req, req.timestamp + off)
        assert err.value.http_status == 403
        assert err.value.details["MaxAllowedSkewMilliseconds"] == "900000"


def test_aws_documented_seed_signature() -> None:
    """The seed request of AWS's published chunked-upload example (sigv4-streaming)."""
    req = sigv4.parse("PUT", "/examplebucket/chunkObject.txt", "", AWS_EXAMPLE_HEADERS)
    assert req is not None
    sigv4.verify(req, SECRET, req.payload_hash() or "")
    assert req.signature.startswith("4f232c43")


AWS_EXAMPLE_HEADERS = [
    ("Host", "s3.amazonaws.com"),
    ("x-amz-date", "20130524T000000Z"),
    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class,"
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    ),
    ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ("Content-Encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "66560"),
    ("Content-Length", "66824"),
]

_key_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.text(_key_chars, min_size=1, max_size=40),
    prefix=st.text(_key_chars, max_size=20),
    meta=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
)
def test_any_key_query_and_header_verifies(key: str, prefix: str, meta: str) -> None:
    """Whatever key, query value and header value botocore signs, the signature verifies."""
    args: dict[str, Any] = {"Bucket": "bkt", "Key": key, "Body": b"x", "Metadata": {"m": meta}}
    verified(capture(S3, "put_object", **args))
    verified(capture(S3, "list_objects_v2", Bucket="bkt", Prefix=prefix))
    verified(presigned(S3_V4, "get_object", Bucket="bkt", Key=key))


def test_presign_matches_botocore_and_verifies() -> None:
    """presign() makes the URL botocore makes (same signature), and it verifies."""
    from urllib.parse import parse_qs, urlsplit

    from objstore.gateway.presign import presign

    for key, token in (("a b/é~!", None), ("k", "tok+/=")):
        boto = client(signature_version="s3v4", token=token)
        theirs = boto.generate_presigned_url(
            "get_object", Params={"Bucket": "bkt", "Key": key, "VersionId": "v 1"}, ExpiresIn=900
        )
        q = parse_qs(urlsplit(theirs).query)
        stamp = datetime.strptime(q["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
        when = stamp.replace(tzinfo=UTC).timestamp()
        base = theirs.split("?")[0] + "?versionId=v%201"
        ours = presign(
            "GET",
            base,
            access_key_id=AKID,
            secret=SECRET,
            region="us-east-1",
            now=when,
            expires=900,
            session_token=token,
        )
        assert parse_qs(urlsplit(ours).query)["X-Amz-Signature"] == q["X-Amz-Signature"]
        parts = urlsplit(ours)
        req = verified(Wire("GET", parts.path, parts.query, [("Host", parts.netloc)], b""))
        assert req.expires == 900 and req.session_token == token
    for expires in (604801, 1.5, "60"):
        with pytest.raises(InvalidArgument):
            presign(
                "GET",
                "http://h/b/k",
                access_key_id=AKID,
                secret=SECRET,
                region="r",
                now=0,
                expires=expires,  # type: ignore[arg-type]
            )


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        ("http://127.0.0.1:80", "127.0.0.1"),
        ("https://S3.Example.COM:443", "s3.example.com"),
        ("http://h.example:443", "h.example:443"),
        ("http://[::1]:80", "[::1]"),
        ("http://[::1]:9000", "[::1]:9000"),
    ],
)
def test_presign_signs_the_host_a_client_sends(endpoint: str, host: str) -> None:
    """Review rev11b F5: ``http://host:80`` signed ``host:host:80``, but curl and browsers
    send ``Host: host`` (and lower-case names): such URLs never worked. The host is signed
    as botocore signs it and the URL written so."""
    from urllib.parse import parse_qs, urlsplit

    from objstore.gateway.presign import presign

    boto = client(endpoint=endpoint, signature_version="s3v4")
    theirs = boto.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    q = parse_qs(urlsplit(theirs).query)
    stamp = datetime.strptime(q["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    ours = presign(
        "GET",
        f"{endpoint}/b/k",
        access_key_id=AKID,
        secret=SECRET,
        region="us-east-1",
        now=stamp.replace(tzinfo=UTC).timestamp(),
        expires=3600,
    )
    parts = urlsplit(ours)
    assert parts.netloc == host
    assert parse_qs(parts.query)["X-Amz-Signature"] == q["X-Amz-Signature"]
    verified(Wire("GET", parts.path, parts.query, [("Host", host)], b""))
    for bad in ("http://u:p@h/b/k", "http://h:x/b/k", "http:///b/k"):
        with pytest.raises(InvalidArgument):
            presign("GET", bad, access_key_id=AKID, secret=SECRET, region="r", now=0)


def test_a_plus_in_the_query_is_signed_as_the_space_it_is_served_as() -> None:
    """Review 10c, F10: a literal "+" and "%2B" canonicalised alike (as "%2B"), but the
    handlers read "+" as a space: a URL presigned for prefix "team+a/" still verified
    with "+" in place of "%2B" and listed "team a/". A "+" is signed as a space now (as
    clients that send spaces as "+" sign them, e.g. Go's url.Values)."""
    assert sigv4.canonical_query([("prefix", "team%2Ba%2F")], skip_signature=False) == (
        "prefix=team%2Ba%2F"
    )
    assert sigv4.canonical_query([("prefix", "team+a%2F")], skip_signature=False) == (
        "prefix=team%20a%2F"
    )
    assert sigv4.canonical_query([("a+b", "")], skip_signature=False) == "a%20b="
    assert sigv4.canonical_query([("versionI%64", "1")], skip_signature=False) == "versionId=1"
