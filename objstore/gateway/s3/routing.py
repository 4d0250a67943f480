"""Which S3 operation a request names: its method, whether it addresses the service, a
bucket or an object, and its subresource query parameter (pure: no I/O).

The tables are data: a feature added later (object tagging, say) adds its rows to
``BUCKET_ROUTES`` / ``OBJECT_ROUTES`` and its handler to
:data:`objstore.gateway.s3.handlers.HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from objstore import errors

# Query parameters that name an S3 subresource (the API a request addresses), as opposed
# to an operation's parameters (prefix, versionId, partNumber, x-id ...).
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "attributes",
        "cors",
        "delete",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "select",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versioning",
        "versions",
        "website",
    }
)

# (method, subresource or "") -> operation, for requests addressing a bucket ...
BUCKET_ROUTES: dict[tuple[str, str], str] = {
    ("GET", ""): "ListObjects",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "versioning"): "GetBucketVersioning",
    ("GET", "policy"): "GetBucketPolicy",
    ("GET", "versions"): "ListObjectVersions",
    ("GET", "uploads"): "ListMultipartUploads",
    ("GET", "acl"): "GetBucketAcl",
    ("PUT", "acl"): "PutBucketAcl",
    ("GET", "ownershipControls"): "GetBucketOwnershipControls",
    ("PUT", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "ownershipControls"): "DeleteBucketOwnershipControls",
    ("GET", "object-lock"): "GetObjectLockConfiguration",
    ("PUT", "object-lock"): "PutObjectLockConfiguration",
    ("GET", "publicAccessBlock"): "GetPublicAccessBlock",
    ("PUT", "publicAccessBlock"): "PutPublicAccessBlock",
    ("DELETE", "publicAccessBlock"): "DeletePublicAccessBlock",
    ("GET", "policyStatus"): "GetBucketPolicyStatus",
    ("PUT", ""): "CreateBucket",
    ("PUT", "versioning"): "PutBucketVersioning",
    ("PUT", "policy"): "PutBucketPolicy",
    ("HEAD", ""): "HeadBucket",
    ("DELETE", ""): "DeleteBucket",
    ("DELETE", "policy"): "DeleteBucketPolicy",
    ("POST", "delete"): "DeleteObjects",
    ("POST", ""): "PostObject",
}

# Bucket CORS and bucket tagging (their own block, for easier merges).
BUCKET_ROUTES.update(
    {
        ("GET", "cors"): "GetBucketCors",
        ("PUT", "cors"): "PutBucketCors",
        ("DELETE", "cors"): "DeleteBucketCors",
        ("GET", "tagging"): "GetBucketTagging",
        ("PUT", "tagging"): "PutBucketTagging",
        ("DELETE", "tagging"): "DeleteBucketTagging",
    }
)

# ... and for requests addressing an object.
OBJECT_ROUTES: dict[tuple[str, str], str] = {
    ("GET", ""): "GetObject",
    ("GET", "uploadId"): "ListParts",
    ("GET", "tagging"): "GetObjectTagging",
    ("PUT", "tagging"): "PutObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging",
    ("GET", "acl"): "GetObjectAcl",
    ("PUT", "acl"): "PutObjectAcl",
    ("GET", "attributes"): "GetObjectAttributes",
    ("GET", "retention"): "GetObjectRetention",
    ("PUT", "retention"): "PutObjectRetention",
    ("GET", "legal-hold"): "GetObjectLegalHold",
    ("PUT", "legal-hold"): "PutObjectLegalHold",
    ("HEAD", ""): "HeadObject",
    ("PUT", ""): "PutObject",
    ("PUT", "uploadId"): "UploadPart",
    ("DELETE", ""): "DeleteObject",
    ("DELETE", "uploadId"): "AbortMultipartUpload",
    ("POST", "uploads"): "CreateMultipartUpload",
    ("POST", "uploadId"): "CompleteMultipartUpload",
}

# A PUT carrying x-amz-copy-source is the copying twin of the operation.
COPYING = {"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}

_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})


def operation(
    method: str,
    bucket: str | None,
    key: str | None,
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> str:
    """The operation's name. Raises MethodNotAllowed, NotImplemented (a subresource
    objstore does not offer, such as ``?lifecycle`` or ``?website``)."""
    if method not in _METHODS:
        raise errors.MethodNotAllowed(
            "The specified method is not allowed against this resource.", Method=method
        )
    if bucket is None:
        if method == "GET":
            return "ListBuckets"
        raise errors.MethodNotAllowed(
            "The specified method is not allowed against this resource.", Method=method
        )
    routes = BUCKET_ROUTES if key is None else OBJECT_ROUTES
    present = sorted(name for name in query if name in SUBRESOURCES)
    for sub in present or [""]:
        op = routes.get((method, sub))
        if op is not None:
            if "x-amz-copy-source" in headers:
                op = COPYING.get(op, op)
            return op
    if present:
        raise errors.NotImplemented(
            f"objstore does not implement ?{present[0]} for {method} on this resource"
        )
    raise errors.MethodNotAllowed(
        "The specified method is not allowed against this resource.", Method=method
    )
