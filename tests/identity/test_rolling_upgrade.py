"""Rolling upgrades and principal bindings (review of issue 7, M1): a store once opened by a
version that binds policies refuses older versions (format 2), and a policy an older node
still running on the same metadata saves unbound names no user or role (fail closed), never
whoever holds the name now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.errors import AccessDenied, StoreDamaged, StoredPolicyUnreadable
from objstore.meta import marker
from objstore.meta.base import MetadataStore
from objstore.meta.memory import MemoryMetadataStore

from . import test_principal_binding
from .helpers import allow, user_client
from .test_principal_binding import (
    B,
    bucket_policy,
    drop_user,
    role_arn,
    trust,
    user_arn,
)

_STORE_KEY = keyspace.CONFIG + b"store"
# test_principal_binding.py's fixture: a store in memory whose bucket B holds "k".
store = test_principal_binding.store


def _old_node_saves_bucket_policy(store: objstore.Store, text: str) -> None:
    """What a version before bindings wrote for put_bucket_policy: no ``principals``."""
    created = store.namespace.head_bucket(B).creation_date.isoformat()
    with store.identity.repo.meta.begin_write() as txn:
        txn.put(
            keyspace.BUCKET_POLICY + B.encode(),
            json.dumps({"policy": text, "created": created}).encode(),
        )


def _old_node_creates_role(store: objstore.Store, name: str, text: str) -> None:
    """create_role as a version before bindings did it: the role record without
    ``trust_principals`` (made here by the current code, then stripped)."""
    store.root.iam.create_role(name, trust({"AWS": store.account_id}))
    with store.identity.repo.write() as txn:
        raw = txn.get(keyspace.IAM_ROLE + name.lower().encode())
        assert raw is not None
        rec = json.loads(raw)
        rec["trust"] = text
        del rec["trust_principals"]
        txn.put(keyspace.IAM_ROLE + name.lower().encode(), json.dumps(rec).encode())


def test_an_unbound_bucket_policy_names_no_user_re_created_under_the_name(
    store: objstore.Store,
) -> None:
    user_client(store, "alice")
    drop_user(store, "alice")
    impostor = user_client(store, "alice")  # another unique id
    text = bucket_policy({"AWS": user_arn(store, "alice")})
    _old_node_saves_bucket_policy(store, text)
    with pytest.raises(AccessDenied):
        impostor.get_object(B, "k")
    # Account principals in an unbound policy keep working (they were never bound).
    _old_node_saves_bucket_policy(store, bucket_policy({"AWS": store.account_id}))
    granted = user_client(store, "bob", allow("s3:GetObject"))
    assert granted.get_object(B, "k").read() == b"data"
    # Saved again by this version, the policy names the alice that exists now.
    store.root.put_bucket_policy(B, text)
    assert impostor.get_object(B, "k").read() == b"data"


def test_an_unbound_trust_policy_trusts_no_user_re_created_under_the_name(
    store: objstore.Store,
) -> None:
    assume = allow("sts:AssumeRole")
    user_client(store, "alice", assume)
    drop_user(store, "alice")
    impostor = user_client(store, "alice", assume)
    text = trust({"AWS": user_arn(store, "alice")})
    _old_node_creates_role(store, "r", text)
    with pytest.raises(AccessDenied):
        impostor.sts.assume_role(role_arn(store, "r"), "s1")
    store.root.iam.update_assume_role_policy("r", text)
    assert impostor.sts.assume_role(role_arn(store, "r"), "s2").session_token


def test_an_unbound_policy_denying_a_user_by_name_is_refused_not_lapsed(
    store: objstore.Store,
) -> None:
    """Review 7d H1: naming nobody fails closed for an Allow's Principal only; a Deny naming
    a user that an old node saved must not stop applying. (An Allow's NotPrincipal, the
    other case, is refused by the parser, stored or not: already unreadable.)"""
    dev = user_client(store, "dev", allow("s3:GetObject"))
    text = bucket_policy({"AWS": user_arn(store, "dev")}, effect="Deny")
    _old_node_saves_bucket_policy(store, text)
    with pytest.raises(StoredPolicyUnreadable):
        dev.get_object(B, "k")
    store.root.put_bucket_policy(B, text)  # saved again by this version: dev is bound
    with pytest.raises(AccessDenied):
        dev.get_object(B, "k")
    # An unbound Deny naming only the account, or an unbound Allow naming dev, still reads.
    _old_node_saves_bucket_policy(store, bucket_policy({"AWS": store.account_id}, effect="Deny"))
    with pytest.raises(AccessDenied):
        dev.get_object(B, "k")
    _old_node_saves_bucket_policy(store, bucket_policy({"AWS": user_arn(store, "dev")}))
    assert dev.get_object(B, "k").read() == b"data"  # by its own policy


def test_an_unbound_trust_policy_denying_a_user_by_name_is_refused(store: objstore.Store) -> None:
    assume = allow("sts:AssumeRole")
    alice = user_client(store, "alice", assume)
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": store.account_id},
                    "Action": "sts:AssumeRole",
                },
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": user_arn(store, "alice")},
                    "Action": "sts:AssumeRole",
                },
            ],
        }
    )
    _old_node_creates_role(store, "r", text)
    with pytest.raises(StoredPolicyUnreadable):
        alice.sts.assume_role(role_arn(store, "r"), "s1")
    store.root.iam.update_assume_role_policy("r", text)  # bound by this version: denies
    with pytest.raises(AccessDenied):
        alice.sts.assume_role(role_arn(store, "r"), "s2")


def _format_of(meta: MetadataStore) -> int:
    with meta.begin() as txn:
        raw = txn.get(_STORE_KEY)
    assert raw is not None
    return int(json.loads(raw)["format"])


def test_opening_raises_an_older_store_to_the_current_format(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with objstore.open(path) as s:
        s.root.create_bucket(B)
        meta = s.identity.repo.meta
        with meta.begin_write() as txn:
            raw = txn.get(_STORE_KEY)
            assert raw is not None
            ident = json.loads(raw)
            ident["format"] = 1
            txn.put(_STORE_KEY, json.dumps(ident).encode())
            txn.delete(keyspace.IAM_ACCOUNT + b"principal-bindings")
        (path / marker.MARKER_NAME).write_text(json.dumps(ident))
    with objstore.open(path) as s:
        assert _format_of(s.identity.repo.meta) == marker.FORMAT == 2
        assert [b.name for b in s.root.list_buckets()] == [B]
    assert json.loads((path / marker.MARKER_NAME).read_text())["format"] == 2


def test_an_older_version_refuses_a_store_this_one_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous version is this code with FORMAT 1: it must refuse the store."""
    path = tmp_path / "s"
    objstore.open(path).close()
    monkeypatch.setattr(marker, "FORMAT", 1)
    with pytest.raises(StoreDamaged, match="newer objstore"):
        objstore.open(path)


def test_a_store_without_a_path_is_raised_and_refused_likewise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shared metadata (no directory, no objstore.json): the copy in the metadata decides."""
    meta = MemoryMetadataStore()
    ident = marker.establish(None, meta, None, has_chunks=lambda: False, where="db")
    assert ident.format == 2
    with meta.begin_write() as txn:
        txn.put(_STORE_KEY, marker.StoreIdentity(ident.store_id, 1).encode())
    assert marker.establish(None, meta, None, has_chunks=lambda: False, where="db") == ident
    assert _format_of(meta) == 2
    monkeypatch.setattr(marker, "FORMAT", 1)
    with pytest.raises(StoreDamaged, match="newer objstore"):
        marker.establish(None, meta, None, has_chunks=lambda: False, where="db")


def test_the_policy_an_old_node_saved_shows_as_written(store: objstore.Store) -> None:
    user_client(store, "alice")
    text = bucket_policy({"AWS": user_arn(store, "alice")})
    _old_node_saves_bucket_policy(store, text)
    assert json.loads(store.root.get_bucket_policy(B)) == json.loads(text)
