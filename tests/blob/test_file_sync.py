"""The pending chunk files of FileChunkStore and their syncs (objstore/blob/file_sync.py):
what counts as durable, and how one chunk that cannot be synced is contained (break-it
review 9l: H1, M1, M2)."""

from __future__ import annotations

import contextlib
import errno
import inspect
import io
import os
import sys
import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import blake3
import pytest

import objstore
from objstore import keyspace
from objstore.blob import file_sync
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.errors import (
    DataCorruption,
    InsufficientStorage,
    InternalError,
    ObjstoreError,
    StoreClosed,
)
from objstore.testing.chunkstore import cid_of
from tests.conftest import BATCHED_CHUNK, open_batched

CH = 4096


def fail_fsync_of(monkeypatch: pytest.MonkeyPatch, paths: set[str], code: int = errno.EIO) -> None:
    """Every fsync of a path in ``paths`` (looked up at the call) fails with ``code``."""
    real = file_sync.fsync_path

    def fsync_path(path: str) -> None:
        if path in paths:
            raise OSError(code, "injected fsync failure", path)
        real(path)

    monkeypatch.setattr(file_sync, "fsync_path", fsync_path)


@contextlib.contextmanager
def disk_store(tmp_path: Path) -> Iterator[tuple[objstore.Store, FileChunkStore]]:
    """An on-disk store of small chunks with a bucket "bkt", and its chunk store."""
    s = objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None)
    try:
        s.root.create_bucket("bkt")
        chunks = s.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        yield s, chunks
    finally:
        s.close()


def fail_fsync_of_chunk(
    monkeypatch: pytest.MonkeyPatch, chunks: FileChunkStore, cid: ChunkId, code: int
) -> None:
    """Every fsync of ``cid``'s pending file (whichever it is at the call) fails."""
    real = file_sync.fsync_path

    def fsync_path(path: str) -> None:
        if path == chunks._q.files.get(cid):
            raise OSError(code, "injected fsync failure", path)
        real(path)

    monkeypatch.setattr(file_sync, "fsync_path", fsync_path)


def failing_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int = errno.EIO
) -> tuple[FileChunkStore, bytes]:
    """A chunk store holding one pending chunk whose fsync fails with ``code``."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)
    fail_fsync_of(monkeypatch, set(store._q.files.values()), code)
    return store, x


def test_only_chunks_under_their_names_are_durable(tmp_path: Path) -> None:
    store = FileChunkStore(tmp_path / "c")
    a, b = os.urandom(CH), os.urandom(CH)
    store.put(cid_of(a), a)
    store.sync()
    store.put(cid_of(b), b)
    absent = cid_of(b"never put")
    assert store.has(cid_of(b))  # readable at once ...
    assert store.durable_many([cid_of(a), cid_of(b), absent]) == {cid_of(a)}  # ... not durable
    store.sync([cid_of(b)])
    assert store.durable_many([cid_of(a), cid_of(b), absent]) == {cid_of(a), cid_of(b)}
    store.close()


def test_a_chunk_relied_on_but_forgotten_by_another_sync_fails_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload that found the chunk pending (another upload's temporary file of the same
    bytes) writes nothing itself. When the other's sync fails, the file is thrown away:
    the caller's sync of that chunk must fail, never return as if it were durable."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)  # the other upload's file
    store.put(cid_of(x), x)  # this one: already pending, nothing written
    fail_fsync_of(monkeypatch, set(store._q.files.values()))
    with pytest.raises(InternalError, match="injected"):
        store.sync()  # the other upload's sync
    with pytest.raises(InternalError, match="injected"):
        store.sync([cid_of(x)])  # this upload's: its chunk is gone, and why
    monkeypatch.undo()
    store.put(cid_of(x), x)  # put again, from the caller's bytes: stored
    store.sync([cid_of(x)])
    assert store.get(cid_of(x)) == x
    store.close()


def test_a_full_disk_at_the_sync_is_insufficient_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, x = failing_chunk(tmp_path, monkeypatch, errno.ENOSPC)
    with pytest.raises(InsufficientStorage):
        store.sync([cid_of(x)])
    store.close()


def test_a_temporary_file_removed_by_another_process_blocks_no_later_sync(
    tmp_path: Path,
) -> None:
    """Another handle's gc removes old temporary files it does not know are pending here.
    That chunk's sync fails once; every later upload of other bytes syncs (review 9l, M1:
    each one failed with 'No such file or directory' until the process restarted)."""
    store = FileChunkStore(tmp_path / "c")
    lost, later = os.urandom(CH), os.urandom(CH)
    store.put(cid_of(lost), lost)
    os.unlink(store._q.files[cid_of(lost)])  # another process's clean_tmp
    with pytest.raises(InternalError):
        store.sync([cid_of(lost)])
    store.put(cid_of(later), later)
    store.sync([cid_of(later)])
    assert store.get(cid_of(later)) == later
    assert not store.has(cid_of(lost))
    store.close()


def test_a_file_where_a_chunk_directory_belongs_is_moved_aside(tmp_path: Path) -> None:
    """A stray file at ``<root>/ab`` or ``<root>/ab/cd`` once failed the sync of every
    chunk (review 9l, M1): it is moved into quarantine/ and the chunk is stored."""
    root = tmp_path / "c"
    store = FileChunkStore(root)
    first, second = os.urandom(CH), os.urandom(CH)
    for data, depth in ((first, 1), (second, 2)):
        h = cid_of(data).hex()
        blocker = root.joinpath(*[h[:2], h[2:4]][:depth])
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_bytes(b"not a directory")
        store.put(cid_of(data), data)
        store.sync([cid_of(data)])
        assert store.get(cid_of(data)) == data
        assert blocker.is_dir()
    kept = sorted(p.read_bytes() for p in (root / "quarantine").iterdir())
    assert kept == [b"not a directory"] * 2
    store.close()
    again = FileChunkStore(root)
    assert again.get(cid_of(first)) == first and again.get(cid_of(second)) == second
    again.close()


def test_a_failed_upload_records_no_chunk_that_is_only_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9l, H1. Upload 1 fails (its write of X meets a full disk). While its release
    syncs, upload 2 of the same bytes puts X: a pending file, not durable. Upload 1 used to
    record X all the same; upload 3 of those bytes then trusted the record, wrote nothing,
    and was acknowledged before upload 2's fsync of X failed: X was lost. Now X gets no
    record: upload 3 relies on upload 2's file and fails with it, and upload 4 stores X."""
    with disk_store(tmp_path) as (s, chunks):
        other, x = os.urandom(CH), os.urandom(CH)
        cid_other, cid_x = (ChunkId(blake3.blake3(b).digest()) for b in (other, x))
        releasing, x_pending, u3_done = threading.Event(), threading.Event(), threading.Event()
        real_put, real_fsync = FileChunkStore.put, file_sync.fsync_path

        def put(self: FileChunkStore, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
            if cid == cid_x and not releasing.is_set():
                raise InsufficientStorage("no space left on device (injected)")
            real_put(self, cid, data)

        def fsync_path(path: str) -> None:
            if path == chunks._q.files.get(cid_other):
                releasing.set()  # upload 1's release is syncing: upload 2 puts X now
                assert x_pending.wait(30)
            elif path == chunks._q.files.get(cid_x):  # upload 2's file of X
                u3_done.wait(3)  # upload 3 ends first (acknowledged, before the fix)
                raise OSError(errno.EIO, "injected fsync failure", path)
            real_fsync(path)

        monkeypatch.setattr(FileChunkStore, "put", put)
        monkeypatch.setattr(file_sync, "fsync_path", fsync_path)
        errors: dict[str, BaseException] = {}

        def upload(key: str, body: object) -> None:
            try:
                s.root.put_object("bkt", key, body)
            except ObjstoreError as exc:
                errors[key] = exc

        u1 = threading.Thread(target=upload, args=("u1", iter([other, x])))
        u1.start()
        assert releasing.wait(30)
        u2 = threading.Thread(target=upload, args=("u2", x))
        u2.start()
        while cid_x not in chunks._q.files:
            assert u2.is_alive() or cid_x in chunks._q.files
        x_pending.set()
        u1.join(30)
        assert isinstance(errors.get("u1"), InsufficientStorage)
        upload("u3", x)
        u3_done.set()
        u2.join(30)
        assert isinstance(errors.get("u2"), InternalError)
        assert isinstance(errors.get("u3"), InternalError)  # relied on upload 2's file
        monkeypatch.undo()
        upload("u4", x)
        assert "u4" not in errors
        assert s.root.get_object("bkt", "u4").read() == x
    with objstore.open(tmp_path / "s", gc_interval=None) as again:
        assert again.root.get_object("bkt", "u4").read() == x
        assert again.fsck().healthy


def test_chunk_writes_leave_room_for_the_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9l, M3: an upload that filled the disk left its chunks unrecorded when the
    metadata could not grow, and gc, whose first step writes metadata, failed for good.
    A chunk write that would eat into the reserve is refused, so a failed upload is
    released and gc still runs on a disk that is otherwise full."""
    s = objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None)
    try:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "kept", os.urandom(3 * CH))
        real = os.statvfs
        free = [file_sync_reserve() + CH]  # room for one chunk above the reserve

        def statvfs(path: str) -> os.statvfs_result:
            st = real(path)
            fields = list(st)
            fields[4] = free[0] // st.f_frsize  # f_bavail
            return os.statvfs_result(fields)

        monkeypatch.setattr(os, "statvfs", statvfs)
        s.root.put_object("bkt", "small", os.urandom(CH))  # fits
        free[0] -= CH  # now it is full
        with pytest.raises(InsufficientStorage, match="metadata"):
            s.root.put_object("bkt", "big", os.urandom(4 * CH))
        s.root.put_object("bkt", "inline", b"tiny")  # metadata only: still written
        s.root.delete_object("bkt", "kept")
        assert s.gc().chunks_deleted >= 3  # gc runs on the "full" disk
        monkeypatch.undo()
        with pytest.raises(ObjstoreError):
            s.root.head_object("bkt", "big")
        assert s.fsck().healthy
    finally:
        s.close()


def file_sync_reserve() -> int:
    from objstore.blob.files import RESERVE_BYTES

    return RESERVE_BYTES


def test_a_healing_upload_whose_write_fails_is_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9n, N8: a quarantined chunk keeps its rotten copy under its name. An upload
    of its bytes writes a fresh copy; when that copy's fsync failed, the file under the
    name still passed for durable, the upload was acknowledged on the rotten bytes, and its
    commit cleared the flag. It fails now, and the next upload heals the chunk."""
    s = objstore.open(tmp_path / "s", chunk_size=CH, inline_threshold=16, gc_interval=None)
    try:
        s.root.create_bucket("bkt")
        x = os.urandom(CH)
        cid = cid_of(x)
        s.root.put_object("bkt", "old", x)
        chunks = s.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        with open(chunks._path(cid), "r+b") as f:
            f.write(b"rot")
        with pytest.raises(DataCorruption):
            s.root.get_object("bkt", "old").read()  # flags it
        fail_fsync_of_chunk(monkeypatch, chunks, cid, errno.EIO)
        with pytest.raises(InternalError, match="injected"):
            s.root.put_object("bkt", "new", x)
        monkeypatch.undo()
        with pytest.raises(ObjstoreError):
            s.root.head_object("bkt", "new")
        s.root.put_object("bkt", "new", x)  # heals
        assert s.root.get_object("bkt", "old").read() == x
        assert s.root.get_object("bkt", "new").read() == x
    finally:
        s.close()


def test_durable_looks_at_the_file_before_the_unsettled_chunks(tmp_path: Path) -> None:
    """Review 9n, N1: the unsettled set was read before the files, so a chunk a sync
    renamed in between (its directory not fsynced yet) passed for durable."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)
    store.sync()
    q = store._q
    real_final = q._final

    def final(cid: ChunkId) -> str:
        with q._lock:  # a sync renames it now, its directory fsync still to come
            q._unsettled[cid] += 1
        return real_final(cid)

    q._final = final  # type: ignore[method-assign]
    assert q.durable([cid_of(x)]) == set()
    store.close()


def test_a_chunk_in_a_directory_made_elsewhere_fsyncs_its_parents(tmp_path: Path) -> None:
    """Reviews 9n N5, 9o O1/O4: a sync placing a chunk in a directory that another sync,
    or another process, had made fsynced only that directory, not the parents that name
    it. Every placement fsyncs them now (cheap when nobody changed them)."""
    root = tmp_path / "c"
    store, other = FileChunkStore(root), FileChunkStore(root)
    a = ChunkId(bytes([0xAB, 0xCD]) + os.urandom(30))
    b = ChunkId(bytes([0xAB, 0xCD]) + os.urandom(30))
    parents = {str(root), str(root / "ab")}
    for handle, cid in ((store, a), (store, b), (other, b)):
        changed: set[str] = set()
        with handle._lock:
            handle._dir(cid, changed)
        assert changed == parents
    store.close()
    other.close()


def test_chunks_renamed_before_a_failed_directory_fsync_stay_not_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9n, N3: the next sync fsynced the directory again and its success was
    trusted (as for file data, a retry can succeed without the entries on disk). Those
    chunks stay not durable until they are put again."""
    root = tmp_path / "c"
    store = FileChunkStore(root)
    x = os.urandom(CH)
    real = file_sync.fsync_path

    def fsync_path(path: str) -> None:
        if os.path.isdir(path):
            raise OSError(errno.EIO, "injected directory fsync failure", path)
        real(path)

    monkeypatch.setattr(file_sync, "fsync_path", fsync_path)
    store.put(cid_of(x), x)
    with pytest.raises(InternalError, match="directory fsync"):
        store.sync([cid_of(x)])
    monkeypatch.undo()
    store.sync()  # the directories again: fine now
    assert store.durable_many([cid_of(x)]) == set()
    with pytest.raises(InternalError, match="injected directory fsync"):
        store.sync([cid_of(x)])
    store.put(cid_of(x), x)
    store.sync([cid_of(x)])
    assert store.durable_many([cid_of(x)]) == {cid_of(x)}
    store.close()


def test_another_chunks_failed_fsync_does_not_fail_a_streamed_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9n, N2: an upload's early syncs (unnamed: every pending chunk) raised for
    another upload's failed chunk, and so failed every streamed upload in flight. Only the
    syncs that name this upload's chunks decide now."""
    s = open_batched(tmp_path / "s")
    try:
        s.root.create_bucket("bkt")
        chunks = s.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        real = chunks.sync
        unnamed: list[int] = []

        def sync(cids: Collection[ChunkId] = ()) -> None:
            real(cids)
            if not cids:  # as if another upload's chunk in it had failed
                unnamed.append(1)
                raise InternalError("syncing chunk 0000: injected failure")

        monkeypatch.setattr(chunks, "sync", sync)
        data = os.urandom(40 * BATCHED_CHUNK + 5)
        s.root.put_object("bkt", "k", io.BytesIO(data))
        assert unnamed  # there were early syncs, and they failed
        assert s.root.get_object("bkt", "k").read() == data
    finally:
        s.close()


def test_a_directory_made_meanwhile_by_another_process_is_never_moved(tmp_path: Path) -> None:
    """The way-clearing for a stray file once renamed whatever stood there, and another
    process had just made the chunk directory (with its chunk in it): the chunk went into
    quarantine/ (caught by the multi-node gc test). A directory is left where it is."""
    root = tmp_path / "c"
    store = FileChunkStore(root)
    other = FileChunkStore(root)  # another process's handle on the same directory
    x = os.urandom(CH)
    other.put(cid_of(x), x)
    other.sync([cid_of(x)])
    h = cid_of(x).hex()
    for depth in (1, 2):  # our isdir look came before the other's makedirs
        store._clear_way(str(root.joinpath(*[h[:2], h[2:4]][:depth])))
    assert other.get(cid_of(x)) == x and store.get(cid_of(x)) == x
    assert not (root / "quarantine").exists()
    store.close()
    other.close()


def test_a_rename_over_a_durable_name_keeps_it_durable(tmp_path: Path) -> None:
    """Review 9o, O6: a second copy of a durable chunk being renamed over it made the
    chunk count as not durable meanwhile, and an upload relying on it failed with no
    fault at all. Either inode behind the name holds the bytes."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)
    store.sync([cid_of(x)])
    store.put(cid_of(x), x)  # another upload's copy of the same bytes
    real_place = store._q._place
    seen: list[set[ChunkId]] = []

    def place(cid: ChunkId, tmp: str, dirs: set[str]) -> None:
        seen.append(store.durable_many([cid]))  # another upload's check, meanwhile
        real_place(cid, tmp, dirs)

    store._q._place = place
    store.sync([cid_of(x)])
    assert seen == [{cid_of(x)}]
    store.close()


def test_a_failed_put_does_not_undo_a_durable_copy(tmp_path: Path) -> None:
    """Review 9o, O2: a put of a chunk that failed (open files exhausted, the reserve)
    marked the chunk failed although another upload's copy was durable under its name."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)
    store.sync([cid_of(x)])

    def out_of_files(cid: ChunkId, data: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files (injected)")

    store._put = out_of_files  # type: ignore[method-assign, assignment]
    with pytest.raises(ObjstoreError):
        store.put(cid_of(x), x)
    assert store.durable_many([cid_of(x)]) == {cid_of(x)}
    store.close()


def test_a_full_disk_in_an_early_sync_is_insufficient_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9o, O5: the early syncs swallow their errors, so a full disk met there came
    back from the named sync as a plain InternalError (500), not InsufficientStorage (507)."""
    s = open_batched(tmp_path / "s")
    try:
        s.root.create_bucket("bkt")
        chunks = s.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        data = os.urandom(40 * BATCHED_CHUNK + 5)
        fail_fsync_of_chunk(monkeypatch, chunks, cid_of(data[40 * BATCHED_CHUNK :]), errno.ENOSPC)
        with pytest.raises(InsufficientStorage):
            s.root.put_object("bkt", "k", io.BytesIO(data))
    finally:
        s.close()


def test_a_deleted_chunk_forgets_its_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9o, O7: failures were kept for the life of the handle."""
    store, x = failing_chunk(tmp_path, monkeypatch)
    with pytest.raises(InternalError):
        store.sync([cid_of(x)])
    assert cid_of(x) in store._q._failed
    store.delete(cid_of(x))
    assert cid_of(x) not in store._q._failed
    store.close()


def test_a_sync_stopped_after_its_renames_leaves_those_chunks_not_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9p, P1: a sync stopped by a close (its fsync threads gone) or an interrupt
    after renaming a chunk, before fsyncing the directories, left the chunk looking
    durable to a caller waiting on that sync."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    store.put(cid_of(x), x)
    real = file_sync.fsync_path

    def fsync_path(path: str) -> None:
        if os.path.isdir(path):
            raise RuntimeError("cannot schedule new futures after shutdown")  # as a close
        real(path)

    monkeypatch.setattr(file_sync, "fsync_path", fsync_path)
    with pytest.raises(StoreClosed):
        store.sync([cid_of(x)])
    monkeypatch.undo()
    assert store.durable_many([cid_of(x)]) == set()
    store.close()


def test_a_chunk_whose_put_failed_gets_no_record_from_its_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9q, Q1: a failed upload recorded a chunk whose own put had failed when a file
    stood under its name: another process's copy, whose name may not be durable yet (its
    directory fsync still to come). Only chunks this upload stored get records."""
    with disk_store(tmp_path) as (s, chunks):
        kept, x = os.urandom(CH), os.urandom(CH)
        other = FileChunkStore(chunks.root)  # another process: names X, syncs nothing more
        other._q.files[cid_of(x)] = tmp = os.path.join(chunks.root, "tmp", "other.x")
        with open(tmp, "wb") as f:
            f.write(x)
        other._place(cid_of(x), tmp, set())
        real_put = FileChunkStore.put

        def put(self: FileChunkStore, cid: ChunkId, data: bytes | bytearray | memoryview) -> None:
            if cid == cid_of(x):
                raise InsufficientStorage("no space left on device (injected)")
            real_put(self, cid, data)

        monkeypatch.setattr(FileChunkStore, "put", put)
        # Another upload in flight: what a failed one records is then kept for it.
        ticket = s.blobs.leases.enter(writer=True)
        with pytest.raises(InsufficientStorage):
            s.root.put_object("bkt", "k", iter([kept, x]))
        monkeypatch.undo()
        with s._meta.begin() as txn:
            assert txn.get(keyspace.CHUNKREF + cid_of(kept)) is not None  # stored: recorded
            assert txn.get(keyspace.CHUNKREF + cid_of(x)) is None
        s.blobs.leases.leave(ticket)
        other.close()


@pytest.mark.parametrize("at", ["marked.append(cid)", "self._unsettled[cid] += 1"])
def test_an_interrupt_while_a_chunk_is_marked_leaks_no_unsettled_count(
    tmp_path: Path, at: str
) -> None:
    """Review 9q, Q2: an asynchronous exception (KeyboardInterrupt) between the two
    statements that mark a chunk unsettled left a count that nobody subtracted, and every
    later upload of those bytes was refused for the handle's life. The interrupt is raised
    by a trace function just before either statement runs."""
    store = FileChunkStore(tmp_path / "c")
    x = os.urandom(CH)
    cid = cid_of(x)
    code = file_sync.SyncQueue._sync_chunks.__code__
    src, start = inspect.getsourcelines(file_sync.SyncQueue._sync_chunks)
    line = start + next(i for i, text in enumerate(src) if text.strip().startswith(at))
    fired: list[int] = []

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and frame.f_lineno == line and not fired:
            fired.append(line)
            raise KeyboardInterrupt("injected between the two marks")
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code is code else None

    store.put(cid, x)
    sys.settrace(tracer)
    try:
        with pytest.raises(KeyboardInterrupt):
            store.sync([cid])
    finally:
        sys.settrace(None)
    assert fired == [line]
    assert cid not in store._q._unsettled
    store.put(cid, x)  # a later upload of the same bytes is acknowledged
    store.sync([cid])
    assert store.durable_many([cid]) == {cid}
    store.close()
