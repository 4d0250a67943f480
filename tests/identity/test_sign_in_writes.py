"""What a console sign-in holds and writes (review 7e M3, L2).

M3: the password was verified with scrypt inside the store's write transaction, so wrong
passwords (all they take is a user name) stalled every write of the store. It is now verified
against a read, with no write open; the write that follows re-checks that the user (by id) and
its password are still the ones checked.

L2: every successful sign-in and every failed MFA sign-in bumped the IAM generation, which
makes every process reload and recompile its policies. What a sign-in records (last use,
device replay and lockout state) decides nothing and no longer bumps it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    InvalidAuthenticationCode,
    PasswordPolicyViolation,
)
from objstore.identity import passwords, totp

PASSWORD = "Zq9!unique-Passw0rd"
OTHER = "Another-pass-9!"


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        s.root.iam.create_user("alice")
        s.root.iam.create_login_profile("alice", PASSWORD)
        yield s


def _generation(store: objstore.Store) -> int:
    return store.identity.repo.generation()


@pytest.fixture
def writes_open(store: objstore.Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[n]``: how many write transactions of the store's metadata are open right now."""
    meta = store.identity.repo.meta
    real = meta.begin_write
    count = [0]

    @contextmanager
    def begin_write() -> Iterator[Any]:
        with real() as txn:
            count[0] += 1
            try:
                yield txn
            finally:
                count[0] -= 1

    monkeypatch.setattr(meta, "begin_write", begin_write)
    return count


def _on_verify(
    monkeypatch: pytest.MonkeyPatch, writes_open: list[int], then: Callable[[], None]
) -> list[int]:
    """Run ``then`` (an administrator's writes) right after the first password verification
    (which must not be inside a write: the administrator's would wait for it forever)."""
    real = passwords.verify_password
    calls: list[int] = []

    def verify(password: str, stored: str) -> bool:
        ok = real(password, stored)
        calls.append(1)
        assert writes_open[0] == 0, "the password was verified inside a write transaction"
        if len(calls) == 1:
            then()
        return ok

    monkeypatch.setattr(passwords, "verify_password", verify)
    return calls


def _sign_in_refused_while_verified(
    store: objstore.Store,
    monkeypatch: pytest.MonkeyPatch,
    writes_open: list[int],
    then: Callable[[], None],
) -> None:
    """alice signs in with PASSWORD while ``then`` runs right after its verification: the
    sign-in is refused (AccessDenied). Nothing is patched afterwards."""
    calls = _on_verify(monkeypatch, writes_open, then)
    with pytest.raises(AccessDenied):
        store.sign_in("alice", PASSWORD)
    assert calls
    monkeypatch.undo()


def test_no_write_is_open_while_a_password_is_verified(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    seen: list[int] = []
    real = passwords.verify_password

    def verify(password: str, stored: str) -> bool:
        seen.append(writes_open[0])
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", verify)
    with pytest.raises(AccessDenied):
        store.sign_in("alice", "wrong-password-1!")
    store.sign_in("alice", PASSWORD)
    with pytest.raises(AccessDenied):
        store.sign_in("root", "wrong-password-1!")
    store.root.iam.create_login_profile(None, PASSWORD)
    store.sign_in("root", PASSWORD)
    assert seen == [0, 0, 0, 0]


def test_a_wrong_password_writes_nothing(store: objstore.Store) -> None:
    before = _generation(store)
    with pytest.raises(AccessDenied):
        store.sign_in("alice", "wrong-password-1!")
    assert _generation(store) == before
    assert store.root.iam.get_user("alice").password_last_used is None


def test_a_password_changed_while_verified_is_refused(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    iam = store.root.iam

    def change() -> None:
        iam.update_login_profile("alice", password=OTHER)

    _sign_in_refused_while_verified(store, monkeypatch, writes_open, change)
    assert iam.get_user("alice").password_last_used is None
    store.sign_in("alice", OTHER)


def test_a_user_replaced_while_its_password_is_verified_is_refused(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    iam = store.root.iam

    def replace() -> None:
        iam.update_user("alice", new_user_name="alice-old")
        iam.create_user("alice")
        iam.create_login_profile("alice", PASSWORD)

    _sign_in_refused_while_verified(store, monkeypatch, writes_open, replace)
    assert iam.get_user("alice").password_last_used is None
    assert iam.get_user("alice-old").password_last_used is None


def test_a_sign_in_records_its_use_without_a_new_generation(store: objstore.Store) -> None:
    before = _generation(store)
    console = store.sign_in("alice", PASSWORD)
    assert _generation(store) == before
    assert store.root.iam.get_user("alice").password_last_used is not None
    assert console.sts.get_caller_identity().arn.endswith(":user/alice")


def test_a_required_password_change_at_sign_in_is_kept(store: objstore.Store) -> None:
    store.root.iam.update_login_profile("alice", password_reset_required=True)
    with pytest.raises(AccessDenied):
        store.sign_in("alice", PASSWORD)
    store.sign_in("alice", PASSWORD, new_password=OTHER)
    store.sign_in("alice", OTHER)
    with pytest.raises(AccessDenied):
        store.sign_in("alice", PASSWORD)


def _enable_mfa(store: objstore.Store) -> tuple[bytes, int]:
    """Enable a virtual MFA device for alice; its seed and the current time step."""
    iam = store.root.iam
    device = iam.create_virtual_mfa_device("alices")
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    iam.enable_mfa_device(
        "alice", device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
    )
    return seed, step


def test_mfa_sign_ins_record_device_state_without_a_new_generation(
    store: objstore.Store,
) -> None:
    seed, step = _enable_mfa(store)
    before = _generation(store)
    with pytest.raises(InvalidAuthenticationCode):
        store.sign_in("alice", PASSWORD, mfa_code=_wrong_code(seed, step))
    code = totp.hotp(seed, step + 1)
    store.sign_in("alice", PASSWORD, mfa_code=code)
    # The code is used up, in every process: the device state was written.
    with pytest.raises(InvalidAuthenticationCode):
        store.sign_in("alice", PASSWORD, mfa_code=code)
    assert _generation(store) == before


def _wrong_code(seed: bytes, step: int) -> str:
    near = {totp.hotp(seed, step + d) for d in range(-2, 4)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


# ------------------------------------------ password calls: no scrypt inside a write either


def _hashes_seen(monkeypatch: pytest.MonkeyPatch, writes_open: list[int]) -> list[int]:
    """The open writes at each password hash or verification."""
    seen: list[int] = []
    for name in ("verify_password", "hash_password"):
        real = getattr(passwords, name)

        def spy(*args: Any, _real: Any = real, **kw: Any) -> Any:
            seen.append(writes_open[0])
            return _real(*args, **kw)

        monkeypatch.setattr(passwords, name, spy)
    return seen


def test_password_calls_hash_with_no_write_open(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    iam = store.root.iam
    iam.update_account_password_policy(
        minimum_password_length=8, password_reuse_prevention=3, allow_users_to_change_password=True
    )
    key = iam.create_access_key("alice")
    alice = store.client(key.access_key_id, key.secret_access_key)
    seen = _hashes_seen(monkeypatch, writes_open)
    with pytest.raises(AccessDenied):
        alice.iam.change_password("wrong-password-1!", OTHER)
    alice.iam.change_password(PASSWORD, OTHER)
    iam.update_login_profile("alice", password=PASSWORD + "x")
    iam.create_user("bob")
    iam.create_login_profile("bob", PASSWORD)
    assert seen and set(seen) == {0}
    monkeypatch.undo()
    store.sign_in("alice", PASSWORD + "x")
    store.sign_in("bob", PASSWORD)


def test_a_password_reset_while_a_change_is_prepared_wins(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    iam = store.root.iam
    iam.update_account_password_policy(allow_users_to_change_password=True)
    key = iam.create_access_key("alice")
    alice = store.client(key.access_key_id, key.secret_access_key)

    def reset() -> None:
        iam.update_login_profile("alice", password=OTHER)

    calls = _on_verify(monkeypatch, writes_open, reset)
    # Verified against the old password, then found reset: prepared again, and the old
    # password is no longer the one.
    with pytest.raises(AccessDenied):
        alice.iam.change_password(PASSWORD, "Third-pass-77!")
    assert len(calls) >= 2
    monkeypatch.undo()
    store.sign_in("alice", OTHER)


def test_an_unknown_name_costs_a_password_verification_like_a_wrong_password(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the time a refusal takes does not tell which names exist (counted, not timed)."""
    store.root.iam.create_user("nopass")
    real = passwords.verify_password
    calls: list[str] = []

    def verify(password: str, stored: str) -> bool:
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", verify)
    for name in ("alice", "nobody", "nopass", "root"):
        with pytest.raises(AccessDenied) as refused:
            store.sign_in(name, "wrong-password-1!")
        assert str(refused.value) == "AccessDenied: Your authentication information is incorrect."
    assert calls == ["wrong-password-1!"] * 4


# ------------------------------- a required change at sign-in (review 7g M1 and L2)


def test_a_required_change_at_sign_in_hashes_with_no_write_open(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    """The new password's scrypt hash and its comparisons with the remembered passwords
    ran inside the write: a user retrying a refused change stalled every write."""
    iam = store.root.iam
    iam.update_account_password_policy(minimum_password_length=8, password_reuse_prevention=3)
    iam.update_login_profile("alice", password_reset_required=True)
    seen = _hashes_seen(monkeypatch, writes_open)
    with pytest.raises(PasswordPolicyViolation):
        store.sign_in("alice", PASSWORD, new_password=PASSWORD)  # a remembered one
    store.sign_in("alice", PASSWORD, new_password=OTHER)
    assert len(seen) >= 4 and set(seen) == {0}
    monkeypatch.undo()
    store.sign_in("alice", OTHER)


def test_a_policy_changed_while_a_new_password_is_prepared_applies(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, writes_open: list[int]
) -> None:
    iam = store.root.iam
    iam.update_login_profile("alice", password_reset_required=True)

    def tighten() -> None:
        iam.update_account_password_policy(minimum_password_length=40)

    calls = _on_verify(monkeypatch, writes_open, tighten)
    with pytest.raises(PasswordPolicyViolation):
        store.sign_in("alice", PASSWORD, new_password=OTHER)
    assert calls
    monkeypatch.undo()
    with pytest.raises(AccessDenied):
        store.sign_in("alice", OTHER)


def test_an_mfa_code_is_used_up_by_a_sign_in_that_then_fails(store: objstore.Store) -> None:
    """A code accepted by a sign-in refused for a required password change was not
    recorded (the refusal rolled the device state back), so it signed in again later."""
    store.root.iam.update_login_profile("alice", password_reset_required=True)
    seed, step = _enable_mfa(store)
    code = totp.hotp(seed, step + 1)
    # A new password the policy refuses is refused before the code is looked at: the code
    # is still fresh afterwards.
    with pytest.raises(PasswordPolicyViolation):
        store.sign_in("alice", PASSWORD, mfa_code=code, new_password="x")
    with pytest.raises(AccessDenied, match="must be changed"):
        store.sign_in("alice", PASSWORD, mfa_code=code)
    # That refusal came after the code was accepted: it is used up.
    with pytest.raises(InvalidAuthenticationCode):
        store.sign_in("alice", PASSWORD, mfa_code=code, new_password=OTHER)
    # No refused sign-in changed the password.
    assert store.root.iam.get_login_profile("alice").password_reset_required
