"""Multipart uploads: create, upload (and copy) parts, complete, abort (the listings are in
:mod:`.upload_lists`).

Each part is stored as an ordinary data record (a plain body, or for a
ranged copy a composite naming the source's bytes) held by its part record.
Completion joins the parts as a composite body (:mod:`objstore.blob.compose`)
in one transaction: it writes one segment per part and never reads, copies
or hashes a chunk, so 10,000 parts cost metadata work only and the object
appears atomically. Records and the pure rules are in :mod:`.uploads`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import replace
from typing import Any

import blake3

from objstore import checksums as checksums_mod
from objstore import keyspace
from objstore.blob.compose import segments_in, set_part_sums, write_composite
from objstore.blob.store import BlobStore, DataGone
from objstore.errors import (
    DataCorruption,
    InvalidArgument,
    InvalidRequest,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchUpload,
)
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix
from objstore.ns import (
    completions,
    conditional,
    keys,
    ranges,
    tags,
    uploads,
    validation,
)
from objstore.ns.index import bucket_prefix
from objstore.ns.inline import inline_body
from objstore.ns.integrity import integrity
from objstore.ns.objects import ObjectOps, range_attempts, require_integrity
from objstore.ns.records import BucketRecord, VersionRecord
from objstore.ns.uploads import PartRecord, UploadRecord
from objstore.types import PutObjectResult, UploadPartResult


def drop_upload(txn: WriteTxn, blobs: BlobStore, ukey: bytes, uid: bytes) -> None:
    """Release every part's body and forget the upload (abort, completion, expiry)."""
    for pkey, raw in list(scan_prefix(txn, keyspace.PART + uid)):
        blobs.release(txn, PartRecord.decode(raw).data_id)
        txn.delete(pkey)
    txn.delete(ukey)


def drop_bucket_uploads(txn: WriteTxn, blobs: BlobStore, bucket: str) -> None:
    """Abort every upload in ``bucket`` (S3 deletes a bucket's uploads with it)."""
    for ukey, _ in list(scan_prefix(txn, bucket_prefix(keyspace.UPLOAD, bucket))):
        drop_upload(txn, blobs, ukey, ukey[-16:])


class _SourceMoved(Exception):
    """The copy source changed between hashing and commit: look again."""


class MultipartOps(ObjectOps):
    """Multipart upload operations."""

    # ------------------------------------------------------------------ helpers

    def _upload_key(self, bucket: str, ek: bytes, uid: bytes) -> bytes:
        return bucket_prefix(keyspace.UPLOAD, bucket) + ek + uid

    def _upload(
        self, txn: ReadTxn, bucket: str, key: str, upload_id: str
    ) -> tuple[bytes, UploadRecord]:
        """The upload's id and record; raises NoSuchUpload."""
        uid = uploads.parse_upload_id(upload_id)
        raw = None
        if uid is not None:
            raw = txn.get(self._upload_key(bucket, keys.encode_key(key), uid))
        if uid is None or raw is None:
            raise NoSuchUpload(
                "the upload does not exist: it may have been aborted or completed",
                bucket=bucket,
                key=key,
                upload_id=upload_id,
            )
        return uid, UploadRecord.decode(raw)

    def _set_part(self, txn: WriteTxn, uid: bytes, number: int, rec: PartRecord) -> None:
        pkey = keyspace.PART + uid + uploads.part_key_suffix(number)
        old = txn.get(pkey)
        txn.put(pkey, rec.encode())
        if old is not None:
            # A re-uploaded part number replaces the old part, as in S3.
            self.blobs.release(txn, PartRecord.decode(old).data_id)

    def _drop_upload(self, txn: WriteTxn, ukey: bytes, uid: bytes) -> None:
        drop_upload(txn, self.blobs, ukey, uid)

    def _md5_mode(self) -> bool:
        return self.blobs.settings.etag_mode == "md5"

    # -------------------------------------------------------------- operations

    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        tagging: object = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: object = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: object = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> str:
        """Start an upload; returns its id. Raises NoSuchBucket, KeyTooLongError,
        MetadataTooLarge, InvalidArgument, InvalidTag / BadRequest, InvalidRequest
        (also: lock parameters in a bucket without Object Lock)."""
        validation.check_key(key)
        alg = (
            None
            if checksum_algorithm is None
            else checksums_mod.check_algorithm(checksum_algorithm)
        )
        record = UploadRecord(
            key,
            validation.check_metadata(metadata),
            validation.check_content_type(content_type),
            tags=tags.check_tags(tagging),
            headers=validation.check_headers(
                {
                    "cache_control": cache_control,
                    "content_disposition": content_disposition,
                    "content_encoding": content_encoding,
                    "content_language": content_language,
                    "expires": expires,
                }
            ),
            checksum_algorithm=alg,
            checksum_type=checksums_mod.check_type(alg, checksum_type),
        )
        ek = keys.encode_key(key)
        self.expire_uploads(bucket)

        def create(txn: WriteTxn) -> bytes:
            b = self._bucket(txn, bucket)
            lock = self._lock_asked(
                b,
                object_lock_mode,
                object_lock_retain_until_date,
                object_lock_legal_hold_status,
            )
            uid = uploads.new_upload_id(self.clock())
            txn.put(self._upload_key(bucket, ek, uid), replace(record, lock=lock).encode())
            return uid

        uid = self.writer.run(create)
        self.upload_expiry.created(bucket, uploads.initiated_ns(uid))
        return uid.hex()

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
        checksums: object = None,
        content_md5: str | None = None,
    ) -> UploadPartResult:
        """Store one part (replacing an earlier one of the same number).

        Raises NoSuchBucket, NoSuchUpload, InvalidArgument (part number outside
        1-10,000), EntityTooLarge (over 5 GiB), IncompleteBody, BadDigest,
        InvalidDigest, InvalidRequest (also: no Content-MD5 or checksum for an object
        Object Lock will protect, as S3).
        """
        validation.check_key(key)
        number = uploads.check_part_number(part_number, self.limits.max_parts)
        if content_length is not None and (type(content_length) is not int or content_length < 0):
            raise InvalidArgument("content_length must be a non-negative integer")
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            _, up = self._upload(txn, bucket, key, upload_id)
        check = integrity(
            checksum_algorithm, checksums, content_md5, required=up.checksum_algorithm
        )
        if not up.lock.empty or b.default_retention is not None:
            # As for PutObject: the parts of an object Object Lock will protect.
            require_integrity(check)
        with self.blobs.stored(
            body,
            content_length=content_length,
            max_size=self.limits.max_part_size,
            inline=False,
            algorithms=check.algorithms(),
        ) as ing:
            assert ing.data_id is not None
            stored = check.verify(ing.checksums)  # a mismatch leaves the block: nothing kept
            part_sum = next(((alg, ing.checksums[alg]) for alg in stored), None)
            rec = PartRecord(ing.data_id, ing.size, 0, ing.md5, ing.blake3, part_sum)

            def commit(txn: WriteTxn) -> PartRecord:
                self._bucket(txn, bucket)
                uid, _ = self._upload(txn, bucket, key, upload_id)  # not aborted meanwhile
                stamped = replace(rec, mtime_ns=self.clock())
                self.blobs.commit(txn, ing)
                self._set_part(txn, uid, number, stamped)
                return stamped

            done = self.writer.run(commit)
        return UploadPartResult(number, done.etag(), done.size, done.checksums())

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
        src_range: Any = None,
    ) -> UploadPartResult:
        """A part made of (a range of) an existing object, sharing its bytes.

        Raises NoSuchBucket, NoSuchUpload, the source's NoSuchKey /
        NoSuchVersion, InvalidRequest (source a delete marker, or a part over
        5 GiB), InvalidArgument / InvalidRange (a bad ``src_range``).
        """
        validation.check_key(key)
        validation.check_key(src_key)
        number = uploads.check_part_number(part_number, self.limits.max_parts)
        for _attempt in range_attempts():
            with self.meta.begin() as txn:
                self._bucket(txn, bucket)
                _, up = self._upload(txn, bucket, key, upload_id)
                self._bucket(txn, src_bucket)
                src = self._copy_source(txn, src_bucket, src_key, src_version_id)
            first, length = uploads.copy_range(src_range, src.size)
            if length > self.limits.max_copy_size:
                raise InvalidRequest(
                    f"a copied part may hold at most {self.limits.max_copy_size} bytes"
                )
            if src.data_id is None or length == 0:  # inline or empty: stored as a part
                data = (inline_body(src) if src.inline is not None else b"")[first : first + length]
                # Its MD5 goes along: a part of a locked object needs one (S3's rule).
                data_md5 = hashlib.md5(data, usedforsecurity=False).digest()
                return self.upload_part(
                    bucket,
                    key,
                    upload_id,
                    number,
                    data,
                    content_md5=base64.b64encode(data_md5).decode(),
                )
            whole = first == 0 and length == src.size
            alg = up.checksum_algorithm
            digests = (
                uploads.known_digests(src.etag, src.checksum, self._md5_mode()) if whole else None
            )
            part_sum = None
            if alg is not None:
                # The source's own checksum of its whole bytes, if it has this one.
                known = src.checksums.get(alg) if src.checksum_type == "FULL_OBJECT" else None
                if whole and known is not None:
                    part_sum = (alg, checksums_mod.decode(alg, known))
                else:
                    digests = None  # the range must be read for its checksum
            try:
                if digests is None:
                    md5, b3, extra = self._hash_range(src.data_id, first, length, alg)
                    digests = (md5, b3)
                    if alg is not None:
                        part_sum = (alg, extra)
                return self._commit_copy(
                    (bucket, key, upload_id, number),
                    (src_bucket, src_key, src_version_id),
                    src,
                    first,
                    length,
                    digests,
                    part_sum,
                )
            except (_SourceMoved, DataGone):
                continue  # the source was replaced or deleted meanwhile: resolve again
        raise NoSuchKey(f"the copy source {src_key!r} kept changing; retry", key=src_key)

    def _copy_source(
        self, txn: ReadTxn, src_bucket: str, src_key: str, src_version_id: str | None
    ) -> VersionRecord:
        try:
            return self._resolve(txn, src_bucket, src_key, src_version_id)
        except MethodNotAllowed:
            raise InvalidRequest(
                "the source of a copy may not be a delete marker", key=src_key
            ) from None

    def _hash_range(
        self, data_id: bytes, first: int, length: int, algorithm: str | None = None
    ) -> tuple[bytes | None, bytes, bytes]:
        """MD5 (in md5 mode), BLAKE3 and the upload's S3 checksum (b"" without one) of a
        stored range: S3 gives a copied part the MD5 of its bytes, which no metadata
        knows for a partial range."""
        md5 = hashlib.md5() if self._md5_mode() else None
        b3 = blake3.blake3()
        extra = checksums_mod.new(algorithm) if algorithm is not None else None
        got = 0
        for piece in self.blobs.read(data_id, first, first + length - 1):
            if md5 is not None:
                md5.update(piece)
            if extra is not None:
                extra.update(piece)
            b3.update(piece)
            got += len(piece)
        if got != length:
            raise DataCorruption(f"the copy source {data_id.hex()} ended after {got} bytes")
        return (
            (md5.digest() if md5 is not None else None),
            b3.digest(),
            b"" if extra is None else extra.digest(),
        )

    def _commit_copy(
        self,
        dest: tuple[str, str, str, int],
        source: tuple[str, str, str | None],
        src: VersionRecord,
        first: int,
        length: int,
        digests: tuple[bytes | None, bytes],
        part_sum: tuple[str, bytes] | None = None,
    ) -> UploadPartResult:
        """Record the copied part: a reference to the whole source body, or a
        composite naming the range (metadata only, whatever the alignment)."""
        bucket, key, upload_id, number = dest
        src_bucket, src_key, src_version_id = source
        assert src.data_id is not None
        src_id = src.data_id
        whole = first == 0 and length == src.size

        def commit(txn: WriteTxn) -> PartRecord:
            self._bucket(txn, bucket)
            uid, _ = self._upload(txn, bucket, key, upload_id)
            self._bucket(txn, src_bucket)
            if self._copy_source(txn, src_bucket, src_key, src_version_id).data_id != src_id:
                raise _SourceMoved
            if whole:
                self.blobs.add_ref(txn, src_id)
                part_id = src_id
            else:
                part_id = os.urandom(16)
                write_composite(txn, part_id, segments_in(txn, src_id, first, length))
            rec = PartRecord(part_id, length, self.clock(), digests[0], digests[1], part_sum)
            self._set_part(txn, uid, number, rec)
            return rec

        done = self.writer.run(commit)
        return UploadPartResult(number, done.etag(), done.size, done.checksums())

    def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        part_checksums: dict[int, dict[str, str]] | None = None,
        checksums: object = None,
    ) -> PutObjectResult:
        """Join the listed parts into the object, atomically, touching no chunk.

        Raises NoSuchBucket, NoSuchUpload, InvalidPartOrder, InvalidPart,
        EntityTooSmall, EntityTooLarge, InvalidRequest (no parts, a part
        checksum missing), PreconditionFailed / NoSuchKey (``if_match``,
        ``if_none_match="*"``), BadDigest (``checksums`` differ).
        """
        validation.check_key(key)
        listed = uploads.normalize_parts(parts)
        if isinstance(checksums, dict):
            # A COMPOSITE value is given with its "-N" suffix (base64 has no "-").
            checksums = {k: str(v).split("-")[0] for k, v in checksums.items()}
        expected = integrity(supplied=checksums).expected
        if len(listed) > self.limits.max_parts:
            raise InvalidArgument(f"at most {self.limits.max_parts} parts")
        ek = keys.encode_key(key)

        def complete(txn: WriteTxn) -> PutObjectResult:
            b = self._bucket(txn, bucket)
            try:
                uid, up = self._upload(txn, bucket, key, upload_id)
            except NoSuchUpload:
                again = self._completed(txn, b, key, upload_id, listed)
                if again is None:
                    raise
                return again
            if if_match is not None or if_none_match is not None:
                conditional.check_write(
                    self._current_etag(txn, bucket, ek),
                    if_match=if_match,
                    if_none_match=if_none_match,
                )
            stored: dict[int, PartRecord] = {}
            for number, _ in listed:
                if 1 <= number <= self.limits.max_parts:
                    raw = txn.get(keyspace.PART + uid + uploads.part_key_suffix(number))
                    if raw is not None:
                        stored[number] = PartRecord.decode(raw)
            chosen = uploads.check_completion(
                listed,
                stored,
                min_part_size=self.limits.min_part_size,
                max_object_size=self.limits.max_object_size,
                consecutive=up.checksum_type == checksums_mod.FULL_OBJECT,
            )
            numbered = [(n, p) for (n, _), p in zip(listed, chosen, strict=True)]
            uploads.check_part_checksums(numbered, part_checksums or {}, up)
            whole_sum = uploads.object_checksum(chosen, up)
            if expected:
                computed = {
                    a: checksums_mod.decode(a, v.split("-")[0]) for a, v in whole_sum.items()
                }
                checksums_mod.verify(computed, expected)
            data_id = os.urandom(16)
            segments = [s for p in chosen for s in segments_in(txn, p.data_id, 0, p.size)]
            try:
                size = write_composite(txn, data_id, segments)
            except DataGone as exc:
                raise DataCorruption(f"a part body of upload {upload_id} is missing") from exc
            # Beside the body, not in the version record (read by part-number reads only).
            set_part_sums(txn, data_id, uploads.joined_part_digests(chosen, whole_sum))
            # The composite now holds its own references: every part goes.
            self._drop_upload(txn, self._upload_key(bucket, ek, uid), uid)
            body = VersionRecord(
                key=key,
                version_id="",
                seq=0,
                mtime_ns=0,
                size=size,
                etag=uploads.multipart_etag(chosen, self._md5_mode()),
                checksum=uploads.multipart_checksum(chosen),
                content_type=up.content_type,
                metadata=up.metadata,
                data_id=data_id,
                parts=len(chosen),
                part_sizes=ranges.part_runs(p.size for p in chosen),
                tags=up.tags,
                headers=up.headers,
                checksums=whole_sum,
                checksum_type=up.checksum_type if whole_sum else None,
                lock=up.lock,
            )
            rec = self._add_version(txn, b, ek, body)
            completions.remember(txn, uid, b.name, rec, uploads.parts_digest(listed), self.clock())
            return self._put_result(b, rec)

        return self.writer.run(complete)

    def _completed(
        self,
        txn: ReadTxn,
        b: BucketRecord,
        key: str,
        upload_id: str,
        listed: list[tuple[int, str]],
    ) -> PutObjectResult | None:
        """The result of an earlier completion of ``upload_id`` with the same parts, while
        it is remembered and the version it made still exists unchanged; else None."""
        done = completions.find(txn, b.name, key, upload_id, listed, self.clock())
        if done is None:
            return None
        rec = self._version(txn, b.name, keys.encode_key(key), done.version_id)
        if rec is None or rec.is_marker or (rec.data_id or b"") != done.data_id:
            return None
        return self._put_result(b, rec)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Discard an upload and its parts. Raises NoSuchBucket, NoSuchUpload."""
        validation.check_key(key)
        ek = keys.encode_key(key)

        def abort(txn: WriteTxn) -> None:
            self._bucket(txn, bucket)
            uid, _ = self._upload(txn, bucket, key, upload_id)
            self._drop_upload(txn, self._upload_key(bucket, ek, uid), uid)

        self.writer.run(abort)

    def expire_uploads(self, bucket: str | None = None) -> int:
        """Abort uploads older than ``Limits.abort_incomplete_after`` (in ``bucket``,
        or everywhere); returns how many. A no-op when the setting is None."""
        after = self.limits.abort_incomplete_after
        if after is None:
            return 0
        started = self.clock()
        cutoff = started - int(after * 1e9)
        memo = self.upload_expiry
        known = None if bucket is None else memo.stale(bucket, cutoff)
        if known is not None:
            # No scan: every upload that can be stale is remembered (see .upload_expiry).
            stale = known
        else:
            base = keyspace.UPLOAD if bucket is None else bucket_prefix(keyspace.UPLOAD, bucket)
            stale = []
            with self.meta.begin() as txn:
                found = ((uploads.initiated_ns(k[-16:]), k) for k, _ in scan_prefix(txn, base))
                if bucket is None:
                    stale = [k for t, k in found if t < cutoff]
                else:
                    memo.scanned(bucket, started, cutoff, found, stale)
        if not stale:
            return 0

        def expire(txn: WriteTxn) -> int:
            n = 0
            for ukey in stale:
                if txn.get(ukey) is not None:
                    self._drop_upload(txn, ukey, ukey[-16:])
                    n += 1
            return n

        n = self.writer.run(expire)
        if bucket is not None:
            memo.expired(bucket, cutoff)
        return n
