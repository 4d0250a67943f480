"""Listing operations: ListObjectsV2 and ListObjectVersions pages over the index."""

from __future__ import annotations

from objstore import keyspace
from objstore.errors import InvalidArgument
from objstore.meta.base import ReadTxn
from objstore.meta.scan import scan_prefix
from objstore.ns import keys, listing, validation, versioning
from objstore.ns.index import Index, bucket_prefix, to_datetime
from objstore.ns.records import VersionRecord, decode_summary, version_key
from objstore.types import (
    DeleteMarkerEntry,
    ListObjectsResult,
    ListVersionsResult,
    ObjectSummary,
    ObjectVersion,
)


class ListOps(Index):
    """Listing operations."""

    # ------------------------------------------------------------------ listing

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
        """One page of ListObjectsV2. Raises NoSuchBucket, InvalidArgument."""
        max_keys = listing.check_max_keys(max_keys)
        validation.check_text(prefix, "prefix")
        if delimiter is not None:
            validation.check_text(delimiter, "delimiter")
        if start_after is not None:
            validation.check_text(start_after, "start_after")
        delimiter = delimiter or None
        after: tuple[str, bool] | None = None
        if continuation_token is not None:
            after = listing.decode_token(continuation_token)  # wins over start_after
        elif start_after:
            after = (start_after, False)
        base = bucket_prefix(keyspace.LATEST, bucket)
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            page = listing.list_page(
                lambda start: scan_prefix(txn, base, start),
                base=base,
                long_key_of=lambda value: decode_summary(value)[4],
                prefix=prefix,
                delimiter=delimiter,
                max_keys=max_keys,
                after=after,
            )
        contents = []
        for key, value in page.entries:
            _seq, size, mtime, etag, _k = decode_summary(value)
            contents.append(ObjectSummary(key, size, etag, to_datetime(mtime)))
        token = None
        if page.is_truncated and page.last is not None:
            token = listing.encode_token(*page.last)
        return ListObjectsResult(
            contents=tuple(contents),
            common_prefixes=tuple(page.common_prefixes),
            is_truncated=page.is_truncated,
            next_continuation_token=token,
            key_count=len(contents) + len(page.common_prefixes),
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
        )

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
        """One page of ListObjectVersions: by key, newest first; with a delimiter, the
        keys under a common prefix count once, as the prefix. Raises NoSuchBucket,
        InvalidArgument (a version_id_marker without key_marker, or a bad one)."""
        max_keys = listing.check_max_keys(max_keys)
        validation.check_text(prefix, "prefix")
        if delimiter is not None:
            validation.check_text(delimiter, "delimiter")
        if key_marker is not None:
            validation.check_text(key_marker, "key_marker")
        if version_id_marker is not None and not key_marker:
            raise InvalidArgument("version_id_marker requires key_marker")
        delimiter = delimiter or None
        base = bucket_prefix(keyspace.VERSION, bucket)
        versions: list[ObjectVersion] = []
        markers: list[DeleteMarkerEntry] = []
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            # Resume position: (key, seq) in (key ascending, seq descending) order.
            after_seq: int | None = None
            if key_marker and version_id_marker is not None:
                # A version id carries its sequence, so a page resumes even when the
                # marker version was deleted since; only "null" must be looked up.
                after_seq = versioning.parse_version_id(version_id_marker)
                if after_seq is None:
                    rec = self._version(txn, bucket, keys.encode_key(key_marker), version_id_marker)
                    # Markers are positions, as in S3: a null version deleted since the
                    # last page (a client deleting what it lists) leaves no sequence to
                    # resume at, so the listing goes on with the next key.
                    after_seq = None if rec is None else rec.seq
            page = listing.grouped_page(
                lambda s: scan_prefix(txn, base, s),
                base=base,
                suffix=8,
                long_key_of=version_key,
                prefix=prefix,
                delimiter=delimiter,
                max_items=max_keys,
                after_key=key_marker or None,
                # Versions sort newest first: the marker's inverted sequence and those
                # before it were returned, and the page seeks past them.
                after_suffix=None if after_seq is None else versioning.inv_seq(after_seq),
            )
            prev_key: str | None = None
            last: VersionRecord | None = None
            for key, value in page.entries:
                rec = VersionRecord.decode(value)
                is_latest = key != prev_key and self._is_newest(txn, bucket, rec)
                prev_key = key
                mtime = to_datetime(rec.mtime_ns)
                if rec.is_marker:
                    markers.append(DeleteMarkerEntry(key, rec.version_id, is_latest, mtime))
                else:
                    versions.append(
                        ObjectVersion(key, rec.version_id, is_latest, rec.size, rec.etag, mtime)
                    )
                last = rec
        next_key: str | None = None
        next_vid: str | None = None
        if page.is_truncated and page.last is not None:
            next_key = page.last[0]
            # A page that ended on a common prefix resumes after all of it: no version.
            if not page.last[1] and last is not None:
                next_vid = last.version_id
        return ListVersionsResult(
            versions=tuple(versions),
            delete_markers=tuple(markers),
            is_truncated=page.is_truncated,
            next_key_marker=next_key,
            next_version_id_marker=next_vid,
            common_prefixes=tuple(page.common_prefixes),
        )

    def _is_newest(self, txn: ReadTxn, bucket: str, rec: VersionRecord) -> bool:
        newest = self._newest(txn, bucket, keys.encode_key(rec.key))
        return newest is not None and newest.seq == rec.seq
