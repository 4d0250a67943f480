"""Closing the LMDB metadata store while another thread is inside a write transaction."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from objstore.errors import InvalidRequest, StoreClosed
from objstore.meta.lmdb_store import LmdbMetadataStore


@contextlib.contextmanager
def _closing_behind_a_writer(store: LmdbMetadataStore) -> Iterator[None]:
    """Inside: another thread is in a write transaction (it wrote ``k``) and a third has
    called ``store.close()``, which waits for it; on leaving, both are let finish."""
    inside, go_on = threading.Event(), threading.Event()

    def writer() -> None:
        with store.begin_write() as txn:
            txn.put(b"k", b"acknowledged")
            inside.set()
            go_on.wait(30)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(30)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # waiting for the writer, not closing under it
    try:
        yield
    finally:
        go_on.set()
        t.join(30)
        closer.join(30)
    assert not closer.is_alive() and not t.is_alive()


def test_close_waits_for_a_write_transaction_on_another_thread(tmp_path: Path) -> None:
    """Break-it review 9h, M3: a close racing an upload's commit on another thread closed
    the environment under the transaction, and py-lmdb's close then waited for good for
    that transaction's end (1 close in ~100). The close now waits for the writer, whose
    commit is kept."""
    store = LmdbMetadataStore(tmp_path / "m")
    with _closing_behind_a_writer(store):
        pass
    again = LmdbMetadataStore(tmp_path / "m", create=False)
    try:
        with again.begin() as r:
            assert r.get(b"k") == b"acknowledged"
    finally:
        again.close()


def test_a_read_transaction_open_across_close_ends_in_store_closed(tmp_path: Path) -> None:
    """Review 10a, M1: close() waits for writers only, so a read transaction another
    thread holds is invalidated by py-lmdb, whose "closed/deleted/dropped object" error
    reached callers (a listing, a put, stats()) as InternalError, which looks like damage.
    It is StoreClosed, the error of a call that meets a closed store."""
    store = LmdbMetadataStore(tmp_path / "m")
    with store.begin_write() as txn:
        for i in range(100):
            txn.put(b"k%03d" % i, b"v")
    with pytest.raises(StoreClosed), store.begin() as r:
        assert r.get(b"k000") == b"v"
        store.close()  # from another thread in real life; close does not wait for readers
        for i in range(1, 100):  # not in the read cache: reaches the closed environment
            r.get(b"k%03d" % i)
    with pytest.raises(StoreClosed):
        store.begin()


def test_a_child_forked_while_close_waits_is_told_about_the_fork(tmp_path: Path) -> None:
    """Review 10a, L1: close() took the environment off the process's list before it
    waited for a writer, so a child forked in that window reopened the path and met
    py-lmdb's "already open in this process" as InternalError, without the fork advice
    (InvalidRequest) that every other child gets."""
    store = LmdbMetadataStore(tmp_path / "m")
    with _closing_behind_a_writer(store):
        pid = os.fork()
        if pid == 0:  # the child: exit codes say what opening the path raised
            code = 3
            try:
                LmdbMetadataStore(tmp_path / "m")
                code = 2
            except InvalidRequest:
                code = 0
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
