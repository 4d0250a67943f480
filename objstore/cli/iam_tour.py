"""The seed document's IAM tour, run by ``objstore demo`` on an embedded (in-memory) store:
MFA on the root, a user and a group with a policy, a role for a service, the simulator,
and one denied and one allowed call."""

from __future__ import annotations

import json
import time
from typing import Any

import objstore
from objstore.errors import AccessDenied
from objstore.identity import totp


def _codes(seed_b32: str, *offsets: int) -> list[str]:
    seed = totp.seed_from_base32(seed_b32)
    step = totp.time_step(time.time())
    return [totp.hotp(seed, step + offset) for offset in offsets]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def run(out: Any = print) -> None:
    """Print the tour, step by step."""
    out("")
    out("IAM tour (seed walkthrough, in-memory store):")
    with objstore.open(None) as store:
        iam = store.root.iam
        password = "Tour-" + totp.seed_to_base32(totp.new_seed())[:12] + "-1!"
        iam.create_login_profile(None, password)
        device = iam.create_virtual_mfa_device("root-mfa")
        iam.enable_mfa_device(None, device.serial_number, *_codes(device.base32_string_seed, -1, 0))
        out(f"  root MFA enabled: {device.serial_number}")
        out(f"    scan: {device.qr_code_uri.split('?')[0]}?secret=...")
        try:
            store.sign_in("root", password)
        except objstore.errors.InvalidAuthenticationCode:
            out("  sign-in as root without an MFA code: refused (InvalidAuthenticationCode)")
        (code,) = _codes(device.base32_string_seed, 1)
        console = store.sign_in("root", password, mfa_code=code)
        out("  sign-in as root with a fresh MFA code: ok")
        console.create_bucket("hr-docs")
        console.put_object("hr-docs", "handbook.txt", b"be kind")
        user = iam.create_user("yash")
        iam.create_group("HR")
        policy = iam.create_policy(
            "HRReadOnly",
            _doc(
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": ["arn:aws:s3:::hr-docs", "arn:aws:s3:::hr-docs/*"],
                }
            ),
        )
        iam.attach_group_policy("HR", policy.arn)
        iam.add_user_to_group("HR", "yash")
        out(f"  user {user.user_name} ({user.user_id}) in group HR with {policy.policy_name}")
        role = iam.create_role(
            "ec2-s3-full",
            _doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
        )
        iam.attach_role_policy(role.role_name, "arn:aws:iam::aws:policy/AmazonS3FullAccess")
        out(f"  role {role.arn} trusted by ec2.amazonaws.com, AmazonS3FullAccess")
        out("  simulator for yash on arn:aws:s3:::hr-docs/handbook.txt:")
        for result in iam.simulate_principal_policy(
            user.arn,
            ["s3:GetObject", "s3:PutObject"],
            resource_arns=["arn:aws:s3:::hr-docs/handbook.txt"],
        ):
            out(f"    {result.eval_action_name:<14} {result.eval_decision}")
        key = iam.create_access_key("yash")
        yash = store.client(key.access_key_id, key.secret_access_key)
        with yash.get_object("hr-docs", "handbook.txt") as body:
            out(f"  yash GetObject handbook.txt: allowed ({body.read()!r})")
        try:
            yash.put_object("hr-docs", "handbook.txt", b"rewritten")
        except AccessDenied as exc:
            out(f"  yash PutObject handbook.txt: {exc}")
