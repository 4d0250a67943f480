"""Every public storage operation, as data: its IAM action(s), resource and condition keys.

The engine reads this table and nothing else to decide what to ask the
authorizer; handlers never check permissions themselves. A test walks the
whole table to prove that a caller allowed nothing is denied everything.
"""

from __future__ import annotations

from objstore.action_types import (
    ANY,
    BUCKET,
    ENTITY_KIND,
    IAM_ARN,
    IAM_GROUP,
    IAM_KEY_OWNER,
    IAM_MFA,
    IAM_OIDC,
    IAM_POLICY,
    IAM_REQUEST_TAG,
    IAM_RESOURCES,
    IAM_ROLE,
    IAM_TAG_KEYS,
    IAM_USER,
    OBJECT,
    Operation,
    Permission,
    Reveal,
    tag_context,
    tag_pairs,
)
from objstore.actions_iam import BUCKET_POLICY_OPERATIONS, IAM_OPERATIONS

__all__ = [
    "ANY",
    "BUCKET",
    "IAM_ARN",
    "IAM_GROUP",
    "IAM_KEY_OWNER",
    "IAM_MFA",
    "IAM_OIDC",
    "IAM_POLICY",
    "IAM_REQUEST_TAG",
    "IAM_RESOURCES",
    "ENTITY_KIND",
    "IAM_ROLE",
    "IAM_TAG_KEYS",
    "IAM_USER",
    "OBJECT",
    "Operation",
    "Permission",
    "Reveal",
    "tag_context",
    "tag_pairs",
    "OPERATIONS",
    "COMPOSITE_METHODS",
    "LOCAL_METHODS",
    "IAM_OPERATIONS",
    "operation_for_method",
]

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
    Permission("s3:PutObject", OBJECT, request_tags="tagging", lock_context=True),
    Permission("s3:PutObjectTagging", OBJECT, request_tags="tagging", only_with="tagging"),
)
# Writes that may set Object Lock on the new version (PutObject, CopyObject,
# CreateMultipartUpload) also need the lock's own actions, as AWS: s3:PutObjectRetention
# for a retention, s3:PutObjectLegalHold for a legal hold.
_PUT_LOCKED = (
    Permission("s3:PutObjectRetention", OBJECT, only_with="object_lock_mode", lock_context=True),
    Permission(
        "s3:PutObjectLegalHold",
        OBJECT,
        only_with="object_lock_legal_hold_status",
        lock_context=True,
    ),
)
# GET and HEAD show a version's Object Lock only to callers allowed to read it, as AWS.
# Asked with s3:GetObject(Version) on the same object, in the same authorize() call.
_LOCK_FIELDS = (
    Reveal("s3:GetObjectRetention", ("object_lock_mode", "object_lock_retain_until_date")),
    Reveal("s3:GetObjectLegalHold", ("object_lock_legal_hold_status",)),
)
# Bypassing a GOVERNANCE retention (x-amz-bypass-governance-retention): optional, so a
# caller without it still deletes (or changes) what no GOVERNANCE retention protects.
_BYPASS = Permission(
    "s3:BypassGovernanceRetention",
    OBJECT,
    only_with="bypass_governance_retention",
    optional=True,
    lock_context=True,
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
                # A bucket with Object Lock also needs these, as AWS (it is versioned too).
                Permission(
                    "s3:PutBucketObjectLockConfiguration", BUCKET, only_with="object_lock_enabled"
                ),
                Permission("s3:PutBucketVersioning", BUCKET, only_with="object_lock_enabled"),
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
        Operation("PutObject", "put_object", _PUT_TAGGED + _PUT_LOCKED),
        Operation(
            "GetObject",
            "get_object",
            (_GET,),
            not_found_requires=_LIST_BUCKET,
            reveals=_LOCK_FIELDS,
        ),
        Operation(
            "HeadObject",
            "head_object",
            (_GET,),
            not_found_requires=_LIST_BUCKET,
            reveals=_LOCK_FIELDS,
        ),
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
                _BYPASS,
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
                _BYPASS,
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
                    lock_context=True,
                ),
                _PUT_TAGGED[1],
                *_PUT_LOCKED,
            ),
        ),
        Operation("CreateMultipartUpload", "create_multipart_upload", _PUT_TAGGED + _PUT_LOCKED),
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
        _bucket_op(
            "PutObjectLockConfiguration",
            "put_object_lock_configuration",
            action="s3:PutBucketObjectLockConfiguration",
        ),
        _bucket_op(
            "GetObjectLockConfiguration",
            "get_object_lock_configuration",
            action="s3:GetBucketObjectLockConfiguration",
        ),
        Operation(
            "PutObjectRetention",
            "put_object_retention",
            (
                Permission(
                    "s3:PutObjectRetention", OBJECT, version_param="version_id", lock_context=True
                ),
                _BYPASS,
            ),
        ),
        Operation(
            "GetObjectRetention",
            "get_object_retention",
            (Permission("s3:GetObjectRetention", OBJECT, version_param="version_id"),),
            not_found_requires=_LIST_BUCKET,
        ),
        Operation(
            "PutObjectLegalHold",
            "put_object_legal_hold",
            (
                Permission(
                    "s3:PutObjectLegalHold", OBJECT, version_param="version_id", lock_context=True
                ),
            ),
        ),
        Operation(
            "GetObjectLegalHold",
            "get_object_legal_hold",
            (Permission("s3:GetObjectLegalHold", OBJECT, version_param="version_id"),),
            not_found_requires=_LIST_BUCKET,
        ),
        # Block Public Access; deleting it is s3:PutBucketPublicAccessBlock too, as AWS.
        _bucket_op(
            "GetPublicAccessBlock",
            "get_public_access_block",
            action="s3:GetBucketPublicAccessBlock",
        ),
        _bucket_op(
            "PutPublicAccessBlock",
            "put_public_access_block",
            action="s3:PutBucketPublicAccessBlock",
        ),
        _bucket_op(
            "DeletePublicAccessBlock",
            "delete_public_access_block",
            action="s3:PutBucketPublicAccessBlock",
        ),
        # Bucket CORS and tags; deleting either is the Put action, as AWS.
        _bucket_op("PutBucketCors", "put_bucket_cors", action="s3:PutBucketCORS"),
        _bucket_op("GetBucketCors", "get_bucket_cors", action="s3:GetBucketCORS"),
        _bucket_op("DeleteBucketCors", "delete_bucket_cors", action="s3:PutBucketCORS"),
        _bucket_op("PutBucketTagging", "put_bucket_tagging"),
        _bucket_op("GetBucketTagging", "get_bucket_tagging"),
        _bucket_op("DeleteBucketTagging", "delete_bucket_tagging", action="s3:PutBucketTagging"),
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


for _op in (
    *BUCKET_POLICY_OPERATIONS,
    *IAM_OPERATIONS,
):
    OPERATIONS[_op.name] = _op


# Client methods made only of other client calls, each authorized as its own
# operation (boto3's managed transfers): they need no row of their own.
COMPOSITE_METHODS = frozenset({"upload_file", "download_file"})
# Client methods that make no request at all: a presigned URL is made locally, as an SDK
# makes it; the request it names is authorized (once) when it is sent.
LOCAL_METHODS = frozenset({"generate_presigned_url"})


def operation_for_method(method: str, facade: str = "client") -> Operation:
    """The operation a facade's method performs; raises KeyError for an unknown one."""
    for op in OPERATIONS.values():
        if op.method == method and op.facade == facade:
            return op
    raise KeyError(method)
