"""UpdateUser and UpdateGroup (rename, move: the id and everything attached follow, keys and
clients included; references to the old ARN stop matching) and UpdateRole (description,
longest session)."""

from __future__ import annotations

from pathlib import Path

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    NoSuchEntity,
    ValidationError,
)
from tests.identity.helpers import allow, policy, user_client
from tests.identity.test_iam_choke_point import codes
from tests.identity.test_tags import TRUST

B = "renames"
PASSWORD = "Correct-horse-1!"


def test_a_renamed_user_keeps_its_id_groups_policies_keys_and_password(
    store: objstore.Store,
) -> None:
    store.root.create_bucket(B)
    iam = store.root.iam
    before = iam.create_user("pat", tags={"team": "blue"})
    iam.create_group("devs")
    iam.add_user_to_group("devs", "pat")
    managed = iam.create_policy("put", policy(allow("s3:PutObject")))
    iam.attach_user_policy("pat", managed.arn)
    iam.put_group_policy("devs", "get", policy(allow("s3:GetObject")))
    iam.put_user_permissions_boundary("pat", iam.create_policy("s3", policy(allow("s3:*"))).arn)
    iam.create_login_profile("pat", PASSWORD)
    key = iam.create_access_key("pat")
    old_client = store.client(key.access_key_id, key.secret_access_key)
    old_client.put_object(B, "k", b"v")

    iam.update_user("pat", new_user_name="robin", new_path="/eng/")
    after = iam.get_user("ROBIN")
    assert (after.user_name, after.user_id, after.path) == ("robin", before.user_id, "/eng/")
    assert after.arn == f"arn:aws:iam::{store.account_id}:user/eng/robin"
    assert dict(after.tags) == {"team": "blue"}
    assert after.permissions_boundary is not None
    with pytest.raises(NoSuchEntity):
        iam.get_user("pat")
    assert [u.user_name for u in iam.get_group("devs").users] == ["robin"]
    assert [g.group_name for g in iam.list_groups_for_user("robin")] == ["devs"]
    assert [p.policy_arn for p in iam.list_attached_user_policies("robin")] == [managed.arn]
    assert iam.get_policy(managed.arn).attachment_count == 1
    with pytest.raises(DeleteConflict):
        iam.delete_policy(managed.arn)
    assert [(k.user_name, k.access_key_id) for k in iam.list_access_keys("robin")] == [
        ("robin", key.access_key_id)
    ]
    # The key works for the renamed user, in a client built before the rename too.
    assert old_client.get_object(B, "k").read() == b"v"
    assert old_client.sts.get_caller_identity().arn == after.arn
    client = store.client(key.access_key_id, key.secret_access_key)
    assert client.sts.get_caller_identity().arn == after.arn
    assert client.get_object(B, "k").read() == b"v"  # the group's policy
    client.put_object(B, "k2", b"w")  # the managed policy, within the boundary
    store.sign_in("robin", PASSWORD)
    with pytest.raises(AccessDenied):
        store.sign_in("pat", PASSWORD)


def test_a_renamed_user_keeps_its_mfa_devices(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.create_user("pat")
    device = iam.create_virtual_mfa_device("pat-phone")
    iam.enable_mfa_device("pat", device.serial_number, *codes(device))
    iam.update_user("pat", new_user_name="robin")
    [listed] = iam.list_mfa_devices("robin")
    assert (listed.user_name, listed.serial_number) == ("robin", device.serial_number)
    iam.deactivate_mfa_device("robin", device.serial_number)
    assert iam.list_mfa_devices("robin") == []


def test_rename_refusals_change_nothing(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.create_user("pat")
    iam.create_user("other")
    for name in ("other", "OTHER"):
        with pytest.raises(EntityAlreadyExists):
            iam.update_user("pat", new_user_name=name)
    for kwargs in ({"new_user_name": "no spaces"}, {"new_user_name": "x" * 65}, {"new_path": "a"}):
        with pytest.raises(ValidationError):
            iam.update_user("pat", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        iam.update_user("pat", new_user_name=7)  # type: ignore[arg-type]
    with pytest.raises(NoSuchEntity):
        iam.update_user("nobody", new_user_name="somebody")
    assert sorted(u.user_name for u in iam.list_users()) == ["other", "pat"]
    assert iam.get_user("pat").path == "/"
    # Only the case changes: the same entity, not a taken name.
    iam.update_user("pat", new_user_name="Pat")
    assert iam.get_user("pat").user_name == "Pat"
    iam.update_user("Pat")  # nothing to change
    assert iam.get_user("pat").user_name == "Pat"


def test_renaming_needs_the_permission_on_the_old_and_the_new_arn(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.create_user("pat", path="/team/")
    iam.create_group("devs", path="/team/")
    account = store.account_id
    admin = user_client(
        store,
        "admin",
        allow(
            ["iam:UpdateUser", "iam:UpdateGroup"],
            [f"arn:aws:iam::{account}:user/team/*", f"arn:aws:iam::{account}:group/team/*"],
        ),
    )
    for call in (
        lambda: admin.iam.update_user("pat", new_path="/elsewhere/"),
        lambda: admin.iam.update_group("devs", new_path="/elsewhere/"),
        lambda: admin.iam.update_user("admin", new_path="/team/"),  # the source is outside
    ):
        with pytest.raises(AccessDenied):
            call()
    assert iam.get_user("pat").path == "/team/"
    assert iam.get_user("admin").path == "/"
    admin.iam.update_user("pat", new_user_name="robin")
    admin.iam.update_group("devs", new_group_name="builders")
    assert iam.get_user("robin").arn == f"arn:aws:iam::{account}:user/team/robin"
    assert iam.get_group("builders").group.path == "/team/"


def test_a_renamed_group_keeps_its_id_members_and_policies(store: objstore.Store) -> None:
    store.root.create_bucket(B)
    iam = store.root.iam
    group = iam.create_group("devs")
    iam.create_group("ops")
    client = user_client(store, "pat")
    iam.add_user_to_group("devs", "pat")
    iam.put_group_policy("devs", "p", policy(allow("s3:PutObject")))
    managed = iam.create_policy("get", policy(allow("s3:GetObject")))
    iam.attach_group_policy("devs", managed.arn)
    with pytest.raises(EntityAlreadyExists):
        iam.update_group("devs", new_group_name="OPS")
    iam.update_group("devs", new_group_name="builders", new_path="/eng/")
    detail = iam.get_group("builders")
    assert (detail.group.group_id, detail.group.path) == (group.group_id, "/eng/")
    assert detail.group.arn.endswith(":group/eng/builders")
    assert [u.user_name for u in detail.users] == ["pat"]
    assert [g.group_name for g in iam.list_groups_for_user("pat")] == ["builders"]
    assert iam.list_group_policies("builders") == ["p"]
    assert [p.policy_arn for p in iam.list_attached_group_policies("builders")] == [managed.arn]
    with pytest.raises(NoSuchEntity):
        iam.get_group("devs")
    client.put_object(B, "k", b"v")  # the group's policies still reach its members
    client.get_object(B, "k").close()
    iam.remove_user_from_group("builders", "pat")
    with pytest.raises(AccessDenied):
        client.put_object(B, "k", b"v")


def test_update_role(store: objstore.Store) -> None:
    iam = store.root.iam
    role = iam.create_role("worker", TRUST, description="first")
    assumer = user_client(store, "assumer", allow("sts:AssumeRole", role.arn))  # not the root
    with pytest.raises(ValidationError):
        assumer.sts.assume_role(role.arn, "sess", duration_seconds=7200)
    iam.update_role("worker", max_session_duration=7200)
    got = iam.get_role("worker")
    assert (got.description, got.max_session_duration) == ("first", 7200)
    assumer.sts.assume_role(role.arn, "sess", duration_seconds=7200)
    iam.update_role("worker", description="second\tline\n")
    got = iam.get_role("worker")
    assert (got.description, got.max_session_duration) == ("second\tline\n", 7200)
    for kwargs, error in (
        ({"max_session_duration": 3599}, ValidationError),
        ({"max_session_duration": 43201}, ValidationError),
        ({"max_session_duration": "7200"}, InvalidInput),
        ({"description": "x" * 1001}, ValidationError),
        ({"description": "bell\x07"}, ValidationError),
        ({"description": 5}, InvalidInput),
    ):
        with pytest.raises(error):
            iam.update_role("worker", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(NoSuchEntity):
        iam.update_role("nobody", description="x")
    got = iam.get_role("worker")
    assert (got.role_id, got.description, got.max_session_duration) == (
        role.role_id,
        "second\tline\n",
        7200,
    )


def test_updates_survive_reopen(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as s:
        iam = s.root.iam
        user = iam.create_user("pat")
        iam.create_group("devs")
        iam.add_user_to_group("devs", "pat")
        iam.create_role("worker", TRUST)
        iam.update_user("pat", new_user_name="robin", new_path="/eng/")
        iam.update_group("devs", new_group_name="builders")
        iam.update_role("worker", description="d", max_session_duration=5400)
    with objstore.open(tmp_path / "s") as s:
        iam = s.root.iam
        got = iam.get_user("robin")
        assert (got.user_id, got.path) == (user.user_id, "/eng/")
        assert [u.user_name for u in iam.get_group("builders").users] == ["robin"]
        role = iam.get_role("worker")
        assert (role.description, role.max_session_duration) == ("d", 5400)
