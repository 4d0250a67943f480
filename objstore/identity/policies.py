"""Managed policies and their versions, attachments, inline policies, permissions boundaries."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from objstore import keyspace
from objstore.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from objstore.iam.evaluate import as_policy
from objstore.iam.managed import MANAGED_POLICY_PREFIX, managed_policy, managed_policy_arns
from objstore.iam.parse import MAX_DOCUMENT_CHARS, document_size
from objstore.identity import repo
from objstore.identity.base import KIND_PREFIX, ServiceBase, when
from objstore.identity.ids import IdKind, new_id
from objstore.identity.names import check_name, check_path, check_path_prefix, check_str
from objstore.identity.paging import check_max_items, page
from objstore.identity.repo import Record
from objstore.identity.results import (
    AttachedPolicy,
    InlinePolicy,
    ManagedPolicy,
    Page,
    PolicyVersion,
)
from objstore.meta.base import ReadTxn, WriteTxn

MANAGED_MAX = 6144
MAX_VERSIONS = 5
MAX_ATTACHED = 10
# Inline policies: the sum of an entity's inline documents (whitespace not counted).
INLINE_MAX = {"user": 2048, "group": 5120, "role": 10240}


def check_document(document: object, what: str) -> str:
    """Policy text from a str (or a mapping, dumped as JSON). Raises InvalidInput, and
    ValidationError for text over the API's 131,072 characters (whitespace included)."""
    text = json.dumps(document) if isinstance(document, Mapping) else check_str(document, what)
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ValidationError(
            f"{what} has {len(text)} characters; it must have at most {MAX_DOCUMENT_CHARS} "
            "(whitespace included)"
        )
    return text


def _size_check(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise LimitExceeded(f"Cannot exceed quota for {what}: {limit} (this one is {size})")


class PolicyOps(ServiceBase):
    """The managed-policy, attachment, inline-policy and boundary calls."""

    # --------------------------------------------------------------- managed

    def policy_result(self, rec: Record) -> ManagedPolicy:
        return ManagedPolicy(
            rec["name"],
            rec["id"],
            self.arn("policy", rec["path"], rec["name"]),
            rec["path"],
            rec["default"],
            rec["attachments"],
            rec["boundary_uses"],
            True,
            when(rec["created"]),
            when(rec["updated"]),
            rec.get("description", ""),
        )

    def need_policy(self, txn: ReadTxn, policy_arn: object) -> Record:
        name = self.policy_name_of(policy_arn)
        rec = repo.get(txn, keyspace.IAM_POLICY, name)
        if rec is None or self.arn("policy", rec["path"], rec["name"]) != policy_arn:
            raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
        return rec

    def create_policy(
        self, policy_name: str, policy_document: object, path: str = "/", description: str = ""
    ) -> ManagedPolicy:
        name = check_name(policy_name, "policy_name", 128)
        path = check_path(path)
        text = self._managed_text(policy_document)
        description = check_str(description, "description")
        with self.repo.write() as txn:
            if repo.get(txn, keyspace.IAM_POLICY, name) is not None:
                raise EntityAlreadyExists(f"A policy called {name} already exists.")
            now = self.clock()
            rec: Record = {
                "name": name,
                "id": new_id(IdKind.POLICY),
                "path": path,
                "created": now,
                "updated": now,
                "default": "v1",
                "versions": {"v1": {"doc": text, "created": now}},
                "next": 2,
                "attachments": 0,
                "boundary_uses": 0,
                "description": description,
            }
            repo.put(txn, keyspace.IAM_POLICY, name, rec)
        return self.policy_result(rec)

    def _managed_text(self, document: object) -> str:
        text = check_document(document, "policy_document")
        _size_check(as_policy(text, "identity", "policy_document").size, MANAGED_MAX, "PolicySize")
        return text

    def get_policy(self, policy_arn: str) -> ManagedPolicy:
        if isinstance(policy_arn, str) and policy_arn.startswith(MANAGED_POLICY_PREFIX):
            return self._aws_managed(policy_arn)
        with self.repo.read() as txn:
            return self.policy_result(self.need_policy(txn, policy_arn))

    def _aws_managed(self, policy_arn: str) -> ManagedPolicy:
        name = managed_policy(policy_arn).name or policy_arn
        epoch = when(0)
        return ManagedPolicy(name, "ANPA" + name.upper()[:17], policy_arn, "/", "v1", 0, 0, True,
                             epoch, epoch)  # fmt: skip

    def list_policies(
        self,
        scope: str = "All",
        path_prefix: str = "/",
        only_attached: bool = False,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[ManagedPolicy]:
        """``scope``: "All", "AWS" (the shipped AWS managed policies, listed first) or
        "Local". Raises ValidationError, InvalidInput."""
        scope = check_str(scope, "scope")
        if scope not in ("All", "AWS", "Local"):
            raise ValidationError(f"scope must be All, AWS or Local, not {scope!r}")
        prefix = check_path_prefix(path_prefix)
        limit = check_max_items(max_items)
        markers = self.markers("policies", scope, prefix, str(bool(only_attached)))
        after = markers.position_of(marker)

        def keep(p: ManagedPolicy) -> bool:
            return p.path.startswith(prefix) and (not only_attached or p.attachment_count > 0)

        with self.repo.read() as txn:
            return page(self._policy_walk(txn, scope, after), limit, keep, lambda p: p, markers)

    def _policy_walk(
        self, txn: ReadTxn, scope: str, after: bytes | None
    ) -> Iterator[tuple[bytes, ManagedPolicy]]:
        """AWS managed policies (positions ``a`` + ARN), then this account's (``l`` + key)."""
        if scope in ("All", "AWS"):
            for arn in managed_policy_arns():
                position = b"a" + arn.encode()
                if after is None or position > after:
                    yield position, self._aws_managed(arn)
        if scope in ("All", "Local"):
            local = after[1:] if after is not None and after.startswith(b"l") else None
            for key, rec in repo.scan_after(txn, keyspace.IAM_POLICY, local):
                yield b"l" + key, self.policy_result(rec)

    def delete_policy(self, policy_arn: str) -> None:
        with self.repo.write() as txn:
            rec = self.need_policy(txn, policy_arn)
            if rec["attachments"] or rec["boundary_uses"]:
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            if len(rec["versions"]) > 1:
                raise DeleteConflict("Cannot delete a policy with non-default versions.")
            repo.delete(txn, keyspace.IAM_POLICY, rec["name"])

    def create_policy_version(
        self, policy_arn: str, policy_document: object, set_as_default: bool = True
    ) -> PolicyVersion:
        text = self._managed_text(policy_document)
        with self.repo.write() as txn:
            rec = self.need_policy(txn, policy_arn)
            if len(rec["versions"]) >= MAX_VERSIONS:
                raise LimitExceeded(
                    f"A managed policy can have at most {MAX_VERSIONS} versions; delete one first."
                )
            vid = f"v{rec['next']}"
            now = self.clock()
            rec["next"] += 1
            rec["versions"][vid] = {"doc": text, "created": now}
            if set_as_default:
                rec["default"] = vid
            rec["updated"] = now
            repo.put(txn, keyspace.IAM_POLICY, rec["name"], rec)
        return PolicyVersion(vid, text, bool(set_as_default), when(now))

    def _version(self, rec: Record, vid: str) -> PolicyVersion:
        found = rec["versions"].get(vid)
        if found is None:
            raise NoSuchEntity(f"Policy version {vid} does not exist.")
        return PolicyVersion(vid, found["doc"], vid == rec["default"], when(found["created"]))

    def get_policy_version(self, policy_arn: str, version_id: str) -> PolicyVersion:
        if isinstance(policy_arn, str) and policy_arn.startswith(MANAGED_POLICY_PREFIX):
            if version_id != "v1":
                raise NoSuchEntity(f"Policy version {version_id} does not exist.")
            return PolicyVersion("v1", managed_policy(policy_arn).source, True, when(0))
        with self.repo.read() as txn:
            return self._version(self.need_policy(txn, policy_arn), version_id)

    def list_policy_versions(self, policy_arn: str) -> list[PolicyVersion]:
        with self.repo.read() as txn:
            rec = self.need_policy(txn, policy_arn)
        return [self._version(rec, v) for v in sorted(rec["versions"], key=lambda v: int(v[1:]))]

    def delete_policy_version(self, policy_arn: str, version_id: str) -> None:
        with self.repo.write() as txn:
            rec = self.need_policy(txn, policy_arn)
            self._version(rec, version_id)
            if version_id == rec["default"]:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            del rec["versions"][version_id]
            repo.put(txn, keyspace.IAM_POLICY, rec["name"], rec)

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        with self.repo.write() as txn:
            rec = self.need_policy(txn, policy_arn)
            self._version(rec, version_id)
            rec["default"] = version_id
            rec["updated"] = self.clock()
            repo.put(txn, keyspace.IAM_POLICY, rec["name"], rec)

    # ----------------------------------------------------------- attachments

    def _check_attachable(self, txn: WriteTxn, policy_arn: object, delta: int, use: str) -> None:
        """The policy exists; count the attachment (AWS managed policies are not counted)."""
        if isinstance(policy_arn, str) and policy_arn.startswith(MANAGED_POLICY_PREFIX):
            managed_policy(policy_arn)
            return
        rec = self.need_policy(txn, policy_arn)
        rec[use] += delta
        repo.put(txn, keyspace.IAM_POLICY, rec["name"], rec)

    def attach(self, kind: str, name: str, policy_arn: str) -> None:
        name = check_str(name, f"{kind}_name")
        check_str(policy_arn, "policy_arn")
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            if policy_arn in rec["attached"]:
                return  # attaching twice changes nothing, as in AWS
            if len(rec["attached"]) >= MAX_ATTACHED:
                raise LimitExceeded(
                    f"Cannot exceed quota for PoliciesPerUser/Group/Role: {MAX_ATTACHED}"
                )
            self._check_attachable(txn, policy_arn, 1, "attachments")
            rec["attached"].append(policy_arn)
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def detach(self, kind: str, name: str, policy_arn: str) -> None:
        name = check_str(name, f"{kind}_name")
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            if policy_arn not in rec["attached"]:
                raise NoSuchEntity(f"Policy {policy_arn} is not attached to {kind} {name}.")
            rec["attached"].remove(policy_arn)
            self._check_attachable(txn, policy_arn, -1, "attachments")
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def list_attached(self, kind: str, name: str) -> list[AttachedPolicy]:
        name = check_str(name, f"{kind}_name")
        with self.repo.read() as txn:
            rec = self.need(txn, kind, name)
        return [AttachedPolicy(arn.rsplit("/", 1)[-1], arn) for arn in rec["attached"]]

    def attach_user_policy(self, user_name: str, policy_arn: str) -> None:
        self.attach("user", user_name, policy_arn)

    def attach_group_policy(self, group_name: str, policy_arn: str) -> None:
        self.attach("group", group_name, policy_arn)

    def attach_role_policy(self, role_name: str, policy_arn: str) -> None:
        self.attach("role", role_name, policy_arn)

    def detach_user_policy(self, user_name: str, policy_arn: str) -> None:
        self.detach("user", user_name, policy_arn)

    def detach_group_policy(self, group_name: str, policy_arn: str) -> None:
        self.detach("group", group_name, policy_arn)

    def detach_role_policy(self, role_name: str, policy_arn: str) -> None:
        self.detach("role", role_name, policy_arn)

    def list_attached_user_policies(self, user_name: str) -> list[AttachedPolicy]:
        return self.list_attached("user", user_name)

    def list_attached_group_policies(self, group_name: str) -> list[AttachedPolicy]:
        return self.list_attached("group", group_name)

    def list_attached_role_policies(self, role_name: str) -> list[AttachedPolicy]:
        return self.list_attached("role", role_name)

    # ---------------------------------------------------------------- inline

    def put_inline(self, kind: str, name: str, policy_name: str, document: object) -> None:
        name = check_str(name, f"{kind}_name")
        pname = check_name(policy_name, "policy_name", 128)
        text = check_document(document, "policy_document")
        size = as_policy(text, "identity", "policy_document").size
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            inline = {k: v for k, v in rec["inline"].items() if k.lower() != pname.lower()}
            # The stored documents are weighed, not parsed again: one an earlier version
            # saved may exceed today's cap on new text, and must not block this call.
            total = size + sum(document_size(v) for v in inline.values())
            _size_check(total, INLINE_MAX[kind], f"inline policies of one {kind}")
            inline[pname] = text
            rec["inline"] = inline
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def _inline_name(self, rec: Record, kind: str, policy_name: str) -> str:
        for existing in rec["inline"]:
            if existing.lower() == str(policy_name).lower():
                return str(existing)
        raise NoSuchEntity(f"The {kind} policy with name {policy_name} cannot be found.")

    def get_inline(self, kind: str, name: str, policy_name: str) -> InlinePolicy:
        name = check_str(name, f"{kind}_name")
        with self.repo.read() as txn:
            rec = self.need(txn, kind, name)
        pname = self._inline_name(rec, kind, policy_name)
        return InlinePolicy(rec["name"], pname, rec["inline"][pname])

    def delete_inline(self, kind: str, name: str, policy_name: str) -> None:
        name = check_str(name, f"{kind}_name")
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            del rec["inline"][self._inline_name(rec, kind, policy_name)]
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def list_inline(self, kind: str, name: str) -> list[str]:
        name = check_str(name, f"{kind}_name")
        with self.repo.read() as txn:
            return sorted(self.need(txn, kind, name)["inline"])

    def put_user_policy(self, user_name: str, policy_name: str, policy_document: object) -> None:
        self.put_inline("user", user_name, policy_name, policy_document)

    def put_group_policy(self, group_name: str, policy_name: str, policy_document: object) -> None:
        self.put_inline("group", group_name, policy_name, policy_document)

    def put_role_policy(self, role_name: str, policy_name: str, policy_document: object) -> None:
        self.put_inline("role", role_name, policy_name, policy_document)

    def get_user_policy(self, user_name: str, policy_name: str) -> InlinePolicy:
        return self.get_inline("user", user_name, policy_name)

    def get_group_policy(self, group_name: str, policy_name: str) -> InlinePolicy:
        return self.get_inline("group", group_name, policy_name)

    def get_role_policy(self, role_name: str, policy_name: str) -> InlinePolicy:
        return self.get_inline("role", role_name, policy_name)

    def delete_user_policy(self, user_name: str, policy_name: str) -> None:
        self.delete_inline("user", user_name, policy_name)

    def delete_group_policy(self, group_name: str, policy_name: str) -> None:
        self.delete_inline("group", group_name, policy_name)

    def delete_role_policy(self, role_name: str, policy_name: str) -> None:
        self.delete_inline("role", role_name, policy_name)

    def list_user_policies(self, user_name: str) -> list[str]:
        return self.list_inline("user", user_name)

    def list_group_policies(self, group_name: str) -> list[str]:
        return self.list_inline("group", group_name)

    def list_role_policies(self, role_name: str) -> list[str]:
        return self.list_inline("role", role_name)

    # ------------------------------------------------------------ boundaries

    def boundary_target(self, txn: WriteTxn, policy_arn: object) -> str:
        """Count a new boundary use of ``policy_arn`` (which must exist); return it."""
        check_str(policy_arn, "permissions_boundary")
        self._check_attachable(txn, policy_arn, 1, "boundary_uses")
        return str(policy_arn)

    def put_boundary(self, kind: str, name: str, policy_arn: str) -> None:
        name = check_str(name, f"{kind}_name")
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            if rec.get("boundary") == policy_arn:
                return
            if rec.get("boundary"):
                self._check_attachable(txn, rec["boundary"], -1, "boundary_uses")
            rec["boundary"] = self.boundary_target(txn, policy_arn)
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def delete_boundary(self, kind: str, name: str) -> None:
        name = check_str(name, f"{kind}_name")
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            if not rec.get("boundary"):
                raise NoSuchEntity(f"The {kind} {name} has no permissions boundary.")
            self._check_attachable(txn, rec["boundary"], -1, "boundary_uses")
            rec["boundary"] = None
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def put_user_permissions_boundary(self, user_name: str, policy_arn: str) -> None:
        self.put_boundary("user", user_name, policy_arn)

    def put_role_permissions_boundary(self, role_name: str, policy_arn: str) -> None:
        self.put_boundary("role", role_name, policy_arn)

    def delete_user_permissions_boundary(self, user_name: str) -> None:
        self.delete_boundary("user", user_name)

    def delete_role_permissions_boundary(self, role_name: str) -> None:
        self.delete_boundary("role", role_name)
