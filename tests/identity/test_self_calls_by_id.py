"""A user acting on itself (``user_name=None``) acts on its own user, found by its unique id in
the operation's own transaction (review 7e H1, M1).

Regression: the operation acted on whichever user held the caller's *name* when it ran. An
administrator renaming the caller and giving the name to another user between the decision
and the operation handed the caller a key, a password, a device, the keys and the groups of
that user; a plain rename in that window made the call fail with NoSuchEntity. The hook on
``IamAuthorizer.decide`` only makes the window deterministic: it runs the administrator's
changes right after the call was decided, before the operation runs. Now the operation finds
the caller renamed and the engine decides and runs the call again as the user it is now.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

import objstore
from objstore.authz import AuthorizationRequest
from objstore.errors import AccessDenied, InvalidClientTokenId, NoSuchEntity
from objstore.identity import totp
from objstore.identity.authorizer import IamAuthorizer
from objstore.identity.results import VirtualMFADevice

from .helpers import allow, policy

FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
PASSWORD = "Old-alice-pass-1!"
NEW_PASSWORD = "Changed-pass-22!"
SELF = policy(
    allow(
        [
            "iam:CreateAccessKey",
            "iam:UpdateAccessKey",
            "iam:DeleteAccessKey",
            "iam:ListAccessKeys",
            "iam:CreateLoginProfile",
            "iam:ChangePassword",
            "iam:GetUser",
            "iam:ListGroupsForUser",
            "iam:ListMFADevices",
            "iam:EnableMFADevice",
            "iam:DeactivateMFADevice",
        ],
        "arn:aws:iam::*:user/*${aws:username}",  # any path
    )
)


@dataclass
class World:
    store: objstore.Store
    alice: objstore.Client  # from alice's own access key
    alice_id: str
    alice_key: str
    bob_key: str  # bob: full S3 access, in group admins, an MFA device, no password
    bob_device: str
    fired: list[str]


def _codes(device: VirtualMFADevice) -> tuple[str, str]:
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    return totp.hotp(seed, step - 1), totp.hotp(seed, step)


@pytest.fixture
def world() -> Iterator[World]:
    with objstore.open(None) as s:
        s.root.create_bucket("data")
        s.root.put_object("data", "secret", b"TOP SECRET")
        iam = s.root.iam
        alice_id = iam.create_user("alice").user_id
        iam.put_user_policy("alice", "self", SELF)
        iam.create_login_profile("alice", PASSWORD)
        key = iam.create_access_key("alice")
        iam.create_user("bob")
        iam.attach_user_policy("bob", FULL)
        iam.create_group("admins")
        iam.add_user_to_group("admins", "bob")
        bob_key = iam.create_access_key("bob").access_key_id
        device = iam.create_virtual_mfa_device("bobs")
        iam.enable_mfa_device("bob", device.serial_number, *_codes(device))
        client = s.client(key.access_key_id, key.secret_access_key)
        yield World(s, client, alice_id, key.access_key_id, bob_key, device.serial_number, fired=[])


def _after_decision(
    monkeypatch: pytest.MonkeyPatch, world: World, action: str, change: Callable[[], None]
) -> None:
    """Run ``change`` (as the root) right after alice's next call of ``action`` is decided."""
    real = IamAuthorizer.decide

    def decide(self: IamAuthorizer, request: AuthorizationRequest) -> object:
        out = real(self, request)
        mine = request.principal.user_id == world.alice_id
        if request.action == action and mine and not world.fired:
            world.fired.append(request.principal.arn)
            change()
        return out

    monkeypatch.setattr(IamAuthorizer, "decide", decide)


def _swap(monkeypatch: pytest.MonkeyPatch, world: World, action: str) -> None:
    """After the decision: alice renamed alice-old, and bob renamed alice (a privileged user
    now holds the name the call was decided for)."""

    def change() -> None:
        iam = world.store.root.iam
        iam.update_user("alice", new_user_name="alice-old")
        iam.update_user("bob", new_user_name="alice")

    _after_decision(monkeypatch, world, action, change)


def _done(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    assert world.fired == [f"arn:aws:iam::{world.store.account_id}:user/alice"]


def test_a_key_made_for_itself_is_the_callers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swap(monkeypatch, world, "iam:CreateAccessKey")
    got = world.alice.iam.create_access_key(None)
    _done(world, monkeypatch)
    iam = world.store.root.iam
    assert got.user_name == "alice-old"
    assert {k.access_key_id for k in iam.list_access_keys("alice-old")} == {
        world.alice_key,
        got.access_key_id,
    }
    assert [k.access_key_id for k in iam.list_access_keys("alice")] == [world.bob_key]
    made = world.store.client(got.access_key_id, got.secret_access_key)
    assert made.sts.get_caller_identity().user_id == world.alice_id
    with pytest.raises(AccessDenied):
        made.get_object("data", "secret")


def test_a_password_set_for_itself_is_the_callers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = world.store.root.iam
    iam.delete_login_profile("alice")
    _swap(monkeypatch, world, "iam:CreateLoginProfile")
    profile = world.alice.iam.create_login_profile(None, NEW_PASSWORD)
    _done(world, monkeypatch)
    assert profile.user_name == "alice-old"
    with pytest.raises(NoSuchEntity):
        iam.get_login_profile("alice")
    with pytest.raises(AccessDenied):
        world.store.sign_in("alice", NEW_PASSWORD)
    console = world.store.sign_in("alice-old", NEW_PASSWORD)
    assert console.sts.get_caller_identity().user_id == world.alice_id


def test_a_password_changed_by_itself_is_the_callers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bob has the same password: only the user acted on tells them apart.
    world.store.root.iam.create_login_profile("bob", PASSWORD)
    _swap(monkeypatch, world, "iam:ChangePassword")
    world.alice.iam.change_password(PASSWORD, NEW_PASSWORD)
    _done(world, monkeypatch)
    world.store.sign_in("alice-old", NEW_PASSWORD)
    with pytest.raises(AccessDenied):
        world.store.sign_in("alice", NEW_PASSWORD)


@pytest.mark.parametrize("action", ["iam:UpdateAccessKey", "iam:DeleteAccessKey"])
def test_the_keys_of_the_new_holder_of_its_name_are_not_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    _swap(monkeypatch, world, action)
    with pytest.raises(NoSuchEntity):
        if action == "iam:DeleteAccessKey":
            world.alice.iam.delete_access_key(None, world.bob_key)
        else:
            world.alice.iam.update_access_key(None, world.bob_key, "Inactive")
    _done(world, monkeypatch)
    [key] = world.store.root.iam.list_access_keys("alice")
    assert (key.access_key_id, key.status) == (world.bob_key, "Active")


def test_an_mfa_device_enabled_for_itself_is_the_callers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = world.store.root.iam.create_virtual_mfa_device("alices")
    _swap(monkeypatch, world, "iam:EnableMFADevice")
    world.alice.iam.enable_mfa_device(None, device.serial_number, *_codes(device))
    _done(world, monkeypatch)
    iam = world.store.root.iam
    assert [d.serial_number for d in iam.list_mfa_devices("alice-old")] == [device.serial_number]
    assert [d.serial_number for d in iam.list_mfa_devices("alice")] == [world.bob_device]


def test_the_device_of_the_new_holder_of_its_name_is_not_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swap(monkeypatch, world, "iam:DeactivateMFADevice")
    with pytest.raises(NoSuchEntity):
        world.alice.iam.deactivate_mfa_device(None, world.bob_device)
    _done(world, monkeypatch)
    assert [d.serial_number for d in world.store.root.iam.list_mfa_devices("alice")] == [
        world.bob_device
    ]


READS: dict[str, Callable[[objstore.Client], object]] = {
    "iam:GetUser": lambda c: c.iam.get_user(None).user_id,
    "iam:ListAccessKeys": lambda c: [k.access_key_id for k in c.iam.list_access_keys(None)],
    "iam:ListGroupsForUser": lambda c: [g.group_name for g in c.iam.list_groups_for_user(None)],
    "iam:ListMFADevices": lambda c: [d.serial_number for d in c.iam.list_mfa_devices(None)],
}


@pytest.mark.parametrize("action", sorted(READS))
def test_what_it_reads_of_itself_is_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    read = READS[action]
    before = read(world.alice)
    _swap(monkeypatch, world, action)
    assert read(world.alice) == before
    _done(world, monkeypatch)
    assert before in ([], [world.alice_key], world.alice_id)


# ---------------------------------------------------------------- M1: renames, moves, deletes


@pytest.mark.parametrize("new_path", [None, "/moved/"])
def test_a_rename_or_move_during_a_self_call_follows_the_user(
    world: World, monkeypatch: pytest.MonkeyPatch, new_path: str | None
) -> None:
    """Before: NoSuchEntity (the name was gone when the operation ran)."""
    iam = world.store.root.iam
    new_name = "alice" if new_path else "alicia"
    _after_decision(
        monkeypatch,
        world,
        "iam:GetUser",
        lambda: iam.update_user("alice", new_user_name=new_name, new_path=new_path),
    )
    user = world.alice.iam.get_user(None)
    _done(world, monkeypatch)
    arn = f"arn:aws:iam::{world.store.account_id}:user{new_path or '/'}{new_name}"
    assert (user.user_name, user.user_id, user.arn) == (new_name, world.alice_id, arn)
    # Decided again as the user it is now, and audited once, under that ARN.
    events = [e for e in iam.lookup_events() if e.operation == "GetUser"]
    assert [(e.principal, e.resource, e.outcome) for e in events] == [(arn, arn, "ok")]


def test_a_rename_during_a_self_call_that_makes_a_key(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = world.store.root.iam
    _after_decision(
        monkeypatch,
        world,
        "iam:CreateAccessKey",
        lambda: iam.update_user("alice", new_user_name="alicia"),
    )
    got = world.alice.iam.create_access_key(None)
    _done(world, monkeypatch)
    assert got.user_name == "alicia"
    assert {k.access_key_id for k in iam.list_access_keys("alicia")} == {
        world.alice_key,
        got.access_key_id,
    }


def test_a_user_deleted_during_a_self_call_is_refused_like_its_next_call(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console session of a user without keys: the user deleted after the decision. The
    call acts on nobody (before: NoSuchEntity for its old name, or whoever took it)."""
    iam = world.store.root.iam
    iam.create_user("carol")
    iam.put_user_policy("carol", "self", SELF)
    iam.create_login_profile("carol", PASSWORD)
    carol = world.store.sign_in("carol", PASSWORD)
    carol_id = carol.sts.get_caller_identity().user_id
    world.alice_id = carol_id  # the hook fires on carol's call

    def delete_and_recreate() -> None:
        iam.delete_login_profile("carol")
        iam.delete_user_policy("carol", "self")
        iam.delete_user("carol")
        iam.create_user("carol")

    _after_decision(monkeypatch, world, "iam:CreateAccessKey", delete_and_recreate)
    with pytest.raises(InvalidClientTokenId):
        carol.iam.create_access_key(None)
    monkeypatch.undo()
    assert world.fired
    assert iam.list_access_keys("carol") == []
