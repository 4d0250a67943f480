"""Object tagging: the API, S3's limits and errors, versions and copies, and the
s3:RequestObjectTag / s3:RequestObjectTagKeys / s3:ExistingObjectTag condition keys."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import BUCKET, open_store
from identity.helpers import allow, deny, policy, user_client

import objstore
from objstore import aio
from objstore.errors import (
    AccessDenied,
    BadRequest,
    InvalidArgument,
    InvalidTag,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
)

ARN = f"arn:aws:s3:::{BUCKET}"


@pytest.fixture
def root(store: objstore.Store) -> objstore.Client:
    store.root.create_bucket(BUCKET)
    return store.root


def test_put_get_delete_tags(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"body", tagging={"a": "1", "b": ""})
    assert root.get_object_tagging(BUCKET, "k") == {"a": "1", "b": ""}
    assert root.head_object(BUCKET, "k").tag_count == 2
    with root.get_object(BUCKET, "k") as body:
        assert body.tag_count == 2
    before = root.head_object(BUCKET, "k")
    assert root.put_object_tagging(BUCKET, "k", {"c": "3"}) is None  # never versioned
    assert root.get_object_tagging(BUCKET, "k") == {"c": "3"}
    # Tags are not content: the version keeps its ETag, time and body.
    after = root.head_object(BUCKET, "k")
    assert (after.etag, after.last_modified, after.tag_count) == (
        before.etag,
        before.last_modified,
        1,
    )
    root.delete_object_tagging(BUCKET, "k")
    assert root.get_object_tagging(BUCKET, "k") == {}
    assert root.head_object(BUCKET, "k").tag_count == 0


def test_header_form_and_pairs(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"x", tagging="a=1&b=two%20words&c=")
    assert root.get_object_tagging(BUCKET, "k") == {"a": "1", "b": "two words", "c": ""}
    root.put_object_tagging(BUCKET, "k", [("x", "y")])  # type: ignore[arg-type]
    assert root.get_object_tagging(BUCKET, "k") == {"x": "y"}
    # Whatever order they come in, a tag set is kept (and listed) sorted by key.
    root.put_object(BUCKET, "s", b"x", tagging="foo=bar&bar&Z=1")
    assert list(root.get_object_tagging(BUCKET, "s").items()) == [
        ("Z", "1"),
        ("bar", ""),
        ("foo", "bar"),
    ]
    root.put_object_tagging(BUCKET, "s", {"b": "2", "a": "1"})
    assert list(root.get_object_tagging(BUCKET, "s")) == ["a", "b"]


def test_limits_as_s3(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"x")
    ok = {f"k{i}": "v" for i in range(10)}
    root.put_object_tagging(BUCKET, "k", ok)
    root.put_object_tagging(BUCKET, "k", {"K" * 128: "V" * 256, "a b+-=._:/@é9": "ü ß"})
    bad: list[tuple[Any, type[Exception]]] = [
        ({f"k{i}": "v" for i in range(11)}, BadRequest),
        ({"K" * 129: "v"}, InvalidTag),
        ({"k": "V" * 257}, InvalidTag),
        ({"": "v"}, InvalidTag),
        ({"aws:created": "v"}, InvalidTag),
        ({"k!": "v"}, InvalidTag),
        ({"k": "v\n"}, InvalidTag),
        ([("k", "1"), ("k", "2")], InvalidTag),
        ({"k": 1}, InvalidTag),
        (5, InvalidTag),
    ]
    for tags, err in bad:
        with pytest.raises(err) as exc:
            root.put_object_tagging(BUCKET, "k", tags)
        assert exc.value.http_status == 400
        assert exc.value.code == err.__name__
    assert root.get_object_tagging(BUCKET, "k")["K" * 128] == "V" * 256
    # A PUT with bad tags stores nothing.
    with pytest.raises(BadRequest):
        root.put_object(BUCKET, "new", b"x", tagging={f"k{i}": "v" for i in range(11)})
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "new")


def test_versions_keep_their_own_tags(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"1", tagging={"v": "1"}).version_id
    v2 = root.put_object(BUCKET, "k", b"2").version_id
    assert root.get_object_tagging(BUCKET, "k") == {}
    assert root.get_object_tagging(BUCKET, "k", version_id=v1) == {"v": "1"}
    assert root.put_object_tagging(BUCKET, "k", {"v": "one"}, version_id=v1) == v1
    assert root.get_object_tagging(BUCKET, "k", version_id=v1) == {"v": "one"}
    assert root.get_object_tagging(BUCKET, "k", version_id=v2) == {}
    assert root.delete_object_tagging(BUCKET, "k", version_id=v1) == v1
    assert root.get_object_tagging(BUCKET, "k", version_id=v1) == {}
    marker = root.delete_object(BUCKET, "k").version_id
    with pytest.raises(NoSuchKey):
        root.get_object_tagging(BUCKET, "k")
    with pytest.raises(MethodNotAllowed):
        root.put_object_tagging(BUCKET, "k", {"a": "b"}, version_id=marker)
    with pytest.raises(NoSuchVersion):
        root.get_object_tagging(BUCKET, "k", version_id="0" * 32)


def test_get_object_tagging_names_the_version_read(root: objstore.Client) -> None:
    """The tags read come with the id of their version (the current one when none is
    asked), so a caller can act on that very version (review rev11c F1)."""
    root.put_object(BUCKET, "k", b"0", tagging={"v": "0"})
    tags = root.get_object_tagging(BUCKET, "k")
    assert isinstance(tags, objstore.ObjectTags)
    assert tags == {"v": "0"} and tags.version_id is None  # never versioned
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"1", tagging={"v": "1"}).version_id
    assert root.get_object_tagging(BUCKET, "k").version_id == v1
    assert root.get_object_tagging(BUCKET, "k", version_id="null").version_id == "null"
    root.put_bucket_versioning(BUCKET, "Suspended")
    root.put_object(BUCKET, "k", b"2")
    assert root.get_object_tagging(BUCKET, "k").version_id == "null"
    assert root.get_object_tagging(BUCKET, "k", version_id=v1) == {"v": "1"}


def test_copy_keeps_or_replaces_tags(root: objstore.Client) -> None:
    root.put_object(BUCKET, "src", b"x", tagging={"a": "1"})
    root.copy_object(BUCKET, "src", BUCKET, "kept")
    assert root.get_object_tagging(BUCKET, "kept") == {"a": "1"}
    root.copy_object(BUCKET, "src", BUCKET, "new", tagging_directive="REPLACE", tagging="b=2")
    assert root.get_object_tagging(BUCKET, "new") == {"b": "2"}
    root.copy_object(BUCKET, "src", BUCKET, "none", tagging_directive="REPLACE")
    assert root.get_object_tagging(BUCKET, "none") == {}
    with pytest.raises(InvalidArgument):
        root.copy_object(BUCKET, "src", BUCKET, "x", tagging_directive="MERGE")


def test_multipart_object_gets_the_upload_tags(root: objstore.Client) -> None:
    uid = root.create_multipart_upload(BUCKET, "mp", tagging={"a": "1"})
    part = root.upload_part(BUCKET, "mp", uid, 1, b"data")
    root.complete_multipart_upload(BUCKET, "mp", uid, [part])
    assert root.get_object_tagging(BUCKET, "mp") == {"a": "1"}
    with pytest.raises(InvalidTag):
        root.create_multipart_upload(BUCKET, "mp", tagging={"aws:x": "1"})


def test_async_twin() -> None:
    async def main() -> None:
        async with aio.open(None) as s:
            c = s.root
            await c.create_bucket(BUCKET)
            await c.put_object(BUCKET, "k", b"x", tagging={"a": "1"})
            assert await c.put_object_tagging(BUCKET, "k", {"b": "2"}) is None
            assert await c.get_object_tagging(BUCKET, "k") == {"b": "2"}
            await c.delete_object_tagging(BUCKET, "k")
            assert await c.get_object_tagging(BUCKET, "k") == {}

    asyncio.run(main())


# ------------------------------------------------------------ IAM conditions


def _store() -> objstore.Store:
    s = open_store(None)
    s.root.create_bucket(BUCKET)
    s.root.put_object(BUCKET, "public", b"p", tagging={"class": "public"})
    s.root.put_object(BUCKET, "secret", b"s", tagging={"class": "secret"})
    s.root.put_object(BUCKET, "plain", b"n")
    return s


def test_existing_object_tag_in_an_identity_policy() -> None:
    with _store() as s:
        c = user_client(
            s,
            "reader",
            allow(
                ["s3:GetObject", "s3:GetObjectTagging"],
                f"{ARN}/*",
                Condition={"StringEquals": {"s3:ExistingObjectTag/class": "public"}},
            ),
        )
        c.get_object(BUCKET, "public").close()
        assert c.head_object(BUCKET, "public").tag_count == 1
        assert c.get_object_tagging(BUCKET, "public") == {"class": "public"}
        for key in ("secret", "plain"):
            with pytest.raises(AccessDenied):
                c.get_object(BUCKET, key)
            with pytest.raises(AccessDenied):
                c.get_object_tagging(BUCKET, key)
        # Retagging changes what the same policy allows.
        s.root.put_object_tagging(BUCKET, "secret", {"class": "public"})
        c.get_object(BUCKET, "secret").close()


def test_existing_object_tag_deny_in_a_bucket_policy() -> None:
    with _store() as s:
        c = user_client(s, "u", allow("s3:*", f"{ARN}/*"))
        s.root.put_bucket_policy(
            BUCKET,
            policy(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:PutObjectTagging", "s3:DeleteObjectTagging"],
                    "Resource": f"{ARN}/*",
                    "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}},
                }
            ),
        )
        c.get_object(BUCKET, "public").close()
        c.get_object(BUCKET, "plain").close()
        with pytest.raises(AccessDenied):
            c.get_object(BUCKET, "secret")
        # Nor may it drop the tag that protects the object.
        with pytest.raises(AccessDenied):
            c.delete_object_tagging(BUCKET, "secret")
        with pytest.raises(AccessDenied):
            c.put_object_tagging(BUCKET, "secret", {"class": "public"})
        assert s.root.get_object_tagging(BUCKET, "secret") == {"class": "secret"}
        # ExistingObjectTag does not apply to PutObject (AWS): an overwrite is allowed.
        c.put_object(BUCKET, "secret", b"new")


class _CountingTags:
    """Counts the namespace's reads of an object's tags (what the engine calls for
    s3:ExistingObjectTag), passing each through."""

    def __init__(self, store: objstore.Store) -> None:
        self.calls = 0
        self._read = store.namespace.object_tags
        store.namespace.object_tags = self  # type: ignore[method-assign]

    def __call__(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
        self.calls += 1
        return self._read(bucket, key, version_id)


def test_existing_tags_are_read_only_when_a_policy_reads_them() -> None:
    """GET/HEAD read the object's tags for s3:ExistingObjectTag only when a policy
    consulted for the request reads such a key: never for the root without a bucket
    policy, nor for a user whose policies do not; always when one does (identity or
    bucket policy), and the decision then depends on them."""
    with _store() as s:
        counted = _CountingTags(s)
        s.root.get_object(BUCKET, "secret").close()
        s.root.head_object(BUCKET, "public")
        assert counted.calls == 0
        plain = user_client(s, "plain", allow("s3:GetObject", f"{ARN}/*"))
        plain.get_object(BUCKET, "secret").close()
        plain.head_object(BUCKET, "public")
        assert counted.calls == 0
        tagged = user_client(
            s,
            "tagged",
            allow(
                "s3:GetObject",
                f"{ARN}/*",
                Condition={"StringEquals": {"s3:existingobjecttag/CLASS": "public"}},
            ),
        )
        tagged.head_object(BUCKET, "public")
        assert counted.calls == 1
        with pytest.raises(AccessDenied):
            tagged.get_object(BUCKET, "secret")
        assert counted.calls == 2
        s.root.put_bucket_policy(
            BUCKET,
            policy(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"{ARN}/*",
                    "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}},
                }
            ),
        )
        with pytest.raises(AccessDenied):
            plain.get_object(BUCKET, "secret")
        plain.get_object(BUCKET, "plain").close()
        assert counted.calls == 4
        s.root.get_object(BUCKET, "plain").close()
        assert counted.calls == 5  # the bucket policy is consulted for the root too


def test_request_object_tag_and_keys() -> None:
    with _store() as s:
        c = user_client(
            s,
            "writer",
            allow(
                ["s3:PutObject", "s3:PutObjectTagging"],
                f"{ARN}/*",
                Condition={
                    "StringEquals": {"s3:RequestObjectTag/team": "blue"},
                    "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "env"]},
                },
            ),
        )
        c.put_object(BUCKET, "a", b"x", tagging={"team": "blue"})
        c.put_object(BUCKET, "b", b"x", tagging={"team": "blue", "env": "dev"})
        c.put_object_tagging(BUCKET, "a", {"team": "blue", "env": "prod"})
        refused: list[dict[str, str] | None] = [
            {"team": "red"},
            {"team": "blue", "owner": "me"},  # a key the policy does not list
            None,  # no tag: RequestObjectTag/team is missing
        ]
        for tags in refused:
            with pytest.raises(AccessDenied):
                c.put_object(BUCKET, "c", b"x", tagging=tags)
        with pytest.raises(AccessDenied):
            c.put_object_tagging(BUCKET, "a", {"team": "red"})
        assert s.root.get_object_tagging(BUCKET, "a") == {"team": "blue", "env": "prod"}
        with pytest.raises(NoSuchKey):
            s.root.head_object(BUCKET, "c")


def test_put_with_tags_needs_put_object_tagging() -> None:
    with _store() as s:
        c = user_client(s, "w", allow("s3:PutObject", f"{ARN}/*"))
        c.put_object(BUCKET, "untagged", b"x")
        with pytest.raises(AccessDenied):
            c.put_object(BUCKET, "tagged", b"x", tagging={"a": "1"})
        with pytest.raises(AccessDenied):
            c.create_multipart_upload(BUCKET, "tagged", tagging={"a": "1"})
        with pytest.raises(AccessDenied):
            c.put_object_tagging(BUCKET, "untagged", {"a": "1"})
        d = user_client(
            s,
            "w2",
            allow(["s3:PutObject", "s3:PutObjectTagging"], f"{ARN}/*"),
        )
        d.put_object(BUCKET, "tagged", b"x", tagging={"a": "1"})


def test_versioned_tagging_actions() -> None:
    with _store() as s:
        s.root.put_bucket_versioning(BUCKET, "Enabled")
        vid = s.root.put_object(BUCKET, "v", b"x", tagging={"a": "1"}).version_id
        assert vid is not None
        c = user_client(
            s,
            "t",
            allow(["s3:GetObjectTagging", "s3:PutObjectTagging"], f"{ARN}/*"),
            deny("s3:GetObjectVersionTagging", f"{ARN}/*"),
        )
        assert c.get_object_tagging(BUCKET, "v") == {"a": "1"}
        with pytest.raises(AccessDenied):
            c.get_object_tagging(BUCKET, "v", version_id=vid)
        with pytest.raises(AccessDenied):  # s3:PutObjectVersionTagging is not granted
            c.put_object_tagging(BUCKET, "v", {"b": "2"}, version_id=vid)
