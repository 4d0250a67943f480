"""Group commit: concurrent writers share commits; one failure fails alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import objstore
from objstore.errors import NoSuchBucket
from objstore.meta import group as group_module
from objstore.meta.base import WriteTxn
from objstore.meta.group import GroupCommitter
from objstore.meta.memory import MemoryMetadataStore


class CountingStore(MemoryMetadataStore):
    """Counts write transactions that committed."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    @contextmanager
    def begin_write(self) -> Iterator[WriteTxn]:  # type: ignore[override]
        with super().begin_write() as txn:
            yield txn
        self.commits += 1


def _blocked_batch(n: int, fail: set[int]) -> tuple[CountingStore, list[object]]:
    """Job 0 holds the leader until jobs 1..n are queued, so they form one batch."""
    meta = CountingStore()
    group = GroupCommitter(meta)
    release = threading.Event()
    out: list[object] = [None] * (n + 1)

    def first(txn: WriteTxn) -> int:
        release.wait(10)
        txn.put(b"k0", b"0")
        return 0

    def job(i: int) -> None:
        def fn(txn: WriteTxn) -> int:
            if i in fail:
                txn.put(b"bad%d" % i, b"x")  # written, then rolled back
                raise KeyError(i)
            txn.put(b"k%d" % i, b"%d" % i)
            return i

        try:
            out[i] = group.run(fn)
        except KeyError as exc:
            out[i] = exc

    t0 = threading.Thread(target=lambda: out.__setitem__(0, group.run(first)))
    t0.start()
    while not group._leading:  # the first job leads and now waits inside its transaction
        threading.Event().wait(0.001)
    threads = [threading.Thread(target=job, args=(i,)) for i in range(1, n + 1)]
    for t in threads:
        t.start()
    while len(group._queue) < n:
        threading.Event().wait(0.001)
    release.set()
    for t in [t0, *threads]:
        t.join(10)
    return meta, out


def test_queued_writers_share_one_commit() -> None:
    """Twenty writers queued behind a leader commit together: 2 commits, not 21."""
    meta, out = _blocked_batch(20, fail=set())
    assert out == list(range(21))
    assert meta.commits == 2
    with meta.begin() as txn:
        assert [k for k, _ in txn.scan(b"k")] == sorted(b"k%d" % i for i in range(21))


def test_a_failing_writer_fails_alone() -> None:
    """The failures raise to their callers; nothing of them is written; the rest commit."""
    meta, out = _blocked_batch(12, fail={3, 7})
    for i in range(13):
        if i in (3, 7):
            assert isinstance(out[i], KeyError)
        else:
            assert out[i] == i
    with meta.begin() as txn:
        keys = {k for k, _ in txn.scan(b"")}
    assert keys == {b"k%d" % i for i in range(13) if i not in (3, 7)}


def test_commit_failure_reaches_every_writer_of_the_batch() -> None:
    class Failing(MemoryMetadataStore):
        @contextmanager
        def begin_write(self) -> Iterator[WriteTxn]:  # type: ignore[override]
            with super().begin_write() as txn:
                yield txn
                raise OSError(28, "No space left on device")

    group = GroupCommitter(Failing())
    with pytest.raises(OSError):
        group.run(lambda txn: txn.put(b"a", b"b"))
    assert not group._leading and not group._queue


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_many_threads_put_and_delete_through_the_store(tmp_path: Path, where: str) -> None:
    """16 threads x 40 small PUTs and deletes: every acknowledged write is there."""
    path = None if where == "memory" else tmp_path / "s"
    with objstore.open(path) as store:
        s3 = store.root
        s3.create_bucket("gc-many")
        errors: list[BaseException] = []

        def work(t: int) -> None:
            try:
                for i in range(40):
                    s3.put_object("gc-many", f"t{t}/{i}", b"%d-%d" % (t, i))
                    if i % 4 == 0:
                        s3.delete_object("gc-many", f"t{t}/{i}")
                with pytest.raises(NoSuchBucket):
                    s3.put_object("no-such-bucket", "k", b"x")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        listed = {o.key for o in s3.list_objects("gc-many", max_keys=1000).contents}
        assert listed == {f"t{t}/{i}" for t in range(16) for i in range(40) if i % 4}
        for key in listed:
            t, i = key[1:].split("/")
            assert s3.get_object("gc-many", key).read() == f"{t}-{i}".encode()


def test_a_leader_waits_for_the_writers_of_its_last_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a batch of three, the next leader holds its commit until three jobs are
    queued (the linger is made long here so the test does not depend on timing): the
    writers share one commit instead of alternating in two groups."""
    monkeypatch.setattr(group_module, "LINGER_S", 30.0)
    meta = CountingStore()
    group = GroupCommitter(meta)
    group._expect = 3  # as after a batch of three
    results: list[object] = [None] * 3

    def writer(i: int) -> None:
        def fn(txn: WriteTxn) -> int:
            txn.put(b"w%d" % i, b"x")
            return i

        results[i] = group.run(fn)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    threads[0].start()
    while not group._lingering:  # the first writer leads and waits for the others
        threading.Event().wait(0.001)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [0, 1, 2]
    assert meta.commits == 1
    assert group._expect == 3


def test_a_writer_left_alone_is_not_held() -> None:
    """When the others stopped, the lone writer's leader waits at most the short linger,
    and from then on expects only itself."""
    meta = CountingStore()
    group = GroupCommitter(meta)
    group._expect = 4
    assert group.run(lambda txn: txn.put(b"a", b"1")) is None
    assert group._expect == 1
    assert group.run(lambda txn: txn.put(b"b", b"2")) is None
    assert meta.commits == 2


def test_each_job_runs_under_its_own_callers_cancellation_token() -> None:
    """Review 9n, N6: the leader ran every job of its batch in its own context, so the
    commit point of a job read the leader's cancellation token: a cancelled leader's token
    stopped another caller's write, and a cancelled follower's write was kept."""
    from objstore import cancel
    from objstore.errors import RequestCancelled
    from objstore.meta.group import _Job

    meta = MemoryMetadataStore()
    committer = GroupCommitter(meta)

    def write(key: bytes) -> Callable[[WriteTxn], bytes]:
        def fn(txn: WriteTxn) -> bytes:
            cancel.commit_point()
            txn.put(key, b"v")
            return key

        return fn

    cancelled, live = cancel.CancelToken(), cancel.CancelToken()
    assert cancelled.cancel()
    with cancel.scope(cancelled):
        stopped = _Job(write(b"cancelled"))
    with cancel.scope(live):
        kept = _Job(write(b"live"))
    leader = cancel.CancelToken()
    leader.cancel()
    with cancel.scope(leader):  # the leader's own token is cancelled: it decides nothing
        committer._execute([stopped, kept])  # type: ignore[list-item]
    assert isinstance(stopped.error, RequestCancelled)
    assert kept.error is None and kept.result == b"live"
    assert not live.cancel()  # its write stands: past its commit point
    with meta.begin() as txn:
        assert txn.get(b"live") == b"v" and txn.get(b"cancelled") is None
