"""Where the gateway's answers must match S3's exactly: any key is reachable, ranges,
header validation (storage class, canned ACL), DeleteObjects' integrity header,
metadata bytes, repeated completions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, served_store


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        yield gateway


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
