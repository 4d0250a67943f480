"""The audit log: IAM calls and mutating storage calls, allowed or denied, readable through
``iam.lookup_events``; reads are not logged; it survives reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

import objstore
from objstore.errors import AccessDenied, InvalidClientTokenId

from .helpers import allow, policy


def test_decisions_are_logged(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as s:
        s.root.create_bucket("bkt")
        s.root.iam.create_user("u")
        s.root.iam.put_user_policy("u", "p", policy(allow("s3:GetObject")))
        key = s.root.iam.create_access_key("u")
        c = s.client(key.access_key_id, key.secret_access_key)
        s.root.put_object("bkt", "k", b"v")
        c.get_object("bkt", "k").close()
        with pytest.raises(AccessDenied):
            c.put_object("bkt", "k", b"w")
        s.root.iam.update_access_key("u", key.access_key_id, "Inactive")
        with pytest.raises(InvalidClientTokenId):
            c.delete_object("bkt", "k")
    with objstore.open(tmp_path / "s") as s:
        events = s.root.iam.lookup_events()
    seen = [(e.operation, e.decision, e.outcome) for e in reversed(events)]
    assert ("CreateUser", "allowed", "ok") in seen
    assert ("PutObject", "allowed", "ok") in seen
    assert ("PutObject", "denied", "AccessDenied") in seen
    assert ("DeleteObject", "denied", "InvalidClientTokenId") in seen
    assert not any(op == "GetObject" for op, _, _ in seen)
    denied = next(e for e in events if e.outcome == "AccessDenied")
    assert denied.principal.endswith(":user/u")
    assert denied.action == "s3:PutObject" and denied.resource == "arn:aws:s3:::bkt/k"
