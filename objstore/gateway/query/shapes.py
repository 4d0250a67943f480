"""How each IAM/STS result object is written: AWS's output structures, field by field.

Element names are those of AWS's IAM (2010-05-08) and STS (2011-06-15) output shapes;
attributes are those of :mod:`objstore.identity.results`. Input structures shared by
several actions (tags, simulator context entries) are here too.
"""

from __future__ import annotations

from typing import Any

from objstore.gateway.query.form import STRINGS, TEXT, ListOf, StructOf
from objstore.gateway.query.xml import (
    BLOB,
    BOOLEAN,
    INTEGER,
    POLICY,
    TAGS,
    TIME,
    Members,
    Struct,
    field,
)
from objstore.gateway.query.xml import TEXT as TEXT_OUT
from objstore.identity.qr import render_png

# ----------------------------------------------------------------- inputs

TAG_LIST = ListOf(StructOf({"Key": TEXT, "Value": TEXT}, required=("Key", "Value")))
CONTEXT_ENTRIES = ListOf(
    StructOf({"ContextKeyName": TEXT, "ContextKeyValues": STRINGS, "ContextKeyType": TEXT})
)

# ---------------------------------------------------------------- outputs


def _or_none(value: Any) -> Any:
    """Absent rather than empty: AWS leaves out an empty description or tag list."""
    return value or None


BOUNDARY = Struct(
    (
        field("PermissionsBoundaryType", lambda _arn: "PermissionsBoundaryPolicy"),
        field("PermissionsBoundaryArn", lambda arn: arn),
    )
)

TAG = Struct((field("Key", "key"), field("Value", "value")))

USER = Struct(
    (
        field("Path", "path"),
        field("UserName", "user_name"),
        field("UserId", "user_id"),
        field("Arn", "arn"),
        field("CreateDate", "create_date", TIME),
        field("PasswordLastUsed", "password_last_used", TIME),
        field("PermissionsBoundary", "permissions_boundary", BOUNDARY),
        field("Tags", lambda u: _or_none(u.tags), TAGS),
    )
)

GROUP = Struct(
    (
        field("Path", "path"),
        field("GroupName", "group_name"),
        field("GroupId", "group_id"),
        field("Arn", "arn"),
        field("CreateDate", "create_date", TIME),
    )
)

ROLE = Struct(
    (
        field("Path", "path"),
        field("RoleName", "role_name"),
        field("RoleId", "role_id"),
        field("Arn", "arn"),
        field("CreateDate", "create_date", TIME),
        field("AssumeRolePolicyDocument", "assume_role_policy_document", POLICY),
        field("Description", lambda r: _or_none(r.description)),
        field("MaxSessionDuration", "max_session_duration", INTEGER),
        field("PermissionsBoundary", "permissions_boundary", BOUNDARY),
        field("Tags", lambda r: _or_none(r.tags), TAGS),
    )
)

MANAGED_POLICY = Struct(
    (
        field("PolicyName", "policy_name"),
        field("PolicyId", "policy_id"),
        field("Arn", "arn"),
        field("Path", "path"),
        field("DefaultVersionId", "default_version_id"),
        field("AttachmentCount", "attachment_count", INTEGER),
        field("PermissionsBoundaryUsageCount", "permissions_boundary_usage_count", INTEGER),
        field("IsAttachable", "is_attachable", BOOLEAN),
        field("Description", lambda p: _or_none(p.description)),
        field("CreateDate", "create_date", TIME),
        field("UpdateDate", "update_date", TIME),
    )
)

POLICY_VERSION = Struct(
    (
        field("Document", "document", POLICY),
        field("VersionId", "version_id"),
        field("IsDefaultVersion", "is_default_version", BOOLEAN),
        field("CreateDate", "create_date", TIME),
    )
)

ATTACHED_POLICY = Struct((field("PolicyName", "policy_name"), field("PolicyArn", "policy_arn")))

ACCESS_KEY = Struct(
    (
        field("UserName", "user_name"),
        field("AccessKeyId", "access_key_id"),
        field("Status", "status"),
        field("SecretAccessKey", "secret_access_key"),
        field("CreateDate", "create_date", TIME),
    )
)

ACCESS_KEY_METADATA = Struct(
    (
        field("UserName", "user_name"),
        field("AccessKeyId", "access_key_id"),
        field("Status", "status"),
        field("CreateDate", "create_date", TIME),
    )
)

ACCESS_KEY_LAST_USED = Struct(
    (
        field("LastUsedDate", "last_used_date", TIME),
        field("ServiceName", "service_name"),
        field("Region", "region"),
    )
)

LOGIN_PROFILE = Struct(
    (
        field("UserName", "user_name"),
        field("CreateDate", "create_date", TIME),
        field("PasswordResetRequired", "password_reset_required", BOOLEAN),
    )
)

PASSWORD_POLICY = Struct(
    (
        field("MinimumPasswordLength", "minimum_password_length", INTEGER),
        field("RequireSymbols", "require_symbols", BOOLEAN),
        field("RequireNumbers", "require_numbers", BOOLEAN),
        field("RequireUppercaseCharacters", "require_uppercase_characters", BOOLEAN),
        field("RequireLowercaseCharacters", "require_lowercase_characters", BOOLEAN),
        field("AllowUsersToChangePassword", "allow_users_to_change_password", BOOLEAN),
        field("ExpirePasswords", lambda p: p.max_password_age is not None, BOOLEAN),
        field("MaxPasswordAge", "max_password_age", INTEGER),
        field("PasswordReusePrevention", "password_reuse_prevention", INTEGER),
        field("HardExpiry", "hard_expiry", BOOLEAN),
    )
)

VIRTUAL_MFA_DEVICE = Struct(
    (
        field("SerialNumber", "serial_number"),
        # Blobs, as AWS sends them: the base32 text's bytes, and the otpauth URI drawn as a PNG.
        field("Base32StringSeed", "base32_string_seed", BLOB),
        field("QRCodePNG", lambda d: render_png(d.qr_code_uri), BLOB),
    )
)

MFA_DEVICE = Struct(
    (
        field("UserName", "user_name"),
        field("SerialNumber", "serial_number"),
        field("EnableDate", "enable_date", TIME),
    )
)

OIDC_PROVIDER_ENTRY = Struct((field("Arn", "arn"),))

_POSITION = Struct((field("Line", "line", INTEGER), field("Column", "column", INTEGER)))

STATEMENT = Struct(
    (
        field("SourcePolicyId", "source_policy_id"),
        field("SourcePolicyType", "source_policy_type"),
        field("StartPosition", "start", _POSITION),
        field("EndPosition", "end", _POSITION),
    )
)

EVALUATION_RESULT = Struct(
    (
        field("EvalActionName", "eval_action_name"),
        field("EvalResourceName", "eval_resource_name"),
        field("EvalDecision", "eval_decision"),
        field("MatchedStatements", "matched_statements", Members(STATEMENT)),
        field("MissingContextValues", "missing_context_values", Members(TEXT_OUT)),
        field(
            "PermissionsBoundaryDecisionDetail",
            lambda r: r,
            Struct(
                (
                    field(
                        "AllowedByPermissionsBoundary",
                        "permissions_boundary_allowed",
                        BOOLEAN,
                    ),
                )
            ),
        ),
    )
)

CREDENTIALS = Struct(
    (
        field("AccessKeyId", "access_key_id"),
        field("SecretAccessKey", "secret_access_key"),
        field("SessionToken", "session_token"),
        field("Expiration", "expiration", TIME),
    )
)

ASSUMED_ROLE_USER = Struct((field("AssumedRoleId", "id"), field("Arn", "arn")))
