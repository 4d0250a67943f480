"""Where the gateway's answers must match S3's exactly: any key is reachable, ranges,
header validation (storage class, canned ACL), DeleteObjects' integrity header,
metadata bytes, repeated completions."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, raw_answer


@pytest.fixture
def s3(gw: Gateway) -> Any:
    client = gw.client()
    client.create_bucket(Bucket="sem")
    return client


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


# Every character U+0001..U+00FF, 32 to a key, and a few beyond Latin-1.
ODD_KEYS = [
    "".join(chr(c) for c in range(start, min(start + 32, 256))) for start in range(1, 256, 32)
] + ["ключ\n日本語", "emoji😀/x", "tab\tand\r\nnewline", "\n"]


def test_keys_of_any_character_round_trip(s3: Any) -> None:
    """Keys holding any of U+0001..U+00FF (newlines included) and multi-byte characters
    are written, read, listed and deleted through boto3."""
    for i, key in enumerate(ODD_KEYS):
        s3.put_object(Bucket="sem", Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(ODD_KEYS):
        assert s3.get_object(Bucket="sem", Key=key)["Body"].read() == f"body {i}".encode()
        assert s3.head_object(Bucket="sem", Key=key)["ContentLength"] == len(f"body {i}")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="sem")["Contents"]]
    assert listed == sorted(ODD_KEYS, key=lambda k: k.encode())
    v1 = [o["Key"] for o in s3.list_objects(Bucket="sem")["Contents"]]
    assert v1 == listed
    for key in ODD_KEYS:
        s3.delete_object(Bucket="sem", Key=key)
    assert s3.list_objects_v2(Bucket="sem")["KeyCount"] == 0


def _raw(gw: Gateway, method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    """The whole answer to a root-signed request sent on a connection of its own."""
    return raw_answer(gw, method, path, body, extra)


def test_range_that_s3_ignores_answers_the_whole_object(s3: Any) -> None:
    """A malformed or multi-range Range, or one whose end is before its start, is
    ignored (200, whole body), as S3; a satisfiable one is 206; one past the end 416."""
    s3.put_object(Bucket="sem", Key="r", Body=b"0123456789")
    for value in ("bytes=0-1,4-5", "bytes=abc", "bytes=5-3", "items=0-1", "bytes=--1"):
        got = s3.get_object(Bucket="sem", Key="r", Range=value)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200, value
        assert got["Body"].read() == b"0123456789"
        assert "ContentRange" not in got
    got = s3.get_object(Bucket="sem", Key="r", Range="bytes=2-4")
    assert (got["ResponseMetadata"]["HTTPStatusCode"], got["Body"].read()) == (206, b"234")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="sem", Key="r", Range="bytes=20-30")
    assert _code(err) == "InvalidRange"


def test_head_with_range_is_206(s3: Any) -> None:
    """HEAD with a valid Range answers 206 with Content-Range and the range's length;
    an ignored Range answers 200; an unsatisfiable one 416."""
    s3.put_object(Bucket="sem", Key="h", Body=b"0123456789")
    got = s3.head_object(Bucket="sem", Key="h", Range="bytes=-3")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == "bytes 7-9/10"
    assert got["ContentLength"] == 3
    got = s3.head_object(Bucket="sem", Key="h", Range="bytes=1-2,5-6")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["ContentLength"] == 10
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="sem", Key="h", Range="bytes=10-")
    assert _status(err) == 416


def test_delete_objects_needs_an_integrity_header(gw: Gateway, s3: Any) -> None:
    """DeleteObjects without Content-MD5 or x-amz-checksum-* is InvalidRequest (S3's
    "Missing required header"); a wrong Content-MD5 is BadDigest; a right one, or
    boto3's own request (it always sends a checksum), deletes."""
    s3.put_object(Bucket="sem", Key="d", Body=b"x")
    doc = b"<Delete><Object><Key>d</Key></Object></Delete>"
    answer = _raw(gw, "POST", "/sem?delete=", doc)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<Code>InvalidRequest</Code>" in answer
    assert b"Missing required header for this request: Content-MD5" in answer
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    answer = _raw(gw, "POST", "/sem?delete=", doc, f"Content-MD5: {wrong}\r\n")
    assert b"<Code>BadDigest</Code>" in answer
    assert s3.head_object(Bucket="sem", Key="d")["ContentLength"] == 1
    right = base64.b64encode(hashlib.md5(doc).digest()).decode()
    answer = _raw(gw, "POST", "/sem?delete=", doc, f"Content-MD5: {right}\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"<Deleted><Key>d</Key></Deleted>" in answer
    s3.put_object(Bucket="sem", Key="e", Body=b"x")
    out = s3.delete_objects(Bucket="sem", Delete={"Objects": [{"Key": "e"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["e"]


def test_delete_objects_quiet_must_be_a_boolean(gw: Gateway, s3: Any) -> None:
    """``<Quiet>maybe</Quiet>`` is MalformedXML and deletes nothing."""
    s3.put_object(Bucket="sem", Key="q", Body=b"x")
    doc = b"<Delete><Quiet>maybe</Quiet><Object><Key>q</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
    answer = _raw(gw, "POST", "/sem?delete=", doc, f"Content-MD5: {md5}\r\n")
    assert b"<Code>MalformedXML</Code>" in answer
    assert s3.head_object(Bucket="sem", Key="q")["ContentLength"] == 1


def test_storage_class_and_canned_acl_are_checked(s3: Any) -> None:
    """A storage class S3 does not know is InvalidStorageClass, an unknown canned ACL
    InvalidArgument (nothing stored); known storage classes are accepted (objstore
    stores every object as STANDARD), and of the canned ACLs only the owner's full
    control (ACLs disabled: tests/gateway/test_s3_access.py)."""
    for params, code in (
        ({"StorageClass": "BOGUS"}, "InvalidStorageClass"),
        ({"ACL": "everyone-may"}, "InvalidArgument"),
    ):
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket="sem", Key="sc", Body=b"x", **params)
        assert (_code(err), _status(err)) == (code, 400)
        with pytest.raises(ClientError) as err:
            s3.create_multipart_upload(Bucket="sem", Key="sc", **params)
        assert _code(err) == code
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="sem", Key="sc")
    assert _status(err) == 404
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="sem-acl", ACL="bogus")  # type: ignore[arg-type]
    assert _code(err) == "InvalidArgument"
    s3.put_object(
        Bucket="sem",
        Key="sc",
        Body=b"x",
        StorageClass="STANDARD_IA",
        ACL="private",
    )
    s3.copy_object(
        Bucket="sem",
        Key="sc2",
        CopySource="sem/sc",
        StorageClass="GLACIER_IR",
        ACL="bucket-owner-full-control",
    )
    listed = s3.list_objects_v2(Bucket="sem")["Contents"]
    assert [(o["Key"], o["StorageClass"]) for o in listed] == [
        ("sc", "STANDARD"),
        ("sc2", "STANDARD"),
    ]


def test_unknown_list_type_is_invalid_argument(gw: Gateway, s3: Any) -> None:
    """``?list-type=3`` is InvalidArgument; ``list-type=2`` lists."""
    answer = _raw(gw, "GET", "/sem?list-type=3")
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<Code>InvalidArgument</Code>" in answer
    assert _raw(gw, "GET", "/sem?list-type=2").startswith(b"HTTP/1.1 200")


def test_repeated_complete_multipart_upload_answers_again(s3: Any) -> None:
    """CompleteMultipartUpload sent again (a retry whose answer was lost) answers 200
    with the same ETag, as S3 (conformance D7)."""
    uid = s3.create_multipart_upload(Bucket="sem", Key="mp")["UploadId"]
    part = s3.upload_part(Bucket="sem", Key="mp", UploadId=uid, PartNumber=1, Body=b"p" * 10)
    done = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    first = s3.complete_multipart_upload(Bucket="sem", Key="mp", UploadId=uid, MultipartUpload=done)
    again = s3.complete_multipart_upload(Bucket="sem", Key="mp", UploadId=uid, MultipartUpload=done)
    assert again["ETag"] == first["ETag"]
    assert s3.get_object(Bucket="sem", Key="mp")["Body"].read() == b"p" * 10
    with pytest.raises(ClientError) as err:
        s3.abort_multipart_upload(Bucket="sem", Key="mp", UploadId=uid)
    assert _code(err) == "NoSuchUpload"


def test_metadata_bytes_come_back_as_sent(gw: Gateway, s3: Any) -> None:
    """x-amz-meta-* values come back as the bytes sent (boto3 sends and reads header
    values as Latin-1): a lone 0xE9 and UTF-8 bytes alike, on GET, ranged GET and HEAD
    (conformance D8). A value set through the library with characters beyond Latin-1
    goes out as UTF-8."""
    for key, sent in (("latin", "Hello World\xe9"), ("utf8", "caf\xc3\xa9"), ("ff", "\xff\xfe")):

        def add_header(params: dict[str, Any], value: str = sent, **_: Any) -> None:
            params["headers"]["x-amz-meta-meta1"] = value

        s3.meta.events.register("before-call.s3.PutObject", add_header)
        try:
            s3.put_object(Bucket="sem", Key=key, Body=b"bar")
        finally:
            s3.meta.events.unregister("before-call.s3.PutObject", add_header)
        for answer in (
            s3.get_object(Bucket="sem", Key=key),
            s3.get_object(Bucket="sem", Key=key, Range="bytes=0-1"),
            s3.head_object(Bucket="sem", Key=key),
        ):
            assert answer["Metadata"]["meta1"] == sent
            raw = answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-meta1"]
            assert raw.encode("latin-1") == sent.encode("latin-1")
    gw.store.root.put_object("sem", "wide", b"x", metadata={"m": "日本"})
    raw = s3.head_object(Bucket="sem", Key="wide")["ResponseMetadata"]["HTTPHeaders"]
    assert raw["x-amz-meta-m"].encode("latin-1") == "日本".encode()
