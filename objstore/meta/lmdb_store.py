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

import errno
import os
import threading
from collections.abc import Iterable, Iterator
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


_MISS = object()
# What one snapshot's cache may hold: enough for the hot records of many requests
# (bucket, policy, generation, small versions), bounded so it never grows with the store.
_CACHE_ENTRIES = 4096
_CACHE_BYTES = 8 << 20
_CACHE_VALUE_MAX = 64 << 10


class _SnapshotCache:
    """Values read in read transactions of one LMDB snapshot (one committed txn id).

    Every read transaction that sees the same snapshot sees the same bytes, so
    what one of them read serves the others without touching LMDB. That matters
    beyond the lookup itself: py-lmdb releases the GIL for every ``get`` and
    cursor step, and with several threads each release hands the GIL to another
    core and back (a futex wake and a context switch or two): four threads doing
    small GETs ran 2.4 x slower than one (docs/performance.md). A commit (in
    any process) starts a new snapshot, and with it a new, empty cache.
    """

    __slots__ = ("bytes", "firsts", "snap", "values")

    def __init__(self, snap: int) -> None:
        self.snap = snap
        self.values: dict[bytes, bytes | None] = {}
        # First item of a scan: (direction, start, stop) -> (key, value) or None.
        self.firsts: dict[tuple[bool, bytes, bytes | None], tuple[bytes, bytes] | None] = {}
        self.bytes = 0

    def room(self, size: int) -> bool:
        if size > _CACHE_VALUE_MAX:
            return False
        if len(self.values) + len(self.firsts) >= _CACHE_ENTRIES:
            return False
        if self.bytes + size > _CACHE_BYTES:
            return False
        self.bytes += size
        return True


class _LmdbTxn:
    def __init__(self, txn: Any, cache: _SnapshotCache | None = None) -> None:
        self._txn = txn
        self._cache = cache  # only for read transactions (a writer sees its own writes)

    def get(self, key: bytes) -> bytes | None:
        cache = self._cache
        if cache is not None:
            found = cache.values.get(key, _MISS)
            if found is not _MISS:
                return found  # type: ignore[return-value]
        value = self._txn.get(key)
        out = None if value is None else bytes(value)
        if cache is not None and cache.room(len(key) + (len(out) if out else 0)):
            cache.values[key] = out
        return out

    def scan(self, start: bytes, stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        return self._cached(False, start, stop)

    def scan_reverse(
        self, start: bytes, stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._cached(True, start, stop)

    def _cached(
        self, reverse: bool, start: bytes, stop: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        """A scan whose first item may come from the snapshot's cache (most scans on a
        request's path stop after it: the newest version of a key, a manifest seek)."""
        walk = self._walk_reverse if reverse else self._walk
        cache = self._cache
        if cache is None:
            yield from walk(start, stop)
            return
        ck = (reverse, start, stop)
        first = cache.firsts.get(ck, _MISS)
        if first is _MISS:
            items = walk(start, stop)
            got = next(items, None)
            if cache.room(len(start) + (len(got[0]) + len(got[1]) if got else 0)):
                cache.firsts[ck] = got
            if got is None:
                return
            yield got
            yield from items
            return
        if first is None:
            return
        yield first  # type: ignore[misc]
        # Asked for more: walk on from the first item's key (same snapshot, same keys).
        after = first[0]  # type: ignore[index]
        if reverse:
            yield from self._walk_reverse(start, after)
        else:
            for k, v in self._walk(after, stop):
                if k != after:
                    yield k, v

    def _walk(self, start: bytes, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        cur = self._txn.cursor()
        if not cur.set_range(start):
            return
        if stop is None:
            yield from cur.iternext(keys=True, values=True)
            return
        for key, value in cur.iternext(keys=True, values=True):
            if key >= stop:
                return
            yield key, value

    def _walk_reverse(self, start: bytes, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        cur = self._txn.cursor()
        if stop is None:
            positioned = cur.last()
        elif cur.set_range(stop):
            positioned = cur.prev()
        else:
            positioned = cur.last()
        if not positioned:
            return
        for key, value in cur.iterprev(keys=True, values=True):
            if key < start:
                return
            yield key, value

    def put(self, key: bytes, value: bytes) -> None:
        self._txn.put(key, value)

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        put = self._txn.put
        for key, value in items:
            put(key, value)

    def delete(self, key: bytes) -> bool:
        return bool(self._txn.delete(key))


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
        # LMDB write transactions belong to their thread; serialise writers of
        # this process here so a second thread waits instead of failing.
        self.write_lock = threading.Lock()
        # Reads of the newest snapshot seen so far (replaced, never mutated across
        # snapshots: a reader of an older snapshot simply reads without it).
        self.cache = _SnapshotCache(-1)


# (pid, st_dev, st_ino) of an environment directory -> its shared environment.
# The pid keeps a forked child from inheriting its parent's handle.
_OPEN: dict[tuple[int, int, int], _SharedEnv] = {}
_OPEN_LOCK = threading.Lock()
# A thread may hold it at the fork; the child's copy must not stay locked for ever.
os.register_at_fork(after_in_child=_OPEN_LOCK._at_fork_reinit)  # type: ignore[attr-defined]


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
        os.makedirs(path, exist_ok=True)
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
        if os.getpid() != self._pid:
            # LMDB forbids using an environment in a forked child (its locks and
            # reader slots belong to the parent); the child must open its own.
            raise StoreClosed(
                f"the store was opened in process {self._pid}; after fork() open it "
                "again in the child"
            )

    @contextmanager
    def begin(self) -> Iterator[_LmdbTxn]:
        self._check()
        try:
            with self._env.begin(write=False, buffers=False) as txn:
                yield _LmdbTxn(txn, self._snapshot_cache(txn.id()))
        except lmdb.Error as exc:
            raise translate(exc, self._where) from None

    def _snapshot_cache(self, snap: int) -> _SnapshotCache | None:
        shared = self._shared_env
        cache = shared.cache
        if cache.snap == snap:
            return cache
        if snap > cache.snap:
            cache = shared.cache = _SnapshotCache(snap)
            return cache
        return None  # an older snapshot than the cache's: read without

    @contextmanager
    def begin_write(self) -> Iterator[_LmdbTxn]:
        self._check()
        try:
            with self._write_lock, self._env.begin(write=True) as txn:
                yield _LmdbTxn(txn)
        except lmdb.Error as exc:
            # The transaction was aborted: nothing of it is visible.
            raise translate(exc, self._where) from None

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
                if _OPEN.get(self._id) is shared:
                    del _OPEN[self._id]
                shared.env.close()
