"""Bucket CORS over HTTP: Put/Get/DeleteBucketCors through boto3, the unsigned OPTIONS
preflight, and the Access-Control-* headers of actual answers (errors and presigned URLs
included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, error_of, raw_answer, served_store

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
RULES = [
    {
        "ID": "uploads",
        "AllowedMethods": ["PUT", "POST"],
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedHeaders": ["x-amz-*", "Content-Type"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]},
]


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="web")
        yield gateway


def _http(method: str, url: str, **headers: str) -> urllib3.BaseHTTPResponse:
    return urllib3.request(method, url, headers=headers, retries=False)


def test_put_get_delete(gw: Gateway) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket="web")
    assert error_of(err) == (404, "NoSuchCORSConfiguration")
    put = s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_cors(Bucket="web")["CORSRules"] == RULES
    assert gw.store.root.get_bucket_cors("web")[0].allowed_headers == ("x-amz-*", "Content-Type")
    deleted = s3.delete_bucket_cors(Bucket="web")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket="web")
    assert error_of(err) == (404, "NoSuchCORSConfiguration")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket="gone")
    assert error_of(err) == (404, "NoSuchBucket")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}], (400, "InvalidRequest")),
        ([{"AllowedMethods": ["get"], "AllowedOrigins": ["*"]}], (400, "InvalidRequest")),
        ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*.*"]}], (400, "InvalidRequest")),
        ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}] * 101, (400, "MalformedXML")),
    ],
)
def test_invalid_configurations(
    gw: Gateway, rules: list[dict[str, object]], expected: tuple[int, str]
) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": rules})
    assert error_of(err) == expected
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket="web")
    assert error_of(err) == (404, "NoSuchCORSConfiguration")


@pytest.mark.parametrize(
    "body",
    [
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
        b"</CORSConfiguration>",  # no origin
        b"<CORSConfiguration/>",  # no rule
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*"
        b"</AllowedOrigin><Colour>red</Colour></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*"
        b"</AllowedOrigin><MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*"
        b"</AllowedOrigin><MaxAgeSeconds>--1</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*"
        b"</AllowedOrigin><MaxAgeSeconds>-5</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*"
        b"</AllowedOrigin><ID>a</ID><ID>b</ID></CORSRule></CORSConfiguration>",
        b"<Tagging/>",
        b"<CORSConfiguration>",
    ],
)
def test_malformed_documents(gw: Gateway, body: bytes) -> None:
    answer = raw_answer(gw, "PUT", "/web?cors", body)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"<Code>MalformedXML</Code>" in answer


def test_origin_that_would_split_an_answer_header(gw: Gateway) -> None:
    """A configuration whose origin holds a newline (a character reference) is refused,
    so no answer ever has to write it into a header."""
    body = (
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
        b"<AllowedOrigin>https://a&#13;&#10;Set-Cookie: x</AllowedOrigin>"
        b"</CORSRule></CORSConfiguration>"
    )
    answer = raw_answer(gw, "PUT", "/web?cors", body)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>InvalidRequest</Code>" in answer


def test_needs_its_actions(gw: Gateway) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetBucketCORS", "Resource": "*"}],
    }
    user = gw.client(gw.user_keys("reader", json.dumps(policy)))
    with pytest.raises(ClientError) as err:
        user.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    assert error_of(err) == (403, "AccessDenied")
    gw.client().put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    assert user.get_bucket_cors(Bucket="web")["CORSRules"] == RULES
    with pytest.raises(ClientError) as err:
        user.delete_bucket_cors(Bucket="web")
    assert error_of(err) == (403, "AccessDenied")


def test_preflight_is_unsigned_and_evaluates_the_rules(gw: Gateway) -> None:
    s3 = gw.client()
    s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    url = f"{gw.url}/web/photos/cat.jpg"
    answer = _http(
        "OPTIONS",
        url,
        Origin="https://app.example.com",
        **{
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Owner",
        },
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Access-Control-Allow-Methods"] == "PUT, POST"
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-owner"
    assert answer.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert answer.headers["Access-Control-Max-Age"] == "600"
    assert answer.headers["Vary"] == VARY
    assert answer.headers["x-amz-request-id"]
    # The bucket itself (a POST upload's preflight) is matched the same way.
    answer = _http(
        "OPTIONS",
        f"{gw.url}/web",
        Origin="https://a.example.com",
        **{"Access-Control-Request-Method": "POST"},
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://a.example.com"
    # Wildcard origin: "*" and no credentials.
    answer = _http(
        "OPTIONS", url, Origin="https://x.test", **{"Access-Control-Request-Method": "GET"}
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, "BadRequest"),
        ({"Origin": "https://a.example.com"}, 400, "BadRequest"),
        (
            {"Origin": "https://a.example.com", "Access-Control-Request-Method": "PATCH"},
            400,
            "BadRequest",
        ),
        (
            {"Origin": "https://evil.test", "Access-Control-Request-Method": "PUT"},
            403,
            "AccessForbidden",
        ),
        (
            {
                "Origin": "https://a.example.com",
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization",
            },
            403,
            "AccessForbidden",
        ),
    ],
)
def test_refused_preflights(gw: Gateway, headers: dict[str, str], status: int, code: str) -> None:
    gw.client().put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    answer = _http("OPTIONS", f"{gw.url}/web/k", **headers)
    assert answer.status == status
    assert f"<Code>{code}</Code>".encode() in answer.data
    assert "Access-Control-Allow-Origin" not in answer.headers
    if status == 403:
        assert b"CORSResponse: This CORS request is not allowed" in answer.data


def test_preflight_without_configuration_or_bucket(gw: Gateway) -> None:
    ask = {"Origin": "https://a.test", "Access-Control-Request-Method": "GET"}
    answer = _http("OPTIONS", f"{gw.url}/web/k", **ask)
    assert answer.status == 403
    assert b"<Code>AccessForbidden</Code>" in answer.data
    assert b"CORS is not enabled for this bucket" in answer.data
    answer = _http("OPTIONS", f"{gw.url}/nobucket/k", **ask)
    assert answer.status == 404
    assert b"<Code>NoSuchBucket</Code>" in answer.data


def test_actual_answers_carry_the_headers(gw: Gateway) -> None:
    s3 = gw.client()
    s3.put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket="web", Key="page.html", Body=b"<p>hi</p>")
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "web", "Key": "page.html"}, ExpiresIn=300
    )
    # A presigned GET from a page of another origin.
    answer = _http("GET", get_url, Origin="https://x.test")
    assert answer.status == 200 and answer.data == b"<p>hi</p>"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert answer.headers["Vary"] == VARY
    # No Origin: no CORS headers.
    answer = _http("GET", get_url)
    assert answer.status == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    # An error answer (unsigned: AccessDenied) still carries them, as S3.
    answer = _http("GET", f"{gw.url}/web/page.html", Origin="https://x.test")
    assert answer.status == 403
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    # A presigned PUT from an allowed origin: its rule's headers.
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "web", "Key": "up.txt"}, ExpiresIn=300
    )
    answer = urllib3.request(
        "PUT", put_url, body=b"data", headers={"Origin": "https://app.example.com"}, retries=False
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert answer.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert answer.headers["Access-Control-Max-Age"] == "600"
    assert s3.get_object(Bucket="web", Key="up.txt")["Body"].read() == b"data"
    # A method no rule of that origin allows: no headers.
    answer = _http("DELETE", f"{gw.url}/web/page.html", Origin="https://app.example.com")
    assert "Access-Control-Allow-Origin" not in answer.headers
    # Without a configuration: none either.
    s3.delete_bucket_cors(Bucket="web")
    answer = _http("GET", get_url, Origin="https://x.test")
    assert answer.status == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_for_missing_buckets_carry_no_cors_headers(gw: Gateway) -> None:
    for path in ("/nobucket/k", "/Not_A_Bucket/k"):
        answer = _http("GET", f"{gw.url}{path}", Origin="https://x.test")
        assert answer.status in (400, 403, 404)
        assert b"<Error>" in answer.data
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_virtual_hosted_requests(gw: Gateway) -> None:
    """``web.localhost`` names the bucket: its preflight and answers are the bucket's."""
    gw.client().put_bucket_cors(Bucket="web", CORSConfiguration={"CORSRules": RULES})
    port = gw.url.rsplit(":", 1)[1]
    host = {"Host": f"web.localhost:{port}"}
    ask = {"Origin": "https://x.test", "Access-Control-Request-Method": "GET"}
    answer = _http("OPTIONS", f"{gw.url}/page.html", **host, **ask)
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    answer = _http("GET", f"{gw.url}/page.html", **host, Origin="https://x.test")
    assert answer.status == 403  # unsigned: AccessDenied, with the headers
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
