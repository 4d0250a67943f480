"""AllowUsersToChangePassword: when the account password policy sets it, every IAM user may
change its own password and read the password policy without a policy granting it; when it
is false, only an explicit ``iam:ChangePassword`` grant allows that (regression: the flag
was stored but granted nothing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import objstore
from objstore.errors import AccessDenied
from tests.identity.helpers import allow, deny, policy


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    """In memory only: the grant does not depend on the backend, and each password set
    costs a memory-hard hash."""
    with objstore.open(None) as s:
        yield s


OLD = "Correct-horse-1!"
NEW = "Another-pass-9!"


def _user(store: objstore.Store, name: str = "pat") -> objstore.Client:
    """A user with a password, an access key and no policy, as a client."""
    iam = store.root.iam
    iam.create_user(name)
    iam.create_login_profile(name, OLD)
    key = iam.create_access_key(name)
    return store.client(key.access_key_id, key.secret_access_key)


def test_allowed_to_change_own_password_when_the_policy_says_so(store: objstore.Store) -> None:
    store.root.iam.update_account_password_policy(allow_users_to_change_password=True)
    pat = _user(store)
    assert pat.iam.get_account_password_policy().allow_users_to_change_password
    pat.iam.change_password(OLD, NEW)
    store.sign_in("pat", NEW)  # the new password is the one in force
    with pytest.raises(AccessDenied):
        store.sign_in("pat", OLD)
    # Nothing else comes with it.
    with pytest.raises(AccessDenied):
        pat.iam.list_users()
    with pytest.raises(AccessDenied):
        pat.iam.update_login_profile("pat", password="Third-pass-77!")


def test_denied_without_the_flag_unless_granted(store: objstore.Store) -> None:
    store.root.iam.update_account_password_policy(allow_users_to_change_password=False)
    pat = _user(store)
    with pytest.raises(AccessDenied) as denied:
        pat.iam.change_password(OLD, NEW)
    assert denied.value.details["action"] == "iam:ChangePassword"
    with pytest.raises(AccessDenied):
        pat.iam.get_account_password_policy()
    store.sign_in("pat", OLD)  # unchanged
    store.root.iam.put_user_policy("pat", "own", policy(allow("iam:ChangePassword")))
    pat.iam.change_password(OLD, NEW)
    store.sign_in("pat", NEW)


def test_no_password_policy_grants_nothing(store: objstore.Store) -> None:
    pat = _user(store)
    with pytest.raises(AccessDenied):
        pat.iam.change_password(OLD, NEW)


def test_the_flag_applies_from_the_next_request_both_ways(store: objstore.Store) -> None:
    """The grant is account-level state read with the caller's policies: switching it is an
    IAM write (a new generation), so a client built before sees it at once."""
    iam = store.root.iam
    pat = _user(store)
    with pytest.raises(AccessDenied):
        pat.iam.change_password(OLD, NEW)
    iam.update_account_password_policy(allow_users_to_change_password=True)
    pat.iam.change_password(OLD, NEW)
    iam.update_account_password_policy(allow_users_to_change_password=False)
    with pytest.raises(AccessDenied):
        pat.iam.change_password(NEW, OLD)
    iam.update_account_password_policy(allow_users_to_change_password=True)
    iam.delete_account_password_policy()
    with pytest.raises(AccessDenied):
        pat.iam.change_password(NEW, OLD)


def test_an_explicit_deny_and_a_boundary_still_limit_it(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.update_account_password_policy(allow_users_to_change_password=True)
    pat = _user(store)
    iam.put_user_policy("pat", "no", policy(deny("iam:ChangePassword")))
    with pytest.raises(AccessDenied):
        pat.iam.change_password(OLD, NEW)
    iam.delete_user_policy("pat", "no")
    bound = iam.create_policy("s3-only", policy(allow("s3:*")))
    iam.put_user_permissions_boundary("pat", bound.arn)
    with pytest.raises(AccessDenied):
        pat.iam.change_password(OLD, NEW)
    iam.delete_user_permissions_boundary("pat")
    pat.iam.change_password(OLD, NEW)


def test_a_sign_in_session_changes_its_password(store: objstore.Store) -> None:
    """The console case AWS documents the flag for."""
    store.root.iam.update_account_password_policy(allow_users_to_change_password=True)
    _user(store)
    session = store.sign_in("pat", OLD)
    session.iam.change_password(OLD, NEW)
    store.sign_in("pat", NEW)


def test_roles_get_nothing_from_it(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.update_account_password_policy(allow_users_to_change_password=True)
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{store.account_id}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    role = iam.create_role("r", trust)
    iam.create_user("assumer")
    iam.put_user_policy("assumer", "p", policy(allow("sts:AssumeRole", role.arn)))
    key = iam.create_access_key("assumer")
    assumer = store.client(key.access_key_id, key.secret_access_key)
    creds = assumer.sts.assume_role(role.arn, "sess")  # the root may not assume roles
    session = store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)
    with pytest.raises(AccessDenied):
        session.iam.get_account_password_policy()


def test_the_simulator_agrees(store: objstore.Store) -> None:
    iam = store.root.iam
    _user(store)
    arn = iam.get_user("pat").arn
    other = iam.create_user("other").arn

    def decisions() -> list[str]:
        results = iam.simulate_principal_policy(
            arn, ["iam:ChangePassword"], resource_arns=[arn, other]
        )
        return [r.eval_decision for r in results]

    assert decisions() == ["implicitDeny", "implicitDeny"]
    iam.update_account_password_policy(allow_users_to_change_password=True)
    assert decisions() == ["allowed", "implicitDeny"]
