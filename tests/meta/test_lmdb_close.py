"""Closing the LMDB metadata store while another thread is inside a write transaction."""

from __future__ import annotations

import threading
from pathlib import Path

from objstore.meta.lmdb_store import LmdbMetadataStore


def test_close_waits_for_a_write_transaction_on_another_thread(tmp_path: Path) -> None:
    """Break-it review 9h, M3: a close racing an upload's commit on another thread closed
    the environment under the transaction, and py-lmdb's close then waited for good for
    that transaction's end (1 close in ~100). The close now waits for the writer, whose
    commit is kept."""
    store = LmdbMetadataStore(tmp_path / "m")
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
    go_on.set()
    t.join(30)
    closer.join(30)
    assert not closer.is_alive() and not t.is_alive()
    again = LmdbMetadataStore(tmp_path / "m", create=False)
    try:
        with again.begin() as r:
            assert r.get(b"k") == b"acknowledged"
    finally:
        again.close()
