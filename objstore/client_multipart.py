"""The multipart-upload calls of :class:`objstore.client.Client` (a mix-in by job).

Each method turns its arguments into a request for the engine, which
authorizes it and runs it. Every method may also raise
:class:`~objstore.errors.AccessDenied`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from objstore.ns import tags as tag_rules
from objstore.ns import uploads
from objstore.ns.integrity import Supplied
from objstore.types import ListPartsResult, ListUploadsResult, PutObjectResult, UploadPartResult


class MultipartCalls:
    """Multipart uploads, as one identity (the engine call comes from Client)."""

    def _call(self, name: str, **params: Any) -> Any:
        raise NotImplementedError

    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        tagging: Mapping[str, str] | str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> str:
        """Start a multipart upload; returns its upload id.

        Metadata, content type, tags and system headers are those of the object
        completion makes. With ``checksum_algorithm`` every part gets that
        checksum, and the object a ``checksum_type`` one: "COMPOSITE" (the
        checksum of the part checksums, ``-N``; CRC32, CRC32C, SHA1, SHA256) or
        "FULL_OBJECT" (of the whole object; CRC32, CRC32C, CRC64NVME). Default:
        FULL_OBJECT for CRC64NVME, else COMPOSITE. ``object_lock_*``: the object's
        Object Lock, as in :meth:`Client.put_object`.
        Raises NoSuchBucket, KeyTooLongError, MetadataTooLarge, InvalidArgument,
        InvalidTag / BadRequest, InvalidRequest (algorithm or type).
        """
        result: str = self._call(
            "CreateMultipartUpload",
            bucket=bucket,
            key=key,
            metadata=copy_metadata(metadata),
            content_type=content_type,
            checksum_algorithm=checksum_algorithm,
            checksum_type=checksum_type,
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

    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: object,
        *,
        content_length: int | None = None,
        checksum_algorithm: str | None = None,
        checksums: Supplied = None,
        content_md5: str | None = None,
    ) -> UploadPartResult:
        """Store part ``part_number`` (1-10,000) of an upload; a part uploaded again
        under the same number replaces the earlier one. Parts may arrive in any
        order, from any number of threads and processes at once.

        ``body`` is anything :meth:`put_object` accepts. Sizes are checked at
        completion (5 MiB minimum but for the last part). The part gets the
        upload's checksum; ``checksums`` / ``content_md5`` are verified as in
        :meth:`put_object`. Raises NoSuchBucket, NoSuchUpload, InvalidArgument
        (part number), EntityTooLarge (over 5 GiB), IncompleteBody, BadDigest,
        InvalidDigest, InvalidRequest (a checksum of another algorithm than the
        upload's).
        """
        result: UploadPartResult = self._call(
            "UploadPart",
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            part_number=part_number,
            body=body,
            content_length=content_length,
            checksum_algorithm=checksum_algorithm,
            checksums=checksums,
            content_md5=content_md5,
        )
        return result

    def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        src_bucket: str,
        src_key: str,
        *,
        src_version_id: str | None = None,
        src_range: tuple[int, int] | str | None = None,
    ) -> UploadPartResult:
        """Make a part of an existing object, or of its bytes ``src_range``
        (``(first, last)`` inclusive or ``"bytes=first-last"``), sharing its bytes.

        No chunk is copied: the part references the source's stored body. A
        whole single-part source takes its MD5 ETag from the source; a range
        (or a multipart source) is read once to compute the part's MD5.
        Raises NoSuchBucket, NoSuchUpload, the source's NoSuchKey /
        NoSuchVersion, InvalidRequest (a delete marker, or over 5 GiB),
        InvalidArgument, InvalidRange.
        """
        result: UploadPartResult = self._call(
            "UploadPartCopy",
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            part_number=part_number,
            src_bucket=src_bucket,
            src_key=src_key,
            src_version_id=src_version_id,
            src_range=src_range,
        )
        return result

    def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Iterable[tuple[int, str] | UploadPartResult | Mapping[str, Any]],
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        checksums: Mapping[str, str] | None = None,
    ) -> PutObjectResult:
        """Join the listed parts into the object, atomically, without copying bytes.

        ``parts`` are ``(part_number, etag)`` pairs, UploadPartResult objects
        or ``{"PartNumber": n, "ETag": e}`` (with ``"ChecksumCRC32"`` ... as
        boto3 sends them), in ascending order. The ETag is S3's: MD5 of the part
        MD5s, then ``-N``. A part checksum listed must match the stored one
        (InvalidPart); a COMPOSITE upload needs every part's. ``checksums``: the
        whole object's, verified (BadDigest). Versioning applies as for a PUT.
        Raises NoSuchBucket, NoSuchUpload, InvalidPartOrder, InvalidPart,
        EntityTooSmall, EntityTooLarge, InvalidRequest (no parts, or a part
        checksum missing), PreconditionFailed / NoSuchKey (``if_match``,
        ``if_none_match="*"``), NotImplemented (another ``if_none_match``),
        InvalidArgument, BadDigest. A FULL_OBJECT checksum upload needs the parts
        numbered 1, 2, ... without a gap (InvalidPartOrder otherwise, as S3)."""
        listed = uploads.normalize_parts(parts)
        result: PutObjectResult = self._call(
            "CompleteMultipartUpload",
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            parts=listed,
            if_match=if_match,
            if_none_match=if_none_match,
            part_checksums=uploads.part_checksums(parts),
            checksums=checksums,
        )
        return result

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Discard an upload and every part stored for it.

        Raises NoSuchBucket, NoSuchUpload.
        """
        self._call("AbortMultipartUpload", bucket=bucket, key=key, upload_id=upload_id)

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = 1000,
        part_number_marker: int = 0,
    ) -> ListPartsResult:
        """Up to ``max_parts`` (at most 1000) parts numbered above the marker (a
        sequence of :class:`PartInfo`), with the upload's checksum algorithm and type.

        Raises NoSuchBucket, NoSuchUpload, InvalidArgument.
        """
        result: ListPartsResult = self._call(
            "ListParts",
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            max_parts=max_parts,
            part_number_marker=part_number_marker,
        )
        return result

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> ListUploadsResult:
        """One page of uploads in progress, by key then initiation time, after the
        markers (ListMultipartUploads). With a ``delimiter``, the keys after ``prefix``
        that contain it are rolled up into ``common_prefixes`` (each counts once
        toward ``max_uploads``). The result is a sequence of UploadInfo; when
        ``is_truncated``, pass its ``next_key_marker`` and ``next_upload_id_marker``
        (None after a common prefix) for the next page.

        Raises NoSuchBucket, InvalidArgument.
        """
        result: ListUploadsResult = self._call(
            "ListMultipartUploads",
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )
        return result


def copy_metadata(metadata: object) -> object:
    """A private copy of a metadata mapping; anything else is passed on for the
    namespace to reject as InvalidArgument (``dict()`` would raise raw errors)."""
    return dict(metadata) if isinstance(metadata, Mapping) else metadata
