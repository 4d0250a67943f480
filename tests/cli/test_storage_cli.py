"""The storage command line: sub-commands, stdin/stdout, one-line errors, the demo."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from objstore.cli import main
from objstore.cli.demo import run as run_demo


def cli(store: Path, *args: str) -> int:
    return main(["--store", str(store), *args])


def test_bucket_object_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """mb, put, ls, stat, get, rm, rb work together on one store."""
    s = tmp_path / "s"
    src = tmp_path / "in.bin"
    src.write_bytes(b"hello world" * 1000)
    assert cli(s, "mb", "cli-bucket") == 0
    assert cli(s, "put", str(src), "cli-bucket/dir/file.bin", "--meta", "a=1") == 0
    assert cli(s, "ls") == 0
    assert cli(s, "ls", "cli-bucket") == 0
    out = capsys.readouterr().out
    assert "cli-bucket" in out and "PRE dir/" in out
    assert cli(s, "ls", "-r", "cli-bucket") == 0
    assert "dir/file.bin" in capsys.readouterr().out
    assert cli(s, "stat", "cli-bucket/dir/file.bin") == 0
    out = capsys.readouterr().out
    assert "size:          11000" in out and "meta a: 1" in out
    dest = tmp_path / "out.bin"
    assert cli(s, "get", "cli-bucket/dir/file.bin", str(dest)) == 0
    assert dest.read_bytes() == src.read_bytes()
    assert cli(s, "get", "cli-bucket/dir/file.bin", str(dest), "--range", "bytes=0-4") == 0
    assert dest.read_bytes() == b"hello"
    assert cli(s, "rm", "cli-bucket/dir/file.bin") == 0
    assert cli(s, "rb", "cli-bucket") == 0


def test_versioning_and_version_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """versioning shows and sets the state; ls --versions shows markers."""
    s = tmp_path / "s"
    src = tmp_path / "f"
    src.write_bytes(b"v")
    cli(s, "mb", "vers-bucket")
    assert cli(s, "versioning", "vers-bucket") == 0
    assert "never enabled" in capsys.readouterr().out
    assert cli(s, "versioning", "vers-bucket", "enable") == 0
    assert "Enabled" in capsys.readouterr().out
    cli(s, "put", str(src), "vers-bucket/k")
    cli(s, "rm", "vers-bucket/k")
    capsys.readouterr()
    assert cli(s, "ls", "--versions", "vers-bucket") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "DELETE" in lines[0] and "*" in lines[0]


def test_stdin_and_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """put - reads stdin; get ... - writes stdout."""
    s = tmp_path / "s"
    cli(s, "mb", "pipe-bucket")

    class FakeStdin:
        buffer = io.BytesIO(b"from stdin")

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    assert cli(s, "put", "-", "pipe-bucket/x") == 0
    capsysbinary.readouterr()
    assert cli(s, "get", "pipe-bucket/x", "-") == 0
    assert capsysbinary.readouterr().out == b"from stdin"


def test_errors_print_one_line_and_exit_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typed error becomes one 'objstore: Code: message' line and status 1."""
    s = tmp_path / "s"
    assert cli(s, "mb", "Bad_Name") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("objstore: InvalidBucketName:")
    assert cli(s, "stat", "nobucket/k") == 1
    assert "NoSuchBucket" in capsys.readouterr().err
    assert cli(s, "put", str(tmp_path / "missing"), "nobucket/k") == 1
    assert "objstore:" in capsys.readouterr().err
    assert cli(s, "get", "justabucket") == 1
    assert "BUCKET/KEY" in capsys.readouterr().err


def test_store_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$OBJSTORE_DIR chooses the store when --store is not given."""
    monkeypatch.setenv("OBJSTORE_DIR", str(tmp_path / "env-store"))
    assert main(["mb", "env-bucket"]) == 0
    assert (tmp_path / "env-store" / "meta").is_dir()


def test_demo_small(tmp_path: Path) -> None:
    """The demo round trip verifies, deduplicates and reports every step."""
    lines: list[str] = []
    results = run_demo(str(tmp_path / "demo"), 8 << 20, out=lines.append)
    assert set(results) == {
        "raw disk write+fsync",
        "put (first upload)",
        "get + verify",
        "put again (dedup)",
    }
    assert all(v > 0 for v in results.values())
    text = "\n".join(lines)
    assert "BLAKE3 matches" in text
    assert "big.bin" in text and "big-copy.bin" in text
    assert "chunk bytes on disk: 8 MiB" in text
