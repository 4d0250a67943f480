"""``Store``: opens the backends, wires the layers, hands out clients.

Opening checks the store's identity (``meta/marker.py``) so that damaged or
missing metadata is refused rather than replaced by an empty store, and every
option is type-checked (InvalidArgument, never a raw TypeError).

After ``os.fork()`` a store opened by the parent is unusable in the child: its
I/O threads do not exist there and LMDB forbids using the parent's environment.
The child's copy is therefore closed at the fork (``os.register_at_fork``) and
every call raises StoreClosed saying to open the store again; reopening it
transparently was rejected because the child would share the parent's open lock
file descriptions (unlocking one releases the parent's lock) and could be
holding half of a parent thread's operation.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import cast

from objstore import keyspace
from objstore.authz import Authorizer, Identity
from objstore.backends import urls
from objstore.blob import owner
from objstore.blob.chunkstore import ChunkStore
from objstore.blob.files import FileChunkStore
from objstore.blob.fsck import MAX_LISTED, FsckResult, fsck
from objstore.blob.gc import Background
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.records import SEG
from objstore.blob.store import BlobSettings, BlobStore, GcResult, GcSettings
from objstore.client import Client
from objstore.closing import Closing
from objstore.engine import AuditSink, Engine
from objstore.errors import InvalidArgument, StoreClosed, storage_error
from objstore.identity import storekey
from objstore.identity.layer import IdentityLayer
from objstore.meta import marker
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.memory import MemoryMetadataStore
from objstore.meta.scan import scan_prefix
from objstore.ns import stats
from objstore.ns.inline import inline_problem
from objstore.ns.namespace import Limits, Namespace
from objstore.ns.records import VersionRecord
from objstore.ns.uploads import PartRecord
from objstore.options import check_options

_ACCOUNT_KEY = keyspace.CONFIG + b"account"

# Every open store of this process, closed in a forked child (see the module docstring).
_LIVE: weakref.WeakSet[Store] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for store in list(_LIVE):
        store._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Store:
    """An open object store. Use :func:`objstore.open`; close it (or use ``with``)."""

    def __init__(
        self,
        chunks: ChunkStore,
        meta: MetadataStore,
        *,
        path: str | None = None,
        authorizer: Authorizer | None = None,
        settings: BlobSettings | None = None,
        limits: Limits | None = None,
        clock: Callable[[], int] = time.time_ns,
        audit: AuditSink | None = None,
        account_id: str | None = None,
        secret_key: bytes | None = None,
        gc: GcSettings | None = None,
        binding: owner.Binding | None = None,
    ) -> None:
        if account_id is not None and not (
            isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()
        ):
            raise InvalidArgument("account_id must be 12 digits")
        # First: a missing or wrong key must refuse before anything starts. Every node
        # of a store seals with the same key (see objstore/identity/storekey.py).
        key = storekey.resolve(
            meta,
            secret_key=secret_key,
            path=path,
            ephemeral=isinstance(meta, MemoryMetadataStore),
        )
        self.path = path
        # How the backends are named in reprs and messages (URLs redacted; set by open()).
        self.backends = (f"<{type(meta).__name__}>", f"<{type(chunks).__name__}>")
        self._chunks = chunks
        self._meta = meta
        #: How :func:`open` bound the chunk location (``.lost``: what a rebind's check
        #: found missing there and quarantined, when this open ran it).
        self.binding = binding or owner.Binding(None)
        self.blobs = BlobStore(
            chunks, meta, settings or BlobSettings(), gc=gc, clock=clock, bound=self.binding.record
        )
        self.namespace = Namespace(meta, self.blobs, limits=limits, clock=clock)
        self.account_id = self._account(account_id)
        self.identity = IdentityLayer(
            meta,
            self.namespace,
            self.account_id,
            secret_key=key,
            clock=clock,
            audit=audit,
        )
        self.engine = Engine(
            self.namespace,
            authorizer or self.identity.authorizer,
            audit=self.identity.audit,
            account=self.account_id,
            targets={"identity": self.identity.service},
            resolve_arn=self.identity.service.resource_arn,
            resource_tags=self.identity.service.resource_tags,
            resource_boundary=self.identity.service.resource_boundary,
            # The IAM authorizer re-checks credentials (and follows a renamed user) in
            # its own read; another authorizer gets that from the engine. Both get AWS's
            # fixed rules (what GetSessionToken credentials and the root may call).
            authenticate=self.identity.service.check_scope
            if authorizer is None
            else self.identity.service.check_caller,
        )
        self.root = Client(self.engine, Identity.root(self.account_id))
        self._closed = False
        self._closing = Closing()  # gc passes callers run, and the bounded close
        # Heartbeats and background gc passes (None when gc_interval is None).
        self._background = Background.start(self.blobs)
        self._pid = os.getpid()
        _LIVE.add(self)

    def __repr__(self) -> str:
        where = f"path={self.path!r}, " if self.path is not None else ""
        return f"<objstore.Store {where}metadata={self.backends[0]}, chunks={self.backends[1]}>"

    def _forked(self) -> None:
        """In a forked child: refuse every further call (runs in the at-fork hook)."""
        if self._closed:
            return
        self._closed = True
        reason = (
            f"the store was opened in process {self._pid}; after fork() open it again "
            "in the child (objstore.open)"
        )
        self.engine.closed = True
        self.engine.closed_reason = reason
        self.namespace.closed = True
        # The parent's I/O threads do not exist here: a body opened before the
        # fork must fail on its next read-ahead instead of waiting for them.
        io = self.blobs.io
        with contextlib.suppress(Exception):
            # A parent thread may have held the pool's lock at the fork.
            io._shutdown_lock._at_fork_reinit()  # type: ignore[attr-defined]
            io.shutdown(wait=False, cancel_futures=True)

    def _account(self, wanted: str | None) -> str:
        with self._meta.begin_write() as txn:
            raw = txn.get(_ACCOUNT_KEY)
            if raw is not None:
                stats.ensure_kept(txn)
                return raw.decode()
            # Fixed at creation: bucket ownership and ARNs refer to it.
            account = wanted or "000000000000"
            txn.put(_ACCOUNT_KEY, account.encode())
            stats.ensure_kept(txn)
            return account

    def client(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        *,
        source_ip: str | None = None,
        secure_transport: bool = True,
    ) -> Client:
        """A client for the holder of these credentials (same methods as :attr:`root`).

        The key is checked again before every call, so deactivating or deleting it
        stops the client at its next request, in any process; a user renamed or moved
        meanwhile keeps its keys, and the client acts as the renamed user. ``source_ip`` and
        ``secure_transport`` feed the ``aws:SourceIp`` / ``aws:SecureTransport``
        condition keys. Raises InvalidClientTokenId (unknown or inactive key),
        SignatureDoesNotMatch (wrong secret); nothing is written when it fails.
        """
        if self._closed:
            raise StoreClosed("the store is closed")
        identity = self.identity.authenticate(
            access_key_id,
            secret_access_key,
            session_token,
            source_ip=source_ip,
            secure_transport=secure_transport,
        )
        layer = self.identity

        def credentials() -> tuple[str, str, str | None]:
            # Looked up when a URL is presigned, not kept: see objstore/client_presign.py.
            secret, _ = layer.signing_credentials(access_key_id, session_token)
            return access_key_id, secret, session_token

        return Client(self.engine, identity, credentials)

    def sign_in(
        self,
        user_name: str,
        password: str,
        *,
        mfa_code: str | None = None,
        new_password: str | None = None,
        source_ip: str | None = None,
        secure_transport: bool = True,
    ) -> Client:
        """Console-style sign-in (``"root"`` for the account root) -> a client for 12 hours.

        With an MFA device enabled, a fresh ``mfa_code`` is required (and
        ``aws:MultiFactorAuthPresent`` is then true). An expired or reset-required
        password needs ``new_password``. Raises AccessDenied (wrong user or password,
        hard-expired password), InvalidAuthenticationCode, PasswordPolicyViolation.
        """
        if self._closed:
            raise StoreClosed("the store is closed")
        identity = self.identity.sign_in(
            user_name,
            password,
            mfa_code,
            new_password,
            source_ip=source_ip,
            secure_transport=secure_transport,
        )
        return Client(self.engine, identity)

    def client_for(self, identity: Identity) -> Client:
        """A client acting as ``identity``, for services that authenticate callers
        themselves (every call still goes through the authorizer)."""
        return Client(self.engine, identity)

    def gc(self, *, orphans: bool = True, timeout: float | None = None) -> GcResult:
        """Run one garbage collection pass now; see :mod:`objstore.blob.gc`.

        Drops deleted objects' bodies and crashed uploads, deletes chunks nothing
        references, and (``orphans``) chunk files no record names. Never waits
        for readers or writers: what they may still use is kept for a later pass.
        ``timeout`` is accepted for compatibility and ignored (gc never waits). A chunk
        that cannot be deleted is left for the next pass and counted in the result's
        ``chunks_failed`` (``failure`` says why). Raises StoreClosed after :meth:`close`,
        and when the store is closed during the pass (a close stops it at its next batch);
        ServiceUnavailable when a backend cannot be reached; StoreDamaged on a node the
        store was rebound away from (``accept_chunk_loss`` elsewhere): reopen it.
        """
        self._check_open()
        return self._closing.gc_pass(functools.partial(self._gc_pass, orphans))

    def _gc_pass(self, orphans: bool, stop: threading.Event) -> GcResult:
        # Uploads older than ``abort_incomplete_after`` go first, so their parts
        # are collected too.
        self.namespace.expire_uploads()
        return self.blobs.gc(orphans=orphans, stop=stop)

    def fsck(self, *, verify_data: bool = True, repair: bool = False) -> FsckResult:
        """Check every metadata reference and (``verify_data``) every chunk's hash.

        Changes nothing unless ``repair``: then chunks found missing or corrupt
        are quarantined (the next upload of their bytes rewrites them and heals
        every object that uses them) and the statistics counters are recounted.
        Raises StoreClosed after :meth:`close`, and when the store is closed meanwhile.
        """
        self._check_open()

        # Bodies kept in their version records have no chunk to check: each is checked
        # against its record's checksum in the same pass over the versions (nothing to
        # repair: it has no other copy).
        bad: list[str] = []

        def users(txn: ReadTxn) -> Counter[bytes]:
            # A body's holders: versions, multipart parts and composite segments.
            held: Counter[bytes] = Counter()
            for k, v in scan_prefix(txn, keyspace.VERSION):
                rec = VersionRecord.decode(v)
                if rec.data_id is not None:
                    held[rec.data_id] += 1
                elif verify_data and (problem := inline_problem(k, rec)) is not None:
                    bad.append(problem)
            held.update(PartRecord.decode(v).data_id for _, v in scan_prefix(txn, keyspace.PART))
            held.update(SEG.unpack(v)[0] for _, v in scan_prefix(txn, keyspace.SEGMENT))
            return held

        def recount(txn: WriteTxn) -> None:
            stats.rewrite(txn, stats.scan(txn))

        def run(stop: threading.Event) -> FsckResult:
            result = fsck(
                self.blobs,
                verify_data=verify_data,
                repair=repair,
                data_refs=users,
                recount=recount,
                stop=stop,
            )
            if not bad:
                return result
            room = max(0, MAX_LISTED - len(result.inconsistent))
            return replace(
                result,
                inconsistent=result.inconsistent + tuple(bad[:room]),
                inconsistencies=result.inconsistencies + len(bad),
            )

        return self._closing.counted(run, "fsck")

    def stats(self) -> stats.StoreStats:
        """Objects, versions, bytes and dedup ratio (counters: no scan).

        Raises StoreClosed after :meth:`close`.
        """
        self._check_open()
        with self._meta.begin() as txn:
            return stats.read(txn)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(self.engine.closed_reason)

    def close(self) -> None:
        """Release the store; further calls fail (StoreClosed), and a gc pass running on
        another thread stops at its next batch with StoreClosed. Returns within 30 s even
        if a backend hangs: the rest of the release then happens when it answers, and a
        lease never removed (the process exited first) expires after its ttl, holding gc
        back meanwhile (``objstore/closing.py``)."""
        if self._closed:
            return
        self._closed = True
        self.engine.closed = True
        self.namespace.closed = True
        self._closing.close(self._release)

    def _release(self) -> None:
        if self._background is not None:
            self._background.close()
        self.identity.close()
        self.blobs.close()
        self._chunks.close()
        self._meta.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    metadata: str | MetadataStore | None = None,
    chunks: str | ChunkStore | None = None,
    authorizer: Authorizer | None = None,
    etag_mode: str = "md5",
    chunking: str = "fixed",
    chunk_size: int | None = None,
    inline_threshold: int = 4096,
    limits: Limits | None = None,
    clock: Callable[[], int] = time.time_ns,
    audit: AuditSink | None = None,
    account_id: str | None = None,
    chunk_store: ChunkStore | None = None,
    metadata_store: MetadataStore | None = None,
    secret_key: bytes | None = None,
    gc_interval: float | None = 300.0,
    lease_ttl: float = 600.0,
    clock_skew: float | None = None,
    abort_incomplete_after: float | None = None,
    create: bool = True,
    accept_chunk_loss: bool = False,
) -> Store:
    """Open (creating if needed) a store: at ``path``, on the backends named by
    ``metadata`` / ``chunks``, or (neither) in memory.

    ``metadata`` is a URL (``postgresql://user@host:5432/db``, ``lmdb:///dir``,
    ``memory:``) or a MetadataStore; ``chunks`` a URL (``s3://bucket/prefix?endpoint=
    http://host:port&region=...``, ``file:///dir``, ``memory:``) or a ChunkStore
    (``metadata_store=`` / ``chunk_store=`` are the older names of the objects). What
    they do not name lives under ``path`` (``path/meta``, ``path/chunks``); several
    nodes share one store by opening the same two URLs, usually without a path.
    Credentials come from the environment (``PG*``, ``AWS_*``), never from logs: a URL
    is only ever shown redacted. See docs/scale-out.md.

    Credentials are sealed with one key, the same on every node: ``secret_key`` (32
    bytes), else ``path/identity.key``, else ``$OBJSTORE_SECRET_KEY`` (base64) or
    ``$OBJSTORE_SECRET_KEY_FILE``, else a new ``path/identity.key`` (mode 0600); a store
    with persistent metadata and no path refuses to open without one, and a key that
    is not the store's is refused (``objstore/identity/storekey.py``).

    ``gc_interval``: seconds between background garbage collection passes (None:
    only on demand, :meth:`Store.gc`); ``lease_ttl``: how long (seconds) a stalled
    upload or an idle open body stays protected from gc (see
    ``docs/architecture.md``); ``clock_skew``: the largest difference (seconds)
    between the clocks of the nodes sharing the store and the chunk store's
    timestamps (default 0.05 for a store of its own, 1.0 over shared metadata);
    ``clock`` (ns since the epoch) also times leases. ``abort_incomplete_after``
    (seconds) aborts multipart uploads initiated longer ago (checked when uploads are
    created or listed, and by :meth:`Store.gc`). ``create=False`` refuses to start a
    new store (InvalidArgument when the backends hold none). ``accept_chunk_loss=True``
    rebinds the store to the chunks given, accepting the recorded location's loss: every
    recorded chunk missing there is quarantined before the store is returned (listed in
    ``store.binding.lost``), and nodes still open on the old location are fenced (their
    commits naming chunks raise StoreDamaged).

    Raises InvalidArgument for bad settings (of the wrong type too), a malformed URL,
    a missing or wrong secret key, or a path that cannot hold a store; StoreDamaged
    when the store's metadata is missing, truncated or another store's, or empty
    beside existing chunks (it is never reopened as an empty store);
    InsufficientStorage when the disk is full; ServiceUnavailable when a backend
    cannot be reached; InternalError when the metadata cannot be opened otherwise.
    """
    meta_url, meta_obj = _backend_arg("metadata", metadata, metadata_store)
    chunks_url, chunks_obj = _backend_arg("chunks", chunks, chunk_store)
    check_options(
        path=path,
        authorizer=authorizer,
        etag_mode=etag_mode,
        chunking=chunking,
        chunk_size=chunk_size,
        inline_threshold=inline_threshold,
        limits=limits,
        clock=clock,
        audit=audit,
        chunk_store=chunks_obj,
        metadata_store=meta_obj,
    )
    metadata_store = cast(MetadataStore | None, meta_obj)
    chunk_store = cast(ChunkStore | None, chunks_obj)
    shared = (meta_url is not None and meta_url.persistent) or (
        metadata_store is not None and not isinstance(metadata_store, MemoryMetadataStore)
    )
    # With a path and no metadata= the metadata is LMDB under it: persistent too.
    persistent_meta = shared or (path is not None and meta_url is None and metadata_store is None)
    if (persistent_meta and chunks_url is not None and not chunks_url.persistent) or (
        shared and path is None and chunk_store is None and chunks_url is None
    ):
        raise InvalidArgument(
            "persistent metadata needs persistent chunks (chunks= a URL or a ChunkStore): "
            "chunks kept in memory would vanish under the records that name them",
            argument="chunks",
        )
    try:
        settings = BlobSettings(
            chunking=chunking,
            chunk_size=chunk_size or (4 << 20 if chunking == "fixed" else 1 << 20),
            inline_threshold=inline_threshold,
            etag_mode=etag_mode,
        )
        if isinstance(gc_interval, bool) or isinstance(lease_ttl, bool):
            raise ValueError("gc_interval and lease_ttl are numbers of seconds")
        if clock_skew is None:
            clock_skew = 1.0 if shared else 0.05
        elif isinstance(clock_skew, bool) or not isinstance(clock_skew, int | float):
            raise ValueError("clock_skew is a number of seconds")
        gc = GcSettings(lease_ttl=lease_ttl, interval=gc_interval, clock_skew=clock_skew)
        if abort_incomplete_after is not None:
            if (
                not isinstance(abort_incomplete_after, int | float)
                or isinstance(abort_incomplete_after, bool)
                or not abort_incomplete_after >= 0
            ):
                raise ValueError("abort_incomplete_after must be a number of seconds >= 0")
            limits = replace(limits or Limits(), abort_incomplete_after=abort_incomplete_after)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(str(exc)) from None
    opened: list[ChunkStore | MetadataStore] = []  # closed again if opening fails
    try:
        # Absolute: the store must not follow a later chdir of its host program.
        where = None if path is None else os.path.abspath(os.fspath(path))
        found = None
        if where is not None:
            marker.make_root(where)
            found = marker.read_marker(where)
        if chunk_store is None:
            if chunks_url is not None:
                chunk_store = urls.open_chunks(chunks_url)
            elif where is not None:
                chunk_store = FileChunkStore(os.path.join(where, "chunks"))
            else:
                chunk_store = MemoryChunkStore()
            opened.append(chunk_store)
        chunk_backend = chunk_store
        if metadata_store is None:
            if meta_url is not None:
                metadata_store = urls.open_metadata(meta_url)
            elif where is not None:
                from objstore.meta.lmdb_store import LmdbMetadataStore

                # A store that has a marker already exists: its metadata must too.
                metadata_store = LmdbMetadataStore(
                    os.path.join(where, "meta"), create=found is None
                )
            else:
                metadata_store = MemoryMetadataStore()
            opened.append(metadata_store)
        meta = metadata_store
        # Listed at most once per open: adoption and the identity's check both ask.
        listed = functools.cache(lambda: any(True for _ in chunk_backend.iter_ids()))
        ident = marker.establish(
            where,
            meta,
            found,
            has_chunks=listed,
            where=where or _shown(meta_url, meta),
            create=create,
        )
        named = any(x is not None for x in (meta_url, meta_obj, chunks_url, chunks_obj))
        binding = owner.bind_store(
            meta,
            ident,
            chunk_backend,
            has_chunks=listed,
            own_dir=lambda: owner.own_chunk_dir(where, named=named),
            rebind=accept_chunk_loss,
            where=chunks_url.shown
            if chunks_url is not None
            else str(getattr(chunk_backend, "root", None) or repr(chunk_backend)),
        )
        store = Store(
            chunk_backend,
            meta,
            path=where,
            authorizer=authorizer,
            settings=settings,
            limits=limits,
            clock=clock,
            audit=audit,
            account_id=account_id,
            secret_key=secret_key,
            gc=gc,
            binding=binding,
        )
        store.backends = (_shown(meta_url, meta), _shown(chunks_url, chunk_backend))
        return store
    except BaseException as exc:
        # A half-opened store must not keep its files open (LMDB allows one
        # environment per process and path).
        for backend in reversed(opened):
            with contextlib.suppress(Exception):
                backend.close()
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise storage_error(exc, f"to open a store at {path!r}") from None
            raise InvalidArgument(f"cannot open a store at {path!r}: {exc}") from None
        raise


def _backend_arg(
    role: urls.Role, value: object, older: object
) -> tuple[urls.BackendUrl | None, object]:
    """``metadata=`` / ``chunks=`` beside the older ``metadata_store=`` /
    ``chunk_store=``: (the parsed URL, or None; the backend object given, or None)."""
    if value is None:
        return None, older
    if older is not None:
        name = "metadata_store" if role == "metadata" else "chunk_store"
        raise InvalidArgument(f"give {role}= or {name}=, not both", argument=role)
    if not isinstance(value, str):
        return None, value
    if role == "metadata":
        return urls.parse_metadata_url(value), None
    return urls.parse_chunks_url(value), None


def _shown(url: urls.BackendUrl | None, backend: object) -> str:
    """How a backend is named in messages and reprs (never with a secret)."""
    return url.shown if url is not None else f"<{type(backend).__name__}>"
