"""Tags on users and roles: add, remove, list.

Tags live in the entity's record (``tags``, a key -> value object). Keys are unique per
entity case-insensitively, as AWS's: tagging ``Team`` replaces ``team``. Every change is an
IAM write, so it bumps the generation counter and the caller's ``aws:PrincipalTag/*`` keys
(read from the record with its policies, see ``gather.py``) change from the next request on.
"""

from __future__ import annotations

from objstore.identity import repo
from objstore.identity.base import KIND_PREFIX, ServiceBase
from objstore.identity.names import check_str, check_tag_keys, check_tags, merge_tags, without_tags
from objstore.identity.repo import Record
from objstore.identity.results import Tag


class TagOps(ServiceBase):
    """The TagUser/UntagUser/ListUserTags calls and their role counterparts."""

    def tag(self, kind: str, name: str, tags: object) -> None:
        name = check_str(name, f"{kind}_name")
        new = check_tags(tags)
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            rec["tags"] = merge_tags(rec.get("tags", {}), new)
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def untag(self, kind: str, name: str, tag_keys: object) -> None:
        name = check_str(name, f"{kind}_name")
        keys = check_tag_keys(tag_keys)
        with self.repo.write() as txn:
            rec = self.need(txn, kind, name)
            rec["tags"] = without_tags(rec.get("tags", {}), keys)
            repo.put(txn, KIND_PREFIX[kind], name, rec)

    def list_tags(self, kind: str, name: str) -> list[Tag]:
        name = check_str(name, f"{kind}_name")
        with self.repo.read() as txn:
            rec = self.need(txn, kind, name)
        return [Tag(k, v) for k, v in sorted(rec.get("tags", {}).items())]

    def _entity(self, arn: str) -> Record | None:
        """The record of the user or role ``arn`` names exactly; None when it names none
        (not yet created, another path, another kind)."""
        head = f"arn:aws:iam::{self.account}:"
        kind = arn[len(head) :].split("/", 1)[0] if arn.startswith(head) else ""
        if kind not in ("user", "role"):
            return None
        with self.repo.read() as txn:
            rec = repo.get(txn, KIND_PREFIX[kind], arn.rsplit("/", 1)[-1])
        return rec if rec is not None and self.entity_arn(kind, rec) == arn else None

    def resource_tags(self, arn: str) -> dict[str, str]:
        """The tags of the user or role ``arn`` names (``aws:ResourceTag/*`` of IAM calls on
        it); empty when it names none."""
        rec = self._entity(arn)
        return {} if rec is None else dict(rec.get("tags", {}))

    def resource_boundary(self, arn: str) -> str | None:
        """The ARN of the permissions boundary of the user or role ``arn`` names (the
        ``iam:PermissionsBoundary`` of calls that change its policies); None for none."""
        rec = self._entity(arn)
        found = None if rec is None else rec.get("boundary")
        return found if isinstance(found, str) else None

    def tag_user(self, user_name: str, tags: object) -> None:
        self.tag("user", user_name, tags)

    def untag_user(self, user_name: str, tag_keys: object) -> None:
        self.untag("user", user_name, tag_keys)

    def list_user_tags(self, user_name: str) -> list[Tag]:
        return self.list_tags("user", user_name)

    def tag_role(self, role_name: str, tags: object) -> None:
        self.tag("role", role_name, tags)

    def untag_role(self, role_name: str, tag_keys: object) -> None:
        self.untag("role", role_name, tag_keys)

    def list_role_tags(self, role_name: str) -> list[Tag]:
        return self.list_tags("role", role_name)
