"""The identities s3tests.conf names, and how they map onto one objstore account.

The suite wants four S3 users ([s3 main], [s3 alt], [s3 tenant], [iam]) and two IAM account
roots ([iam root], [iam alt root]), each with an access key. A store is one AWS account, so:

- main and [iam root] are the account root (its two access keys): the owner of every bucket,
  allowed everything, the ``Owner`` ID in listings (the 12-digit account id).
- alt is the IAM user ``alt`` with only ``s3:ListAllMyBuckets`` and ``s3:CreateBucket``: a
  second principal that the suite expects to be refused unless a bucket policy (or an ACL)
  lets it in. It needs ListAllMyBuckets because every test's set-up lists alt's buckets to
  clean them, and CreateBucket because some tests have alt create a bucket of its own. Cost:
  a bucket alt creates belongs to the account, not to alt, and alt's owner id differs from the
  ``Owner`` of what it writes (tests that expect alt to own objects fail).
- tenant is the IAM user ``tenant`` with ``s3:*``: RGW's tenants (separate bucket namespaces,
  ``tenant:bucket`` names) have no counterpart; its tests only need a user that can create
  buckets and objects of its own.
- [iam] is the IAM user ``iam-admin`` with ``iam:*``, ``sts:*`` and ``s3:*`` (the suite uses it
  to clean roles up); [iam alt root], a second account, has no counterpart: it gets alt's key.

moto server accepts any key and does not authorize, so its configuration uses fixed keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

Section = dict[str, str]


@dataclass(frozen=True, slots=True)
class Conf:
    """The s3tests.conf sections (besides DEFAULT and fixtures), section name -> options."""

    sections: dict[str, Section] = field(default_factory=dict)


def _policy(*actions: str) -> str:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


USERS = {
    "alt": _policy("s3:ListAllMyBuckets", "s3:CreateBucket"),
    "tenant": _policy("s3:*"),
    "iam-admin": _policy("iam:*", "sts:*", "s3:*"),
}


def _user(key_id: str, secret: str, user_id: str, name: str, email: str) -> Section:
    return {
        "access_key": key_id,
        "secret_key": secret,
        "user_id": user_id,
        "display_name": name,
        "email": email,
    }


def objstore_conf(path: Path) -> Conf:
    """Create the store at ``path`` with the identities above; their sections."""
    import objstore

    with objstore.open(str(path)) as store:
        account = store.account_id
        iam = store.root.iam
        keys = {"main": iam.create_access_key(), "root2": iam.create_access_key()}
        for name, policy in USERS.items():
            iam.create_user(name)
            iam.put_user_policy(name, "conformance", policy)
            keys[name] = iam.create_access_key(name)

    def section(key: str, user_id: str, name: str) -> Section:
        k = keys[key]
        email = f"{key}@example.com"
        return _user(k.access_key_id, k.secret_access_key, user_id, name, email)

    # The gateway names the account (id and display name) as the owner of what anyone in it
    # creates, so main's user_id and display_name are the account id.
    arn = f"arn:aws:iam::{account}:user/"
    return Conf(
        {
            "s3 main": section("main", account, account) | {"api_name": ""},
            "s3 alt": section("alt", arn + "alt", "alt"),
            "s3 tenant": section("tenant", arn + "tenant", "tenant") | {"tenant": "testx"},
            "iam": section("iam-admin", arn + "iam-admin", "iam-admin"),
            "iam root": section("root2", account, account),
            "iam alt root": section("alt", arn + "alt", "alt"),
        }
    )


def moto_conf() -> Conf:
    """Fixed keys (moto accepts any); the user ids moto reports as owners."""
    # moto names every owner with this canonical id and display name.
    owner = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
    return Conf(
        {
            "s3 main": _user("AKIAMAIN0000000000", "main-secret", owner, "webfile", "m@e.com")
            | {"api_name": ""},
            "s3 alt": _user("AKIAALT00000000000", "alt-secret", "alt-id", "alt", "a@e.com"),
            "s3 tenant": _user("AKIATENANT00000000", "tenant-secret", "t-id", "t", "t@e.com")
            | {"tenant": "testx"},
            "iam": _user("AKIAIAM00000000000", "iam-secret", "iam-id", "iam", "i@e.com"),
            "iam root": _user("AKIAROOT0000000000", "root-secret", "root-id", "root", "r@e.com"),
            "iam alt root": _user("AKIAALTROOT0000000", "altroot-secret", "ar", "ar", "x@e.com"),
        }
    )


def write_conf(conf: Conf, host: str, port: int, path: Path) -> None:
    """s3tests.conf for a plain-HTTP server at host:port."""
    lines = [
        "[DEFAULT]",
        f"host = {host}",
        f"port = {port}",
        "is_secure = False",
        "ssl_verify = False",
        "",
        "[fixtures]",
        "bucket prefix = conf-{random}-",
        "iam name prefix = s3-tests-",
        "iam path prefix = /s3-tests/",
        "",
    ]
    for name, options in conf.sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {v}" for k, v in options.items()]
        lines.append("")
    path.write_text("\n".join(lines))
