"""The IAM Query actions: one row per action, each calling one method of ``client.iam``.

Parameters follow AWS's IAM API (2010-05-08); where AWS's default differs from the
library's (``SetAsDefault`` of CreatePolicyVersion is false, ``MaxItems`` is 100), AWS's
is passed, since Query clients expect AWS. One addition: CreateOpenIDConnectProvider takes
objstore's ``Jwks`` (the provider's public keys as JSON), which objstore needs because it
never fetches keys.
"""

from __future__ import annotations

from typing import Any

from objstore.gateway.query.form import BOOLEAN, INTEGER, JSON_OBJECT, STRINGS
from objstore.gateway.query.shapes import (
    ACCESS_KEY,
    ACCESS_KEY_LAST_USED,
    ACCESS_KEY_METADATA,
    ATTACHED_POLICY,
    CONTEXT_ENTRIES,
    EVALUATION_RESULT,
    GROUP,
    LOGIN_PROFILE,
    MANAGED_POLICY,
    MFA_DEVICE,
    OIDC_PROVIDER_ENTRY,
    PASSWORD_POLICY,
    POLICY_VERSION,
    ROLE,
    TAG,
    TAG_LIST,
    USER,
    VIRTUAL_MFA_DEVICE,
)
from objstore.gateway.query.spec import Action, Page, Param, param
from objstore.gateway.query.xml import BLOB, POLICY, TEXT, TIME, Field, Members, field

__all__ = ["IAM_ACTIONS"]

_SELF: Any = lambda value: value  # noqa: E731 - a field that is the whole result

_USER_NAME = param("UserName", required=True)
_OPT_USER = param("UserName", default=None)  # absent: the caller (root included)
_GROUP_NAME = param("GroupName", required=True)
_ROLE_NAME = param("RoleName", required=True)
_POLICY_ARN = param("PolicyArn", required=True)
_POLICY_NAME = param("PolicyName", required=True)
_POLICY_DOCUMENT = param("PolicyDocument", required=True)
_VERSION_ID = param("VersionId", required=True)
_PATH = param("Path")
_PATH_PREFIX = param("PathPrefix")
_SERIAL = param("SerialNumber", required=True)
_PROVIDER_ARN = param("OpenIDConnectProviderArn", required=True, arg="provider_arn")


def _one(name: str, shape: Any) -> tuple[Field, ...]:
    """A Result holding the whole return value under one element."""
    return (field(name, _SELF, shape),)


def _by_name(attr: str) -> Any:
    def key(value: Any) -> str:
        return str(getattr(value, attr))

    return key


def _inline(entity: str) -> tuple[Field, ...]:
    return (
        field(f"{entity}Name", "entity_name"),
        field("PolicyName", "policy_name"),
        field("PolicyDocument", "policy_document", POLICY),
    )


_GROUPS = Page("Groups", GROUP, key=_by_name("group_name"))
# The lists the library pages itself (marker, max_items).
_ALL_USERS = Page("Users", USER, native=True)
_ALL_GROUPS = Page("Groups", GROUP, native=True)
_ATTACHED = Page("AttachedPolicies", ATTACHED_POLICY, key=_by_name("policy_arn"))
_NAMES = Page("PolicyNames", TEXT, key=str)
_EVALUATIONS = Page("EvaluationResults", EVALUATION_RESULT)

_SIMULATION: tuple[Param, ...] = (
    param("ActionNames", STRINGS, required=True),
    param("ResourceArns", STRINGS),
    param("ContextEntries", CONTEXT_ENTRIES),
    param("ResourcePolicy"),
    param("CallerArn"),
)


def _entity_rows(entity: str, name: Param) -> list[Action]:
    """The calls users, groups and roles share: managed attachments and inline policies."""
    return [
        Action(f"Attach{entity}Policy", f"attach_{entity.lower()}_policy", (name, _POLICY_ARN)),
        Action(f"Detach{entity}Policy", f"detach_{entity.lower()}_policy", (name, _POLICY_ARN)),
        Action(
            f"ListAttached{entity}Policies",
            f"list_attached_{entity.lower()}_policies",
            (name,),
            page=_ATTACHED,
        ),
        Action(
            f"Put{entity}Policy",
            f"put_{entity.lower()}_policy",
            (name, _POLICY_NAME, _POLICY_DOCUMENT),
        ),
        Action(
            f"Get{entity}Policy",
            f"get_{entity.lower()}_policy",
            (name, _POLICY_NAME),
            result=_inline(entity),
        ),
        Action(f"Delete{entity}Policy", f"delete_{entity.lower()}_policy", (name, _POLICY_NAME)),
        Action(f"List{entity}Policies", f"list_{entity.lower()}_policies", (name,), page=_NAMES),
    ]


def _tag_rows(entity: str, name: Param) -> list[Action]:
    """TagUser/UntagUser/ListUserTags and the role counterparts."""
    return [
        Action(
            f"Tag{entity}", f"tag_{entity.lower()}", (name, param("Tags", TAG_LIST, required=True))
        ),
        Action(
            f"Untag{entity}",
            f"untag_{entity.lower()}",
            (name, param("TagKeys", STRINGS, required=True)),
        ),
        Action(
            f"List{entity}Tags",
            f"list_{entity.lower()}_tags",
            (name,),
            page=Page("Tags", TAG, key=_by_name("key")),
        ),
    ]


_ROWS: list[Action] = [
    # ----------------------------------------------------------------- users
    Action(
        "CreateUser",
        "create_user",
        (
            _USER_NAME,
            _PATH,
            param("Tags", TAG_LIST),
            param("PermissionsBoundary"),
        ),
        result=_one("User", USER),
    ),
    Action("GetUser", "get_user", (param("UserName"),), result=_one("User", USER)),
    Action("ListUsers", "list_users", (_PATH_PREFIX,), page=_ALL_USERS),
    Action("DeleteUser", "delete_user", (_USER_NAME,)),
    Action("UpdateUser", "update_user", (_USER_NAME, param("NewUserName"), param("NewPath"))),
    *_tag_rows("User", _USER_NAME),
    # ---------------------------------------------------------------- groups
    Action("CreateGroup", "create_group", (_GROUP_NAME, _PATH), result=_one("Group", GROUP)),
    Action(
        "GetGroup",
        "get_group",
        (_GROUP_NAME,),
        result=(field("Group", "group", GROUP),),
        page=Page("Users", USER, items=lambda detail: detail.users, key=_by_name("user_name")),
    ),
    Action("ListGroups", "list_groups", (_PATH_PREFIX,), page=_ALL_GROUPS),
    Action("DeleteGroup", "delete_group", (_GROUP_NAME,)),
    Action("UpdateGroup", "update_group", (_GROUP_NAME, param("NewGroupName"), param("NewPath"))),
    Action("AddUserToGroup", "add_user_to_group", (_GROUP_NAME, _USER_NAME)),
    Action("RemoveUserFromGroup", "remove_user_from_group", (_GROUP_NAME, _USER_NAME)),
    Action("ListGroupsForUser", "list_groups_for_user", (param("UserName"),), page=_GROUPS),
    # ----------------------------------------------------------------- roles
    Action(
        "CreateRole",
        "create_role",
        (
            _ROLE_NAME,
            param("AssumeRolePolicyDocument", required=True),
            _PATH,
            param("MaxSessionDuration", INTEGER),
            param("PermissionsBoundary"),
            param("Tags", TAG_LIST),
            param("Description"),
        ),
        result=_one("Role", ROLE),
    ),
    Action("GetRole", "get_role", (_ROLE_NAME,), result=_one("Role", ROLE)),
    Action(
        "ListRoles",
        "list_roles",
        (_PATH_PREFIX,),
        page=Page("Roles", ROLE, native=True),
    ),
    Action("DeleteRole", "delete_role", (_ROLE_NAME,)),
    Action(
        "UpdateRole",
        "update_role",
        (_ROLE_NAME, param("Description"), param("MaxSessionDuration", INTEGER)),
        result=(),  # AWS answers an empty UpdateRoleResult
    ),
    Action("UpdateAssumeRolePolicy", "update_assume_role_policy", (_ROLE_NAME, _POLICY_DOCUMENT)),
    *_tag_rows("Role", _ROLE_NAME),
    # -------------------------------------------------------------- policies
    Action(
        "CreatePolicy",
        "create_policy",
        (_POLICY_NAME, _POLICY_DOCUMENT, _PATH, param("Description")),
        result=_one("Policy", MANAGED_POLICY),
    ),
    Action("GetPolicy", "get_policy", (_POLICY_ARN,), result=_one("Policy", MANAGED_POLICY)),
    Action(
        "ListPolicies",
        "list_policies",
        (param("Scope"), _PATH_PREFIX, param("OnlyAttached", BOOLEAN)),
        page=Page("Policies", MANAGED_POLICY, native=True),
    ),
    Action("DeletePolicy", "delete_policy", (_POLICY_ARN,)),
    Action(
        "CreatePolicyVersion",
        "create_policy_version",
        (_POLICY_ARN, _POLICY_DOCUMENT, param("SetAsDefault", BOOLEAN, default=False)),
        result=_one("PolicyVersion", POLICY_VERSION),
    ),
    Action(
        "GetPolicyVersion",
        "get_policy_version",
        (_POLICY_ARN, _VERSION_ID),
        result=_one("PolicyVersion", POLICY_VERSION),
    ),
    Action(
        "ListPolicyVersions",
        "list_policy_versions",
        (_POLICY_ARN,),
        page=Page("Versions", POLICY_VERSION),
    ),
    Action("DeletePolicyVersion", "delete_policy_version", (_POLICY_ARN, _VERSION_ID)),
    Action("SetDefaultPolicyVersion", "set_default_policy_version", (_POLICY_ARN, _VERSION_ID)),
    # ----------------------------------------- attachments and inline policies
    *_entity_rows("User", _USER_NAME),
    *_entity_rows("Group", _GROUP_NAME),
    *_entity_rows("Role", _ROLE_NAME),
    # ------------------------------------------------------------ boundaries
    Action(
        "PutUserPermissionsBoundary",
        "put_user_permissions_boundary",
        (_USER_NAME, param("PermissionsBoundary", required=True, arg="policy_arn")),
    ),
    Action(
        "PutRolePermissionsBoundary",
        "put_role_permissions_boundary",
        (_ROLE_NAME, param("PermissionsBoundary", required=True, arg="policy_arn")),
    ),
    Action("DeleteUserPermissionsBoundary", "delete_user_permissions_boundary", (_USER_NAME,)),
    Action("DeleteRolePermissionsBoundary", "delete_role_permissions_boundary", (_ROLE_NAME,)),
    # ----------------------------------------------------------- access keys
    Action(
        "CreateAccessKey",
        "create_access_key",
        (param("UserName"),),
        result=_one("AccessKey", ACCESS_KEY),
    ),
    Action(
        "UpdateAccessKey",
        "update_access_key",
        (_OPT_USER, param("AccessKeyId", required=True), param("Status", required=True)),
    ),
    Action(
        "DeleteAccessKey",
        "delete_access_key",
        (_OPT_USER, param("AccessKeyId", required=True)),
    ),
    Action(
        "ListAccessKeys",
        "list_access_keys",
        (param("UserName"),),
        page=Page("AccessKeyMetadata", ACCESS_KEY_METADATA, key=_by_name("access_key_id")),
    ),
    Action(
        "GetAccessKeyLastUsed",
        "get_access_key_last_used",
        (param("AccessKeyId", required=True),),
        result=(
            field("UserName", "user_name"),
            field("AccessKeyLastUsed", _SELF, ACCESS_KEY_LAST_USED),
        ),
    ),
    # -------------------------------------------------------- login profiles
    Action(
        "CreateLoginProfile",
        "create_login_profile",
        (
            _OPT_USER,
            param("Password", required=True),
            param("PasswordResetRequired", BOOLEAN),
        ),
        result=_one("LoginProfile", LOGIN_PROFILE),
    ),
    Action(
        "UpdateLoginProfile",
        "update_login_profile",
        (_OPT_USER, param("Password"), param("PasswordResetRequired", BOOLEAN)),
    ),
    Action(
        "GetLoginProfile",
        "get_login_profile",
        (param("UserName"),),
        result=_one("LoginProfile", LOGIN_PROFILE),
    ),
    Action("DeleteLoginProfile", "delete_login_profile", (param("UserName"),)),
    Action(
        "ChangePassword",
        "change_password",
        (param("OldPassword", required=True), param("NewPassword", required=True)),
    ),
    # ------------------------------------------------------- password policy
    Action(
        "UpdateAccountPasswordPolicy",
        "update_account_password_policy",
        (
            param("MinimumPasswordLength", INTEGER),
            param("RequireSymbols", BOOLEAN),
            param("RequireNumbers", BOOLEAN),
            param("RequireUppercaseCharacters", BOOLEAN),
            param("RequireLowercaseCharacters", BOOLEAN),
            param("AllowUsersToChangePassword", BOOLEAN),
            param("MaxPasswordAge", INTEGER),
            param("PasswordReusePrevention", INTEGER),
            param("HardExpiry", BOOLEAN),
        ),
    ),
    Action(
        "GetAccountPasswordPolicy",
        "get_account_password_policy",
        result=_one("PasswordPolicy", PASSWORD_POLICY),
    ),
    Action("DeleteAccountPasswordPolicy", "delete_account_password_policy"),
    # ------------------------------------------------------------------- MFA
    Action(
        "CreateVirtualMFADevice",
        "create_virtual_mfa_device",
        (param("VirtualMFADeviceName", required=True), _PATH),
        result=_one("VirtualMFADevice", VIRTUAL_MFA_DEVICE),
    ),
    Action(
        "EnableMFADevice",
        "enable_mfa_device",
        (
            _OPT_USER,
            _SERIAL,
            param("AuthenticationCode1", required=True),
            param("AuthenticationCode2", required=True),
        ),
    ),
    Action("DeactivateMFADevice", "deactivate_mfa_device", (_OPT_USER, _SERIAL)),
    Action(
        "ListMFADevices",
        "list_mfa_devices",
        (param("UserName"),),
        page=Page("MFADevices", MFA_DEVICE, key=_by_name("serial_number")),
    ),
    Action("DeleteVirtualMFADevice", "delete_virtual_mfa_device", (_SERIAL,)),
    # ----------------------------------------------------- credential report
    Action(
        "GenerateCredentialReport",
        "generate_credential_report",
        result=(field("State", _SELF),),
    ),
    Action(
        "GetCredentialReport",
        "get_credential_report",
        result=(
            field("Content", _SELF, BLOB),
            field("ReportFormat", lambda _csv: "text/csv"),
        ),
    ),
    # ------------------------------------------------------------ federation
    Action(
        "CreateOpenIDConnectProvider",
        "create_open_id_connect_provider",
        (
            param("Url", required=True),
            param("ClientIDList", STRINGS, default=()),
            param("ThumbprintList", STRINGS),
            param("Jwks", JSON_OBJECT),
        ),
        result=(field("OpenIDConnectProviderArn", "arn"),),
    ),
    Action(
        "GetOpenIDConnectProvider",
        "get_open_id_connect_provider",
        (_PROVIDER_ARN,),
        result=(
            field("Url", "url"),
            field("ClientIDList", "client_id_list", Members(TEXT)),
            field("ThumbprintList", "thumbprint_list", Members(TEXT)),
            field("CreateDate", "create_date", TIME),
        ),
    ),
    Action(
        "ListOpenIDConnectProviders",
        "list_open_id_connect_providers",
        result=_one("OpenIDConnectProviderList", Members(OIDC_PROVIDER_ENTRY)),
    ),
    Action("DeleteOpenIDConnectProvider", "delete_open_id_connect_provider", (_PROVIDER_ARN,)),
    # ------------------------------------------------------------- simulator
    Action(
        "SimulatePrincipalPolicy",
        "simulate_principal_policy",
        (param("PolicySourceArn", required=True), *_SIMULATION),
        page=_EVALUATIONS,
    ),
    Action(
        "SimulateCustomPolicy",
        "simulate_custom_policy",
        (
            param("PolicyInputList", STRINGS, required=True),
            *_SIMULATION,
            param("PermissionsBoundaryPolicyInputList", STRINGS),
        ),
        page=_EVALUATIONS,
    ),
]

IAM_ACTIONS: dict[str, Action] = {row.name: row for row in _ROWS}
