"""Block Public Access and GetBucketPolicyStatus over HTTP, through boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, raw_answer, served_store

PUBLIC_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::pab/*",
            }
        ],
    }
)
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="pab")
        yield gateway


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"]), str(response["Error"]["Code"])


def _config(**on: bool) -> dict[str, bool]:
    return {name: on.get(name, False) for name in SETTINGS}


def test_put_get_delete(gw: Gateway) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.get_public_access_block(Bucket="pab")
    assert _error(err) == (404, "NoSuchPublicAccessBlockConfiguration")
    conf = _config(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True)
    put = s3.put_public_access_block(Bucket="pab", PublicAccessBlockConfiguration=conf)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_public_access_block(Bucket="pab")["PublicAccessBlockConfiguration"]
    assert got == conf
    deleted = s3.delete_public_access_block(Bucket="pab")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        s3.get_public_access_block(Bucket="pab")
    assert _error(err) == (404, "NoSuchPublicAccessBlockConfiguration")


def test_settings_left_out_are_off_and_bad_values_malformed(gw: Gateway) -> None:
    ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    doc = f"<PublicAccessBlockConfiguration {ns}><BlockPublicPolicy>TRUE</BlockPublicPolicy>"
    doc += "</PublicAccessBlockConfiguration>"
    answer = raw_answer(gw, "PUT", "/pab?publicAccessBlock=", doc.encode())
    assert answer.startswith(b"HTTP/1.1 200")
    got = gw.client().get_public_access_block(Bucket="pab")["PublicAccessBlockConfiguration"]
    assert got == _config(BlockPublicPolicy=True)
    bad = b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
    bad += b"</PublicAccessBlockConfiguration>"
    answer = raw_answer(gw, "PUT", "/pab?publicAccessBlock=", bad)
    assert answer.startswith(b"HTTP/1.1 400") and b"<Code>MalformedXML</Code>" in answer


def test_policy_status_and_block_public_policy(gw: Gateway) -> None:
    s3 = gw.client()
    assert s3.get_bucket_policy_status(Bucket="pab")["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket="pab", Policy=PUBLIC_READ)
    assert s3.get_bucket_policy_status(Bucket="pab")["PolicyStatus"]["IsPublic"] is True
    s3.delete_bucket_policy(Bucket="pab")
    s3.put_public_access_block(
        Bucket="pab", PublicAccessBlockConfiguration=_config(BlockPublicPolicy=True)
    )
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket="pab", Policy=PUBLIC_READ)
    assert _error(err) == (403, "AccessDenied")
    bounded = json.loads(PUBLIC_READ)
    bounded["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}}
    s3.put_bucket_policy(Bucket="pab", Policy=json.dumps(bounded))
    assert s3.get_bucket_policy_status(Bucket="pab")["PolicyStatus"]["IsPublic"] is False


def test_restrict_public_buckets_keeps_anonymous_callers_out(gw: Gateway) -> None:
    s3 = gw.client()
    s3.put_object(Bucket="pab", Key="k", Body=b"bar")
    s3.put_bucket_policy(Bucket="pab", Policy=PUBLIC_READ)
    anonymous = boto3.client(
        "s3",
        endpoint_url=gw.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}),
    )
    assert anonymous.get_object(Bucket="pab", Key="k")["Body"].read() == b"bar"
    s3.put_public_access_block(
        Bucket="pab", PublicAccessBlockConfiguration=_config(RestrictPublicBuckets=True)
    )
    with pytest.raises(ClientError) as err:
        anonymous.get_object(Bucket="pab", Key="k")
    assert _error(err) == (403, "AccessDenied")
    assert s3.get_object(Bucket="pab", Key="k")["Body"].read() == b"bar"


def test_block_public_acls_is_access_denied(gw: Gateway) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(Bucket="pab", ACL="public-read")
    assert _error(err) == (400, "AccessControlListNotSupported")
    s3.put_public_access_block(
        Bucket="pab", PublicAccessBlockConfiguration=_config(BlockPublicAcls=True)
    )
    for acl in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(ClientError) as err:
            s3.put_bucket_acl(Bucket="pab", ACL=acl)
        assert _error(err) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket="pab", ACL="private")


def test_block_public_acls_refuses_public_acl_headers_on_writes(gw: Gateway) -> None:
    """A write carrying a public ACL header is 403 AccessDenied while BlockPublicAcls is
    on (S3), 400 AccessControlListNotSupported otherwise (ACLs are disabled); nothing is
    stored either way, and an owner-only ACL still writes."""
    s3 = gw.client()
    grant = {"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'}
    writes = [
        lambda **acl: s3.put_object(Bucket="pab", Key="w", Body=b"x", **acl),
        lambda **acl: s3.create_multipart_upload(Bucket="pab", Key="w", **acl),
    ]
    for write in writes:
        with pytest.raises(ClientError) as err:
            write(ACL="public-read")
        assert _error(err) == (400, "AccessControlListNotSupported")
    s3.put_public_access_block(
        Bucket="pab", PublicAccessBlockConfiguration=_config(BlockPublicAcls=True)
    )
    for write in writes:
        for acl in ({"ACL": "public-read"}, {"ACL": "authenticated-read"}, grant):
            with pytest.raises(ClientError) as err:
                write(**acl)
            assert _error(err) == (403, "AccessDenied")
        # An ACL granting a named account is not public: ACLs-disabled's answer stands.
        with pytest.raises(ClientError) as err:
            write(GrantRead='id="123456789012345678901234567890"')
        assert _error(err) == (400, "AccessControlListNotSupported")
    assert "Contents" not in s3.list_objects_v2(Bucket="pab")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="pab")
    s3.put_object(Bucket="pab", Key="w", Body=b"x", ACL="private")


def test_actions_are_authorized(gw: Gateway) -> None:
    """A user allowed s3:GetBucketPublicAccessBlock only may read the settings and
    nothing else of them; denied by a bucket policy, even the owner may not."""
    read_only = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetBucketPublicAccessBlock", "Resource": "*"}
            ],
        }
    )
    user: Any = gw.client(gw.user_keys("reader", read_only))
    s3 = gw.client()
    s3.put_public_access_block(Bucket="pab", PublicAccessBlockConfiguration=_config())
    assert user.get_public_access_block(Bucket="pab")["PublicAccessBlockConfiguration"]
    for call in (
        lambda: user.put_public_access_block(
            Bucket="pab", PublicAccessBlockConfiguration=_config()
        ),
        lambda: user.delete_public_access_block(Bucket="pab"),
        lambda: user.get_bucket_policy_status(Bucket="pab"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert _error(err) == (403, "AccessDenied")
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetBucketPublicAccessBlock",
                    "Resource": "arn:aws:s3:::pab",
                }
            ],
        }
    )
    s3.put_bucket_policy(Bucket="pab", Policy=deny)
    with pytest.raises(ClientError) as err:
        s3.get_public_access_block(Bucket="pab")
    assert _error(err) == (403, "AccessDenied")
