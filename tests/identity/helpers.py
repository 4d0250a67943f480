"""Shared helpers of the identity tests."""

from __future__ import annotations

import json
from typing import Any

import objstore


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def user_client(
    store: objstore.Store, name: str, *statements: dict[str, Any], **client_kw: Any
) -> objstore.Client:
    """A new user with one inline policy of ``statements`` (none: no policy), as a client."""
    iam = store.root.iam
    iam.create_user(name)
    if statements:
        iam.put_user_policy(name, "p", policy(*statements))
    key = iam.create_access_key(name)
    return store.client(key.access_key_id, key.secret_access_key, **client_kw)
