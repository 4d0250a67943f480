"""Operation name -> handler: every S3 operation the gateway serves.

:mod:`objstore.gateway.s3.routing` names the operation; a feature added later adds its
routes there and its handler here.
"""

from __future__ import annotations

from objstore.gateway.s3 import (
    access,
    bucket_tagging,
    buckets,
    cors,
    listing,
    locking,
    multipart,
    object_attributes,
    objects,
    post_upload,
    public_access,
    tagging,
)
from objstore.gateway.s3.context import Handler

HANDLERS: dict[str, Handler] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "HeadBucket": buckets.head_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "PutBucketVersioning": buckets.put_bucket_versioning,
    "GetBucketPolicy": buckets.get_bucket_policy,
    "PutBucketPolicy": buckets.put_bucket_policy,
    "DeleteBucketPolicy": buckets.delete_bucket_policy,
    "ListObjects": listing.list_objects,
    "ListObjectVersions": listing.list_object_versions,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "PostObject": post_upload.post_object,
    "PutObjectTagging": tagging.put_object_tagging,
    "GetObjectTagging": tagging.get_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": listing.list_multipart_uploads,
    "GetObjectAttributes": object_attributes.get_object_attributes,
    "GetBucketAcl": access.get_bucket_acl,
    "PutBucketAcl": access.put_bucket_acl,
    "GetObjectAcl": access.get_object_acl,
    "PutObjectAcl": access.put_object_acl,
    "GetBucketOwnershipControls": access.get_bucket_ownership_controls,
    "PutBucketOwnershipControls": access.put_bucket_ownership_controls,
    "DeleteBucketOwnershipControls": access.delete_bucket_ownership_controls,
    "PutObjectLockConfiguration": locking.put_object_lock_configuration,
    "GetObjectLockConfiguration": locking.get_object_lock_configuration,
    "PutObjectRetention": locking.put_object_retention,
    "GetObjectRetention": locking.get_object_retention,
    "PutObjectLegalHold": locking.put_object_legal_hold,
    "GetObjectLegalHold": locking.get_object_legal_hold,
    "GetPublicAccessBlock": public_access.get_public_access_block,
    "PutPublicAccessBlock": public_access.put_public_access_block,
    "DeletePublicAccessBlock": public_access.delete_public_access_block,
    "GetBucketPolicyStatus": public_access.get_bucket_policy_status,
}

# Bucket CORS and bucket tagging (their own block, for easier merges).
HANDLERS.update(
    {
        "PutBucketCors": cors.put_bucket_cors,
        "GetBucketCors": cors.get_bucket_cors,
        "DeleteBucketCors": cors.delete_bucket_cors,
        "PutBucketTagging": bucket_tagging.put_bucket_tagging,
        "GetBucketTagging": bucket_tagging.get_bucket_tagging,
        "DeleteBucketTagging": bucket_tagging.delete_bucket_tagging,
    }
)
