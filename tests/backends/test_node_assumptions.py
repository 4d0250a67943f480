"""Regression tests for what assumed one node (docs/scale-out.md, "Several nodes, one
store"): clocks, pid checks across namespaces, temporary file names."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import blake3
import pytest

import objstore
from objstore import keyspace
from objstore.blob import leases
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.blob.leases import LeaseRec
from objstore.errors import NotModified

B = "skew-bkt"


def test_last_modified_never_goes_back_when_node_clocks_differ(tmp_path: Path) -> None:
    """Node a's clock runs 30 s ahead of node b's: b's later write of a key must not look
    older than a's (If-Modified-Since and sync tools compare Last-Modified)."""
    ahead = time.time_ns() + 30 * 10**9
    where = {"metadata": f"lmdb://{tmp_path}/m", "chunks": f"file://{tmp_path}/c"}
    key = os.urandom(32)
    with (
        objstore.open(**where, secret_key=key, clock=lambda: ahead, gc_interval=None) as a,
        objstore.open(**where, secret_key=key, gc_interval=None) as b,
    ):
        a.root.create_bucket(B)
        a.root.put_object(B, "k", b"first")
        first = a.root.head_object(B, "k").last_modified
        b.root.put_object(B, "k", b"second")
        second = b.root.head_object(B, "k").last_modified
        assert second >= first
        # A key b writes alone keeps b's own clock.
        b.root.put_object(B, "other", b"x")
        assert b.root.head_object(B, "other").last_modified < first
        # The newest version is what If-Unmodified-Since / If-Modified-Since see.
        assert a.root.get_object(B, "k", if_unmodified_since=second).read() == b"second"
        with pytest.raises(NotModified):
            a.root.get_object(B, "k", if_modified_since=second)


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


@pytest.mark.parametrize("same_namespace", [True, False])
def test_a_dead_pid_ends_a_lease_only_within_one_pid_namespace(
    tmp_path: Path, same_namespace: bool
) -> None:
    """gc reaps at once the lease of a process that is gone, but only if the lease was
    written in this boot and pid namespace: elsewhere (another container, another
    machine of the same name) that pid means nothing here, and the ttl decides."""
    with objstore.open(tmp_path / "s", gc_interval=None) as store:
        now = time.time_ns()
        host = leases.HOST if same_namespace else bytes(8)
        rec = LeaseRec(now, now, 0, now, _dead_pid(), host)
        lid = os.urandom(16)
        with store.blobs.meta.begin_write() as txn:
            txn.put(keyspace.LEASE + lid, rec.encode())
        horizon = store.blobs.leases.advance()
        assert (lid in horizon.live) != same_namespace
        assert horizon.reaped == (1 if same_namespace else 0)


def test_the_host_key_names_the_boot_and_the_pid_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert leases._host_key() == leases.HOST
    real = os.readlink
    monkeypatch.setattr(
        os, "readlink", lambda p: "pid:[1]" if p == "/proc/self/ns/pid" else real(p)
    )
    assert leases._host_key() != leases.HOST  # another namespace on this same boot

    def no_proc(path: str) -> str:
        raise FileNotFoundError(path)

    monkeypatch.setattr(os, "readlink", no_proc)
    # Nothing to tell namespaces apart: a key of its own, so the pid rule never applies.
    assert leases._host_key() != leases._host_key()


def test_two_chunk_stores_on_one_directory_never_share_a_temporary_file(
    tmp_path: Path,
) -> None:
    """Two handles (in one process here; on two hosts over a network file system the
    pids and thread ids coincide too) each write a chunk before syncing: their temporary
    names were pid.thread.counter, equal, and the second truncated the first's file."""
    one, two = FileChunkStore(tmp_path), FileChunkStore(tmp_path)
    data = [os.urandom(50_000), os.urandom(60_000)]
    ids = [ChunkId(blake3.blake3(d).digest()) for d in data]
    one.put(ids[0], data[0])
    two.put(ids[1], data[1])
    assert len(os.listdir(tmp_path / "tmp")) == 2
    one.sync()
    two.sync()
    for cid, d in zip(ids, data, strict=True):
        assert one.get(cid) == d and two.get(cid) == d
