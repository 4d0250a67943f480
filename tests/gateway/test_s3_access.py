"""ACLs disabled (object ownership BucketOwnerEnforced) and GetObjectAttributes through
the gateway with boto3: what S3 answers by default since April 2023."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, raw_answer

ATTRS = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
ENFORCED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


@pytest.fixture
def s3(gw: Gateway) -> Any:
    client = gw.client()
    client.create_bucket(Bucket="bkt")
    client.put_object(Bucket="bkt", Key="k", Body=b"hello")
    return client


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], str(response["Error"]["Code"])


def _owner_only(answer: dict[str, Any], account: str) -> None:
    assert answer["Owner"] == {"ID": account, "DisplayName": account}
    assert answer["Grants"] == [
        {
            "Grantee": {"ID": account, "DisplayName": account, "Type": "CanonicalUser"},
            "Permission": "FULL_CONTROL",
        }
    ]


def test_acls_read_as_the_owners_full_control(gw: Gateway, s3: Any) -> None:
    account = gw.store.account_id
    _owner_only(s3.get_bucket_acl(Bucket="bkt"), account)
    _owner_only(s3.get_object_acl(Bucket="bkt", Key="k"), account)
    with pytest.raises(ClientError) as err:
        s3.get_object_acl(Bucket="bkt", Key="missing")
    assert _error(err) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_acl(Bucket="no-such-bucket")
    assert _error(err) == (404, "NoSuchBucket")


def test_setting_an_acl_accepts_only_the_owners_full_control(gw: Gateway, s3: Any) -> None:
    """bucket-owner-full-control, private (or the document Get*Acl answers) is accepted
    and changes nothing; any other ACL is AccessControlListNotSupported."""
    last_modified = s3.head_object(Bucket="bkt", Key="k")["LastModified"]
    s3.put_object_acl(Bucket="bkt", Key="k", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(Bucket="bkt", ACL="bucket-owner-full-control")
    got = s3.get_bucket_acl(Bucket="bkt")
    s3.put_bucket_acl(
        Bucket="bkt", AccessControlPolicy={"Owner": got["Owner"], "Grants": got["Grants"]}
    )
    s3.put_object_acl(Bucket="bkt", Key="k", GrantFullControl=f'id="{gw.store.account_id}"')
    s3.put_object_acl(Bucket="bkt", Key="k", ACL="private")
    s3.put_bucket_acl(Bucket="bkt", ACL="private")
    for canned in ("public-read", "public-read-write", "authenticated-read", "bucket-owner-read"):
        with pytest.raises(ClientError) as err:
            s3.put_bucket_acl(Bucket="bkt", ACL=canned)
        assert _error(err) == (400, "AccessControlListNotSupported")
        with pytest.raises(ClientError) as err:
            s3.put_object_acl(Bucket="bkt", Key="k", ACL=canned)
        assert _error(err) == (400, "AccessControlListNotSupported")
    other = {"ID": "111122223333", "Type": "CanonicalUser"}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(
            Bucket="bkt",
            AccessControlPolicy={
                "Owner": got["Owner"],
                "Grants": [*got["Grants"], {"Grantee": other, "Permission": "READ"}],
            },
        )
    assert _error(err) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as err:
        s3.put_object_acl(Bucket="bkt", Key="k", GrantRead='uri="http://acs.amazonaws.com/x"')
    assert _error(err) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as err:
        s3.put_object_acl(Bucket="bkt", Key="missing", ACL="bucket-owner-full-control")
    assert _error(err) == (404, "NoSuchKey")
    assert s3.head_object(Bucket="bkt", Key="k")["LastModified"] == last_modified


def test_writes_with_acls_are_refused_unless_owner_full_control(gw: Gateway, s3: Any) -> None:
    s3.put_object(Bucket="bkt", Key="ok", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket="bkt", Key="ok1", Body=b"x", ACL="private")
    s3.copy_object(Bucket="bkt", Key="ok2", CopySource="bkt/ok", ACL="bucket-owner-full-control")
    up = s3.create_multipart_upload(Bucket="bkt", Key="ok3", ACL="bucket-owner-full-control")
    s3.abort_multipart_upload(Bucket="bkt", Key="ok3", UploadId=up["UploadId"])
    calls = (
        lambda **acl: s3.put_object(Bucket="bkt", Key="no", Body=b"x", **acl),
        lambda **acl: s3.copy_object(Bucket="bkt", Key="no", CopySource="bkt/ok", **acl),
        lambda **acl: s3.create_multipart_upload(Bucket="bkt", Key="no", **acl),
    )
    for call in calls:
        for acl in ({"ACL": "aws-exec-read"}, {"ACL": "public-read"}, {"GrantRead": 'id="1"'}):
            with pytest.raises(ClientError) as err:
                call(**acl)
            assert _error(err) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="bkt", Key="no")
    assert _error(err)[0] == 404
    assert s3.list_multipart_uploads(Bucket="bkt").get("Uploads", []) == []


def test_create_bucket_acl_and_object_ownership(gw: Gateway, s3: Any) -> None:
    """A new bucket may be private (its default); a public one is
    InvalidBucketAclWithObjectOwnership; ObjectOwnership other than
    BucketOwnerEnforced would turn ACLs on: NotImplemented."""
    s3.create_bucket(Bucket="private-one", ACL="private")
    s3.create_bucket(Bucket="enforced-one", ObjectOwnership="BucketOwnerEnforced")
    for name in ("private-one", "enforced-one"):
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
        assert rules == ENFORCED
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="public-one", ACL="public-read")
    assert _error(err) == (400, "InvalidBucketAclWithObjectOwnership")
    for setting in ("ObjectWriter", "BucketOwnerPreferred"):
        with pytest.raises(ClientError) as err:
            s3.create_bucket(Bucket="writer-one", ObjectOwnership=setting)
        assert _error(err) == (501, "NotImplemented")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names == {"bkt", "private-one", "enforced-one"}


def test_ownership_controls_put_get_delete(s3: Any) -> None:
    assert s3.get_bucket_ownership_controls(Bucket="bkt")["OwnershipControls"] == ENFORCED
    s3.delete_bucket_ownership_controls(Bucket="bkt")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_ownership_controls(Bucket="bkt")
    assert _error(err) == (404, "OwnershipControlsNotFoundError")
    s3.delete_bucket_ownership_controls(Bucket="bkt")  # again: still fine
    # ACLs stay disabled without controls (objstore has none to turn on).
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="bkt", Key="p", Body=b"x", ACL="public-read")
    assert _error(err) == (400, "AccessControlListNotSupported")
    for setting in ("ObjectWriter", "BucketOwnerPreferred"):
        with pytest.raises(ClientError) as err:
            s3.put_bucket_ownership_controls(
                Bucket="bkt", OwnershipControls={"Rules": [{"ObjectOwnership": setting}]}
            )
        assert _error(err) == (501, "NotImplemented")
    s3.put_bucket_ownership_controls(Bucket="bkt", OwnershipControls=ENFORCED)
    assert s3.get_bucket_ownership_controls(Bucket="bkt")["OwnershipControls"] == ENFORCED
    with pytest.raises(ClientError) as err:
        s3.get_bucket_ownership_controls(Bucket="no-such-bucket")
    assert _error(err) == (404, "NoSuchBucket")


def test_acl_and_ownership_calls_are_authorized(gw: Gateway, s3: Any) -> None:
    """Each is its own IAM action: a user allowed only some gets AccessDenied for the rest."""
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketAcl", "s3:GetObjectAcl", "s3:GetObjectAttributes"],
                    "Resource": ["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"],
                }
            ],
        }
    )
    user = gw.client(gw.user_keys("reader", policy))
    user.get_bucket_acl(Bucket="bkt")
    user.get_object_acl(Bucket="bkt", Key="k")
    user.get_object_attributes(Bucket="bkt", Key="k", ObjectAttributes=["ETag"])
    refused = (
        lambda: user.put_bucket_acl(Bucket="bkt", ACL="bucket-owner-full-control"),
        lambda: user.put_object_acl(Bucket="bkt", Key="k", ACL="bucket-owner-full-control"),
        lambda: user.get_bucket_ownership_controls(Bucket="bkt"),
        lambda: user.put_bucket_ownership_controls(Bucket="bkt", OwnershipControls=ENFORCED),
        lambda: user.delete_bucket_ownership_controls(Bucket="bkt"),
        lambda: user.get_object(Bucket="bkt", Key="k"),
    )
    for call in refused:
        with pytest.raises(ClientError) as err:
            call()
        assert _error(err) == (403, "AccessDenied")
    assert s3.get_bucket_ownership_controls(Bucket="bkt")["OwnershipControls"] == ENFORCED


# ------------------------------------------------------------ GetObjectAttributes


def test_object_attributes_of_a_single_put(s3: Any) -> None:
    body = b"A" * 1024
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    put = s3.put_object(Bucket="bkt", Key="obj", Body=body, ChecksumSHA256=sha)
    got = s3.get_object_attributes(Bucket="bkt", Key="obj", ObjectAttributes=ATTRS)
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == 1024
    assert got["StorageClass"] == "STANDARD"
    assert got["Checksum"] == {"ChecksumSHA256": sha, "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got and "VersionId" not in got and "DeleteMarker" not in got
    head = s3.head_object(Bucket="bkt", Key="obj")
    assert got["LastModified"] == head["LastModified"]
    only = s3.get_object_attributes(Bucket="bkt", Key="obj", ObjectAttributes=["ObjectSize"])
    assert {k for k in only if k != "ResponseMetadata"} == {"ObjectSize", "LastModified"}


def test_object_attributes_of_versions_and_errors(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="bkt", Key="v", Body=b"foo")
    s3.put_object(Bucket="bkt", Key="v", Body=b"longer")
    got = s3.get_object_attributes(Bucket="bkt", Key="v", ObjectAttributes=ATTRS)
    assert got["ObjectSize"] == 6 and got["VersionId"] != first["VersionId"]
    old = s3.get_object_attributes(
        Bucket="bkt", Key="v", VersionId=first["VersionId"], ObjectAttributes=ATTRS
    )
    assert (old["ObjectSize"], old["VersionId"]) == (3, first["VersionId"])
    assert old["ETag"] == first["ETag"].strip('"')
    marker = s3.delete_object(Bucket="bkt", Key="v")
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(Bucket="bkt", Key="v", ObjectAttributes=ATTRS)
    assert _error(err) == (404, "NoSuchKey")
    headers = err.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(
            Bucket="bkt", Key="v", VersionId=marker["VersionId"], ObjectAttributes=ATTRS
        )
    assert _error(err) == (405, "MethodNotAllowed")
    with pytest.raises(ClientError) as err:
        s3.get_object_attributes(Bucket="bkt", Key="k", ObjectAttributes=["Colour"])
    assert _error(err) == (400, "InvalidArgument")


def test_object_attributes_of_a_multipart_object(s3: Any) -> None:
    part = 5 * 1024 * 1024
    up = s3.create_multipart_upload(Bucket="bkt", Key="mp", ChecksumAlgorithm="CRC32")["UploadId"]
    listed = []
    for number, body in ((1, b"a" * part), (2, b"b" * part), (3, b"c" * 10)):
        answer = s3.upload_part(
            Bucket="bkt",
            Key="mp",
            UploadId=up,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC32",
        )
        listed.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]}
        )
    done = s3.complete_multipart_upload(
        Bucket="bkt", Key="mp", UploadId=up, MultipartUpload={"Parts": listed}
    )
    got = s3.get_object_attributes(
        Bucket="bkt", Key="mp", ObjectAttributes=ATTRS, MaxParts=2, PartNumberMarker=1
    )
    assert got["ETag"] == done["ETag"].strip('"')
    assert got["ObjectSize"] == 2 * part + 10
    assert got["Checksum"]["ChecksumCRC32"] == done["ChecksumCRC32"]
    assert got["Checksum"]["ChecksumType"] == "COMPOSITE"
    parts = got["ObjectParts"]
    assert parts["TotalPartsCount"] == 3
    assert (parts["MaxParts"], parts["PartNumberMarker"], parts["IsTruncated"]) == (2, 1, False)
    # Each part's size and, as S3 lists them for an object with an additional checksum, the
    # part's own checksum (the one UploadPart answered).
    assert parts["Parts"] == [
        {"PartNumber": 2, "Size": part, "ChecksumCRC32": listed[1]["ChecksumCRC32"]},
        {"PartNumber": 3, "Size": 10, "ChecksumCRC32": listed[2]["ChecksumCRC32"]},
    ]
    page = s3.get_object_attributes(
        Bucket="bkt", Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1
    )["ObjectParts"]
    assert page["Parts"] == [
        {"PartNumber": 1, "Size": part, "ChecksumCRC32": listed[0]["ChecksumCRC32"]}
    ]
    assert (page["IsTruncated"], page["NextPartNumberMarker"]) == (True, 1)


def _raw(gw: Gateway, method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    """The whole answer to a root-signed request on a connection of its own (keyword
    arguments: signed headers, ``_`` for ``-``)."""
    signed = {k.replace("_", "-"): v for k, v in headers.items()}
    return raw_answer(gw, method, path, body, headers=signed)


def test_documents_on_the_wire(gw: Gateway, s3: Any) -> None:
    """The XML S3 writes (root, element names, unquoted ETag) and malformed requests
    refused with S3's codes."""
    answer = _raw(gw, "GET", "/bkt/k?attributes=", x_amz_object_attributes="ETag, ObjectSize")
    assert answer.startswith(b"HTTP/1.1 200")
    etag = hashlib.md5(b"hello").hexdigest().encode()
    assert b"<GetObjectAttributesResponse" in answer
    assert b"<ETag>" + etag + b"</ETag>" in answer and b"<ObjectSize>5</ObjectSize>" in answer
    assert b"<StorageClass>" not in answer and b"Last-Modified: " in answer
    bad_count = _raw(
        gw,
        "GET",
        "/bkt/k?attributes=",
        x_amz_object_attributes="ObjectParts",
        x_amz_max_parts="many",
    )
    assert bad_count.startswith(b"HTTP/1.1 400") and b"<Code>InvalidArgument</Code>" in bad_count
    acl = _raw(gw, "GET", "/bkt?acl=")
    assert b'xsi:type="CanonicalUser"' in acl and b"<Permission>FULL_CONTROL</Permission>" in acl
    for body in (
        b"<AccessControlPolicy><Owner>",
        b"<Other/>",
        b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
    ):
        refused = _raw(gw, "PUT", "/bkt?acl=", body)
        assert refused.startswith(b"HTTP/1.1 400"), body
        assert b"<Code>MalformedACLError</Code>" in refused, body
    both = _raw(gw, "PUT", "/bkt?acl=", _raw_policy(gw), x_amz_acl="private")
    assert b"<Code>MalformedACLError</Code>" in both
    assert _raw(gw, "PUT", "/bkt?acl=", _raw_policy(gw)).startswith(b"HTTP/1.1 200")
    rule = b"<Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>"
    for rules, code in ((rule * 2, b"MalformedXML"), (b"", b"MalformedXML"), (rule, None)):
        got = _raw(
            gw,
            "PUT",
            "/bkt?ownershipControls=",
            b"<OwnershipControls>" + rules + b"</OwnershipControls>",
        )
        if code is None:
            assert got.startswith(b"HTTP/1.1 200")
        else:
            assert b"<Code>" + code + b"</Code>" in got


def _raw_policy(gw: Gateway) -> bytes:
    account = gw.store.account_id
    return (
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Owner><ID>{account}</ID></Owner><AccessControlList><Grant>"
        '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:type="CanonicalUser"><ID>{account}</ID></Grantee>'
        "<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"
    ).encode()
