"""Garbage collection: unreferenced chunks go, shared ones stay, active readers are safe."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import objstore
from objstore.errors import InternalError

MiB = 1 << 20


def test_gc_keeps_shared_chunks_and_drops_unreferenced(tmp_path: Path) -> None:
    """Deleting one of two identical objects frees nothing; deleting both frees all."""
    data = os.urandom(9 * MiB)
    with objstore.open(tmp_path / "s") as store:
        store.root.create_bucket("gc-bucket")
        store.root.put_object("gc-bucket", "a", data)
        store.root.put_object("gc-bucket", "b", data)
        store.root.copy_object("gc-bucket", "a", "gc-bucket", "c")
        n = len(list(store.blobs.chunks.iter_ids()))
        assert n == 3  # 4 + 4 + 1 MiB, stored once
        store.root.delete_object("gc-bucket", "a")
        assert store.gc().chunks_deleted == 0
        store.root.delete_object("gc-bucket", "b")
        assert store.gc().chunks_deleted == 0  # the copy "c" still shares them
        assert store.root.get_object("gc-bucket", "c").read() == data
        store.root.delete_object("gc-bucket", "c")
        assert store.gc().chunks_deleted == 3
        assert not list(store.blobs.chunks.iter_ids())


def test_gc_waits_for_open_readers(tmp_path: Path) -> None:
    """While a body is being read, gc cannot run (and times out cleanly)."""
    data = os.urandom(9 * MiB)
    with objstore.open(tmp_path / "s") as store:
        store.root.create_bucket("gc-bucket")
        store.root.put_object("gc-bucket", "a", data)
        body = store.root.get_object("gc-bucket", "a")
        head = body.read(1)  # reading has started (an open, unread body holds nothing)
        store.root.delete_object("gc-bucket", "a")
        with pytest.raises(InternalError):
            store.gc(timeout=0.2)
        assert head + body.read() == data  # the reader still gets every byte
        body.close()
        assert store.gc().chunks_deleted == 3


def test_gc_runs_once_readers_finish(tmp_path: Path) -> None:
    """gc blocks until the reader closes, then collects."""
    with objstore.open(tmp_path / "s") as store:
        store.root.create_bucket("gc-bucket")
        store.root.put_object("gc-bucket", "a", os.urandom(5 * MiB))
        body = store.root.get_object("gc-bucket", "a")
        body.read(1)  # reading has started
        store.root.delete_object("gc-bucket", "a")
        result: list[int] = []
        t = threading.Thread(target=lambda: result.append(store.gc(timeout=10).chunks_deleted))
        t.start()
        t.join(0.2)
        assert t.is_alive()
        body.close()
        t.join(10)
        assert result == [2]
