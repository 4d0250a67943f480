"""The Object Lock calls of :class:`objstore.client.Client` (a mix-in by job): a bucket's
Object Lock configuration, and each version's retention and legal hold.

A version under a retention in force or a legal hold cannot be deleted for good:
GOVERNANCE gives way to ``bypass_governance_retention=True`` from a caller allowed
``s3:BypassGovernanceRetention``, COMPLIANCE only to time (:mod:`objstore.ns.locking`).
Every method may also raise :class:`~objstore.errors.AccessDenied`.
"""

from __future__ import annotations

from typing import Any

from objstore.types import ObjectLockConfiguration, ObjectLockRetention


class LockCalls:
    """Object Lock, as one identity (the engine call comes from Client)."""

    def _call(self, name: str, **params: Any) -> Any:
        raise NotImplementedError

    def put_object_lock_configuration(
        self, bucket: str, configuration: ObjectLockConfiguration | None = None
    ) -> None:
        """Enable Object Lock on a bucket (for good) and set its default retention
        (``configuration.mode`` for ``days`` or ``years``; none without a mode). A bucket
        created without Object Lock may get it once its versioning is enabled, as S3
        allows. Authorized as ``s3:PutBucketObjectLockConfiguration``.

        Raises NoSuchBucket, InvalidBucketState (versioning not enabled), MalformedXML
        (``object_lock_enabled`` not "Enabled", a mode other than "GOVERNANCE" /
        "COMPLIANCE", both or neither of days and years), InvalidRetentionPeriod (not a
        positive number; at most 36,500 days or 100 years)."""
        self._call("PutObjectLockConfiguration", bucket=bucket, configuration=configuration)

    def get_object_lock_configuration(self, bucket: str) -> ObjectLockConfiguration:
        """The bucket's Object Lock configuration. Raises NoSuchBucket,
        ObjectLockConfigurationNotFoundError (the bucket has no Object Lock)."""
        result: ObjectLockConfiguration = self._call("GetObjectLockConfiguration", bucket=bucket)
        return result

    def put_object_retention(
        self,
        bucket: str,
        key: str,
        retention: ObjectLockRetention | None,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> None:
        """Set the retention of an object (its newest version, or ``version_id``);
        ``None`` removes it. The date must be in the future. While a retention is in
        force it may only be extended in the same mode: shortening it, changing its mode
        or removing it needs ``bypass_governance_retention`` (and
        ``s3:BypassGovernanceRetention``) under GOVERNANCE and is refused under
        COMPLIANCE. Authorized as ``s3:PutObjectRetention`` (condition keys
        ``s3:object-lock-mode``, ``s3:object-lock-retain-until-date``,
        ``s3:object-lock-remaining-retention-days``).

        Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete
        marker), InvalidRequest (the bucket has no Object Lock), MalformedXML (another
        mode), InvalidArgument (a date not in the future), AccessDenied (a change the
        retention in force forbids)."""
        self._call(
            "PutObjectRetention",
            bucket=bucket,
            key=key,
            retention=retention,
            version_id=version_id,
            bypass_governance_retention=bypass_governance_retention,
        )

    def get_object_retention(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectLockRetention:
        """The retention of an object (or one version), even one that has expired.
        Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed, InvalidRequest
        (no Object Lock), NoSuchObjectLockConfiguration (no retention was set)."""
        result: ObjectLockRetention = self._call(
            "GetObjectRetention", bucket=bucket, key=key, version_id=version_id
        )
        return result

    def put_object_legal_hold(
        self, bucket: str, key: str, legal_hold: str, *, version_id: str | None = None
    ) -> None:
        """Turn the legal hold of an object (or one version) ``"ON"`` or ``"OFF"``; while
        on, the version cannot be deleted, whatever its retention. Authorized as
        ``s3:PutObjectLegalHold`` (condition key ``s3:object-lock-legal-hold``).
        Raises what :meth:`get_object_retention` raises but
        NoSuchObjectLockConfiguration, and MalformedXML (another status)."""
        self._call(
            "PutObjectLegalHold",
            bucket=bucket,
            key=key,
            legal_hold=legal_hold,
            version_id=version_id,
        )

    def get_object_legal_hold(self, bucket: str, key: str, *, version_id: str | None = None) -> str:
        """``"ON"`` or ``"OFF"``. Raises what :meth:`get_object_retention` raises
        (NoSuchObjectLockConfiguration: never set)."""
        result: str = self._call(
            "GetObjectLegalHold", bucket=bucket, key=key, version_id=version_id
        )
        return result
