"""``objstore iam ...``: users, groups, roles, policies, access keys, MFA, the simulator and
the credential report, against the store named by ``--store``.

Commands act as the account root, or as the holder of ``--access-key``/``--secret-key``
(default ``$OBJSTORE_ACCESS_KEY_ID`` / ``$OBJSTORE_SECRET_ACCESS_KEY``), and go through the
same authorization as every API call. Results print one line per entity; secrets print once,
when created.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from typing import Any

from objstore.cli.common import CliError, open_from
from objstore.cli.escape import shown
from objstore.cli.policy import format_table
from objstore.client import Client
from objstore.identity import qr
from objstore.store import Store


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _client(store: Store, args: argparse.Namespace) -> Client:
    key = args.access_key or os.environ.get("OBJSTORE_ACCESS_KEY_ID")
    secret = args.secret_key or os.environ.get("OBJSTORE_SECRET_ACCESS_KEY")
    if key is None and secret is None:
        return store.root
    if key is None or secret is None:
        raise CliError("give both an access key id and its secret (or neither, for root)")
    return store.client(key, secret)


def _line(value: object) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.asdict(value)
        return "  ".join(f"{k}={shown(str(v))}" for k, v in fields.items() if v not in ({}, ""))
    return shown(str(value))


def _print(result: object) -> None:
    if result is None:
        return
    if isinstance(result, Sequence) and not isinstance(result, str):  # a list, or a Page
        for item in result:
            print(_line(item))
    elif isinstance(result, str):
        print(result, end="" if result.endswith("\n") else "\n")
    else:
        print(_line(result))


# command (the IamClient method, dashed) -> (help, positional arguments). A name ending in
# "?" is optional (default: the caller); one ending in "_file" is a file read as text; a
# user name "-" means the caller (the root included).
_COMMANDS: dict[str, tuple[str, list[str]]] = {
    "create-user": ("create a user", ["user_name"]),
    "get-user": ("show a user (default: the caller)", ["user_name?"]),
    "list-users": ("list users", []),
    "delete-user": ("delete a user", ["user_name"]),
    "create-group": ("create a group", ["group_name"]),
    "list-groups": ("list groups", []),
    "delete-group": ("delete a group", ["group_name"]),
    "add-user-to-group": ("add a user to a group", ["group_name", "user_name"]),
    "remove-user-from-group": ("remove a user from a group", ["group_name", "user_name"]),
    "create-role": ("create a role (trust policy file)", ["role_name", "trust_file"]),
    "list-roles": ("list roles", []),
    "delete-role": ("delete a role", ["role_name"]),
    "create-policy": ("create a managed policy (file)", ["policy_name", "policy_file"]),
    "list-policies": ("list managed policies", []),
    "delete-policy": ("delete a managed policy", ["policy_arn"]),
    "attach-user-policy": ("attach a managed policy to a user", ["user_name", "policy_arn"]),
    "attach-group-policy": ("attach a managed policy to a group", ["group_name", "policy_arn"]),
    "attach-role-policy": ("attach a managed policy to a role", ["role_name", "policy_arn"]),
    "detach-user-policy": ("detach a managed policy from a user", ["user_name", "policy_arn"]),
    "put-user-policy": ("set an inline user policy", ["user_name", "policy_name", "policy_file"]),
    "create-access-key": ("create an access key (default: the caller's)", ["user_name?"]),
    "list-access-keys": ("list access keys (default: the caller's)", ["user_name?"]),
    "update-access-key": ("Active or Inactive", ["user_name", "access_key_id", "status"]),
    "delete-access-key": ("delete an access key", ["user_name", "access_key_id"]),
    "enable-mfa-device": (
        "enable an MFA device with two consecutive codes",
        ["user_name", "serial_number", "code1", "code2"],
    ),
    "deactivate-mfa-device": ("deactivate an MFA device", ["user_name", "serial_number"]),
    "list-mfa-devices": ("list MFA devices (default: the caller's)", ["user_name?"]),
}
_WITH_PATH = {"create-user", "create-group", "create-role", "create-policy"}


def _argument(args: argparse.Namespace, name: str) -> object:
    value = getattr(args, name.rstrip("?"))
    if name.endswith("_file"):
        return _read(value)
    if name.startswith("user_name") and value == "-":
        return None
    return value


def _run(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        iam = _client(store, args).iam
        if args.iam_command == "create-virtual-mfa-device":
            device = iam.create_virtual_mfa_device(args.name)
            print(f"serial_number={device.serial_number}")
            print(f"base32_string_seed={device.base32_string_seed}")
            print(device.qr_code_uri)
            if sys.stdout.isatty():
                _print_qr(device.qr_code_uri)
            return 0
        if args.iam_command == "simulate":
            results = iam.simulate_principal_policy(
                args.policy_source_arn, args.action, resource_arns=args.resource or None
            )
            print(format_table(results, show_boundary=False))
            return 0 if all(r.allowed for r in results) else 2
        if args.iam_command == "credential-report":
            iam.generate_credential_report()
            _print(iam.get_credential_report())
            return 0
        method = getattr(iam, args.iam_command.replace("-", "_"))
        positional = [_argument(args, name) for name in _COMMANDS[args.iam_command][1]]
        options = {"path": args.path} if args.iam_command in _WITH_PATH else {}
        _print(method(*positional, **options))
    return 0


def _print_qr(uri: str) -> None:
    """The otpauth URI as a terminal QR code (an authenticator app scans it)."""
    print(qr.render_terminal(uri), end="")


def register(sub: Any) -> None:
    iam = sub.add_parser("iam", help="users, groups, roles, policies, keys, MFA, simulator")
    iam.add_argument("--access-key", help="act as this access key ($OBJSTORE_ACCESS_KEY_ID)")
    iam.add_argument("--secret-key", help="its secret ($OBJSTORE_SECRET_ACCESS_KEY)")
    commands = iam.add_subparsers(dest="iam_command", required=True)
    for name, (help_text, positionals) in _COMMANDS.items():
        p = commands.add_parser(name, help=help_text)
        for arg in positionals:
            if arg.endswith("?"):
                p.add_argument(arg[:-1], nargs="?", default=None)
            else:
                p.add_argument(arg)
        if name in _WITH_PATH:
            p.add_argument("--path", default="/", help="IAM path, e.g. /division/")
    commands.add_parser("credential-report", help="generate and print the credential report")
    mfa = commands.add_parser(
        "create-virtual-mfa-device", help="a new TOTP device: prints its otpauth URI (and QR)"
    )
    mfa.add_argument("name")
    sim = commands.add_parser("simulate", help="the policy simulator for a user, group or role")
    sim.add_argument("policy_source_arn")
    sim.add_argument("action", nargs="+")
    sim.add_argument("--resource", action="append", help="resource ARN (repeatable)")
    iam.set_defaults(func=_run)
