"""Browser-based POST uploads (``POST /bucket``, multipart/form-data) over real HTTP:
SigV4 forms from boto3's ``generate_presigned_post``, SigV2 forms signed here, and
anonymous forms under bucket policies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from tests.gateway.s3_support import Gateway

FUTURE = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
PAST = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_form(
    keys: tuple[str, str],
    conditions: list[Any],
    fields: dict[str, str],
    *,
    expiration: str = FUTURE,
) -> dict[str, str]:
    """``fields`` with a SigV2-signed policy of ``conditions``."""
    document = json.dumps({"expiration": expiration, "conditions": conditions})
    policy = base64.b64encode(document.encode()).decode()
    digest = hmac.new(keys[1].encode(), policy.encode(), hashlib.sha1).digest()
    return {
        **fields,
        "AWSAccessKeyId": keys[0],
        "policy": policy,
        "signature": base64.b64encode(digest).decode(),
    }


def post(
    gw: Gateway,
    bucket: str,
    fields: dict[str, str],
    data: bytes = b"hello",
    filename: str = "f.txt",
) -> requests.Response:
    return requests.post(
        f"{gw.url}/{bucket}",
        data=fields,
        files={"file": (filename, data)},
        allow_redirects=False,
        timeout=60,
    )


def code(answer: requests.Response) -> str | None:
    return ET.fromstring(answer.content).findtext("Code")


def keys_of(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture
def s3(gw: Gateway) -> Any:
    client = gw.client()
    client.create_bucket(Bucket="upl")
    return client


BASIC = [{"bucket": "upl"}, ["starts-with", "$key", "in/"]]


def test_presigned_post_of_boto3_stores_the_file(gw: Gateway, s3: Any) -> None:
    """A SigV4 form exactly as boto3 makes it: 204, the object holds the file."""
    form = s3.generate_presigned_post(
        "upl",
        "in/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-who": "me"},
        Conditions=[
            {"Content-Type": "text/plain"},
            {"x-amz-meta-who": "me"},
            ["content-length-range", 1, 100],
        ],
        ExpiresIn=600,
    )
    answer = requests.post(
        form["url"], data=form["fields"], files={"file": ("dir/a.txt", b"hi there")}
    )
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    obj = s3.get_object(Bucket="upl", Key="in/a.txt")
    assert obj["Body"].read() == b"hi there"
    assert obj["ContentType"] == "text/plain"
    assert obj["Metadata"] == {"who": "me"}
    assert answer.headers["ETag"] == obj["ETag"]


def test_success_action_status_201_answers_post_response(gw: Gateway, s3: Any) -> None:
    fields = {"key": "in/k", "success_action_status": "201"}
    answer = post(
        gw, "upl", v2_form(gw.root_keys, [*BASIC, {"success_action_status": "201"}], fields)
    )
    assert answer.status_code == 201
    doc = ET.fromstring(answer.content)
    assert doc.tag == "PostResponse"
    assert doc.findtext("Bucket") == "upl"
    assert doc.findtext("Key") == "in/k"
    assert doc.findtext("ETag") == s3.head_object(Bucket="upl", Key="in/k")["ETag"]
    assert doc.findtext("Location") == f"{gw.url}/upl/in/k"


@pytest.mark.parametrize(("status", "expected"), [("200", 200), ("204", 204), ("404", 204)])
def test_success_action_status_empty_answers(
    gw: Gateway, s3: Any, status: str, expected: int
) -> None:
    fields = {"key": "in/k", "success_action_status": status}
    conditions = [*BASIC, ["starts-with", "$success_action_status", ""]]
    answer = post(gw, "upl", v2_form(gw.root_keys, conditions, fields))
    assert answer.status_code == expected
    assert answer.content == b""


def test_success_action_redirect(gw: Gateway, s3: Any) -> None:
    target = "https://example.com/done?from=form"
    fields = {"key": "in/a b", "success_action_redirect": target}
    conditions = [*BASIC, {"success_action_redirect": target}]
    answer = post(gw, "upl", v2_form(gw.root_keys, conditions, fields))
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert location.netloc == "example.com" and location.path == "/done"
    etag = s3.head_object(Bucket="upl", Key="in/a b")["ETag"]
    assert parse_qs(location.query) == {
        "from": ["form"],
        "bucket": ["upl"],
        "key": ["in/a b"],
        "etag": [etag],
    }


def test_unusable_redirect_is_ignored(gw: Gateway, s3: Any) -> None:
    fields = {"key": "in/k", "redirect": "javascript:alert(1)"}
    answer = post(
        gw, "upl", v2_form(gw.root_keys, [*BASIC, ["starts-with", "$redirect", ""]], fields)
    )
    assert answer.status_code == 204


@pytest.mark.parametrize(
    ("conditions", "fields", "message"),
    [
        ([{"bucket": "other"}, ["starts-with", "$key", ""]], {"key": "in/k"}, "Condition failed"),
        ([{"bucket": "upl"}, {"key": "in/x"}], {"key": "in/k"}, "Condition failed"),
        ([{"bucket": "upl"}, ["starts-with", "$key", "out/"]], {"key": "in/k"}, "Condition failed"),
        (
            [*BASIC, ["eq", "$x-amz-meta-a", ""]],
            {"key": "in/k", "x-amz-meta-a": "b"},
            "Condition failed",
        ),
        ([*BASIC, ["starts-with", "$x-amz-meta-a", "b"]], {"key": "in/k"}, "Condition failed"),
        (BASIC, {"key": "in/k", "x-amz-meta-a": "b"}, "Extra input fields: x-amz-meta-a"),
        (BASIC, {"key": "in/k", "Content-Type": "a/b"}, "Extra input fields: content-type"),
    ],
)
def test_failed_conditions_store_nothing(
    gw: Gateway, s3: Any, conditions: list[Any], fields: dict[str, str], message: str
) -> None:
    answer = post(gw, "upl", v2_form(gw.root_keys, conditions, fields))
    assert answer.status_code == 403
    assert code(answer) == "AccessDenied"
    assert message in ET.fromstring(answer.content).findtext("Message", "")
    assert keys_of(s3, "upl") == []


def test_field_names_are_case_insensitive_and_x_ignore_is_free(gw: Gateway, s3: Any) -> None:
    conditions = [{"BuCkEt": "upl"}, ["StArTs-WiTh", "$KeY", "in/"], {"AcL": "private"}]
    fields = {"kEy": "in/k", "aCl": "private", "x-ignore-submit": "Upload"}
    form = v2_form(gw.root_keys, conditions, fields)
    form["pOLICy"] = form.pop("policy")
    assert post(gw, "upl", form).status_code == 204
    assert keys_of(s3, "upl") == ["in/k"]


def test_policy_for_another_bucket_is_refused(gw: Gateway, s3: Any) -> None:
    s3.create_bucket(Bucket="other")
    form = v2_form(gw.root_keys, BASIC, {"key": "in/k", "bucket": "upl"})
    assert post(gw, "other", form).status_code == 403
    assert keys_of(s3, "other") == [] and keys_of(s3, "upl") == []


def test_expired_policy(gw: Gateway, s3: Any) -> None:
    answer = post(gw, "upl", v2_form(gw.root_keys, BASIC, {"key": "in/k"}, expiration=PAST))
    assert answer.status_code == 403
    assert "Policy expired" in ET.fromstring(answer.content).findtext("Message", "")
    assert keys_of(s3, "upl") == []


def test_forged_signatures(gw: Gateway, s3: Any) -> None:
    wrong = (gw.root_keys[0], "not-the-secret")
    answer = post(gw, "upl", v2_form(wrong, BASIC, {"key": "in/k"}))
    assert (answer.status_code, code(answer)) == (403, "SignatureDoesNotMatch")
    # The policy changed after it was signed.
    form = v2_form(gw.root_keys, BASIC, {"key": "in/k"})
    loose = json.dumps({"expiration": FUTURE, "conditions": [["starts-with", "$key", ""]]})
    form["policy"] = base64.b64encode(loose.encode()).decode()
    assert code(post(gw, "upl", form)) == "SignatureDoesNotMatch"
    # A SigV4 form with a wrong signature.
    sigv4 = s3.generate_presigned_post("upl", "in/k")
    sigv4["fields"]["x-amz-signature"] = "0" * 64
    answer = requests.post(sigv4["url"], data=sigv4["fields"], files={"file": b"x"})
    assert (answer.status_code, code(answer)) == (403, "SignatureDoesNotMatch")
    assert keys_of(s3, "upl") == []


def test_unknown_access_key(gw: Gateway, s3: Any) -> None:
    answer = post(gw, "upl", v2_form(("AKIDNOTAKEY", "x"), BASIC, {"key": "in/k"}))
    assert (answer.status_code, code(answer)) == (403, "InvalidAccessKeyId")


def test_content_length_range(gw: Gateway, s3: Any) -> None:
    conditions = [*BASIC, ["content-length-range", 3, 5]]
    form = v2_form(gw.root_keys, conditions, {"key": "in/k"})
    too_big = post(gw, "upl", form, data=b"x" * (3 << 20))
    assert (too_big.status_code, code(too_big)) == (400, "EntityTooLarge")
    too_small = post(gw, "upl", form, data=b"xy")
    assert (too_small.status_code, code(too_small)) == (400, "EntityTooSmall")
    assert keys_of(s3, "upl") == []
    assert post(gw, "upl", form, data=b"xyz").status_code == 204


def test_a_large_file_streams_whole(gw: Gateway, s3: Any) -> None:
    data = bytes(range(256)) * (12 << 12)  # 12 MiB, crossing many reads
    form = v2_form(gw.root_keys, BASIC, {"key": "in/big"})
    assert post(gw, "upl", form, data=data).status_code == 204
    got = s3.get_object(Bucket="upl", Key="in/big")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "InvalidArgument"),  # no key
        ({"key": "in/k", "AWSAccessKeyId": "AKID"}, "InvalidArgument"),  # no policy
    ],
)
def test_missing_fields(gw: Gateway, s3: Any, fields: dict[str, str], expected: str) -> None:
    answer = post(gw, "upl", fields)
    assert (answer.status_code, code(answer)) == (400, expected)


def test_policy_without_signature(gw: Gateway, s3: Any) -> None:
    form = v2_form(gw.root_keys, BASIC, {"key": "in/k"})
    del form["signature"]
    answer = post(gw, "upl", form)
    assert (answer.status_code, code(answer)) == (400, "InvalidArgument")


def test_no_file_field(gw: Gateway, s3: Any) -> None:
    form = v2_form(gw.root_keys, BASIC, {"key": "in/k"})
    answer = requests.post(f"{gw.url}/upl", files={n: (None, v) for n, v in form.items()})
    assert (answer.status_code, code(answer)) == (400, "InvalidArgument")


def test_not_a_multipart_form(gw: Gateway, s3: Any) -> None:
    answer = requests.post(f"{gw.url}/upl", data={"key": "k"})
    assert (answer.status_code, code(answer)) == (412, "PreconditionFailed")


@pytest.mark.parametrize(
    "document",
    [
        {"conditions": BASIC},
        {"expiration": "2099-01-01 00:00:00", "conditions": BASIC},
        {"expiration": FUTURE},
        {"expiration": FUTURE, "conditions": [{}]},
        {"expiration": FUTURE, "conditions": [*BASIC, ["content-length-range", 0]]},
    ],
)
def test_invalid_policy_documents(gw: Gateway, s3: Any, document: dict[str, Any]) -> None:
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    digest = hmac.new(gw.root_keys[1].encode(), policy.encode(), hashlib.sha1).digest()
    form = {
        "key": "in/k",
        "AWSAccessKeyId": gw.root_keys[0],
        "policy": policy,
        "signature": base64.b64encode(digest).decode(),
    }
    answer = post(gw, "upl", form)
    assert (answer.status_code, code(answer)) == (400, "InvalidPolicyDocument")


def test_fields_before_the_file_are_bounded(gw: Gateway, s3: Any) -> None:
    answer = post(gw, "upl", {"key": "in/k", "x-ignore-pad": "p" * 30_000})
    assert (answer.status_code, code(answer)) == (400, "MaxPostPreDataLengthExceeded")


def _public_write(s3: Any, resource: str) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": resource,
    }
    s3.put_bucket_policy(
        Bucket="upl", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def test_anonymous_post_needs_a_bucket_policy(gw: Gateway, s3: Any) -> None:
    answer = post(gw, "upl", {"key": "drop/a", "Content-Type": "text/plain"})
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    _public_write(s3, "arn:aws:s3:::upl/drop/*")
    answer = post(gw, "upl", {"key": "drop/a", "Content-Type": "text/plain"})
    assert answer.status_code == 204
    assert s3.get_object(Bucket="upl", Key="drop/a")["ContentType"] == "text/plain"
    refused = post(gw, "upl", {"key": "elsewhere/a"})
    assert (refused.status_code, code(refused)) == (403, "AccessDenied")
    assert keys_of(s3, "upl") == ["drop/a"]


def test_signed_post_is_authorized_as_its_signer(gw: Gateway, s3: Any) -> None:
    """A user's valid signature still needs the user's own s3:PutObject."""
    reader = gw.user_keys(
        "reader",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    answer = post(gw, "upl", v2_form(reader, BASIC, {"key": "in/k"}))
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    assert keys_of(s3, "upl") == []


def test_attributes_tagging_and_checksum(gw: Gateway, s3: Any) -> None:
    data = b"payload"
    fields = {
        "key": "in/k",
        "Cache-Control": "no-cache",
        "tagging": "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>",
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
    }
    conditions = [*BASIC, {"Cache-Control": "no-cache"}, ["starts-with", "$tagging", ""]]
    answer = post(gw, "upl", v2_form(gw.root_keys, conditions, fields), data=data)
    assert answer.status_code == 204, answer.text
    assert s3.head_object(Bucket="upl", Key="in/k")["CacheControl"] == "no-cache"
    assert s3.get_object_tagging(Bucket="upl", Key="in/k")["TagSet"] == [{"Key": "t", "Value": "v"}]
    fields["x-amz-checksum-sha256"] = base64.b64encode(b"\0" * 32).decode()
    fields["key"] = "in/bad"
    answer = post(gw, "upl", v2_form(gw.root_keys, conditions, fields), data=data)
    assert answer.status_code == 400
    assert keys_of(s3, "upl") == ["in/k"]


def test_acl_field_as_put_object(gw: Gateway, s3: Any) -> None:
    conditions = [*BASIC, ["starts-with", "$acl", ""]]
    ok = post(gw, "upl", v2_form(gw.root_keys, conditions, {"key": "in/a", "acl": "private"}))
    assert ok.status_code == 204
    public = v2_form(gw.root_keys, conditions, {"key": "in/b", "acl": "public-read"})
    answer = post(gw, "upl", public)
    assert (answer.status_code, code(answer)) == (400, "AccessControlListNotSupported")
    assert keys_of(s3, "upl") == ["in/a"]


def _raw_post(gw: Gateway, body: bytes, length: int, *, hang_up: bool = False) -> bytes:
    """The answer to a POST of ``body`` declared ``length`` bytes long (``hang_up``:
    the connection is closed once the body is sent, without waiting for one)."""
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST /upl HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {length}\r\n"
        "Content-Type: multipart/form-data; boundary=XyZ\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        if hang_up:
            return b""
        chunks = []
        while piece := sock.recv(65536):
            chunks.append(piece)
    return b"".join(chunks)


def _multipart(fields: dict[str, str], data: bytes) -> bytes:
    out = b""
    for name, value in fields.items():
        out += f'--XyZ\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
    return out + data


def test_truncated_bodies_store_nothing(gw: Gateway, s3: Any) -> None:
    _public_write(s3, "arn:aws:s3:::upl/*")
    # The connection ends before Content-Length's bytes arrived.
    cut = _multipart({"key": "cut"}, b"x" * 100_000)
    _raw_post(gw, cut, len(cut) + 1000, hang_up=True)
    # All bytes arrived, but the form never ends (no closing boundary).
    endless = _multipart({"key": "endless"}, b"x" * 100_000)
    answer = _raw_post(gw, endless, len(endless))
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert b"MalformedPOSTRequest" in answer
    # A form, ended well, is stored.
    whole = _multipart({"key": "whole"}, b"x" * 100_000) + b"\r\n--XyZ--\r\n"
    assert b" 204 " in _raw_post(gw, whole, len(whole)).split(b"\r\n", 1)[0]
    assert keys_of(s3, "upl") == ["whole"]


def test_fields_after_the_file_are_ignored(gw: Gateway, s3: Any) -> None:
    _public_write(s3, "arn:aws:s3:::upl/*")
    body = _multipart({"key": "k"}, b"data")
    body += b'\r\n--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nother\r\n--XyZ--\r\n'
    assert b" 204 " in _raw_post(gw, body, len(body)).split(b"\r\n", 1)[0]
    assert keys_of(s3, "upl") == ["k"]
    assert s3.get_object(Bucket="upl", Key="k")["Body"].read() == b"data"


def test_a_large_tail_after_the_file_is_left_unread(gw: Gateway, s3: Any) -> None:
    """What follows the file is not read past 64 KiB: the upload is stored and the
    answer closes the connection."""
    _public_write(s3, "arn:aws:s3:::upl/*")
    body = _multipart({"key": "k"}, b"data")
    body += b'\r\n--XyZ\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'
    body += b"p" * 300_000 + b"\r\n--XyZ--\r\n"
    answer = _raw_post(gw, body, len(body))
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b" 204 " in head.split(b"\r\n", 1)[0]
    assert b"connection: close" in head
    assert s3.get_object(Bucket="upl", Key="k")["Body"].read() == b"data"


def test_session_credentials_sign_forms(gw: Gateway, s3: Any) -> None:
    """A form signed with temporary credentials carries x-amz-security-token (boto3 adds
    it, and its condition); it acts as the session's user; another token is refused."""
    keys = gw.user_keys(
        "writer",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
            }
        ),
    )
    user = gw.store.client(*keys)
    creds = user.sts.get_session_token(duration_seconds=900)
    session = boto3.client(
        "s3",
        endpoint_url=gw.url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    form = session.generate_presigned_post("upl", "in/s")
    assert "x-amz-security-token" in form["fields"]
    answer = requests.post(form["url"], data=form["fields"], files={"file": b"s"})
    assert answer.status_code == 204, answer.text
    forged = dict(form["fields"])
    forged["x-amz-security-token"] = user.sts.get_session_token(duration_seconds=900).session_token
    answer = requests.post(form["url"], data=forged, files={"file": b"s"})
    assert (answer.status_code, code(answer)) == (400, "InvalidToken")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("x-amz-algorithm", "AWS4-HMAC-SHA512"),
        ("x-amz-credential", "AKID/20260101/eu-west-1/s3/aws4_request"),
        ("x-amz-credential", "AKID/20260101/us-east-1/iam/aws4_request"),
        ("x-amz-credential", "not-a-credential"),
        ("x-amz-date", "yesterday"),
    ],
)
def test_malformed_sigv4_fields(gw: Gateway, s3: Any, field: str, value: str) -> None:
    form = s3.generate_presigned_post("upl", "in/k")
    fields = dict(form["fields"])
    if field == "x-amz-credential" and value.startswith("AKID/"):
        value = value.replace("AKID", gw.root_keys[0]).replace("20260101", fields["x-amz-date"][:8])
    fields[field] = value
    answer = requests.post(form["url"], data=fields, files={"file": b"x"})
    assert (answer.status_code, code(answer)) == (400, "InvalidArgument")
    assert keys_of(s3, "upl") == []


def test_restrict_public_buckets_stops_anonymous_posts(gw: Gateway, s3: Any) -> None:
    """Block Public Access applies to POST as to PUT: a public bucket policy's grant
    to "*" is void under RestrictPublicBuckets."""
    _public_write(s3, "arn:aws:s3:::upl/*")
    assert post(gw, "upl", {"key": "a"}).status_code == 204
    s3.put_public_access_block(
        Bucket="upl",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    answer = post(gw, "upl", {"key": "b"})
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    assert keys_of(s3, "upl") == ["a"]
