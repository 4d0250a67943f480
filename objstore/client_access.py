"""The ACL, object ownership and Block Public Access calls of
:class:`objstore.client.Client` (a mix-in by job).

ACLs are disabled as in S3 since April 2023 (object ownership ``BucketOwnerEnforced``):
an ACL is always the bucket owner's full control, and bucket policies and IAM decide
access (:mod:`objstore.ns.acl`). Every method may also raise
:class:`~objstore.errors.AccessDenied`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from objstore.types import AccessControlPolicy, PolicyStatus, PublicAccessBlockConfiguration


class AccessCalls:
    """ACLs and object ownership controls, as one identity (the engine call comes from
    Client)."""

    def _call(self, name: str, **params: Any) -> Any:
        raise NotImplementedError

    def get_bucket_acl(self, bucket: str) -> AccessControlPolicy:
        """The bucket's ACL: its owner's FULL_CONTROL. Raises NoSuchBucket."""
        result: AccessControlPolicy = self._call("GetBucketAcl", bucket=bucket)
        return result

    def put_bucket_acl(
        self,
        bucket: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
    ) -> None:
        """Set the bucket's ACL: a canned ``acl`` or an ``access_control_policy``.

        Only what it already is can be set: ``"bucket-owner-full-control"`` or
        ``"private"``, or a policy granting the owner FULL_CONTROL and nobody anything
        (so it changes nothing). Raises NoSuchBucket, MalformedACLError (neither or both
        given, a malformed grant), InvalidArgument (not a canned ACL),
        AccessControlListNotSupported (any other ACL, as S3 with ACLs disabled).
        """
        self._call(
            "PutBucketAcl", bucket=bucket, acl=acl, access_control_policy=access_control_policy
        )

    def get_object_acl(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> AccessControlPolicy:
        """The ACL of an object (or one version): the bucket owner's FULL_CONTROL (the
        bucket owner owns every object). Raises NoSuchBucket, NoSuchKey, NoSuchVersion,
        MethodNotAllowed (a delete marker), InvalidArgument."""
        result: AccessControlPolicy = self._call(
            "GetObjectAcl", bucket=bucket, key=key, version_id=version_id
        )
        return result

    def put_object_acl(
        self,
        bucket: str,
        key: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
        version_id: str | None = None,
    ) -> None:
        """Set an object's ACL, under the rules of :meth:`put_bucket_acl` (nothing
        changes; Last-Modified neither). Raises what :meth:`get_object_acl` and
        :meth:`put_bucket_acl` raise."""
        self._call(
            "PutObjectAcl",
            bucket=bucket,
            key=key,
            acl=acl,
            access_control_policy=access_control_policy,
            version_id=version_id,
        )

    def get_bucket_ownership_controls(self, bucket: str) -> str:
        """The bucket's object ownership: ``"BucketOwnerEnforced"``. Raises NoSuchBucket,
        OwnershipControlsNotFoundError (deleted by
        :meth:`delete_bucket_ownership_controls`)."""
        result: str = self._call("GetBucketOwnershipControls", bucket=bucket)
        return result

    def put_bucket_ownership_controls(self, bucket: str, object_ownership: str) -> None:
        """Set the bucket's object ownership: ``"BucketOwnerEnforced"`` only. Raises
        NoSuchBucket, NotImplemented (``"ObjectWriter"``, ``"BucketOwnerPreferred"``:
        they turn ACLs on, which objstore does not offer), InvalidArgument."""
        self._call("PutBucketOwnershipControls", bucket=bucket, object_ownership=object_ownership)

    def delete_bucket_ownership_controls(self, bucket: str) -> None:
        """Remove the bucket's ownership controls (authorized as
        ``s3:PutBucketOwnershipControls``, as AWS). ACLs stay disabled: objstore has
        none. Raises NoSuchBucket."""
        self._call("DeleteBucketOwnershipControls", bucket=bucket)

    def put_public_access_block(
        self,
        bucket: str,
        public_access_block_configuration: PublicAccessBlockConfiguration | Mapping[str, bool],
    ) -> None:
        """Set the bucket's Block Public Access settings: a
        :class:`PublicAccessBlockConfiguration`, or a mapping of S3's names
        (``BlockPublicAcls``, ``IgnorePublicAcls``, ``BlockPublicPolicy``,
        ``RestrictPublicBuckets``; a missing one is off) to booleans.

        ``BlockPublicPolicy`` refuses public bucket policies from now on (existing ones
        stay); ``RestrictPublicBuckets`` keeps a public policy's grants from anonymous
        and other-account callers; ``BlockPublicAcls`` makes a public ACL AccessDenied.
        Raises NoSuchBucket, InvalidArgument."""
        self._call(
            "PutPublicAccessBlock",
            bucket=bucket,
            public_access_block_configuration=public_access_block_configuration,
        )

    def get_public_access_block(self, bucket: str) -> PublicAccessBlockConfiguration:
        """The bucket's Block Public Access settings. Raises NoSuchBucket,
        NoSuchPublicAccessBlockConfiguration (none put, or deleted)."""
        result: PublicAccessBlockConfiguration = self._call("GetPublicAccessBlock", bucket=bucket)
        return result

    def delete_public_access_block(self, bucket: str) -> None:
        """Remove the bucket's Block Public Access settings (authorized as
        ``s3:PutBucketPublicAccessBlock``, as AWS). Raises NoSuchBucket."""
        self._call("DeletePublicAccessBlock", bucket=bucket)

    def get_bucket_policy_status(self, bucket: str) -> PolicyStatus:
        """Whether the bucket's policy is public (S3's definition,
        :mod:`objstore.iam.public`); without a policy it is not. Raises NoSuchBucket."""
        result: PolicyStatus = self._call("GetBucketPolicyStatus", bucket=bucket)
        return result
