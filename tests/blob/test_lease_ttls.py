"""Nodes with different ``lease_ttl``s: every lease is judged by its own ttl (review 9c, M2).

gc judged every node's lease by the ttl of the node running it, so a gc node with a
short ``--lease-ttl`` reaped the lease of a default-ttl node (renewed every ttl/4)
within seconds: a GET in progress there lost its body (DataCorruption) and its writers
failed with ServiceUnavailable. A lease now records its handle's ttl; a record of the
earlier format is judged by the longer of the reaper's ttl and the default. Time is a
fake clock, shared by both handles, so expiry is exact.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.blob import leases
from objstore.blob.leases import LeaseRec
from objstore.errors import InvalidArgument, ServiceUnavailable, StoreClosed, StoreDamaged
from tests.blob.test_gc import CHUNK, Clock, commit, read_body, staged

LONG, SHORT = 600.0, 2.0


def _node(tmp_path: Path, clock: Clock, key: bytes, ttl: float) -> objstore.Store:
    return objstore.open(
        metadata=f"lmdb://{tmp_path}/meta",
        chunks=f"file://{tmp_path}/chunks",
        secret_key=key,
        chunk_size=CHUNK,
        inline_threshold=1024,
        clock=clock,
        gc_interval=None,
        lease_ttl=ttl,
    )


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[objstore.Store, objstore.Store, Clock]]:
    """A default-ttl node and a short-ttl gc node over the same backends."""
    clock, key = Clock(), os.urandom(32)
    slow = _node(tmp_path, clock, key, LONG)
    gc = _node(tmp_path, clock, key, SHORT)
    slow.root.create_bucket("bkt")
    try:
        yield slow, gc, clock
    finally:
        gc.close()
        slow.close()


def test_a_short_ttl_gc_keeps_a_default_ttl_readers_body(
    nodes: tuple[objstore.Store, objstore.Store, Clock],
) -> None:
    slow, gc, clock = nodes
    data = os.urandom(6 * CHUNK)
    slow.root.put_object("bkt", "big", data)
    reader = slow.root.get_object("bkt", "big")
    first = reader.read(CHUNK)
    gc.root.delete_object("bkt", "big")  # another node deletes it
    clock.advance(SHORT + 1)  # the reader pauses, well within its own ttl
    for _ in range(2):
        r = gc.gc()
        assert (r.leases_expired, r.bodies_dropped, r.chunks_deleted) == (0, 0, 0)
    assert first + reader.read() == data
    reader.close()
    a, b = slow.gc(), gc.gc()  # slow's lease no longer protects it once republished
    assert (a.bodies_dropped + b.bodies_dropped, a.chunks_deleted + b.chunks_deleted) == (1, 6)


def test_a_short_ttl_gc_keeps_a_default_ttl_writers_lease(
    nodes: tuple[objstore.Store, objstore.Store, Clock],
) -> None:
    slow, gc, clock = nodes
    data = os.urandom(5 * CHUNK)
    ing = staged(slow, data)
    clock.advance(SHORT + 1)
    r = gc.gc()
    assert (r.leases_expired, r.uploads_released, r.chunks_deleted) == (0, 0, 0)
    data_id = commit(slow, ing)  # was ServiceUnavailable: its lease had been reaped
    assert read_body(slow, data_id, len(data)) == data


def test_each_lease_expires_after_its_own_ttl(
    nodes: tuple[objstore.Store, objstore.Store, Clock],
) -> None:
    """Liveness both ways: the long-ttl node's gc reaps the silent short-ttl lease
    after the short ttl, and the short-ttl gc the silent long one after the long."""
    slow, gc, clock = nodes
    skew = _skew(gc)
    gc.root.put_object("bkt", "x", b"y" * 5000)  # both leases exist
    slow.root.put_object("bkt", "z", b"w" * 5000)
    clock.advance(SHORT + skew + 1)
    assert slow.gc().leases_expired == 1  # gc's own, silent for longer than its ttl
    clock.advance(LONG + skew + 1)  # slow's gc renewed its own lease: silent since then
    assert gc.gc().leases_expired == 1


def _skew(node: objstore.Store) -> float:
    return node.blobs.leases.skew_ns / 1e9


def test_a_lease_is_kept_for_the_clock_skew_past_its_ttl(
    nodes: tuple[objstore.Store, objstore.Store, Clock],
) -> None:
    """The heartbeat is written by the other node's clock, which may run up to the clock
    skew behind the reaper's: a short-ttl lease reaped at exactly its ttl lost a reader's
    body to gc on a node whose clock ran 0.9 s behind (review 9d)."""
    slow, gc, clock = nodes
    skew = _skew(slow)
    assert skew > 0
    lid = gc.blobs.leases.advance().own  # gc's lease, ttl SHORT, renewed now
    clock.advance(SHORT + skew / 2)  # past its ttl, within the skew
    assert lid in slow.blobs.leases.advance().live
    clock.advance(skew)  # past both
    assert lid not in slow.blobs.leases.advance().live


@pytest.mark.parametrize(("silent", "reaped"), [(SHORT + 1, False), (LONG + 1, True)])
def test_a_lease_of_the_earlier_format_gets_the_default_ttl_at_least(
    nodes: tuple[objstore.Store, objstore.Store, Clock], silent: float, reaped: bool
) -> None:
    """A record without a ttl (written before leases carried one; its node most likely
    runs the default) is judged by max(the reaper's ttl, 600 s), never a shorter one."""
    _, gc, clock = nodes
    then = clock.now
    old = LeaseRec(then, then, 0, then, 1, bytes(8))
    raw = old.encode()[:-8]  # the earlier format: no ttl field
    assert len(raw) == 48 and LeaseRec.decode(raw) == old
    lid = os.urandom(16)
    with gc.blobs.meta.begin_write() as txn:
        txn.put(keyspace.LEASE + lid, raw)
    assert gc.fsck(verify_data=False).healthy  # fsck reads it too
    clock.advance(silent + _skew(gc))
    horizon = gc.blobs.leases.advance()
    assert (lid not in horizon.live) == reaped
    assert old.ttl(int(SHORT * 1e9)) == leases.V1_TTL_NS
    assert LeaseRec.decode(LeaseRec(1, 2, 3, 4, 5, bytes(8), 7).encode()).ttl(9) == 7


@pytest.mark.parametrize("ttl", [2e10, 86_401.0, float("inf"), float("nan"), 0.0, -1.0])
def test_a_lease_ttl_out_of_range_is_refused_at_open(tmp_path: Path, ttl: float) -> None:
    """2e10 s passed the check and then overflowed the record's ttl field (a raw
    struct.error at the first write); a crashed node's day-long lease is the most gc
    waits for (review 9d)."""
    with pytest.raises(InvalidArgument):
        objstore.open(tmp_path / "s", lease_ttl=ttl)
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").rglob("objstore.json"))


@pytest.mark.parametrize("size", [0, 47, 52])
def test_a_lease_record_of_a_wrong_length_is_store_damage(size: int) -> None:
    """Not a raw struct.error out of gc and fsck (review 9d)."""
    with pytest.raises(StoreDamaged, match="lease record"):
        LeaseRec.decode(bytes(size))


@pytest.mark.parametrize("renewal_fails_once", [False, True])
def test_a_slow_delete_keeps_the_gc_lease(
    nodes: tuple[objstore.Store, objstore.Store, Clock],
    monkeypatch: pytest.MonkeyPatch,
    renewal_fails_once: bool,
) -> None:
    """A gc's chunk-store delete outlasting its lease's ttl (an S3 client retrying for up
    to a minute) must not let another node reap the lease and take the doom over: a
    writer would store those bytes again and the late delete remove them (break-it
    review 9e, finding 3). The lease is renewed while the delete runs, and a failed
    renewal is tried again (review 9f, H1: the renewals stopped at the first failure)."""
    slow, gc, clock = nodes
    _setup_dead_chunks(slow, gc)
    if renewal_fails_once:
        beat = gc.blobs.leases.heartbeat
        calls: list[int] = []

        def flaky() -> None:
            calls.append(1)
            if len(calls) == 1:
                raise ServiceUnavailable("the metadata is unreachable for a moment")
            beat()

        monkeypatch.setattr(gc.blobs.leases, "heartbeat", flaky)
    data = DEAD
    real = gc.blobs.chunks.delete_many
    seen: list[int] = []

    def late_delete(cids: list[bytes]) -> None:
        clock.advance(SHORT + 2)  # past the gc node's ttl and the clock skew
        time.sleep(SHORT / 4 * 3.5)  # (real time) long enough for three renewals
        seen.append(slow.gc().leases_expired)
        if seen[-1]:  # the doom was taken over: a writer may store the bytes again now
            slow.root.put_object("bkt", "again", data)
        real(cids)

    monkeypatch.setattr(gc.blobs.chunks, "delete_many", late_delete)
    assert gc.gc().chunks_deleted == 3
    assert seen == [0]  # the gc node's lease stayed alive through the delete
    slow.root.put_object("bkt", "again", data)
    assert slow.root.get_object("bkt", "again").read() == data


DEAD = os.urandom(3 * CHUNK)


def _setup_dead_chunks(slow: objstore.Store, gc: objstore.Store) -> None:
    """Store and delete DEAD through ``slow``, then let ``gc`` drop its body, so that its
    next pass deletes DEAD's 3 chunks."""
    slow.root.put_object("bkt", "k", DEAD)
    slow.root.delete_object("bkt", "k")
    # Each gc step waits until slow's lease, renewed after it, no longer protects what
    # the step drops: the body, then its chunks.
    for dropped in (0, 1):
        assert gc.gc().bodies_dropped == dropped
        slow.blobs.leases.heartbeat()


def test_close_waits_for_a_delete_under_its_lease(
    nodes: tuple[objstore.Store, objstore.Store, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gc pass run on another thread is deleting chunks when the store is closed: the
    lease stays until the delete has returned, since another gc takes a doom over as soon
    as the lease is gone and a writer may then store those bytes again under the late
    delete (break-it review 9f, H3: close removed the lease at once)."""
    slow, gc, _ = nodes
    _setup_dead_chunks(slow, gc)
    lease = gc.blobs.leases.lease_id
    assert lease is not None
    deleting, release = threading.Event(), threading.Event()
    real = gc.blobs.chunks.delete_many

    def held_delete(cids: list[bytes]) -> None:
        deleting.set()
        assert release.wait(30)
        real(cids)

    monkeypatch.setattr(gc.blobs.chunks, "delete_many", held_delete)
    ended: list[BaseException | None] = []

    def run_pass() -> None:
        try:
            gc.gc()
        except StoreClosed as exc:  # the rest of the pass met the closed store
            ended.append(exc)
        else:
            ended.append(None)

    passes = threading.Thread(target=run_pass)
    passes.start()
    assert deleting.wait(30)
    closer = threading.Thread(target=gc.close)
    closer.start()
    closer.join(0.5)
    assert closer.is_alive()  # close waits for the delete ...
    with slow.blobs.meta.begin() as txn:
        assert txn.get(keyspace.LEASE + lease) is not None  # ... and keeps the lease
    release.set()
    passes.join(30)
    closer.join(30)
    assert not closer.is_alive() and len(ended) == 1
    with slow.blobs.meta.begin() as txn:
        assert txn.get(keyspace.LEASE + lease) is None


def test_a_close_right_after_the_lease_check_waits_for_the_delete(
    nodes: tuple[objstore.Store, objstore.Store, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close running after an unlink's lease check but before its deletion was counted
    removed the lease under the delete (break-it review 9g, H2): the check now runs once
    the deletion is counted, so the close waits for it."""
    slow, gc, _ = nodes
    _setup_dead_chunks(slow, gc)
    lease = gc.blobs.leases.lease_id
    assert lease is not None
    real_fresh, real_delete = gc.blobs.leases.fresh, gc.blobs.chunks.delete_many
    closer = threading.Thread(target=gc.blobs.leases.close)
    lease_there: list[bool] = []

    def fresh_then_close(lid: bytes) -> bool:
        ok = real_fresh(lid)
        if closer.ident is None:  # a close starts right after the (first) check
            closer.start()
            closer.join(0.5)
        return ok

    def delete(cids: list[bytes]) -> None:
        with slow.blobs.meta.begin() as txn:
            lease_there.append(txn.get(keyspace.LEASE + lease) is not None)
        real_delete(cids)

    monkeypatch.setattr(gc.blobs.leases, "fresh", fresh_then_close)
    monkeypatch.setattr(gc.blobs.chunks, "delete_many", delete)
    assert gc.gc().chunks_deleted == 3
    closer.join(30)
    assert lease_there == [True] and not closer.is_alive()
