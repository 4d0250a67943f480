"""Result types of the public API: frozen, slotted dataclasses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload


@dataclass(frozen=True, slots=True)
class BucketInfo:
    """A bucket as ``list_buckets`` reports it."""

    name: str
    creation_date: datetime


@dataclass(frozen=True, slots=True)
class PutObjectResult:
    """What a write produced. ``version_id`` is None in a never-versioned bucket."""

    etag: str
    version_id: str | None
    size: int
    checksum: str = ""
    # S3's additional checksum stored with the object (algorithm -> base64), and its type.
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object's attributes (``head_object``), without its body."""

    bucket: str
    key: str
    version_id: str | None
    size: int
    etag: str
    last_modified: datetime
    content_type: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    checksum: str = ""
    # S3's additional checksums (algorithm -> base64): only with ``checksum_mode=True``.
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    expires: str | None = None  # as stored: the HTTP date (or text) given at upload
    tag_count: int = 0
    parts_count: int = 0  # parts of a multipart object; 0 for a single PUT
    # With ``head_object(part_number=N)``: the part's bytes (``bytes first-last/size``;
    # None for an empty part) and length, as a GET of that part would answer.
    content_range: str | None = None
    content_length: int | None = None
    # Object Lock of this version: retention mode and date (UTC), legal hold "ON"/"OFF"
    # (None when never set).
    object_lock_mode: str | None = None
    object_lock_retain_until_date: datetime | None = None
    object_lock_legal_hold_status: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """``version_id`` of the marker created or version removed; whether it is a delete marker."""

    version_id: str | None
    delete_marker: bool


@dataclass(frozen=True, slots=True)
class DeletedObject:
    """One successful entry of ``delete_objects``."""

    key: str
    version_id: str | None
    delete_marker: bool
    delete_marker_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteError:
    """One failed entry of ``delete_objects`` (``code`` is the S3 error code)."""

    key: str
    version_id: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    """One key of a listing."""

    key: str
    size: int
    etag: str
    last_modified: datetime
    storage_class: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class ListObjectsResult:
    """A page of ``list_objects`` (ListObjectsV2)."""

    contents: tuple[ObjectSummary, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_continuation_token: str | None
    key_count: int
    prefix: str = ""
    delimiter: str | None = None
    max_keys: int = 1000


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One object version of ``list_object_versions``."""

    key: str
    version_id: str
    is_latest: bool
    size: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class DeleteMarkerEntry:
    """One delete marker of ``list_object_versions``."""

    key: str
    version_id: str
    is_latest: bool
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ListVersionsResult:
    """A page of ``list_object_versions``."""

    versions: tuple[ObjectVersion, ...]
    delete_markers: tuple[DeleteMarkerEntry, ...]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None
    common_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UploadPartResult:
    """One stored part of a multipart upload (``upload_part``, ``upload_part_copy``)."""

    part_number: int
    etag: str
    size: int
    checksums: dict[str, str] = field(default_factory=dict)  # the part's, algorithm -> base64


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part as ``list_parts`` reports it."""

    part_number: int
    etag: str
    size: int
    last_modified: datetime
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListPartsResult(Sequence[PartInfo]):
    """A page of ``list_parts``: a sequence of its :class:`PartInfo` items (ascending
    part numbers), and the upload's additional checksum algorithm and checksum type
    (``"COMPOSITE"``/``"FULL_OBJECT"``; both None for an upload created without one)."""

    parts: tuple[PartInfo, ...]
    checksum_algorithm: str | None = None
    checksum_type: str | None = None

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self) -> Iterator[PartInfo]:
        return iter(self.parts)

    @overload
    def __getitem__(self, index: int) -> PartInfo: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[PartInfo, ...]: ...
    def __getitem__(self, index: int | slice) -> PartInfo | tuple[PartInfo, ...]:
        return self.parts[index]


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """One multipart upload in progress (``list_multipart_uploads``)."""

    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True, slots=True)
class ListUploadsResult(Sequence[UploadInfo]):
    """A page of ``list_multipart_uploads``.

    It is a sequence of its :class:`UploadInfo` items (by key, then initiation),
    as the plain list that earlier versions returned, and carries the page's
    common prefixes (with a delimiter) and the markers of the next page.
    """

    uploads: tuple[UploadInfo, ...]
    common_prefixes: tuple[str, ...] = ()
    is_truncated: bool = False
    next_key_marker: str | None = None
    next_upload_id_marker: str | None = None

    def __len__(self) -> int:
        return len(self.uploads)

    def __iter__(self) -> Iterator[UploadInfo]:
        return iter(self.uploads)

    @overload
    def __getitem__(self, index: int) -> UploadInfo: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[UploadInfo, ...]: ...
    def __getitem__(self, index: int | slice) -> UploadInfo | tuple[UploadInfo, ...]:
        return self.uploads[index]


@dataclass(frozen=True, slots=True)
class Grant:
    """One grant of an access control list: who (a canonical user id) may do what."""

    grantee_id: str
    permission: str = "FULL_CONTROL"
    grantee_type: str = "CanonicalUser"
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class AccessControlPolicy:
    """A bucket's or an object's ACL (``get_bucket_acl``, ``get_object_acl``). ACLs are
    disabled (object ownership ``BucketOwnerEnforced``), so it is always the owner's
    full control."""

    owner_id: str
    owner_display_name: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class PublicAccessBlockConfiguration:
    """A bucket's S3 Block Public Access settings (``get_public_access_block``); each
    one off unless set. ACLs are disabled, so public ACLs are refused whatever the two
    ACL settings say; see ``docs/gateway.md``."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    """Whether the bucket's policy is public (``get_bucket_policy_status``), as S3
    defines "public" (:mod:`objstore.iam.public`)."""

    is_public: bool


@dataclass(frozen=True, slots=True)
class ObjectPart:
    """One part of a multipart object (``get_object_attributes``)."""

    part_number: int
    size: int
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ObjectParts:
    """The parts of a multipart object, a page of them (``get_object_attributes``).

    ``parts`` carry sizes, and each part's checksum when the object has an additional
    checksum; they are empty for an object completed before part sizes were recorded;
    ``total_parts_count`` is always known."""

    total_parts_count: int
    part_number_marker: int
    next_part_number_marker: int | None
    max_parts: int
    is_truncated: bool
    parts: tuple[ObjectPart, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectAttributes:
    """What ``get_object_attributes`` reports: the attributes asked for (others None).

    ``etag`` is unquoted, as S3's GetObjectAttributes gives it; ``object_parts`` is None
    for an object stored by a single PUT (or when not asked for)."""

    version_id: str | None
    last_modified: datetime
    etag: str | None = None
    checksums: dict[str, str] | None = None
    checksum_type: str | None = None
    object_parts: ObjectParts | None = None
    storage_class: str | None = None
    object_size: int | None = None


@dataclass(frozen=True, slots=True)
class ObjectLockRetention:
    """The retention of an object version (``get_object_retention``,
    ``put_object_retention``): ``"GOVERNANCE"`` or ``"COMPLIANCE"`` until a UTC date
    (a naive datetime is taken as UTC)."""

    mode: str
    retain_until_date: datetime


@dataclass(frozen=True, slots=True)
class ObjectLockConfiguration:
    """A bucket's Object Lock configuration (``get_object_lock_configuration``,
    ``put_object_lock_configuration``): enabled, and optionally a default retention for
    new versions, ``mode`` for ``days`` or ``years`` (exactly one of them)."""

    object_lock_enabled: str = "Enabled"
    mode: str | None = None
    days: int | None = None
    years: int | None = None


@dataclass(frozen=True, slots=True)
class CORSRule:
    """One rule of a bucket's CORS configuration (``get_bucket_cors``), as S3's
    ``CORSRule``: which origins may send which methods (and, on a preflight, which
    request headers), and what the answer tells the browser."""

    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None


class ObjectTags(dict[str, str]):
    """The tag set ``get_object_tagging`` read: a ``dict`` of tag key to value, as
    earlier versions returned, that also names the version it was read from
    (``version_id``: the current one when none was asked; None in a never-versioned
    bucket), so a caller can act on that very version."""

    __slots__ = ("version_id",)

    def __init__(self, tags: Mapping[str, str] | None = None, version_id: str | None = None):
        super().__init__(tags or {})
        self.version_id = version_id
