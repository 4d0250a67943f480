"""Object Lock operations: a bucket's configuration (enabled, default retention), and each
version's retention and legal hold (one transaction each; the rules are in :mod:`.locking`).

A version's lock lives in its record (:mod:`.records`), beside its tags: changing it
rewrites that one record in place, keeping the version's id, ETag and Last-Modified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from objstore import keyspace
from objstore.errors import (
    InvalidArgument,
    InvalidBucketState,
    InvalidRequest,
    MalformedXML,
    NoSuchObjectLockConfiguration,
    ObjectLockConfigurationNotFoundError,
)
from objstore.meta.base import WriteTxn
from objstore.ns import keys, locking, validation, versioning
from objstore.ns.index import Index, bucket_key, bucket_prefix
from objstore.ns.locking import DefaultRetention, Lock
from objstore.ns.records import BucketRecord, VersionRecord
from objstore.types import ObjectLockConfiguration, ObjectLockRetention

_MISSING_CONFIGURATION = "Bucket is missing Object Lock Configuration"


def _locked(b: BucketRecord) -> None:
    """Refuse a version's lock operation in a bucket without Object Lock."""
    if not b.object_lock:
        raise InvalidRequest(_MISSING_CONFIGURATION, bucket=b.name)


def _default_rule(configuration: object) -> DefaultRetention | None:
    """The default retention of a configuration, validated. Raises MalformedXML,
    InvalidRetentionPeriod."""
    if not isinstance(configuration, ObjectLockConfiguration):
        raise MalformedXML("the Object Lock configuration must be an ObjectLockConfiguration")
    if configuration.object_lock_enabled != locking.ENABLED:
        raise MalformedXML("ObjectLockEnabled must be Enabled")
    c = configuration
    if c.mode is None and c.days is None and c.years is None:
        return None
    if c.mode is None:
        raise MalformedXML("a DefaultRetention needs a Mode")
    return locking.check_default(DefaultRetention(c.mode, c.days, c.years))


class LockOps(Index):
    """Object Lock: bucket configuration, retention and legal hold."""

    # ------------------------------------------------------------------ bucket

    def put_object_lock_configuration(
        self, bucket: str, configuration: ObjectLockConfiguration | None = None
    ) -> None:
        """Enable Object Lock (for good) and set or clear the default retention.

        A bucket created without Object Lock gets it here if its versioning is enabled,
        as S3 allows since 2023. Raises NoSuchBucket, InvalidBucketState (versioning not
        enabled), MalformedXML (not Enabled, an unknown mode, both or neither of days and
        years), InvalidRetentionPeriod."""
        rule = _default_rule(configuration or ObjectLockConfiguration())
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            if not b.object_lock and b.versioning != versioning.ENABLED:
                raise InvalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                    "configuration",
                    bucket=bucket,
                )
            new = replace(b, object_lock=True, default_retention=rule)
            txn.put(bucket_key(bucket), new.encode())

    def get_object_lock_configuration(self, bucket: str) -> ObjectLockConfiguration:
        """Raises NoSuchBucket, ObjectLockConfigurationNotFoundError (no Object Lock)."""
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
        if not b.object_lock:
            raise ObjectLockConfigurationNotFoundError(
                "Object Lock configuration does not exist for this bucket", bucket=bucket
            )
        rule = b.default_retention
        if rule is None:
            return ObjectLockConfiguration()
        return ObjectLockConfiguration(locking.ENABLED, rule.mode, rule.days, rule.years)

    # ------------------------------------------------------------------ versions

    def _read_lock(self, bucket: str, key: str, version_id: str | None) -> Lock:
        validation.check_key(key)
        with self.meta.begin() as txn:
            _locked(self._bucket(txn, bucket))
            return self._resolve(txn, bucket, key, version_id).lock

    def _rewrite_lock(
        self, bucket: str, key: str, version_id: str | None, change: Callable[[Lock], Lock]
    ) -> None:
        """Replace the lock of the version named with ``change(old lock)`` (which raises
        what it refuses), in one transaction."""
        validation.check_key(key)
        ek = keys.encode_key(key)

        def write(txn: WriteTxn) -> None:
            _locked(self._bucket(txn, bucket))
            rec: VersionRecord = self._resolve(txn, bucket, key, version_id)
            vkey = bucket_prefix(keyspace.VERSION, bucket) + ek + versioning.inv_seq(rec.seq)
            txn.put(vkey, replace(rec, lock=change(rec.lock)).encode())

        self.writer.run(write)

    def put_object_retention(
        self,
        bucket: str,
        key: str,
        retention: ObjectLockRetention | None,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> None:
        """Set (``None``: remove) the retention of a version; see
        :meth:`objstore.client.Client.put_object_retention` for the rules and errors."""
        new = locking.NO_LOCK
        if retention is not None:
            if not isinstance(retention, ObjectLockRetention):
                raise InvalidArgument("retention must be an ObjectLockRetention or None")
            mode = locking.check_mode(retention.mode, error=MalformedXML)
            until = locking.parse_date(retention.retain_until_date, "RetainUntilDate")
            if until * 1_000_000 <= self.clock():
                raise InvalidArgument(
                    "The retain until date must be in the future!",
                    ArgumentName="RetainUntilDate",
                )
            new = Lock(mode, until)

        def change(old: Lock) -> Lock:
            locking.check_retention_change(
                old, new, self.clock(), bypass=bypass_governance_retention
            )
            return replace(old, mode=new.mode, until_ms=new.until_ms)

        self._rewrite_lock(bucket, key, version_id, change)

    def get_object_retention(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectLockRetention:
        """Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete
        marker), InvalidRequest (no Object Lock), NoSuchObjectLockConfiguration (none set)."""
        lock = self._read_lock(bucket, key, version_id)
        if lock.mode is None or lock.until_ms is None:
            raise NoSuchObjectLockConfiguration(
                "The specified object does not have a ObjectLock configuration", key=key
            )
        return ObjectLockRetention(lock.mode, locking.from_ms(lock.until_ms))

    def put_object_legal_hold(
        self, bucket: str, key: str, legal_hold: str, *, version_id: str | None = None
    ) -> None:
        """Turn a version's legal hold ``"ON"`` or ``"OFF"``. Raises what
        :meth:`get_object_retention` raises, MalformedXML (another status)."""
        hold = locking.check_hold(legal_hold, error=MalformedXML)
        self._rewrite_lock(bucket, key, version_id, lambda old: replace(old, legal_hold=hold))

    def get_object_legal_hold(self, bucket: str, key: str, *, version_id: str | None = None) -> str:
        """``"ON"`` or ``"OFF"``. Raises what :meth:`get_object_retention` raises
        (NoSuchObjectLockConfiguration: never set)."""
        status = locking.hold_status(self._read_lock(bucket, key, version_id).legal_hold)
        if status is None:
            raise NoSuchObjectLockConfiguration(
                "The specified object does not have a ObjectLock configuration", key=key
            )
        return status
