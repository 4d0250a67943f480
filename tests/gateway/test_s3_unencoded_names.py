"""Names XML 1.0 cannot carry (U+0001 ...) in answers the client did not ask to have
URL-encoded: the other names of the answer stay as they are, and no answer names a key
other than the one meant (review rev11c F2, F3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from botocore.handlers import set_list_objects_encoding_type_url

from tests.gateway.s3_support import error_of, served_store

INNOCENT = ["plain key", "é/report.csv"]


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Any]:
    with served_store(tmp_path) as gw:
        client = gw.client()
        client.create_bucket(Bucket="bkt")
        yield client


def test_list_multipart_uploads_never_encodes_unasked(s3: Any) -> None:
    """One upload of a key XML cannot carry made the whole page URL-encoded unasked,
    which botocore does not decode: every key came back changed and aborting "the listed
    uploads" answered NoSuchUpload for each. Now the page is refused unasked (S3's own
    page is one no parser reads), and asked, it carries every key exactly."""
    for key in INNOCENT:
        s3.create_multipart_upload(Bucket="bkt", Key=key)
    listed = s3.list_multipart_uploads(Bucket="bkt")
    assert "EncodingType" not in listed
    assert [u["Key"] for u in listed["Uploads"]] == sorted(INNOCENT)
    s3.create_multipart_upload(Bucket="bkt", Key="\x01ctl")
    with pytest.raises(ClientError) as refused:
        s3.list_multipart_uploads(Bucket="bkt")
    assert error_of(refused) == (400, "InvalidArgument")
    assert refused.value.response["Error"]["ArgumentName"] == "encoding-type"
    # A prefix that leaves the name out lists as before.
    listed = s3.list_multipart_uploads(Bucket="bkt", Prefix="plain")
    assert [u["Key"] for u in listed["Uploads"]] == ["plain key"]
    # Asked: every key encoded, as S3; decoded, each upload is aborted by its key.
    asked = s3.list_multipart_uploads(Bucket="bkt", EncodingType="url")
    assert asked["EncodingType"] == "url"
    for upload in asked["Uploads"]:
        key = unquote(upload["Key"])
        s3.abort_multipart_upload(Bucket="bkt", Key=key, UploadId=upload["UploadId"])
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="bkt")


def test_object_listings_never_encode_unasked(s3: Any) -> None:
    """ListObjects v1/v2 and ListObjectVersions sent without ``encoding-type`` (boto3
    always asks; other clients may not): the same rule."""
    for key in INNOCENT:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    # botocore asks encoding-type=url for these three by itself: stop it.
    for op in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        s3.meta.events.unregister(
            f"before-parameter-build.s3.{op}", set_list_objects_encoding_type_url
        )
    page = s3.list_objects_v2(Bucket="bkt")
    assert "EncodingType" not in page
    assert [o["Key"] for o in page["Contents"]] == sorted(INNOCENT)
    s3.put_object(Bucket="bkt", Key="\x01ctl", Body=b"x")
    for call in (s3.list_objects_v2, s3.list_objects, s3.list_object_versions):
        with pytest.raises(ClientError) as refused:
            call(Bucket="bkt")
        assert error_of(refused) == (400, "InvalidArgument")


def test_delete_objects_never_names_another_key(s3: Any) -> None:
    """DeleteObjects of "\\x01ctl" deleted it but reported "\\ufffdctl" deleted: another
    key, here one that exists and stays. Now the entry names no key at all; the other
    entries are as before (review rev11c F3)."""
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
    for key in ("\x01ctl", "\ufffdctl", "plain"):
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    out = s3.delete_objects(
        Bucket="bkt",
        Delete={
            "Objects": [
                {"Key": "\x01ctl"},
                {"Key": "plain"},
                {"Key": "\x02bad", "VersionId": "not-a-version"},
            ]
        },
    )
    deleted = out["Deleted"]
    assert len(deleted) == 2 and all(d["DeleteMarker"] for d in deleted)
    assert [d.get("Key") for d in deleted] == [None, "plain"]
    assert [(e.get("Key"), e["Code"]) for e in out["Errors"]] == [(None, "InvalidArgument")]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]]
    assert left == ["\ufffdctl"]
    # The marker reported is the one "\x01ctl" now has.
    marker = s3.list_object_versions(Bucket="bkt", Prefix="\x01")["DeleteMarkers"][0]
    assert deleted[0]["DeleteMarkerVersionId"] == marker["VersionId"]


def test_multipart_answers_never_name_another_key(s3: Any) -> None:
    """CreateMultipartUpload, ListParts and CompleteMultipartUpload gave "\\ufffdctl" as
    the Key of an upload of "\\x01ctl" (code continuing with it got NoSuchUpload): now
    they give none; the upload, its parts and the object are the key's."""
    key = "\x01ctl"
    upload = s3.create_multipart_upload(Bucket="bkt", Key=key)
    assert "Key" not in upload
    uid = upload["UploadId"]
    part = s3.upload_part(Bucket="bkt", Key=key, UploadId=uid, PartNumber=1, Body=b"p")
    parts = s3.list_parts(Bucket="bkt", Key=key, UploadId=uid)
    assert "Key" not in parts and [p["PartNumber"] for p in parts["Parts"]] == [1]
    done = s3.complete_multipart_upload(
        Bucket="bkt",
        Key=key,
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert "Key" not in done and done["Location"].endswith("/bkt/%01ctl")
    assert s3.get_object(Bucket="bkt", Key=key)["Body"].read() == b"p"
    # Keys XML can carry are named as before.
    assert s3.create_multipart_upload(Bucket="bkt", Key="plain key")["Key"] == "plain key"
