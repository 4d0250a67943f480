"""Pending chunk files and the syncs that make them durable (FileChunkStore's fsync half).

A ``put`` leaves its chunk *pending*: a temporary file, readable at once. A sync then
fsyncs every pending file (on a few threads, so that the journal commits of many files
are shared), renames each under its chunk id and fsyncs each chunk's directory and the
parents naming it. Only then is the chunk *durable* (:meth:`SyncQueue.durable`). Three rules, each
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

And from reviews 9n and 9o: a chunk whose fsync, rename or directory fsync failed in this
handle is *failed* (with the error, for the caller that needs it) until a later sync puts a
fresh copy in place or the chunk is deleted. A file under its name proves nothing then: it
may be a quarantined rotten copy the failed write was to replace (N8). A directory fsync
that failed is retried for the directories' sake, but the chunks renamed before it stay
failed: a retry may succeed without the entries on disk (N3, as M2 for file data). The
directories a failed directory fsync created are trusted on the retry; ext4 and XFS stop
the journal on such an error, so no later write lands anyway (9o, O3: left so). For the
same reason a chunk another sync renamed into the same directory before the failure, and
whose own later fsync of that directory succeeded, is trusted (review 10b, R1: left so; the
loss needs the failed fsync, a journal that did not stop, and a power cut).

A chunk being renamed over a name that already was durable stays durable: either inode
behind the name holds its bytes (9o, O6). Renames of one chunk by two syncs at once are
counted, so the first to finish does not settle the other's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections import Counter
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


def _interrupted(exc: BaseException) -> OSError:
    return OSError(errno.EIO, f"the sync stopped before its directories were fsynced ({exc!r})")


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
        # Renamed, their directory not fsynced yet: how many syncs are at it.
        self._unsettled: Counter[ChunkId] = Counter()
        self._failed: dict[ChunkId, OSError] = {}  # see the module docstring
        # Directories a failed sync left unsynced: the next sync fsyncs them again.
        self._new_dirs: set[str] = set()
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

    def deleted(self, cid: ChunkId) -> None:
        """``cid`` was deleted: a failure of an earlier copy is nobody's concern now."""
        with self._lock:
            self._failed.pop(cid, None)

    def durable(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The chunks of ``cids`` under their names with their directories fsynced."""
        # The files first: a sync marks a chunk unsettled before its name appears, so one
        # named by the time of the stat is seen unsettled below (review 9n, N1).
        named = {c for c in cids if os.path.isfile(self._final(c))}
        with self._lock:
            return {c for c in named if c not in self._unsettled and c not in self._failed}

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
        for cid in lost:
            with self._lock:
                earlier = self._failed.get(cid)
            if earlier is not None:  # failed in another sync (an early one, say: 9o, O5)
                raise storage_error(earlier, f"syncing chunk {cid.hex()}")
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
        marked: list[ChunkId] = []  # counted in _unsettled by this sync
        try:
            self._sync_chunks(mine, dirs, failures, renamed, marked)
        except BaseException as exc:
            ticket.failed = True
            # Named, but maybe not durably: the directory fsync failed (review 9n, N3) or
            # never ran (a close stopped the pool, an interrupt: 9p, P1).
            why = exc if isinstance(exc, OSError) else _interrupted(exc)
            with self._lock:
                self._new_dirs |= dirs  # grew in place with this sync's directories
                for cid in renamed:
                    self._failed[cid] = why
            raise
        else:
            with self._lock:
                for cid in renamed:
                    self._failed.pop(cid, None)  # a fresh copy, durable under its name
        finally:
            ticket.failed = ticket.failed or bool(failures)
            with self._lock:
                self._unsettled.subtract(marked)
                for cid in marked:
                    if self._unsettled[cid] <= 0:
                        del self._unsettled[cid]
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
        marked: list[ChunkId],
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
                self._forget(cid, tmp, exc)
            else:
                synced.append((cid, tmp))
        for cid, tmp in synced:
            with self._lock:
                durable_name = cid not in self._unsettled and cid not in self._failed
            if not (durable_name and os.path.isfile(self._final(cid))):
                marked.append(cid)  # first: an interrupt between the two leaks no count
                with self._lock:  # before the name appears: not durable until then
                    self._unsettled[cid] += 1
            try:
                self._place(cid, tmp, dirs)
            except OSError as exc:
                failures[cid] = exc
                self._forget(cid, tmp, exc)
                continue
            renamed.add(cid)
            with self._lock:
                if self.files.get(cid) == tmp:
                    del self.files[cid]
        # `dirs` holds each placed chunk's directory and its parents (see
        # FileChunkStore._dir), so this one pass makes every new name durable.
        for fut in [pool.submit(fsync_path, d) for d in dirs]:
            fut.result()

    def _forget(self, cid: ChunkId, tmp: str, exc: OSError) -> None:
        """Drop a temporary file a sync could not make durable: never fsynced again."""
        with self._lock:
            self._failed[cid] = exc
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
