"""Every public storage operation, as data: its IAM action(s), resource and condition keys.

The engine reads this table and nothing else to decide what to ask the
authorizer; handlers never check permissions themselves. A test walks the
whole table to prove that a caller allowed nothing is denied everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BUCKET = "bucket"
OBJECT = "object"
ANY = "*"


@dataclass(frozen=True, slots=True)
class Permission:
    """One IAM action an operation needs, and how to build its resource and context."""

    action: str
    resource: str  # BUCKET, OBJECT or ANY
    versioned_action: str | None = None  # used instead when the version parameter is set
    bucket_param: str = "bucket"
    key_param: str = "key"
    version_param: str | None = None
    # (condition key, parameter name): values the operation supplies to conditions.
    context: tuple[tuple[str, str], ...] = ()

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
        return ctx


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


_LIST_BUCKET = Permission("s3:ListBucket", BUCKET)
_GET = Permission(
    "s3:GetObject", OBJECT, versioned_action="s3:GetObjectVersion", version_param="version_id"
)

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
            (Permission("s3:CreateBucket", BUCKET),),
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
        Operation("PutObject", "put_object", (Permission("s3:PutObject", OBJECT),)),
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
                Permission(
                    "s3:GetObject",
                    OBJECT,
                    versioned_action="s3:GetObjectVersion",
                    bucket_param="src_bucket",
                    key_param="src_key",
                    version_param="src_version_id",
                ),
                Permission(
                    "s3:PutObject",
                    OBJECT,
                    context=(
                        ("s3:x-amz-copy-source", "copy_source"),
                        ("s3:x-amz-metadata-directive", "metadata_directive"),
                    ),
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
                    context=(("s3:prefix", "prefix"), ("s3:max-keys", "max_keys")),
                ),
            ),
        ),
    )
}


def operation_for_method(method: str) -> Operation:
    """The operation a client method performs; raises KeyError for an unknown one."""
    for op in OPERATIONS.values():
        if op.method == method:
            return op
    raise KeyError(method)
