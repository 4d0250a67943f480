"""S3 Block Public Access in the library: the settings, GetBucketPolicyStatus, and what
BlockPublicPolicy, RestrictPublicBuckets and BlockPublicAcls do."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

import objstore
from objstore import aio, keyspace
from objstore.errors import (
    AccessControlListNotSupported,
    AccessDenied,
    InvalidArgument,
    NoSuchBucket,
    NoSuchPublicAccessBlockConfiguration,
)
from objstore.ns.index import bucket_key
from objstore.types import AccessControlPolicy, Grant, PolicyStatus, PublicAccessBlockConfiguration

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _policy(principal: object = "*", condition: object = None, effect: str = "Allow") -> str:
    statement: dict[str, object] = {
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bkt/*",
    }
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def root(store: objstore.Store) -> objstore.Client:
    store.root.create_bucket("bkt")
    store.root.put_object("bkt", "k", b"data")
    return store.root


def test_settings_round_trip(root: objstore.Client) -> None:
    with pytest.raises(NoSuchPublicAccessBlockConfiguration):
        root.get_public_access_block("bkt")
    config = PublicAccessBlockConfiguration(block_public_acls=True, block_public_policy=True)
    root.put_public_access_block("bkt", config)
    assert root.get_public_access_block("bkt") == config
    # A mapping of S3's names; a missing setting is off.
    root.put_public_access_block("bkt", {"RestrictPublicBuckets": True, "IgnorePublicAcls": True})
    assert root.get_public_access_block("bkt") == PublicAccessBlockConfiguration(
        ignore_public_acls=True, restrict_public_buckets=True
    )
    root.delete_public_access_block("bkt")
    with pytest.raises(NoSuchPublicAccessBlockConfiguration) as err:
        root.get_public_access_block("bkt")
    assert err.value.http_status == 404
    root.delete_public_access_block("bkt")  # none: not an error, as S3
    for bad in ({"BlockPublicAcl": True}, {"BlockPublicAcls": "yes"}, ["BlockPublicAcls"]):
        with pytest.raises(InvalidArgument):
            root.put_public_access_block("bkt", bad)  # type: ignore[arg-type]
    with pytest.raises(NoSuchBucket):
        root.put_public_access_block("nope", config)
    with pytest.raises(NoSuchBucket):
        root.get_bucket_policy_status("nope")


def test_settings_go_with_the_bucket(root: objstore.Client) -> None:
    root.put_public_access_block("bkt", {"BlockPublicPolicy": True})
    root.delete_object("bkt", "k")
    root.delete_bucket("bkt")
    root.create_bucket("bkt")
    with pytest.raises(NoSuchPublicAccessBlockConfiguration):
        root.get_public_access_block("bkt")


def test_policy_status(root: objstore.Client) -> None:
    assert root.get_bucket_policy_status("bkt") == PolicyStatus(is_public=False)
    root.put_bucket_policy("bkt", _policy("*"))
    assert root.get_bucket_policy_status("bkt").is_public
    root.put_bucket_policy("bkt", _policy("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert not root.get_bucket_policy_status("bkt").is_public
    root.put_bucket_policy("bkt", _policy("*"))
    root.delete_bucket_policy("bkt")
    assert not root.get_bucket_policy_status("bkt").is_public


def test_block_public_policy_refuses_public_policies_only(root: objstore.Client) -> None:
    root.put_bucket_policy("bkt", _policy("*"))  # stored before the setting: stays
    root.put_public_access_block("bkt", {"BlockPublicPolicy": True})
    assert root.get_bucket_policy_status("bkt").is_public
    with pytest.raises(AccessDenied):
        root.put_bucket_policy("bkt", _policy({"AWS": "*"}))
    assert json.loads(root.get_bucket_policy("bkt"))["Statement"][0]["Principal"] == "*"
    bounded = _policy("*", {"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    root.put_bucket_policy("bkt", bounded)
    root.put_bucket_policy("bkt", _policy("*", effect="Deny"))
    root.put_public_access_block("bkt", {"BlockPublicPolicy": False})
    root.put_bucket_policy("bkt", _policy("*"))


def test_restrict_public_buckets(store: objstore.Store, root: objstore.Client) -> None:
    """A public policy stops granting to anonymous callers; callers of the account still
    get its grants; a non-public policy keeps granting to whom it names."""
    anonymous = store.client_for(objstore.Identity.anonymous())
    iam = store.root.iam
    iam.create_user("u")
    key = iam.create_access_key("u")
    user = store.client(key.access_key_id, key.secret_access_key)
    root.put_bucket_policy("bkt", _policy("*"))
    assert anonymous.get_object("bkt", "k").read() == b"data"
    assert user.get_object("bkt", "k").read() == b"data"
    root.put_public_access_block("bkt", {"RestrictPublicBuckets": True})
    with pytest.raises(AccessDenied):
        anonymous.get_object("bkt", "k")
    assert user.get_object("bkt", "k").read() == b"data"
    assert root.get_object("bkt", "k").read() == b"data"
    # Not public (pinned to an address range): anonymous callers from there get in.
    root.put_bucket_policy("bkt", _policy("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    inside = store.client_for(
        dataclasses.replace(objstore.Identity.anonymous(), source_ip="10.1.2.3")
    )
    assert inside.get_object("bkt", "k").read() == b"data"
    with pytest.raises(AccessDenied):
        anonymous.get_object("bkt", "k")
    root.put_bucket_policy("bkt", _policy("*"))
    root.delete_public_access_block("bkt")
    assert anonymous.get_object("bkt", "k").read() == b"data"


def test_restricted_policy_keeps_its_denials_for_outsiders(store: objstore.Store) -> None:
    """What an outsider sees of a restricted public policy: its Deny statements only."""
    store.root.create_bucket("bkt")
    allow = json.loads(_policy("*"))["Statement"][0]
    deny = {**allow, "Effect": "Deny", "Action": "s3:DeleteObject"}
    store.root.put_bucket_policy(
        "bkt", json.dumps({"Version": "2012-10-17", "Statement": [allow, deny]})
    )
    store.root.put_public_access_block("bkt", {"RestrictPublicBuckets": True})
    authorizer = store.identity.authorizer
    with store.namespace.meta.begin() as txn:
        raw = txn.get(keyspace.BUCKET_POLICY + b"bkt")
        bucket_raw = txn.get(bucket_key("bkt"))
    inside = authorizer.bucket_policy("bkt", raw, bucket_raw)
    outside = authorizer.bucket_policy("bkt", raw, bucket_raw, outsider=True)
    assert inside is not None and outside is not None
    assert len(inside.statements) == 2
    assert [s.effect for s in outside.statements] == ["Deny"]


def test_block_public_acls(root: objstore.Client) -> None:
    """ACLs are disabled: a public ACL is AccessControlListNotSupported, or AccessDenied
    once BlockPublicAcls is on; the owner-only ACLs stay accepted."""
    with pytest.raises(AccessControlListNotSupported):
        root.put_bucket_acl("bkt", acl="public-read")
    root.put_public_access_block("bkt", {"BlockPublicAcls": True})
    for acl in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(AccessDenied):
            root.put_bucket_acl("bkt", acl=acl)
        with pytest.raises(AccessDenied):
            root.put_object_acl("bkt", "k", acl=acl)
    owner = root.get_bucket_acl("bkt").owner_id
    public = AccessControlPolicy(owner, owner, (Grant(ALL_USERS, "READ", "Group"),))
    with pytest.raises(AccessDenied):
        root.put_bucket_acl("bkt", access_control_policy=public)
    with pytest.raises(AccessControlListNotSupported):
        root.put_bucket_acl("bkt", acl="bucket-owner-read")  # not public: ACLs disabled
    root.put_bucket_acl("bkt", acl="private")
    root.put_object_acl("bkt", "k", acl="bucket-owner-full-control")


def test_async_twins(tmp_path: Path) -> None:
    async def main() -> None:
        async with aio.open(tmp_path / "s") as store:
            await store.root.create_bucket("bkt")
            await store.root.put_public_access_block("bkt", {"BlockPublicPolicy": True})
            got = await store.root.get_public_access_block("bkt")
            assert got == PublicAccessBlockConfiguration(block_public_policy=True)
            assert not (await store.root.get_bucket_policy_status("bkt")).is_public
            await store.root.delete_public_access_block("bkt")
            with pytest.raises(NoSuchPublicAccessBlockConfiguration):
                await store.root.get_public_access_block("bkt")

    asyncio.run(main())
