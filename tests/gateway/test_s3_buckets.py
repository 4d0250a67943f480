"""S3 buckets and listings through the gateway with boto3: create (location
constraint), head, list, delete, location, versioning, policy, ListObjects v1/v2
pagination, ListObjectVersions, virtual-hosted addressing."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway


@pytest.fixture
def s3(gw: Gateway) -> Any:
    return gw.client()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_bucket_life_cycle(s3: Any) -> None:
    """Create, head, list, location, delete; the errors S3 gives along the way."""
    s3.create_bucket(Bucket="bk1")
    s3.create_bucket(Bucket="bk2", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    # us-east-1 answers an owner's re-creation with success, as S3 does.
    assert s3.create_bucket(Bucket="bk1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as err:
        s3.create_bucket(
            Bucket="bk3", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert _code(err) == "InvalidLocationConstraint"
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="Bad_Name")
    assert _code(err) == "InvalidBucketName"
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["bk1", "bk2"]
    assert listed["Owner"]["ID"]
    first = s3.list_buckets(MaxBuckets=1)
    assert [b["Name"] for b in first["Buckets"]] == ["bk1"]
    rest = s3.list_buckets(MaxBuckets=1, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["bk2"] and "ContinuationToken" not in rest
    assert s3.head_bucket(Bucket="bk1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket="bk1")["LocationConstraint"] is None
    s3.put_object(Bucket="bk1", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket="bk1")
    assert _code(err) == "BucketNotEmpty"
    s3.delete_object(Bucket="bk1", Key="k")
    s3.delete_bucket(Bucket="bk1")
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket="bk1")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="bk1")
    assert _code(err) == "NoSuchBucket"
    assert err.value.response["Error"]["BucketName"] == "bk1"


def test_versioning_and_policy(s3: Any) -> None:
    """Versioning status round trip; bucket policy put/get/delete."""
    s3.create_bucket(Bucket="ver")
    assert "Status" not in s3.get_bucket_versioning(Bucket="ver")
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="ver")["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket="ver")["Status"] == "Suspended"
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket="ver")
    assert _code(err) == "NoSuchBucketPolicy"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::ver/pub/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="ver", Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket="ver")["Policy"]) == policy
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket="ver", Policy="{not json")
    assert _code(err) == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket="ver")
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket="ver")


def test_anonymous_read_through_bucket_policy(gw: Gateway, s3: Any) -> None:
    """An unsigned GET is the anonymous principal: allowed where the policy says."""
    s3.create_bucket(Bucket="web")
    s3.put_object(Bucket="web", Key="pub/a.txt", Body=b"hello")
    s3.put_object(Bucket="web", Key="priv/b.txt", Body=b"secret")
    s3.put_bucket_policy(
        Bucket="web",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::web/pub/*",
                    }
                ],
            }
        ),
    )
    with urllib.request.urlopen(f"{gw.url}/web/pub/a.txt") as answer:
        assert answer.read() == b"hello"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{gw.url}/web/priv/b.txt")
    assert err.value.code == 403
    assert b"<Code>AccessDenied</Code>" in err.value.read()


def test_list_objects_v2_pages(s3: Any) -> None:
    """Pagination with continuation tokens, start-after, delimiter, fetch-owner."""
    s3.create_bucket(Bucket="lst")
    keys = [f"k{i:02d}" for i in range(7)] + ["d/1", "d/2", "e/1"]
    for key in keys:
        s3.put_object(Bucket="lst", Key=key, Body=b"")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="lst", PaginationConfig={"PageSize": 3}
    )
    seen = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert seen == sorted(keys)
    page = s3.list_objects_v2(Bucket="lst", Delimiter="/", MaxKeys=100)
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/", "e/"]
    assert page["KeyCount"] == 9 and page["IsTruncated"] is False
    page = s3.list_objects_v2(Bucket="lst", StartAfter="k04", Prefix="k")
    assert [o["Key"] for o in page["Contents"]] == ["k05", "k06"]
    assert page["StartAfter"] == "k04"
    assert "Owner" not in page["Contents"][0]
    page = s3.list_objects_v2(Bucket="lst", FetchOwner=True, MaxKeys=1)
    assert page["Contents"][0]["Owner"]["ID"]
    assert page["IsTruncated"] is True and page["NextContinuationToken"]
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="lst", ContinuationToken="garbage!")
    assert _code(err) == "InvalidArgument"


def test_list_objects_v2_empty_continuation_token(s3: Any) -> None:
    """Regression (s3-tests test_bucket_listv2_continuationtoken_empty): an empty
    continuation-token is no token, as in S3: the listing starts at the beginning and
    echoes the empty token; a non-empty bad one is still refused."""
    s3.create_bucket(Bucket="ect")
    keys = ["bar", "baz", "foo", "quxx"]
    for key in keys:
        s3.put_object(Bucket="ect", Key=key, Body=b"")
    page = s3.list_objects_v2(Bucket="ect", ContinuationToken="")
    assert page["ContinuationToken"] == "" and page["IsTruncated"] is False
    assert [o["Key"] for o in page["Contents"]] == keys and page["KeyCount"] == 4
    page = s3.list_objects_v2(Bucket="ect", ContinuationToken="", MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == keys[:2] and page["IsTruncated"] is True
    rest = s3.list_objects_v2(Bucket="ect", ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == keys[2:]
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="ect", ContinuationToken="garbage!")
    assert _code(err) == "InvalidArgument"


def test_list_objects_v1_markers(s3: Any) -> None:
    """ListObjects v1: marker paging, NextMarker with a delimiter (common prefixes too)."""
    s3.create_bucket(Bucket="lv1")
    keys = ["a", "b/1", "b/2", "c", "d/1", "e"]
    for key in keys:
        s3.put_object(Bucket="lv1", Key=key, Body=b"")
    pages = s3.get_paginator("list_objects").paginate(
        Bucket="lv1", PaginationConfig={"PageSize": 2}
    )
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == keys
    pages = list(
        s3.get_paginator("list_objects").paginate(
            Bucket="lv1", Delimiter="/", PaginationConfig={"PageSize": 2}
        )
    )
    flat = [o["Key"] for p in pages for o in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert flat == ["a", "c", "e"] and prefixes == ["b/", "d/"]
    assert pages[0]["NextMarker"] == "b/"


def test_url_encoded_listing(s3: Any) -> None:
    """encoding-type=url carries keys XML cannot (boto3 decodes them back)."""
    s3.create_bucket(Bucket="enc")
    odd = ["a b+c", "ctl\x01key", "ünï/x"]
    for key in odd:
        s3.put_object(Bucket="enc", Key=key, Body=b"")
    # boto3 asks for url encoding on its own and decodes the answer.
    page = s3.list_objects_v2(Bucket="enc")
    assert sorted(o["Key"] for o in page["Contents"]) == sorted(odd)
    page = s3.list_objects(Bucket="enc", Delimiter="/")
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["ünï/"]
    # Asked for explicitly, the encoded names are handed over as they came.
    page = s3.list_objects_v2(Bucket="enc", EncodingType="url")
    assert sorted(unquote(o["Key"]) for o in page["Contents"]) == sorted(odd)
    assert "ctl%01key" in [o["Key"] for o in page["Contents"]]


def test_v1_listing_prefix_is_not_encoded(s3: Any) -> None:
    """A v1 page writes its Prefix as given, even with encoding-type=url (boto3 does not
    decode a v1 Prefix; S3 does not encode it), while its keys are encoded."""
    s3.create_bucket(Bucket="enc1")
    s3.put_object(Bucket="enc1", Key="\nline/a b", Body=b"")
    page = s3.list_objects(Bucket="enc1", Prefix="\n")
    assert page["Prefix"] == "\n"
    assert [o["Key"] for o in page["Contents"]] == ["\nline/a b"]
    page = s3.list_objects(Bucket="enc1", Prefix="\nl", Delimiter="/")
    assert page["Prefix"] == "\nl"
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["\nline/"]
    # v2 encodes its Prefix (boto3 decodes it).
    assert s3.list_objects_v2(Bucket="enc1", Prefix="\n")["Prefix"] == "\n"
    # A prefix XML cannot carry is still encoded with the whole page.
    page = s3.list_objects(Bucket="enc1", Prefix="\x01", EncodingType="url")
    assert page["Prefix"] == "%01" and page["EncodingType"] == "url"


def test_list_object_versions(s3: Any) -> None:
    """Versions and delete markers by key, newest first, paged by key/version markers."""
    s3.create_bucket(Bucket="vvv")
    s3.put_bucket_versioning(Bucket="vvv", VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket="vvv", Key="a", Body=bytes([i]))["VersionId"] for i in range(3)]
    marker = s3.delete_object(Bucket="vvv", Key="a")["VersionId"]
    s3.put_object(Bucket="vvv", Key="b", Body=b"b")
    out = s3.list_object_versions(Bucket="vvv")
    assert [v["VersionId"] for v in out["Versions"] if v["Key"] == "a"] == ids[::-1]
    assert [m["VersionId"] for m in out["DeleteMarkers"]] == [marker]
    assert out["DeleteMarkers"][0]["IsLatest"] is True
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket="vvv", PaginationConfig={"PageSize": 2}
    )
    collected = [
        v["VersionId"] for p in pages for v in p.get("Versions", []) + p.get("DeleteMarkers", [])
    ]
    assert sorted(collected) == sorted([*ids, marker, out["Versions"][-1]["VersionId"]])


def test_virtual_hosted_addressing(gw: Gateway) -> None:
    """``bucket.s3.localhost`` addresses the bucket (the Host header decides)."""
    port = gw.url.rsplit(":", 1)[1]
    path_style = gw.client()
    path_style.create_bucket(Bucket="vhb")
    virtual = gw.client(s3={"addressing_style": "virtual"})
    virtual = gw.client(s3={"addressing_style": "virtual"}, endpoint=f"http://s3.localhost:{port}")
    sent = []

    def to_loopback(request: Any, **_: Any) -> None:
        # *.s3.localhost does not resolve here: connect to loopback, keep the Host header.
        host = f"vhb.s3.localhost:{port}"
        assert host in request.url
        request.headers["Host"] = host
        request.url = request.url.replace(host, f"127.0.0.1:{port}")
        sent.append(request.url)

    virtual.meta.events.register("before-send.s3", to_loopback)
    virtual.put_object(Bucket="vhb", Key="deep/key.txt", Body=b"virtual")
    assert sent == [f"http://127.0.0.1:{port}/deep/key.txt"]
    assert path_style.get_object(Bucket="vhb", Key="deep/key.txt")["Body"].read() == b"virtual"
    assert virtual.get_object(Bucket="vhb", Key="deep/key.txt")["Body"].read() == b"virtual"


def test_get_bucket_policy_shows_a_renamed_users_new_arn(gw: Gateway, s3: Any) -> None:
    """GetBucketPolicy shows the current ARN of a renamed user it names (as AWS), so putting
    back what was read keeps naming that user (break-it review 7b, H4)."""
    iam = gw.store.root.iam
    dave = iam.create_user("dave")
    s3.create_bucket(Bucket="ren")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": dave.arn},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::ren/*",
    }
    s3.put_bucket_policy(
        Bucket="ren", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    iam.update_user("dave", new_user_name="erin")
    shown = s3.get_bucket_policy(Bucket="ren")["Policy"]
    erin_arn = iam.get_user("erin").arn
    assert json.loads(shown)["Statement"][0]["Principal"] == {"AWS": erin_arn}
    iam.create_user("dave")
    s3.put_bucket_policy(Bucket="ren", Policy=shown)
    assert s3.get_bucket_policy(Bucket="ren")["Policy"] == shown
