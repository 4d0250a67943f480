"""Bucket tagging in the library: S3's tag rules (50 tags), NoSuchTagSet, the actions
asked, and that the tags go with their bucket."""

from __future__ import annotations

import asyncio

import pytest
from conftest import user_client

import objstore
from objstore import aio
from objstore.errors import AccessDenied, InvalidTag, NoSuchBucket, NoSuchTagSet


def test_round_trip(root: objstore.Client) -> None:
    with pytest.raises(NoSuchTagSet) as err:
        root.get_bucket_tagging("bkt")
    assert err.value.http_status == 404
    root.put_bucket_tagging("bkt", {"team": "storage", "cost centre": "42"})
    assert root.get_bucket_tagging("bkt") == {"team": "storage", "cost centre": "42"}
    root.put_bucket_tagging("bkt", [("only", "")])  # replaces the whole set
    assert root.get_bucket_tagging("bkt") == {"only": ""}
    root.put_bucket_tagging("bkt", "a=1&b=&c%2Bd=e+f")  # x-amz-tagging's form
    assert root.get_bucket_tagging("bkt") == {"a": "1", "b": "", "c+d": "e f"}
    root.put_bucket_tagging("bkt", {})  # an empty set is a set
    assert root.get_bucket_tagging("bkt") == {}
    root.delete_bucket_tagging("bkt")
    with pytest.raises(NoSuchTagSet):
        root.get_bucket_tagging("bkt")
    root.delete_bucket_tagging("bkt")


def test_fifty_tags_and_no_more(root: objstore.Client) -> None:
    fifty = {f"k{i}": f"v{i}" for i in range(50)}
    root.put_bucket_tagging("bkt", fifty)
    assert root.get_bucket_tagging("bkt") == fifty
    with pytest.raises(InvalidTag, match="cannot be greater than 50"):
        root.put_bucket_tagging("bkt", {**fifty, "one": "more"})
    assert root.get_bucket_tagging("bkt") == fifty


@pytest.mark.parametrize(
    "tags",
    [
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {"": "v"},
        {"aws:reserved": "v"},
        {"bad\x00key": "v"},
        [("dup", "1"), ("dup", "2")],
        42,
    ],
)
def test_s3_tag_rules(root: objstore.Client, tags: object) -> None:
    root.put_bucket_tagging("bkt", {"keep": "me"})
    with pytest.raises(InvalidTag):
        root.put_bucket_tagging("bkt", tags)  # type: ignore[arg-type]
    assert root.get_bucket_tagging("bkt") == {"keep": "me"}


def test_longest_key_and_value(root: objstore.Client) -> None:
    root.put_bucket_tagging("bkt", {"k" * 128: "v" * 256})
    assert root.get_bucket_tagging("bkt") == {"k" * 128: "v" * 256}


def test_missing_bucket(root: objstore.Client) -> None:
    for call in (
        lambda: root.put_bucket_tagging("nope", {"a": "b"}),
        lambda: root.get_bucket_tagging("nope"),
        lambda: root.delete_bucket_tagging("nope"),
    ):
        with pytest.raises(NoSuchBucket):
            call()


def test_tags_go_with_the_bucket(root: objstore.Client) -> None:
    root.put_bucket_tagging("bkt", {"a": "b"})
    root.delete_bucket("bkt")
    root.create_bucket("bkt")
    with pytest.raises(NoSuchTagSet):
        root.get_bucket_tagging("bkt")


def test_object_tags_keep_their_limit(root: objstore.Client) -> None:
    """Bucket tags allow 50; an object still takes 10 (BadRequest beyond)."""
    root.put_object("bkt", "k", b"x")
    with pytest.raises(objstore.errors.BadRequest, match="greater than 10"):
        root.put_object_tagging("bkt", "k", {f"k{i}": "v" for i in range(11)})


def test_actions_are_s3s(store: objstore.Store, root: objstore.Client) -> None:
    """Put and Delete need s3:PutBucketTagging, Get s3:GetBucketTagging, as AWS."""
    with pytest.raises(AccessDenied):
        user_client(store, "nobody").put_bucket_tagging("bkt", {"a": "b"})
    writer = user_client(store, "writer", "s3:PutBucketTagging")
    writer.put_bucket_tagging("bkt", {"a": "b"})
    with pytest.raises(AccessDenied):
        writer.get_bucket_tagging("bkt")
    reader = user_client(store, "reader", "s3:GetBucketTagging")
    assert reader.get_bucket_tagging("bkt") == {"a": "b"}
    with pytest.raises(AccessDenied):
        reader.delete_bucket_tagging("bkt")
    writer.delete_bucket_tagging("bkt")
    with pytest.raises(NoSuchTagSet):
        reader.get_bucket_tagging("bkt")


def test_async_client(store: objstore.Store) -> None:
    async def run() -> None:
        client = aio.AsyncStore(store).root
        await client.create_bucket("bkt")
        await client.put_bucket_tagging("bkt", {"a": "b"})
        assert await client.get_bucket_tagging("bkt") == {"a": "b"}
        await client.delete_bucket_tagging("bkt")
        with pytest.raises(NoSuchTagSet):
            await client.get_bucket_tagging("bkt")

    asyncio.run(run())
