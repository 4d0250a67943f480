"""Chunks on any S3-compatible object store (Ceph RGW, AWS S3, MinIO ...).

Layout: one object per chunk, ``<prefix>/ab/<64 hex digits>`` (``ab`` = the
first two hex digits: AWS partitions request rates by key prefix). Bad chunks
go to ``<prefix>/quarantine/``; ``<prefix>/objstore-owner.json`` names the store
that owns the chunks (:class:`~objstore.blob.chunkstore.ChunkOwner`).
docs/scale-out.md ("Chunk store client") has the measurements behind one object per
chunk rather than packs, and behind obstore (Rust's object_store) as the client, called
from a thread pool (its calls release the GIL); :mod:`.s3_client` sets it up.

Semantics, against the :class:`~objstore.blob.chunkstore.ChunkStore` contract:

- ``put`` is durable when it returns: S3 acknowledges a PUT only once the
  object is stored (RGW: on every replica), so :meth:`sync` has nothing left
  to do. A PUT is atomic: an interrupted upload leaves nothing under the
  chunk's key, so nothing half-written is ever visible and there is nothing
  to clean (:meth:`clean_tmp` returns 0: no multipart uploads are used).
- Create-if-absent: ``If-None-Match: *``; on a 412 the object there is read
  and checked, and overwritten only when damaged. A backend that answers the
  header with 501 / "not supported" is served GET-then-PUT from then on; one
  that ignores it just overwrites the object with the same bytes.
- Every read is verified against the chunk's BLAKE3 id; a mismatch is read
  once more (a transfer spoiled in flight heals), and bytes that still do not
  match are returned as stored so that the blob layer's own check reports
  DataCorruption and quarantines the chunk (flags its record; the next upload
  of its bytes overwrites it, see ``put``), exactly as for a damaged file of
  :class:`~objstore.blob.files.FileChunkStore`. A damaged
  object is never reported as a missing one. The blob layer reads through
  ``get_verified`` (None for such bytes), so each chunk is hashed once.
- Failures that may pass (5xx, 503 SlowDown, timeouts, refused or reset
  connections) are retried with jittered exponential backoff for at most
  ``retry_time`` seconds (:mod:`.retry`), then raised as ServiceUnavailable
  or SlowDown; a refusal (403, a missing bucket ...) is an InternalError at
  once. No exception of the client library leaves this module.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any, TypeVar

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    NotSupportedError,
    PreconditionError,
)
from obstore.store import S3Store

from objstore.backends import s3_owner, s3_url
from objstore.backends.retry import Backoff, Retryable
from objstore.backends.s3_client import (
    check_process,
    create_bucket_op,
    env_endpoint,
    make_client,
    missing_bucket,
    status_code,
    translate,
)
from objstore.blob.chunkstore import (
    OWNER_NAME,
    ChunkId,
    ChunkMissing,
    OwnerMark,
    decode_owner,
    encode_owner,
    read_digest,
)
from objstore.errors import InvalidArgument, NoSuchBucket, StoreDamaged

T = TypeVar("T")

#: User metadata holding the writer's clock at the PUT, in ns (see :meth:`S3ChunkStore.stat`).
MTIME_META = "objstore-mtime-ns"
QUARANTINE = "quarantine"
_NS = 1_000_000_000
_DELETE_BATCH = 1000  # S3's DeleteObjects limit
# How long a bucket seen to exist is trusted when a HEAD answers 404 (seconds): a HEAD
# has no body, so a missing bucket and a missing chunk look alike; one probe per this
# long keeps has_many of absent chunks at about one request per chunk.
_BUCKET_TRUSTED = 1.0


class S3ChunkStore:
    """A :class:`~objstore.blob.chunkstore.ChunkStore` in an S3 bucket, under ``prefix``.

    ``concurrency`` transfers run at once in the batch forms (``put_many``,
    ``has_many``, ``delete_many``); every call is retried for at most
    ``retry_time`` seconds. Credentials come from the usual places (the
    ``AWS_*`` environment variables, the container/instance role, or the
    named ``profile`` of the shared AWS files, read through boto3), never from
    arguments that could end up in a URL or a log.

    Raises NoSuchBucket when ``bucket`` does not exist (unless ``create``),
    InternalError when the backend refuses access, ServiceUnavailable when it
    cannot be reached within ``retry_time``.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        concurrency: int = 16,
        retry_time: float = 30.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        create: bool = False,
        conditional_put: bool = True,
    ) -> None:
        s3_url.check_bucket(bucket)
        if endpoint is not None:
            s3_url.check_endpoint(endpoint)
        if concurrency < 1:
            raise InvalidArgument("concurrency must be at least 1")
        if min(retry_time, connect_timeout, read_timeout) <= 0:
            raise InvalidArgument("retry_time and the timeouts must be positive")
        self.bucket = bucket
        self.prefix = s3_url.check_prefix(prefix)
        self.endpoint = endpoint or env_endpoint()  # the one in use, not left to the client
        self.site = f"s3://{bucket}/{self.prefix} at {self.endpoint or 'AWS'}"  # owner._site
        self.region = region
        self.profile = profile
        self.concurrency = concurrency
        #: Chunk transfers the blob layer keeps in flight through this store (its I/O
        #: threads and read-ahead): a network store needs many to hide each request's latency.
        self.io_concurrency = concurrency
        self.backoff = Backoff(deadline=retry_time)
        self._timeouts = (connect_timeout, read_timeout)
        # False once the backend showed it does not know If-None-Match on PUT.
        self._conditional = conditional_put
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._store_obj: S3Store | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._counter = 0
        # time.monotonic() when a HEAD's 404 last led to finding the bucket (the probe
        # at open does not count: the first absent chunk after a pause checks again).
        self._bucket_seen = float("-inf")
        self._check_bucket(create)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str) -> S3ChunkStore:
        """Open ``s3://bucket/prefix?endpoint=http://host:port&region=...&concurrency=16``.

        Other parameters: ``profile``, ``retry_time``, ``connect_timeout``,
        ``read_timeout`` (seconds), ``create=1`` (make a missing bucket),
        ``conditional_put=0`` (GET-then-PUT from the start). Raises
        InvalidArgument for a malformed URL (:mod:`.s3_url`) or one that carries
        credentials, plus whatever the constructor raises.
        """
        o = s3_url.parse(url)
        return cls(
            o.bucket,
            o.prefix,
            endpoint=o.endpoint,
            region=o.region,
            profile=o.profile,
            concurrency=o.concurrency,
            retry_time=o.retry_time,
            connect_timeout=o.connect_timeout,
            read_timeout=o.read_timeout,
            create=o.create,
            conditional_put=o.conditional_put,
        )

    def __repr__(self) -> str:
        # Credentials are never attributes of this object, so none can show here.
        return (
            f"S3ChunkStore(bucket={self.bucket!r}, prefix={self.prefix!r}, "
            f"endpoint={self.endpoint!r}, region={self.region!r}, concurrency={self.concurrency})"
        )

    def _store(self) -> S3Store:
        """The obstore client (and the pool), made again in another process."""
        store = self._store_obj
        if store is not None and self._pid == os.getpid():
            return store
        with self._lock:
            if self._store_obj is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._pool = None
                self._store_obj = make_client(
                    self.bucket,
                    self.prefix or None,
                    endpoint=self.endpoint,
                    region=self.region,
                    profile=self.profile,
                    # Callers' own threads (an upload's I/O threads) share the pool too.
                    pool=self.concurrency + 16,
                    connect_timeout=self._timeouts[0],
                    read_timeout=self._timeouts[1],
                )
            return self._store_obj

    def _executor(self) -> ThreadPoolExecutor:
        self._store()  # resets the pool in a forked child
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix="objstore-s3chunks"
                )
            return self._pool

    def _call(self, what: str, op: Callable[[S3Store], T]) -> T:
        """``op(store)`` with retries; only typed objstore errors (or ChunkMissing) come out."""

        check_process()

        def attempt() -> T:
            try:
                return op(self._store())
            except Exception as exc:
                raise translate(exc, what) from exc

        return self.backoff.run(what, attempt)

    def _probe(self, store: S3Store) -> bool:
        """Whether the bucket exists (one cheap LIST)."""
        try:
            obstore.list_with_delimiter(store, "objstore-probe")
        except BaseError as exc:
            if missing_bucket(exc):
                return False
            raise
        return True

    def _absent(self, store: S3Store) -> None:
        """After a HEAD's bare 404: return if the chunk is absent, raise the probe's
        NoSuchBucket (as get() does) if the bucket itself is gone, so that a lost bucket
        is never reported as missing chunks."""
        if time.monotonic() - self._bucket_seen >= _BUCKET_TRUSTED:
            obstore.list_with_delimiter(store, "objstore-probe")
            self._bucket_seen = time.monotonic()

    def _check_bucket(self, create: bool) -> None:
        if self._call(f"checking bucket {self.bucket}", self._probe):
            return
        if not create:
            raise NoSuchBucket(
                f"the chunk bucket {self.bucket!r} does not exist; create it, or pass create=1",
                bucket=self.bucket,
            )
        make = create_bucket_op(
            self.bucket, endpoint=self.endpoint, region=self.region, profile=self.profile
        )
        self._call(f"creating bucket {self.bucket}", make)

    # -- keys -----------------------------------------------------------------------------

    @staticmethod
    def key(cid: ChunkId) -> str:
        """The object key of a chunk, below the prefix."""
        h = cid.hex()
        return f"{h[:2]}/{h}"

    @staticmethod
    def _cid_of(key: str) -> ChunkId | None:
        if len(key) != 67 or key[2] != "/" or key[:2] != key[3:5]:
            return None  # not a chunk (the quarantine, a stranger's object)
        try:
            return ChunkId(bytes.fromhex(key[3:]))
        except ValueError:
            return None

    # -- single chunks --------------------------------------------------------------------

    def has(self, cid: ChunkId) -> bool:
        """Whether the chunk is present. Raises ServiceUnavailable, InternalError."""
        key = self.key(cid)

        def head(store: S3Store) -> bool:
            try:
                obstore.head(store, key)
            except FileNotFoundError:
                self._absent(store)
                return False
            return True

        return self._call(f"looking for chunk {cid.hex()}", head)

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        """``(size, write time in ns)`` or None. Raises ServiceUnavailable, InternalError.

        The time is the writer's own clock when it sent the PUT, kept in the
        object's metadata. gc deletes an unreferenced chunk only when this time
        is older than every live writer's floor, and a writer's floor is at or
        before its start, which is before its PUT: so a chunk being written is
        never taken for a crash leftover. S3's Last-Modified would not do on
        its own: it has whole seconds (truncated, so up to 1 s *before* the
        write) on the backend's clock. An object without that metadata (put
        there by another tool) falls back to Last-Modified rounded *up* to the
        end of its second, which can only make it look younger, never older.
        """
        key = self.key(cid)

        def head(store: S3Store) -> tuple[int, int] | None:
            try:
                got = obstore.get(store, key, options={"head": True})
            except FileNotFoundError:
                self._absent(store)
                return None
            meta = got.meta
            try:
                mtime = int(got.attributes[MTIME_META])
            except (KeyError, ValueError):
                mtime = int(meta["last_modified"].timestamp()) * _NS + _NS - 1
            return int(meta["size"]), mtime

        return self._call(f"stat of chunk {cid.hex()}", head)

    def get(self, cid: ChunkId) -> bytes:
        """The chunk's bytes, checked against its id (see the module docstring).

        Raises ChunkMissing, ServiceUnavailable, InternalError.
        """
        return self._read(cid)[0]

    def get_verified(self, cid: ChunkId) -> bytes | None:
        """The chunk's bytes if they match its id, else None (read twice, as :meth:`get`):
        the blob layer uses the check made here instead of hashing the bytes again.

        Raises ChunkMissing, ServiceUnavailable, InternalError.
        """
        data, right = self._read(cid)
        return data if right else None

    def _read(self, cid: ChunkId) -> tuple[bytes, bool]:
        """The bytes stored for ``cid`` and whether they match it."""
        key = self.key(cid)

        def fetch(store: S3Store) -> bytes:
            try:
                return bytes(obstore.get(store, key).bytes())
            except FileNotFoundError as exc:
                if missing_bucket(exc):
                    raise
                raise ChunkMissing(cid.hex()) from None

        what = f"reading chunk {cid.hex()}"
        data = self._call(what, fetch)
        if read_digest(data) == cid:
            return data, True
        # Once more: a transfer spoiled in flight heals; bytes spoiled at rest stay
        # wrong and go up as they are, for the blob layer to quarantine.
        data = self._call(what, fetch)
        return data, read_digest(data) == cid

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        """Store a chunk unless present; durable on return (see the module docstring).

        Raises ServiceUnavailable or SlowDown (the backend failed for
        ``retry_time``), InternalError (it refused).

        A chunk already there is read back and checked: right, it stays as it
        is; damaged, it is overwritten, so uploading the bytes again heals every
        object that uses them (as the blob layer expects of a quarantined chunk
        whose damaged copy could not be moved aside). A chunk that stays keeps
        its first write time: if it is a crash leftover older than the gc floor,
        gc may delete it under this writer, whose commit then sees gc's mark and
        fails with the retryable ServiceUnavailable (docs/architecture.md, "The
        net under it") instead of referencing a deleted chunk; its retry writes
        the chunk afresh. Puts of stored chunks are rare: the blob layer writes
        only chunks no committed reference vouches for.
        """
        key = self.key(cid)
        self._call(
            f"writing chunk {cid.hex()}", lambda store: self._put_once(store, cid, key, data)
        )

    def _put_once(
        self, store: S3Store, cid: ChunkId, key: str, data: bytes | bytearray | memoryview
    ) -> None:
        attributes: dict[str, str] = {MTIME_META: str(time.time_ns())}
        if self._create(store, key, data, attributes):
            return  # there already (checked below) or written now
        if not self._holds(store, cid, key):
            obstore.put(store, key, data, attributes=attributes, use_multipart=False)

    def _create(
        self,
        store: S3Store,
        key: str,
        data: bytes | bytearray | memoryview,
        attributes: dict[str, str],
        *,
        always: bool = False,
    ) -> bool:
        """PUT ``key`` with ``If-None-Match: *``: True when it was written, False when
        something was there already or the backend does not take the condition (then the
        caller looks first). ``always``: try the condition even when ``conditional_put=0``
        chose look-then-PUT for chunks (falling back only when the backend refuses it)."""
        if not (self._conditional or always):
            return False
        try:
            obstore.put(store, key, data, mode="create", attributes=attributes, use_multipart=False)
            return True
        except (AlreadyExistsError, PreconditionError):
            return False
        except NotSupportedError:
            self._conditional = False
        except BaseError as exc:
            status, code = status_code(exc)
            if status == 409:  # ConditionalRequestConflict: a racing PUT of the same key
                raise Retryable(f"{status} {code}") from exc
            if status != 501 and code != "NotImplemented":
                raise
            self._conditional = False  # the backend does not know If-None-Match
        return False

    # -- the owner mark -------------------------------------------------------------------

    def _owner_where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}{OWNER_NAME}"

    def read_owner(self) -> OwnerMark | None:
        """The mark in ``<prefix>/objstore-owner.json``, None when absent. Raises
        StoreDamaged (unreadable), ServiceUnavailable, InternalError."""
        raw = self._call(f"reading {self._owner_where()}", s3_owner.fetch)
        return None if raw is None else decode_owner(raw, self._owner_where())

    def claim_owner(self, mark: OwnerMark) -> OwnerMark:
        """Write ``<prefix>/objstore-owner.json`` unless it exists (``If-None-Match: *``;
        look-then-PUT on a backend without it, where two first opens racing on one empty
        prefix can both believe they won); the owner the prefix has afterwards. Raises
        StoreDamaged, ServiceUnavailable, InternalError."""
        body = encode_owner(mark)
        self._call(
            f"writing {self._owner_where()}",
            lambda store: s3_owner.claim(
                store, body, lambda st: self._create(st, OWNER_NAME, body, {}, always=True)
            ),
        )
        owner = self.read_owner()
        if owner is None:
            raise StoreDamaged(f"{self._owner_where()} vanished while the store was being opened")
        return owner

    def rewrite_owner(self, mark: OwnerMark, expected: OwnerMark) -> bool:
        """Replace ``<prefix>/objstore-owner.json`` if it is ``expected`` (If-Match on its
        ETag); True when replaced. Raises StoreDamaged, ServiceUnavailable, InternalError."""
        where = self._owner_where()
        replace = partial(s3_owner.replace_if, mark=mark, expected=expected, where=where)
        return self._call(f"rewriting {where}", replace)

    @staticmethod
    def _holds(store: S3Store, cid: ChunkId, key: str) -> bool:
        """Whether ``key`` holds the chunk's bytes, whole and right (a PUT is atomic, so a
        racing writer's object is either absent or whole here)."""
        try:
            got = obstore.get(store, key).bytes()
        except FileNotFoundError as exc:
            if missing_bucket(exc):
                raise
            return False
        return read_digest(memoryview(got)) == cid

    def delete(self, cid: ChunkId) -> None:
        """Remove a chunk if present. Raises ServiceUnavailable, InternalError."""
        key = self.key(cid)
        self._call(f"deleting chunk {cid.hex()}", lambda store: obstore.delete(store, key))

    # -- batches --------------------------------------------------------------------------

    def _each(self, fn: Callable[[T], Any], items: Iterable[T]) -> list[Any]:
        """``fn`` over ``items`` on the pool, at most ``concurrency`` at once; results in
        completion order. After a failure no new call starts (each would only wait out
        its own ``retry_time``); the running ones finish, then the first error is raised."""
        pool = self._executor()
        running: set[Future[Any]] = set()
        results: list[Any] = []
        errors: list[BaseException] = []

        def collect(done: Iterable[Future[Any]]) -> None:
            for fut in done:
                exc = fut.exception()
                if exc is not None:
                    errors.append(exc)
                else:
                    results.append(fut.result())

        for item in items:
            if len(running) >= self.concurrency:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                collect(done)
            if errors:
                break
            running.add(pool.submit(fn, item))
        collect(wait(running).done)
        if errors:
            raise errors[0]
        return results

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The subset of ``cids`` that is present (HEADs, ``concurrency`` at once)."""
        found = self._each(lambda c: c if self.has(c) else None, cids)
        return {c for c in found if c is not None}

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        """Store many chunks, ``concurrency`` PUTs at once; durable on return."""
        self._each(lambda item: self.put(*item), items)

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        """Remove many chunks: DeleteObjects of up to 1000 keys, several at once."""
        keys = [self.key(c) for c in cids]
        batches = [keys[i : i + _DELETE_BATCH] for i in range(0, len(keys), _DELETE_BATCH)]
        self._each(
            lambda batch: self._call(
                f"deleting {len(batch)} chunks", lambda store: obstore.delete(store, batch)
            ),
            batches,
        )

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        """Nothing to do: every ``put`` was durable when it returned."""

    durable_many = has_many  # likewise

    # -- maintenance ----------------------------------------------------------------------

    def iter_ids(self) -> Iterator[ChunkId]:
        """Every chunk id under the prefix, page by page; a failed page resumes where the
        listing stopped. Raises ServiceUnavailable, InternalError."""
        after: str | None = None
        pages: Iterator[Any] | None = None

        def page(store: S3Store) -> list[Any] | None:
            nonlocal pages
            if pages is None:
                pages = iter(
                    obstore.list(store, chunk_size=1000)
                    if after is None
                    else obstore.list(store, offset=after, chunk_size=1000)
                )
            try:
                return list(next(pages))
            except StopIteration:
                return None
            except BaseException:
                pages = None  # start a new listing after the last key seen
                raise

        while True:
            batch = self._call(f"listing chunks under {self.prefix!r}", page)
            if batch is None:
                return
            for meta in batch:
                after = str(meta["path"])
                cid = self._cid_of(after)
                if cid is not None:
                    yield cid

    def clean_tmp(self, older_than_ns: int) -> int:
        """0: PUTs are atomic and no multipart uploads are used, so nothing is half-written."""
        return 0

    def set_aside(self, cid: ChunkId) -> bool:
        """Copy the chunk to ``<prefix>/quarantine/<hex>.<ns>.<pid>.<n>``, then delete it.

        Returns whether it was there. Raises ServiceUnavailable, InternalError.
        """
        key = self.key(cid)
        with self._lock:
            self._counter += 1
            n = self._counter
        aside = f"{QUARANTINE}/{cid.hex()}.{time.time_ns()}.{os.getpid()}.{n}"

        def copy(store: S3Store) -> bool:
            try:
                obstore.copy(store, key, aside)
            except FileNotFoundError as exc:
                if missing_bucket(exc):
                    raise
                return False
            return True

        if not self._call(f"quarantining chunk {cid.hex()}", copy):
            return False
        self.delete(cid)
        return True

    def close(self) -> None:
        """Finish running transfers and drop the client."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._store_obj = None
        if pool is not None:
            pool.shutdown(wait=True)
