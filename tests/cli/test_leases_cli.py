"""``objstore leases``: an operator reaps the lease of a node known to be dead.

A crashed node's lease holds gc back for its whole ttl (up to 86,400 s) when gc cannot
tell the node is gone (another host, or another pid namespace): nothing it might have
used is collected meanwhile. ``objstore leases`` lists the leases and ``--reap ID``
deletes one at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.blob.leases import LeaseRec
from objstore.cli import main

DAY_NS = 86_400 * 1_000_000_000


def _crashed_node(store: objstore.Store) -> bytes:
    """A lease as a node on another host leaves it when it crashes: a day's ttl, and
    the protected gen of before anything was deleted."""
    lid = os.urandom(16)
    now = time.time_ns()
    rec = LeaseRec(now, now, 0, 0, 4242, b"elsewher", DAY_NS)
    with store._meta.begin_write() as txn:
        txn.put(keyspace.LEASE + lid, rec.encode())
    return lid


def _chunks(root: Path) -> int:
    with objstore.open(root, gc_interval=None) as s:
        return sum(1 for _ in s.blobs.chunks.iter_ids())


def test_reaping_a_dead_nodes_lease_lets_gc_collect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "s"
    with objstore.open(root, gc_interval=None) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "k", os.urandom(100_000))
        lid = _crashed_node(s)
        s.root.delete_object("bkt", "k")
        s.gc()
    assert _chunks(root) == 1  # the dead node's lease protects it for a day
    assert main(["--store", str(root), "leases"]) == 0
    out = capsys.readouterr().out
    assert f"lease {lid.hex()}: pid 4242 on another host" in out and "ttl 86400 s" in out
    assert main(["--store", str(root), "leases", "--reap", lid.hex()]) == 0
    assert "reaped lease" in capsys.readouterr().out
    assert main(["--store", str(root), "leases", "--reap", lid.hex()]) == 1  # gone
    assert "no lease" in capsys.readouterr().err
    assert main(["--store", str(root), "leases", "--reap", "not-hex"]) == 1
    with objstore.open(root, gc_interval=None) as s:
        s.gc()
    assert _chunks(root) == 0
