"""Chunks as files: ``<root>/ab/cd/<64 hex digits>``.

One file per chunk keeps deletion trivial and maps one-to-one onto an
S3-compatible backend later.

Durability covers only the store's own files (never ``syncfs``, which would
flush every other process's dirty pages on the filesystem too and make each
PUT wait for them). A ``put`` writes the chunk to a temporary file and starts
its writeback (``sync_file_range``) without waiting; the chunk is *pending*.
:meth:`FileChunkStore.sync` then, for every pending chunk at once, ``fsync``\\ s
the temporary file (on a small pool of threads, so the journal commits of
many files are shared), renames it to its final name, and ``fsync``\\ s each
directory whose entries changed. So a chunk file appears under its final
name only when its bytes are whole *and* durable, and a crash can never
leave garbage under a chunk id. Until then the chunk is read from its
temporary file, so ``get``/``has`` see it at once in this process. The pending files
and their syncs are :mod:`objstore.blob.file_sync`'s.
docs/performance.md compares this with ``syncfs`` and with pack files.

A chunk in a page-aligned buffer (a streamed upload's window, see
:func:`objstore.blob.source.new_buffer`) is written with ``O_DIRECT``: its whole
blocks go from the buffer to the device, with no copy into the page cache (the
largest CPU cost of a PUT after MD5), and its tail, if any, through the page
cache. Such chunks are not in the page cache afterwards: the first read of a
just-uploaded object comes from the device.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import stat
import threading
from collections.abc import Callable, Collection, Iterable, Iterator

from objstore.blob.chunkstore import (
    MAX_OWNER_BYTES,
    OWNER_NAME,
    ChunkId,
    ChunkMissing,
    OwnerMark,
    decode_owner,
    encode_owner,
)
from objstore.blob.file_sync import SyncQueue, fsync_path
from objstore.errors import (
    InternalError,
    ObjstoreError,
    StoreDamaged,
    storage_error,
)

_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name, use_errno=True) if _libc_name else None
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
_SYNC_FILE_RANGE_WRITE = 2

_HEX = re.compile(r"[0-9a-f]+")
# The names of this class's temporary files in ``chunks/tmp``: a chunk being written
# (``<pid>.<tag>.<thread>.<n>``, before the tag existed ``<pid>.<thread>.<n>``) and an
# owner mark being claimed (``owner.<tag>.<pid>.<thread>``). clean_tmp removes only
# these: anything else there (a store nested inside by mistake, a user's file) is not ours.
_TMP_NAME = re.compile(r"\d+\.(?:[0-9a-f]{12}\.)?\d+\.\d+|owner\.[0-9a-f]{12}\.\d+\.\d+")


def _subdirs(parent: str, width: int) -> list[str]:
    """The directories directly in ``parent`` whose names are ``width`` hex digits, sorted."""
    with os.scandir(parent) as entries:
        return sorted(
            e.path
            for e in entries
            if len(e.name) == width and _HEX.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
        )


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        written = os.write(fd, view)
        view = view[written:]


# O_DIRECT wants the buffer's address, the file offset and the length in multiples of
# the device's logical block (512 or 4096 bytes): 4096 covers both.
_BLOCK = 4096
_O_DIRECT = getattr(os, "O_DIRECT", 0)


def _direct_ok(view: memoryview) -> bool:
    """Whether ``view`` can start an O_DIRECT write: a writable buffer at least a block
    long starting on a block boundary (a read-only one, like a ``bytes`` body, cannot
    tell its address here and is written through the page cache)."""
    if view.readonly or len(view) < _BLOCK:
        return False
    try:
        address = ctypes.addressof(ctypes.c_char.from_buffer(view))
    except (TypeError, ValueError):
        return False
    return address % _BLOCK == 0


def _write_direct(fd: int, view: memoryview) -> bool:
    """Write ``view`` to the O_DIRECT ``fd`` from offset 0: its whole blocks straight
    from the buffer to the device, then the rest through the page cache. False, with
    nothing written, when the file system refuses O_DIRECT writes."""
    whole = len(view) - len(view) % _BLOCK
    done = 0
    while done < whole:
        try:
            written = os.write(fd, view[done:whole])
        except OSError as exc:
            if exc.errno == errno.EINVAL and done == 0:
                return False
            raise
        done += written
        if written % _BLOCK:
            break  # a short write off a block boundary: finish through the page cache
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_DIRECT)
    _write_all(fd, view[done:])
    return True


#: Free space (bytes) a chunk write leaves on the file system for everything else, at most
#: an eighth of it: the metadata must still grow for a failed upload's records and gc's
#: marks, or a full disk wedges the store (break-it review 9l, M3: gc's first write failed
#: forever).
RESERVE_BYTES = 64 << 20


class FileChunkStore:
    """A directory of chunk files. A chunk write that would leave less than
    ``reserve_bytes`` (at most an eighth of the file system) free is refused
    (InsufficientStorage)."""

    def __init__(self, root: str | os.PathLike[str], *, reserve_bytes: int = RESERVE_BYTES) -> None:
        # Absolute: a relative root would follow the process's working directory, and a
        # chdir after opening would point gc at another directory's chunks.
        self.root = os.path.abspath(os.fspath(root))
        os.makedirs(self.root, mode=0o700, exist_ok=True)  # objects' bytes: owner only
        self._tmp = os.path.join(self.root, "tmp")
        os.makedirs(self._tmp, exist_ok=True)
        self._made: set[str] = set()
        self._reserve = reserve_bytes
        self._lock = threading.Lock()
        self._counter = 0
        self._pid = os.getpid()
        # In temporary and quarantine names: processes on other hosts sharing the
        # directory (a network file system) have the same pids and thread ids.
        self._tag = os.urandom(6).hex()
        # Written but not yet synced: chunk id -> its temporary file, and their syncs.
        self._q = SyncQueue(self._path, self._place)
        # Chunks in page-aligned buffers (a streamed upload's windows) are written with
        # O_DIRECT: the device reads them from the buffer, where a buffered write first
        # copies them into the page cache (0.3 core-s/GiB on a quiet machine, up to 2.8
        # when the kernel must reclaim memory for it first; docs/performance.md). Off
        # once the file system refuses it.
        self._direct = _O_DIRECT != 0

    def _path(self, cid: ChunkId) -> str:
        h = cid.hex()
        return os.path.join(self.root, h[:2], h[2:4], h)

    def _dir(self, cid: ChunkId, changed: set[str]) -> str:
        """The chunk's directory (made if missing). Its parents go to ``changed`` (to be
        fsynced) always, not only when this call made the directory: another sync or
        process may have made it and not yet fsynced the parent that names it, and then
        the chunk's name would not be durable (reviews 9n N5, 9o O1/O4). A parent nobody
        changed costs its fsync next to nothing."""
        h = cid.hex()
        d = os.path.join(self.root, h[:2], h[2:4])
        top = os.path.dirname(d)
        if d not in self._made:
            if not os.path.isdir(top):
                self._clear_way(top)
                os.makedirs(top, exist_ok=True)
            if not os.path.isdir(d):
                self._clear_way(d)
                os.makedirs(d, exist_ok=True)
            self._made.add(d)
        changed.update((self.root, top))
        return d

    def _clear_way(self, path: str) -> None:
        """Move a file (or symlink) standing where a chunk directory belongs into
        quarantine/: no chunk of that directory could be stored otherwise (review 9l, M1).
        Nothing of the store's is ever there: chunk files are three levels down.

        A directory is never moved: another process may have made it since our look, and it
        holds chunks (the multi-node gc test caught a rename doing just that). Hence a hard
        link and an unlink, which both refuse a directory, instead of a rename."""
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                return  # made meanwhile
        except FileNotFoundError:
            return  # the usual case: a directory to make
        try:
            os.link(path, self._aside(os.path.basename(path)), follow_symlinks=False)
            os.unlink(path)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return  # gone, or a directory now: nothing to clear

    def read_owner(self) -> OwnerMark | None:
        """The mark in ``<root>/objstore-owner.json``; None when there is no such file.
        Raises StoreDamaged when it is unreadable."""
        path = os.path.join(self.root, OWNER_NAME)
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_OWNER_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:  # a directory, a symlink loop, no permission ...
            raise StoreDamaged(f"the owner mark {path} cannot be read: {exc.strerror}") from None
        return decode_owner(raw, path)

    def claim_owner(self, mark: OwnerMark) -> OwnerMark:
        """Write ``<root>/objstore-owner.json`` unless it exists: a whole, synced temporary
        file is hard-linked to the name, which fails if a racing claim got there first."""
        path = os.path.join(self.root, OWNER_NAME)

        def link(tmp: str) -> None:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return
            fsync_path(self.root)

        self._install_owner(mark, link, "marking the chunk directory")
        owner = self.read_owner()
        if owner is None:  # removed between the link and the look: nobody owns it now
            raise StoreDamaged(f"{path} vanished while the store was being opened")
        return owner

    def rewrite_owner(self, mark: OwnerMark, expected: OwnerMark) -> bool:
        """Replace ``<root>/objstore-owner.json`` by a whole, synced file (a rename) if it
        is ``expected``: compared and renamed under an exclusive ``flock`` of the
        directory, which every rewrite takes, so of rewrites racing from processes on
        this host none replaces a mark another wrote after it looked. (A claim needs no
        lock: it only ever creates the name, and a rewrite only replaces it. Over a
        network file system the lock is only as good as its ``flock``.)"""
        done = False

        def rename(tmp: str) -> None:
            nonlocal done
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if self.read_owner() == expected:
                    os.replace(tmp, os.path.join(self.root, OWNER_NAME))
                    os.fsync(fd)
                    done = True
            finally:
                os.close(fd)  # releases the lock

        self._install_owner(mark, rename, "rewriting the mark of the chunk directory")
        return done

    def _install_owner(self, mark: OwnerMark, install: Callable[[str], None], doing: str) -> None:
        """Write ``mark`` to a whole, synced temporary file, then ``install`` it (given its
        path) as the mark; the temporary name is removed in any case."""
        tmp = os.path.join(self._tmp, f"owner.{self._tag}.{os.getpid()}.{threading.get_ident()}")
        try:
            with open(tmp, "wb") as f:
                f.write(encode_owner(mark))
                f.flush()
                os.fsync(f.fileno())
            install(tmp)
        except OSError as exc:
            raise storage_error(exc, f"{doing} {self.root}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def has(self, cid: ChunkId) -> bool:
        return cid in self._q or os.path.exists(self._path(cid))

    def get(self, cid: ChunkId) -> bytes:
        """The chunk's bytes. Raises ChunkMissing, InternalError when it cannot be read
        (no permission, a directory in its place, an I/O error)."""
        tmp = self._q.files.get(cid)
        for path in (tmp, self._path(cid)) if tmp is not None else (self._path(cid),):
            try:
                with open(path, "rb", buffering=0) as f:
                    return f.read()
            except FileNotFoundError:
                continue  # a sync renamed the temporary file meanwhile: read the final one
            except OSError as exc:
                raise storage_error(exc, f"reading chunk {cid.hex()}") from None
        raise ChunkMissing(cid.hex())

    def prefetch(self, cid: ChunkId) -> None:
        """A hint that ``cid`` will be read soon: the kernel starts reading it into the
        page cache (a no-op when it is there; errors are left for the read to meet)."""
        tmp = self._q.files.get(cid)
        try:
            fd = os.open(tmp if tmp is not None else self._path(cid), os.O_RDONLY)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)

    def get_into(self, cid: ChunkId, buf: memoryview) -> int:
        """Read the chunk into ``buf``; the number of bytes read (at most ``len(buf)``).

        Raises ChunkMissing, InternalError as :meth:`get`. Pass a buffer one byte
        longer than the expected length to notice a chunk that is too long. Reusing
        buffers spares a fresh allocation (and its page faults) per chunk.
        """
        tmp = self._q.files.get(cid)
        for path in (tmp, self._path(cid)) if tmp is not None else (self._path(cid),):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise storage_error(exc, f"reading chunk {cid.hex()}") from None
            try:
                n = 0
                while n < len(buf):
                    got = os.readv(fd, [buf[n:]])
                    if not got:
                        break
                    n += got
                return n
            except OSError as exc:
                raise storage_error(exc, f"reading chunk {cid.hex()}") from None
            finally:
                os.close(fd)
        raise ChunkMissing(cid.hex())

    def put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        """Write a chunk (durable at the next :meth:`sync`). A full disk is
        InsufficientStorage, another OS failure InternalError; no temporary
        file is left behind either way."""
        try:
            self._put(cid, data)
        except OSError as exc:
            raise storage_error(exc, f"writing chunk {cid.hex()}") from exc

    def _put(self, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
        if cid in self._q:
            return  # already written whole, waiting for the next sync
        view = memoryview(data).cast("B")
        if self._reserve:
            fs = os.statvfs(self._tmp)
            reserve = min(self._reserve, fs.f_blocks * fs.f_frsize // 8)
            if fs.f_bavail * fs.f_frsize < len(view) + reserve:
                raise OSError(errno.ENOSPC, "the space kept for the metadata would be used")
        with self._lock:
            self._counter += 1
            n = self._counter
        tmp = os.path.join(self._tmp, f"{self._pid}.{self._tag}.{threading.get_ident()}.{n}")
        direct = self._direct and _direct_ok(view)
        # O_EXCL: never write into a file someone else is writing (renamed under a chunk
        # id, its bytes would be a mix).
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(tmp, flags | (_O_DIRECT if direct else 0), 0o644)
        except OSError as exc:
            if not direct or exc.errno != errno.EINVAL:
                raise
            # The file system refuses O_DIRECT (it may have created the file first).
            self._direct = direct = False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            fd = os.open(tmp, flags, 0o644)
        try:
            if not direct or not _write_direct(fd, view):
                if direct:  # refused by the file system (tmpfs, some network ones)
                    self._direct = False
                    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_DIRECT)
                _write_all(fd, view)
            if _sync_file_range is not None:
                # Start writeback now (it does not wait): the batch's fsync then
                # finds little left to flush, and disk and CPU overlap.
                _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        if not self._q.add(cid, tmp):
            os.unlink(tmp)  # another thread wrote the same chunk meanwhile

    def delete(self, cid: ChunkId) -> None:
        """Delete a chunk (absent: nothing to do). Raises InternalError when the file
        cannot be removed (a directory in its place, a read-only or failing file
        system), InsufficientStorage on a full disk or quota."""
        try:
            self._delete(cid)
        except OSError as exc:
            raise storage_error(exc, f"deleting chunk {cid.hex()}") from exc

    def _delete(self, cid: ChunkId) -> None:
        tmp = self._q.take_back(cid)
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(cid))
        self._q.deleted(cid)  # only once the name is gone (review 9p, P3)

    def has_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        return {c for c in cids if self.has(c)}

    def put_many(self, items: Iterable[tuple[ChunkId, bytes | bytearray | memoryview]]) -> None:
        for cid, data in items:
            self.put(cid, data)

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        for cid in cids:
            self.delete(cid)

    def sync(self, cids: Collection[ChunkId] = ()) -> None:
        """Make every chunk put so far durable: fsync, rename into place, fsync directories.
        A chunk whose fsync or rename fails is forgotten (put it again).

        Raises, for the first of ``cids`` not durable afterwards (with no ``cids``: for
        any chunk that failed), InsufficientStorage (a full disk or quota) or
        InternalError; StoreClosed when the store was closed."""
        self._q.sync(cids)

    def durable_many(self, cids: Iterable[ChunkId]) -> set[ChunkId]:
        """The chunks of ``cids`` under their names, their directories fsynced."""
        return self._q.durable(cids)

    def _place(self, cid: ChunkId, tmp: str, dirs: set[str]) -> None:
        """Put the synced ``tmp`` under the chunk's name (for the sync queue)."""
        with self._lock:
            d = self._dir(cid, dirs)
        final = os.path.join(d, cid.hex())
        try:
            os.replace(tmp, final)
        except IsADirectoryError:
            # A directory where the chunk's file belongs (damage the read path flags):
            # moved into quarantine/, so storing the chunk again heals it (review 9j, M1).
            self.set_aside(cid)
            os.replace(tmp, final)
        except OSError:
            with self._lock:
                self._made.discard(d)  # looked at afresh next time (review 9l, M1)
            raise
        dirs.add(d)

    def iter_ids(self) -> Iterator[ChunkId]:
        """Every chunk file's id. Anything else in the tree (a stray file, a directory
        or name that is not a chunk's, another store's directory nested inside) is
        skipped, never an error: gc and fsck walk this. Raises InternalError when a
        directory cannot be listed (no permission, an I/O error)."""
        try:
            yield from self._iter_ids()
        except OSError as exc:
            raise storage_error(exc, f"listing the chunks in {self.root}") from exc

    def _iter_ids(self) -> Iterator[ChunkId]:
        pending = set(self._q.files)
        for top in _subdirs(self.root, 2):
            for mid in _subdirs(top, 2):
                with os.scandir(mid) as entries:
                    names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
                for name in names:
                    if len(name) == 64 and _HEX.fullmatch(name):
                        cid = ChunkId(bytes.fromhex(name))
                        pending.discard(cid)
                        yield cid
        yield from pending

    def stat(self, cid: ChunkId) -> tuple[int, int] | None:
        """(size, mtime ns) of the chunk's file; None when there is none. Raises
        InternalError when it cannot be looked at (no permission) or is not a file (a
        directory in its place: its size would pass for the chunk's)."""
        tmp = self._q.files.get(cid)
        for path in (tmp, self._path(cid)) if tmp is not None else (self._path(cid),):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # a sync renamed the temporary file meanwhile
            except OSError as exc:
                raise storage_error(exc, f"reading the size of chunk {cid.hex()}") from exc
            if not stat.S_ISREG(st.st_mode):
                raise InternalError(f"chunk {cid.hex()} is not a file: {path}")
            return st.st_size, st.st_mtime_ns
        return None

    def clean_tmp(self, older_than_ns: int) -> int:
        """Remove this class's temporary files (by their names) last touched before
        ``older_than_ns``; how many. A file that cannot be removed is left for a later
        pass. Raises InternalError when ``chunks/tmp`` cannot be listed."""
        removed = 0
        mine = set(self._q.files.values())  # written here, waiting for this process's sync
        if os.path.islink(self._tmp):
            return 0  # not this store's own directory: never delete through it
        try:
            listing = list(os.scandir(self._tmp))
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise storage_error(exc, f"listing {self._tmp}") from exc
        for entry in listing:
            if (
                entry.path in mine
                or not _TMP_NAME.fullmatch(entry.name)
                or not entry.is_file(follow_symlinks=False)
            ):
                continue  # only this class's own temporary files are removed
            try:
                if entry.stat(follow_symlinks=False).st_mtime_ns < older_than_ns:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # renamed into place or removed meanwhile
            except OSError:
                continue  # read-only, no permission ...: not worth stopping gc for
        return removed

    def set_aside(self, cid: ChunkId) -> bool:
        try:
            os.rename(self._path(cid), self._aside(cid.hex()))
        except FileNotFoundError:
            return False
        return True

    def _aside(self, stem: str) -> str:
        """A fresh path in ``quarantine/`` for something named ``stem`` (made if missing).
        Unique across threads and processes without a lock: _clear_way runs under one."""
        aside = os.path.join(self.root, "quarantine")
        os.makedirs(aside, exist_ok=True)
        return os.path.join(aside, f"{stem}.{self._pid}.{self._tag}.{os.urandom(4).hex()}")

    def close(self) -> None:
        """Make what is still pending durable (best effort), then stop the sync threads;
        a later sync raises StoreClosed instead of starting new ones. Uploads record a
        chunk only once a sync made it durable, so this sync is a second line: a chunk
        left as a temporary file is lost at the next open."""
        if self._q.files:
            with contextlib.suppress(ObjstoreError):
                self.sync()
        self._q.close()
