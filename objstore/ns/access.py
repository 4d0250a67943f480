"""Bucket and object ACLs and object ownership controls, ACLs disabled (see :mod:`.acl`).

Nothing here changes who may do what: an ACL is always the bucket owner's full control,
so reading one only checks that the bucket (or object version) exists and setting one
only checks that it says what it already is. The one stored setting is the bucket's
object ownership controls (in its bucket record), which may be deleted and put back.
"""

from __future__ import annotations

from dataclasses import replace

from objstore.errors import MalformedACLError, OwnershipControlsNotFoundError
from objstore.meta.base import WriteTxn
from objstore.ns import acl as acl_rules
from objstore.ns import validation
from objstore.ns.index import Index, bucket_key
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
        MalformedACLError (neither or both given), InvalidArgument,
        AccessControlListNotSupported."""
        with self.meta.begin() as txn:
            owner = self._bucket(txn, bucket).owner
        _check_acl(acl, access_control_policy, owner)

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
        :meth:`put_bucket_acl` raise."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            self._resolve(txn, bucket, key, version_id)
        _check_acl(acl, access_control_policy, b.owner)

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
        self._set_ownership(bucket, object_ownership)

    def delete_bucket_ownership_controls(self, bucket: str) -> None:
        """Remove the bucket's ownership controls (ACLs stay disabled: objstore has
        none). Raises NoSuchBucket."""
        self._set_ownership(bucket, None)

    def _set_ownership(self, bucket: str, setting: str | None) -> None:
        def write(txn: WriteTxn) -> None:
            b = self._bucket(txn, bucket)
            if b.ownership != setting:
                txn.put(bucket_key(bucket), replace(b, ownership=setting).encode())

        self.writer.run(write)


def _check_acl(acl: str | None, policy: AccessControlPolicy | None, owner: str) -> None:
    if (acl is None) == (policy is None):
        raise MalformedACLError("give either a canned ACL or an access control policy")
    if acl is not None:
        acl_rules.check_canned(acl)
    if policy is not None:
        acl_rules.check_policy(policy, owner)
