"""``Store``: opens the backends, wires the layers, hands out clients."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from types import TracebackType

from objstore import keyspace
from objstore.authz import Authorizer, Identity
from objstore.blob.chunkstore import ChunkStore
from objstore.blob.files import FileChunkStore
from objstore.blob.locks import FileGcLock, GcLock, ThreadGcLock
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.store import BlobSettings, BlobStore, GcResult
from objstore.client import Client
from objstore.engine import AuditSink, Engine
from objstore.errors import InvalidArgument, StoreClosed
from objstore.identity.layer import IdentityLayer
from objstore.meta.base import MetadataStore
from objstore.meta.memory import MemoryMetadataStore
from objstore.ns.namespace import Limits, Namespace

_ACCOUNT_KEY = keyspace.CONFIG + b"account"


class Store:
    """An open object store. Use :func:`objstore.open`; close it (or use ``with``)."""

    def __init__(
        self,
        chunks: ChunkStore,
        meta: MetadataStore,
        *,
        lock: GcLock,
        path: str | None = None,
        authorizer: Authorizer | None = None,
        settings: BlobSettings | None = None,
        limits: Limits | None = None,
        clock: Callable[[], int] = time.time_ns,
        audit: AuditSink | None = None,
        account_id: str | None = None,
        secret_key: bytes | None = None,
    ) -> None:
        if account_id is not None and not (
            isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()
        ):
            raise InvalidArgument("account_id must be 12 digits")
        self.path = path
        self._chunks = chunks
        self._meta = meta
        self.blobs = BlobStore(chunks, meta, settings or BlobSettings(), lock)
        self.namespace = Namespace(meta, self.blobs, limits=limits, clock=clock)
        self.account_id = self._account(account_id)
        self.identity = IdentityLayer(
            meta,
            self.namespace,
            self.account_id,
            path=path,
            secret_key=secret_key,
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
            authenticate=self.identity.service.check_caller,
        )
        self.root = Client(self.engine, Identity.root(self.account_id))
        self._closed = False

    def _account(self, wanted: str | None) -> str:
        with self._meta.begin_write() as txn:
            raw = txn.get(_ACCOUNT_KEY)
            if raw is not None:
                return raw.decode()
            # Fixed at creation: bucket ownership and ARNs refer to it.
            account = wanted or "000000000000"
            txn.put(_ACCOUNT_KEY, account.encode())
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
        stops the client at its next request, in any process. ``source_ip`` and
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
        return Client(self.engine, identity)

    def client_for(self, identity: Identity) -> Client:
        """A client acting as ``identity``, for services that authenticate callers
        themselves (every call still goes through the authorizer)."""
        return Client(self.engine, identity)

    def gc(self, *, timeout: float | None = 60.0) -> GcResult:
        """Delete chunks no object references any more, and leftovers of crashed uploads."""
        return self.blobs.gc(timeout=timeout)

    def close(self) -> None:
        """Release the store; further calls fail."""
        if self._closed:
            return
        self._closed = True
        self.engine.closed = True
        self.identity.close()
        self.namespace.closed = True
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
    path: str | os.PathLike[str] | None,
    *,
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
) -> Store:
    """Open (creating if needed) the store at ``path``; ``None`` keeps it in memory.

    ``chunk_store`` / ``metadata_store`` plug in other backends. IAM decides every
    call unless ``authorizer`` is given. Credentials are sealed with ``secret_key``
    (32 bytes, e.g. from a secrets manager) or else with ``path/identity.key``,
    created with mode 0600 (pass ``secret_key`` with a persistent
    ``metadata_store`` and no ``path``). Raises
    InvalidArgument for bad settings or a path that cannot hold a store,
    InternalError when the metadata cannot be opened.
    """
    try:
        settings = BlobSettings(
            chunking=chunking,
            chunk_size=chunk_size or (4 << 20 if chunking == "fixed" else 1 << 20),
            inline_threshold=inline_threshold,
            etag_mode=etag_mode,
        )
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    lock: GcLock
    opened: list[ChunkStore | MetadataStore] = []  # closed again if opening fails
    try:
        if path is None:
            chunks: ChunkStore = chunk_store or MemoryChunkStore()
            meta: MetadataStore = metadata_store or MemoryMetadataStore()
            lock = ThreadGcLock()
            where = None
        else:
            where = os.fspath(path)
            os.makedirs(where, exist_ok=True)
            if chunk_store is None:
                chunk_store = FileChunkStore(os.path.join(where, "chunks"))
                opened.append(chunk_store)
            chunks = chunk_store
            if metadata_store is None:
                from objstore.meta.lmdb_store import LmdbMetadataStore

                metadata_store = LmdbMetadataStore(os.path.join(where, "meta"))
                opened.append(metadata_store)
            meta = metadata_store
            lock = FileGcLock(os.path.join(where, "gc.lock"))
        return Store(
            chunks,
            meta,
            lock=lock,
            path=where,
            authorizer=authorizer,
            settings=settings,
            limits=limits,
            clock=clock,
            audit=audit,
            account_id=account_id,
            secret_key=secret_key,
        )
    except BaseException as exc:
        # A half-opened store must not keep its files open (LMDB allows one
        # environment per process and path).
        for backend in reversed(opened):
            with contextlib.suppress(Exception):
                backend.close()
        if isinstance(exc, OSError):
            raise InvalidArgument(f"cannot open a store at {path!r}: {exc}") from None
        raise
