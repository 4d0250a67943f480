"""``Client``: the public, boto3-shaped API of one caller.

Each method turns its arguments into a request for the engine, which
authorizes it and runs it. Every method may also raise
:class:`~objstore.errors.AccessDenied`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from objstore.authz import Identity
from objstore.body import ObjectBody
from objstore.client_access import AccessCalls
from objstore.client_bucket_settings import BucketSettingCalls
from objstore.client_locking import LockCalls
from objstore.client_multipart import MultipartCalls, copy_metadata
from objstore.client_presign import Credentials, PresignCalls
from objstore.client_transfers import TransferCalls
from objstore.errors import InvalidArgument
from objstore.identity.facade import IamClient
from objstore.identity.sts_facade import StsClient
from objstore.ns import tags as tag_rules
from objstore.ns.integrity import Supplied
from objstore.ns.ranges import RangeSpec
from objstore.types import (
    BucketInfo,
    DeletedObject,
    DeleteError,
    DeleteResult,
    ListObjectsResult,
    ListVersionsResult,
    ObjectAttributes,
    ObjectInfo,
    ObjectTags,
    PutObjectResult,
)

if TYPE_CHECKING:
    from objstore.engine import Engine

MAX_DELETE_KEYS = 1000
MAX_BATCH_PUT = 10_000


class Client(
    MultipartCalls, AccessCalls, BucketSettingCalls, LockCalls, TransferCalls, PresignCalls
):
    """Storage operations performed as one identity."""

    def __init__(
        self, engine: Engine, identity: Identity, credentials: Credentials | None = None
    ) -> None:
        self._engine = engine
        self.identity = identity
        self._credentials = credentials  # for presigned URLs (client_presign.py)
        self._iam: IamClient | None = None
        self._sts: StsClient | None = None

    def _call(self, name: str, **params: Any) -> Any:
        return self._engine.call(self.identity, name, params)

    @property
    def iam(self) -> IamClient:
        """The IAM API, as this caller (each call authorized as ``iam:<Action>``)."""
        if self._iam is None:
            self._iam = IamClient(self._engine, self.identity)
        return self._iam

    @property
    def sts(self) -> StsClient:
        """Temporary credentials and GetCallerIdentity, as this caller."""
        if self._sts is None:
            self._sts = StsClient(self._engine, self.identity)
        return self._sts

    # ---------------------------------------------------------------- buckets

    def create_bucket(
        self,
        bucket: str,
        *,
        object_ownership: str | None = None,
        object_lock_enabled: bool = False,
    ) -> None:
        """Create a bucket. Its object ownership is ``BucketOwnerEnforced`` (ACLs
        disabled, S3's default); naming it in ``object_ownership`` is also authorized
        as ``s3:PutBucketOwnershipControls``, as AWS. ``object_lock_enabled``: Object
        Lock and versioning enabled for good (also authorized as
        ``s3:PutBucketObjectLockConfiguration`` and ``s3:PutBucketVersioning``).

        Raises InvalidBucketName, BucketAlreadyOwnedByYou, BucketAlreadyExists,
        NotImplemented / InvalidArgument (another ``object_ownership``).
        """
        self._call(
            "CreateBucket",
            bucket=bucket,
            object_ownership=object_ownership,
            object_lock_enabled=object_lock_enabled,
        )

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Raises NoSuchBucket."""
        result: BucketInfo = self._call("HeadBucket", bucket=bucket)
        return result

    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket. Raises NoSuchBucket, BucketNotEmpty."""
        self._call("DeleteBucket", bucket=bucket)

    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket, by name."""
        result: list[BucketInfo] = self._call("ListBuckets")
        return result

    def put_bucket_versioning(self, bucket: str, status: str) -> None:
        """Set versioning to "Enabled" or "Suspended". Raises NoSuchBucket, InvalidArgument,
        InvalidBucketState (a bucket with Object Lock stays Enabled)."""
        self._call("PutBucketVersioning", bucket=bucket, status=status)

    def get_bucket_versioning(self, bucket: str) -> str | None:
        """ "Enabled", "Suspended", or None if never enabled. Raises NoSuchBucket."""
        result: str | None = self._call("GetBucketVersioning", bucket=bucket)
        return result

    def put_bucket_policy(self, bucket: str, policy: str) -> None:
        """Set the bucket's policy (JSON text). Raises NoSuchBucket, MalformedPolicy."""
        self._call("PutBucketPolicy", bucket=bucket, policy=policy)

    def get_bucket_policy(self, bucket: str) -> str:
        """The bucket's policy text. Raises NoSuchBucket, NoSuchBucketPolicy."""
        result: str = self._call("GetBucketPolicy", bucket=bucket)
        return result

    def delete_bucket_policy(self, bucket: str) -> None:
        """Remove the bucket's policy. Raises NoSuchBucket."""
        self._call("DeleteBucketPolicy", bucket=bucket)

    # ---------------------------------------------------------------- objects

    def put_object(
        self,
        bucket: str,
        key: str,
        body: object,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_length: int | None = None,
        tagging: Mapping[str, str] | str | None = None,
        checksum_algorithm: str | None = None,
        checksums: Supplied = None,
        content_md5: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        """Store ``body`` (bytes-like, a binary file, or an iterable of bytes-like pieces).

        The body is streamed, never held whole. Acknowledged only once durable.
        ``tagging``: the object's tags (a mapping, ``(key, value)`` pairs, or
        S3's ``"k1=v1&k2=v2"``); setting them is also authorized as
        ``s3:PutObjectTagging``. ``checksum_algorithm`` ("CRC32", "CRC32C",
        "CRC64NVME", "SHA1", "SHA256") is computed while the body streams in and
        stored; ``checksums`` (``{algorithm: base64}``, or a callable returning
        it once the body has ended, for HTTP trailers) and ``content_md5``
        (base64) are verified before the commit. The system headers
        (``cache_control`` ... ``expires``) are stored and returned as S3 does.
        ``object_lock_*``: the version's retention ("GOVERNANCE"/"COMPLIANCE" until a
        future date, both or neither) and legal hold ("ON"/"OFF"), in a bucket with
        Object Lock (also authorized as ``s3:PutObjectRetention`` /
        ``s3:PutObjectLegalHold``); a version without a retention gets the bucket's
        default one. A locked version needs ``content_md5`` or a checksum, as in S3.

        Raises NoSuchBucket, KeyTooLongError, MetadataTooLarge, EntityTooLarge
        (over the single-PUT limit, checked up front from ``content_length``),
        IncompleteBody (the body disagrees with ``content_length``),
        PreconditionFailed / NoSuchKey (``if_match``, ``if_none_match="*"``),
        NotImplemented (``if_none_match`` other than ``"*"``, as S3),
        ConditionalRequestConflict (a concurrent write won), InvalidArgument,
        InvalidTag / BadRequest (tags), BadDigest (a checksum or Content-MD5
        mismatch: nothing is stored), InvalidDigest (malformed Content-MD5),
        InvalidRequest (malformed checksum value or algorithm; Object Lock: a bucket
        without it, no Content-MD5 or checksum).
        """
        result: PutObjectResult = self._call(
            "PutObject",
            bucket=bucket,
            key=key,
            body=body,
            metadata=copy_metadata(metadata),
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
            content_length=content_length,
            tagging=tag_rules.normalize(tagging),
            checksum_algorithm=checksum_algorithm,
            checksums=checksums,
            content_md5=content_md5,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            object_lock_mode=object_lock_mode,
            object_lock_retain_until_date=object_lock_retain_until_date,
            object_lock_legal_hold_status=object_lock_legal_hold_status,
        )
        return result

    def put_objects(
        self,
        bucket: str,
        items: Iterable[tuple[str, object]],
    ) -> list[PutObjectResult]:
        """Store many ``(key, body)`` pairs in one atomic, durable commit.

        An objstore extension (S3 has no batch PUT): small objects then cost one
        disk sync per batch instead of one each. Each key is authorized as
        ``s3:PutObject``; if any is denied, nothing is written. Raises what
        :meth:`put_object` raises for any item (and then stores nothing).
        """
        if not isinstance(items, Iterable) or isinstance(items, str | bytes):
            raise InvalidArgument("put_objects takes an iterable of (key, body) pairs")
        pairs = list(items)
        if len(pairs) > MAX_BATCH_PUT:
            raise InvalidArgument(f"at most {MAX_BATCH_PUT} objects per put_objects call")
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise InvalidArgument("put_objects takes (key, body) pairs")
        result: list[PutObjectResult] = self._call("PutObjects", bucket=bucket, items=pairs)
        return result

    def get_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        range: RangeSpec = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        checksum_mode: bool = False,
        part_number: int | None = None,
    ) -> ObjectBody:
        """Open an object (or a byte range or a part of it) for streaming.

        ``range`` is ``(first, last)`` inclusive or ``"bytes=a-b"``,
        ``"bytes=a-"``, ``"bytes=-n"``. ``part_number`` (1-10,000) reads part N of
        a multipart object, in the order of its parts (``parts_count`` of them,
        ``content_range`` says where); the whole object is part 1 of an object
        from a single PUT. With ``checksum_mode`` the body carries the object's
        stored S3 checksum (``checksums``; never for a range or one part of
        several). Raises NoSuchBucket, NoSuchKey (with ``.delete_marker``),
        NoSuchVersion, MethodNotAllowed (a delete marker's version id),
        InvalidRange, InvalidPartNumber (beyond the part count), InvalidArgument
        (a part number outside 1-10,000), InvalidRequest (both ``range`` and
        ``part_number``; part N of a multipart object completed before objstore
        recorded part sizes, when it has several parts), PreconditionFailed,
        NotModified, and while reading DataCorruption.
        """
        result: ObjectBody = self._call(
            "GetObject",
            bucket=bucket,
            key=key,
            version_id=version_id,
            range=range,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            checksum_mode=checksum_mode,
            part_number=part_number,
        )
        return result

    def head_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        checksum_mode: bool = False,
        part_number: int | None = None,
    ) -> ObjectInfo:
        """An object's attributes (its S3 checksum with ``checksum_mode``); with
        ``part_number``, also the part's ``content_range`` and ``content_length``.
        Raises as :meth:`get_object` (no range, no body)."""
        result: ObjectInfo = self._call(
            "HeadObject",
            bucket=bucket,
            key=key,
            version_id=version_id,
            checksum_mode=checksum_mode,
            part_number=part_number,
        )
        return result

    def get_object_attributes(
        self,
        bucket: str,
        key: str,
        *,
        object_attributes: Iterable[str],
        version_id: str | None = None,
        max_parts: int | None = None,
        part_number_marker: int | None = None,
    ) -> ObjectAttributes:
        """Some attributes of an object (or one version) without its body, as S3's
        GetObjectAttributes: ``object_attributes`` names them ("ETag", "Checksum",
        "ObjectParts", "StorageClass", "ObjectSize"); the others are None in the result.

        ``Checksum`` is the stored additional checksum (None without one);
        ``ObjectParts`` (None for a single PUT) has the parts count of a multipart
        object and a page of its parts' sizes (after ``part_number_marker``, at most
        ``max_parts``, default and cap 1000), without per-part checksums (not kept).
        Authorized as ``s3:GetObjectAttributes`` (``s3:GetObjectVersionAttributes``
        with ``version_id``). Raises NoSuchBucket, NoSuchKey (``.delete_marker``),
        NoSuchVersion, MethodNotAllowed (a delete marker's version id),
        InvalidArgument (an unknown attribute, none, a negative count).
        """
        result: ObjectAttributes = self._call(
            "GetObjectAttributes",
            bucket=bucket,
            key=key,
            # A one-shot iterable is read once here; the namespace checks the names.
            object_attributes=(
                list(object_attributes)
                if isinstance(object_attributes, Iterable)
                and not isinstance(object_attributes, str)
                else object_attributes
            ),
            version_id=version_id,
            max_parts=max_parts,
            part_number_marker=part_number_marker,
        )
        return result

    def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> DeleteResult:
        """Delete per the bucket's versioning state, or one version for good.

        Raises NoSuchBucket, InvalidArgument (malformed version id), AccessDenied (a
        version under a legal hold or a retention in force; GOVERNANCE yields to
        ``bypass_governance_retention`` with ``s3:BypassGovernanceRetention``).
        """
        result: DeleteResult = self._call(
            "DeleteObject",
            bucket=bucket,
            key=key,
            version_id=version_id,
            bypass_governance_retention=bypass_governance_retention,
        )
        return result

    def delete_objects(
        self,
        bucket: str,
        keys: Iterable[str | tuple[str, str | None] | Mapping[str, str]],
        *,
        bypass_governance_retention: bool = False,
    ) -> list[DeletedObject | DeleteError]:
        """Delete up to 1000 keys; each is a key, ``(key, version_id)`` or
        ``{"Key": ..., "VersionId": ...}``. Per-key failures (AccessDenied
        included, Object Lock's as in :meth:`delete_object`) come back as
        DeleteError entries. Raises NoSuchBucket, InvalidArgument (too many keys
        or a malformed entry).
        """
        items = _delete_items(keys)
        result: list[DeletedObject | DeleteError] = self._call(
            "DeleteObjects",
            bucket=bucket,
            items=items,
            bypass_governance_retention=bypass_governance_retention,
        )
        return result

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        src_version_id: str | None = None,
        metadata_directive: str = "COPY",
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        tagging_directive: str = "COPY",
        tagging: Mapping[str, str] | str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        """Copy an object without moving its bytes (they are shared).

        The copy keeps the source's checksums; its metadata, content type and
        system headers with ``metadata_directive="COPY"`` (else the ones
        given), its tags with ``tagging_directive="COPY"`` (else ``tagging``), and
        the Object Lock given (as :meth:`put_object`; never the source's).
        Raises the source's NoSuchBucket / NoSuchKey / NoSuchVersion,
        InvalidRequest (copy onto itself unchanged, source a delete marker,
        source over 5 GB), PreconditionFailed, InvalidArgument, InvalidTag.
        """
        result: PutObjectResult = self._call(
            "CopyObject",
            src_bucket=src_bucket,
            src_key=src_key,
            bucket=bucket,
            key=key,
            src_version_id=src_version_id,
            metadata_directive=metadata_directive,
            metadata=copy_metadata(metadata),
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
            tagging_directive=tagging_directive,
            tagging=tag_rules.normalize(tagging),
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            object_lock_mode=object_lock_mode,
            object_lock_retain_until_date=object_lock_retain_until_date,
            object_lock_legal_hold_status=object_lock_legal_hold_status,
        )
        return result

    def put_object_tagging(
        self,
        bucket: str,
        key: str,
        tags: Mapping[str, str] | str,
        *,
        version_id: str | None = None,
    ) -> str | None:
        """Replace the tags of an object (or one version); returns the version id
        (None in a never-versioned bucket). Raises NoSuchBucket, NoSuchKey,
        NoSuchVersion, MethodNotAllowed (a delete marker), InvalidTag, BadRequest
        (over 10 tags), InvalidArgument.
        """
        result: str | None = self._call(
            "PutObjectTagging",
            bucket=bucket,
            key=key,
            tags=tag_rules.normalize(tags),
            version_id=version_id,
        )
        return result

    def get_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectTags:
        """The tags of an object (or one version), a dict whose ``version_id`` names the
        version read. Raises as :meth:`put_object_tagging`."""
        result: ObjectTags = self._call(
            "GetObjectTagging", bucket=bucket, key=key, version_id=version_id
        )
        return result

    def delete_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> str | None:
        """Remove every tag of an object (or one version); returns the version id.
        Raises as :meth:`put_object_tagging`."""
        result: str | None = self._call(
            "DeleteObjectTagging", bucket=bucket, key=key, version_id=version_id
        )
        return result

    # ---------------------------------------------------------------- listing

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListObjectsResult:
        """One page of keys in UTF-8 byte order (ListObjectsV2).

        Raises NoSuchBucket, InvalidArgument (bad token or max_keys).
        """
        result: ListObjectsResult = self._call(
            "ListObjects",
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=continuation_token,
            start_after=start_after,
        )
        return result

    def list_object_versions(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = 1000,
    ) -> ListVersionsResult:
        """One page of versions and delete markers: by key, newest first. With a
        ``delimiter``, the keys after ``prefix`` that contain it are rolled up into
        ``common_prefixes`` (each counts once toward ``max_keys``). When
        ``is_truncated``, pass ``next_key_marker`` and ``next_version_id_marker``
        (None after a common prefix) for the next page.

        Raises NoSuchBucket, InvalidArgument.
        """
        result: ListVersionsResult = self._call(
            "ListObjectVersions",
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            version_id_marker=version_id_marker,
            max_keys=max_keys,
        )
        return result


def _delete_items(
    keys: Iterable[str | tuple[str, str | None] | Mapping[str, str]],
) -> list[tuple[str, str | None]]:
    if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
        raise InvalidArgument("keys must be a list of keys")
    items: list[tuple[str, str | None]] = []
    for entry in keys:
        if isinstance(entry, str):
            items.append((entry, None))
        elif isinstance(entry, tuple) and len(entry) == 2:
            items.append((entry[0], entry[1]))
        elif isinstance(entry, Mapping) and "Key" in entry:
            items.append((entry["Key"], entry.get("VersionId")))
        else:
            raise InvalidArgument(f"cannot read a key to delete from {entry!r}")
        if len(items) > MAX_DELETE_KEYS:
            raise InvalidArgument(f"at most {MAX_DELETE_KEYS} keys per delete_objects call")
    return items
