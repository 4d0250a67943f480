"""ListObjectVersions and ListMultipartUploads through the gateway with boto3: delimiter,
common prefixes, the next markers of paginators, and ``encoding-type=url``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.s3_support import served_store

KEYS = ["a/1", "a/2", "b", "c/x/1", "c/y", "d\x01/e", "é/1", "z"]
# CreateMultipartUpload answers the key in its XML as is, which a control character
# makes unreadable to boto3 (a gap outside listings): the uploads go without "d\x01/e".
UPLOAD_KEYS = [k for k in KEYS if k.isprintable()]


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Any]:
    with served_store(tmp_path) as gw:
        client = gw.client()
        client.create_bucket(Bucket="lst")
        yield client


def _versions(s3: Any, **params: Any) -> tuple[list[tuple[str, str]], list[str], int]:
    """Every (key, version id) and common prefix by boto3's paginator, and the pages."""
    entries: list[tuple[str, str]] = []
    prefixes: list[str] = []
    pages = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket="lst", **params):
        pages += 1
        rows = page.get("Versions", []) + page.get("DeleteMarkers", [])
        entries += [(v["Key"], v["VersionId"]) for v in rows]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return entries, prefixes, pages


def test_versions_with_delimiter_page_like_one_page(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Enabled"})
    for key in [*KEYS, "a/1", "b", "z"]:
        s3.put_object(Bucket="lst", Key=key, Body=b"v")
    s3.delete_object(Bucket="lst", Key="b")
    one = s3.list_object_versions(Bucket="lst", Delimiter="/")
    assert one["Delimiter"] == "/" and one["IsTruncated"] is False
    assert [p["Prefix"] for p in one["CommonPrefixes"]] == ["a/", "c/", "d\x01/", "é/"]
    assert [v["Key"] for v in one["Versions"]] == ["b", "b", "z", "z"]
    assert [m["Key"] for m in one["DeleteMarkers"]] == ["b"]
    want_entries = sorted(
        (v["Key"], v["VersionId"]) for v in one["Versions"] + one["DeleteMarkers"]
    )
    for size in (1, 2, 3):
        entries, prefixes, pages = _versions(s3, Delimiter="/", PaginationConfig={"PageSize": size})
        assert sorted(entries) == want_entries and len(entries) == 5
        assert prefixes == ["a/", "c/", "d\x01/", "é/"]
        assert pages == -(-9 // size)
    # A page ending on a prefix: NextKeyMarker is the prefix, no NextVersionIdMarker.
    first = s3.list_object_versions(Bucket="lst", Delimiter="/", MaxKeys=1)
    assert first["IsTruncated"] is True and first["NextKeyMarker"] == "a/"
    assert "NextVersionIdMarker" not in first
    # One ending on a version names it.
    second = s3.list_object_versions(Bucket="lst", Delimiter="/", MaxKeys=2, KeyMarker="a/")
    last = sorted(second.get("Versions", []) + second.get("DeleteMarkers", []), key=str)
    assert second["NextKeyMarker"] == "b"
    assert second["NextVersionIdMarker"] in {v["VersionId"] for v in last}
    # The delimiter applies after the prefix.
    sub = s3.list_object_versions(Bucket="lst", Prefix="c/", Delimiter="/")
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["c/x/"]
    assert [v["Key"] for v in sub["Versions"]] == ["c/y"]


def test_versions_encoding_type_url(s3: Any) -> None:
    s3.put_object(Bucket="lst", Key="d\x01/e", Body=b"v")
    s3.put_object(Bucket="lst", Key="f g", Body=b"v")
    # boto3 asks for encoding-type=url by itself and decodes the names (as in the
    # other tests); asked for explicitly, it leaves them as sent.
    page = s3.list_object_versions(Bucket="lst", Delimiter="/", EncodingType="url")
    assert page["EncodingType"] == "url"
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d%01/"]
    assert [v["Key"] for v in page["Versions"]] == ["f%20g"]
    page = s3.list_object_versions(Bucket="lst", Delimiter="/", EncodingType="url", MaxKeys=1)
    assert page["NextKeyMarker"] == "d%01/"


def test_uploads_with_delimiter(s3: Any) -> None:
    ids = {k: s3.create_multipart_upload(Bucket="lst", Key=k)["UploadId"] for k in UPLOAD_KEYS}
    again = s3.create_multipart_upload(Bucket="lst", Key="b")["UploadId"]
    one = s3.list_multipart_uploads(Bucket="lst", Delimiter="/")
    assert one["Delimiter"] == "/" and one["IsTruncated"] is False
    assert [p["Prefix"] for p in one["CommonPrefixes"]] == ["a/", "c/", "é/"]
    assert [(u["Key"], u["UploadId"]) for u in one["Uploads"]] == [
        ("b", ids["b"]),
        ("b", again),
        ("z", ids["z"]),
    ]
    for size in (1, 2, 4):
        uploads: list[str] = []
        prefixes: list[str] = []
        pages = s3.get_paginator("list_multipart_uploads").paginate(
            Bucket="lst", Delimiter="/", PaginationConfig={"PageSize": size}
        )
        for page in pages:
            uploads += [u["UploadId"] for u in page.get("Uploads", [])]
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert uploads == [ids["b"], again, ids["z"]]
        assert prefixes == ["a/", "c/", "é/"]
    first = s3.list_multipart_uploads(Bucket="lst", Delimiter="/", MaxUploads=2)
    assert first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == ("b", ids["b"])
    top = s3.list_multipart_uploads(Bucket="lst", Delimiter="/", MaxUploads=1)
    assert top["NextKeyMarker"] == "a/" and "NextUploadIdMarker" not in top
    sub = s3.list_multipart_uploads(Bucket="lst", Prefix="c/", Delimiter="/", EncodingType="url")
    assert sub["EncodingType"] == "url" and sub["Prefix"] == "c/"
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["c/x/"]
    assert [u["Key"] for u in sub["Uploads"]] == ["c/y"]
    enc = s3.list_multipart_uploads(Bucket="lst", Delimiter="/", EncodingType="url")
    assert [p["Prefix"] for p in enc["CommonPrefixes"]] == ["a/", "c/", "%C3%A9/"]


def test_bad_encoding_type_is_invalid_argument(s3: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        s3.list_multipart_uploads(Bucket="lst", EncodingType="base64")
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
