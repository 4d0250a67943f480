"""Review 7c H4: policies an earlier version stored are read as stored, and fail closed.

The 131,072-character cap (whitespace included) is a limit on documents being written. A
bucket policy an earlier version saved above it (a pretty-printed Deny, within S3's 20 KB
that does not count whitespace) used to fail to load, and the authorizer took that for "no
bucket policy": its Deny silently stopped applying. Now stored documents are read without
the cap; one that cannot be read at all refuses every request it would decide
(StoredPolicyUnreadable) instead of being ignored, the bucket owner's root excepted for
reading, replacing or deleting the bucket policy (the way to repair it). The one-time
binding migration likewise binds such documents properly, or marks them unreadable,
never "bound to nobody".

The records are written here directly in the old form (no ``principals`` binding, the
migration marker removed), as an earlier version left them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore import keyspace
from objstore.errors import (
    AccessDenied,
    MalformedPolicy,
    NoSuchBucketPolicy,
    StoredPolicyUnreadable,
)
from objstore.iam.parse import MAX_DOCUMENT_CHARS
from objstore.identity import repo
from tests.identity.helpers import allow, policy

MIGRATED = keyspace.IAM_ACCOUNT + b"principal-bindings"


def _padded(doc: dict[str, Any]) -> str:
    """``doc`` pretty-printed with a deep indent: over the cap, whitespace included."""
    text = json.dumps(doc, indent=1).replace("\n", "\n" + " " * 15000)
    assert len(text) > MAX_DOCUMENT_CHARS
    return text


def _deny_intern(principal: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoInterns",
                "Effect": "Deny",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::vault/*",
                "Condition": {"StringEquals": {"aws:username": "intern"}},
            }
        ],
    }


def _setup(path: Path) -> tuple[str, str, str]:
    """A vault bucket and an intern with AmazonS3FullAccess: (key id, secret, intern ARN)."""
    with objstore.open(path) as s:
        s.root.create_bucket("vault")
        s.root.put_object("vault", "secret.txt", b"TOP SECRET")
        intern = s.root.iam.create_user("intern")
        s.root.iam.attach_user_policy("intern", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
        key = s.root.iam.create_access_key("intern")
        return key.access_key_id, key.secret_access_key, intern.arn


def _store_old_form(path: Path, text: str, *, migrated: bool = False) -> None:
    """Write the vault's bucket policy record as an earlier version did: no binding, and
    (unless ``migrated``) the binding migration not yet run."""
    with objstore.open(path) as s:
        created = s.identity.service.bucket_created("vault").isoformat()
        record: dict[str, Any] = {"policy": text, "created": created}
        with s.identity.repo.meta.begin_write() as txn:
            txn.put(keyspace.BUCKET_POLICY + b"vault", json.dumps(record).encode())
            if not migrated:
                txn.delete(MIGRATED)
            txn.put(repo.GENERATION_KEY, (repo.generation(txn) + 1).to_bytes(8, "big"))


@pytest.mark.parametrize("principal", ["*", "intern-arn"], ids=["star", "user-arn"])
def test_a_stored_policy_over_the_new_cap_still_applies(tmp_path: Path, principal: str) -> None:
    path = tmp_path / "s"
    key_id, secret, intern_arn = _setup(path)
    named = {"AWS": intern_arn} if principal == "intern-arn" else "*"
    _store_old_form(path, _padded(_deny_intern(named)))
    with objstore.open(path) as s:
        intern = s.client(key_id, secret)
        with pytest.raises(AccessDenied):
            intern.get_object("vault", "secret.txt")
        # The migration bound the user ARN (it read the document as stored).
        with s.identity.repo.meta.begin() as txn:
            record = json.loads(txn.get(keyspace.BUCKET_POLICY + b"vault"))
        expected = {intern_arn: s.root.iam.get_user("intern").user_id} if principal != "*" else {}
        assert record["principals"] == expected
        assert len(s.root.get_bucket_policy("vault")) > MAX_DOCUMENT_CHARS
        intern.put_object("vault", "other.txt", b"x")  # the Deny is for GetObject only
    with objstore.open(path) as s, pytest.raises(AccessDenied):  # and again, migrated
        s.client(key_id, secret).get_object("vault", "secret.txt")


def test_new_documents_over_the_cap_are_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    _setup(path)
    with objstore.open(path) as s, pytest.raises(MalformedPolicy):
        s.root.put_bucket_policy("vault", _padded(_deny_intern("*")))


@pytest.mark.parametrize("migrated", [False, True], ids=["migration", "already-migrated"])
def test_an_unreadable_stored_bucket_policy_fails_closed(tmp_path: Path, migrated: bool) -> None:
    """A stored document this version cannot read (here: a wildcard in the service segment,
    which an earlier version accepted) is never taken for "no policy"."""
    path = tmp_path / "s"
    key_id, secret, _ = _setup(path)
    doc = _deny_intern("*")
    doc["Statement"][0]["Resource"] = "arn:aws:*:::vault/*"
    _store_old_form(path, json.dumps(doc), migrated=migrated)
    with objstore.open(path) as s:
        intern = s.client(key_id, secret)
        for call in (
            lambda: intern.get_object("vault", "secret.txt"),
            lambda: intern.put_object("vault", "x", b"x"),
            lambda: intern.list_objects("vault"),
        ):
            with pytest.raises(StoredPolicyUnreadable) as err:
                call()
            assert err.value.http_status == 500
        with pytest.raises(StoredPolicyUnreadable):
            s.root.put_object("vault", "y", b"y")  # the root's own requests too
        # The owner's root may still read, replace or delete it: the way to repair it.
        assert "arn:aws:*:::vault/*" in s.root.get_bucket_policy("vault")
        s.root.put_bucket_policy("vault", json.dumps(_deny_intern("*")))
        with pytest.raises(AccessDenied):
            intern.get_object("vault", "secret.txt")
        s.root.delete_bucket_policy("vault")
        with pytest.raises(NoSuchBucketPolicy):
            s.root.get_bucket_policy("vault")
        assert intern.get_object("vault", "secret.txt").read() == b"TOP SECRET"


def test_a_policy_the_migration_could_not_read_stays_refused(tmp_path: Path) -> None:
    """Marked unreadable by the migration (binding null): refused even though nothing else
    about the record changes, since nothing says whom its ARNs stood for."""
    path = tmp_path / "s"
    key_id, secret, _ = _setup(path)
    _store_old_form(path, "{not json")
    with objstore.open(path) as s:
        with s.identity.repo.meta.begin() as txn:
            record = json.loads(txn.get(keyspace.BUCKET_POLICY + b"vault"))
        assert "principals" in record and record["principals"] is None
        with pytest.raises(StoredPolicyUnreadable):
            s.client(key_id, secret).get_object("vault", "secret.txt")


def test_stored_identity_and_trust_policies_over_the_cap_apply(tmp_path: Path) -> None:
    path = tmp_path / "s"
    key_id, secret, intern_arn = _setup(path)
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}],
        },
        indent=1,
    ).replace("\n", "\n" + " " * 40000)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": intern_arn}, "Action": "sts:AssumeRole"}
            ],
        },
        indent=1,
    ).replace("\n", "\n" + " " * 40000)
    assert min(len(deny), len(trust)) > MAX_DOCUMENT_CHARS
    with objstore.open(path) as s:
        s.root.iam.create_role(
            "r", policy({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
        )
        with s.identity.repo.meta.begin_write() as txn:
            user = repo.get(txn, keyspace.IAM_USER, "intern")
            assert user is not None
            user["inline"] = {"deny-get": deny}
            repo.put(txn, keyspace.IAM_USER, "intern", user)
            role = repo.get(txn, keyspace.IAM_ROLE, "r")
            assert role is not None
            role["trust"] = trust
            del role["trust_principals"]
            repo.put(txn, keyspace.IAM_ROLE, "r", role)
            txn.delete(MIGRATED)
    with objstore.open(path) as s:
        intern = s.client(key_id, secret)
        with pytest.raises(AccessDenied):
            intern.get_object("vault", "secret.txt")
        # Another inline policy may still be put beside the stored one (weighed, not parsed).
        s.root.iam.put_user_policy("intern", "assume", policy(allow("sts:AssumeRole")))
        role_arn = f"arn:aws:iam::{s.account_id}:role/r"
        assert intern.sts.assume_role(role_arn, "s1").session_token
        s.root.iam.create_user("stranger")
        s.root.iam.put_user_policy("stranger", "assume", policy(allow("sts:AssumeRole")))
        other = s.root.iam.create_access_key("stranger")
        stranger = s.client(other.access_key_id, other.secret_access_key)
        with pytest.raises(AccessDenied):
            stranger.sts.assume_role(role_arn, "s2")


def test_a_policy_an_earlier_migration_bound_to_nothing_fails_closed(tmp_path: Path) -> None:
    """A store bound by the earlier migration, which could not read a document over the
    cap and bound it to nothing ({}): its Deny naming the intern by ARN lapsed. Its binding
    is now marked unreadable (once), so the Deny's bucket refuses rather than forgets it."""
    path = tmp_path / "s"
    key_id, secret, intern_arn = _setup(path)
    _store_old_form(path, _padded(_deny_intern({"AWS": intern_arn})), migrated=True)
    with objstore.open(path) as s, s.identity.repo.meta.begin_write() as txn:
        record = json.loads(txn.get(keyspace.BUCKET_POLICY + b"vault"))
        record["principals"] = {}  # what the earlier migration wrote
        txn.put(keyspace.BUCKET_POLICY + b"vault", json.dumps(record).encode())
        txn.delete(keyspace.IAM_ACCOUNT + b"principal-bindings-stored")
    with objstore.open(path) as s:
        with pytest.raises(StoredPolicyUnreadable):
            s.client(key_id, secret).get_object("vault", "secret.txt")
        s.root.put_bucket_policy("vault", json.dumps(_deny_intern({"AWS": intern_arn})))
        with pytest.raises(AccessDenied):
            s.client(key_id, secret).get_object("vault", "secret.txt")


def test_a_binding_to_nothing_made_by_this_version_is_kept(tmp_path: Path) -> None:
    """The legacy document names only a user gone before the upgrade: bound to nothing by
    this version's migration, which is right, and left so at every later open."""
    path = tmp_path / "s"
    key_id, secret, _ = _setup(path)
    with objstore.open(path) as s:
        gone = s.root.iam.create_user("gone").arn
        s.root.iam.delete_user("gone")
    _store_old_form(path, _padded(_deny_intern({"AWS": gone})))
    for _ in range(2):
        with objstore.open(path) as s:
            with s.identity.repo.meta.begin() as txn:
                record = json.loads(txn.get(keyspace.BUCKET_POLICY + b"vault"))
            assert record["principals"] == {}
            assert s.client(key_id, secret).get_object("vault", "secret.txt").read()
