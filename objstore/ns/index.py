"""The version index shared by every namespace operation.

Index layout (prefixes from :mod:`objstore.keyspace`), per bucket ``b`` and
encoded key ``ek`` (:mod:`.keys`):

- ``V b 00 ek inv(seq)``: every version and delete marker, newest first.
- ``L b 00 ek``: summary of the newest version when it is an object
  (listing reads only this).
- ``N b 00 ek``: the sequence number of the key's ``null`` version.

:class:`Index` holds the stores and the helpers that read and update these
records inside a caller's transaction; the operation mix-ins (buckets,
objects, listings) build on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from objstore import checksums as checksums_mod
from objstore import keyspace
from objstore.blob.compose import part_sums
from objstore.blob.store import BlobStore
from objstore.errors import (
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
)
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.group import GroupCommitter
from objstore.meta.scan import note_first, scan_prefix
from objstore.ns import decided, keys, locking, stats, validation, versioning
from objstore.ns.locking import Lock
from objstore.ns.records import BucketRecord, VersionRecord, decode_summary
from objstore.ns.upload_expiry import ExpiryMemo

_SEQ_KEY = keyspace.COUNTER + b"seq"


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits (settings, because AWS has raised them before)."""

    max_object_size: int = 5 * 1024**4  # 5 TB
    max_put_size: int = 5 * 1024**3  # 5 GB per single PUT
    max_copy_size: int = 5 * 1024**3
    # Multipart uploads (S3's figures).
    max_parts: int = 10_000
    min_part_size: int = 5 * 1024**2  # every part but the last
    max_part_size: int = 5 * 1024**3
    # Uploads initiated longer ago than this (seconds) are aborted automatically
    # (checked on create / list of uploads and by Store.gc); None keeps them.
    abort_incomplete_after: float | None = None


def to_datetime(ns: int) -> datetime:
    # Every GET and HEAD converts its version's time; datetimes are immutable, so the
    # last 16,384 conversions are kept (a small object's GET spent 2 % here).
    found = _DATETIMES.get(ns)
    if found is None:
        found = datetime.fromtimestamp(ns / 1e9, tz=UTC)
        if len(_DATETIMES) >= _DATETIMES_MAX:
            _DATETIMES.clear()
        _DATETIMES[ns] = found
    return found


_DATETIMES: dict[int, datetime] = {}
_DATETIMES_MAX = 1 << 14  # ~2.5 MB at most


def bucket_key(bucket: str) -> bytes:
    # Every operation looks its bucket up here first (the engine asks for the
    # owner), so a name that is not text fails as InvalidBucketName, not TypeError.
    return keyspace.BUCKET + validation.bucket_bytes(bucket)


def bucket_prefix(prefix: bytes, bucket: str) -> bytes:
    return prefix + validation.bucket_bytes(bucket) + keys.SEP


class Index:
    """The stores, the settings, and the version-index helpers."""

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        *,
        limits: Limits | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.meta = meta
        self.writer = GroupCommitter(meta)
        self.blobs = blobs
        self.limits = limits or Limits()
        self.clock = clock
        # What the last scan of each bucket's uploads says about stale ones (L4).
        self.upload_expiry = ExpiryMemo()
        # Set by Store.close(): bodies still being read then fail as StoreClosed.
        self.closed = False

    # ------------------------------------------------------------------ helpers

    def _bucket(self, txn: ReadTxn, bucket: str) -> BucketRecord:
        raw = txn.get(bucket_key(bucket))
        if raw is None:
            raise NoSuchBucket(f"bucket {bucket!r} does not exist", bucket=bucket)
        return BucketRecord.decode(bucket, raw)

    def _update_bucket(self, bucket: str, **changes: Any) -> None:
        """Set fields of a bucket's record (a bucket setting); written only if it
        changes. Raises NoSuchBucket."""

        def write(txn: WriteTxn) -> None:
            b = self._bucket(txn, bucket)
            changed = replace(b, **changes)
            if changed != b:
                txn.put(bucket_key(bucket), changed.encode())

        self.writer.run(write)

    def _next_seq(self, txn: WriteTxn) -> int:
        raw = txn.get(_SEQ_KEY)
        seq = (int.from_bytes(raw, "big") if raw else 0) + 1
        txn.put(_SEQ_KEY, seq.to_bytes(8, "big"))
        return seq

    def _stamp(self, txn: ReadTxn, bucket: str, ek: bytes) -> int:
        """The time of a new version: now, but never before the key's latest object.

        Nodes sharing a store have clocks that differ; a newer version that looked
        older would answer If-Modified-Since with 304 and make sync tools skip it.
        """
        now = self.clock()
        raw = txn.get(bucket_prefix(keyspace.LATEST, bucket) + ek)
        return now if raw is None else max(now, decode_summary(raw)[2])

    def _newest(self, txn: ReadTxn, bucket: str, ek: bytes) -> VersionRecord | None:
        vbase = bucket_prefix(keyspace.VERSION, bucket) + ek
        for _k, v in scan_prefix(txn, vbase):
            return VersionRecord.decode(v)
        return None

    def _version(
        self, txn: ReadTxn, bucket: str, ek: bytes, version_id: str
    ) -> VersionRecord | None:
        seq = versioning.parse_version_id(version_id)
        if seq is None:
            raw = txn.get(bucket_prefix(keyspace.NULLVER, bucket) + ek)
            if raw is None:
                return None
            seq = int.from_bytes(raw, "big")
        value = txn.get(bucket_prefix(keyspace.VERSION, bucket) + ek + versioning.inv_seq(seq))
        if value is None:
            return None
        rec = VersionRecord.decode(value)
        return rec if rec.version_id == version_id else None

    def _resolve(
        self, txn: ReadTxn, bucket: str, key: str, version_id: str | None
    ) -> VersionRecord:
        """The version a read names; raises NoSuchKey / NoSuchVersion / MethodNotAllowed,
        and DecisionStale when it is not the version the call's authorization read."""
        rec = self._lookup(txn, bucket, key, version_id)
        decided.check(bucket, key, version_id, rec.version_id, rec.seq)
        return rec

    def _lookup(self, txn: ReadTxn, bucket: str, key: str, version_id: str | None) -> VersionRecord:
        ek = keys.encode_key(key)
        if version_id is not None:
            rec = self._version(txn, bucket, ek, version_id)
            if rec is None:
                raise NoSuchVersion(
                    f"version {version_id!r} of {key!r} does not exist",
                    key=key,
                    version_id=version_id,
                )
            if rec.is_marker:
                raise MethodNotAllowed(
                    "the specified version is a delete marker",
                    key=key,
                    version_id=version_id,
                    delete_marker=True,
                )
            return rec
        rec = self._newest(txn, bucket, ek)
        if rec is None:
            raise NoSuchKey(f"key {key!r} does not exist", bucket=bucket, key=key)
        if rec.is_marker:
            raise NoSuchKey(
                f"key {key!r} is deleted",
                bucket=bucket,
                key=key,
                delete_marker=True,
                version_id=rec.version_id,
            )
        return rec

    def _with_part_sums(self, txn: ReadTxn, rec: VersionRecord) -> VersionRecord:
        """``rec`` with its part checksums, for a read of one part of it: a record from
        before perf6b holds them in its tail, a later one under its body's key."""
        if rec.part_checksums or rec.parts < 2 or not rec.checksums or rec.data_id is None:
            return rec
        return replace(rec, part_checksums=part_sums(txn, rec.data_id))

    @staticmethod
    def _part_checksum(rec: VersionRecord, part_number: int) -> dict[str, str]:
        """Part ``part_number``'s checksum ({algorithm: base64}) of a record given its part
        checksums (:meth:`_with_part_sums`); {} when the object keeps none."""
        sums = rec.part_checksums
        if not sums or not rec.parts or len(sums) % rec.parts or len(rec.checksums) != 1:
            return {}
        size = len(sums) // rec.parts
        (algorithm,) = rec.checksums
        digest = sums[(part_number - 1) * size : part_number * size]
        return {algorithm: checksums_mod.encode(digest)}

    def _lock_asked(self, b: BucketRecord, mode: object, until: object, hold: object) -> Lock:
        """The Object Lock a write asks for (``x-amz-object-lock-*``), checked against the
        bucket and the clock (:func:`.locking.requested`)."""
        return locking.requested(
            mode, until, hold, now_ns=self.clock(), bucket_locked=b.object_lock
        )

    def _public_vid(self, b: BucketRecord, rec: VersionRecord) -> str | None:
        # Buckets that never had versioning report no version ids, as S3 does.
        return None if b.versioning is None else rec.version_id

    def _store_version(self, txn: WriteTxn, bucket: str, ek: bytes, rec: VersionRecord) -> None:
        """Store ``rec``, the key's new newest version (its sequence number is the
        highest yet, so it sorts first among the key's versions)."""
        vbase = bucket_prefix(keyspace.VERSION, bucket) + ek
        vkey, value = vbase + versioning.inv_seq(rec.seq), rec.encode()
        txn.put(vkey, value)
        # The next GET's newest-version read: answered without LMDB (the LMDB store's
        # read cache; a hand-off of the GIL per py-lmdb call saved on a busy server).
        note_first(txn, vbase, vkey, value)
        stats.version_added(txn, rec)
        if rec.version_id == versioning.NULL:
            txn.put(bucket_prefix(keyspace.NULLVER, bucket) + ek, rec.seq.to_bytes(8, "big"))

    def _remove_version(
        self, txn: WriteTxn, bucket: str, ek: bytes, rec: VersionRecord, *, bypass: bool = False
    ) -> None:
        """Remove one version for good. Every path that removes a version comes here, so
        Object Lock is enforced here, before anything is written: a retention in force
        or a legal hold refuses (AccessDenied; ``bypass`` lifts GOVERNANCE only)."""
        locking.check_removable(rec.lock, self.clock(), bypass=bypass)
        if txn.delete(bucket_prefix(keyspace.VERSION, bucket) + ek + versioning.inv_seq(rec.seq)):
            stats.version_added(txn, rec, -1)
        if rec.version_id == versioning.NULL:
            txn.delete(bucket_prefix(keyspace.NULLVER, bucket) + ek)
        if rec.data_id is not None:
            self.blobs.release(txn, rec.data_id)

    def _remove_null(
        self, txn: WriteTxn, bucket: str, ek: bytes, *, bypass: bool = False
    ) -> VersionRecord | None:
        rec = self._version(txn, bucket, ek, versioning.NULL)
        if rec is not None:
            self._remove_version(txn, bucket, ek, rec, bypass=bypass)
        return rec

    def _refresh_latest(self, txn: WriteTxn, bucket: str, ek: bytes) -> None:
        newest = self._newest(txn, bucket, ek)
        lkey = bucket_prefix(keyspace.LATEST, bucket) + ek
        stats.set_latest(
            txn, lkey, None if newest is None or newest.is_marker else newest.summary()
        )

    def _current_etag(self, txn: ReadTxn, bucket: str, ek: bytes) -> str | None:
        rec = self._newest(txn, bucket, ek)
        return None if rec is None or rec.is_marker else rec.etag
