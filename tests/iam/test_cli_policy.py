"""``objstore policy check|simulate`` (objstore.cli.policy)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from objstore.cli.policy import EXIT_DENIED, EXIT_ERROR, EXIT_INVALID, EXIT_OK, main, register

IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": "s3:Get*",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        },
        {
            "Sid": "NoSecret",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/secret/*",
        },
    ],
}


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return str(path)


def test_register_adds_policy_command() -> None:
    """register() wires `policy check|simulate` with func defaults into a parser."""
    parser = argparse.ArgumentParser(prog="objstore")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["policy", "check", "x.json"])
    assert callable(args.func) and args.files == ["x.json"] and args.kind == "identity"
    args = parser.parse_args(["policy", "simulate", "--action", "s3:GetObject"])
    assert callable(args.func) and args.action == ["s3:GetObject"]


def test_check_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid policy prints OK and exits 0."""
    path = write(tmp_path, "p.json", IDENTITY)
    assert main(["policy", "check", path]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{path}: OK" in out and "2 statements" in out


def test_check_invalid_points_at_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid policy prints FILE:LINE:COLUMN and the element, exit 1."""
    good = write(tmp_path, "good.json", IDENTITY)
    bad = write(tmp_path, "bad.json", '{\n  "Statement": [\n    {"Effect": "allow"}\n  ]\n}')
    assert main(["policy", "check", good, bad]) == EXIT_INVALID
    out = capsys.readouterr().out
    assert f"{bad}:3:16: MalformedPolicyDocument: Statement[0].Effect" in out
    assert f"{good}: OK" in out


def test_check_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--kind selects the rules: an identity policy is not a valid bucket policy."""
    path = write(tmp_path, "p.json", IDENTITY)
    assert main(["policy", "check", "--kind", "resource", path]) == EXIT_INVALID
    assert "Principal: is required" in capsys.readouterr().out


def test_check_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file is exit 2 with a message on stderr."""
    assert main(["policy", "check", str(tmp_path / "nope.json")]) == EXIT_ERROR
    assert "cannot read" in capsys.readouterr().err


def test_simulate_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The simulator prints one row per action and resource; a denial exits 1."""
    path = write(tmp_path, "p.json", IDENTITY)
    status = main(
        [
            "policy",
            "simulate",
            "--policy",
            path,
            "--action",
            "s3:GetObject",
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::b/k",
            "--resource",
            "arn:aws:s3:::b/secret/x",
            "--context",
            "aws:SourceIp=ip:10.1.2.3",
        ]
    )
    assert status == EXIT_DENIED
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "Action",
        "Resource",
        "Decision",
        "Matched",
        "statements",
        "Missing",
        "context",
    ]
    rows = [line.split()[:3] for line in lines[2:]]
    assert rows == [
        ["s3:GetObject", "arn:aws:s3:::b/k", "allowed"],
        ["s3:GetObject", "arn:aws:s3:::b/secret/x", "explicitDeny"],
        ["s3:PutObject", "arn:aws:s3:::b/k", "implicitDeny"],
        ["s3:PutObject", "arn:aws:s3:::b/secret/x", "explicitDeny"],
    ]
    assert f"{path} Read (4:5-" in lines[2]
    assert f"{path} NoSecret" in lines[3]


def test_simulate_all_allowed_and_missing_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All allowed exits 0; missing keys are shown; a string context needs no type."""
    path = write(tmp_path, "p.json", IDENTITY)
    assert (
        main(
            [
                "policy",
                "simulate",
                "--policy",
                path,
                "--action",
                "s3:GetObject",
                "--resource",
                "arn:aws:s3:::b/k",
            ]
        )
        == EXIT_DENIED
    )
    assert "aws:SourceIp" in capsys.readouterr().out
    assert main(
        [
            "policy",
            "simulate",
            "--policy",
            path,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
            "--context",
            "aws:SourceIp=10.9.9.9",
        ]
    ) == (EXIT_OK)


def test_simulate_with_boundary_and_bucket_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Boundary column and a resource policy with a caller."""
    boundary = write(
        tmp_path,
        "boundary.json",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}],
        },
    )
    bucket = write(
        tmp_path,
        "bucket.json",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:user/a"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                }
            ],
        },
    )
    assert (
        main(
            [
                "policy",
                "simulate",
                "--boundary",
                boundary,
                "--resource-policy",
                bucket,
                "--caller",
                "arn:aws:iam::111122223333:user/a",
                "--action",
                "s3:GetObject",
                "--resource",
                "arn:aws:s3:::b/k",
            ]
        )
        == EXIT_OK
    )
    out = capsys.readouterr().out
    assert "Boundary" in out.splitlines()[0] and "denied" in out


def test_simulate_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Malformed policies and bad context values are exit 2 with a message."""
    bad = write(tmp_path, "bad.json", "{}")
    assert main(["policy", "simulate", "--policy", bad, "--action", "s3:GetObject"]) == EXIT_ERROR
    assert "MalformedPolicyDocument" in capsys.readouterr().err
    good = write(tmp_path, "p.json", IDENTITY)
    assert (
        main(
            [
                "policy",
                "simulate",
                "--policy",
                good,
                "--action",
                "s3:GetObject",
                "--context",
                "aws:SourceIp=ip:nope",
            ]
        )
        == EXIT_ERROR
    )
    assert "InvalidInput" in capsys.readouterr().err
    assert (
        main(
            [
                "policy",
                "simulate",
                "--policy",
                good,
                "--action",
                "s3:GetObject",
                "--context",
                "novalue",
            ]
        )
        == EXIT_ERROR
    )
    assert "key=type:value" in capsys.readouterr().err
