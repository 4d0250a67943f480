"""The LMDB :class:`~objstore.meta.base.MetadataStore` (the only module that imports lmdb).

LMDB gives one writer at a time across processes, readers that never block,
and no recovery step after a crash. Commits are durable (``sync=True``,
``metasync=True``) because a write is acknowledged only after its commit.

Failures are typed here, at the boundary: a damaged file is StoreDamaged
(checked against its header before it is mapped, see ``lmdb_header``), a full
disk is InsufficientStorage, use from a forked child is StoreClosed; no
``lmdb.Error`` leaves this module.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lmdb

from objstore.errors import (
    InsufficientStorage,
    InternalError,
    InvalidRequest,
    ObjstoreError,
    StoreClosed,
    StoreDamaged,
)
from objstore.meta.lmdb_header import HeaderError, check_data_file
from objstore.meta.lmdb_txn import ReadCache, ReadTxnView, WriteTxnView

# LMDB's own verdicts on a file that is not a sound environment.
_DAMAGED = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.InvalidError,
    lmdb.VersionMismatchError,
    lmdb.IncompatibleError,
    lmdb.BadRslotError,
    lmdb.PanicError,
)
_FULL_MESSAGES = (os.strerror(errno.ENOSPC), os.strerror(errno.EDQUOT))


def _nearly_full(where: str) -> bool:
    try:
        st = os.statvfs(where)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _FULL_BELOW


# LMDB reports a write cut short by a full disk as EIO ("which error code?" in
# mdb.c), so an I/O error on a filesystem with almost no space left is a full disk.
_FULL_BELOW = 1 << 20
_EIO_MESSAGE = os.strerror(errno.EIO)
# How often a writer clears the reader slots of dead processes (a scan of 512 slots).
READER_CHECK_EVERY_S = 1.0


def translate(exc: lmdb.Error, where: str) -> ObjstoreError:
    """The typed error for an LMDB failure (never let ``lmdb.Error`` escape)."""
    if (
        isinstance(exc, lmdb.MapFullError | lmdb.DiskError)
        or any(m in str(exc) for m in _FULL_MESSAGES)
        or (_EIO_MESSAGE in str(exc) and _nearly_full(where))
    ):
        return InsufficientStorage(f"no space left for the metadata at {where}: {exc}")
    if isinstance(exc, _DAMAGED):
        return StoreDamaged(f"the metadata at {where} is damaged: {exc}")
    return InternalError(f"metadata error at {where}: {exc}")


class _SharedEnv:
    """One LMDB environment and its writer lock, shared by every store on its files.

    LMDB forbids opening the same environment twice in one process (its POSIX
    locks are per process, so a second open would corrupt the lock table; py-lmdb
    refuses it). Two ``objstore.open`` calls on one path therefore share one
    environment, closed when the last of them closes.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.users = 1
        # Set just before the environment closes: py-lmdb then invalidates the read
        # transactions other threads still hold, and their failures mean StoreClosed.
        self.closed = False
        # LMDB write transactions belong to their thread; serialise writers of
        # this process here so a second thread waits instead of failing.
        self.write_lock = threading.Lock()
        # What readers of this process read, kept across this process's commits.
        self.cache = ReadCache()
        # When the reader table was last cleared of dead processes' slots (monotonic).
        self.readers_checked = time.monotonic()


# This process's id, kept current across fork() (os.getpid() is a system call, and
# every transaction checks it).
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))

# (pid, st_dev, st_ino) of an environment directory -> its shared environment.
# The pid keeps a forked child from inheriting its parent's handle.
_OPEN: dict[tuple[int, int, int], _SharedEnv] = {}
_OPEN_LOCK = threading.Lock()
# A thread may hold it at the fork; the child's copy must not stay locked for ever.
os.register_at_fork(after_in_child=_OPEN_LOCK._at_fork_reinit)  # type: ignore[attr-defined]


class _ReadScope:
    """One read transaction as a context manager (``LmdbMetadataStore.begin``).

    A class rather than a generator: a 4 KiB GET opens three of these, and the
    generator machinery cost more than the transaction itself."""

    __slots__ = ("_store", "_txn")

    def __init__(self, store: LmdbMetadataStore) -> None:
        self._store = store
        self._txn: Any = None

    def __enter__(self) -> ReadTxnView:
        store = self._store
        try:
            txn = self._txn = store._env.begin(write=False, buffers=False)
            snap = txn.id()
        except lmdb.Error as exc:
            self._end()
            raise store._failure(exc) from None
        cache = store._shared_env.cache
        if snap > cache.snap and not store._write_lock.locked():
            # Not this process's commit (its writers publish theirs before they
            # let go of the lock): another process's, unknown to the cache.
            cache.seen_commit(snap)
        return ReadTxnView(txn, cache, snap)

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._end()
        except lmdb.Error as failed:
            if exc is None:
                raise self._store._failure(failed) from None
        if isinstance(exc, lmdb.Error):
            raise self._store._failure(exc) from None

    def _end(self) -> None:
        txn, self._txn = self._txn, None
        if txn is not None:
            txn.abort()


class LmdbMetadataStore:
    """Metadata in one LMDB environment under ``path``.

    ``create=False`` refuses to start a new environment where none is (an
    existing store whose ``data.mdb`` is gone or empty must not reopen empty).
    Raises StoreDamaged when the data file is truncated or not LMDB's (checked
    before mapping it, so a short file cannot SIGBUS the process) or missing
    with ``create=False``, InternalError when LMDB cannot open it otherwise;
    StoreClosed on use after :meth:`close` or in a child forked after opening.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, map_size: int = 1 << 40, create: bool = True
    ) -> None:
        os.makedirs(path, mode=0o700, exist_ok=True)  # private, as the store's root
        self._where = os.fspath(path)
        st = os.stat(path)
        self._pid = os.getpid()
        self._id = (self._pid, st.st_dev, st.st_ino)
        with _OPEN_LOCK:
            shared = _OPEN.get(self._id)
            inherited = [pid for pid, dev, ino in _OPEN if (dev, ino) == self._id[1:]]
            if shared is not None:
                shared.users += 1
            elif inherited:
                # py-lmdb refuses a second environment on these files while the
                # parent's (inherited by fork) is open, and closing that one here
                # would free the parent's reader slots under its live readers.
                raise InvalidRequest(
                    f"the store at {path} was opened in process {inherited[0]} before "
                    "fork(); a forked child cannot open it again (start workers with "
                    "multiprocessing's 'spawn' or 'forkserver', or fork before opening)",
                    path=self._where,
                )
            else:
                data_file = os.path.join(self._where, "data.mdb")
                try:
                    found = check_data_file(data_file)
                except HeaderError as exc:
                    raise StoreDamaged(
                        f"the metadata file {data_file} is damaged ({exc}); refusing to open it",
                        path=data_file,
                    ) from None
                except OSError as exc:
                    raise InternalError(f"cannot read {data_file}: {exc}") from None
                if found is None and not create:
                    raise StoreDamaged(
                        f"the metadata file {data_file} is missing or empty, but this store "
                        "holds data; refusing to open it as a new, empty store",
                        path=data_file,
                    )
                try:
                    # map_size is address space, not disk: a sparse file grows as needed.
                    env = lmdb.open(
                        os.fspath(path),
                        map_size=map_size,
                        subdir=True,
                        sync=True,
                        metasync=True,
                        readahead=False,
                        max_readers=512,
                        max_dbs=0,
                    )
                    env.reader_check()
                except lmdb.Error as exc:
                    raise translate(exc, self._where) from None
                shared = _OPEN[self._id] = _SharedEnv(env)
        self._shared: _SharedEnv | None = shared
        self._env = shared.env
        self._write_lock = shared.write_lock
        self._shared_env = shared
        self.max_key_size: int = self._env.max_key_size()

    def _check(self) -> None:
        if self._shared is None:
            raise StoreClosed("the metadata store is closed")
        if _PID[0] != self._pid:
            # LMDB forbids using an environment in a forked child (its locks and
            # reader slots belong to the parent); the child must open its own.
            raise StoreClosed(
                f"the store was opened in process {self._pid}; after fork() open it "
                "again in the child"
            )

    def _failure(self, exc: lmdb.Error) -> ObjstoreError:
        # A read transaction that outlived the environment's close (close() waits for
        # writers only) fails with py-lmdb's "closed/deleted/dropped object": that is
        # the store closing under the call, not damage (review 10a, M1).
        if self._shared_env.closed:
            return StoreClosed("the metadata store was closed during this call")
        return translate(exc, self._where)

    def begin(self) -> _ReadScope:
        self._check()
        return _ReadScope(self)

    @contextmanager
    def begin_write(self) -> Iterator[WriteTxnView]:
        self._check()
        try:
            with self._write_lock:
                shared = self._shared_env
                if time.monotonic() - shared.readers_checked >= READER_CHECK_EVERY_S:
                    # A process killed inside a read transaction leaves its slot taken,
                    # and LMDB keeps every page that snapshot could see: the file grows
                    # for good (review rev11gen, M3). LMDB clears such slots only when
                    # asked; an environment opened once and kept open never asks.
                    shared.readers_checked = time.monotonic()
                    self._env.reader_check()
                with self._env.begin(write=True) as txn:
                    # Reads of keys it has not written see the last commit: the cache
                    # of that snapshot serves them.
                    snap = txn.id()
                    view = WriteTxnView(txn, self._shared_env.cache, snap - 1)
                    yield view
                # Committed as snapshot `snap`, which differs from the last one only by
                # what this transaction wrote: the cache drops that and keeps the rest.
                # The commit is durable already: a failure here must not tell the caller
                # its write failed (the cache then starts over empty).
                with contextlib.suppress(Exception):
                    view.publish(snap)
        except lmdb.Error as exc:
            # The transaction was aborted: nothing of it is visible.
            raise self._failure(exc) from None

    def close(self) -> None:
        """Release this handle; the environment closes with its last user."""
        with _OPEN_LOCK:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            if os.getpid() != self._pid:
                # Closing the parent's environment from a forked child is not
                # allowed either; the child's copy goes away with the child.
                return
            shared.users -= 1
            if shared.users == 0:
                # Not while another thread is inside a write transaction: py-lmdb 3.0's
                # close then waited for good for a writer mark that transaction's end,
                # on an environment already invalidated, never cleared (break-it review
                # 9h, M3: a close racing uploads on other threads hung 1 time in ~100).
                with shared.write_lock:
                    shared.closed = True
                    shared.env.close()
                # Listed until the environment is closed: a child forked meanwhile
                # inherits it open and must be told so (InvalidRequest), not reach
                # py-lmdb's "already open in this process" (review 10a, L1).
                if _OPEN.get(self._id) is shared:
                    del _OPEN[self._id]
