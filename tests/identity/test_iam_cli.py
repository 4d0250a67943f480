"""``objstore iam ...`` and the credential report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import objstore
from objstore.cli import main
from objstore.identity.report import COLUMNS


def run(capsys: pytest.CaptureFixture[str], store: Path, *argv: str, **env: str) -> tuple[int, str]:
    status = main(["--store", str(store), *argv])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_iam_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    assert run(capsys, store, "mb", "bkt")[0] == 0
    assert run(capsys, store, "iam", "create-user", "yash", "--path", "/hr/")[0] == 0
    assert run(capsys, store, "iam", "create-group", "HR")[0] == 0
    assert run(capsys, store, "iam", "add-user-to-group", "HR", "yash")[0] == 0
    doc = tmp_path / "p.json"
    doc.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        )
    )
    status, out = run(capsys, store, "iam", "create-policy", "read", str(doc))
    assert status == 0 and "arn=arn:aws:iam::000000000000:policy/read" in out
    arn = "arn:aws:iam::000000000000:policy/read"
    assert run(capsys, store, "iam", "attach-group-policy", "HR", arn)[0] == 0
    status, out = run(capsys, store, "iam", "list-users")
    assert "user_name=yash" in out and "arn=arn:aws:iam::000000000000:user/hr/yash" in out
    status, out = run(capsys, store, "iam", "create-access-key", "yash")
    fields = dict(part.split("=", 1) for part in out.split("  "))
    key_id, secret = fields["access_key_id"], fields["secret_access_key"]
    user_arn = "arn:aws:iam::000000000000:user/hr/yash"
    status, out = run(capsys, store, "iam", "simulate", user_arn, "s3:GetObject", "s3:PutObject")
    assert status == 2 and "allowed" in out and "implicitDeny" in out
    # As yash: reading IAM is not among yash's permissions.
    status, out = run(
        capsys, store, "iam", "--access-key", key_id, "--secret-key", secret, "list-users"
    )
    assert status == 1 and "AccessDenied" in out and "iam:ListUsers" in out
    status, out = run(capsys, store, "iam", "create-virtual-mfa-device", "dev")
    assert status == 0 and "otpauth://totp/" in out
    status, out = run(capsys, store, "iam", "credential-report")
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == COLUMNS
    assert [r[0] for r in rows[1:]] == ["<root_account>", "yash"]


def test_credential_report_columns_and_values() -> None:
    with objstore.open(None) as s:
        iam = s.root.iam
        iam.create_user("ann")
        iam.create_login_profile("ann", "Str0ng-Passw0rd!")
        key = iam.create_access_key("ann")
        iam.update_access_key("ann", key.access_key_id, "Inactive")
        iam.create_access_key(None)  # root keys show in the root row, as AWS warns
        with pytest.raises(objstore.errors.NoSuchEntity):
            iam.get_credential_report()
        assert iam.generate_credential_report() == "COMPLETE"
        rows = {r["user"]: r for r in csv.DictReader(io.StringIO(iam.get_credential_report()))}
        root, ann = rows["<root_account>"], rows["ann"]
        assert root["access_key_1_active"] == "true" and root["password_enabled"] == "not_supported"
        assert ann["password_enabled"] == "true" and ann["access_key_1_active"] == "false"
        assert ann["access_key_2_active"] == "false" and ann["mfa_active"] == "false"
        assert ann["arn"] == "arn:aws:iam::000000000000:user/ann"
