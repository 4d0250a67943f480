"""The audit log: IAM calls and mutating storage calls, allowed or denied, readable through
``iam.lookup_events``; reads are not logged; it survives reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

import objstore
from objstore.errors import AccessDenied, InvalidClientTokenId, ServiceUnavailable

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


def test_the_log_is_bounded_and_anonymous_refusals_stay_out(tmp_path: Path) -> None:
    """Review rev11a M3: nothing ever left the log, and unsigned callers fed it (one 403
    DELETE of a 1 KiB key: ~1 KiB more). Now anonymous refusals go only to the audit sink
    and the log keeps at most max_bytes, dropping the oldest entries."""
    from objstore.authz import Identity
    from objstore.identity.audit import AuditLog

    sunk: list[str] = []
    with objstore.open(tmp_path / "s", audit=lambda e: sunk.append(e.principal)) as s:
        s.root.create_bucket("bkt")
        anonymous = s.client_for(Identity.anonymous())
        for i in range(50):
            with pytest.raises(AccessDenied):
                anonymous.delete_object("bkt", f"{i:04d}" + "k" * 1000)
        logged = s.root.iam.lookup_events()
        assert all(e.principal != "anonymous" for e in logged)
        assert sunk.count("anonymous") == 50  # the sink still sees every refusal
        # A small bound: the newest entries stay, the oldest go, the count follows.
        log = s.identity.audit
        assert isinstance(log, AuditLog)
        log.max_bytes = 20_000
        for i in range(300):
            s.root.put_object("bkt", f"k{i:04d}", b"")
        kept = [e.resource for e in s.root.iam.lookup_events(max_results=1000)]
        assert kept[0] == "arn:aws:s3:::bkt/k0299"
        assert 50 < len(kept) < 300
        assert "arn:aws:s3:::bkt/k0000" not in kept


def test_a_failed_audit_write_never_changes_an_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review rev11d M1: the buffered audit flush ran after the operation committed, and its
    failure (a dropped PostgreSQL connection) replaced the result: a stored PUT answered
    ServiceUnavailable, its conditional retry PreconditionFailed, and the batch was lost."""
    from objstore.identity.audit import AuditLog

    with objstore.open(tmp_path / "s") as s:
        s.root.create_bucket("bkt")
        log = s.identity.audit
        assert isinstance(log, AuditLog)
        real = log.meta
        failing = [True]

        class Flaky:
            """The audit log's metadata store, refusing writes while ``failing``."""

            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            def begin_write(self) -> object:
                if failing[0]:
                    raise ServiceUnavailable("the metadata store dropped the connection")
                return real.begin_write()

        monkeypatch.setattr(log, "meta", Flaky())
        put = s.root.put_object("bkt", "k", b"v", if_none_match="*")
        s.root.iam.create_user("u")  # written at once: fails, kept
        assert s.root.get_object("bkt", "k").read() == b"v"
        assert put.version_id == s.root.head_object("bkt", "k").version_id
        failing[0] = False
        log.flush()
        seen = {e.operation for e in s.root.iam.lookup_events()}
        assert {"CreateBucket", "PutObject", "CreateUser"} <= seen
