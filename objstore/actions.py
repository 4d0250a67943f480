"""Every public storage operation, as data: its IAM action(s), resource and condition keys.

The engine reads this table and nothing else to decide what to ask the
authorizer; handlers never check permissions themselves. A test walks the
whole table to prove that a caller allowed nothing is denied everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUCKET = "bucket"
OBJECT = "object"
ANY = "*"
# IAM resources: the identity layer builds their ARNs (it knows entity paths).
IAM_USER = "iam-user"  # arn:aws:iam::ACCOUNT:user/PATH/NAME (the caller's own when unnamed)
IAM_GROUP = "iam-group"
IAM_ROLE = "iam-role"
IAM_POLICY = "iam-policy"  # the policy_arn parameter, or built from policy_name and path
IAM_KEY_OWNER = "iam-key-owner"  # the user (or root) owning the access_key_id parameter
IAM_MFA = "iam-mfa"  # arn:aws:iam::ACCOUNT:mfa/NAME
IAM_OIDC = "iam-oidc"  # arn:aws:iam::ACCOUNT:oidc-provider/HOST
IAM_ARN = "iam-arn"  # the parameter itself is the resource's ARN
# The condition keys of IAM requests that set or remove tags.
IAM_REQUEST_TAG = "aws:RequestTag/"
IAM_TAG_KEYS = "aws:TagKeys"
IAM_RESOURCES = frozenset(
    {IAM_USER, IAM_GROUP, IAM_ROLE, IAM_POLICY, IAM_KEY_OWNER, IAM_MFA, IAM_OIDC, IAM_ARN}
)


@dataclass(frozen=True, slots=True)
class Permission:
    """One IAM action an operation needs, and how to build its resource and context."""

    action: str
    resource: str  # BUCKET, OBJECT or ANY
    versioned_action: str | None = None  # used instead when the version parameter is set
    bucket_param: str = "bucket"
    key_param: str = "key"
    version_param: str | None = None
    name_param: str | None = None  # IAM resources: the parameter naming the entity
    # A parameter holding a mapping of further condition keys (web-identity claims such as
    # ``HOST:sub``, whose names depend on the provider).
    context_map: str | None = None
    # (condition key, parameter name): values the operation supplies to conditions.
    context: tuple[tuple[str, str], ...] = ()
    # The parameter holding the tags the request sets, and the condition keys they are
    # given as: s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys (IAM: aws:RequestTag/
    # and aws:TagKeys).
    request_tags: str | None = None
    tag_condition_keys: tuple[str, str] = ("s3:RequestObjectTag/", "s3:RequestObjectTagKeys")
    # The parameter holding the tag keys the request removes (IAM's Untag*: aws:TagKeys).
    removed_tag_keys: str | None = None
    # The engine reads the tags of the object (bucket/key/version parameters) before it
    # asks, for s3:ExistingObjectTag/<key>.
    existing_tags: bool = False
    # IAM renames (UpdateUser, UpdateGroup): the parameter naming the entity updated; the
    # resource is its ARN after the update (new name from ``name_param``, path from
    # ``new_path``, each defaulting to the current one).
    renames: str | None = None
    # The engine reads the tags of the user or role the resource names, for
    # aws:ResourceTag/<key> and iam:ResourceTag/<key> (always for IAM_USER and IAM_ROLE
    # resources; set for others naming one, such as sts:AssumeRole's role ARN).
    entity_tags: bool = False
    # Asked only when this parameter is set (PutObject asks s3:PutObjectTagging too
    # when it carries tags, as AWS).
    only_with: str | None = None

    def applies(self, params: Mapping[str, Any]) -> bool:
        return self.only_with is None or bool(params.get(self.only_with))

    def action_for(self, params: Mapping[str, Any]) -> str:
        if self.versioned_action and self.version_param and params.get(self.version_param):
            return self.versioned_action
        return self.action

    def resource_for(self, params: Mapping[str, Any]) -> str:
        if self.resource == ANY:
            return "*"
        bucket = params[self.bucket_param]
        if self.resource == BUCKET:
            return f"arn:aws:s3:::{bucket}"
        return f"arn:aws:s3:::{bucket}/{params[self.key_param]}"

    def context_for(self, params: Mapping[str, Any]) -> dict[str, object]:
        ctx: dict[str, object] = {}
        for cond_key, param in self.context:
            value = _derived(param, params) if param in _DERIVED else params.get(param)
            if value is not None and value != "":
                ctx[cond_key] = value
        if self.version_param and params.get(self.version_param):
            ctx["s3:VersionId"] = params[self.version_param]
        if self.context_map and isinstance(params.get(self.context_map), Mapping):
            ctx.update(params[self.context_map])
        if self.request_tags:
            pairs = tag_pairs(params.get(self.request_tags))
            if pairs:
                prefix, keys = self.tag_condition_keys
                ctx.update(tag_context(prefix, pairs))
                ctx[keys] = [k for k, _ in pairs]
        if self.removed_tag_keys:
            removed = params.get(self.removed_tag_keys)
            if isinstance(removed, list | tuple) and removed:
                ctx[IAM_TAG_KEYS] = [k for k in removed if isinstance(k, str)]
        return ctx


def tag_pairs(tags: object) -> list[tuple[str, str]]:
    """The (key, value) string pairs of a tag mapping, pair list or IAM's list of
    ``{"Key", "Value"}`` (anything else: none; the call rejects malformed tags after
    authorization)."""
    if isinstance(tags, Mapping):
        items: list[object] = list(tags.items())
    elif isinstance(tags, list | tuple):
        items = [(t.get("Key"), t.get("Value", "")) if isinstance(t, Mapping) else t for t in tags]
    else:
        return []
    return [
        (k, v)
        for item in items
        if isinstance(item, tuple) and len(item) == 2
        for k, v in [item]
        if isinstance(k, str) and isinstance(v, str)
    ]


def tag_context(prefix: str, pairs: Iterable[tuple[str, str]]) -> dict[str, object]:
    """``prefix + key -> value`` condition keys. Condition keys compare case-insensitively,
    tag keys do not: of keys differing only in case, the first stands."""
    out: dict[str, object] = {}
    seen: set[str] = set()
    for key, value in pairs:
        name = prefix + key
        if name.lower() not in seen:
            seen.add(name.lower())
            out[name] = value
    return out


def _copy_source(params: Mapping[str, Any]) -> str:
    src = f"{params['src_bucket']}/{params['src_key']}"
    vid = params.get("src_version_id")
    return f"{src}?versionId={vid}" if vid else src


# Condition values computed from several parameters.
_DERIVED = {"copy_source": _copy_source}


def _derived(name: str, params: Mapping[str, Any]) -> object:
    return _DERIVED[name](params)


@dataclass(frozen=True, slots=True)
class Operation:
    """A public operation: the client method of the same snake_case name."""

    name: str  # S3 / IAM operation name, e.g. "PutObject"
    method: str  # the Client (and namespace) method, e.g. "put_object"
    permissions: tuple[Permission, ...]
    # Operations over many items authorize each item separately; ``per_item``
    # names the parameters one item tuple carries. With ``partial`` a denied item
    # fails alone (DeleteObjects, as in S3); otherwise the whole call is denied.
    per_item: tuple[str, ...] = ()
    partial: bool = False
    # S3 answers 404 for a missing key only to callers allowed this; others get 403.
    not_found_requires: Permission | None = None
    owner_param: str | None = None  # filled with the caller's account (CreateBucket, ListBuckets)
    caller_param: str | None = None  # filled with the calling Identity ("user_name=None": me)
    target: str = "ns"  # who runs it: the namespace, or "identity" (IAM, STS, bucket policy)
    facade: str = "client"  # the class whose method it is: "client", "iam" or "sts"


_LIST_BUCKET = Permission("s3:ListBucket", BUCKET)
_GET = Permission(
    "s3:GetObject",
    OBJECT,
    versioned_action="s3:GetObjectVersion",
    version_param="version_id",
    existing_tags=True,
)
# Reading the source of a copy (CopyObject, UploadPartCopy).
_GET_SOURCE = Permission(
    "s3:GetObject",
    OBJECT,
    versioned_action="s3:GetObjectVersion",
    bucket_param="src_bucket",
    key_param="src_key",
    version_param="src_version_id",
    existing_tags=True,
)
# Writing an object that may carry tags (PutObject, CreateMultipartUpload, CopyObject):
# s3:PutObject, and s3:PutObjectTagging as well when the request sets tags.
_PUT_TAGGED = (
    Permission("s3:PutObject", OBJECT, request_tags="tagging"),
    Permission("s3:PutObjectTagging", OBJECT, request_tags="tagging", only_with="tagging"),
)


def _tagging(name: str, verb: str, *, request_tags: str | None = None) -> Operation:
    """Put/Get/DeleteObjectTagging: s3:<Name>, or s3:<Verb>ObjectVersionTagging for a version."""
    return Operation(
        name,
        f"{verb.lower()}_object_tagging",
        (
            Permission(
                f"s3:{name}",
                OBJECT,
                versioned_action=f"s3:{verb}ObjectVersionTagging",
                version_param="version_id",
                request_tags=request_tags,
                existing_tags=True,
            ),
        ),
        not_found_requires=_LIST_BUCKET if verb == "Get" else None,
    )


def _object_perm(action: str, versioned: str) -> Permission:
    """s3:<action> on an object, s3:<versioned> for a version; s3:ExistingObjectTag/* apply."""
    return Permission(
        f"s3:{action}",
        OBJECT,
        versioned_action=f"s3:{versioned}",
        version_param="version_id",
        existing_tags=True,
    )


def _bucket_op(name: str, method: str, *, action: str | None = None) -> Operation:
    """An operation on a bucket's own settings: s3:<name> (or ``action``) on the bucket."""
    return Operation(name, method, (Permission(action or f"s3:{name}", BUCKET),))


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "ListBuckets",
            "list_buckets",
            (Permission("s3:ListAllMyBuckets", ANY),),
            owner_param="owner",  # S3 lists the buckets the caller's account owns
        ),
        Operation(
            "CreateBucket",
            "create_bucket",
            (
                Permission("s3:CreateBucket", BUCKET),
                # Setting object ownership at creation also needs its own action, as AWS.
                Permission("s3:PutBucketOwnershipControls", BUCKET, only_with="object_ownership"),
            ),
            owner_param="owner",
        ),
        Operation("HeadBucket", "head_bucket", (_LIST_BUCKET,)),
        Operation("DeleteBucket", "delete_bucket", (Permission("s3:DeleteBucket", BUCKET),)),
        Operation(
            "PutBucketVersioning",
            "put_bucket_versioning",
            (Permission("s3:PutBucketVersioning", BUCKET),),
        ),
        Operation(
            "GetBucketVersioning",
            "get_bucket_versioning",
            (Permission("s3:GetBucketVersioning", BUCKET),),
        ),
        Operation("PutObject", "put_object", _PUT_TAGGED),
        Operation("GetObject", "get_object", (_GET,), not_found_requires=_LIST_BUCKET),
        Operation("HeadObject", "head_object", (_GET,), not_found_requires=_LIST_BUCKET),
        Operation(
            "DeleteObject",
            "delete_object",
            (
                Permission(
                    "s3:DeleteObject",
                    OBJECT,
                    versioned_action="s3:DeleteObjectVersion",
                    version_param="version_id",
                ),
            ),
        ),
        Operation(
            "DeleteObjects",
            "delete_objects",
            (
                Permission(
                    "s3:DeleteObject",
                    OBJECT,
                    versioned_action="s3:DeleteObjectVersion",
                    version_param="version_id",
                ),
            ),
            per_item=("key", "version_id"),
            partial=True,
        ),
        Operation(
            "PutObjects",
            "put_objects",
            (Permission("s3:PutObject", OBJECT),),
            per_item=("key", "body"),
        ),
        Operation(
            "CopyObject",
            "copy_object",
            (
                _GET_SOURCE,
                Permission(
                    "s3:PutObject",
                    OBJECT,
                    context=(
                        ("s3:x-amz-copy-source", "copy_source"),
                        ("s3:x-amz-metadata-directive", "metadata_directive"),
                    ),
                    request_tags="tagging",
                ),
                _PUT_TAGGED[1],
            ),
        ),
        Operation("CreateMultipartUpload", "create_multipart_upload", _PUT_TAGGED),
        Operation(
            "GetObjectAttributes",
            "get_object_attributes",
            (_object_perm("GetObjectAttributes", "GetObjectVersionAttributes"),),
            not_found_requires=_LIST_BUCKET,
        ),
        Operation(
            "GetObjectAcl",
            "get_object_acl",
            (_object_perm("GetObjectAcl", "GetObjectVersionAcl"),),
            not_found_requires=_LIST_BUCKET,
        ),
        Operation(
            "PutObjectAcl",
            "put_object_acl",
            (_object_perm("PutObjectAcl", "PutObjectVersionAcl"),),
        ),
        _bucket_op("GetBucketAcl", "get_bucket_acl"),
        _bucket_op("PutBucketAcl", "put_bucket_acl"),
        _bucket_op("GetBucketOwnershipControls", "get_bucket_ownership_controls"),
        _bucket_op("PutBucketOwnershipControls", "put_bucket_ownership_controls"),
        # AWS has no action of its own for deleting them: s3:PutBucketOwnershipControls.
        _bucket_op(
            "DeleteBucketOwnershipControls",
            "delete_bucket_ownership_controls",
            action="s3:PutBucketOwnershipControls",
        ),
        _tagging("PutObjectTagging", "Put", request_tags="tags"),
        _tagging("GetObjectTagging", "Get"),
        _tagging("DeleteObjectTagging", "Delete"),
        Operation("UploadPart", "upload_part", (Permission("s3:PutObject", OBJECT),)),
        Operation(
            "UploadPartCopy",
            "upload_part_copy",
            (
                _GET_SOURCE,
                Permission(
                    "s3:PutObject", OBJECT, context=(("s3:x-amz-copy-source", "copy_source"),)
                ),
            ),
        ),
        Operation(
            "CompleteMultipartUpload",
            "complete_multipart_upload",
            (Permission("s3:PutObject", OBJECT),),
        ),
        Operation(
            "AbortMultipartUpload",
            "abort_multipart_upload",
            (Permission("s3:AbortMultipartUpload", OBJECT),),
        ),
        Operation(
            "ListParts",
            "list_parts",
            (Permission("s3:ListMultipartUploadParts", OBJECT),),
        ),
        Operation(
            "ListMultipartUploads",
            "list_multipart_uploads",
            (
                Permission(
                    "s3:ListBucketMultipartUploads",
                    BUCKET,
                    context=(("s3:prefix", "prefix"), ("s3:max-keys", "max_uploads")),
                ),
            ),
        ),
        Operation(
            "ListObjects",
            "list_objects",
            (
                Permission(
                    "s3:ListBucket",
                    BUCKET,
                    context=(
                        ("s3:prefix", "prefix"),
                        ("s3:delimiter", "delimiter"),
                        ("s3:max-keys", "max_keys"),
                    ),
                ),
            ),
        ),
        Operation(
            "ListObjectVersions",
            "list_object_versions",
            (
                Permission(
                    "s3:ListBucketVersions",
                    BUCKET,
                    context=(
                        ("s3:prefix", "prefix"),
                        ("s3:delimiter", "delimiter"),
                        ("s3:max-keys", "max_keys"),
                    ),
                ),
            ),
        ),
    )
}


def _bucket_policy(name: str, method: str) -> Operation:
    return Operation(name, method, (Permission(f"s3:{name}", BUCKET),), target="identity")


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
) -> Operation:
    """An IAM (or STS) operation: action ``iam:<name>`` on one resource."""
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
            ),
        ),
        caller_param="caller" if caller else None,
        target="identity",
        facade=facade,
    )


_POLICY_ARN = (("iam:PolicyARN", "policy_arn"),)
_BOUNDARY_ARN = (("iam:PermissionsBoundary", "policy_arn"),)
_NEW_BOUNDARY = (("iam:PermissionsBoundary", "permissions_boundary"),)


def _entity_policy_ops(kind: str, resource: str) -> tuple[Operation, ...]:
    """Attach/detach/list-attached and inline put/get/delete/list for users, groups, roles."""
    k, p = kind.capitalize(), f"{kind}_name"
    return (
        _iam(f"Attach{k}Policy", f"attach_{kind}_policy", resource, p, context=_POLICY_ARN),
        _iam(f"Detach{k}Policy", f"detach_{kind}_policy", resource, p, context=_POLICY_ARN),
        _iam(f"ListAttached{k}Policies", f"list_attached_{kind}_policies", resource, p),
        _iam(f"Put{k}Policy", f"put_{kind}_policy", resource, p),
        _iam(f"Get{k}Policy", f"get_{kind}_policy", resource, p),
        _iam(f"Delete{k}Policy", f"delete_{kind}_policy", resource, p),
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
    _iam("DeleteUserPermissionsBoundary", "delete_user_permissions_boundary", IAM_USER, _U),
    _iam(
        "PutRolePermissionsBoundary",
        "put_role_permissions_boundary",
        IAM_ROLE,
        _R,
        context=_BOUNDARY_ARN,
    ),
    _iam("DeleteRolePermissionsBoundary", "delete_role_permissions_boundary", IAM_ROLE, _R),
    _iam("CreateAccessKey", "create_access_key", IAM_USER, _U, caller=True),
    _iam("UpdateAccessKey", "update_access_key", IAM_USER, _U, caller=True),
    _iam("DeleteAccessKey", "delete_access_key", IAM_USER, _U, caller=True),
    _iam("ListAccessKeys", "list_access_keys", IAM_USER, _U, caller=True),
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
            Permission(
                "sts:AssumeRole", IAM_ARN, name_param="role_arn", context=_ASSUME, entity_tags=True
            ),
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
                entity_tags=True,
            ),
        ),
        caller_param="caller",
        target="identity",
        facade="sts",
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
                entity_tags=True,
            ),
        ),
        caller_param="caller",
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

for _op in (
    _bucket_policy("PutBucketPolicy", "put_bucket_policy"),
    _bucket_policy("GetBucketPolicy", "get_bucket_policy"),
    _bucket_policy("DeleteBucketPolicy", "delete_bucket_policy"),
    *IAM_OPERATIONS,
):
    OPERATIONS[_op.name] = _op


# Client methods made only of other client calls, each authorized as its own
# operation (boto3's managed transfers): they need no row of their own.
COMPOSITE_METHODS = frozenset({"upload_file", "download_file"})


def operation_for_method(method: str, facade: str = "client") -> Operation:
    """The operation a facade's method performs; raises KeyError for an unknown one."""
    for op in OPERATIONS.values():
        if op.method == method and op.facade == facade:
            return op
    raise KeyError(method)
