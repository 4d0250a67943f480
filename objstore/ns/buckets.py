"""Bucket operations: create, head, delete, list, versioning state."""

from __future__ import annotations

from dataclasses import replace

from objstore import keyspace
from objstore.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketState,
)
from objstore.meta.scan import scan_prefix
from objstore.ns import acl, validation, versioning
from objstore.ns.bucket_settings import drop_settings
from objstore.ns.index import Index, bucket_key, bucket_prefix, to_datetime
from objstore.ns.multipart import drop_bucket_uploads
from objstore.ns.records import BucketRecord
from objstore.types import BucketInfo


class BucketOps(Index):
    """Bucket operations."""

    # ------------------------------------------------------------------ buckets

    def create_bucket(
        self,
        bucket: str,
        *,
        owner: str,
        object_ownership: str | None = None,
        object_lock_enabled: bool = False,
    ) -> None:
        """Raises InvalidBucketName, BucketAlreadyOwnedByYou, BucketAlreadyExists,
        NotImplemented / InvalidArgument (``object_ownership``, see :mod:`.acl`).
        With ``object_lock_enabled`` the bucket has Object Lock and versioning enabled,
        both for good."""
        validation.check_bucket_name(bucket)
        if not isinstance(object_lock_enabled, bool):
            raise InvalidArgument("object_lock_enabled must be True or False")
        if object_ownership is not None:
            acl.check_ownership(object_ownership)
        with self.meta.begin_write() as txn:
            raw = txn.get(bucket_key(bucket))
            if raw is not None:
                if BucketRecord.decode(bucket, raw).owner == owner:
                    raise BucketAlreadyOwnedByYou(f"you already own {bucket!r}", bucket=bucket)
                raise BucketAlreadyExists(f"bucket {bucket!r} is taken", bucket=bucket)
            rec = BucketRecord(bucket, owner, self.clock())
            if object_lock_enabled:
                rec = replace(rec, versioning=versioning.ENABLED, object_lock=True)
            txn.put(bucket_key(bucket), rec.encode())

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Raises NoSuchBucket."""
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
        return BucketInfo(bucket, to_datetime(b.created_ns))

    def bucket_owner_and_lock(self, bucket: str) -> tuple[str | None, bool]:
        """The owning account of ``bucket`` (None if absent: for the engine's resource
        account) and whether it has Object Lock (only then may a version show a lock)."""
        with self.meta.begin() as txn:
            raw = txn.get(bucket_key(bucket))
        if raw is None:
            return None, False
        record = BucketRecord.decode(bucket, raw)
        return record.owner, record.object_lock

    def delete_bucket(self, bucket: str) -> None:
        """Raises NoSuchBucket, BucketNotEmpty (any version or delete marker left).

        Multipart uploads in progress are aborted with the bucket, as in S3.
        """
        with self.meta.begin_write() as txn:
            self._bucket(txn, bucket)
            vbase = bucket_prefix(keyspace.VERSION, bucket)
            for _ in scan_prefix(txn, vbase):
                raise BucketNotEmpty(f"bucket {bucket!r} is not empty", bucket=bucket)
            drop_bucket_uploads(txn, self.blobs, bucket)
            drop_settings(txn, bucket)  # CORS, tags: they go with the bucket
            txn.delete(bucket_key(bucket))

    def list_buckets(self, *, owner: str) -> list[BucketInfo]:
        """The buckets ``owner`` (an account id) owns, by name."""
        out = []
        with self.meta.begin() as txn:
            for k, v in scan_prefix(txn, keyspace.BUCKET):
                rec = BucketRecord.decode(k[1:].decode(), v)
                if rec.owner == owner:
                    out.append(BucketInfo(rec.name, to_datetime(rec.created_ns)))
        return out

    def put_bucket_versioning(self, bucket: str, status: str) -> None:
        """Raises NoSuchBucket, InvalidArgument (status not Enabled/Suspended),
        InvalidBucketState (suspending a bucket with Object Lock)."""
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            new = versioning.check_transition(b.versioning, status)
            if b.object_lock and new != versioning.ENABLED:
                raise InvalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the "
                    "versioning state cannot be changed.",
                    bucket=bucket,
                )
            txn.put(bucket_key(bucket), replace(b, versioning=new).encode())

    def get_bucket_versioning(self, bucket: str) -> str | None:
        """None while versioning was never enabled. Raises NoSuchBucket."""
        with self.meta.begin() as txn:
            return self._bucket(txn, bucket).versioning
