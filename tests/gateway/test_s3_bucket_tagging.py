"""Bucket tagging over HTTP (``?tagging`` on a bucket), through boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.gateway.s3_support import Gateway, error_of, raw_answer, served_store


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="tagged")
        yield gateway


def _tag_set(tags: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def test_put_get_delete(gw: Gateway) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket="tagged")
    assert error_of(err) == (404, "NoSuchTagSet")
    put = s3.put_bucket_tagging(Bucket="tagged", Tagging=_tag_set({"Hello": "World", "a": ""}))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket="tagged")["TagSet"]
    assert got == [{"Key": "Hello", "Value": "World"}, {"Key": "a", "Value": ""}]
    assert gw.store.root.get_bucket_tagging("tagged") == {"Hello": "World", "a": ""}
    deleted = s3.delete_bucket_tagging(Bucket="tagged")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket="tagged")
    assert error_of(err) == (404, "NoSuchTagSet")
    with pytest.raises(ClientError) as err:
        s3.put_bucket_tagging(Bucket="gone", Tagging=_tag_set({"a": "b"}))
    assert error_of(err) == (404, "NoSuchBucket")


def test_object_tagging_is_unchanged(gw: Gateway) -> None:
    """``?tagging`` with a key is still the object's."""
    s3 = gw.client()
    s3.put_object(Bucket="tagged", Key="k", Body=b"x")
    s3.put_object_tagging(Bucket="tagged", Key="k", Tagging=_tag_set({"o": "1"}))
    s3.put_bucket_tagging(Bucket="tagged", Tagging=_tag_set({"b": "2"}))
    assert s3.get_object_tagging(Bucket="tagged", Key="k")["TagSet"] == [{"Key": "o", "Value": "1"}]
    assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "b", "Value": "2"}]


@pytest.mark.parametrize(
    "tags",
    [
        {f"k{i}": "v" for i in range(51)},
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {"aws:cost": "v"},
    ],
)
def test_invalid_tags(gw: Gateway, tags: dict[str, str]) -> None:
    s3 = gw.client()
    with pytest.raises(ClientError) as err:
        s3.put_bucket_tagging(Bucket="tagged", Tagging=_tag_set(tags))
    assert error_of(err) == (400, "InvalidTag")


def test_fifty_tags(gw: Gateway) -> None:
    s3 = gw.client()
    tags = {f"k{i}": f"v{i}" for i in range(50)}
    s3.put_bucket_tagging(Bucket="tagged", Tagging=_tag_set(tags))
    assert len(s3.get_bucket_tagging(Bucket="tagged")["TagSet"]) == 50


def test_repeated_key_and_malformed_documents(gw: Gateway) -> None:
    doc = (
        b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>"
        b"<Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>"
    )
    answer = raw_answer(gw, "PUT", "/tagged?tagging", doc)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>InvalidTag</Code>" in answer
    for bad in (b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", b"<Tag"):
        answer = raw_answer(gw, "PUT", "/tagged?tagging", bad)
        assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>MalformedXML</Code>" in answer


def test_needs_its_actions(gw: Gateway) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetBucketTagging", "Resource": "*"}],
    }
    user = gw.client(gw.user_keys("reader", json.dumps(policy)))
    with pytest.raises(ClientError) as err:
        user.put_bucket_tagging(Bucket="tagged", Tagging=_tag_set({"a": "b"}))
    assert error_of(err) == (403, "AccessDenied")
    gw.client().put_bucket_tagging(Bucket="tagged", Tagging=_tag_set({"a": "b"}))
    assert user.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "a", "Value": "b"}]
    with pytest.raises(ClientError) as err:
        user.delete_bucket_tagging(Bucket="tagged")
    assert error_of(err) == (403, "AccessDenied")
