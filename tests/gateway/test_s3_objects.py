"""S3 objects through the gateway with boto3: PUT, GET (ranges, conditions,
``response-*``), HEAD, DELETE, DeleteObjects, CopyObject and error documents."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

import objstore
from tests.gateway.s3_support import Gateway, error_of


@pytest.fixture
def s3(gw: Gateway) -> Any:
    client = gw.client()
    client.create_bucket(Bucket="bkt")
    return client


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_put_get_head_delete_round_trip(s3: Any) -> None:
    """An object's bytes, ETag, type and metadata survive the trip both ways."""
    body = bytes(range(256)) * 1000
    put = s3.put_object(
        Bucket="bkt",
        Key="dir/a b+c",
        Body=body,
        ContentType="text/x-test",
        Metadata={"Colour": "blue"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="bkt", Key="dir/a b+c")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "text/x-test"
    assert got["Metadata"] == {"colour": "blue"}
    assert got["ContentLength"] == len(body)
    assert got["AcceptRanges"] == "bytes"
    assert isinstance(got["LastModified"], datetime)
    head = s3.head_object(Bucket="bkt", Key="dir/a b+c")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    assert got["ResponseMetadata"]["HTTPHeaders"]["server"] == "objstore"
    assert len(got["ResponseMetadata"]["RequestId"]) == 16
    s3.delete_object(Bucket="bkt", Key="dir/a b+c")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="dir/a b+c")
    assert _code(err) == "NoSuchKey"


def test_missing_bucket_and_key_are_404_documents(s3: Any, gw: Gateway) -> None:
    """Errors are S3 XML documents with the right status, resource and request id."""
    import urllib.request

    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="nope", Key="k")
    assert _code(err) == "NoSuchBucket"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="missing")
    assert _code(err) == "NoSuchKey"
    assert err.value.response["Error"]["Key"] == "missing"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="bkt", Key="missing")
    assert err.value.response["Error"]["Code"] == "404"
    signer = gw.client(signature_version="s3v4")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "x/y"})
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(url)
    doc = http.value.read().decode()
    assert http.value.code == 404, (url, doc)
    assert "<Code>NoSuchKey</Code>" in doc
    assert "<Resource>/bkt/x/y</Resource>" in doc
    assert f"<RequestId>{http.value.headers['x-amz-request-id']}</RequestId>" in doc


def test_ranges(s3: Any) -> None:
    """Ranges answer 206 with Content-Range; an unsatisfiable one is 416 InvalidRange."""
    body = b"0123456789" * 10
    s3.put_object(Bucket="bkt", Key="r", Body=body)
    for spec, want in (
        ("bytes=5-14", body[5:15]),
        ("bytes=95-", body[95:]),
        ("bytes=-3", body[-3:]),
    ):
        got = s3.get_object(Bucket="bkt", Key="r", Range=spec)
        assert got["Body"].read() == want
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        first = len(body) - len(want) if spec != "bytes=5-14" else 5
        assert got["ContentRange"] == f"bytes {first}-{first + len(want) - 1}/100"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="r", Range="bytes=100-200")
    assert _code(err) == "InvalidRange"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_conditional_get_and_head(s3: Any) -> None:
    """If-None-Match / If-Modified-Since give 304; If-Match / If-Unmodified-Since 412."""
    etag = s3.put_object(Bucket="bkt", Key="c", Body=b"x")["ETag"]
    later = datetime.now(UTC) + timedelta(days=1)
    earlier = datetime.now(UTC) - timedelta(days=1)
    for call in (s3.get_object, s3.head_object):
        assert call(Bucket="bkt", Key="c", IfMatch=etag)["ETag"] == etag
        for kwargs, status in (
            ({"IfNoneMatch": etag}, 304),
            ({"IfModifiedSince": later}, 304),
            ({"IfMatch": '"0000"'}, 412),
            ({"IfUnmodifiedSince": earlier}, 412),
        ):
            with pytest.raises(ClientError) as err:
                call(Bucket="bkt", Key="c", **kwargs)
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="c", IfMatch='"0000"')
    assert _code(err) == "PreconditionFailed"
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as err:
            call(Bucket="bkt", Key="c", IfNoneMatch=etag)
        assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag


def test_conditional_put(s3: Any) -> None:
    """If-None-Match: * creates only; a failed condition stores nothing."""
    s3.put_object(Bucket="bkt", Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="bkt", Key="once", Body=b"2", IfNoneMatch="*")
    assert _code(err) == "PreconditionFailed"
    assert s3.get_object(Bucket="bkt", Key="once")["Body"].read() == b"1"
    # S3 takes only "*" in a write's If-None-Match: an ETag is 501 NotImplemented, also on
    # CompleteMultipartUpload (s3-tests' conditional_write tests expect RGW's evaluation).
    etag = s3.head_object(Bucket="bkt", Key="once")["ETag"]
    for value in (etag, '"00000000000000000000000000000000"'):
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket="bkt", Key="once", Body=b"3", IfNoneMatch=value)
        assert _code(err) == "NotImplemented"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert err.value.response["Error"]["Header"] == "If-None-Match"
    uid = s3.create_multipart_upload(Bucket="bkt", Key="once")["UploadId"]
    part = s3.upload_part(Bucket="bkt", Key="once", UploadId=uid, PartNumber=1, Body=b"4")
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(
            Bucket="bkt",
            Key="once",
            UploadId=uid,
            IfNoneMatch=etag,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
    assert _code(err) == "NotImplemented"
    assert s3.get_object(Bucket="bkt", Key="once")["Body"].read() == b"1"


def test_response_overrides(s3: Any) -> None:
    """response-* query parameters replace the answer's headers."""
    s3.put_object(Bucket="bkt", Key="o", Body=b"data", ContentType="text/plain")
    got = s3.get_object(
        Bucket="bkt",
        Key="o",
        ResponseContentType="application/x-other",
        ResponseContentDisposition='attachment; filename="o.bin"',
        ResponseCacheControl="no-cache",
    )
    assert got["ContentType"] == "application/x-other"
    assert got["ContentDisposition"] == 'attachment; filename="o.bin"'
    assert got["CacheControl"] == "no-cache"


def test_anonymous_requests_cannot_override_response_headers(gw: Gateway, s3: Any) -> None:
    """Review rev11b F3: an unsigned GET of a public object had it served as text/html
    (script on the bucket's origin). S3 refuses response-* on anonymous requests."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bkt/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="bkt", Policy=json.dumps(policy))
    s3.put_object(Bucket="bkt", Key="a.png", Body=b"<script>", ContentType="image/png")
    anon = boto3.client(
        "s3",
        endpoint_url=gw.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}),
    )
    assert anon.get_object(Bucket="bkt", Key="a.png")["ContentType"] == "image/png"
    for call in (anon.get_object, anon.head_object):
        with pytest.raises(ClientError) as err:
            call(Bucket="bkt", Key="a.png", ResponseContentType="text/html")
        assert error_of(err)[0] == 400
    with pytest.raises(ClientError) as err:
        anon.get_object(Bucket="bkt", Key="a.png", ResponseCacheControl="no-cache")
    assert error_of(err) == (400, "InvalidRequest")
    assert "anonymous" in err.value.response["Error"]["Message"]
    signed = s3.get_object(Bucket="bkt", Key="a.png", ResponseContentType="text/html")
    assert signed["ContentType"] == "text/html"  # a signed request still may


def test_delete_objects_and_quiet(s3: Any) -> None:
    """DeleteObjects reports each key (nothing but errors when Quiet)."""
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="bkt", Key=key, Body=b"")
    out = s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "b"]
    out = s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in out and "Errors" not in out
    assert s3.list_objects_v2(Bucket="bkt")["KeyCount"] == 0


def test_copy_object_directives_and_preconditions(s3: Any) -> None:
    """CopyObject: COPY keeps metadata, REPLACE takes the request's; copy-source
    conditions are checked; a key with special characters is URL-decoded."""
    src = s3.put_object(
        Bucket="bkt",
        Key="src dir/ä+1",
        Body=b"payload",
        ContentType="text/a",
        Metadata={"m": "1"},
    )
    s3.create_bucket(Bucket="dst")
    out = s3.copy_object(Bucket="dst", Key="c1", CopySource={"Bucket": "bkt", "Key": "src dir/ä+1"})
    assert out["CopyObjectResult"]["ETag"] == src["ETag"]
    head = s3.head_object(Bucket="dst", Key="c1")
    assert head["Metadata"] == {"m": "1"} and head["ContentType"] == "text/a"
    s3.copy_object(
        Bucket="dst",
        Key="c2",
        CopySource="bkt/src dir/ä+1",
        MetadataDirective="REPLACE",
        Metadata={"n": "2"},
        ContentType="text/b",
    )
    head = s3.head_object(Bucket="dst", Key="c2")
    assert head["Metadata"] == {"n": "2"} and head["ContentType"] == "text/b"
    assert s3.get_object(Bucket="dst", Key="c2")["Body"].read() == b"payload"
    s3.copy_object(
        Bucket="dst", Key="c3", CopySource="bkt/src dir/ä+1", CopySourceIfMatch=src["ETag"]
    )
    for kwargs in ({"CopySourceIfMatch": '"0000"'}, {"CopySourceIfNoneMatch": src["ETag"]}):
        with pytest.raises(ClientError) as err:
            s3.copy_object(Bucket="dst", Key="c4", CopySource="bkt/src dir/ä+1", **kwargs)
        assert _code(err) == "PreconditionFailed"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="dst", Key="c4")
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket="dst", Key="c5", CopySource="bkt/none")
    assert _code(err) == "NoSuchKey"


def test_versions_through_headers(s3: Any) -> None:
    """Versioned PUT/GET/DELETE carry x-amz-version-id and x-amz-delete-marker."""
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="bkt", Key="k", Body=b"one")["VersionId"]
    assert v1 != "null"
    v2 = s3.put_object(Bucket="bkt", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="bkt", Key="k", VersionId=v1)["Body"].read() == b"one"
    gone = s3.delete_object(Bucket="bkt", Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="k")
    assert _code(err) == "NoSuchKey"
    headers = err.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == gone["VersionId"]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="k", VersionId=gone["VersionId"])
    assert _code(err) == "MethodNotAllowed"
    s3.delete_object(Bucket="bkt", Key="k", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"two"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="bkt", Key="k", VersionId="0" * 32)
    assert _code(err) == "NoSuchVersion"


def test_user_without_policy_is_denied(gw: Gateway, s3: Any) -> None:
    """A user with no policy gets AccessDenied (403) for every operation."""
    s3.put_object(Bucket="bkt", Key="k", Body=b"x")
    nobody = gw.client(gw.user_keys("nobody"))
    for call in (
        lambda: nobody.get_object(Bucket="bkt", Key="k"),
        lambda: nobody.put_object(Bucket="bkt", Key="k2", Body=b"y"),
        lambda: nobody.list_objects_v2(Bucket="bkt"),
        lambda: nobody.list_buckets(),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert _code(err) == "AccessDenied"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["k"]


def test_user_limited_by_policy(gw: Gateway, s3: Any) -> None:
    """An IAM user's policy decides per prefix, through the gateway."""
    policy = """{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
       "Resource": "arn:aws:s3:::bkt/public/*"}]}"""
    user = gw.client(gw.user_keys("limited", policy))
    user.put_object(Bucket="bkt", Key="public/a", Body=b"ok")
    assert user.get_object(Bucket="bkt", Key="public/a")["Body"].read() == b"ok"
    with pytest.raises(ClientError) as err:
        user.put_object(Bucket="bkt", Key="private/a", Body=b"no")
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError):
        s3.head_object(Bucket="bkt", Key="private/a")


def test_large_object_streams(s3: Any, tmp_path: Path) -> None:
    """A multi-chunk object goes up and comes back whole (boto3's transfer manager
    switches to multipart above its threshold)."""
    from boto3.s3.transfer import TransferConfig

    data = (b"abcdefghijklmnop" * 65536) * 3  # 3 MiB
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=1024 * 1024 * 8, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), "bkt", "big", Config=cfg)
    out = tmp_path / "out.bin"
    s3.download_file("bkt", "big", str(out))
    assert out.read_bytes() == data


def test_unknown_subresource_is_not_implemented(s3: Any) -> None:
    """A subresource objstore lacks answers 501 NotImplemented, not a wrong operation."""
    with pytest.raises(ClientError) as err:
        s3.get_bucket_website(Bucket="bkt")
    assert _code(err) == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_store_is_untouched_by_denied_put(gw: Gateway, s3: Any) -> None:
    """A refused upload stores nothing (the engine refuses before reading the body)."""
    nobody = gw.client(gw.user_keys("nobody2"))
    with pytest.raises(ClientError):
        nobody.put_object(Bucket="bkt", Key="x", Body=b"z" * 100_000)
    with pytest.raises(objstore.errors.NoSuchKey):
        gw.store.root.head_object("bkt", "x")


def test_iam_and_sts_share_the_endpoint(gw: Gateway) -> None:
    """Requests signed for iam/sts reach the Query API at the same address."""
    iam = gw.client(service="iam")
    iam.create_user(UserName="via-gateway")
    assert "via-gateway" in [u["UserName"] for u in iam.list_users()["Users"]]
    sts = gw.client(service="sts")
    assert sts.get_caller_identity()["Arn"].endswith(":root")


def test_suspended_bucket_writes_name_no_version(s3: Any) -> None:
    """A write to a versioning-suspended bucket makes the null version: no
    x-amz-version-id on the answer, ``null`` on a read."""
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket="bkt", Key="s", Body=b"x")
    assert "VersionId" not in put
    assert s3.head_object(Bucket="bkt", Key="s")["VersionId"] == "null"
