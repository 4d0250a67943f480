"""Every public operation, walked from the action table: a user with no policy is denied
(and nothing changes), a user allowed exactly the operation's documented actions may call it."""

from __future__ import annotations

import contextlib
import inspect
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from test_choke_point import STORAGE, call_args, invoke, populate

import objstore
from objstore import keyspace
from objstore.actions import OPERATIONS
from objstore.errors import AccessDenied
from objstore.identity import passwords, totp
from objstore.identity.facade import IamClient
from objstore.identity.sts_facade import StsClient
from objstore.meta.scan import scan_prefix

# AssumeRoleWithWebIdentity is called by a token's provider, not by a user: its refusals and
# grants are walked in test_web_identity.py.
IAM_OPS = sorted(
    name
    for name, op in OPERATIONS.items()
    if op.facade in ("iam", "sts") and name != "AssumeRoleWithWebIdentity"
)
FACADES = {"iam": IamClient, "sts": StsClient}
# AWS: "no permissions are required" (the caller is authenticated).
NO_PERMISSION = {"GetCallerIdentity", "GetSessionToken"}
BUCKET = "bkt"
DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)
TRUST = json.dumps(
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


def allow(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


def build_world(store: objstore.Store) -> dict[str, Callable[[], Any]]:
    """Entities every IAM operation can act on; returns plausible values by parameter."""
    iam = store.root.iam
    iam.create_user("target")
    iam.create_user("plain")
    iam.create_group("grp")
    iam.create_group("emptygrp")
    iam.add_user_to_group("grp", "target")
    iam.create_role("role1", TRUST)
    iam.create_role("emptyrole", TRUST)
    provider = iam.create_open_id_connect_provider("https://login.example.com", ["app"])
    acct_role = iam.create_role(
        "acctrole",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": store.account_id},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    pol = iam.create_policy("pol", DOC)
    loose = iam.create_policy("loose", DOC)
    iam.create_policy_version(pol.arn, DOC, set_as_default=False)
    for kind, name in (("user", "target"), ("group", "grp"), ("role", "role1")):
        getattr(iam, f"attach_{kind}_policy")(name, pol.arn)
        getattr(iam, f"put_{kind}_policy")(name, "inl", DOC)
    iam.put_user_permissions_boundary("target", pol.arn)
    iam.put_role_permissions_boundary("role1", pol.arn)
    key = iam.create_access_key("target")
    target_arn = iam.get_user("target").arn
    iam.update_account_password_policy(minimum_password_length=8)
    iam.generate_credential_report()
    iam.create_user("withlogin")
    iam.create_login_profile("withlogin", PASSWORD)
    devices = {name: iam.create_virtual_mfa_device(name) for name in ("dev1", "dev2", "dev3")}
    iam.enable_mfa_device("withlogin", devices["dev2"].serial_number, *codes(devices["dev2"]))
    values_extra: dict[str, Callable[[], Any]] = {
        "password": lambda: PASSWORD,
        "serial_number": lambda: devices["dev1"].serial_number,
        "_dev2": lambda: devices["dev2"].serial_number,
        "_dev3": lambda: devices["dev3"].serial_number,
        "authentication_code1": lambda: codes(devices["dev1"])[0],
        "authentication_code2": lambda: codes(devices["dev1"])[1],
        "old_password": lambda: PASSWORD,
        "new_password": lambda: "Another-pass-9!",
        "virtual_mfa_device_name": lambda: "new-dev",
        "role_arn": lambda: acct_role.arn,
        "url": lambda: "https://idp.example.com",
        "client_id_list": lambda: ["app"],
        "provider_arn": lambda: provider.arn,
        "role_session_name": lambda: "sess",
    }
    values: dict[str, Callable[[], Any]] = {
        "user_name": lambda: "target",
        "group_name": lambda: "grp",
        "role_name": lambda: "role1",
        "policy_arn": lambda: pol.arn,
        "policy_name": lambda: "inl",
        "policy_document": lambda: DOC,
        "assume_role_policy_document": lambda: TRUST,
        "access_key_id": lambda: key.access_key_id,
        "status": lambda: "Inactive",
        "version_id": lambda: "v2",
        "action_names": lambda: ["s3:GetObject"],
        "policy_source_arn": lambda: target_arn,
        "policy_input_list": lambda: [DOC],
        "tags": lambda: {"team": "blue"},
        "tag_keys": lambda: ["team"],
    }
    values["_loose"] = lambda: loose.arn
    values.update(values_extra)
    return values


PASSWORD = "Correct-horse-1!"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Console passwords hashed at scrypt's cheapest allowed cost in these walks.

    Why: every world hashes two passwords (withlogin's and the actor's) at the default cost
    (~0.1 s each, 2/3 of each test's time); the walks test who may call what, and the hash
    format and its default cost are tested in test_passwords.py. The stored hash carries its
    parameters, so sign-in and ChangePassword verify it as they would any other.
    """
    cheap = passwords.ScryptParams(log2_n=10, r=1, p=1)
    monkeypatch.setattr(passwords.hash_password, "__kwdefaults__", {"params": cheap})


def codes(device: Any) -> tuple[str, str]:
    """Two consecutive codes of a virtual device, now."""
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    return totp.hotp(seed, step - 1), totp.hotp(seed, step)


OVERRIDES: dict[str, dict[str, Any]] = {
    "CreateUser": {"user_name": "new-user"},
    "CreateGroup": {"group_name": "new-grp"},
    "CreateRole": {"role_name": "new-role"},
    "CreatePolicy": {"policy_name": "new-pol"},
    "DeleteUser": {"user_name": "plain"},
    "DeleteGroup": {"group_name": "emptygrp"},
    "DeleteRole": {"role_name": "emptyrole"},
    "DeletePolicy": {"policy_arn": "_loose"},
    "SetDefaultPolicyVersion": {"version_id": "v1"},
    "UpdateAssumeRolePolicy": {"policy_document": TRUST},
    "UpdateLoginProfile": {"user_name": "withlogin"},
    "GetLoginProfile": {"user_name": "withlogin"},
    "DeleteLoginProfile": {"user_name": "withlogin"},
    "DeactivateMFADevice": {"user_name": "withlogin", "serial_number": "_dev2"},
    "DeleteVirtualMFADevice": {"serial_number": "_dev3"},
}


def iam_args(op_name: str, values: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    op = OPERATIONS[op_name]
    sig = inspect.signature(getattr(FACADES[op.facade], op.method))
    args: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if name == "self":
            continue
        if name in OVERRIDES.get(op_name, {}):
            value = OVERRIDES[op_name][name]
            args[name] = values[value]() if value in values else value
        elif param.default is inspect.Parameter.empty:
            if name not in values:
                pytest.fail(f"add a plausible value for parameter {name!r} of {op.method}")
            args[name] = values[name]()
    return args


def identity_snapshot(store: objstore.Store) -> list[tuple[bytes, Any]]:
    """Every identity record and bucket policy (access keys without their last-used date)."""
    out: list[tuple[bytes, Any]] = []
    prefixes = (
        keyspace.IAM_USER,
        keyspace.IAM_GROUP,
        keyspace.IAM_ROLE,
        keyspace.IAM_POLICY,
        keyspace.IAM_ACCESS_KEY,
        keyspace.IAM_MFA,
        keyspace.IAM_OIDC,
        keyspace.IAM_ACCOUNT,
        keyspace.IAM_GENERATION,
        keyspace.BUCKET_POLICY,
    )
    with store.identity.repo.read() as txn:
        for prefix in prefixes:
            for k, v in scan_prefix(txn, prefix):
                if prefix == keyspace.IAM_ACCESS_KEY:
                    rec = json.loads(v)
                    rec.pop("last_used")
                    rec.pop("last_service")
                    out.append((k, rec))
                else:
                    out.append((k, v))
    return out


def actor(store: objstore.Store, *actions: str) -> objstore.Client:
    """A fresh user allowed exactly ``actions`` (nothing when none), as a client."""
    iam = store.root.iam
    iam.create_user("actor")
    if actions:
        iam.put_user_policy("actor", "exactly", allow(*actions))
    iam.create_login_profile("actor", PASSWORD)
    key = iam.create_access_key("actor")
    return store.client(key.access_key_id, key.secret_access_key)


def test_the_table_has_iam_operations() -> None:
    assert len(IAM_OPS) > 50
    for name in IAM_OPS:
        assert hasattr(FACADES[OPERATIONS[name].facade], OPERATIONS[name].method), name


@pytest.mark.parametrize("op_name", IAM_OPS)
def test_iam_operation_denied_without_policy(op_name: str) -> None:
    with objstore.open(None) as s:
        values = build_world(s)
        client = actor(s)
        before = identity_snapshot(s)
        op = OPERATIONS[op_name]
        call = getattr(getattr(client, op.facade), op.method)
        if op_name in NO_PERMISSION:
            call(**iam_args(op_name, values))
            assert identity_snapshot(s) == before
            return
        with pytest.raises(AccessDenied) as exc:
            call(**iam_args(op_name, values))
        assert exc.value.details["action"] == OPERATIONS[op_name].permissions[0].action
        # The message names the action and the resource, and nothing of the policies.
        assert exc.value.details["action"] in exc.value.message
        assert identity_snapshot(s) == before


@pytest.mark.parametrize("op_name", IAM_OPS)
def test_iam_operation_allowed_with_exactly_its_action(op_name: str) -> None:
    with objstore.open(None) as s:
        values = build_world(s)
        op = OPERATIONS[op_name]
        client = actor(s, *(p.action for p in op.permissions))
        getattr(getattr(client, op.facade), op.method)(**iam_args(op_name, values))


@pytest.mark.parametrize("op_name", STORAGE)
def test_storage_operation_allowed_with_exactly_its_actions(op_name: str) -> None:
    with objstore.open(None, chunk_size=64 * 1024, inline_threshold=1024) as s:
        populate(s)
        op = OPERATIONS[op_name]
        client = actor(s, *(p.action for p in op.permissions))
        invoke(client, op_name)


@pytest.mark.parametrize("op_name", STORAGE)
def test_storage_operation_denied_to_a_user_without_policy(op_name: str) -> None:
    with objstore.open(None, chunk_size=64 * 1024, inline_threshold=1024) as s:
        populate(s)
        client = actor(s)
        if op_name == "DeleteObjects":
            out = invoke(client, op_name)
            assert {type(r) for r in out} == {objstore.DeleteError}
            return
        with pytest.raises(AccessDenied):
            invoke(client, op_name)
        # Allowed one action short of all it needs, a two-permission call is still denied
        # (counting the permissions these arguments need: s3:PutObjectTagging only with tags).
        needed = [p for p in OPERATIONS[op_name].permissions if p.applies(call_args(op_name))]
        if len(needed) > 1:
            s.root.iam.put_user_policy("actor", "one", allow(needed[0].action))
            with pytest.raises(AccessDenied):
                invoke(client, op_name)
        with contextlib.suppress(KeyError):
            call_args(op_name)


def test_an_identity_allow_alone_does_not_assume_a_role_whose_trust_omits_the_caller() -> None:
    with objstore.open(None) as s:
        role = s.root.iam.create_role("svc-only", TRUST)  # trusts ec2.amazonaws.com only
        client = actor(s, "sts:AssumeRole")
        with pytest.raises(AccessDenied):
            client.sts.assume_role(role.arn, "sess")
