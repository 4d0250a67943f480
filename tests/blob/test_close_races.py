"""Closing a store while gc runs, and while the metadata hangs.

- A lease renewal stuck on hung metadata (a PostgreSQL call that never returns) held up
  the end of a gc delete (``kept_alive`` joined the renewal thread) and, through it,
  ``Store.close()``, for good (break-it review 9f, L2). close() now returns in bounded
  time and leaves the lease to expire if it cannot remove it.
- A gc pass on another thread meeting ``close()`` ended with the InternalError of the
  closed LMDB environment instead of StoreClosed.

Which thread waits where is steered with Events; no test relies on a sleep's length.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore import closing, keyspace
from objstore.blob.chunkstore import ChunkId
from objstore.errors import StoreClosed
from objstore.meta.base import WriteTxn
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.scan import scan_prefix

CHUNK = 64 << 10


class HangingMeta:
    """LMDB metadata whose write transactions, once ``armed``, wait for ``release`` before
    they begin (a metadata backend that stopped answering)."""

    def __init__(self, path: Path) -> None:
        self.inner = LmdbMetadataStore(path)
        self.armed = False
        self.stuck = threading.Event()  # a write is waiting
        self.release = threading.Event()

    def begin(self) -> Any:
        return self.inner.begin()

    @contextmanager
    def begin_write(self) -> Iterator[WriteTxn]:
        if self.armed:
            self.stuck.set()
            assert self.release.wait(60)
        with self.inner.begin_write() as txn:
            yield txn

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _leases(path: Path) -> list[bytes]:
    meta = LmdbMetadataStore(path)
    try:
        with meta.begin() as txn:
            return [k for k, _ in scan_prefix(txn, keyspace.LEASE)]
    finally:
        meta.close()


def _with_dead_chunks(store: objstore.Store) -> None:
    """Three chunks the next gc pass deletes."""
    store.root.create_bucket("bkt")
    store.root.put_object("bkt", "k", os.urandom(3 * CHUNK))
    store.root.delete_object("bkt", "k")


def _in_a_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[Exception | None]]:
    """A started thread running ``call`` (``store.gc``, ``store.fsck``), and what it ended
    with (None: a result)."""
    ended: list[Exception | None] = []

    def run() -> None:
        try:
            call()
        except Exception as exc:
            ended.append(exc)
        else:
            ended.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, ended


def _store_on_hanging_meta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gc_interval: float | None
) -> tuple[objstore.Store, HangingMeta]:
    monkeypatch.setattr(closing, "CLOSE_WAIT_S", 0.5)
    meta = HangingMeta(tmp_path / "meta")
    store = objstore.open(
        metadata=meta,
        chunks=f"file://{tmp_path}/chunks",
        secret_key=os.urandom(32),
        chunk_size=CHUNK,
        inline_threshold=1024,
        gc_interval=gc_interval,
        lease_ttl=0.4,  # renewals (background, or under a delete) every 0.1 s
    )
    return store, meta


def _close_while_hung(store: objstore.Store, meta: HangingMeta) -> None:
    """close() returns although the metadata hangs, and leaves the lease (to expire)."""
    closer = threading.Thread(target=store.close, daemon=True)
    closer.start()
    closer.join(30)
    assert not closer.is_alive()  # returned within CLOSE_WAIT_S
    with pytest.raises(StoreClosed):
        store.root.list_buckets()
    with meta.inner.begin() as txn:
        assert list(scan_prefix(txn, keyspace.LEASE))


def _release_finishes_once_the_metadata_answers(store: objstore.Store, meta: HangingMeta) -> None:
    meta.release.set()
    release = store._closing.thread
    assert release is not None
    release.join(30)
    assert not release.is_alive()
    assert _leases(Path(meta.inner._where)) == []  # removed late; no renewal made a new one


def test_a_renewal_stuck_on_hung_metadata_holds_up_neither_the_delete_nor_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, meta = _store_on_hanging_meta(tmp_path, monkeypatch, None)
    _with_dead_chunks(store)
    leases = store.blobs.leases
    real = store.blobs.chunks.delete_many
    deleting = threading.Event()

    def delete_while_the_metadata_hangs(cids: list[ChunkId]) -> None:
        deleting.set()
        meta.armed = True
        assert meta.stuck.wait(30)  # the renewal thread is stuck in its heartbeat
        real(cids)

    monkeypatch.setattr(store.blobs.chunks, "delete_many", delete_while_the_metadata_hangs)
    passes, ended = _in_a_thread(store.gc)
    assert deleting.wait(30)
    # The delete has returned: its block ends although the renewal thread is stuck (the
    # pass then waits on the metadata, as it must).
    with leases._quiet:
        assert leases._quiet.wait_for(lambda: leases._deleting == 0, timeout=10)
    _close_while_hung(store, meta)
    _release_finishes_once_the_metadata_answers(store, meta)
    passes.join(30)
    assert not passes.is_alive()
    assert len(ended) == 1 and isinstance(ended[0], StoreClosed)


def test_a_renewal_after_close_makes_no_new_lease(tmp_path: Path) -> None:
    store = objstore.open(tmp_path / "s", gc_interval=None)
    leases = store.blobs.leases
    store.close()
    with pytest.raises(StoreClosed):
        leases.heartbeat()  # (a closed LMDB environment says so too)
    meta = LmdbMetadataStore(tmp_path / "s" / "meta")
    leases.meta = meta  # a backend still open: the lease must not come back
    try:
        with pytest.raises(StoreClosed):
            leases.heartbeat()
    finally:
        meta.close()
    assert _leases(tmp_path / "s" / "meta") == []


@pytest.mark.parametrize("what", ["gc", "fsck"])
def test_a_pass_racing_close_ends_with_store_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """A gc pass (inside a metadata read) or fsck (inside a chunk read) on another thread
    when the store is closed: it must end with StoreClosed, never the InternalError of a
    closed LMDB environment, and the close waits for it before closing anything."""
    store = objstore.open(tmp_path / "s", chunk_size=CHUNK, inline_threshold=1024, gc_interval=None)
    _with_dead_chunks(store)  # (their records stay until gc: fsck reads those chunks)
    inside, meta_closed = threading.Event(), threading.Event()

    def held(real: Callable[..., Any]) -> Callable[..., Any]:
        def first_waits(*args: Any) -> Any:
            if not inside.is_set():
                inside.set()
                # Until the close has closed the metadata, or has shown that it waits for
                # the pass instead (then this wait only ends later, on its timeout).
                meta_closed.wait(0.5)
            return real(*args)

        return first_waits

    real_close = store.blobs.meta.close

    def close_meta() -> None:
        real_close()
        meta_closed.set()

    if what == "gc":
        monkeypatch.setattr("objstore.blob.gc.scan_prefix", held(scan_prefix))
    else:
        monkeypatch.setattr(store.blobs.chunks, "get", held(store.blobs.chunks.get))
    monkeypatch.setattr(store.blobs.meta, "close", close_meta)
    thread, ended = _in_a_thread(store.gc if what == "gc" else store.fsck)
    assert inside.wait(30)
    store.close()
    thread.join(30)
    assert len(ended) == 1 and isinstance(ended[0], StoreClosed), ended
    assert meta_closed.is_set()


def test_close_returns_while_the_background_thread_is_stuck_on_hung_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background thread's heartbeat never returns: close() used to join it for good."""
    store, meta = _store_on_hanging_meta(tmp_path, monkeypatch, 3600.0)
    store.blobs.leases.heartbeat()  # the lease exists
    store.identity.audit.flush()  # nothing left for close to write
    meta.armed = True
    assert meta.stuck.wait(30)  # the background thread waits on the metadata
    _close_while_hung(store, meta)
    _release_finishes_once_the_metadata_answers(store, meta)
