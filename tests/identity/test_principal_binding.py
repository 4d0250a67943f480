"""Principal ARNs in bucket and trust policies are bound to the unique id of the user or
role they named when the policy was saved (break-it review of issue 7, HIGH finding).

AWS: "When you save the policy, AWS transforms the ARN to a unique principal ID ... if you
delete the role or user ... The policy no longer applies, even if you recreate the user or
role". A policy naming a user or role that does not exist is refused ("Invalid principal in
policy").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore import keyspace
from objstore.errors import AccessDenied, InvalidInput, MalformedPolicy, MalformedPolicyDocument
from objstore.meta.scan import scan_prefix

from .helpers import allow, policy, user_client

B = "bkt"


def bucket_policy(principal: object, *, effect: str = "Allow", key: str = "Principal") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": effect,
                    key: principal,
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{B}/*",
                }
            ],
        }
    )


def trust(principal: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def drop_user(store: objstore.Store, name: str) -> None:
    iam = store.root.iam
    for key in iam.list_access_keys(name):
        iam.delete_access_key(name, key.access_key_id)
    for inline in iam.list_user_policies(name):
        iam.delete_user_policy(name, inline)
    iam.delete_user(name)


@pytest.fixture
def store() -> objstore.Store:
    s = objstore.open(None)
    s.root.create_bucket(B)
    s.root.put_object(B, "k", b"data")
    return s


def user_arn(store: objstore.Store, name: str) -> str:
    return f"arn:aws:iam::{store.account_id}:user/{name}"


def role_arn(store: objstore.Store, name: str) -> str:
    return f"arn:aws:iam::{store.account_id}:role/{name}"


def test_bucket_policy_does_not_grant_a_recreated_user(store: objstore.Store) -> None:
    alice = user_client(store, "alice")
    text = bucket_policy({"AWS": user_arn(store, "alice")})
    store.root.put_bucket_policy(B, text)
    assert alice.get_object(B, "k").read() == b"data"
    drop_user(store, "alice")
    impostor = user_client(store, "alice")
    with pytest.raises(AccessDenied):
        impostor.get_object(B, "k")
    # Naming alice anew binds the ARN to the alice that exists now.
    store.root.put_bucket_policy(B, text)
    assert impostor.get_object(B, "k").read() == b"data"


def test_trust_policy_does_not_trust_a_recreated_user(store: objstore.Store) -> None:
    iam = store.root.iam
    assume = allow("sts:AssumeRole")
    alice = user_client(store, "alice", assume)
    iam.create_role("r", trust({"AWS": user_arn(store, "alice")}))
    assert alice.sts.assume_role(role_arn(store, "r"), "s1").access_key_id.startswith("ASIA")
    drop_user(store, "alice")
    impostor = user_client(store, "alice", assume)
    with pytest.raises(AccessDenied):
        impostor.sts.assume_role(role_arn(store, "r"), "s1")
    iam.update_assume_role_policy("r", trust({"AWS": user_arn(store, "alice")}))
    assert impostor.sts.assume_role(role_arn(store, "r"), "s2").access_key_id.startswith("ASIA")


def _session(store: objstore.Store, role: str, assumer: objstore.Client) -> objstore.Client:
    """A client acting as a session of ``role`` (trusted by the account, may assume roles),
    made by ``assumer`` (a user allowed sts:AssumeRole: root may not assume roles)."""
    iam = store.root.iam
    iam.create_role(role, trust({"AWS": store.account_id}))
    iam.put_role_policy(role, "p", policy(allow(["sts:AssumeRole", "s3:ListBucket"])))
    creds = assumer.sts.assume_role(role_arn(store, role), "sess")
    return store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)


def _drop_role(store: objstore.Store, role: str) -> None:
    store.root.iam.delete_role_policy(role, "p")
    store.root.iam.delete_role(role)


def test_role_principals_are_bound_to_the_role_id(store: objstore.Store) -> None:
    """A bucket policy and a trust policy naming a role grant its sessions, and stop when
    the role is deleted and created again under the same name."""
    iam = store.root.iam
    assumer = user_client(store, "assumer", allow("sts:AssumeRole"))
    first = _session(store, "worker", assumer)
    store.root.put_bucket_policy(B, bucket_policy({"AWS": role_arn(store, "worker")}))
    iam.create_role("target", trust({"AWS": role_arn(store, "worker")}))
    assert first.get_object(B, "k").read() == b"data"
    assert first.sts.assume_role(role_arn(store, "target"), "chain").session_token
    _drop_role(store, "worker")
    second = _session(store, "worker", assumer)
    with pytest.raises(AccessDenied):
        second.get_object(B, "k")
    with pytest.raises(AccessDenied):
        second.sts.assume_role(role_arn(store, "target"), "chain")


def test_not_principal_exemption_is_bound_too(store: objstore.Store) -> None:
    """A Deny exempting alice (NotPrincipal) does not exempt a recreated alice."""
    read = allow("s3:GetObject", f"arn:aws:s3:::{B}/*")
    alice = user_client(store, "alice", read)
    exempt = {"AWS": [user_arn(store, "alice"), store.account_id]}
    store.root.put_bucket_policy(B, bucket_policy(exempt, effect="Deny", key="NotPrincipal"))
    assert alice.get_object(B, "k").read() == b"data"
    drop_user(store, "alice")
    impostor = user_client(store, "alice", read)
    with pytest.raises(AccessDenied):
        impostor.get_object(B, "k")


@pytest.mark.parametrize(
    "principal",
    [
        lambda acct: {"AWS": f"arn:aws:iam::{acct}:user/ghost"},
        lambda acct: {"AWS": [f"arn:aws:iam::{acct}:root", f"arn:aws:iam::{acct}:role/ghost"]},
        lambda acct: {"AWS": f"arn:aws:iam::{acct}:user/alice"},  # alice is at /dev/
    ],
)
def test_naming_a_missing_user_or_role_is_an_invalid_principal(
    store: objstore.Store, principal: Any
) -> None:
    iam = store.root.iam
    iam.create_user("alice", path="/dev/")
    named = principal(store.account_id)
    with pytest.raises(MalformedPolicy, match="Invalid principal in policy"):
        store.root.put_bucket_policy(B, bucket_policy(named))
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal in policy"):
        iam.create_role("r", trust(named))
    assert iam.list_roles() == []
    iam.create_role("r", trust({"AWS": store.account_id}))
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal in policy"):
        iam.update_assume_role_policy("r", trust(named))
    assert json.loads(iam.get_role("r").assume_role_policy_document)["Statement"][0][
        "Principal"
    ] == {"AWS": store.account_id}


def test_a_role_cannot_name_itself_until_it_exists(store: objstore.Store) -> None:
    """As in AWS: the role's own ARN is an invalid principal at creation, valid after."""
    iam = store.root.iam
    own = trust({"AWS": role_arn(store, "self")})
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal"):
        iam.create_role("self", own)
    iam.create_role("self", trust({"AWS": store.account_id}))
    iam.update_assume_role_policy("self", own)
    assert iam.get_role("self").assume_role_policy_document == own


def test_unbound_principal_forms_keep_working(store: objstore.Store) -> None:
    """Accounts, "*", other accounts' ARNs and services are not bound: a recreated user is
    still granted by a policy naming its account (with its own policy) or everyone."""
    other = "arn:aws:iam::111122223333:user/bob"
    store.root.put_bucket_policy(B, bucket_policy({"AWS": ["*", other]}))
    store.root.iam.create_role("svc", trust({"Service": "ec2.amazonaws.com", "AWS": other}))
    user_client(store, "alice")
    drop_user(store, "alice")
    assert user_client(store, "alice").get_object(B, "k").read() == b"data"


def test_bound_principal_survives_reopen(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"data")
        alice = user_client(s, "alice")
        s.root.put_bucket_policy(B, bucket_policy({"AWS": user_arn(s, "alice")}))
        assert alice.get_object(B, "k").read() == b"data"
    with objstore.open(tmp_path / "s") as s:
        drop_user(s, "alice")
        impostor = user_client(s, "alice")
        with pytest.raises(AccessDenied):
            impostor.get_object(B, "k")


def _make_legacy(store: objstore.Store) -> None:
    """Rewrite the store's bucket policies and roles as a store before bindings wrote them."""
    meta = store.identity.repo.meta
    with meta.begin_write() as txn:
        for field, prefix in (
            ("principals", keyspace.BUCKET_POLICY),
            ("trust_principals", keyspace.IAM_ROLE),
        ):
            for k, raw in list(scan_prefix(txn, prefix)):
                record = json.loads(raw)
                del record[field]
                txn.put(k, json.dumps(record).encode())
        txn.delete(keyspace.IAM_ACCOUNT + b"principal-bindings")


def test_policies_saved_before_bindings_are_bound_at_the_next_open(tmp_path: Path) -> None:
    """A store written before bindings: its policies are bound to the users and roles that
    exist when it is next opened; an ARN naming nobody then names nobody for good."""
    path = tmp_path / "s"
    with objstore.open(path) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"data")
        s.root.iam.create_user("alice")
        s.root.iam.create_user("carol")
        named = {"AWS": [user_arn(s, "alice"), user_arn(s, "carol")]}
        s.root.put_bucket_policy(B, bucket_policy(named))
        s.root.iam.create_role("r", trust(named))
        s.root.iam.delete_user("carol")  # gone before the upgrade
        _make_legacy(s)
    with objstore.open(path) as s:
        assign = allow("sts:AssumeRole")
        drop_user(s, "alice")
        for name in ("alice", "carol"):
            impostor = user_client(s, name, assign)
            with pytest.raises(AccessDenied):
                impostor.get_object(B, "k")
            with pytest.raises(AccessDenied):
                impostor.sts.assume_role(role_arn(s, "r"), "s1")


def test_legacy_policies_keep_granting_the_users_they_named(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with objstore.open(path) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"data")
        s.root.iam.create_user("alice")
        s.root.iam.put_user_policy("alice", "p", policy(allow("sts:AssumeRole")))
        key = s.root.iam.create_access_key("alice")
        s.root.put_bucket_policy(B, bucket_policy({"AWS": user_arn(s, "alice")}))
        s.root.iam.create_role("r", trust({"AWS": user_arn(s, "alice")}))
        _make_legacy(s)
    with objstore.open(path) as s:
        alice = s.client(key.access_key_id, key.secret_access_key)
        assert alice.get_object(B, "k").read() == b"data"
        assert alice.sts.assume_role(role_arn(s, "r"), "s1").session_token


def test_a_renamed_user_stays_named_and_its_old_name_is_not(store: objstore.Store) -> None:
    """AWS updates resource and trust policies naming a renamed user; bound to its id, the
    policy keeps naming it, and a new user under the old name is not named."""
    iam = store.root.iam
    alice = user_client(store, "alice", allow("sts:AssumeRole"))
    store.root.put_bucket_policy(B, bucket_policy({"AWS": user_arn(store, "alice")}))
    iam.create_role("r", trust({"AWS": user_arn(store, "alice")}))
    assert alice.get_object(B, "k").read() == b"data"
    iam.update_user("alice", new_user_name="alicia")
    fresh = iam.create_access_key("alicia")
    alicia = store.client(fresh.access_key_id, fresh.secret_access_key)
    assert alicia.get_object(B, "k").read() == b"data"
    assert alicia.sts.assume_role(role_arn(store, "r"), "s1").session_token
    newcomer = user_client(store, "alice", allow("sts:AssumeRole"))
    with pytest.raises(AccessDenied):
        newcomer.get_object(B, "k")
    with pytest.raises(AccessDenied):
        newcomer.sts.assume_role(role_arn(store, "r"), "s1")
    with pytest.raises(InvalidInput, match="reserved"):
        iam.update_user("alicia", new_user_name="Root")
    assert iam.get_user("alicia").user_name == "alicia"


# --- what a bound policy shows, and saving it back (break-it review 7b, H4) ----------------


def _aws_principal(text: str) -> object:
    return json.loads(text)["Statement"][0]["Principal"]["AWS"]


def test_a_policy_shows_the_renamed_user_and_a_round_trip_keeps_naming_it(
    store: objstore.Store,
) -> None:
    """AWS shows a renamed user's new ARN; saving the shown text back names the renamed
    user, never a new user of the old name."""
    iam = store.root.iam
    user_client(store, "alice")
    store.root.put_bucket_policy(B, bucket_policy({"AWS": user_arn(store, "alice")}))
    iam.create_role("r", trust({"AWS": [user_arn(store, "alice"), store.account_id]}))
    iam.update_user("alice", new_user_name="bob", new_path="/team/")
    newcomer = user_client(store, "alice", allow("sts:AssumeRole"))
    bob_arn = f"arn:aws:iam::{store.account_id}:user/team/bob"
    shown = store.root.get_bucket_policy(B)
    assert _aws_principal(shown) == bob_arn
    shown_trust = iam.get_role("r").assume_role_policy_document
    assert _aws_principal(shown_trust) == [bob_arn, store.account_id]
    assert [r.assume_role_policy_document for r in iam.list_roles()] == [shown_trust]
    store.root.put_bucket_policy(B, shown)
    iam.update_assume_role_policy("r", shown_trust)
    with pytest.raises(AccessDenied):
        newcomer.get_object(B, "k")
    fresh = iam.create_access_key("bob")
    bob = store.client(fresh.access_key_id, fresh.secret_access_key)
    assert bob.get_object(B, "k").read() == b"data"
    # Saved back, the text names bob as written: it shows as it was saved.
    assert store.root.get_bucket_policy(B) == shown
    assert iam.get_role("r").assume_role_policy_document == shown_trust


def test_a_deleted_users_id_is_shown_and_a_round_trip_grants_nobody_new(
    store: objstore.Store,
) -> None:
    """AWS shows a deleted user's unique id; saving it back is not an error and grants
    nobody, in particular not a new user of the same name."""
    iam = store.root.iam
    user_client(store, "carol")
    carol_id = iam.get_user("carol").user_id
    store.root.put_bucket_policy(B, bucket_policy({"AWS": user_arn(store, "carol")}))
    iam.create_role("r", trust({"AWS": user_arn(store, "carol")}))
    drop_user(store, "carol")
    impostor = user_client(store, "carol", allow("sts:AssumeRole"))
    shown = store.root.get_bucket_policy(B)
    shown_trust = iam.get_role("r").assume_role_policy_document
    assert _aws_principal(shown) == carol_id
    assert _aws_principal(shown_trust) == carol_id
    store.root.put_bucket_policy(B, shown)
    iam.update_assume_role_policy("r", shown_trust)
    with pytest.raises(AccessDenied):
        impostor.get_object(B, "k")
    with pytest.raises(AccessDenied):
        impostor.sts.assume_role(role_arn(store, "r"), "s1")
    assert _aws_principal(store.root.get_bucket_policy(B)) == carol_id


def test_a_deleted_roles_id_is_shown_and_a_round_trip_grants_nobody_new(
    store: objstore.Store,
) -> None:
    iam = store.root.iam
    assumer = user_client(store, "assumer", allow("sts:AssumeRole"))
    _session(store, "worker", assumer)
    worker_id = iam.get_role("worker").role_id
    store.root.put_bucket_policy(B, bucket_policy({"AWS": role_arn(store, "worker")}))
    iam.create_role("target", trust({"AWS": role_arn(store, "worker")}))
    _drop_role(store, "worker")
    second = _session(store, "worker", assumer)
    shown = store.root.get_bucket_policy(B)
    shown_trust = iam.get_role("target").assume_role_policy_document
    assert _aws_principal(shown) == worker_id
    assert _aws_principal(shown_trust) == worker_id
    store.root.put_bucket_policy(B, shown)
    iam.update_assume_role_policy("target", shown_trust)
    with pytest.raises(AccessDenied):
        second.get_object(B, "k")
    with pytest.raises(AccessDenied):
        second.sts.assume_role(role_arn(store, "target"), "chain")


def test_a_unique_id_principal_names_that_entity_while_it_exists(store: objstore.Store) -> None:
    """A unique id as an AWS principal names the user or role with that id (and shows as
    its current ARN), and a malformed id is still an invalid principal."""
    iam = store.root.iam
    dave = user_client(store, "dave", allow("sts:AssumeRole"))
    other = user_client(store, "other", allow("sts:AssumeRole"))
    dave_id = iam.get_user("dave").user_id
    store.root.put_bucket_policy(B, bucket_policy({"AWS": dave_id}))
    iam.create_role("r", trust({"AWS": [dave_id]}))
    assert dave.get_object(B, "k").read() == b"data"
    assert dave.sts.assume_role(role_arn(store, "r"), "s1").session_token
    with pytest.raises(AccessDenied):
        other.get_object(B, "k")
    with pytest.raises(AccessDenied):
        other.sts.assume_role(role_arn(store, "r"), "s1")
    assert _aws_principal(store.root.get_bucket_policy(B)) == user_arn(store, "dave")
    assert _aws_principal(iam.get_role("r").assume_role_policy_document) == [
        user_arn(store, "dave")
    ]
    for bad in (dave_id.lower(), dave_id[:-1], "AKIA" + dave_id[4:], dave_id + "*"):
        with pytest.raises(MalformedPolicy):
            store.root.put_bucket_policy(B, bucket_policy({"AWS": bad}))
