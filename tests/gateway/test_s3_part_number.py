"""GET and HEAD ``?partNumber=N`` through the gateway with boto3: 206 with the part's
bytes, ``Content-Range`` and ``x-amz-mp-parts-count``; a single PUT is part 1;
``InvalidPartNumber`` (416) beyond the count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import objstore
from tests.conftest import open_store
from tests.gateway.s3_support import serve

MIN = 1024
PARTS = [b"a" * MIN, b"b" * (MIN + 1), b"c" * 17]
TOTAL = sum(map(len, PARTS))


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Any]:
    store = open_store(tmp_path / "store", limits=objstore.Limits(min_part_size=MIN))
    try:
        with serve(store) as gw:
            client = gw.client()
            client.create_bucket(Bucket="pnb")
            yield client
    finally:
        store.close()


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    meta = err.value.response
    return meta["ResponseMetadata"]["HTTPStatusCode"], meta["Error"]["Code"]


def _multipart(s3: Any, key: str) -> str:
    uid = s3.create_multipart_upload(Bucket="pnb", Key=key)["UploadId"]
    done = [
        {
            "PartNumber": n,
            "ETag": s3.upload_part(Bucket="pnb", Key=key, UploadId=uid, PartNumber=n, Body=body)[
                "ETag"
            ],
        }
        for n, body in enumerate(PARTS, start=1)
    ]
    res = s3.complete_multipart_upload(
        Bucket="pnb", Key=key, UploadId=uid, MultipartUpload={"Parts": done}
    )
    return str(res["ETag"])


def test_get_and_head_each_part(s3: Any) -> None:
    with pytest.raises(ClientError) as err:  # not completed yet: no such key
        s3.get_object(Bucket="pnb", Key="mp", PartNumber=1)
    assert _error(err) == (404, "NoSuchKey")
    etag = _multipart(s3, "mp")
    first = 0
    for n, part in enumerate(PARTS, start=1):
        last = first + len(part) - 1
        got = s3.get_object(Bucket="pnb", Key="mp", PartNumber=n)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == part
        assert got["ContentLength"] == len(part)
        assert got["ContentRange"] == f"bytes {first}-{last}/{TOTAL}"
        assert (got["PartsCount"], got["ETag"]) == (3, etag)
        head = s3.head_object(Bucket="pnb", Key="mp", PartNumber=n)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert (head["ContentLength"], head["ContentRange"]) == (len(part), got["ContentRange"])
        assert (head["PartsCount"], head["ETag"]) == (3, etag)
        first = last + 1
    # Without partNumber S3 does not tell the part count.
    assert "PartsCount" not in s3.head_object(Bucket="pnb", Key="mp")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="pnb", Key="mp", PartNumber=4)
    assert _error(err) == (416, "InvalidPartNumber")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="pnb", Key="mp", PartNumber=4)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_single_put_is_part_one(s3: Any) -> None:
    etag = s3.put_object(Bucket="pnb", Key="one", Body=b"body")["ETag"]
    got = s3.get_object(Bucket="pnb", Key="one", PartNumber=1)
    assert got["Body"].read() == b"body" and got["ETag"] == etag
    assert got["ContentRange"] == "bytes 0-3/4" and "PartsCount" not in got
    head = s3.head_object(Bucket="pnb", Key="one", PartNumber=1)
    assert head["ContentLength"] == 4
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="pnb", Key="one", PartNumber=2)
    assert _error(err) == (416, "InvalidPartNumber")


def test_part_number_errors(s3: Any) -> None:
    _multipart(s3, "mp")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="pnb", Key="mp", PartNumber=1, Range="bytes=0-1")
    assert _error(err) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="pnb", Key="mp", PartNumber=1, Range="bytes=0-1")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    for bad in (0, 10_001):
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket="pnb", Key="mp", PartNumber=bad)
        assert _error(err) == (400, "InvalidArgument")
