"""IAM state lives in the store: it survives reopening, secrets are sealed at rest, and a
change made by one process holds for the next request of every other process."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
)
from objstore.identity.crypto import KEY_FILE

from .helpers import allow, policy

B = "shared"


def setup_store(path: Path) -> tuple[str, str, str]:
    with objstore.open(path) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"v")
        iam = s.root.iam
        iam.create_user("svc", path="/apps/", tags={"team": "blue"})
        pol = iam.create_policy("reader", policy(allow("s3:GetObject")))
        iam.attach_user_policy("svc", pol.arn)
        key = iam.create_access_key("svc")
        return key.access_key_id, key.secret_access_key, pol.arn


def test_entities_and_keys_survive_reopen(tmp_path: Path) -> None:
    key_id, secret, pol_arn = setup_store(tmp_path / "s")
    with objstore.open(tmp_path / "s") as s:
        user = s.root.iam.get_user("SVC")  # names are case-insensitive
        assert (user.user_name, user.path, dict(user.tags)) == ("svc", "/apps/", {"team": "blue"})
        assert user.arn.endswith(":user/apps/svc")
        assert [p.policy_arn for p in s.root.iam.list_attached_user_policies("svc")] == [pol_arn]
        c = s.client(key_id, secret)
        assert c.get_object(B, "k").read() == b"v"
        with pytest.raises(AccessDenied):
            c.put_object(B, "k", b"w")


def test_secrets_are_sealed_and_the_key_file_is_private(tmp_path: Path) -> None:
    key_id, secret, _ = setup_store(tmp_path / "s")
    key_file = tmp_path / "s" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    data = (tmp_path / "s" / "meta" / "data.mdb").read_bytes()
    assert key_id.encode() in data
    assert secret.encode() not in data
    # Without the key the store refuses to open (a new key would strand every stored
    # credential), and writes no new key file; the key back, it opens again.
    saved = key_file.read_bytes()
    key_file.unlink()
    with pytest.raises(InvalidArgument, match="secret key is missing"):
        objstore.open(tmp_path / "s")
    assert not key_file.exists()
    # Another key is not the store's either (the metadata keeps a check of its key).
    with pytest.raises(InvalidArgument, match="not this store's"):
        objstore.open(tmp_path / "s", secret_key=os.urandom(32))
    key_file.write_bytes(saved)
    with objstore.open(tmp_path / "s") as s:
        assert s.client(key_id, secret).identity.name == "svc"


def test_a_supplied_key_is_used_and_no_key_file_written(tmp_path: Path) -> None:
    key = os.urandom(32)
    with objstore.open(tmp_path / "s", secret_key=key) as s:
        s.root.iam.create_user("u")
        ak = s.root.iam.create_access_key("u")
    assert not (tmp_path / "s" / KEY_FILE).exists()
    with objstore.open(tmp_path / "s", secret_key=key) as s:
        assert s.client(ak.access_key_id, ak.secret_access_key).identity.name == "u"
    with pytest.raises(InvalidArgument):
        objstore.open(tmp_path / "t", secret_key=b"short")


def test_wrong_secret_and_unknown_key_write_nothing(tmp_path: Path) -> None:
    key_id, secret, _ = setup_store(tmp_path / "s")
    with objstore.open(tmp_path / "s") as s:
        before = s.identity.repo.generation()
        with s.identity.repo.read() as txn:
            raw = txn.get(b"k" + key_id.lower().encode())
        with pytest.raises(SignatureDoesNotMatch):
            s.client(key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        with pytest.raises(InvalidClientTokenId):
            s.client("AKIA" + "Z" * 16, secret)
        with pytest.raises(InvalidClientTokenId):
            s.client(key_id, None)  # type: ignore[arg-type]
        with s.identity.repo.read() as txn:
            assert txn.get(b"k" + key_id.lower().encode()) == raw
        assert s.identity.repo.generation() == before


def test_an_inactive_key_is_refused_at_once_and_at_sign_in(tmp_path: Path) -> None:
    key_id, secret, _ = setup_store(tmp_path / "s")
    with objstore.open(tmp_path / "s") as s:
        c = s.client(key_id, secret)
        s.root.iam.update_access_key("svc", key_id, "Inactive")
        with pytest.raises(InvalidClientTokenId):
            c.get_object(B, "k")
        with pytest.raises(InvalidClientTokenId):
            s.client(key_id, secret)
        s.root.iam.update_access_key("svc", key_id, "Active")
        c.get_object(B, "k").close()
        s.root.iam.delete_access_key("svc", key_id)
        with pytest.raises(InvalidClientTokenId):
            c.get_object(B, "k")


def _worker(path: str, key_id: str, secret: str, go: object, done: object, out: object) -> None:
    results = []
    with objstore.open(path) as s:
        c = s.client(key_id, secret)

        def attempt() -> str:
            try:
                c.get_object(B, "k").close()
                return "ok"
            except objstore.errors.ObjstoreError as exc:
                return exc.code

        results.append(attempt())
        for step in range(2):
            done.set()  # type: ignore[attr-defined]
            go.wait(30)  # type: ignore[attr-defined]
            go.clear()  # type: ignore[attr-defined]
            results.append(attempt())
            del step
    out.put(results)  # type: ignore[attr-defined]


def test_changes_in_one_process_hold_at_the_next_request_of_another(tmp_path: Path) -> None:
    path = tmp_path / "s"
    key_id, secret, pol_arn = setup_store(path)
    ctx = multiprocessing.get_context("spawn")
    go, done, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=_worker, args=(str(path), key_id, secret, go, done, out))
    child.start()
    try:
        with objstore.open(path) as s:
            assert done.wait(60)
            done.clear()
            s.root.iam.detach_user_policy("svc", pol_arn)  # the policy goes ...
            go.set()
            assert done.wait(60)
            done.clear()
            s.root.iam.attach_user_policy("svc", pol_arn)  # ... comes back, the key goes
            s.root.iam.update_access_key("svc", key_id, "Inactive")
            go.set()
            assert out.get(timeout=60) == ["ok", "AccessDenied", "InvalidClientTokenId"]
    finally:
        child.join(60)
    assert child.exitcode == 0
