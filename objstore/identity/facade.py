"""``client.iam``: the IAM API of one caller, boto3-shaped.

Every method is one row of ``actions.py`` (action ``iam:<Operation>`` on the entity's ARN)
and goes through the engine like a storage call: authorized once, audited. Any method may
raise AccessDenied, InvalidClientTokenId (the caller's key was deactivated), InvalidInput
and ValidationError (arguments), besides the errors each one names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from objstore.identity.credential_calls import CredentialCalls
from objstore.identity.results import (
    AttachedPolicy,
    Group,
    GroupDetail,
    InlinePolicy,
    ManagedPolicy,
    Page,
    PolicyVersion,
    Role,
    Tag,
    User,
)

if TYPE_CHECKING:
    pass

Tags = Mapping[str, str] | Sequence[Mapping[str, str]] | None


class IamClient(CredentialCalls):
    """IAM operations performed as one identity (credential calls: :mod:`.credential_calls`)."""

    # ----------------------------------------------------------------- users

    def create_user(
        self,
        user_name: str,
        *,
        path: str = "/",
        tags: Tags = None,
        permissions_boundary: str | None = None,
    ) -> User:
        """Raises EntityAlreadyExists, NoSuchEntity (boundary), LimitExceeded (tags)."""
        result: User = self._call(
            "CreateUser",
            user_name=user_name,
            path=path,
            tags=tags,
            permissions_boundary=permissions_boundary,
        )
        return result

    def get_user(self, user_name: str | None = None) -> User:
        """The user (the caller when None). Raises NoSuchEntity."""
        result: User = self._call("GetUser", user_name=user_name)
        return result

    def list_users(
        self, *, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[User]:
        """The users whose path starts with ``path_prefix``, by name (case-insensitive
        order): all, or ``max_items`` (1-1000) from ``marker`` (see :class:`Page`). Raises
        ValidationError (max_items, a marker this store did not give)."""
        result: Page[User] = self._call(
            "ListUsers", path_prefix=path_prefix, marker=marker, max_items=max_items
        )
        return result

    def delete_user(self, user_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (groups, policies, keys, MFA, password left)."""
        self._call("DeleteUser", user_name=user_name)

    def tag_user(self, user_name: str, tags: Tags) -> None:
        """Add tags (a mapping, or AWS's list of ``{"Key", "Value"}``); a key already on the
        user, in any case, is replaced. Raises NoSuchEntity, InvalidInput (duplicate or
        ``aws:`` keys), ValidationError (lengths, characters), LimitExceeded (50 tags)."""
        self._call("TagUser", user_name=user_name, tags=tags)

    def untag_user(self, user_name: str, tag_keys: Sequence[str]) -> None:
        """Remove tags by key (case-insensitive; absent keys are ignored). Raises
        NoSuchEntity, InvalidInput, ValidationError (1-50 keys)."""
        self._call("UntagUser", user_name=user_name, tag_keys=tag_keys)

    def list_user_tags(self, user_name: str) -> list[Tag]:
        """The user's tags, by key. Raises NoSuchEntity."""
        result: list[Tag] = self._call("ListUserTags", user_name=user_name)
        return result

    def update_user(
        self, user_name: str, *, new_user_name: str | None = None, new_path: str | None = None
    ) -> None:
        """Rename or move a user. It keeps its id, groups, policies, boundary, access keys,
        MFA devices and password; its ARN changes. Clients and temporary credentials made
        before keep working, as the user under its new name and path (its policies,
        ``aws:username`` and GetCallerIdentity follow it). Needs ``iam:UpdateUser`` on the
        old and the new ARN. Raises NoSuchEntity, EntityAlreadyExists (a name taken,
        case-insensitively), ValidationError."""
        self._call(
            "UpdateUser", user_name=user_name, new_user_name=new_user_name, new_path=new_path
        )

    # ---------------------------------------------------------------- groups

    def create_group(self, group_name: str, *, path: str = "/") -> Group:
        """Raises EntityAlreadyExists."""
        result: Group = self._call("CreateGroup", group_name=group_name, path=path)
        return result

    def get_group(self, group_name: str) -> GroupDetail:
        """The group and its users. Raises NoSuchEntity."""
        result: GroupDetail = self._call("GetGroup", group_name=group_name)
        return result

    def list_groups(
        self, *, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[Group]:
        """The groups whose path starts with ``path_prefix``, by name (case-insensitive
        order): all, or ``max_items`` (1-1000) from ``marker`` (see :class:`Page`). Raises
        ValidationError (max_items, a marker this store did not give)."""
        result: Page[Group] = self._call(
            "ListGroups", path_prefix=path_prefix, marker=marker, max_items=max_items
        )
        return result

    def delete_group(self, group_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (members or policies left)."""
        self._call("DeleteGroup", group_name=group_name)

    def update_group(
        self, group_name: str, *, new_group_name: str | None = None, new_path: str | None = None
    ) -> None:
        """Rename or move a group; it keeps its id, members and policies. Needs
        ``iam:UpdateGroup`` on the old and the new ARN. Raises NoSuchEntity,
        EntityAlreadyExists, ValidationError."""
        self._call(
            "UpdateGroup", group_name=group_name, new_group_name=new_group_name, new_path=new_path
        )

    def add_user_to_group(self, group_name: str, user_name: str) -> None:
        """Raises NoSuchEntity, LimitExceeded (10 groups per user)."""
        self._call("AddUserToGroup", group_name=group_name, user_name=user_name)

    def remove_user_from_group(self, group_name: str, user_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("RemoveUserFromGroup", group_name=group_name, user_name=user_name)

    def list_groups_for_user(self, user_name: str | None = None) -> list[Group]:
        """Raises NoSuchEntity."""
        result: list[Group] = self._call("ListGroupsForUser", user_name=user_name)
        return result

    # ----------------------------------------------------------------- roles

    def create_role(
        self,
        role_name: str,
        assume_role_policy_document: str,
        *,
        path: str = "/",
        max_session_duration: int = 3600,
        permissions_boundary: str | None = None,
        tags: Tags = None,
        description: str = "",
    ) -> Role:
        """Raises EntityAlreadyExists, MalformedPolicyDocument (trust policy),
        LimitExceeded (trust policy over 2,048 characters), NoSuchEntity (boundary)."""
        result: Role = self._call(
            "CreateRole",
            role_name=role_name,
            assume_role_policy_document=assume_role_policy_document,
            path=path,
            max_session_duration=max_session_duration,
            permissions_boundary=permissions_boundary,
            tags=tags,
            description=description,
        )
        return result

    def get_role(self, role_name: str) -> Role:
        """Raises NoSuchEntity."""
        result: Role = self._call("GetRole", role_name=role_name)
        return result

    def list_roles(
        self, *, path_prefix: str = "/", marker: str | None = None, max_items: int | None = None
    ) -> Page[Role]:
        """The roles whose path starts with ``path_prefix``, by name (case-insensitive
        order): all, or ``max_items`` (1-1000) from ``marker`` (see :class:`Page`). Raises
        ValidationError (max_items, a marker this store did not give)."""
        result: Page[Role] = self._call(
            "ListRoles", path_prefix=path_prefix, marker=marker, max_items=max_items
        )
        return result

    def delete_role(self, role_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (policies left)."""
        self._call("DeleteRole", role_name=role_name)

    def tag_role(self, role_name: str, tags: Tags) -> None:
        """As :meth:`tag_user`, for a role. Raises NoSuchEntity, InvalidInput,
        ValidationError, LimitExceeded."""
        self._call("TagRole", role_name=role_name, tags=tags)

    def untag_role(self, role_name: str, tag_keys: Sequence[str]) -> None:
        """As :meth:`untag_user`, for a role. Raises NoSuchEntity, InvalidInput,
        ValidationError."""
        self._call("UntagRole", role_name=role_name, tag_keys=tag_keys)

    def list_role_tags(self, role_name: str) -> list[Tag]:
        """The role's tags, by key. Raises NoSuchEntity."""
        result: list[Tag] = self._call("ListRoleTags", role_name=role_name)
        return result

    def update_role(
        self,
        role_name: str,
        *,
        description: str | None = None,
        max_session_duration: int | None = None,
    ) -> None:
        """Change what is given (None: unchanged): the description (at most 1,000
        characters) and the longest session AssumeRole grants (3,600-43,200 s). Raises
        NoSuchEntity, ValidationError, InvalidInput."""
        self._call(
            "UpdateRole",
            role_name=role_name,
            description=description,
            max_session_duration=max_session_duration,
        )

    def update_assume_role_policy(self, role_name: str, policy_document: str) -> None:
        """Replace a role's trust policy. Raises NoSuchEntity, MalformedPolicyDocument."""
        self._call("UpdateAssumeRolePolicy", role_name=role_name, policy_document=policy_document)

    # -------------------------------------------------------------- policies

    def create_policy(
        self, policy_name: str, policy_document: str, *, path: str = "/", description: str = ""
    ) -> ManagedPolicy:
        """Raises EntityAlreadyExists, MalformedPolicyDocument, LimitExceeded (size)."""
        result: ManagedPolicy = self._call(
            "CreatePolicy",
            policy_name=policy_name,
            policy_document=policy_document,
            path=path,
            description=description,
        )
        return result

    def get_policy(self, policy_arn: str) -> ManagedPolicy:
        """Raises NoSuchEntity."""
        result: ManagedPolicy = self._call("GetPolicy", policy_arn=policy_arn)
        return result

    def list_policies(
        self,
        *,
        scope: str = "All",
        path_prefix: str = "/",
        only_attached: bool = False,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[ManagedPolicy]:
        """``scope``: "All", "AWS" (shipped AWS managed policies, listed first) or "Local";
        ``only_attached``: those attached to a user, group or role. Paged as
        :meth:`list_users`. Raises ValidationError."""
        result: Page[ManagedPolicy] = self._call(
            "ListPolicies",
            scope=scope,
            path_prefix=path_prefix,
            only_attached=only_attached,
            marker=marker,
            max_items=max_items,
        )
        return result

    def delete_policy(self, policy_arn: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (attached, or versions besides the default)."""
        self._call("DeletePolicy", policy_arn=policy_arn)

    def create_policy_version(
        self, policy_arn: str, policy_document: str, *, set_as_default: bool = True
    ) -> PolicyVersion:
        """Raises NoSuchEntity, MalformedPolicyDocument, LimitExceeded (5 versions, size)."""
        result: PolicyVersion = self._call(
            "CreatePolicyVersion",
            policy_arn=policy_arn,
            policy_document=policy_document,
            set_as_default=set_as_default,
        )
        return result

    def get_policy_version(self, policy_arn: str, version_id: str) -> PolicyVersion:
        """Raises NoSuchEntity."""
        result: PolicyVersion = self._call(
            "GetPolicyVersion", policy_arn=policy_arn, version_id=version_id
        )
        return result

    def list_policy_versions(self, policy_arn: str) -> list[PolicyVersion]:
        """Raises NoSuchEntity."""
        result: list[PolicyVersion] = self._call("ListPolicyVersions", policy_arn=policy_arn)
        return result

    def delete_policy_version(self, policy_arn: str, version_id: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (the default version)."""
        self._call("DeletePolicyVersion", policy_arn=policy_arn, version_id=version_id)

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        """Raises NoSuchEntity."""
        self._call("SetDefaultPolicyVersion", policy_arn=policy_arn, version_id=version_id)

    # ----------------------------------------------------------- attachments

    def attach_user_policy(self, user_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity, LimitExceeded (10 managed policies)."""
        self._call("AttachUserPolicy", user_name=user_name, policy_arn=policy_arn)

    def attach_group_policy(self, group_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity, LimitExceeded (10 managed policies)."""
        self._call("AttachGroupPolicy", group_name=group_name, policy_arn=policy_arn)

    def attach_role_policy(self, role_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity, LimitExceeded (10 managed policies)."""
        self._call("AttachRolePolicy", role_name=role_name, policy_arn=policy_arn)

    def detach_user_policy(self, user_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity (also when not attached)."""
        self._call("DetachUserPolicy", user_name=user_name, policy_arn=policy_arn)

    def detach_group_policy(self, group_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity (also when not attached)."""
        self._call("DetachGroupPolicy", group_name=group_name, policy_arn=policy_arn)

    def detach_role_policy(self, role_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity (also when not attached)."""
        self._call("DetachRolePolicy", role_name=role_name, policy_arn=policy_arn)

    def list_attached_user_policies(self, user_name: str) -> list[AttachedPolicy]:
        """Raises NoSuchEntity."""
        result: list[AttachedPolicy] = self._call("ListAttachedUserPolicies", user_name=user_name)
        return result

    def list_attached_group_policies(self, group_name: str) -> list[AttachedPolicy]:
        """Raises NoSuchEntity."""
        result: list[AttachedPolicy] = self._call(
            "ListAttachedGroupPolicies", group_name=group_name
        )
        return result

    def list_attached_role_policies(self, role_name: str) -> list[AttachedPolicy]:
        """Raises NoSuchEntity."""
        result: list[AttachedPolicy] = self._call("ListAttachedRolePolicies", role_name=role_name)
        return result

    # ---------------------------------------------------------------- inline

    def put_user_policy(self, user_name: str, policy_name: str, policy_document: str) -> None:
        """Create or replace an inline policy. Raises NoSuchEntity, MalformedPolicyDocument,
        LimitExceeded (2,048 characters of inline policy per user)."""
        self._call(
            "PutUserPolicy",
            user_name=user_name,
            policy_name=policy_name,
            policy_document=policy_document,
        )

    def put_group_policy(self, group_name: str, policy_name: str, policy_document: str) -> None:
        """As :meth:`put_user_policy` (5,120 characters per group)."""
        self._call(
            "PutGroupPolicy",
            group_name=group_name,
            policy_name=policy_name,
            policy_document=policy_document,
        )

    def put_role_policy(self, role_name: str, policy_name: str, policy_document: str) -> None:
        """As :meth:`put_user_policy` (10,240 characters per role)."""
        self._call(
            "PutRolePolicy",
            role_name=role_name,
            policy_name=policy_name,
            policy_document=policy_document,
        )

    def get_user_policy(self, user_name: str, policy_name: str) -> InlinePolicy:
        """Raises NoSuchEntity."""
        result: InlinePolicy = self._call(
            "GetUserPolicy", user_name=user_name, policy_name=policy_name
        )
        return result

    def get_group_policy(self, group_name: str, policy_name: str) -> InlinePolicy:
        """Raises NoSuchEntity."""
        result: InlinePolicy = self._call(
            "GetGroupPolicy", group_name=group_name, policy_name=policy_name
        )
        return result

    def get_role_policy(self, role_name: str, policy_name: str) -> InlinePolicy:
        """Raises NoSuchEntity."""
        result: InlinePolicy = self._call(
            "GetRolePolicy", role_name=role_name, policy_name=policy_name
        )
        return result

    def delete_user_policy(self, user_name: str, policy_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteUserPolicy", user_name=user_name, policy_name=policy_name)

    def delete_group_policy(self, group_name: str, policy_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteGroupPolicy", group_name=group_name, policy_name=policy_name)

    def delete_role_policy(self, role_name: str, policy_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteRolePolicy", role_name=role_name, policy_name=policy_name)

    def list_user_policies(self, user_name: str) -> list[str]:
        """Inline policy names. Raises NoSuchEntity."""
        result: list[str] = self._call("ListUserPolicies", user_name=user_name)
        return result

    def list_group_policies(self, group_name: str) -> list[str]:
        """Inline policy names. Raises NoSuchEntity."""
        result: list[str] = self._call("ListGroupPolicies", group_name=group_name)
        return result

    def list_role_policies(self, role_name: str) -> list[str]:
        """Inline policy names. Raises NoSuchEntity."""
        result: list[str] = self._call("ListRolePolicies", role_name=role_name)
        return result

    # ------------------------------------------------------------ boundaries

    def put_user_permissions_boundary(self, user_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity."""
        self._call("PutUserPermissionsBoundary", user_name=user_name, policy_arn=policy_arn)

    def put_role_permissions_boundary(self, role_name: str, policy_arn: str) -> None:
        """Raises NoSuchEntity."""
        self._call("PutRolePermissionsBoundary", role_name=role_name, policy_arn=policy_arn)

    def delete_user_permissions_boundary(self, user_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteUserPermissionsBoundary", user_name=user_name)

    def delete_role_permissions_boundary(self, role_name: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteRolePermissionsBoundary", role_name=role_name)
