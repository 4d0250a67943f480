"""Object operations: put, get, head, delete, copy (one transaction each)."""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from typing import Any

from objstore import cancel, keyspace
from objstore.blob.store import DataGone, Ingested
from objstore.body import ObjectBody
from objstore.errors import (
    ConditionalRequestConflict,
    DataCorruption,
    InternalError,
    InvalidArgument,
    InvalidRequest,
    NoSuchKey,
    ObjstoreError,
    StoreClosed,
)
from objstore.meta.base import WriteTxn
from objstore.ns import conditional, decided, keys, locking, stats, tags, validation, versioning
from objstore.ns.index import Index, bucket_prefix, to_datetime
from objstore.ns.inline import inline_body
from objstore.ns.integrity import Integrity, integrity
from objstore.ns.ranges import RangeSpec, read_span
from objstore.ns.records import BucketRecord, VersionRecord
from objstore.types import (
    DeletedObject,
    DeleteError,
    DeleteResult,
    ObjectInfo,
    PutObjectResult,
)


class ObjectOps(Index):
    """Object operations."""

    # ------------------------------------------------------------------ objects

    def put_object(
        self,
        bucket: str,
        key: str,
        body: object,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_length: int | None = None,
        tagging: object = None,
        checksum_algorithm: str | None = None,
        checksums: object = None,
        content_md5: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: object = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: object = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        """Store an object. See :meth:`objstore.client.Client.put_object` for the errors."""
        validation.check_key(key)
        meta = validation.check_metadata(metadata)
        ctype = validation.check_content_type(content_type)
        if content_length is not None and (type(content_length) is not int or content_length < 0):
            raise InvalidArgument("content_length must be a non-negative integer")
        extra: dict[str, Any] = {
            "tags": tags.check_tags(tagging),
            "headers": validation.check_headers(
                {
                    "cache_control": cache_control,
                    "content_disposition": content_disposition,
                    "content_encoding": content_encoding,
                    "content_language": content_language,
                    "expires": expires,
                }
            ),
        }
        check = integrity(checksum_algorithm, checksums, content_md5)
        ek = keys.encode_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            extra["lock"] = self._lock_asked(
                b,
                object_lock_mode,
                object_lock_retain_until_date,
                object_lock_legal_hold_status,
            )
            if not extra["lock"].empty or b.default_retention is not None:
                require_integrity(check)
            if if_match is not None or if_none_match is not None:
                conditional.check_write(
                    self._current_etag(txn, bucket, ek),
                    if_match=if_match,
                    if_none_match=if_none_match,
                )
        max_size = min(self.limits.max_put_size, self.limits.max_object_size)
        with self.blobs.stored(
            body, content_length=content_length, max_size=max_size, algorithms=check.algorithms()
        ) as ing:
            stored = check.verify(ing.checksums)  # a mismatch leaves the block: nothing kept
            if stored:
                extra.update(checksums=stored, checksum_type="FULL_OBJECT")
            return self._commit_object(
                bucket, key, ek, ing, meta, ctype, if_match, if_none_match, parts=0, extra=extra
            )

    def put_objects(
        self, bucket: str, items: Sequence[tuple[str, object]]
    ) -> list[PutObjectResult]:
        """Store many objects in one transaction (all or nothing)."""
        for key, _ in items:
            validation.check_key(key)
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
        max_size = min(self.limits.max_put_size, self.limits.max_object_size)
        with ExitStack() as stack:
            staged = [
                (
                    key,
                    keys.encode_key(key),
                    stack.enter_context(
                        self.blobs.stored(body, content_length=None, max_size=max_size)
                    ),
                )
                for key, body in items
            ]
            results: list[PutObjectResult] = []
            with self.meta.begin_write() as txn:
                try:
                    b = self._bucket(txn, bucket)
                    for key, ek, ing in staged:
                        rec = self._write_version(txn, bucket, b, key, ek, ing, {}, None, parts=0)
                        results.append(self._put_result(b, rec))
                except BaseException:
                    # Raised before the commit: the transaction rolls back for certain, so
                    # the bodies staged in it are released (review 9l, L2). A failing
                    # commit itself is in doubt and leaves them staged.
                    for _, _, ing in staged:
                        ing.staged = False
                    raise
            return results

    def _write_version(
        self,
        txn: WriteTxn,
        bucket: str,
        b: BucketRecord,
        key: str,
        ek: bytes,
        ing: Ingested,
        meta: dict[str, str],
        ctype: str | None,
        *,
        parts: int,
        etag: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> VersionRecord:
        body = VersionRecord(
            key=key,
            version_id="",
            seq=0,
            mtime_ns=0,
            size=ing.size,
            etag=etag or self._etag(ing),
            checksum=ing.blake3.hex(),
            content_type=ctype,
            metadata=meta,
            inline=ing.inline,
            data_id=ing.data_id,
            parts=parts,
            inline_crc=None if ing.inline is None else zlib.crc32(ing.inline),
            **(extra or {}),
        )
        rec = self._add_version(txn, b, ek, body)
        self.blobs.commit(txn, ing)
        return rec

    def _put_result(self, b: BucketRecord, rec: VersionRecord) -> PutObjectResult:
        return PutObjectResult(
            rec.etag,
            self._public_vid(b, rec),
            rec.size,
            rec.checksum,
            checksums=dict(rec.checksums),
            checksum_type=rec.checksum_type,
        )

    def _add_version(
        self, txn: WriteTxn, b: BucketRecord, ek: bytes, body: VersionRecord
    ) -> VersionRecord:
        """Make ``body`` the key's newest version, per the bucket's versioning state.

        The operation's commit point: a cancelled call stops here (RequestCancelled,
        its transaction rolls back); past it, the version is written.
        """
        cancel.commit_point()
        plan = versioning.put_plan(b.versioning)
        mtime = self._stamp(txn, b.name, ek)
        if plan.replaces_null:
            self._remove_null(txn, b.name, ek)
        seq = self._next_seq(txn)
        vid = versioning.NULL if plan.null_version else versioning.new_version_id(seq)
        lock = body.lock
        if b.default_retention is not None and lock.mode is None:
            # A version asking for no retention gets the bucket's default (S3 counts it
            # from the version's creation).
            default = locking.default_lock(b.default_retention, mtime)
            lock = replace(default, legal_hold=lock.legal_hold)
        rec = body.stamped(vid, seq, mtime, lock)
        self._store_version(txn, b.name, ek, rec)
        stats.set_latest(txn, bucket_prefix(keyspace.LATEST, b.name) + ek, rec.summary())
        return rec

    def _etag(self, ing: Ingested) -> str:
        if ing.md5 is not None:
            return f'"{ing.md5.hex()}"'
        return f'"{ing.blake3.hex()}"'

    def _commit_object(
        self,
        bucket: str,
        key: str,
        ek: bytes,
        ing: Ingested,
        meta: dict[str, str],
        ctype: str | None,
        if_match: str | None,
        if_none_match: str | None,
        *,
        parts: int,
        etag: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> PutObjectResult:
        def commit(txn: WriteTxn) -> PutObjectResult:
            b = self._bucket(txn, bucket)
            if if_match is not None or if_none_match is not None:
                try:
                    conditional.check_write(
                        self._current_etag(txn, bucket, ek),
                        if_match=if_match,
                        if_none_match=if_none_match,
                    )
                except ObjstoreError as exc:
                    # It held before the upload: a concurrent write got in between.
                    raise ConditionalRequestConflict(
                        "a concurrent write changed the key during the upload", key=key
                    ) from exc
            # The body becomes live last: nothing after it may fail.
            rec = self._write_version(
                txn, bucket, b, key, ek, ing, meta, ctype, parts=parts, etag=etag, extra=extra
            )
            return self._put_result(b, rec)

        # Concurrent PUTs share one durable commit (see objstore.meta.group).
        return self.writer.run(commit)

    def head_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        checksum_mode: bool = False,
        part_number: int | None = None,
    ) -> ObjectInfo:
        """Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed, InvalidArgument,
        and with ``part_number`` the errors of :func:`.ranges.part_span`."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            rec = self._resolve(txn, bucket, key, version_id)
            if part_number is not None and checksum_mode:
                rec = self._with_part_sums(txn, rec)
        info = self._info(bucket, b, rec, checksum_mode=checksum_mode)
        if part_number is None:
            return info
        span = read_span(None, part_number, size=rec.size, parts=rec.parts, runs=rec.part_sizes)
        assert span is not None  # a part is always a span, maybe an empty one
        first, last = span
        if rec.parts > 1:  # one part of several: that part's checksum, when known
            info = _part_checksum(info, rec, part_number)
        part = f"bytes {first}-{last}/{rec.size}"
        return replace(
            info, content_length=last - first + 1, content_range=None if last < first else part
        )

    def _info(
        self, bucket: str, b: BucketRecord, rec: VersionRecord, *, checksum_mode: bool = False
    ) -> ObjectInfo:
        return ObjectInfo(size=rec.size, **self._fields(bucket, b, rec, checksum_mode))

    def _fields(
        self, bucket: str, b: BucketRecord, rec: VersionRecord, checksum_mode: bool
    ) -> dict[str, Any]:
        """What a HEAD (:class:`ObjectInfo`) and a GET (:class:`ObjectBody`) tell of
        ``rec``, but its size: a GET builds its body from these directly (a frozen
        ObjectInfo built only to be copied cost a 4 KiB GET more than its bucket read)."""
        h = rec.headers
        lock = rec.lock
        return {
            "bucket": bucket,
            "key": rec.key,
            "version_id": self._public_vid(b, rec),
            "etag": rec.etag,
            "last_modified": to_datetime(rec.mtime_ns),
            "content_type": rec.content_type,
            "metadata": dict(rec.metadata),
            "checksum": rec.checksum,
            # S3 returns the additional checksum only when asked (x-amz-checksum-mode).
            "checksums": dict(rec.checksums) if checksum_mode else {},
            "checksum_type": rec.checksum_type if checksum_mode and rec.checksums else None,
            "cache_control": h.get("cache_control"),
            "content_disposition": h.get("content_disposition"),
            "content_encoding": h.get("content_encoding"),
            "content_language": h.get("content_language"),
            "expires": h.get("expires"),
            "tag_count": len(rec.tags),
            "parts_count": rec.parts,
            "object_lock_mode": lock.mode,
            "object_lock_retain_until_date": (
                None if lock.until_ms is None else locking.from_ms(lock.until_ms)
            ),
            "object_lock_legal_hold_status": locking.hold_status(lock.legal_hold),
        }

    def object_tags(
        self, bucket: str, key: str, version_id: str | None = None
    ) -> tuple[dict[str, str], decided.Stamp | None]:
        """The tags of the version a request names and which version that is ((version
        id, seq)); ({}, None) when there is none. The engine reads them for
        ``s3:ExistingObjectTag/*`` before it authorizes and pins the version for the
        operation (:mod:`.decided`), which itself reports a missing object."""
        try:
            validation.check_key(key)
            with self.meta.begin() as txn:
                self._bucket(txn, bucket)
                rec = self._resolve(txn, bucket, key, version_id)
            return dict(rec.tags), (rec.version_id, rec.seq)
        except ObjstoreError as exc:
            if exc.http_status >= 500:  # corruption, a closed store: never "no tags"
                raise
            return {}, None

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
        """Open an object (a range or a part of it) for reading (see Client.get_object
        for the errors)."""
        validation.check_key(key)
        gone: bytes | None = None  # the data id found missing on the previous attempt
        for _attempt in range_attempts():
            with self.meta.begin() as txn:
                b = self._bucket(txn, bucket)
                rec = self._resolve(txn, bucket, key, version_id)
                if part_number is not None and checksum_mode:
                    rec = self._with_part_sums(txn, rec)
            if gone is not None and rec.data_id == gone:
                # A later snapshot still names the body whose record is missing:
                # not a concurrent delete but lost metadata.
                raise DataCorruption(
                    f"the data of {key!r} ({gone.hex()}) is missing", key=key, version_id=version_id
                )
            fields = self._fields(bucket, b, rec, checksum_mode)
            conditional.check_read(
                rec.etag,
                fields["last_modified"],
                if_match=if_match,
                if_none_match=if_none_match,
                if_modified_since=if_modified_since,
                if_unmodified_since=if_unmodified_since,
            )
            span = read_span(
                range, part_number, size=rec.size, parts=rec.parts, runs=rec.part_sizes
            )
            first, last = span if span is not None else (0, rec.size - 1)
            if span is not None and part_number is None:
                # A checksum describes the whole object, never a range of it (as S3).
                fields["checksums"], fields["checksum_type"] = {}, None
            elif part_number is not None and rec.parts > 1:
                fields["checksums"], fields["checksum_type"] = _part_sums(
                    fields["checksums"], fields["checksum_type"], rec, part_number
                )
            try:
                # Opens the read (a missing body surfaces now); no chunk is read yet.
                pieces = self._pieces(rec, first, last)
            except DataGone:
                gone = rec.data_id
                continue  # deleted between lookup and read: look again
            size = 0 if rec.size == 0 else last - first + 1
            return ObjectBody(
                self._stream(pieces, rec, size),
                size=size,
                object_size=rec.size,
                content_range=(
                    None if span is None or last < first else f"bytes {first}-{last}/{rec.size}"
                ),
                **fields,
            )
        raise NoSuchKey(f"key {key!r} was deleted while being opened", key=key)

    def _stream(self, rest: Iterator[bytes], rec: VersionRecord, expected: int) -> Iterator[bytes]:
        """The pieces of a body, checked to add up to ``expected`` bytes.

        A manifest with a hole, or one dropped by a concurrent delete, ends the
        stream early; a body must then raise, never end short as if complete.
        Raises DataCorruption, InternalError (deleted while being read) or
        StoreClosed (the store was closed while being read).
        """
        got = 0
        try:
            for piece in rest:
                got += len(piece)
                yield piece
        except ObjstoreError:
            raise
        except Exception as exc:
            if self.closed:
                raise StoreClosed("the store was closed while the body was being read") from exc
            raise
        finally:
            # Release the reader (and its lock) even when closed before the end.
            close = getattr(rest, "close", None)
            if close is not None:
                close()
        if got != expected:
            self._short_body(rec, got, expected)

    def _short_body(self, rec: VersionRecord, got: int, expected: int) -> None:
        if self.closed:
            raise StoreClosed("the store was closed while the body was being read")
        with self.meta.begin() as txn:
            alive = rec.data_id is not None and self.blobs.data_exists(txn, rec.data_id)
        what = f"{rec.key!r}: {got} of {expected} bytes"
        if alive:
            raise DataCorruption(f"the manifest of {what} has a hole", key=rec.key)
        raise InternalError(f"deleted while being read after {what}; retry", key=rec.key)

    def _pieces(self, rec: VersionRecord, first: int, last: int) -> Iterator[bytes]:
        if rec.size == 0 or last < first:  # an empty object, or an empty last part
            return iter(())
        if rec.inline is not None:
            return iter((inline_body(rec)[first : last + 1],))
        assert rec.data_id is not None
        return self.blobs.read(rec.data_id, first, last)

    def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> DeleteResult:
        """Delete per the bucket's versioning state. Raises NoSuchBucket, InvalidArgument,
        AccessDenied (a version Object Lock protects)."""
        validation.check_key(key)

        def delete(txn: WriteTxn) -> DeleteResult:
            b = self._bucket(txn, bucket)
            return self._delete(txn, b, key, version_id, bypass=bypass_governance_retention)

        return self.writer.run(delete)

    def _delete(
        self,
        txn: WriteTxn,
        b: BucketRecord,
        key: str,
        version_id: str | None,
        *,
        bypass: bool = False,
    ) -> DeleteResult:
        """One delete inside ``txn``; validates before it writes anything (Object Lock:
        :meth:`_remove_version`)."""
        bucket = b.name
        ek = keys.encode_key(key)
        if version_id is not None:
            rec = self._version(txn, bucket, ek, version_id)
            if rec is None:
                # S3 answers success for a version that is already gone.
                return DeleteResult(version_id, False)
            self._remove_version(txn, bucket, ek, rec, bypass=bypass)
            self._refresh_latest(txn, bucket, ek)
            return DeleteResult(version_id, rec.is_marker)
        plan = versioning.delete_plan(b.versioning)
        if plan.remove_null:
            self._remove_null(txn, bucket, ek, bypass=bypass)
        if not plan.add_marker:
            self._refresh_latest(txn, bucket, ek)
            return DeleteResult(None, False)
        seq = self._next_seq(txn)
        vid = versioning.NULL if plan.marker_is_null else versioning.new_version_id(seq)
        marker = VersionRecord(
            key=key, version_id=vid, seq=seq, mtime_ns=self._stamp(txn, bucket, ek), is_marker=True
        )
        self._store_version(txn, bucket, ek, marker)
        stats.set_latest(txn, bucket_prefix(keyspace.LATEST, bucket) + ek, None)
        return DeleteResult(vid, True)

    def delete_objects(
        self,
        bucket: str,
        items: Sequence[tuple[str, str | None]],
        *,
        denied: dict[int, ObjstoreError] | None = None,
        bypass_governance_retention: bool = False,
        withheld: Mapping[int, Collection[str]] | None = None,
    ) -> list[DeletedObject | DeleteError]:
        """Delete each ``(key, version_id)`` in one durable commit; failures
        become DeleteError entries. ``denied`` maps item positions the engine
        refused to the error to report; ``withheld`` the positions whose optional
        permissions it refused to the parameters they would have enabled (an item
        without s3:BypassGovernanceRetention does not bypass). Raises NoSuchBucket.
        """
        out: list[DeletedObject | DeleteError] = []
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            for i, (key, vid) in enumerate(items):
                err = (denied or {}).get(i)
                if err is None:
                    try:
                        validation.check_key(key)
                        bypass = bypass_governance_retention and (
                            "bypass_governance_retention" not in (withheld or {}).get(i, ())
                        )
                        r = self._delete(txn, b, key, vid, bypass=bypass)
                    except ObjstoreError as exc:
                        err = exc
                    else:
                        marker_vid = r.version_id if r.delete_marker else None
                        out.append(
                            DeletedObject(
                                key,
                                vid,
                                r.delete_marker,
                                marker_vid if vid is None else (vid if r.delete_marker else None),
                            )
                        )
                        continue
                out.append(DeleteError(key, vid, err.code, err.message))
        return out


def _part_checksum(info: ObjectInfo, rec: VersionRecord, part_number: int) -> ObjectInfo:
    """``info`` for one part of a multipart object (see :func:`_part_sums`)."""
    sums, kind = _part_sums(info.checksums, info.checksum_type, rec, part_number)
    return replace(info, checksums=sums, checksum_type=kind)


def _part_sums(
    checksums: dict[str, str], kind: str | None, rec: VersionRecord, part_number: int
) -> tuple[dict[str, str], str | None]:
    """The checksums and checksum type of one part of a multipart object: that part's
    checksum and the object's checksum type (as S3), or none when the checksum was not
    asked for (``checksums`` is empty) or the object does not keep its part checksums."""
    sums = Index._part_checksum(rec, part_number) if checksums else {}
    if not sums:
        return {}, None
    return sums, kind


def require_integrity(check: Integrity) -> None:
    """S3 wants an integrity value on a write that locks its version (lock parameters, or
    a bucket default retention): Content-MD5 or an additional checksum (a value, a
    trailer, or an algorithm to compute). Raises InvalidRequest."""
    if check.content_md5 is None and check.algorithm is None and not check.expected:
        raise InvalidRequest(
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
            "with Object Lock parameters"
        )


def range_attempts() -> Iterator[int]:
    """Tries at opening a read that races with a delete of the same version."""
    return iter(range(3))
