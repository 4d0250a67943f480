"""Regression tests for the command-line defects of issue 6 section 0.

Escaped names, ``get`` into a directory without leftovers, refusing a missing store,
``python -m objstore``, the README's word on ``.venv/bin``, the SPDX license, and a demo
that cleans up after itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objstore.cli import main
from objstore.cli import storage as cli_storage
from objstore.cli.demo import run as run_demo
from objstore.cli.escape import shown

ROOT = Path(__file__).resolve().parents[2]


def cli(store: Path, *args: str) -> int:
    return main(["--store", str(store), *args])


def unescape(text: str) -> str:
    """Decode :func:`shown`'s escapes (Python's) back to the original text."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


# --- escaping -------------------------------------------------------------------------


@given(st.text())
def test_shown_round_trips_so_names_never_print_alike(text: str) -> None:
    """Decoding the escapes gives the original: two names never print the same."""
    assert unescape(shown(text)) == text


@given(st.text())
def test_shown_has_no_control_or_layout_characters(text: str) -> None:
    """What is printed holds no control character, line break or bidi override."""
    out = shown(text)
    assert all(unicodedata.category(c) not in ("Cc", "Zl", "Zp", "Cs") for c in out)
    assert not set(out) & set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2069")


def test_shown_examples() -> None:
    assert shown("photos/2026/cat.jpg") == "photos/2026/cat.jpg"
    assert shown("é/日本") == "é/日本"
    assert shown("a\nb\rc\td\\e") == "a\\nb\\rc\\td\\\\e"
    assert shown("\x1b[2J\x00\x7f\x85") == "\\x1b[2J\\x00\\x7f\\x85"
    assert shown("\u202eevil\u2028") == "\\u202eevil\\u2028"


EVIL = "k\x1b[31m\n2026-01-01 00:00:00           5 forged\\x"


def test_ls_cannot_be_forged_or_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key holding ESC, a newline and a backslash lists as one escaped line."""
    s = tmp_path / "s"
    src = tmp_path / "f"
    src.write_bytes(b"12345")
    assert cli(s, "mb", "esc-bucket") == 0
    assert cli(s, "put", str(src), f"esc-bucket/{EVIL}") == 0
    assert cli(s, "versioning", "esc-bucket", "enable") == 0
    capsys.readouterr()
    for args in (
        ("ls", "-r", "esc-bucket"),
        ("ls", "--versions", "esc-bucket"),
        ("stat", f"esc-bucket/{EVIL}"),
        ("rm", f"esc-bucket/{EVIL}"),
    ):
        assert cli(s, *args) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out
        if args[0] == "ls":
            (line,) = out.splitlines()
            assert line.endswith(" " + shown(EVIL))
    assert cli(s, "ls", "esc-bucket/k\x1b") == 0
    assert "\x1b" not in capsys.readouterr().out
    # A common prefix (ls without -r) is escaped too.
    assert cli(s, "put", str(src), "esc-bucket/d\x1b[0m/x") == 0
    capsys.readouterr()
    assert cli(s, "ls", "esc-bucket") == 0
    assert "PRE d\\x1b[0m/" in capsys.readouterr().out


def test_error_lines_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Errors naming a key stay one line with no raw control characters."""
    s = tmp_path / "s"
    assert cli(s, "mb", "err-bucket") == 0
    capsys.readouterr()
    assert cli(s, "get", "err-bucket/a\nb\x1b", str(tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "\x1b" not in err
    assert err.startswith("objstore: NoSuchKey:")


# --- get into a directory, no partial files ------------------------------------------


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, bytes, Path]:
    """A store whose bucket ``get-bkt`` holds ``dir/file.bin`` of three 4 MiB chunks, its
    content, and an empty directory to download into."""
    s = tmp_path / "s"
    data = os.urandom(9 << 20)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    assert cli(s, "mb", "get-bkt") == 0
    assert cli(s, "put", str(src), "get-bkt/dir/file.bin") == 0
    (tmp_path / "out").mkdir()
    return s, data, tmp_path / "out"


def test_get_into_a_directory_names_the_file_after_the_key(
    tmp_path: Path, loaded: tuple[Path, bytes, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, data, out = loaded
    assert cli(s, "get", "get-bkt/dir/file.bin", f"{out}/") == 0
    assert (out / "file.bin").read_bytes() == data
    (out / "file.bin").unlink()
    assert cli(s, "get", "get-bkt/dir/file.bin", str(out)) == 0  # no trailing slash
    assert sorted(os.listdir(out)) == ["file.bin"]
    monkeypatch.chdir(out)
    (out / "file.bin").unlink()
    assert cli(s, "get", "get-bkt/dir/file.bin") == 0  # no target: the current directory
    assert (out / "file.bin").read_bytes() == data
    assert sorted(os.listdir(out)) == ["file.bin"]


def test_get_refuses_names_that_are_not_files(
    tmp_path: Path, loaded: tuple[Path, bytes, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A key ending in '/', '.' or '..' gives no file name inside a directory."""
    s, _, out = loaded
    for key in ("get-bkt/dir/", "get-bkt/dir/..", "get-bkt/."):
        assert cli(s, "get", key, f"{out}/") == 1
        assert "file name" in capsys.readouterr().err
    assert cli(s, "get", "get-bkt/dir/file.bin", f"{tmp_path}/missing-dir/") == 1
    assert "no such directory" in capsys.readouterr().err
    assert os.listdir(out) == []
    assert not (tmp_path / "missing-dir").exists()


def test_failed_get_leaves_nothing_behind(
    tmp_path: Path, loaded: tuple[Path, bytes, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing key, and corruption found mid-download, leave the directory unchanged."""
    s, _, out = loaded
    (out / "file.bin").write_bytes(b"old content")
    assert cli(s, "get", "get-bkt/dir/nope.bin", f"{out}/") == 1
    chunks = sorted(p for p in (s / "chunks").rglob("*") if p.is_file() and len(p.name) == 64)
    assert len(chunks) == 3
    # Flip a byte in every chunk: the download fails whichever chunk comes second.
    for chunk in chunks:
        raw = bytearray(chunk.read_bytes())
        raw[len(raw) // 2] ^= 1
        chunk.write_bytes(raw)
    capsys.readouterr()
    assert cli(s, "get", "get-bkt/dir/file.bin", f"{out}/") == 1
    assert "DataCorruption" in capsys.readouterr().err
    assert sorted(os.listdir(out)) == ["file.bin"]
    assert (out / "file.bin").read_bytes() == b"old content"


def test_interrupted_get_leaves_nothing_behind(
    tmp_path: Path, loaded: tuple[Path, bytes, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of a download removes the temporary file; status 130."""
    s, _, out = loaded
    seen: list[int] = []

    def interrupt(self: object, n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_storage.Progress, "add", interrupt)
    assert cli(s, "get", "get-bkt/dir/file.bin", str(out / "x.bin")) == 130
    assert len(seen) == 2
    assert os.listdir(out) == []


def test_downloaded_file_mode_follows_the_umask(
    tmp_path: Path, loaded: tuple[Path, bytes, Path]
) -> None:
    """The temporary file is not left 0600: the result gets the usual 0666 & ~umask."""
    s, _, _ = loaded
    old = os.umask(0o022)
    try:
        assert cli(s, "get", "get-bkt/dir/file.bin", str(tmp_path / "m.bin")) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "m.bin").stat().st_mode & 0o777 == 0o644


# --- a missing store is an error, not a new empty store -------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("ls",),
        ("ls", "b"),
        ("get", "b/k", "-"),
        ("stat", "b/k"),
        ("versioning", "b"),
        ("versioning", "b", "enable"),
        ("gc",),
        ("fsck",),
        ("stats",),
        ("put", "-", "b/k"),
        ("rm", "b/k"),
        ("rb", "b"),
    ],
)
def test_commands_refuse_a_missing_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    typo = tmp_path / "mistyped"
    assert cli(typo, *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("objstore: no store at ") and "mb BUCKET" in err
    assert not typo.exists()
    # An existing directory that is no store (e.g. --store .) is refused the same way.
    assert cli(tmp_path, *args) == 1
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "meta").exists() and not (tmp_path / "chunks").exists()


def test_mb_creates_a_store_but_not_in_a_foreign_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path / "new", "mb", "first") == 0
    assert cli(tmp_path / "new", "ls") == 0
    assert "first" in capsys.readouterr().out
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.txt").write_text("mine")
    assert cli(tmp_path / "project", "mb", "b") == 1
    assert "non-empty directory" in capsys.readouterr().err
    assert os.listdir(tmp_path / "project") == ["notes.txt"]


# --- python -m objstore ---------------------------------------------------------------


def test_python_dash_m_objstore(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "objstore", "--store", str(tmp_path / "s"), "mb", "via-m"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "make_bucket: via-m\n"
    run = subprocess.run(
        [sys.executable, "-m", "objstore", "--store", str(tmp_path / "nope"), "ls"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 1 and "no store at" in run.stderr


# --- packaging and documentation -----------------------------------------------------


def test_readme_says_where_the_command_lives() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/objstore" in quick and "source .venv/bin/activate" in quick
    # The quick start stays two commands.
    assert [line.split()[0] for line in quick.splitlines() if line.startswith("    ")] == [
        "make",
        "make",
    ]


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    """The table form makes setuptools >= 77 warn on every install."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    (setuptools,) = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools.replace(" ", "") == "setuptools>=77"


# --- the demo cleans up -----------------------------------------------------------------


def test_demo_leaves_no_dead_data(tmp_path: Path) -> None:
    """Each run deletes what it wrote and collects it: runs do not pile up gigabytes."""
    store = tmp_path / "demo"
    for _ in range(2):
        lines: list[str] = []
        run_demo(str(store), 5 << 20, out=lines.append)
        assert lines[-1] == "cleaned up: deleted the demo's objects, gc freed 5 MiB"
    chunk_files = [p for p in (store / "chunks").rglob("*") if p.is_file() and len(p.name) == 64]
    assert chunk_files == []
    assert main(["--store", str(store), "ls"]) == 0
