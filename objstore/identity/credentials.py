"""Passwords and MFA: login profiles, the account password policy, virtual MFA devices,
and console-style sign-in.

Passwords are stored only as scrypt hashes (``passwords.py``) with a history for reuse
prevention; MFA seeds only sealed (``crypto.py``). A device's replay and lockout state is
written after every code checked, so a used code never works twice, in any process.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import secrets
from collections.abc import Callable
from typing import Any

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
    ObjstoreError,
)
from objstore.identity import passwords, repo, totp
from objstore.identity.base import PASSWORD_POLICY_RECORD, ROOT_RECORD, ServiceBase, when
from objstore.identity.names import check_name, check_str
from objstore.identity.repo import Record
from objstore.identity.results import LoginProfile, MFADevice, VirtualMFADevice
from objstore.meta.base import ReadTxn, WriteTxn

MAX_MFA_DEVICES = 8
# How often a password call prepares its login record outside the write before it does so
# inside it (see CredentialOps._store_login).
_LOGIN_ATTEMPTS = 3
_ROOT_KEY = (keyspace.IAM_ACCOUNT, ROOT_RECORD)
_LoginMaker = Callable[[Record, "passwords.PasswordPolicy | None"], Record]


@functools.cache
def _unusable_hash() -> str:
    """The hash of a password nobody knows (made once per process)."""
    return passwords.hash_password(secrets.token_urlsafe(32))


class _Stale(Exception):
    """What a password call prepared was read before a change: prepare it again."""


def _login_view(state: tuple[str | None, Record, object]) -> tuple[object, ...]:
    """What a prepared login record depends on: the user (name and id), its login record,
    the password policy."""
    user, holder, policy = state
    return user, holder.get("id"), holder.get("login"), policy


ROOT_NAME = "<root_account>"
# Console sessions last 12 hours.
SIGN_IN_SESSION_S = 12 * 3600


class CredentialOps(ServiceBase):
    """Login profiles, password policy, MFA devices, sign-in."""

    # ----------------------------------------------------------- records

    def _holder(self, txn: ReadTxn, user: str | None) -> tuple[Record, bytes, str]:
        if user is None:
            return self.root_record(txn), keyspace.IAM_ACCOUNT, ROOT_RECORD
        return self.need(txn, "user", user), keyspace.IAM_USER, user

    def password_policy(self, txn: ReadTxn) -> passwords.PasswordPolicy | None:
        raw = repo.get(txn, keyspace.IAM_ACCOUNT, PASSWORD_POLICY_RECORD)
        return None if raw is None else passwords.PasswordPolicy(**raw)

    # ------------------------------------------------------ password policy

    def update_account_password_policy(self, **fields: Any) -> None:
        """Replace the whole policy. Raises ValidationError."""
        policy = passwords.PasswordPolicy.from_update(**fields)
        with self.repo.write() as txn:
            repo.put(txn, keyspace.IAM_ACCOUNT, PASSWORD_POLICY_RECORD, dataclasses.asdict(policy))

    def get_account_password_policy(self) -> passwords.PasswordPolicy:
        """Raises NoSuchEntity when the account has none."""
        with self.repo.read() as txn:
            found = self.password_policy(txn)
        if found is None:
            raise NoSuchEntity("The Password Policy with domain name objstore cannot be found.")
        return found

    def delete_account_password_policy(self) -> None:
        with self.repo.write() as txn:
            if repo.get(txn, keyspace.IAM_ACCOUNT, PASSWORD_POLICY_RECORD) is None:
                raise NoSuchEntity("The account has no password policy.")
            repo.delete(txn, keyspace.IAM_ACCOUNT, PASSWORD_POLICY_RECORD)

    # -------------------------------------------------------- login profile

    def _new_login(
        self,
        holder: Record,
        password: object,
        reset_required: bool,
        policy: passwords.PasswordPolicy | None,
    ) -> Record:
        """``holder``'s login record with ``password`` set. Slow: a scrypt hash, and one
        more per remembered password the policy's reuse prevention compares. Raises
        ValidationError, PasswordPolicyViolation."""
        text = passwords.validate_password_input(password)
        login = holder.get("login") or {}
        history = tuple(login.get("history", ()))
        passwords.check_password(
            policy if holder.get("name") else None,
            text,
            history,
            account_name=None if holder.get("name") else self.account,
        )
        digest = passwords.hash_password(text)
        now = self.clock()
        return {
            "hash": digest,
            "created": login.get("created", now),
            "changed": now,
            "reset_required": bool(reset_required),
            "history": list(passwords.remember_password(history, digest)),
        }

    def _store_login(
        self, caller: Identity, user_name: str | None, make: _LoginMaker
    ) -> tuple[str | None, Record]:
        """Set the login record ``make`` makes from the holder's record and the password
        policy; return the user's name (None: the root) and that record.

        ``make`` hashes (and verifies) passwords: it runs on what a read found, with no
        write open, so password calls (a self-service change with a wrong old password
        included) do not hold the store's one writer during scrypt. The write then stores
        its result only if the user (by id), its login record and the policy are still
        what it saw; else it runs again, the last time inside the write. Raises what
        ``make`` raises, and what :meth:`acted_on` and :meth:`_holder` raise.
        """
        for attempt in range(_LOGIN_ATTEMPTS):
            inside = attempt == _LOGIN_ATTEMPTS - 1
            if not inside:
                with self.repo.read() as txn:
                    seen = self._login_state(txn, caller, user_name)
                made = make(seen[1], seen[2])
            try:
                with self.repo.write() as txn:
                    now = self._login_state(txn, caller, user_name)
                    if inside:
                        made = make(now[1], now[2])
                    elif _login_view(now) != _login_view(seen):
                        raise _Stale
                    user, holder, _ = now
                    holder["login"] = made
                    prefix, key = (keyspace.IAM_USER, user) if user else _ROOT_KEY
                    repo.put(txn, prefix, key, holder)
                    return user, made
            except _Stale:
                continue
        raise AssertionError("unreachable: the last attempt runs inside the write")

    def _login_state(
        self, txn: ReadTxn, caller: Identity, user_name: str | None
    ) -> tuple[str | None, Record, passwords.PasswordPolicy | None]:
        user = self.acted_on(txn, caller, user_name)
        holder, _, _ = self._holder(txn, user)
        return user, holder, self.password_policy(txn)

    def create_login_profile(
        self,
        user_name: str | None,
        password: str,
        password_reset_required: bool,
        caller: Identity,
    ) -> LoginProfile:
        """Raises EntityAlreadyExists, NoSuchEntity, PasswordPolicyViolation."""

        def make(holder: Record, policy: passwords.PasswordPolicy | None) -> Record:
            if holder.get("login"):
                raise EntityAlreadyExists("The login profile already exists.")
            return self._new_login(holder, password, password_reset_required, policy)

        user, login = self._store_login(caller, user_name, make)
        return LoginProfile(user or ROOT_NAME, when(login["created"]), login["reset_required"])

    def update_login_profile(
        self,
        user_name: str | None,
        password: str | None,
        password_reset_required: bool | None,
        caller: Identity,
    ) -> None:
        """An administrator's reset. Raises NoSuchEntity, PasswordPolicyViolation."""

        def make(holder: Record, policy: passwords.PasswordPolicy | None) -> Record:
            login = holder.get("login")
            if not login:
                raise NoSuchEntity("The user has no login profile.")
            reset = login["reset_required"] if password_reset_required is None else (
                bool(password_reset_required)
            )  # fmt: skip
            if password is not None:
                login = self._new_login(holder, password, reset, policy)
            return {**login, "reset_required": reset}

        self._store_login(caller, user_name, make)

    def get_login_profile(self, user_name: str | None, caller: Identity) -> LoginProfile:
        with self.repo.read() as txn:
            user = self.acted_on(txn, caller, user_name)
            holder, _, _ = self._holder(txn, user)
        login = holder.get("login")
        if not login:
            raise NoSuchEntity("The user has no login profile.")
        return LoginProfile(user or ROOT_NAME, when(login["created"]), login["reset_required"])

    def delete_login_profile(self, user_name: str | None, caller: Identity) -> None:
        with self.repo.write() as txn:
            user = self.acted_on(txn, caller, user_name)
            holder, prefix, key = self._holder(txn, user)
            if not holder.get("login"):
                raise NoSuchEntity("The user has no login profile.")
            holder["login"] = None
            repo.put(txn, prefix, key, holder)

    def change_password(self, old_password: str, new_password: str, caller: Identity) -> None:
        """The caller changes its own password. Raises AccessDenied (wrong old password,
        or no password), PasswordPolicyViolation."""

        def make(holder: Record, policy: passwords.PasswordPolicy | None) -> Record:
            login = holder.get("login")
            if not login or not passwords.verify_password(str(old_password), login["hash"]):
                raise AccessDenied("The old password is not correct.")
            return self._new_login(holder, new_password, False, policy)

        self._store_login(caller, None, make)

    # ---------------------------------------------------------- MFA devices

    def create_virtual_mfa_device(
        self, virtual_mfa_device_name: str, path: str = "/"
    ) -> VirtualMFADevice:
        """Raises EntityAlreadyExists."""
        name = check_name(virtual_mfa_device_name, "virtual_mfa_device_name", 226)
        seed = totp.new_seed()
        serial = f"arn:aws:iam::{self.account}:mfa/{name}"
        b32 = totp.seed_to_base32(seed)
        with self.repo.write() as txn:
            if repo.get(txn, keyspace.IAM_MFA, name) is not None:
                raise EntityAlreadyExists(
                    f"MFADevice entity at the same path and name exists: {name}"
                )
            repo.put(
                txn,
                keyspace.IAM_MFA,
                name,
                {
                    "name": name,
                    "serial": serial,
                    "seed": base64.b64encode(self.box.seal(seed, serial.encode())).decode(),
                    "created": self.clock(),
                    "user": None,
                    "enabled": None,
                    "state": None,
                },
            )
        return VirtualMFADevice(serial, b32, totp.otpauth_uri(b32, self.account, name))

    def _device(self, txn: ReadTxn, serial_number: object) -> Record:
        serial = check_str(serial_number, "serial_number")
        head = f"arn:aws:iam::{self.account}:mfa/"
        rec = None
        if serial.startswith(head):
            rec = repo.get(txn, keyspace.IAM_MFA, serial[len(head) :].rsplit("/", 1)[-1])
        if rec is None or rec["serial"] != serial:
            raise NoSuchEntity(f"MFA device {serial} does not exist.")
        return rec

    def _seed(self, rec: Record) -> bytes:
        return self.box.open(base64.b64decode(rec["seed"]), rec["serial"].encode())

    def enable_mfa_device(
        self,
        user_name: str | None,
        serial_number: str,
        authentication_code1: str,
        authentication_code2: str,
        caller: Identity,
    ) -> None:
        """Raises NoSuchEntity, EntityAlreadyExists (device in use), InvalidAuthenticationCode,
        LimitExceeded (8 devices)."""
        with self.repo.write() as txn:
            user = self.acted_on(txn, caller, user_name)
            rec = self._device(txn, serial_number)
            if rec["enabled"] is not None:
                raise EntityAlreadyExists("The MFA device is already enabled.")
            holder, prefix, key = self._holder(txn, user)
            if len(holder.get("mfa", [])) >= MAX_MFA_DEVICES:
                raise LimitExceeded(f"at most {MAX_MFA_DEVICES} MFA devices")
            state = totp.verify_enable_codes(
                self._seed(rec),
                check_str(authentication_code1, "authentication_code1"),
                check_str(authentication_code2, "authentication_code2"),
                self.clock() / 1e9,
            )
            rec["enabled"] = self.clock()
            rec["user"] = user or ROOT_NAME
            rec["state"] = dataclasses.asdict(state)
            holder.setdefault("mfa", []).append(rec["serial"])
            repo.put(txn, keyspace.IAM_MFA, rec["name"], rec)
            repo.put(txn, prefix, key, holder)

    def deactivate_mfa_device(
        self, user_name: str | None, serial_number: str, caller: Identity
    ) -> None:
        """Raises NoSuchEntity."""
        with self.repo.write() as txn:
            user = self.acted_on(txn, caller, user_name)
            rec = self._device(txn, serial_number)
            holder, prefix, key = self._holder(txn, user)
            if rec["serial"] not in holder.get("mfa", []):
                raise NoSuchEntity("The MFA device is not enabled for this user.")
            holder["mfa"].remove(rec["serial"])
            rec.update(enabled=None, user=None, state=None)
            repo.put(txn, keyspace.IAM_MFA, rec["name"], rec)
            repo.put(txn, prefix, key, holder)

    def delete_virtual_mfa_device(self, serial_number: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (still enabled for a user: AWS's error for a
        device not deactivated first)."""
        with self.repo.write() as txn:
            rec = self._device(txn, serial_number)
            if rec["enabled"] is not None:
                raise DeleteConflict(
                    f"The MFA device {rec['serial']} is still enabled for {rec['user']}: "
                    "deactivate it first."
                )
            repo.delete(txn, keyspace.IAM_MFA, rec["name"])

    def list_mfa_devices(self, user_name: str | None, caller: Identity) -> list[MFADevice]:
        with self.repo.read() as txn:
            user = self.acted_on(txn, caller, user_name)
            holder, _, _ = self._holder(txn, user)
            recs = [self._device(txn, s) for s in holder.get("mfa", [])]
        return [MFADevice(r["user"], r["serial"], when(r["enabled"])) for r in recs]

    def check_mfa(self, txn: WriteTxn, holder: Record, code: object) -> bool | None:
        """Whether ``code`` is a fresh code of one of the holder's devices.

        False when the holder has no device, None when the code is missing, wrong, reused
        or the device locked out. The devices' replay and lockout state is written to
        ``txn`` either way: the caller commits it even when it then refuses.
        """
        serials = holder.get("mfa") or []
        if not serials:
            return False
        if not isinstance(code, str):
            return None
        now = self.clock() / 1e9
        for serial in serials:
            rec = self._device(txn, serial)
            state = totp.MfaDeviceState(**(rec["state"] or {}))
            verdict = totp.check_code(self._seed(rec), code, state, now)
            rec["state"] = dataclasses.asdict(verdict.state)
            repo.put(txn, keyspace.IAM_MFA, rec["name"], rec)
            if verdict.accepted:
                return True
        return None

    # --------------------------------------------------------------- sign-in

    def sign_in(
        self, user_name: str, password: str, mfa_code: str | None, new_password: str | None
    ) -> Identity:
        """The identity of a console sign-in.

        ``user_name`` ``"root"`` signs in as the account root. Raises AccessDenied (unknown
        user, wrong password, no login profile, expired password without ``new_password``,
        hard-expired password), InvalidAuthenticationCode (MFA code missing, wrong, reused or
        locked out), PasswordPolicyViolation (``new_password``).
        """
        refused = AccessDenied("Your authentication information is incorrect.")
        if not isinstance(user_name, str) or not isinstance(password, str):
            raise refused
        user = None if user_name == "root" else user_name
        now_ns = self.clock()
        # The password is checked against a read, outside any write: scrypt takes tens of
        # milliseconds, and a wrong password (all it takes is a user name) must not hold the
        # store's one writer. A wrong password writes nothing.
        with self.repo.read() as txn:
            try:
                seen, _, _ = self._holder(txn, user)
            except NoSuchEntity:
                seen = {}
            policy_read = self.password_policy(txn) if user is not None else None
        login = seen.get("login")
        # A name without a password costs the same scrypt as a wrong password, so how long
        # a refusal takes does not tell which user names exist or have a password.
        stored = login["hash"] if login else _unusable_hash()
        if not passwords.verify_password(password, stored) or not login:
            raise refused
        checked = login["hash"]
        # A required change's new password is hashed (and checked against the policy and
        # the remembered passwords: more scrypt) on the read too, before any MFA code is
        # looked at; the write takes it only if the policy is still the one it was checked
        # against.
        new_login = self._new_login_if(seen, login, new_password, policy_read, now_ns)
        # What a sign-in records (device replay and lockout state, even when it then fails;
        # last use; a required password change) decides nothing: written without bumping
        # the generation, so every process keeps its compiled policies.
        with self.repo.meta.begin_write() as txn:
            try:
                holder, prefix, key = self._holder(txn, user)
            except NoSuchEntity:
                raise refused from None
            login = holder.get("login") or {}
            if holder.get("id") != seen.get("id") or login.get("hash") != checked:
                # Another user under the name now, or its password changed or removed since
                # it was checked: the password checked is not this one's.
                raise refused
            policy = self.password_policy(txn) if user is not None else None
            if new_login is not None and policy != policy_read:
                new_login = self._new_login(holder, new_password, False, policy)
            status = passwords.expiry_status(now_ns / 1e9, login["changed"] / 1e9, policy)
            if status is passwords.PasswordExpiry.HARD_EXPIRED:
                raise AccessDenied("The password has expired; an administrator must reset it.")
            mfa = self.check_mfa(txn, holder, mfa_code)
            # A refusal after the code was checked commits the devices' state first: a code
            # is accepted at most once, also by a sign-in that then fails (and a wrong one
            # counts toward the lockout).
            failure: ObjstoreError | None
            if mfa is None:
                failure = InvalidAuthenticationCode(
                    "The MFA code is not valid (or was already used)."
                )
            else:
                failure = self._signed_in(
                    txn, holder, prefix, key, login, status, new_login, now_ns
                )
        if failure is not None:
            raise failure
        if user is None:
            base = Identity.root(self.account)
        else:
            base = Identity(
                self.entity_arn("user", holder),
                self.account,
                "user",
                holder["name"],
                holder["id"],
                dict(holder.get("tags", {})),
            )
        now_s = now_ns // 1_000_000_000
        return dataclasses.replace(
            base,
            token_issued_at=now_s,
            expires_at=now_s + SIGN_IN_SESSION_S,
            mfa_authenticated_at=now_s if mfa else None,
        )

    def _signed_in(
        self,
        txn: WriteTxn,
        holder: Record,
        prefix: bytes,
        key: str,
        login: Record,
        status: passwords.PasswordExpiry,
        new_login: Record | None,
        now_ns: int,
    ) -> ObjstoreError | None:
        """The writes of a successful sign-in: a required password change (``new_login``,
        made from ``new_password`` beforehand), last use. Returns the refusal to raise
        after the commit, if the change is required and no new password was given."""
        must_change = status is passwords.PasswordExpiry.EXPIRED or login["reset_required"]
        if must_change:
            if new_login is None:
                return AccessDenied("The password must be changed: pass new_password.")
            holder["login"] = new_login
        holder["password_last_used"] = now_ns
        repo.put(txn, prefix, key, holder)
        return None

    def _new_login_if(
        self,
        seen: Record,
        login: Record,
        new_password: str | None,
        policy: passwords.PasswordPolicy | None,
        now_ns: int,
    ) -> Record | None:
        """The login record a sign-in's required change makes, when one is required by
        what the read found and ``new_password`` is given (else None). Raises
        ValidationError, PasswordPolicyViolation."""
        status = passwords.expiry_status(now_ns / 1e9, login["changed"] / 1e9, policy)
        required = status is passwords.PasswordExpiry.EXPIRED or login["reset_required"]
        if new_password is None or not required:
            return None
        return self._new_login(seen, new_password, False, policy)
