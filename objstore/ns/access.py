"""Bucket and object ACLs and object ownership controls, ACLs disabled (see :mod:`.acl`).

Nothing here changes who may do what: an ACL is always the bucket owner's full control,
so reading one only checks that the bucket (or object version) exists and setting one
only checks that it says what it already is. The one stored setting is the bucket's
object ownership controls (in its bucket record), which may be deleted and put back.
"""

from __future__ import annotations

from objstore.errors import AccessDenied, MalformedACLError, OwnershipControlsNotFoundError
from objstore.ns import acl as acl_rules
from objstore.ns import validation
from objstore.ns.index import Index
from objstore.types import AccessControlPolicy


class AccessOps(Index):
    """ACL and object ownership operations."""

    def get_bucket_acl(self, bucket: str) -> AccessControlPolicy:
        """The owner's full control. Raises NoSuchBucket."""
        with self.meta.begin() as txn:
            return acl_rules.owner_policy(self._bucket(txn, bucket).owner)

    def put_bucket_acl(
        self,
        bucket: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
    ) -> None:
        """Accept the owner's full control (nothing to store). Raises NoSuchBucket,
        MalformedACLError (neither or both given), InvalidArgument, AccessDenied (a public
        ACL while the bucket's BlockPublicAcls is on), AccessControlListNotSupported."""
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
        _check_acl(acl, access_control_policy, b.owner, _blocks_public_acls(b.public_access_block))

    def get_object_acl(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> AccessControlPolicy:
        """The bucket owner's full control of the version (the bucket owner owns every
        object). Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a
        delete marker), InvalidArgument."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            self._resolve(txn, bucket, key, version_id)
        return acl_rules.owner_policy(b.owner)

    def put_object_acl(
        self,
        bucket: str,
        key: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
        version_id: str | None = None,
    ) -> None:
        """Accept the bucket owner's full control (nothing to store; the version keeps
        its Last-Modified). Raises what :meth:`get_object_acl` and
        :meth:`put_bucket_acl` raise (AccessDenied for a public ACL while the bucket's
        BlockPublicAcls is on)."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            self._resolve(txn, bucket, key, version_id)
        _check_acl(acl, access_control_policy, b.owner, _blocks_public_acls(b.public_access_block))

    def get_bucket_ownership_controls(self, bucket: str) -> str:
        """The bucket's object ownership (``BucketOwnerEnforced``). Raises NoSuchBucket,
        OwnershipControlsNotFoundError (deleted)."""
        with self.meta.begin() as txn:
            setting = self._bucket(txn, bucket).ownership
        if setting is None:
            raise OwnershipControlsNotFoundError(
                "The bucket ownership controls were not found", bucket=bucket
            )
        return setting

    def put_bucket_ownership_controls(self, bucket: str, object_ownership: str) -> None:
        """Set the bucket's object ownership. Raises NoSuchBucket, NotImplemented
        (``ObjectWriter``, ``BucketOwnerPreferred``), InvalidArgument."""
        acl_rules.check_ownership(object_ownership)
        self._update_bucket(bucket, ownership=object_ownership)

    def delete_bucket_ownership_controls(self, bucket: str) -> None:
        """Remove the bucket's ownership controls (ACLs stay disabled: objstore has
        none). Raises NoSuchBucket."""
        self._update_bucket(bucket, ownership=None)


def _blocks_public_acls(flags: tuple[bool, bool, bool, bool] | None) -> bool:
    return flags is not None and flags[0]


def _check_acl(
    acl: str | None, policy: AccessControlPolicy | None, owner: str, block_public: bool
) -> None:
    acl_rules.check_shape(acl, policy)
    if (acl is None) == (policy is None):
        raise MalformedACLError("give either a canned ACL or an access control policy")
    if block_public and acl_rules.is_public(acl, policy.grants if policy else ()):
        # BlockPublicAcls: S3 refuses a public ACL with AccessDenied (checked before
        # ACLs being disabled refuses every ACL that grants others anything).
        raise AccessDenied("Access Denied")
    if acl is not None:
        acl_rules.check_canned(acl)
    if policy is not None:
        acl_rules.check_policy(policy, owner)
