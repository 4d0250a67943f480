"""Multipart listings: the parts of an upload and the uploads in progress.

Pages of uploads follow S3's markers and delimiter through the pure rules of
:func:`objstore.ns.listing.grouped_page`.
"""

from __future__ import annotations

from objstore import keyspace
from objstore.errors import InvalidArgument
from objstore.meta.scan import scan_prefix
from objstore.ns import listing, uploads, validation
from objstore.ns.index import bucket_prefix, to_datetime
from objstore.ns.multipart import MultipartOps
from objstore.ns.uploads import PartRecord, UploadRecord
from objstore.types import ListPartsResult, ListUploadsResult, PartInfo, UploadInfo

MAX_LIST = 1000


class UploadListOps(MultipartOps):
    """ListParts and ListMultipartUploads."""

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = MAX_LIST,
        part_number_marker: int = 0,
    ) -> ListPartsResult:
        """Up to ``max_parts`` (at most 1000) parts numbered above the marker, ascending,
        with the upload's checksum algorithm and type.

        Raises NoSuchBucket, NoSuchUpload, InvalidArgument.
        """
        validation.check_key(key)
        limit = _count(max_parts, "max_parts")
        marker = _count(part_number_marker, "part_number_marker")
        out: list[PartInfo] = []
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            uid, upload = self._upload(txn, bucket, key, upload_id)
            if limit > 0 and marker < self.limits.max_parts:
                start = keyspace.PART + uid + uploads.part_key_suffix(marker + 1)
                for k, v in scan_prefix(txn, keyspace.PART + uid, start):
                    part = PartRecord.decode(v)
                    number = int.from_bytes(k[-2:], "big")
                    out.append(
                        PartInfo(
                            number,
                            part.etag(),
                            part.size,
                            to_datetime(part.mtime_ns),
                            part.checksums(),
                        )
                    )
                    if len(out) >= limit:
                        break
        return ListPartsResult(tuple(out), upload.checksum_algorithm, upload.checksum_type)

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = MAX_LIST,
    ) -> ListUploadsResult:
        """Uploads in progress, by key then initiation time, after the markers; with a
        delimiter, the keys under a common prefix count once, as the prefix.

        Raises NoSuchBucket, InvalidArgument.
        """
        validation.check_text(prefix, "prefix")
        if delimiter is not None:
            validation.check_text(delimiter, "delimiter")
        limit = _count(max_uploads, "max_uploads")
        marker_uid: bytes | None = None
        if key_marker is not None:
            validation.check_text(key_marker, "key_marker")
            if upload_id_marker is not None:
                marker_uid = uploads.parse_upload_id(upload_id_marker)
                if marker_uid is None:
                    raise InvalidArgument("invalid upload_id_marker", upload_id=upload_id_marker)
        self.expire_uploads(bucket)
        base = bucket_prefix(keyspace.UPLOAD, bucket)
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            page = listing.grouped_page(
                # Each value carries its upload id (the raw key's last 16 bytes) in front.
                lambda s: ((k, k[-16:] + v) for k, v in scan_prefix(txn, base, s)),
                base=base,
                suffix=16,
                long_key_of=lambda v: UploadRecord.decode(v[16:]).key,
                prefix=prefix,
                delimiter=delimiter or None,
                max_items=limit,
                after_key=key_marker or None,
                # With an upload id marker, the marker key's uploads initiated later follow.
                after_suffix=marker_uid,
            )
        out = [
            UploadInfo(key, v[:16].hex(), to_datetime(uploads.initiated_ns(v[:16])))
            for key, v in page.entries
        ]
        next_key = next_id = None
        if page.is_truncated and page.last is not None:
            next_key = page.last[0]
            if not page.last[1] and out:
                next_id = out[-1].upload_id
        return ListUploadsResult(
            tuple(out), tuple(page.common_prefixes), page.is_truncated, next_key, next_id
        )


def _count(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidArgument(f"{name} must be a non-negative integer")
    return min(value, MAX_LIST)
