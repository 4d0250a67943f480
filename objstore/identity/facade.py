"""``client.iam``: the IAM API of one caller, boto3-shaped.

Every method is one row of ``actions.py`` (action ``iam:<Operation>`` on the entity's ARN)
and goes through the engine like a storage call: authorized once, audited. Any method may
raise AccessDenied, InvalidClientTokenId (the caller's key was deactivated), InvalidInput
and ValidationError (arguments), besides the errors each one names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from objstore.authz import Identity
from objstore.iam.simulate import EvaluationResult
from objstore.identity.passwords import PasswordPolicy
from objstore.identity.results import (
    AccessKey,
    AccessKeyLastUsed,
    AccessKeyMetadata,
    AttachedPolicy,
    AuditRecord,
    Group,
    GroupDetail,
    InlinePolicy,
    LoginProfile,
    ManagedPolicy,
    MFADevice,
    OpenIDConnectProvider,
    PolicyVersion,
    Role,
    User,
    VirtualMFADevice,
)

if TYPE_CHECKING:
    from objstore.engine import Engine

Tags = Mapping[str, str] | Sequence[Mapping[str, str]] | None


class IamClient:
    """IAM operations performed as one identity."""

    def __init__(self, engine: Engine, identity: Identity) -> None:
        self._engine = engine
        self.identity = identity

    def _call(self, name: str, **params: Any) -> Any:
        return self._engine.call(self.identity, name, params)

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

    def list_users(self, *, path_prefix: str = "/") -> list[User]:
        result: list[User] = self._call("ListUsers", path_prefix=path_prefix)
        return result

    def delete_user(self, user_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (groups, policies, keys, MFA, password left)."""
        self._call("DeleteUser", user_name=user_name)

    # ---------------------------------------------------------------- groups

    def create_group(self, group_name: str, *, path: str = "/") -> Group:
        """Raises EntityAlreadyExists."""
        result: Group = self._call("CreateGroup", group_name=group_name, path=path)
        return result

    def get_group(self, group_name: str) -> GroupDetail:
        """The group and its users. Raises NoSuchEntity."""
        result: GroupDetail = self._call("GetGroup", group_name=group_name)
        return result

    def list_groups(self, *, path_prefix: str = "/") -> list[Group]:
        result: list[Group] = self._call("ListGroups", path_prefix=path_prefix)
        return result

    def delete_group(self, group_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (members or policies left)."""
        self._call("DeleteGroup", group_name=group_name)

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

    def list_roles(self, *, path_prefix: str = "/") -> list[Role]:
        result: list[Role] = self._call("ListRoles", path_prefix=path_prefix)
        return result

    def delete_role(self, role_name: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (policies left)."""
        self._call("DeleteRole", role_name=role_name)

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

    def list_policies(self, *, scope: str = "All", path_prefix: str = "/") -> list[ManagedPolicy]:
        """``scope``: "All", "AWS" (shipped AWS managed policies) or "Local"."""
        result: list[ManagedPolicy] = self._call(
            "ListPolicies", scope=scope, path_prefix=path_prefix
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

    # ----------------------------------------------------------- access keys

    def create_access_key(self, user_name: str | None = None) -> AccessKey:
        """A new key for the user (the caller when None, the root included); its secret is
        shown only here. Raises NoSuchEntity, LimitExceeded (2 keys)."""
        result: AccessKey = self._call("CreateAccessKey", user_name=user_name)
        return result

    def update_access_key(self, user_name: str | None, access_key_id: str, status: str) -> None:
        """Set "Active" or "Inactive". Raises NoSuchEntity, ValidationError."""
        self._call(
            "UpdateAccessKey", user_name=user_name, access_key_id=access_key_id, status=status
        )

    def delete_access_key(self, user_name: str | None, access_key_id: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteAccessKey", user_name=user_name, access_key_id=access_key_id)

    def list_access_keys(self, user_name: str | None = None) -> list[AccessKeyMetadata]:
        """Raises NoSuchEntity."""
        result: list[AccessKeyMetadata] = self._call("ListAccessKeys", user_name=user_name)
        return result

    def get_access_key_last_used(self, access_key_id: str) -> AccessKeyLastUsed:
        """Raises NoSuchEntity."""
        result: AccessKeyLastUsed = self._call("GetAccessKeyLastUsed", access_key_id=access_key_id)
        return result

    # -------------------------------------------------------- passwords, MFA

    def create_login_profile(
        self, user_name: str | None, password: str, *, password_reset_required: bool = False
    ) -> LoginProfile:
        """A console password for the user (the caller, root included, when None).
        Raises EntityAlreadyExists, NoSuchEntity, PasswordPolicyViolation."""
        result: LoginProfile = self._call(
            "CreateLoginProfile",
            user_name=user_name,
            password=password,
            password_reset_required=password_reset_required,
        )
        return result

    def update_login_profile(
        self,
        user_name: str | None,
        *,
        password: str | None = None,
        password_reset_required: bool | None = None,
    ) -> None:
        """An administrator's reset. Raises NoSuchEntity, PasswordPolicyViolation."""
        self._call(
            "UpdateLoginProfile",
            user_name=user_name,
            password=password,
            password_reset_required=password_reset_required,
        )

    def get_login_profile(self, user_name: str | None = None) -> LoginProfile:
        """Raises NoSuchEntity."""
        result: LoginProfile = self._call("GetLoginProfile", user_name=user_name)
        return result

    def delete_login_profile(self, user_name: str | None = None) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteLoginProfile", user_name=user_name)

    def change_password(self, old_password: str, new_password: str) -> None:
        """The caller's own password. Raises AccessDenied (wrong old password),
        PasswordPolicyViolation."""
        self._call("ChangePassword", old_password=old_password, new_password=new_password)

    def update_account_password_policy(
        self,
        *,
        minimum_password_length: int | None = None,
        require_symbols: bool = False,
        require_numbers: bool = False,
        require_uppercase_characters: bool = False,
        require_lowercase_characters: bool = False,
        allow_users_to_change_password: bool = False,
        max_password_age: int | None = None,
        password_reuse_prevention: int | None = None,
        hard_expiry: bool = False,
    ) -> None:
        """Replace the whole account password policy, as AWS does. Raises ValidationError."""
        self._call(
            "UpdateAccountPasswordPolicy",
            minimum_password_length=minimum_password_length,
            require_symbols=require_symbols,
            require_numbers=require_numbers,
            require_uppercase_characters=require_uppercase_characters,
            require_lowercase_characters=require_lowercase_characters,
            allow_users_to_change_password=allow_users_to_change_password,
            max_password_age=max_password_age,
            password_reuse_prevention=password_reuse_prevention,
            hard_expiry=hard_expiry,
        )

    def get_account_password_policy(self) -> PasswordPolicy:
        """Raises NoSuchEntity when none is set."""
        result: PasswordPolicy = self._call("GetAccountPasswordPolicy")
        return result

    def delete_account_password_policy(self) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteAccountPasswordPolicy")

    def create_virtual_mfa_device(
        self, virtual_mfa_device_name: str, *, path: str = "/"
    ) -> VirtualMFADevice:
        """A new TOTP device; its seed (and otpauth URI) are shown only here.
        Raises EntityAlreadyExists."""
        result: VirtualMFADevice = self._call(
            "CreateVirtualMFADevice", virtual_mfa_device_name=virtual_mfa_device_name, path=path
        )
        return result

    def enable_mfa_device(
        self,
        user_name: str | None,
        serial_number: str,
        authentication_code1: str,
        authentication_code2: str,
    ) -> None:
        """Bind a device to the user (the caller, root included, when None) with two
        consecutive codes. Raises NoSuchEntity, EntityAlreadyExists,
        InvalidAuthenticationCode, LimitExceeded."""
        self._call(
            "EnableMFADevice",
            user_name=user_name,
            serial_number=serial_number,
            authentication_code1=authentication_code1,
            authentication_code2=authentication_code2,
        )

    def deactivate_mfa_device(self, user_name: str | None, serial_number: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeactivateMFADevice", user_name=user_name, serial_number=serial_number)

    def list_mfa_devices(self, user_name: str | None = None) -> list[MFADevice]:
        """Raises NoSuchEntity."""
        result: list[MFADevice] = self._call("ListMFADevices", user_name=user_name)
        return result

    def delete_virtual_mfa_device(self, serial_number: str) -> None:
        """Raises NoSuchEntity, EntityTemporarilyUnmodifiable (still enabled)."""
        self._call("DeleteVirtualMFADevice", serial_number=serial_number)

    def generate_credential_report(self) -> str:
        """Build the credential report; returns "COMPLETE"."""
        result: str = self._call("GenerateCredentialReport")
        return result

    def get_credential_report(self) -> str:
        """The report as CSV (AWS's columns, the root's row first). Raises NoSuchEntity
        before the first :meth:`generate_credential_report`."""
        result: str = self._call("GetCredentialReport")
        return result

    # ------------------------------------------------------------ federation

    def create_open_id_connect_provider(
        self,
        url: str,
        client_id_list: Sequence[str],
        *,
        jwks: Mapping[str, Any] | None = None,
        thumbprint_list: Sequence[str] | None = None,
    ) -> OpenIDConnectProvider:
        """Register an OIDC provider: its https URL (the tokens' issuer), the client ids
        (audiences) it issues for, and its public keys (``jwks``; objstore never fetches
        them). Raises InvalidInput, EntityAlreadyExists."""
        result: OpenIDConnectProvider = self._call(
            "CreateOpenIDConnectProvider",
            url=url,
            client_id_list=client_id_list,
            jwks=jwks,
            thumbprint_list=thumbprint_list,
        )
        return result

    def get_open_id_connect_provider(self, provider_arn: str) -> OpenIDConnectProvider:
        """Raises NoSuchEntity."""
        result: OpenIDConnectProvider = self._call(
            "GetOpenIDConnectProvider", provider_arn=provider_arn
        )
        return result

    def list_open_id_connect_providers(self) -> list[OpenIDConnectProvider]:
        result: list[OpenIDConnectProvider] = self._call("ListOpenIDConnectProviders")
        return result

    def delete_open_id_connect_provider(self, provider_arn: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteOpenIDConnectProvider", provider_arn=provider_arn)

    # ------------------------------------------------------------- simulator

    def simulate_principal_policy(
        self,
        policy_source_arn: str,
        action_names: Sequence[str],
        *,
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
    ) -> list[EvaluationResult]:
        """Decide each action on each resource for a user, group or role, as the live
        authorizer does. Raises NoSuchEntity, InvalidInput, MalformedPolicyDocument."""
        result: list[EvaluationResult] = self._call(
            "SimulatePrincipalPolicy",
            policy_source_arn=policy_source_arn,
            action_names=action_names,
            resource_arns=resource_arns,
            context_entries=context_entries,
            resource_policy=resource_policy,
            caller_arn=caller_arn,
        )
        return result

    def simulate_custom_policy(
        self,
        policy_input_list: Sequence[str],
        action_names: Sequence[str],
        *,
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
        permissions_boundary_policy_input_list: Sequence[str] = (),
    ) -> list[EvaluationResult]:
        """The simulator over policies given as text. Raises InvalidInput,
        MalformedPolicyDocument."""
        result: list[EvaluationResult] = self._call(
            "SimulateCustomPolicy",
            policy_input_list=policy_input_list,
            action_names=action_names,
            resource_arns=resource_arns,
            context_entries=context_entries,
            resource_policy=resource_policy,
            caller_arn=caller_arn,
            permissions_boundary_policy_input_list=permissions_boundary_policy_input_list,
        )
        return result

    # ----------------------------------------------------------------- audit

    def lookup_events(self, *, max_results: int = 1000) -> list[AuditRecord]:
        """The audit log, newest first (action ``cloudtrail:LookupEvents``)."""
        result: list[AuditRecord] = self._call("LookupEvents", max_results=max_results)
        return result
