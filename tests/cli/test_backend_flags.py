"""``--metadata`` / ``--chunks`` (and ``$OBJSTORE_METADATA`` / ``$OBJSTORE_CHUNKS``) on
the commands that open a store, with the lmdb/file and memory forms."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from objstore.cli import main
from objstore.identity import storekey


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A shared store's key in the environment; the flags naming its two backends."""
    monkeypatch.delenv(storekey.ENV_KEY_FILE, raising=False)
    monkeypatch.setenv(storekey.ENV_KEY, base64.b64encode(os.urandom(32)).decode())
    monkeypatch.delenv("OBJSTORE_METADATA", raising=False)
    monkeypatch.delenv("OBJSTORE_CHUNKS", raising=False)
    monkeypatch.chdir(tmp_path)
    return ["--metadata", f"lmdb://{tmp_path}/meta", "--chunks", f"file://{tmp_path}/chunks"]


def test_commands_work_on_urls(
    env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(20_000))
    assert main([*env, "ls"]) == 1  # nothing there yet: only mb creates
    assert "no store at lmdb://" in capsys.readouterr().err
    assert main([*env, "mb", "url-bucket"]) == 0
    assert main([*env, "put", str(src), "url-bucket/k"]) == 0
    assert main([*env, "ls", "url-bucket"]) == 0
    assert " k" in capsys.readouterr().out
    assert main([*env, "get", "url-bucket/k", str(tmp_path / "out.bin")]) == 0
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
    assert main([*env, "gc"]) == 0
    assert main([*env, "fsck"]) == 0
    assert main([*env, "iam", "create-user", "alice"]) == 0
    # No --store directory was made (the default one either): both URLs name everything.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunks", "in.bin", "meta", "out.bin"]


def test_the_environment_names_the_backends(
    env: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OBJSTORE_METADATA", env[1])
    monkeypatch.setenv("OBJSTORE_CHUNKS", env[3])
    assert main(["mb", "env-bucket"]) == 0
    capsys.readouterr()
    assert main([*env, "ls"]) == 0  # the flags name the same store
    assert "env-bucket" in capsys.readouterr().out


def test_one_url_keeps_the_rest_under_store(
    env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--metadata alone: chunks (and the key file, the marker) stay in --store."""
    assert main(["--store", str(tmp_path / "s"), env[0], env[1], "mb", "half-bucket"]) == 0
    assert (tmp_path / "s" / "chunks").is_dir() and not (tmp_path / "s" / "meta").exists()
    assert main(["--store", str(tmp_path / "s"), env[0], env[1], "ls"]) == 0
    assert "half-bucket" in capsys.readouterr().out


def test_memory_urls(env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--metadata", "memory:", "--chunks", "memory:", "mb", "mem-bucket"]) == 0
    # A new process is a new, empty store: nothing to list.
    assert main(["--metadata", "memory:", "--chunks", "memory:", "ls"]) == 1
    assert "no store" in capsys.readouterr().err


def test_errors_are_one_line_and_never_show_a_password(
    env: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, expect in [
        (["--metadata", "postgresql://u:hunter2@h:99999/db", "--chunks", "memory:"], "not a URL"),
        (["--metadata", "postgresql://u:hunter2@h/db#x", "--chunks", "memory:"], "fragment"),
        (["--metadata", "mysql://u:hunter2@h/db", "--chunks", "memory:"], "scheme"),
        (["--metadata", env[1], "--chunks", "s3://AK:hunter2@bkt/p"], "credentials"),
    ]:
        assert main([*argv, "ls"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expect in err and "hunter2" not in err
    monkeypatch.delenv(storekey.ENV_KEY)
    assert main([*env, "mb", "no-key-bucket"]) == 1
    assert "OBJSTORE_SECRET_KEY" in capsys.readouterr().err


def test_serve_takes_the_flags_too(env: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --metadata/--chunks`` hand the URLs to the workers (the options never show
    them: they may hold secrets)."""
    from objstore.gateway import server

    got: list[server.ServeOptions] = []
    monkeypatch.setattr(server, "serve", lambda opts: got.append(opts) or 0)
    assert main(["serve", *env, "--port", "0"]) == 0
    assert (got[0].store_path, got[0].metadata, got[0].chunks) == (None, env[1], env[3])
    assert main([*env, "serve", "--metadata", "postgresql://u:pw@h/db"]) == 0
    assert got[1].metadata == "postgresql://u:pw@h/db" and got[1].chunks == env[3]
    assert "pw@" not in repr(got[1]) and "lmdb" not in repr(got[1])


def test_serve_takes_gc_settings(env: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Nodes of a shared store choose their background gc (0: none) and lease length."""
    from objstore.gateway import server

    got: list[server.ServeOptions] = []
    monkeypatch.setattr(server, "serve", lambda opts: got.append(opts) or 0)
    assert main(["serve", *env, "--port", "0"]) == 0
    assert (got[0].gc_interval, got[0].lease_ttl) == (300.0, 600.0)
    assert main(["serve", *env, "--gc-interval", "0", "--lease-ttl", "120"]) == 0
    assert (got[1].gc_interval, got[1].lease_ttl) == (None, 120.0)
    assert main(["serve", *env, "--gc-interval", "30"]) == 0
    assert got[2].gc_interval == 30.0
    for bad in (["--gc-interval", "-1"], ["--lease-ttl", "0"], ["--gc-interval", "nan"]):
        assert main(["serve", *env, *bad]) == 1
    # Review rev11b F8: a domain is a host name (its port, never matched, is ignored).
    for domain in ("http://s3.example.com", "a/b", "u@h"):
        assert main(["serve", *env, "--domain", domain]) == 1
    # Review rev11b F4: NaN passed the "<= 0" check, then every upload timed out at once.
    for flag in ("--body-timeout", "--idle-timeout"):
        for value in ("nan", "inf", "0", "-1"):
            assert main(["serve", *env, flag, value]) == 1
    assert len(got) == 3
