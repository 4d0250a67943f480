"""SigV2 (S3's older scheme, boto3's default for presigned URLs) against botocore's signers."""

from __future__ import annotations

import time
from typing import Any

import pytest

from objstore.errors import AccessDenied, RequestTimeTooSkewed, SignatureDoesNotMatch
from objstore.gateway import sigv2
from objstore.gateway.s3 import routing
from tests.gateway.signing import SECRET, Wire, capture, client, presigned

V2 = client(signature_version="s3")
DEFAULT = client()  # presigns with SigV2
VIRTUAL = client(
    endpoint="http://s3.localhost:9000", signature_version="s3", s3={"addressing_style": "virtual"}
)


def parsed(wire: Wire, bucket: str | None = None) -> sigv2.V2Request:
    req = sigv2.parse(wire.method, wire.path, wire.query, wire.headers, bucket=bucket)
    assert req is not None
    return req


def verified(wire: Wire, bucket: str | None = None, secret: str = SECRET) -> sigv2.V2Request:
    req = parsed(wire, bucket)
    sigv2.check_time(req, time.time())
    sigv2.verify(req, secret)
    return req


@pytest.mark.parametrize("key", ["k", "a b/c+d~e!*()'é", "x/../y//z", "日本"])
def test_header_signatures_verify(key: str) -> None:
    args: dict[str, Any] = {"Bucket": "bkt", "Key": key}
    verified(
        capture(V2, "put_object", Body=b"x", ContentType="text/plain", Metadata={"m": "v"}, **args)
    )
    verified(capture(V2, "get_object", VersionId="3", ResponseContentType="a/b", **args))
    verified(capture(V2, "list_objects", Bucket="bkt", Prefix="p q"))  # resource "/bkt/"
    verified(capture(V2, "list_buckets"))
    verified(capture(V2, "create_multipart_upload", **args))


def test_presigned_urls_verify_and_expire() -> None:
    wire = presigned(DEFAULT, "get_object", expires=60, Bucket="bkt", Key="a b/é")
    assert "AWSAccessKeyId=" in wire.query
    req = verified(wire)
    assert req.presigned and req.expires is not None
    with pytest.raises(AccessDenied, match="Request has expired"):
        sigv2.check_time(req, req.expires + 1)
    verified(presigned(DEFAULT, "list_objects", Bucket="bkt"))
    tampered = Wire("GET", "/bkt/other", wire.query, wire.headers, b"")
    with pytest.raises(SignatureDoesNotMatch):
        verified(tampered)


def test_presigned_session_token_travels_in_the_query() -> None:
    boto = client(token="the-token")
    req = verified(presigned(boto, "get_object", Bucket="b", Key="k"))
    assert req.session_token == "the-token"


def test_virtual_hosted_requests_sign_the_bucket() -> None:
    wire = capture(VIRTUAL, "get_object", Bucket="bkt", Key="a/b")
    assert wire.path == "/a/b"
    verified(wire, bucket="bkt")
    with pytest.raises(SignatureDoesNotMatch):
        verified(wire, bucket="other")
    verified(capture(VIRTUAL, "list_objects", Bucket="bkt"), bucket="bkt")


def test_wrong_secret_and_changed_content_type() -> None:
    wire = capture(V2, "put_object", Bucket="bkt", Key="k", Body=b"x", ContentType="text/plain")
    with pytest.raises(SignatureDoesNotMatch) as err:
        verified(wire, secret="nope")
    assert err.value.details["StringToSign"].startswith("PUT\n")
    with pytest.raises(SignatureDoesNotMatch):
        verified(wire.replace_header("Content-Type", "text/html"))
    extra = Wire("PUT", wire.path, "", [*wire.headers, ("x-amz-meta-new", "1")], b"x")
    with pytest.raises(SignatureDoesNotMatch):  # every x-amz-* header is signed
        verified(extra)


def test_clock_skew_and_bad_forms() -> None:
    req = verified(capture(V2, "get_object", Bucket="b", Key="k"))
    assert req.timestamp is not None
    with pytest.raises(RequestTimeTooSkewed):
        sigv2.check_time(req, req.timestamp + 16 * 60)
    with pytest.raises(AccessDenied):
        parsed(Wire("GET", "/b/k", "", [("Host", "h"), ("Authorization", "AWS nocolon")], b""))
    with pytest.raises(AccessDenied, match="Date"):
        parsed(Wire("GET", "/b/k", "", [("Host", "h"), ("Authorization", "AWS a:b")], b""))
    with pytest.raises(AccessDenied, match="seconds since epoch"):
        parsed(Wire("GET", "/b/k", "AWSAccessKeyId=a&Signature=b&Expires=soon", [], b""))
    assert sigv2.parse("GET", "/", "", [("Host", "h")]) is None


# Each appended to a presigned DeleteObject URL would make it another operation (or another
# version's delete) if it were left out of the signature (review rev11b, F1).
@pytest.mark.parametrize(
    "extra",
    [
        "versionI%64=1",  # percent-encoded names are routed decoded, so signed decoded
        "%76ersionId=1",
        "taggin%67",
        "uploadI%64=u",
        "polic%79",
        "response-content-typ%65=text/html",
        "publicAccessBlock",  # routed names botocore's SigV2 list leaves out
        "legal-hold",
        "retention",
        "attributes",
        "ownershipControls",
    ],
)
def test_every_routed_query_name_is_signed_however_spelled(extra: str) -> None:
    wire = presigned(DEFAULT, "delete_object", Bucket="bkt", Key="doc")
    verified(wire)
    tampered = Wire(wire.method, wire.path, f"{wire.query}&{extra}", wire.headers, b"")
    with pytest.raises(SignatureDoesNotMatch):
        verified(tampered)


def test_router_subresources_are_all_signed() -> None:
    assert routing.SUBRESOURCES <= sigv2.SUBRESOURCES


def test_subresource_names_sign_as_the_handlers_read_them() -> None:
    wire = capture(V2, "get_object", Bucket="bkt", Key="k", VersionId="3")
    assert "versionId=3" in wire.query
    spelled = Wire("GET", wire.path, "versionI%64=3", wire.headers, b"")
    assert parsed(spelled).string_to_sign == parsed(wire).string_to_sign
    verified(spelled)
