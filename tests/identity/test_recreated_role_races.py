"""A role deleted and created again under its name between two reads of one request (review
7d H2, H3): the session of the old role, or the AssumeRole decided on the old role's trust
policy, never gets the new role. The hook on ``IamAuthorizer.policies_for`` only makes the
window deterministic: it runs the root's delete and create between the authorizer's first
read (credentials, trust policy) and what follows (the policy load, the STS call). A user
renamed in that window likewise keeps its own policies (review 7d M)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import objstore
from objstore.authz import Identity
from objstore.errors import AccessDenied, InvalidClientTokenId
from objstore.identity.authorizer import IamAuthorizer
from objstore.identity.gather import PrincipalPolicies

from .helpers import allow, user_client

FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        s.root.create_bucket("data")
        s.root.put_object("data", "secret", b"TOP SECRET")
        yield s


def _trust(store: objstore.Store, user: str) -> str:
    principal = {"AWS": f"arn:aws:iam::{store.account_id}:user/{user}"}
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _recreate_once(
    monkeypatch: pytest.MonkeyPatch, store: objstore.Store, kind: str, trust: str
) -> list[int]:
    """On the next policy load for a caller of ``kind``: role r deleted and created again
    (trusting ``trust``) with full S3 access."""
    real = IamAuthorizer.policies_for
    fired: list[int] = []

    def policies_for(self: IamAuthorizer, identity: Identity, generation: int) -> PrincipalPolicies:
        if identity.kind == kind and not fired:
            fired.append(1)
            iam = store.root.iam
            iam.delete_role("r")
            iam.create_role("r", trust)
            iam.attach_role_policy("r", FULL)
        return real(self, identity, generation)

    monkeypatch.setattr(IamAuthorizer, "policies_for", policies_for)
    return fired


def test_a_session_gets_nothing_of_a_role_re_created_between_reads(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = user_client(store, "dev", allow("sts:AssumeRole"))
    store.root.iam.create_role("r", _trust(store, "dev"))  # no permissions
    arn = f"arn:aws:iam::{store.account_id}:role/r"
    cr = dev.sts.assume_role(arn, "s1")
    session = store.client(cr.access_key_id, cr.secret_access_key, cr.session_token)
    with pytest.raises(AccessDenied):
        session.get_object("data", "secret")
    store.root.iam.create_user("unrelated")  # a new generation: the policies are loaded again
    fired = _recreate_once(monkeypatch, store, "assumed-role", _trust(store, "dev"))
    with pytest.raises(AccessDenied):
        session.get_object("data", "secret")
    assert fired
    # The next request sees the old role gone, as for a deleted key.
    with pytest.raises(InvalidClientTokenId):
        session.get_object("data", "secret")


def test_assume_role_issues_no_session_of_a_role_re_created_after_the_decision(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = user_client(store, "dev", allow("sts:AssumeRole"))
    store.root.iam.create_user("admin")
    store.root.iam.create_role("r", _trust(store, "dev"))
    arn = f"arn:aws:iam::{store.account_id}:role/r"
    fired = _recreate_once(monkeypatch, store, "user", _trust(store, "admin"))
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(arn, "s1")
    assert fired
    # Asked again, the new role's trust policy decides (it trusts only admin).
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(arn, "s2")
    store.root.iam.update_assume_role_policy("r", _trust(store, "dev"))
    assert dev.sts.assume_role(arn, "s3").session_token


@pytest.mark.parametrize("temporary", [False, True])
def test_a_user_renamed_between_reads_keeps_its_policies(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, temporary: bool
) -> None:
    """Review 7d M (rename stress): the user renamed between the credential check and the
    policy load is found by its id and asked about again under its new name (within the
    one authorization), never decided with no policies (a spurious AccessDenied)."""
    client = user_client(store, "a", allow("s3:GetObject"))
    if temporary:
        cr = client.sts.get_session_token(duration_seconds=900)
        client = store.client(cr.access_key_id, cr.secret_access_key, cr.session_token)
    store.root.iam.create_user("unrelated")  # a new generation: the policies are loaded again
    real = IamAuthorizer.policies_for
    fired: list[int] = []

    def policies_for(self: IamAuthorizer, identity: Identity, generation: int) -> PrincipalPolicies:
        if identity.kind == "user" and not fired:
            fired.append(1)
            store.root.iam.update_user("a", new_user_name="b")
        return real(self, identity, generation)

    monkeypatch.setattr(IamAuthorizer, "policies_for", policies_for)
    assert client.get_object("data", "secret").read() == b"TOP SECRET"
    assert fired
    assert client.sts.get_caller_identity().arn.endswith(":user/b")
