"""Multipart uploads through the gateway with boto3: parts, part copies (with ranges),
completion, abort, ListParts and ListMultipartUploads paging."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import served_store

MIB = 1024 * 1024


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Any]:
    with served_store(tmp_path) as gw:
        client = gw.client()
        client.create_bucket(Bucket="mpu")
        yield client


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_upload_parts_and_part_copy(s3: Any) -> None:
    """Two uploaded parts and a ranged part copy join into one object with S3's ETag."""
    p1 = b"a" * (5 * MIB)
    p2 = bytes(range(256)) * 20480  # 5 MiB
    src = b"0123456789" * 100
    s3.put_object(Bucket="mpu", Key="src", Body=src, Metadata={"x": "y"})
    up = s3.create_multipart_upload(
        Bucket="mpu", Key="big", ContentType="app/x", Metadata={"k": "v"}
    )
    uid = up["UploadId"]
    assert up["Bucket"] == "mpu" and up["Key"] == "big"
    e1 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    copied = s3.upload_part_copy(
        Bucket="mpu",
        Key="big",
        UploadId=uid,
        PartNumber=3,
        CopySource={"Bucket": "mpu", "Key": "src"},
        CopySourceRange="bytes=10-29",
    )
    e3 = copied["CopyPartResult"]["ETag"]
    assert e3 == f'"{hashlib.md5(src[10:30]).hexdigest()}"'
    parts = s3.list_parts(Bucket="mpu", Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts["Parts"]] == [
        (1, e1, len(p1)),
        (2, e2, len(p2)),
        (3, e3, 20),
    ]
    assert parts["IsTruncated"] is False
    assert "ChecksumAlgorithm" not in parts  # created without one
    page = s3.list_parts(Bucket="mpu", Key="big", UploadId=uid, MaxParts=2)
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2
    rest = s3.list_parts(Bucket="mpu", Key="big", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]
    listed = s3.list_multipart_uploads(Bucket="mpu")
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("big", uid)]
    done = s3.complete_multipart_upload(
        Bucket="mpu",
        Key="big",
        UploadId=uid,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": e1},
                {"PartNumber": 2, "ETag": e2},
                {"PartNumber": 3, "ETag": e3},
            ]
        },
    )
    digests = b"".join(hashlib.md5(p).digest() for p in (p1, p2, src[10:30]))
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert done["Key"] == "big" and done["Bucket"] == "mpu"
    got = s3.get_object(Bucket="mpu", Key="big")
    assert got["Body"].read() == p1 + p2 + src[10:30]
    assert got["ContentType"] == "app/x" and got["Metadata"] == {"k": "v"}
    tail = s3.get_object(Bucket="mpu", Key="big", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")
    assert tail["Body"].read() == b"aa" + p2[:2]
    assert s3.list_multipart_uploads(Bucket="mpu").get("Uploads", []) == []


def test_completion_errors_and_abort(s3: Any) -> None:
    """Small parts, wrong ETags and bad order fail as S3 says; abort forgets the upload."""
    uid = s3.create_multipart_upload(Bucket="mpu", Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=2, Body=b"y")["ETag"]
    cases = [
        ([(1, e1), (2, e2)], "EntityTooSmall"),
        ([(1, '"00000000000000000000000000000000"')], "InvalidPart"),
        ([(2, e2), (1, e1)], "InvalidPartOrder"),
    ]
    for parts, code in cases:
        with pytest.raises(ClientError) as err:
            s3.complete_multipart_upload(
                Bucket="mpu",
                Key="k",
                UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
            )
        assert _code(err) == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=10001, Body=b"z")
    assert _code(err) == "InvalidArgument"
    s3.abort_multipart_upload(Bucket="mpu", Key="k", UploadId=uid)
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket="mpu", Key="k", UploadId=uid)
    assert _code(err) == "NoSuchUpload"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="mpu", Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_full_object_checksum_needs_consecutive_parts(s3: Any) -> None:
    """With x-amz-checksum-type FULL_OBJECT the completed parts are 1, 2, ... (S3: 400
    InvalidPartOrder otherwise); the same parts complete once numbered from 1."""
    uid = s3.create_multipart_upload(
        Bucket="mpu", Key="f", ChecksumAlgorithm="CRC32C", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    bodies = {1: b"a" * (5 * MIB), 3: b"tail"}
    etags = {
        n: s3.upload_part(
            Bucket="mpu", Key="f", UploadId=uid, PartNumber=n, Body=body, ChecksumAlgorithm="CRC32C"
        )["ETag"]
        for n, body in bodies.items()
    }
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(
            Bucket="mpu",
            Key="f",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in etags.items()]},
        )
    assert _code(err) == "InvalidPartOrder"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.complete_multipart_upload(
        Bucket="mpu",
        Key="f",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etags[1]}]},
    )
    assert s3.get_object(Bucket="mpu", Key="f")["Body"].read() == bodies[1]


def test_list_multipart_uploads_pages(s3: Any) -> None:
    """ListMultipartUploads pages by key and upload id markers."""
    made = sorted(
        (key, s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"])
        for key in ("u1", "u2", "u2", "u3")
    )
    pages = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket="mpu", PaginationConfig={"PageSize": 3}
    )
    seen = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
    assert sorted(seen) == made and len(seen) == 4
    first = s3.list_multipart_uploads(Bucket="mpu", MaxUploads=1)
    assert first["IsTruncated"] is True and first["NextKeyMarker"] == "u1"


def test_malformed_complete_body(s3: Any) -> None:
    """A CompleteMultipartUpload body that is not S3's XML is MalformedXML (400)."""
    import urllib.request

    uid = s3.create_multipart_upload(Bucket="mpu", Key="m")["UploadId"]
    bodies = [
        b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part>",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><CompleteMultipartUpload>'
        b"<Part><PartNumber>1</PartNumber><ETag>&b;</ETag></Part></CompleteMultipartUpload>",
        b"<Other/>",
    ]
    for body in bodies:
        url = s3.generate_presigned_url(
            "complete_multipart_upload", Params={"Bucket": "mpu", "Key": "m", "UploadId": uid}
        )
        # The URL is SigV2-presigned (boto3's default), which signs Content-Type: send
        # none rather than urllib's default form type, or S3 answers SignatureDoesNotMatch.
        req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ""})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req)
        assert err.value.code == 400
        assert b"<Code>MalformedXML</Code>" in err.value.read()
