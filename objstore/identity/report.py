"""The credential report: AWS's CSV of every user's (and the root's) credentials."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from objstore import keyspace
from objstore.errors import NoSuchEntity
from objstore.identity import passwords, repo
from objstore.identity.credentials import ROOT_NAME
from objstore.identity.federation import FederationOps
from objstore.identity.repo import Record
from objstore.meta.base import ReadTxn

COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)  # fmt: skip
_REPORT = "credential-report"


def _iso(ns: int | float | None, missing: str = "N/A") -> str:
    if ns is None:
        return missing
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ReportOps(FederationOps):
    """GenerateCredentialReport / GetCredentialReport."""

    def _row(
        self,
        txn: ReadTxn,
        name: str,
        arn: str,
        created: int | None,
        holder: Record,
        policy: passwords.PasswordPolicy | None,
    ) -> list[str]:
        login = holder.get("login")
        is_root = name == ROOT_NAME
        if login:
            expires = passwords.password_expires_at(login["changed"] / 1e9, policy)
            password = [
                "true",
                _iso(holder.get("password_last_used"), "no_information"),
                _iso(login["changed"]),
                _iso(None if expires is None else expires * 1e9),
            ]
        else:
            password = ["not_supported" if is_root else "false", "N/A", "N/A", "N/A"]
        row = [name, arn, _iso(created, "not_supported"), *password]
        row.append("true" if holder.get("mfa") else "false")
        found = [repo.get(txn, keyspace.IAM_ACCESS_KEY, k) for k in holder.get("keys", [])]
        keys = [k for k in found if k is not None][:2]
        for i in range(2):
            if i < len(keys):
                k = keys[i]
                used = k.get("last_used")
                row += [
                    "true" if k["status"] == "Active" else "false",
                    _iso(k["created"]),
                    _iso(used),
                    "us-east-1" if used else "N/A",
                    k.get("last_service") or "N/A",
                ]
            else:
                row += ["false", "N/A", "N/A", "N/A", "N/A"]
        return [*row, "false", "N/A", "false", "N/A"]

    def generate_credential_report(self) -> str:
        """Build the report now; returns AWS's state, "COMPLETE"."""
        with self.repo.read() as txn:
            policy = self.password_policy(txn)
            rows = [self._row(txn, ROOT_NAME, self.root_arn, None, self.root_record(txn), None)]
            for user in repo.scan(txn, keyspace.IAM_USER):
                rows.append(
                    self._row(
                        txn,
                        user["name"],
                        self.entity_arn("user", user),
                        user["created"],
                        user,
                        policy,
                    )
                )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        # Not a policy change: stored without bumping the generation.
        with self.repo.meta.begin_write() as wtxn:
            repo.put(
                wtxn,
                keyspace.IAM_ACCOUNT,
                _REPORT,
                {"csv": out.getvalue(), "generated": self.clock()},
            )
        return "COMPLETE"

    def get_credential_report(self) -> str:
        """The last generated report (CSV). Raises NoSuchEntity before the first one."""
        with self.repo.read() as txn:
            found = repo.get(txn, keyspace.IAM_ACCOUNT, _REPORT)
        if found is None:
            raise NoSuchEntity("No credential report: call generate_credential_report first.")
        return str(found["csv"])
