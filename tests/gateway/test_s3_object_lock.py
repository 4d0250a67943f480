"""S3 Object Lock through the gateway with boto3: ?object-lock, ?retention, ?legal-hold,
the x-amz-object-lock-* headers of writes and reads, and x-amz-bypass-governance-retention."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, raw_answer

UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
GOVERNANCE = {"Mode": "GOVERNANCE", "RetainUntilDate": UNTIL}


@pytest.fixture
def s3(gw: Gateway) -> Any:
    client = gw.client()
    client.create_bucket(Bucket="lock", ObjectLockEnabledForBucket=True)
    client.create_bucket(Bucket="plain")
    return client


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], str(response["Error"]["Code"])


def test_bucket_configuration(s3: Any) -> None:
    assert s3.get_bucket_versioning(Bucket="lock")["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket="lock")["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
    }
    s3.put_object_lock_configuration(Bucket="lock", ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket="lock")["ObjectLockConfiguration"] == conf
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(Bucket="lock", VersioningConfiguration={"Status": "Suspended"})
    assert _error(err) == (409, "InvalidBucketState")
    with pytest.raises(ClientError) as err:
        s3.get_object_lock_configuration(Bucket="plain")
    assert _error(err) == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(ClientError) as err:
        s3.put_object_lock_configuration(Bucket="plain", ObjectLockConfiguration=conf)
    assert _error(err) == (409, "InvalidBucketState")
    for rule, code in (
        ({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
        ({"Mode": "abc", "Days": 1}, "MalformedXML"),
        ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidRetentionPeriod"),
        ({"Mode": "GOVERNANCE", "Years": -1}, "InvalidRetentionPeriod"),
    ):
        with pytest.raises(ClientError) as err:
            s3.put_object_lock_configuration(
                Bucket="lock",
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": rule},
                },
            )
        assert _error(err) == (400, code)
    # Enabled on an existing bucket once its versioning is.
    s3.put_bucket_versioning(Bucket="plain", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket="plain", ObjectLockConfiguration=conf)


def test_writes_and_reads_carry_the_lock_headers(s3: Any) -> None:
    put = s3.put_object(
        Bucket="lock",
        Key="k",
        Body=b"abc",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=UNTIL,
        ObjectLockLegalHoldStatus="ON",
    )
    head = s3.head_object(Bucket="lock", Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] == UNTIL
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    got = s3.get_object(Bucket="lock", Key="k", VersionId=put["VersionId"])
    assert got["ObjectLockRetainUntilDate"] == UNTIL and got["Body"].read() == b"abc"
    # Multipart and copies.
    upload = s3.create_multipart_upload(
        Bucket="lock", Key="mp", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=UNTIL
    )["UploadId"]
    part = s3.upload_part(Bucket="lock", Key="mp", UploadId=upload, PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(
        Bucket="lock",
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    assert s3.head_object(Bucket="lock", Key="mp")["ObjectLockMode"] == "COMPLIANCE"
    s3.copy_object(
        Bucket="lock",
        Key="copy",
        CopySource="lock/k",
        ObjectLockLegalHoldStatus="ON",
    )
    copied = s3.head_object(Bucket="lock", Key="copy")
    assert copied["ObjectLockLegalHoldStatus"] == "ON" and "ObjectLockMode" not in copied
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="plain", Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert _error(err) == (400, "InvalidRequest")


def test_a_locked_write_needs_an_integrity_header(gw: Gateway, s3: Any) -> None:
    """Content-MD5 or an x-amz-checksum-* value, as S3 (SigV4's payload hash is not one)."""
    lock = {
        "x-amz-object-lock-mode": "GOVERNANCE",
        "x-amz-object-lock-retain-until-date": "2100-01-01T00:00:00Z",
    }
    answer = raw_answer(gw, "PUT", "/lock/raw", b"abc", headers=lock)
    assert answer.startswith(b"HTTP/1.1 400") and b"InvalidRequest" in answer
    md5 = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    answer = raw_answer(gw, "PUT", "/lock/raw", b"abc", headers={**lock, "Content-MD5": md5})
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_retention_and_legal_hold(s3: Any) -> None:
    vid = s3.put_object(Bucket="lock", Key="k", Body=b"abc")["VersionId"]
    with pytest.raises(ClientError) as err:
        s3.get_object_retention(Bucket="lock", Key="k")
    assert _error(err) == (404, "NoSuchObjectLockConfiguration")
    s3.put_object_retention(Bucket="lock", Key="k", Retention=GOVERNANCE)
    assert s3.get_object_retention(Bucket="lock", Key="k", VersionId=vid)["Retention"] == (
        GOVERNANCE
    )
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": UNTIL - timedelta(days=1)}
    with pytest.raises(ClientError) as err:
        s3.put_object_retention(Bucket="lock", Key="k", Retention=shorter)
    assert _error(err) == (403, "AccessDenied")
    s3.put_object_retention(
        Bucket="lock", Key="k", Retention=shorter, BypassGovernanceRetention=True
    )
    assert s3.get_object_retention(Bucket="lock", Key="k")["Retention"] == shorter
    with pytest.raises(ClientError) as err:
        s3.put_object_retention(
            Bucket="lock", Key="k", Retention={"Mode": "governance", "RetainUntilDate": UNTIL}
        )
    assert _error(err) == (400, "MalformedXML")
    s3.put_object_legal_hold(Bucket="lock", Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket="lock", Key="k")["LegalHold"] == {"Status": "ON"}
    with pytest.raises(ClientError) as err:
        s3.put_object_legal_hold(Bucket="lock", Key="k", LegalHold={"Status": "abc"})
    assert _error(err) == (400, "MalformedXML")
    s3.put_object(Bucket="plain", Key="k", Body=b"x")
    for call in (
        lambda: s3.put_object_retention(Bucket="plain", Key="k", Retention=GOVERNANCE),
        lambda: s3.get_object_retention(Bucket="plain", Key="k"),
        lambda: s3.put_object_legal_hold(Bucket="plain", Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket="plain", Key="k"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert _error(err) == (400, "InvalidRequest")


def test_deletes_respect_the_lock(s3: Any) -> None:
    held = s3.put_object(Bucket="lock", Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON")
    kept = s3.put_object(
        Bucket="lock",
        Key="kept",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=UNTIL,
    )
    free = s3.put_object(Bucket="lock", Key="free", Body=b"x")
    for key, answer in (("held", held), ("kept", kept)):
        with pytest.raises(ClientError) as err:
            s3.delete_object(Bucket="lock", Key=key, VersionId=answer["VersionId"])
        assert _error(err) == (403, "AccessDenied")
    marker = s3.delete_object(Bucket="lock", Key="kept")
    assert marker["DeleteMarker"] is True
    out = s3.delete_objects(
        Bucket="lock",
        Delete={
            "Objects": [
                {"Key": "held", "VersionId": held["VersionId"]},
                {"Key": "kept", "VersionId": kept["VersionId"]},
                {"Key": "free", "VersionId": free["VersionId"]},
            ]
        },
    )
    assert sorted(e["Key"] for e in out["Errors"]) == ["held", "kept"]
    assert {e["Code"] for e in out["Errors"]} == {"AccessDenied"}
    assert [d["Key"] for d in out["Deleted"]] == ["free"]
    answer = s3.delete_object(
        Bucket="lock", Key="kept", VersionId=kept["VersionId"], BypassGovernanceRetention=True
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    out = s3.delete_objects(
        Bucket="lock",
        Delete={"Objects": [{"Key": "held", "VersionId": held["VersionId"]}]},
        BypassGovernanceRetention=True,
    )
    assert out["Errors"][0]["Code"] == "AccessDenied"  # a legal hold is never bypassed


def test_bypass_without_its_permission_bypasses_nothing(gw: Gateway, s3: Any) -> None:
    """A user refused s3:BypassGovernanceRetention who sends the header deletes what no
    GOVERNANCE retention protects, and nothing that one does."""
    policy = (
        '{"Version": "2012-10-17", "Statement": ['
        '{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},'
        '{"Effect": "Deny", "Action": "s3:BypassGovernanceRetention", "Resource": "*"}]}'
    )
    user = gw.client(gw.user_keys("nobypass", policy))
    kept = s3.put_object(
        Bucket="lock",
        Key="kept",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=UNTIL,
    )["VersionId"]
    free = s3.put_object(Bucket="lock", Key="free", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as err:
        user.delete_object(
            Bucket="lock", Key="kept", VersionId=kept, BypassGovernanceRetention=True
        )
    assert _error(err) == (403, "AccessDenied")
    out = user.delete_objects(
        Bucket="lock",
        Delete={
            "Objects": [{"Key": "kept", "VersionId": kept}, {"Key": "free", "VersionId": free}]
        },
        BypassGovernanceRetention=True,
    )
    assert [e["Key"] for e in out["Errors"]] == ["kept"]
    assert [d["Key"] for d in out["Deleted"]] == ["free"]
    s3.delete_object(Bucket="lock", Key="kept", VersionId=kept, BypassGovernanceRetention=True)
