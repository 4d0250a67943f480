"""Renaming and moving users and groups, and changing a role's description and session limit.

A user or group keeps its id across a rename; everything that names it follows: group
memberships both ways, access keys and MFA devices (whose records name their user), and the
record itself moves to the key of its new name. Attached and inline policies and the
permissions boundary live in the record, so they follow with it. Bucket and trust policies
naming a user as a Principal are bound to its unique id (``bindings.py``), so they keep
naming it under its new name and show its new ARN, as AWS updates them (bindings.render).
Clients built from the user's keys and its sessions stand for its unique id, not its name
(``callers.py``): they act as the renamed user from their next call. Whatever else named the
old ARN (policies naming it as a Resource or in a condition) is not rewritten: as in AWS,
such references stop matching.
"""

from __future__ import annotations

from objstore import keyspace
from objstore.errors import EntityAlreadyExists
from objstore.identity import callers, repo
from objstore.identity.base import KIND_PREFIX, ServiceBase
from objstore.identity.names import (
    check_description,
    check_int,
    check_name,
    check_path,
    check_str,
    check_user_name,
)
from objstore.identity.repo import Record
from objstore.meta.base import WriteTxn


class UpdateOps(ServiceBase):
    """UpdateUser, UpdateGroup, UpdateRole."""

    def _update(
        self,
        txn: WriteTxn,
        kind: str,
        name: object,
        new_name: object,
        new_path: object,
        max_len: int,
    ) -> tuple[Record, str, str] | None:
        """Give the ``kind`` named ``name`` its new name and path; (record, old name, new
        name) when the name changed. Raises NoSuchEntity, EntityAlreadyExists,
        ValidationError, InvalidInput."""
        current = check_str(name, f"{kind}_name")
        if new_name is None:
            wanted = None
        elif kind == "user":
            wanted = check_user_name(new_name, "new_user_name")
        else:
            wanted = check_name(new_name, f"new_{kind}_name", max_len)
        path = None if new_path is None else check_path(new_path, "new_path")
        rec = self.need(txn, kind, current)
        old = rec["name"]
        if path is not None:
            rec["path"] = path
        if wanted is None or wanted == old:
            repo.put(txn, KIND_PREFIX[kind], old, rec)
            return None
        if wanted.lower() != old.lower() and repo.get(txn, KIND_PREFIX[kind], wanted):
            raise EntityAlreadyExists(f"{kind.capitalize()} with name {wanted} already exists.")
        rec["name"] = wanted
        repo.delete(txn, KIND_PREFIX[kind], old)  # the same key when only the case changes
        repo.put(txn, KIND_PREFIX[kind], wanted, rec)
        return rec, old, wanted

    def update_user(
        self, user_name: str, new_user_name: str | None = None, new_path: str | None = None
    ) -> None:
        with self.repo.write() as txn:
            renamed = self._update(txn, "user", user_name, new_user_name, new_path, 64)
            if renamed is None:
                return
            rec, old, new = renamed
            # Its clients and sessions stand for its id, and find it under the new name.
            callers.note_user_name(txn, rec["id"], new)
            for group in rec["groups"]:
                grec = self.need(txn, "group", group)
                grec["members"] = [new if m == old else m for m in grec["members"]]
                repo.put(txn, keyspace.IAM_GROUP, group, grec)
            for key_id in rec["keys"]:
                _set_owner(txn, keyspace.IAM_ACCESS_KEY, key_id, new)
            for serial in rec.get("mfa", []):
                _set_owner(txn, keyspace.IAM_MFA, serial.rsplit("/", 1)[-1], new)

    def update_group(
        self, group_name: str, new_group_name: str | None = None, new_path: str | None = None
    ) -> None:
        with self.repo.write() as txn:
            renamed = self._update(txn, "group", group_name, new_group_name, new_path, 128)
            if renamed is None:
                return
            rec, old, new = renamed
            for member in rec["members"]:
                urec = self.need(txn, "user", member)
                urec["groups"] = [new if g == old else g for g in urec["groups"]]
                repo.put(txn, keyspace.IAM_USER, member, urec)

    def update_role(
        self,
        role_name: str,
        description: str | None = None,
        max_session_duration: int | None = None,
    ) -> None:
        name = check_str(role_name, "role_name")
        text = None if description is None else check_description(description)
        duration = (
            None
            if max_session_duration is None
            else check_int(max_session_duration, "max_session_duration", 3600, 43200)
        )
        with self.repo.write() as txn:
            rec = self.need(txn, "role", name)
            if text is not None:
                rec["description"] = text
            if duration is not None:
                rec["max_session"] = duration
            repo.put(txn, keyspace.IAM_ROLE, name, rec)


def _set_owner(txn: WriteTxn, prefix: bytes, name: str, user: str) -> None:
    """Point the access key or MFA device record ``name`` at its renamed user."""
    rec = repo.get(txn, prefix, name)
    if rec is not None:
        rec["user"] = user
        repo.put(txn, prefix, name, rec)
