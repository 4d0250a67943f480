"""The seed document's tour, end to end: MFA on the root, user yash, group HR with a
managed policy, a role for EC2 with AmazonS3FullAccess, the simulator agreeing with real
calls; and the sign-in rules around it (passwords, MFA codes once each, expiry)."""

from __future__ import annotations

import json
import time

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAuthenticationCode,
    PasswordPolicyViolation,
)
from objstore.identity import totp

from .helpers import allow, policy

ROOT_PASSWORD = "Root-Secret-123!"


def code_at(seed_b32: str, offset: int) -> str:
    seed = totp.seed_from_base32(seed_b32)
    return totp.hotp(seed, totp.time_step(time.time()) + offset)


def test_the_seed_tour() -> None:
    with objstore.open(None) as store:
        root = store.root
        iam = root.iam
        # Add MFA for the root user.
        iam.create_login_profile(None, ROOT_PASSWORD)
        device = iam.create_virtual_mfa_device("root-mfa")
        assert device.serial_number == f"arn:aws:iam::{store.account_id}:mfa/root-mfa"
        assert device.qr_code_uri.startswith("otpauth://totp/")
        seed = device.base32_string_seed
        # Codes computed once: computed again after a 30 s step boundary they would be
        # the next step's, fresh codes (the CI run of session 17 crossed one).
        first, second = code_at(seed, -1), code_at(seed, 0)
        iam.enable_mfa_device(None, device.serial_number, first, second)
        assert [d.serial_number for d in iam.list_mfa_devices()] == [device.serial_number]
        with pytest.raises(InvalidAuthenticationCode):
            store.sign_in("root", ROOT_PASSWORD)
        with pytest.raises(InvalidAuthenticationCode):
            store.sign_in("root", ROOT_PASSWORD, mfa_code=second)  # already used
        with pytest.raises(AccessDenied):
            store.sign_in("root", "wrong", mfa_code=code_at(seed, 1))
        code = code_at(seed, 1)
        console = store.sign_in("root", ROOT_PASSWORD, mfa_code=code)
        assert console.identity.kind == "root" and console.identity.mfa_authenticated_at
        with pytest.raises(InvalidAuthenticationCode):  # every code works once
            store.sign_in("root", ROOT_PASSWORD, mfa_code=code)

        # A user, a group with a managed policy.
        console.create_bucket("hr-docs")
        console.put_object("hr-docs", "handbook.txt", b"rules")
        yash = iam.create_user("yash")
        iam.create_group("HR")
        hr = iam.create_policy(
            "HRRead",
            policy(
                allow(
                    ["s3:GetObject", "s3:ListBucket"],
                    ["arn:aws:s3:::hr-docs", "arn:aws:s3:::hr-docs/*"],
                )
            ),
        )
        iam.attach_group_policy("HR", hr.arn)
        iam.add_user_to_group("HR", "yash")
        assert [g.group_name for g in iam.list_groups_for_user("yash")] == ["HR"]

        # A role a service (EC2) may assume, with AmazonS3FullAccess.
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        role = iam.create_role("ec2-s3", trust)
        iam.attach_role_policy(role.role_name, "arn:aws:iam::aws:policy/AmazonS3FullAccess")
        (full,) = iam.simulate_principal_policy(role.arn, ["s3:DeleteBucket"])
        assert full.allowed

        # The simulator for yash shows the decisions real calls get.
        key = iam.create_access_key("yash")
        client = store.client(key.access_key_id, key.secret_access_key)
        asked = {
            "s3:GetObject": lambda: client.get_object("hr-docs", "handbook.txt").close(),
            "s3:PutObject": lambda: client.put_object("hr-docs", "new.txt", b"x"),
            "s3:DeleteObject": lambda: client.delete_object("hr-docs", "handbook.txt"),
        }
        results = iam.simulate_principal_policy(
            yash.arn, list(asked), resource_arns=["arn:aws:s3:::hr-docs/handbook.txt"]
        )
        for result in results:
            try:
                asked[result.eval_action_name]()
                live = True
            except AccessDenied:
                live = False
            assert live == result.allowed, result.eval_action_name
        assert [r.allowed for r in results] == [True, False, False]


def test_password_policy_and_user_sign_in() -> None:
    with objstore.open(None) as store:
        iam = store.root.iam
        iam.update_account_password_policy(
            minimum_password_length=10, require_numbers=True, password_reuse_prevention=2
        )
        assert iam.get_account_password_policy().minimum_password_length == 10
        iam.create_user("ann")
        with pytest.raises(PasswordPolicyViolation):
            iam.create_login_profile("ann", "short1")
        iam.create_login_profile("ann", "long-enough-1", password_reset_required=True)
        with pytest.raises(AccessDenied):
            store.sign_in("ann", "long-enough-1")  # must choose a new one
        with pytest.raises(PasswordPolicyViolation):
            store.sign_in("ann", "long-enough-1", new_password="long-enough-1")  # reused
        session = store.sign_in("ann", "long-enough-1", new_password="long-enough-2")
        assert session.identity.name == "ann"
        assert session.identity.mfa_authenticated_at is None
        iam.put_user_policy("ann", "own", policy(allow("iam:ChangePassword")))
        session.iam.change_password("long-enough-2", "long-enough-3")
        with pytest.raises(AccessDenied):
            session.iam.change_password("wrong-old-1", "long-enough-4")
        store.sign_in("ann", "long-enough-3")


def test_sessions_expire_to_the_second() -> None:
    now = [1_800_000_000 * 10**9]
    with objstore.open(None, clock=lambda: now[0]) as store:
        store.root.iam.create_login_profile(None, ROOT_PASSWORD)
        session = store.sign_in("root", ROOT_PASSWORD)
        session.list_buckets()
        now[0] += (12 * 3600 - 1) * 10**9
        session.list_buckets()
        now[0] += 10**9
        with pytest.raises(ExpiredToken):
            session.list_buckets()
