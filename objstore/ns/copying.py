"""CopyObject: a new key (or version) sharing the source's bytes, by reference.

No chunk moves: the copy names the source's body (one more reference) with the
source's ETag, checksums and part sizes, the metadata and tags the directives
choose, and the Object Lock the request asks for (never the source's).
"""

from __future__ import annotations

from dataclasses import replace

from objstore.blob.store import DataGone
from objstore.errors import DataCorruption, InvalidArgument, InvalidRequest, MethodNotAllowed
from objstore.ns import conditional, keys, tags, validation
from objstore.ns.objects import ObjectOps
from objstore.types import PutObjectResult


class CopyOps(ObjectOps):
    """CopyObject."""

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        src_version_id: str | None = None,
        metadata_directive: str = "COPY",
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        tagging_directive: str = "COPY",
        tagging: object = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: object = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: object = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        """Copy by reference: no chunk bytes move. See Client.copy_object for errors."""
        validation.check_key(src_key)
        validation.check_key(key)
        if metadata_directive not in ("COPY", "REPLACE"):
            raise InvalidArgument("metadata_directive must be 'COPY' or 'REPLACE'")
        if tagging_directive not in ("COPY", "REPLACE"):
            raise InvalidArgument("tagging_directive must be 'COPY' or 'REPLACE'")
        new_meta = validation.check_metadata(metadata)
        ctype = validation.check_content_type(content_type)
        new_tags = tags.check_tags(tagging)
        new_headers = validation.check_headers(
            {
                "cache_control": cache_control,
                "content_disposition": content_disposition,
                "content_encoding": content_encoding,
                "content_language": content_language,
                "expires": expires,
            }
        )
        ek = keys.encode_key(key)
        src_ek = keys.encode_key(src_key)
        with self.meta.begin_write() as txn:
            self._bucket(txn, src_bucket)
            b = self._bucket(txn, bucket)
            # The copy's lock is the request's (and the bucket's default), never the
            # source's: S3 does not copy retention or legal hold.
            lock = self._lock_asked(
                b,
                object_lock_mode,
                object_lock_retain_until_date,
                object_lock_legal_hold_status,
            )
            try:
                src = self._resolve(txn, src_bucket, src_key, src_version_id)
            except MethodNotAllowed:
                raise InvalidRequest(
                    "the source of a copy may not be a delete marker", key=src_key
                ) from None
            if src.size > self.limits.max_copy_size:
                raise InvalidRequest(
                    f"copy source is larger than {self.limits.max_copy_size} bytes"
                )
            same = (src_bucket, src_ek) == (bucket, ek)
            if (
                same
                and metadata_directive == "COPY"
                and (b.versioning is None or src_version_id is None)
            ):
                raise InvalidRequest(
                    "copying an object onto itself without changing its metadata is not allowed"
                )
            if if_match is not None or if_none_match is not None:
                conditional.check_write(
                    self._current_etag(txn, bucket, ek),
                    if_match=if_match,
                    if_none_match=if_none_match,
                )
            if metadata_directive == "COPY":
                new_meta, ctype = dict(src.metadata), src.content_type
                new_headers = dict(src.headers)
            if tagging_directive == "COPY":
                new_tags = dict(src.tags)
            if src.data_id is not None:
                try:
                    self.blobs.add_ref(txn, src.data_id)  # before a same-key replace releases it
                except DataGone:
                    # The source version is current in this very transaction, so its
                    # body record cannot have been deleted concurrently: it is lost.
                    raise DataCorruption(
                        f"the data of {src_key!r} ({src.data_id.hex()}) is missing", key=src_key
                    ) from None
            # Same bytes, ETag and checksums; new key and (maybe) metadata and tags.
            body = replace(
                src,
                key=key,
                content_type=ctype,
                metadata=new_meta,
                headers=new_headers,
                tags=new_tags,
                lock=lock,
            )
            rec = self._add_version(txn, b, ek, body)
        return self._put_result(b, rec)
