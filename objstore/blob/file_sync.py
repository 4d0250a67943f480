"""Pending chunk files and the syncs that make them durable (FileChunkStore's fsync half).

A ``put`` leaves its chunk *pending*: a temporary file, readable at once. A sync then
fsyncs every pending file (on a few threads, so that the journal commits of many files
are shared), renames each under its chunk id and fsyncs every directory that gained an
entry. Only then is the chunk *durable* (:meth:`SyncQueue.durable`). Three rules, each
from break-it review 9l:

- A temporary file whose fsync failed is thrown away, never fsynced again. Linux reports
  a writeback error once: a second fsync of the same file can succeed with its bytes
  lost (M2). Its chunk must be put again, from a caller's own bytes.
- A chunk that cannot be put in place (its file gone, a file where its directory
  belongs) is forgotten the same way, so it does not fail every later sync of the
  handle (M1).
- A caller names the chunks it needs (``sync(cids)``) and is told when one of them is
  not durable afterwards. That covers a chunk it did not write itself because another
  caller's temporary file for the same bytes was pending, when that caller's sync failed.
  Only a chunk under its name, renamed by a sync whose directory fsync completed, counts
  as durable: never a pending file (H1).

And from review 9n: a chunk whose put, fsync, rename or directory fsync failed in this
handle is *failed* until a later sync puts a fresh copy in place. A file under its name
proves nothing then: it may be a quarantined rotten copy the failed write was to replace
(N8), or another process's copy whose name is not durable yet. A directory fsync that
failed is retried for the directories' sake, but the chunks renamed before it stay
failed: a retry may succeed without the entries on disk (N3, as M2 for file data).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor

from objstore.blob.chunkstore import ChunkId
from objstore.errors import InternalError, StoreClosed, storage_error

# fsync is blocking I/O (no CPU): more threads than cores let the filesystem
# fold many files' journal commits into one.
_SYNC_THREADS = 8

#: Puts the synced temporary file of a chunk under its name; the directories that gained
#: an entry go to the set. Raises OSError.
Place = Callable[[ChunkId, str, set[str]], None]


def fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _SyncTicket:
    """One running sync; later syncs wait for it."""

    __slots__ = ("done", "failed")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.failed = False


class SyncQueue:
    """The pending chunks of one FileChunkStore and the syncs of them."""

    def __init__(self, final_path: Callable[[ChunkId], str], place: Place) -> None:
        self._final = final_path
        self._place = place
        self._lock = threading.Lock()
        self.files: dict[ChunkId, str] = {}  # pending: chunk id -> its temporary file
        self._syncing: set[ChunkId] = set()  # pending chunks a running sync has taken
        self._unsettled: set[ChunkId] = set()  # renamed; their directory not fsynced yet
        self._failed: set[ChunkId] = set()  # see the module docstring
        # Directories a failed sync left unsynced: the next sync fsyncs them again.
        self._new_dirs: set[str] = set()
        #: Called with the directories a sync fsynced, once all of them were.
        self.settled: Callable[[set[str]], None] = lambda dirs: None
        self._tickets: list[_SyncTicket] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._closed = False

    def __contains__(self, cid: object) -> bool:
        return cid in self.files

    def add(self, cid: ChunkId, tmp: str) -> bool:
        """Make ``tmp`` the pending file of ``cid``; False when it already has one."""
        with self._lock:
            if cid in self.files:
                return False
            self.files[cid] = tmp
            return True

    def take_back(self, cid: ChunkId) -> str | None:
        """Forget the pending file of a deleted chunk (its path, for the caller to remove);
        None when there is none, or a sync is moving it into place."""
        with self._lock:
            return self.files.pop(cid, None) if cid not in self._syncing else None

    def failed(self, cid: ChunkId) -> None:
        """A put of ``cid`` failed: not durable until a sync places a fresh copy."""
        with self._lock:
            self._failed.add(cid)

    def durable(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The chunks of ``cids`` under their names with their directories fsynced."""
        # The files first: a sync marks a chunk unsettled before its name appears, so one
        # named by the time of the stat is seen unsettled below (review 9n, N1).
        named = {c for c in cids if os.path.isfile(self._final(c))}
        with self._lock:
            return named - self._unsettled - self._failed

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        """Make every pending chunk durable, as far as each can be.

        Raises, for the first chunk of ``cids`` that is not durable afterwards,
        InsufficientStorage (a full disk or quota) or InternalError; with no ``cids``,
        for the first chunk this sync or an earlier running one could not make durable.
        StoreClosed when the store was closed. A directory fsync that fails fails the
        whole sync (the next one fsyncs those directories again).
        """
        try:
            failures, earlier_failed = self._sync()
        except OSError as exc:
            raise storage_error(exc, "syncing chunks") from exc
        except RuntimeError as exc:  # its fsync threads were stopped by a close meanwhile
            raise StoreClosed("the chunk store was closed during a sync") from exc
        if not cids:
            for cid, failure in failures.items():
                raise storage_error(failure, f"syncing chunk {cid.hex()}")
            if earlier_failed:
                raise InternalError("an earlier sync of the same chunks failed")
            return
        for cid in cids:
            if cid in failures:  # even with a copy under its name (review 9n, N8)
                raise storage_error(failures[cid], f"syncing chunk {cid.hex()}")
        lost = set(cids) - self.durable(cids)
        if lost:
            cid = next(iter(lost))
            raise InternalError(
                f"chunk {cid.hex()} is not durable: the sync of its temporary file (another"
                " upload's, of the same bytes) failed, or it was deleted meanwhile"
            )

    def _sync(self) -> tuple[dict[ChunkId, OSError], bool]:
        with self._lock:
            mine = [(c, t) for c, t in self.files.items() if c not in self._syncing]
            self._syncing.update(c for c, _ in mine)
            dirs, self._new_dirs = self._new_dirs, set()
            earlier = list(self._tickets)  # they hold chunks put before this call too
            ticket = _SyncTicket()
            self._tickets.append(ticket)
        failures: dict[ChunkId, OSError] = {}
        renamed: set[ChunkId] = set()
        try:
            self._sync_chunks(mine, dirs, failures, renamed)
        except BaseException:
            ticket.failed = True
            with self._lock:
                self._new_dirs |= dirs  # grew in place with this sync's directories
                self._unsettled -= renamed
                self._failed |= renamed  # named, but maybe not durably (review 9n, N3)
            raise
        else:
            with self._lock:
                self._unsettled -= renamed
                self._failed -= renamed  # a fresh copy, durable under its name
            self.settled(dirs)
        finally:
            ticket.failed = ticket.failed or bool(failures)
            with self._lock:
                self._syncing.difference_update(c for c, _ in mine)
                self._tickets.remove(ticket)
            ticket.done.set()
        earlier_failed = False
        for other in earlier:
            other.done.wait()
            earlier_failed = earlier_failed or other.failed
        return failures, earlier_failed

    def _sync_chunks(
        self,
        mine: list[tuple[ChunkId, str]],
        dirs: set[str],
        failures: dict[ChunkId, OSError],
        renamed: set[ChunkId],
    ) -> None:
        if not mine and not dirs:
            return
        pool = self._sync_pool()
        # Bytes first: a name must never point at data that is not durable.
        synced: list[tuple[ChunkId, str]] = []
        for (cid, tmp), fut in [(m, pool.submit(fsync_path, m[1])) for m in mine]:
            try:
                fut.result()
            except OSError as exc:
                failures[cid] = exc
                self._forget(cid, tmp)
            else:
                synced.append((cid, tmp))
        for cid, tmp in synced:
            with self._lock:
                self._unsettled.add(cid)  # before the name appears: not durable until then
            try:
                self._place(cid, tmp, dirs)
            except OSError as exc:
                failures[cid] = exc
                self._forget(cid, tmp)
                with self._lock:
                    self._unsettled.discard(cid)
                continue
            renamed.add(cid)
            with self._lock:
                if self.files.get(cid) == tmp:
                    del self.files[cid]
        # `dirs` holds every directory that gained an entry (a chunk or a new
        # subdirectory), so this one pass makes every new name durable.
        for fut in [pool.submit(fsync_path, d) for d in dirs]:
            fut.result()

    def _forget(self, cid: ChunkId, tmp: str) -> None:
        """Drop a temporary file a sync could not make durable: never fsynced again."""
        with self._lock:
            self._failed.add(cid)
            if self.files.get(cid) == tmp:
                del self.files[cid]
        with contextlib.suppress(OSError):
            os.unlink(tmp)

    def _sync_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise StoreClosed("the chunk store is closed")
            if self._pool is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._pool = ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="objstore-fsync")
            return self._pool

    def close(self) -> None:
        """Stop the sync threads; a later sync raises StoreClosed (review 9k, L1)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
