"""Users, groups and roles: create, read, list, delete, group membership."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from objstore.iam.evaluate import as_policy
from objstore.iam.matchers import ActionMatcher
from objstore.identity import bindings, callers, repo
from objstore.identity.base import KIND_PREFIX, to_datetime, when
from objstore.identity.ids import IdKind, new_id
from objstore.identity.names import (
    check_description,
    check_int,
    check_name,
    check_path,
    check_path_prefix,
    check_str,
    check_tags,
    check_user_name,
)
from objstore.identity.paging import check_max_items, page
from objstore.identity.policies import PolicyOps, check_document
from objstore.identity.repo import Record
from objstore.identity.results import Group, GroupDetail, Page, Role, User
from objstore.meta.base import ReadTxn, WriteTxn

T = TypeVar("T")
MAX_GROUPS_PER_USER = 10
TRUST_POLICY_MAX = 2048


class EntityOps(PolicyOps):
    """The user, group and role calls of the IAM service."""

    # -------------------------------------------------------------- results

    def user_result(self, rec: Record) -> User:
        return User(
            rec["name"],
            rec["id"],
            self.entity_arn("user", rec),
            rec["path"],
            when(rec["created"]),
            dict(rec.get("tags", {})),
            rec.get("boundary"),
            to_datetime(rec.get("password_last_used")),
        )

    def group_result(self, rec: Record) -> Group:
        return Group(
            rec["name"], rec["id"], self.entity_arn("group", rec), rec["path"], when(rec["created"])
        )

    def role_result(self, rec: Record, txn: ReadTxn | None = None) -> Role:
        """The role as shown; with ``txn``, its trust policy's bound principals rendered as
        they now stand (see bindings.render)."""
        trust = rec["trust"]
        if txn is not None:
            trust = bindings.render(txn, self.account, trust, rec.get("trust_principals"))
        return Role(
            rec["name"],
            rec["id"],
            self.entity_arn("role", rec),
            rec["path"],
            when(rec["created"]),
            trust,
            rec["max_session"],
            rec.get("description", ""),
            dict(rec.get("tags", {})),
            rec.get("boundary"),
        )

    def _listed(
        self,
        prefix: bytes,
        path_prefix: object,
        marker: object,
        max_items: object,
        result: Callable[[Record, ReadTxn], T],
    ) -> Page[T]:
        """A page of the entities under ``prefix`` whose path starts with ``path_prefix``
        (``result`` makes each one's result, in the transaction that read it)."""
        wanted = check_path_prefix(path_prefix)
        limit = check_max_items(max_items)
        markers = self.markers(prefix.decode(), wanted)
        after = markers.position_of(marker)
        with self.repo.read() as txn:
            walk = repo.scan_after(txn, prefix, after)
            return page(
                walk,
                limit,
                lambda r: str(r["path"]).startswith(wanted),
                lambda r: result(r, txn),
                markers,
            )

    def _new(self, txn: ReadTxn, kind: str, name: str) -> None:
        if repo.get(txn, KIND_PREFIX[kind], name) is not None:
            raise EntityAlreadyExists(f"{kind.capitalize()} with name {name} already exists.")

    # ----------------------------------------------------------------- users

    def create_user(
        self,
        user_name: str,
        path: str = "/",
        tags: object = None,
        permissions_boundary: str | None = None,
    ) -> User:
        name = check_user_name(user_name)
        path = check_path(path)
        tag_map = check_tags(tags)
        with self.repo.write() as txn:
            self._new(txn, "user", name)
            rec: Record = {
                "name": name,
                "id": new_id(IdKind.USER),
                "path": path,
                "created": self.clock(),
                "tags": tag_map,
                "boundary": None,
                "groups": [],
                "attached": [],
                "inline": {},
                "keys": [],
                "mfa": [],
                "login": None,
            }
            if permissions_boundary is not None:
                rec["boundary"] = self.boundary_target(txn, permissions_boundary)
            repo.put(txn, keyspace.IAM_USER, name, rec)
        return self.user_result(rec)

    def get_user(self, user_name: str | None, caller: Identity) -> User:
        with self.repo.read() as txn:
            name = self.acted_on(txn, caller, user_name)
            if name is not None:
                return self.user_result(self.need(txn, "user", name))
        # The root, as AWS answers GetUser for it: the account id as its id.
        return User("<root_account>", self.account, self.root_arn, "/", when(0))

    def list_users(
        self, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[User]:
        return self._listed(
            keyspace.IAM_USER, path_prefix, marker, max_items, lambda r, _: self.user_result(r)
        )

    def delete_user(self, user_name: str) -> None:
        name = check_str(user_name, "user_name")
        with self.repo.write() as txn:
            rec = self.need(txn, "user", name)
            for field, what in (
                ("groups", "groups"),
                ("attached", "attached policies"),
                ("inline", "inline policies"),
                ("keys", "access keys"),
                ("mfa", "MFA devices"),
                ("login", "a login profile"),
            ):
                if rec.get(field):
                    raise DeleteConflict(
                        f"Cannot delete entity, must remove {what} first.", user=name
                    )
            self._release_boundary(txn, rec)
            repo.delete(txn, keyspace.IAM_USER, name)
            callers.forget_user_id(txn, rec["id"])

    def _release_boundary(self, txn: WriteTxn, rec: Record) -> None:
        """A deleted user or role no longer uses its boundary policy (so it can be deleted)."""
        if rec.get("boundary"):
            self._check_attachable(txn, rec["boundary"], -1, "boundary_uses")

    # ---------------------------------------------------------------- groups

    def create_group(self, group_name: str, path: str = "/") -> Group:
        name = check_name(group_name, "group_name", 128)
        path = check_path(path)
        with self.repo.write() as txn:
            self._new(txn, "group", name)
            rec: Record = {
                "name": name,
                "id": new_id(IdKind.GROUP),
                "path": path,
                "created": self.clock(),
                "members": [],
                "attached": [],
                "inline": {},
            }
            repo.put(txn, keyspace.IAM_GROUP, name, rec)
        return self.group_result(rec)

    def get_group(self, group_name: str) -> GroupDetail:
        name = check_str(group_name, "group_name")
        with self.repo.read() as txn:
            rec = self.need(txn, "group", name)
            users = tuple(self.user_result(self.need(txn, "user", m)) for m in rec["members"])
        return GroupDetail(self.group_result(rec), users)

    def list_groups(
        self, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[Group]:
        return self._listed(
            keyspace.IAM_GROUP, path_prefix, marker, max_items, lambda r, _: self.group_result(r)
        )

    def delete_group(self, group_name: str) -> None:
        name = check_str(group_name, "group_name")
        with self.repo.write() as txn:
            rec = self.need(txn, "group", name)
            for field, what in (
                ("members", "users"),
                ("attached", "attached policies"),
                ("inline", "inline policies"),
            ):
                if rec.get(field):
                    raise DeleteConflict(f"Cannot delete entity, must remove {what} first.")
            repo.delete(txn, keyspace.IAM_GROUP, name)

    def add_user_to_group(self, group_name: str, user_name: str) -> None:
        gname = check_str(group_name, "group_name")
        uname = check_str(user_name, "user_name")
        with self.repo.write() as txn:
            group = self.need(txn, "group", gname)
            user = self.need(txn, "user", uname)
            if group["name"] in user["groups"]:
                return  # AWS: adding a member twice is not an error
            if len(user["groups"]) >= MAX_GROUPS_PER_USER:
                raise LimitExceeded(f"a user can be in at most {MAX_GROUPS_PER_USER} groups")
            user["groups"].append(group["name"])
            group["members"].append(user["name"])
            repo.put(txn, keyspace.IAM_USER, uname, user)
            repo.put(txn, keyspace.IAM_GROUP, gname, group)

    def remove_user_from_group(self, group_name: str, user_name: str) -> None:
        gname = check_str(group_name, "group_name")
        uname = check_str(user_name, "user_name")
        with self.repo.write() as txn:
            group = self.need(txn, "group", gname)
            user = self.need(txn, "user", uname)
            if group["name"] not in user["groups"]:
                raise_no_member(uname, gname)
            user["groups"].remove(group["name"])
            group["members"].remove(user["name"])
            repo.put(txn, keyspace.IAM_USER, uname, user)
            repo.put(txn, keyspace.IAM_GROUP, gname, group)

    def list_groups_for_user(self, user_name: str | None, caller: Identity) -> list[Group]:
        with self.repo.read() as txn:
            name = self.acted_on(txn, caller, user_name)
            if name is None:
                return []
            user = self.need(txn, "user", name)
            return [self.group_result(self.need(txn, "group", g)) for g in user["groups"]]

    # ----------------------------------------------------------------- roles

    def create_role(
        self,
        role_name: str,
        assume_role_policy_document: str,
        path: str = "/",
        max_session_duration: int = 3600,
        permissions_boundary: str | None = None,
        tags: object = None,
        description: str = "",
    ) -> Role:
        name = check_name(role_name, "role_name", 64)
        path = check_path(path)
        duration = check_int(max_session_duration, "max_session_duration", 3600, 43200)
        trust = check_trust(assume_role_policy_document)
        tag_map = check_tags(tags)
        description = check_description(description)
        with self.repo.write() as txn:
            self._new(txn, "role", name)
            # The role itself does not exist yet: naming it in its own trust policy is an
            # invalid principal, as in AWS.
            principals = trust_binding(txn, self.account, trust)
            rec: Record = {
                "name": name,
                "id": new_id(IdKind.ROLE),
                "path": path,
                "created": self.clock(),
                "trust": trust,
                "trust_principals": principals,
                "max_session": duration,
                "description": description,
                "tags": tag_map,
                "boundary": None,
                "attached": [],
                "inline": {},
            }
            if permissions_boundary is not None:
                rec["boundary"] = self.boundary_target(txn, permissions_boundary)
            repo.put(txn, keyspace.IAM_ROLE, name, rec)
        return self.role_result(rec)

    def get_role(self, role_name: str) -> Role:
        name = check_str(role_name, "role_name")
        with self.repo.read() as txn:
            return self.role_result(self.need(txn, "role", name), txn)

    def list_roles(
        self, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[Role]:
        return self._listed(keyspace.IAM_ROLE, path_prefix, marker, max_items, self.role_result)

    def delete_role(self, role_name: str) -> None:
        name = check_str(role_name, "role_name")
        with self.repo.write() as txn:
            rec = self.need(txn, "role", name)
            for field, what in (("attached", "attached policies"), ("inline", "inline policies")):
                if rec.get(field):
                    raise DeleteConflict(f"Cannot delete entity, must remove {what} first.")
            self._release_boundary(txn, rec)
            repo.delete(txn, keyspace.IAM_ROLE, name)

    def update_assume_role_policy(self, role_name: str, policy_document: str) -> None:
        name = check_str(role_name, "role_name")
        trust = check_trust(policy_document)
        with self.repo.write() as txn:
            rec = self.need(txn, "role", name)
            rec["trust"] = trust
            rec["trust_principals"] = trust_binding(txn, self.account, trust)
            repo.put(txn, keyspace.IAM_ROLE, name, rec)


# What a trust policy may grant: assuming the role and what comes with it. Anything else
# (s3:GetObject, iam:*, a bare "*") is refused, as IAM refuses it.
TRUST_ACTIONS = (
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
)


def check_trust(document: object) -> str:
    """A role trust policy: valid, with a Principal, at most 2,048 characters, and only
    STS role-assumption actions. Raises MalformedPolicyDocument, LimitExceeded."""
    text = check_document(document, "assume_role_policy_document")
    policy = as_policy(text, "trust", "assume_role_policy_document")
    check_size(policy.size, TRUST_POLICY_MAX, "trust policy")
    for statement in policy.statements:
        element = "NotAction" if statement.action.negated else "Action"
        for pattern in statement.action.patterns:
            service = pattern.partition(":")[0]
            glob = ActionMatcher.compile([pattern], negated=False)
            if service.lower() != "sts" or not any(glob.listed(a) for a in TRUST_ACTIONS):
                raise MalformedPolicyDocument(
                    "AssumeRole policy may only specify STS AssumeRole actions "
                    f"(Statement[{statement.index}].{element}: {pattern!r})",
                    element=f"Statement[{statement.index}].{element}",
                )
    return text


def trust_binding(txn: ReadTxn, account: str, trust: str) -> dict[str, str]:
    """The unique ids of the users and roles a trust policy names (see bindings.py).
    Raises MalformedPolicyDocument (Invalid principal in policy)."""
    return bindings.resolve(txn, account, as_policy(trust, "trust", "trust policy"))


def check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise LimitExceeded(f"the {what} is {size} characters; at most {limit} are allowed")


def raise_no_member(user: str, group: str) -> None:
    raise NoSuchEntity(f"The user {user} is not a member of the group {group}.")
