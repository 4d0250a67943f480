"""FileChunkStore durability: per-file fsync of the store's own files, never syncfs."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from objstore.blob.chunkstore import ChunkMissing
from objstore.blob.files import FileChunkStore
from objstore.blob.source import new_buffer
from objstore.errors import InternalError, StoreClosed
from objstore.testing.chunkstore import cid_of


class _FsyncLog:
    """Records, in order, every fsync (by path) and every rename the store makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.events: list[tuple[str, str]] = []
        self.fail = fail
        self._lock = threading.Lock()
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            if self.fail:
                raise OSError(errno.EIO, "injected fsync failure", path)
            real_fsync(fd)
            with self._lock:
                self.events.append(("fsync", path))

        def replace(src: str, dst: str) -> None:
            real_replace(src, dst)
            with self._lock:
                self.events.append(("rename", f"{src} -> {dst}"))

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)

    def synced(self) -> set[str]:
        return {p for kind, p in self.events if kind == "fsync"}


def _final(root: Path, data: bytes) -> Path:
    h = cid_of(data).hex()
    return root / h[:2] / h[2:4] / h


def test_chunk_gets_its_name_only_after_its_bytes_are_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written chunks wait in tmp/ (readable), and are fsynced before they are renamed."""
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    log = _FsyncLog(monkeypatch)
    blobs = [os.urandom(1000 + i) for i in range(5)]
    for b in blobs:
        store.put(cid_of(b), b)
    for b in blobs:
        assert not _final(root, b).exists()  # not under its id before sync
        assert store.get(cid_of(b)) == b and store.has(cid_of(b))
    assert set(store.iter_ids()) == {cid_of(b) for b in blobs}
    store.sync()
    store.close()
    assert os.listdir(root / "tmp") == []
    for b in blobs:
        assert _final(root, b).read_bytes() == b
    renames = [i for i, (kind, _) in enumerate(log.events) if kind == "rename"]
    fsyncs = [i for i, (kind, _) in enumerate(log.events) if kind == "fsync"]
    assert len(renames) == len(blobs)
    # every file fsync came before the first rename; directory fsyncs after the last
    file_syncs = [i for i in fsyncs if log.events[i][1].startswith(str(root / "tmp") + "/")]
    assert len(file_syncs) == len(blobs) and max(file_syncs) < min(renames)
    synced = log.synced()
    for b in blobs:
        assert str(_final(root, b).parent) in synced  # the rename itself is durable
        assert str(_final(root, b).parent.parent) in synced  # the new directory too
    assert str(root) in synced
    # only the store's own files and directories
    assert all(p.startswith(str(root)) for p in synced)


def test_sync_with_nothing_written_syncs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileChunkStore(tmp_path / "chunks")
    log = _FsyncLog(monkeypatch)
    store.sync()
    store.close()
    assert log.events == []


def test_a_failed_fsync_forgets_the_chunk_and_is_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An fsync error raises and names nothing. The temporary file is thrown away, not
    fsynced again: Linux reports a writeback error once, so a second fsync could succeed
    with the bytes lost (review 9l, M2). The chunk is stored by putting it again, and
    the new directories are still made durable by the next sync."""
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    log = _FsyncLog(monkeypatch, fail=True)
    data = os.urandom(4096)
    store.put(cid_of(data), data)
    with pytest.raises(InternalError, match="injected"):
        store.sync()
    assert not _final(root, data).exists()
    assert not store.has(cid_of(data))
    assert os.listdir(root / "tmp") == []
    assert store.durable_many([cid_of(data)]) == set()
    log.fail = False
    store.sync()  # nothing left of the failure to fail again
    store.put(cid_of(data), data)
    store.sync([cid_of(data)])
    store.close()
    assert _final(root, data).read_bytes() == data
    assert str(root) in log.synced()


def test_delete_of_a_pending_chunk_removes_its_temporary_file(tmp_path: Path) -> None:
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    data = b"pending then deleted"
    store.put(cid_of(data), data)
    store.delete(cid_of(data))
    assert not store.has(cid_of(data))
    with pytest.raises(ChunkMissing):
        store.get(cid_of(data))
    store.sync()
    store.close()
    assert os.listdir(root / "tmp") == []
    assert not _final(root, data).exists()


def test_get_into_reads_pending_and_synced_chunks(tmp_path: Path) -> None:
    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(5000)
    buf = memoryview(bytearray(6000))
    store.put(cid_of(data), data)
    assert bytes(buf[: store.get_into(cid_of(data), buf)]) == data
    store.sync()
    assert bytes(buf[: store.get_into(cid_of(data), buf)]) == data
    assert store.get_into(cid_of(data), buf[:100]) == 100  # bounded by the buffer
    with pytest.raises(ChunkMissing):
        store.get_into(cid_of(b"absent"), buf)
    store.close()


def test_concurrent_puts_and_syncs_leave_every_chunk_named(tmp_path: Path) -> None:
    """A sync returns only when every chunk put before it is durable, whoever syncs it."""
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            for i in range(30):
                data = f"{seed}-{i}".encode() * 50
                store.put(cid_of(data), data)
                store.sync()
                assert _final(root, data).read_bytes() == data
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert not errors
    assert os.listdir(root / "tmp") == []
    assert len(set(store.iter_ids())) == 120


def test_pending_chunks_are_stated_and_kept_by_tmp_cleanup(tmp_path: Path) -> None:
    """A chunk waiting for its sync is a chunk: stat sees it, tmp cleanup leaves it."""
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    data = os.urandom(3000)
    store.put(cid_of(data), data)
    st = store.stat(cid_of(data))
    assert st is not None and st[0] == 3000
    assert store.clean_tmp(older_than_ns=time.time_ns() + 10**12) == 0
    assert store.get(cid_of(data)) == data
    (root / "tmp" / "4242.0123456789ab.140000.7").write_bytes(b"x")  # a crashed put's
    assert store.clean_tmp(older_than_ns=time.time_ns() + 10**12) == 1
    store.sync()
    assert store.stat(cid_of(data)) == (3000, os.stat(_final(root, data)).st_mtime_ns)
    store.close()


def test_tmp_cleanup_removes_only_its_own_temporary_files(tmp_path: Path) -> None:
    """Review 9 (R2): a store nested in ``chunks/tmp`` by mistake lost its
    ``objstore.json``, ``identity.key`` and owner mark to the outer store's clean-up."""
    root = tmp_path / "chunks"
    store = FileChunkStore(root)
    ours = ["4242.0123456789ab.140000.7", "4242.140000.7", "owner.0123456789ab.4242.140000"]
    theirs = ["objstore.json", "identity.key", "objstore-owner.json", "4242.7", "owner.x.1.2"]
    for name in ours + theirs:
        (root / "tmp" / name).write_bytes(b"x")
    assert store.clean_tmp(older_than_ns=time.time_ns() + 10**12) == len(ours)
    assert sorted(os.listdir(root / "tmp")) == sorted(theirs)
    store.close()


def test_a_chunk_that_cannot_be_deleted_is_a_typed_error(tmp_path: Path) -> None:
    """Review 9 (R4): unlink's IsADirectoryError came out raw."""
    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(3000)
    store.put(cid_of(data), data)
    store.sync()
    final = _final(tmp_path / "chunks", data)
    os.unlink(final)
    os.mkdir(final)
    with pytest.raises(InternalError, match="deleting chunk"):
        store.delete(cid_of(data))
    with pytest.raises(InternalError):
        store.delete_many([cid_of(data)])
    store.delete(cid_of(b"absent"))  # absent: still not an error
    store.close()


def test_a_chunk_tree_that_cannot_be_listed_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gc and fsck walk iter_ids: an unreadable directory (EACCES, EIO) came out raw."""
    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(3000)
    store.put(cid_of(data), data)
    store.sync()
    real = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == cid_of(data).hex()[2:4]:
            raise PermissionError(errno.EACCES, "injected", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InternalError, match="listing the chunks"):
        list(store.iter_ids())
    monkeypatch.undo()
    assert list(store.iter_ids()) == [cid_of(data)]
    store.close()


def _aligned_copy(data: bytes, offset: int = 0) -> memoryview:
    """``data`` in a page-aligned buffer (a streamed upload's window), from ``offset``."""
    buf = new_buffer(max(1 << 20, len(data) + offset))
    view = memoryview(buf)[offset : offset + len(data)]
    view[:] = data
    return view


@pytest.mark.parametrize(
    "size", [4096, 3 * 4096, 3 * 4096 + 5, 64 * 1024 + 4095], ids=["1blk", "3blk", "tail", "long"]
)
@pytest.mark.parametrize("offset", [0, 1, 512], ids=["aligned", "odd", "sector"])
def test_chunks_in_window_buffers_read_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, offset: int
) -> None:
    """Whole blocks of a page-aligned buffer go to the device directly (O_DIRECT), the rest
    (a tail, or an unaligned buffer) through the page cache: either way the same bytes."""
    real_open = os.open
    flags_seen: list[int] = []

    def spy_open(path: str, flags: int, mode: int = 0o777) -> int:
        flags_seen.append(flags)
        return real_open(path, flags, mode)

    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(size)
    monkeypatch.setattr(os, "open", spy_open)
    store.put(cid_of(data), _aligned_copy(data, offset))
    monkeypatch.undo()
    assert bool(flags_seen[0] & os.O_DIRECT) == (offset == 0)
    assert store.get(cid_of(data)) == data  # pending: read from its temporary file
    store.sync()
    assert store.get(cid_of(data)) == data
    other = os.urandom(size)
    store.put(cid_of(other), other)  # a read-only bytes body: page cache
    store.sync()
    assert store.get(cid_of(other)) == other
    store.close()


@pytest.mark.parametrize("refused_at", ["open", "write"])
def test_a_file_system_refusing_o_direct_gets_buffered_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_at: str
) -> None:
    """EINVAL for O_DIRECT (tmpfs on older kernels, some network file systems) turns it off
    for the store; the chunk is still written whole, and no temporary file is left over."""
    real_open, real_write = os.open, os.write
    direct_fds: set[int] = set()

    def fake_open(path: str, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_DIRECT and refused_at == "open":
            real_open(path, flags & ~os.O_DIRECT, mode)  # created, then refused
            raise OSError(errno.EINVAL, "Invalid argument", path)
        fd = real_open(path, flags, mode)
        if flags & os.O_DIRECT:
            direct_fds.add(fd)
        return fd

    def fake_write(fd: int, data: object) -> int:
        if fd in direct_fds:
            direct_fds.discard(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "write", fake_write)
    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(5 * 4096 + 3)
    store.put(cid_of(data), _aligned_copy(data))
    assert store._direct is False
    store.sync()
    monkeypatch.undo()
    assert store.get(cid_of(data)) == data
    assert os.listdir(tmp_path / "chunks" / "tmp") == []
    store.close()


def test_prefetch_is_a_hint_for_pending_synced_and_missing_chunks(tmp_path: Path) -> None:
    """``prefetch`` never fails and changes nothing: a missing chunk stays missing."""
    store = FileChunkStore(tmp_path / "chunks")
    data = os.urandom(10_000)
    store.put(cid_of(data), data)
    store.prefetch(cid_of(data))  # pending: its temporary file
    store.sync()
    store.prefetch(cid_of(data))
    store.prefetch(cid_of(b"absent"))
    assert store.get(cid_of(data)) == data
    with pytest.raises(ChunkMissing):
        store.get(cid_of(b"absent"))
    store.close()


def test_a_sync_after_close_is_refused_and_starts_no_thread(tmp_path: Path) -> None:
    """A sync reaching a closed store raises StoreClosed; it used to start a new
    pool of fsync threads that nothing would ever stop (review 9k, L1)."""
    store = FileChunkStore(str(tmp_path / "chunks"))
    data = b"synced before the close"
    store.put(cid_of(data), data)
    store.sync()
    store.close()
    late = b"put after the close"
    store.put(cid_of(late), late)
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(StoreClosed):
        store.sync()
    started = {t.name for t in threading.enumerate()} - before
    assert not [n for n in started if n.startswith("objstore-fsync")]
    assert store.get(cid_of(data)) == data
