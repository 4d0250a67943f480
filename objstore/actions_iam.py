"""The IAM and STS rows of the action table, and the bucket-policy calls (which the
identity layer runs): see :mod:`objstore.actions`.
"""

from __future__ import annotations

from objstore.action_types import (
    ANY,
    BUCKET,
    IAM_ARN,
    IAM_GROUP,
    IAM_KEY_OWNER,
    IAM_MFA,
    IAM_OIDC,
    IAM_POLICY,
    IAM_REQUEST_TAG,
    IAM_ROLE,
    IAM_TAG_KEYS,
    IAM_USER,
    Operation,
    Permission,
)
from objstore.identity.names import check_session_tags, check_tags

# Tags are parsed (and a repeated key refused) before anything is decided: the condition
# keys and the stored tags come from the one parsed dict (see Operation.parse).
_TAGS = (("tags", check_tags),)


def _bucket_policy(name: str, method: str, *, owner_account_only: bool = True) -> Operation:
    """The bucket-policy calls the identity layer runs. S3's Put/Get/DeleteBucketPolicy:
    the caller needs the permission AND must be an identity of the bucket owner's account
    (else 405 MethodNotAllowed), so a policy granting ``s3:*`` to ``"*"`` does not hand its
    own rewriting to everyone. S3 documents no such rule for GetBucketPolicyStatus."""
    return Operation(
        name,
        method,
        (Permission(f"s3:{name}", BUCKET),),
        target="identity",
        owner_account_only=owner_account_only,
    )


BUCKET_POLICY_OPERATIONS: tuple[Operation, ...] = (
    _bucket_policy("PutBucketPolicy", "put_bucket_policy"),
    _bucket_policy("GetBucketPolicy", "get_bucket_policy"),
    _bucket_policy("DeleteBucketPolicy", "delete_bucket_policy"),
    # Reads the stored policy (the identity layer keeps it): s3:GetBucketPolicyStatus.
    _bucket_policy("GetBucketPolicyStatus", "get_bucket_policy_status", owner_account_only=False),
)


def _iam(
    name: str,
    method: str,
    resource: str,
    name_param: str | None = None,
    *,
    caller: bool = False,
    context: tuple[tuple[str, str], ...] = (),
    action: str | None = None,
    facade: str = "iam",
    request_tags: str | None = None,
    removed_tag_keys: str | None = None,
    current_boundary: bool = False,
) -> Operation:
    """An IAM (or STS) operation: action ``iam:<name>`` on one resource. Whenever that
    resource is a user or role, the engine supplies its tags (aws:ResourceTag/*,
    iam:ResourceTag/*), whatever kind is declared here."""
    return Operation(
        name,
        method,
        (
            Permission(
                action or f"{facade}:{name}",
                resource,
                name_param=name_param,
                context=context,
                request_tags=request_tags,
                tag_condition_keys=(IAM_REQUEST_TAG, IAM_TAG_KEYS),
                removed_tag_keys=removed_tag_keys,
                current_boundary=current_boundary,
            ),
        ),
        caller_param="caller" if caller else None,
        target="identity",
        facade=facade,
        parse=_TAGS if request_tags else (),
    )


_POLICY_ARN = (("iam:PolicyARN", "policy_arn"),)
_BOUNDARY_ARN = (("iam:PermissionsBoundary", "policy_arn"),)
_NEW_BOUNDARY = (("iam:PermissionsBoundary", "permissions_boundary"),)


def _entity_policy_ops(kind: str, resource: str) -> tuple[Operation, ...]:
    """Attach/detach/list-attached and inline put/get/delete/list for users, groups, roles."""
    k, p = kind.capitalize(), f"{kind}_name"
    bounded = kind != "group"  # users and roles have boundaries; groups none
    return (
        _iam(
            f"Attach{k}Policy",
            f"attach_{kind}_policy",
            resource,
            p,
            context=_POLICY_ARN,
            current_boundary=bounded,
        ),
        _iam(
            f"Detach{k}Policy",
            f"detach_{kind}_policy",
            resource,
            p,
            context=_POLICY_ARN,
            current_boundary=bounded,
        ),
        _iam(f"ListAttached{k}Policies", f"list_attached_{kind}_policies", resource, p),
        _iam(f"Put{k}Policy", f"put_{kind}_policy", resource, p, current_boundary=bounded),
        _iam(f"Get{k}Policy", f"get_{kind}_policy", resource, p),
        _iam(f"Delete{k}Policy", f"delete_{kind}_policy", resource, p, current_boundary=bounded),
        _iam(f"List{k}Policies", f"list_{kind}_policies", resource, p),
    )


def _entity_tag_ops(kind: str, resource: str) -> tuple[Operation, ...]:
    """Tag/Untag/List tags of users and roles, with aws:RequestTag/* and aws:TagKeys."""
    k, p = kind.capitalize(), f"{kind}_name"
    return (
        _iam(f"Tag{k}", f"tag_{kind}", resource, p, request_tags="tags"),
        _iam(f"Untag{k}", f"untag_{kind}", resource, p, removed_tag_keys="tag_keys"),
        _iam(f"List{k}Tags", f"list_{kind}_tags", resource, p),
    )


def _create(kind: str, resource: str) -> Operation:
    """CreateUser/CreateRole: iam:Create<Kind> on the new entity's ARN, and iam:Tag<Kind> on
    it as well when the request sets tags (as AWS: creating with tags is tagging), each with
    the tags as aws:RequestTag/* and aws:TagKeys."""
    k, p = kind.capitalize(), f"{kind}_name"
    return Operation(
        f"Create{k}",
        f"create_{kind}",
        tuple(
            Permission(
                f"iam:{verb}{k}",
                resource,
                name_param=p,
                context=context,
                request_tags="tags",
                tag_condition_keys=(IAM_REQUEST_TAG, IAM_TAG_KEYS),
                only_with=only_with,
            )
            for verb, context, only_with in (("Create", _NEW_BOUNDARY, None), ("Tag", (), "tags"))
        ),
        target="identity",
        facade="iam",
        parse=_TAGS,
    )


def _update(kind: str, resource: str) -> Operation:
    """UpdateUser/UpdateGroup: iam:Update<Kind> on the entity's ARN before and after."""
    k, p = kind.capitalize(), f"{kind}_name"
    action = f"iam:Update{k}"
    return Operation(
        f"Update{k}",
        f"update_{kind}",
        (
            Permission(action, resource, name_param=p),
            Permission(action, resource, name_param=f"new_{p}", renames=p),
        ),
        target="identity",
        facade="iam",
    )


# What AssumeRole tells the role's trust policy.
_ASSUME = (
    ("sts:ExternalId", "external_id"),
    ("sts:RoleSessionName", "role_session_name"),
    ("aws:MultiFactorAuthPresent", "mfa_present"),
    ("aws:MultiFactorAuthAge", "mfa_age"),
)
_U, _G, _R, _P = ("user_name", "group_name", "role_name", "policy_arn")
IAM_OPERATIONS: tuple[Operation, ...] = (
    _create("user", IAM_USER),
    _iam("GetUser", "get_user", IAM_USER, _U, caller=True),
    _iam("ListUsers", "list_users", ANY),
    _iam("DeleteUser", "delete_user", IAM_USER, _U),
    _update("user", IAM_USER),
    _iam("CreateGroup", "create_group", IAM_GROUP, _G),
    _iam("GetGroup", "get_group", IAM_GROUP, _G),
    _iam("ListGroups", "list_groups", ANY),
    _iam("DeleteGroup", "delete_group", IAM_GROUP, _G),
    _update("group", IAM_GROUP),
    _iam("AddUserToGroup", "add_user_to_group", IAM_GROUP, _G),
    _iam("RemoveUserFromGroup", "remove_user_from_group", IAM_GROUP, _G),
    _iam("ListGroupsForUser", "list_groups_for_user", IAM_USER, _U, caller=True),
    _create("role", IAM_ROLE),
    _iam("GetRole", "get_role", IAM_ROLE, _R),
    _iam("ListRoles", "list_roles", ANY),
    _iam("DeleteRole", "delete_role", IAM_ROLE, _R),
    _iam("UpdateRole", "update_role", IAM_ROLE, _R),
    _iam("UpdateAssumeRolePolicy", "update_assume_role_policy", IAM_ROLE, _R),
    _iam("CreatePolicy", "create_policy", IAM_POLICY, "policy_name"),
    _iam("GetPolicy", "get_policy", IAM_POLICY, _P),
    _iam("ListPolicies", "list_policies", ANY),
    _iam("DeletePolicy", "delete_policy", IAM_POLICY, _P),
    _iam("CreatePolicyVersion", "create_policy_version", IAM_POLICY, _P),
    _iam("GetPolicyVersion", "get_policy_version", IAM_POLICY, _P),
    _iam("ListPolicyVersions", "list_policy_versions", IAM_POLICY, _P),
    _iam("DeletePolicyVersion", "delete_policy_version", IAM_POLICY, _P),
    _iam("SetDefaultPolicyVersion", "set_default_policy_version", IAM_POLICY, _P),
    *_entity_tag_ops("user", IAM_USER),
    *_entity_tag_ops("role", IAM_ROLE),
    *_entity_policy_ops("user", IAM_USER),
    *_entity_policy_ops("group", IAM_GROUP),
    *_entity_policy_ops("role", IAM_ROLE),
    _iam(
        "PutUserPermissionsBoundary",
        "put_user_permissions_boundary",
        IAM_USER,
        _U,
        context=_BOUNDARY_ARN,
    ),
    _iam(
        "DeleteUserPermissionsBoundary",
        "delete_user_permissions_boundary",
        IAM_USER,
        _U,
        current_boundary=True,
    ),
    _iam(
        "PutRolePermissionsBoundary",
        "put_role_permissions_boundary",
        IAM_ROLE,
        _R,
        context=_BOUNDARY_ARN,
    ),
    _iam(
        "DeleteRolePermissionsBoundary",
        "delete_role_permissions_boundary",
        IAM_ROLE,
        _R,
        current_boundary=True,
    ),
    _iam("CreateAccessKey", "create_access_key", IAM_USER, _U, caller=True),
    _iam("UpdateAccessKey", "update_access_key", IAM_USER, _U, caller=True),
    _iam("DeleteAccessKey", "delete_access_key", IAM_USER, _U, caller=True),
    _iam("ListAccessKeys", "list_access_keys", IAM_USER, _U, caller=True),
    # The key's user: its tags are aws:ResourceTag/* (AWS: the user resource type).
    _iam("GetAccessKeyLastUsed", "get_access_key_last_used", IAM_KEY_OWNER, "access_key_id"),
    _iam("CreateLoginProfile", "create_login_profile", IAM_USER, _U, caller=True),
    _iam("UpdateLoginProfile", "update_login_profile", IAM_USER, _U, caller=True),
    _iam("GetLoginProfile", "get_login_profile", IAM_USER, _U, caller=True),
    _iam("DeleteLoginProfile", "delete_login_profile", IAM_USER, _U, caller=True),
    _iam("ChangePassword", "change_password", IAM_USER, caller=True),
    _iam("UpdateAccountPasswordPolicy", "update_account_password_policy", ANY),
    _iam("GetAccountPasswordPolicy", "get_account_password_policy", ANY),
    _iam("DeleteAccountPasswordPolicy", "delete_account_password_policy", ANY),
    _iam("CreateVirtualMFADevice", "create_virtual_mfa_device", IAM_MFA, "virtual_mfa_device_name"),
    _iam("EnableMFADevice", "enable_mfa_device", IAM_USER, _U, caller=True),
    _iam("DeactivateMFADevice", "deactivate_mfa_device", IAM_USER, _U, caller=True),
    _iam("ListMFADevices", "list_mfa_devices", IAM_USER, _U, caller=True),
    _iam("DeleteVirtualMFADevice", "delete_virtual_mfa_device", IAM_ARN, "serial_number"),
    _iam("GenerateCredentialReport", "generate_credential_report", ANY),
    _iam("GetCredentialReport", "get_credential_report", ANY),
    # The user, group or role simulated (a user's or role's tags are aws:ResourceTag/*).
    _iam("SimulatePrincipalPolicy", "simulate_principal_policy", IAM_ARN, "policy_source_arn"),
    _iam("SimulateCustomPolicy", "simulate_custom_policy", ANY),
    # STS. GetCallerIdentity and GetSessionToken need no permission (as in AWS); AssumeRole
    # (and sts:TagSession) is decided with the role's trust policy as the resource policy
    # of the role's ARN.
    _iam("GetCallerIdentity", "get_caller_identity", ANY, caller=True, facade="sts"),
    _iam("GetSessionToken", "get_session_token", ANY, caller=True, facade="sts"),
    Operation(
        "AssumeRole",
        "assume_role",
        (
            Permission("sts:AssumeRole", IAM_ARN, name_param="role_arn", context=_ASSUME),
            # Session tags need sts:TagSession as well, decided like sts:AssumeRole (the
            # role's trust policy), with the tags as aws:RequestTag/<key> and aws:TagKeys.
            Permission(
                "sts:TagSession",
                IAM_ARN,
                name_param="role_arn",
                context=_ASSUME,
                request_tags="tags",
                tag_condition_keys=(IAM_REQUEST_TAG, IAM_TAG_KEYS),
                only_with="tags",
            ),
        ),
        caller_param="caller",
        decided_param="decided",  # the id of the role whose trust policy decided
        target="identity",
        facade="sts",
        parse=(("tags", check_session_tags),),
    ),
    Operation(
        "AssumeRoleWithWebIdentity",
        "assume_role_with_web_identity",
        (
            Permission(
                "sts:AssumeRoleWithWebIdentity",
                IAM_ARN,
                name_param="role_arn",
                context=(("sts:RoleSessionName", "role_session_name"),),
                context_map="web_identity_keys",
            ),
        ),
        caller_param="caller",
        decided_param="decided",
        target="identity",
        facade="sts",
    ),
    _iam(
        "CreateOpenIDConnectProvider",
        "create_open_id_connect_provider",
        IAM_OIDC,
        "url",
    ),
    _iam("GetOpenIDConnectProvider", "get_open_id_connect_provider", IAM_ARN, "provider_arn"),
    _iam("ListOpenIDConnectProviders", "list_open_id_connect_providers", ANY),
    _iam("DeleteOpenIDConnectProvider", "delete_open_id_connect_provider", IAM_ARN, "provider_arn"),
    # The audit log, as CloudTrail's LookupEvents.
    _iam("LookupEvents", "lookup_events", ANY, action="cloudtrail:LookupEvents"),
)
