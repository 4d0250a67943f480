"""The namespace: buckets, objects and versions over one metadata store and blobs.

Every method is one S3 operation carried out in (at most) one write
transaction; the pure rules live in :mod:`.versioning`, :mod:`.listing`,
:mod:`.conditional`, :mod:`.ranges` and :mod:`.validation`. Nothing here
knows who the caller is: the engine has already decided that.

Index layout (prefixes from :mod:`objstore.keyspace`), per bucket ``b`` and
encoded key ``ek`` (:mod:`.keys`):

- ``V b 00 ek inv(seq)``: every version and delete marker, newest first.
- ``L b 00 ek``: summary of the newest version when it is an object
  (listing reads only this).
- ``N b 00 ek``: the sequence number of the key's ``null`` version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from objstore import keyspace
from objstore.blob.store import BlobStore, DataGone, Ingested
from objstore.body import ObjectBody
from objstore.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    DataCorruption,
    InternalError,
    InvalidArgument,
    InvalidRequest,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    ObjstoreError,
    StoreClosed,
)
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.ns import conditional, keys, listing, validation, versioning
from objstore.ns.ranges import RangeSpec, resolve_range
from objstore.ns.records import BucketRecord, VersionRecord, decode_summary
from objstore.types import (
    BucketInfo,
    DeletedObject,
    DeleteError,
    DeleteMarkerEntry,
    DeleteResult,
    ListObjectsResult,
    ListVersionsResult,
    ObjectInfo,
    ObjectSummary,
    ObjectVersion,
    PutObjectResult,
)

_SEQ_KEY = keyspace.COUNTER + b"seq"


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits (settings, because AWS has raised them before)."""

    max_object_size: int = 5 * 1024**4  # 5 TB
    max_put_size: int = 5 * 1024**3  # 5 GB per single PUT
    max_copy_size: int = 5 * 1024**3


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def _bkey(bucket: str) -> bytes:
    # Every operation looks its bucket up here first (the engine asks for the
    # owner), so a name that is not text fails as InvalidBucketName, not TypeError.
    return keyspace.BUCKET + validation.bucket_bytes(bucket)


def _base(prefix: bytes, bucket: str) -> bytes:
    return prefix + validation.bucket_bytes(bucket) + keys.SEP


class Namespace:
    """S3 semantics over a :class:`MetadataStore` and a :class:`BlobStore`."""

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        *,
        limits: Limits | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.meta = meta
        self.blobs = blobs
        self.limits = limits or Limits()
        self.clock = clock
        # Set by Store.close(): bodies still being read then fail as StoreClosed.
        self.closed = False

    # ------------------------------------------------------------------ helpers

    def _bucket(self, txn: ReadTxn, bucket: str) -> BucketRecord:
        raw = txn.get(_bkey(bucket))
        if raw is None:
            raise NoSuchBucket(f"bucket {bucket!r} does not exist", bucket=bucket)
        return BucketRecord.decode(bucket, raw)

    def _next_seq(self, txn: WriteTxn) -> int:
        raw = txn.get(_SEQ_KEY)
        seq = (int.from_bytes(raw, "big") if raw else 0) + 1
        txn.put(_SEQ_KEY, seq.to_bytes(8, "big"))
        return seq

    def _newest(self, txn: ReadTxn, bucket: str, ek: bytes) -> VersionRecord | None:
        vbase = _base(keyspace.VERSION, bucket) + ek
        for _k, v in txn.scan(vbase, vbase + b"\xff" * 9):
            return VersionRecord.decode(v)
        return None

    def _version(
        self, txn: ReadTxn, bucket: str, ek: bytes, version_id: str
    ) -> VersionRecord | None:
        seq = versioning.parse_version_id(version_id)
        if seq is None:
            raw = txn.get(_base(keyspace.NULLVER, bucket) + ek)
            if raw is None:
                return None
            seq = int.from_bytes(raw, "big")
        value = txn.get(_base(keyspace.VERSION, bucket) + ek + versioning.inv_seq(seq))
        if value is None:
            return None
        rec = VersionRecord.decode(value)
        return rec if rec.version_id == version_id else None

    def _resolve(
        self, txn: ReadTxn, bucket: str, key: str, version_id: str | None
    ) -> VersionRecord:
        """The version a read names; raises NoSuchKey / NoSuchVersion / MethodNotAllowed."""
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

    def _public_vid(self, b: BucketRecord, rec: VersionRecord) -> str | None:
        # Buckets that never had versioning report no version ids, as S3 does.
        return None if b.versioning is None else rec.version_id

    def _store_version(self, txn: WriteTxn, bucket: str, ek: bytes, rec: VersionRecord) -> None:
        vbase = _base(keyspace.VERSION, bucket) + ek
        txn.put(vbase + versioning.inv_seq(rec.seq), rec.encode())
        if rec.version_id == versioning.NULL:
            txn.put(_base(keyspace.NULLVER, bucket) + ek, rec.seq.to_bytes(8, "big"))

    def _remove_version(self, txn: WriteTxn, bucket: str, ek: bytes, rec: VersionRecord) -> None:
        txn.delete(_base(keyspace.VERSION, bucket) + ek + versioning.inv_seq(rec.seq))
        if rec.version_id == versioning.NULL:
            txn.delete(_base(keyspace.NULLVER, bucket) + ek)
        if rec.data_id is not None:
            self.blobs.release(txn, rec.data_id)

    def _remove_null(self, txn: WriteTxn, bucket: str, ek: bytes) -> VersionRecord | None:
        rec = self._version(txn, bucket, ek, versioning.NULL)
        if rec is not None:
            self._remove_version(txn, bucket, ek, rec)
        return rec

    def _refresh_latest(self, txn: WriteTxn, bucket: str, ek: bytes) -> None:
        newest = self._newest(txn, bucket, ek)
        lkey = _base(keyspace.LATEST, bucket) + ek
        if newest is None or newest.is_marker:
            txn.delete(lkey)
        else:
            txn.put(lkey, newest.summary())

    def _current_etag(self, txn: ReadTxn, bucket: str, ek: bytes) -> str | None:
        rec = self._newest(txn, bucket, ek)
        return None if rec is None or rec.is_marker else rec.etag

    # ------------------------------------------------------------------ buckets

    def create_bucket(self, bucket: str, *, owner: str) -> None:
        """Raises InvalidBucketName, BucketAlreadyOwnedByYou, BucketAlreadyExists."""
        validation.check_bucket_name(bucket)
        with self.meta.begin_write() as txn:
            raw = txn.get(_bkey(bucket))
            if raw is not None:
                if BucketRecord.decode(bucket, raw).owner == owner:
                    raise BucketAlreadyOwnedByYou(f"you already own {bucket!r}", bucket=bucket)
                raise BucketAlreadyExists(f"bucket {bucket!r} is taken", bucket=bucket)
            txn.put(_bkey(bucket), BucketRecord(bucket, owner, self.clock()).encode())

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Raises NoSuchBucket."""
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
        return BucketInfo(bucket, _dt(b.created_ns))

    def bucket_owner(self, bucket: str) -> str | None:
        """The owning account of ``bucket`` (None if absent): for the engine's resource account."""
        with self.meta.begin() as txn:
            raw = txn.get(_bkey(bucket))
        return None if raw is None else BucketRecord.decode(bucket, raw).owner

    def delete_bucket(self, bucket: str) -> None:
        """Raises NoSuchBucket, BucketNotEmpty (any version or delete marker left)."""
        with self.meta.begin_write() as txn:
            self._bucket(txn, bucket)
            vbase = _base(keyspace.VERSION, bucket)
            for _ in txn.scan(vbase, vbase + b"\xff"):
                raise BucketNotEmpty(f"bucket {bucket!r} is not empty", bucket=bucket)
            txn.delete(_bkey(bucket))

    def list_buckets(self, *, owner: str) -> list[BucketInfo]:
        """The buckets ``owner`` (an account id) owns, by name."""
        out = []
        with self.meta.begin() as txn:
            for k, v in txn.scan(keyspace.BUCKET, keyspace.BUCKET + b"\xff"):
                rec = BucketRecord.decode(k[1:].decode(), v)
                if rec.owner == owner:
                    out.append(BucketInfo(rec.name, _dt(rec.created_ns)))
        return out

    def put_bucket_versioning(self, bucket: str, status: str) -> None:
        """Raises NoSuchBucket, InvalidArgument (status not Enabled/Suspended)."""
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            new = versioning.check_transition(b.versioning, status)
            txn.put(_bkey(bucket), BucketRecord(bucket, b.owner, b.created_ns, new).encode())

    def get_bucket_versioning(self, bucket: str) -> str | None:
        """None while versioning was never enabled. Raises NoSuchBucket."""
        with self.meta.begin() as txn:
            return self._bucket(txn, bucket).versioning

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
    ) -> PutObjectResult:
        """Store an object. See :meth:`objstore.client.Client.put_object` for the errors."""
        validation.check_key(key)
        meta = validation.check_metadata(metadata)
        ctype = validation.check_content_type(content_type)
        if content_length is not None and (type(content_length) is not int or content_length < 0):
            raise InvalidArgument("content_length must be a non-negative integer")
        ek = keys.encode_key(key)
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            if if_match is not None or if_none_match is not None:
                conditional.check_write(
                    self._current_etag(txn, bucket, ek),
                    if_match=if_match,
                    if_none_match=if_none_match,
                )
        max_size = min(self.limits.max_put_size, self.limits.max_object_size)
        with self.blobs.stored(body, content_length=content_length, max_size=max_size) as ing:
            return self._commit_object(
                bucket, key, ek, ing, meta, ctype, if_match, if_none_match, parts=0
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
        with self.blobs.hold_shared(), ExitStack() as stack:
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
                b = self._bucket(txn, bucket)
                for key, ek, ing in staged:
                    rec = self._write_version(txn, bucket, b, key, ek, ing, {}, None, parts=0)
                    results.append(
                        PutObjectResult(rec.etag, self._public_vid(b, rec), rec.size, rec.checksum)
                    )
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
        )
        rec = self._add_version(txn, b, ek, body)
        self.blobs.commit(txn, ing)
        return rec

    def _add_version(
        self, txn: WriteTxn, b: BucketRecord, ek: bytes, body: VersionRecord
    ) -> VersionRecord:
        """Make ``body`` the key's newest version, per the bucket's versioning state."""
        plan = versioning.put_plan(b.versioning)
        if plan.replaces_null:
            self._remove_null(txn, b.name, ek)
        seq = self._next_seq(txn)
        vid = versioning.NULL if plan.null_version else versioning.new_version_id(seq)
        rec = replace(body, version_id=vid, seq=seq, mtime_ns=self.clock())
        self._store_version(txn, b.name, ek, rec)
        txn.put(_base(keyspace.LATEST, b.name) + ek, rec.summary())
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
    ) -> PutObjectResult:
        with self.meta.begin_write() as txn:
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
                txn, bucket, b, key, ek, ing, meta, ctype, parts=parts, etag=etag
            )
        return PutObjectResult(rec.etag, self._public_vid(b, rec), rec.size, rec.checksum)

    def head_object(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """Raises NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed, InvalidArgument."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            rec = self._resolve(txn, bucket, key, version_id)
        return self._info(bucket, b, rec)

    def _info(self, bucket: str, b: BucketRecord, rec: VersionRecord) -> ObjectInfo:
        return ObjectInfo(
            bucket=bucket,
            key=rec.key,
            version_id=self._public_vid(b, rec),
            size=rec.size,
            etag=rec.etag,
            last_modified=_dt(rec.mtime_ns),
            content_type=rec.content_type,
            metadata=dict(rec.metadata),
            checksum=rec.checksum,
        )

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
    ) -> ObjectBody:
        """Open an object for reading (see Client.get_object for the errors)."""
        validation.check_key(key)
        gone: bytes | None = None  # the data id found missing on the previous attempt
        for _attempt in range_attempts():
            with self.meta.begin() as txn:
                b = self._bucket(txn, bucket)
                rec = self._resolve(txn, bucket, key, version_id)
            if gone is not None and rec.data_id == gone:
                # A later snapshot still names the body whose record is missing:
                # not a concurrent delete but lost metadata.
                raise DataCorruption(
                    f"the data of {key!r} ({gone.hex()}) is missing", key=key, version_id=version_id
                )
            info = self._info(bucket, b, rec)
            conditional.check_read(
                rec.etag,
                info.last_modified,
                if_match=if_match,
                if_none_match=if_none_match,
                if_modified_since=if_modified_since,
                if_unmodified_since=if_unmodified_since,
            )
            span = resolve_range(range, rec.size)
            first, last = span if span is not None else (0, rec.size - 1)
            pieces = self._pieces(rec, first, last)
            try:
                head = next(pieces, None)  # opens the read: surfaces errors now, not later
            except DataGone:
                gone = rec.data_id
                continue  # deleted between lookup and read: look again
            return ObjectBody(
                self._stream(head, pieces, rec, 0 if rec.size == 0 else last - first + 1),
                bucket=bucket,
                key=rec.key,
                version_id=info.version_id,
                size=0 if rec.size == 0 else last - first + 1,
                object_size=rec.size,
                content_range=None if span is None else f"bytes {first}-{last}/{rec.size}",
                etag=rec.etag,
                last_modified=info.last_modified,
                content_type=rec.content_type,
                metadata=info.metadata,
                checksum=rec.checksum,
            )
        raise NoSuchKey(f"key {key!r} was deleted while being opened", key=key)

    def _stream(
        self, head: bytes | None, rest: Iterator[bytes], rec: VersionRecord, expected: int
    ) -> Iterator[bytes]:
        """The pieces of a body, checked to add up to ``expected`` bytes.

        A manifest with a hole, or one dropped by a concurrent delete, ends the
        stream early; a body must then raise, never end short as if complete.
        Raises DataCorruption, InternalError (deleted while being read) or
        StoreClosed (the store was closed while being read).
        """
        got = 0
        try:
            if head is not None:
                got += len(head)
                yield head
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
        if rec.size == 0:
            return iter(())
        if rec.inline is not None:
            return iter((rec.inline[first : last + 1],))
        assert rec.data_id is not None
        return self.blobs.read(rec.data_id, first, last)

    def delete_object(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> DeleteResult:
        """Delete per the bucket's versioning state. Raises NoSuchBucket, InvalidArgument."""
        validation.check_key(key)
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            return self._delete(txn, b, key, version_id)

    def _delete(
        self, txn: WriteTxn, b: BucketRecord, key: str, version_id: str | None
    ) -> DeleteResult:
        """One delete inside ``txn``; validates before it writes anything."""
        bucket = b.name
        ek = keys.encode_key(key)
        if version_id is not None:
            rec = self._version(txn, bucket, ek, version_id)
            if rec is None:
                # S3 answers success for a version that is already gone.
                return DeleteResult(version_id, False)
            self._remove_version(txn, bucket, ek, rec)
            self._refresh_latest(txn, bucket, ek)
            return DeleteResult(version_id, rec.is_marker)
        plan = versioning.delete_plan(b.versioning)
        if plan.remove_null:
            self._remove_null(txn, bucket, ek)
        if not plan.add_marker:
            self._refresh_latest(txn, bucket, ek)
            return DeleteResult(None, False)
        seq = self._next_seq(txn)
        vid = versioning.NULL if plan.marker_is_null else versioning.new_version_id(seq)
        marker = VersionRecord(
            key=key, version_id=vid, seq=seq, mtime_ns=self.clock(), is_marker=True
        )
        self._store_version(txn, bucket, ek, marker)
        txn.delete(_base(keyspace.LATEST, bucket) + ek)
        return DeleteResult(vid, True)

    def delete_objects(
        self,
        bucket: str,
        items: Sequence[tuple[str, str | None]],
        *,
        denied: dict[int, ObjstoreError] | None = None,
    ) -> list[DeletedObject | DeleteError]:
        """Delete each ``(key, version_id)`` in one durable commit; failures
        become DeleteError entries. ``denied`` maps item positions the engine
        refused to the error to report. Raises NoSuchBucket.
        """
        out: list[DeletedObject | DeleteError] = []
        with self.meta.begin_write() as txn:
            b = self._bucket(txn, bucket)
            for i, (key, vid) in enumerate(items):
                err = (denied or {}).get(i)
                if err is None:
                    try:
                        validation.check_key(key)
                        r = self._delete(txn, b, key, vid)
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
    ) -> PutObjectResult:
        """Copy by reference: no chunk bytes move. See Client.copy_object for errors."""
        validation.check_key(src_key)
        validation.check_key(key)
        if metadata_directive not in ("COPY", "REPLACE"):
            raise InvalidArgument("metadata_directive must be 'COPY' or 'REPLACE'")
        new_meta = validation.check_metadata(metadata)
        ctype = validation.check_content_type(content_type)
        ek = keys.encode_key(key)
        src_ek = keys.encode_key(src_key)
        with self.meta.begin_write() as txn:
            self._bucket(txn, src_bucket)
            b = self._bucket(txn, bucket)
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
            if src.data_id is not None:
                try:
                    self.blobs.add_ref(txn, src.data_id)  # before a same-key replace releases it
                except DataGone:
                    # The source version is current in this very transaction, so its
                    # body record cannot have been deleted concurrently: it is lost.
                    raise DataCorruption(
                        f"the data of {src_key!r} ({src.data_id.hex()}) is missing", key=src_key
                    ) from None
            # Same bytes, ETag and checksum; new key and (maybe) metadata.
            body = replace(src, key=key, content_type=ctype, metadata=new_meta)
            rec = self._add_version(txn, b, ek, body)
        return PutObjectResult(rec.etag, self._public_vid(b, rec), rec.size, rec.checksum)

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
        base = _base(keyspace.LATEST, bucket)
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            page = listing.list_page(
                lambda start: txn.scan(start, base + b"\xff"),
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
            contents.append(ObjectSummary(key, size, etag, _dt(mtime)))
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
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = 1000,
    ) -> ListVersionsResult:
        """One page of ListObjectVersions: by key, newest first. Raises NoSuchBucket,
        InvalidArgument (a version_id_marker without key_marker, or a bad one)."""
        max_keys = listing.check_max_keys(max_keys)
        validation.check_text(prefix, "prefix")
        if key_marker is not None:
            validation.check_text(key_marker, "key_marker")
        if version_id_marker is not None and not key_marker:
            raise InvalidArgument("version_id_marker requires key_marker")
        base = _base(keyspace.VERSION, bucket)
        versions: list[ObjectVersion] = []
        markers: list[DeleteMarkerEntry] = []
        truncated = False
        last: VersionRecord | None = None
        with self.meta.begin() as txn:
            self._bucket(txn, bucket)
            # Resume position: (key, seq) in (key ascending, seq descending) order.
            after_key: str | None = key_marker or None
            after_seq: int | None = None
            if key_marker and version_id_marker is not None:
                # A version id carries its sequence, so a page resumes even when the
                # marker version was deleted since; only "null" must be looked up.
                after_seq = versioning.parse_version_id(version_id_marker)
                if after_seq is None:
                    rec = self._version(txn, bucket, keys.encode_key(key_marker), version_id_marker)
                    if rec is None:
                        raise InvalidArgument("key_marker has no null version to resume after")
                    after_seq = rec.seq
            start, stop = keys.prefix_bound(prefix)
            if after_key is not None:
                enc = keys.encode_key(after_key)
                start = max(start, keys.long_group(enc) if keys.is_long(enc) else enc[:-2])

            prev_key: str | None = None
            for key, _ek, value in listing.ordered(
                lambda s: txn.scan(s, base + b"\xff"),
                base,
                start,
                stop,
                lambda v: VersionRecord.decode(v).key,
                suffix=8,
            ):
                if not key.startswith(prefix):
                    continue
                rec = VersionRecord.decode(value)
                if after_key is not None:
                    if key < after_key:
                        continue
                    if key == after_key and (after_seq is None or rec.seq >= after_seq):
                        continue
                if len(versions) + len(markers) == max_keys:
                    truncated = max_keys > 0  # max_keys=0: an empty, untruncated page
                    break
                is_latest = key != prev_key and self._is_newest(txn, bucket, rec)
                prev_key = key
                if rec.is_marker:
                    markers.append(
                        DeleteMarkerEntry(key, rec.version_id, is_latest, _dt(rec.mtime_ns))
                    )
                else:
                    versions.append(
                        ObjectVersion(
                            key, rec.version_id, is_latest, rec.size, rec.etag, _dt(rec.mtime_ns)
                        )
                    )
                last = rec
        return ListVersionsResult(
            versions=tuple(versions),
            delete_markers=tuple(markers),
            is_truncated=truncated,
            next_key_marker=last.key if truncated and last else None,
            next_version_id_marker=last.version_id if truncated and last else None,
        )

    def _is_newest(self, txn: ReadTxn, bucket: str, rec: VersionRecord) -> bool:
        newest = self._newest(txn, bucket, keys.encode_key(rec.key))
        return newest is not None and newest.seq == rec.seq


def range_attempts() -> Iterator[int]:
    """Tries at opening a read that races with a delete of the same version."""
    return iter(range(3))
