"""A node still open on the chunk location a rebind left runs no gc (break-it review 9e,
finding 5).

Fenced from writing chunks, such a node still collected: it doomed the rebound store's
zero-reference chunks, dropping their records and leaving K marks under its own live
lease, which held up every upload of those bytes at the store's location (each waited,
then failed ServiceUnavailable) for as long as the node ran. Now its gc raises the
fence's StoreDamaged and marks nothing, and a failed upload's clean-up on it dooms
nothing either. Runs on both pairs.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from objstore import keyspace
from objstore.backends import urls
from objstore.blob.chunkstore import ChunkId
from objstore.blob.records import DOOM_REC, get_doom
from objstore.errors import ServiceUnavailable, StoreDamaged
from objstore.meta.scan import scan_prefix
from tests.backends.nodes import Backends
from tests.backends.test_chunk_owner import OTHER, B, _fill, _open, _other_chunks
from tests.backends.test_rebind_safety import _accept


def _marks_and_records(pair: Backends) -> tuple[int, int]:
    """How many K marks and chunk records the metadata holds."""
    meta = urls.open_metadata(urls.parse_metadata_url(pair.metadata))
    try:
        with meta.begin() as txn:
            dooms = sum(1 for _ in scan_prefix(txn, keyspace.DOOMED))
            records = sum(1 for _ in scan_prefix(txn, keyspace.CHUNKREF))
            return dooms, records
    finally:
        meta.close()


def test_a_fenced_node_collects_nothing(fresh_backends: Backends) -> None:
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as old:
        _fill(old)
        with _accept(pair, _other_chunks(pair, "fenced-gc")) as b:
            b.root.put_object(B, "gone", OTHER)
            b.root.delete_object(B, "gone")  # its chunks fall to zero references
            before = _marks_and_records(pair)
            for _ in range(3):  # as many passes as dropping a body and its chunks takes
                with pytest.raises(StoreDamaged, match="rebound to another chunk location"):
                    old.gc()
            assert _marks_and_records(pair) == before
            b.root.put_object(B, "again", OTHER)  # not held up by a fenced node's marks
            assert b.root.get_object(B, "again").read() == OTHER


def test_a_fenced_nodes_failed_deletions_hold_up_no_upload(
    fresh_backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deletion that failed before the rebind (the chunk store unreachable) leaves a K
    mark under the node's lease; once fenced, the node can neither finish it nor let
    another node take it over, so every upload of those bytes at the store's location
    waited and failed (break-it review 9f, M1). The fenced node's gc marks its own
    marks done without unlinking."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as old:
        _fill(old)
        old.root.put_object(B, "gone", OTHER)
        old.root.delete_object(B, "gone")

        def unreachable(*_: object) -> None:
            raise ServiceUnavailable("the chunk store cannot be reached")

        monkeypatch.setattr(old.blobs.chunks, "delete_many", unreachable)
        monkeypatch.setattr(old.blobs.chunks, "delete", unreachable)
        for _ in range(3):  # as many passes as dropping a body and its chunks takes
            if _marks_and_records(pair)[0]:
                break
            with contextlib.suppress(ServiceUnavailable):
                old.gc()
        assert _marks_and_records(pair)[0] > 0  # a stranded deletion
        with _accept(pair, _other_chunks(pair, "stranded")) as b:
            with pytest.raises(StoreDamaged, match="rebound to another chunk location"):
                old.gc()
            b.root.put_object(B, "again", OTHER)  # not held up by the node's marks
            assert b.root.get_object(B, "again").read() == OTHER


def test_a_fenced_node_leaves_the_dooms_it_is_deleting(fresh_backends: Backends) -> None:
    """Marking a fenced node's own dooms done skips those another of its threads is
    deleting: a rebind back to that location makes its delete land at the store's
    location, after a writer stored the bytes again (break-it review 9g, H1)."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as old:
        _fill(old)
        old.blobs.leases.heartbeat()
        own = old.blobs.leases.lease_id
        assert own is not None
        busy, stranded = ChunkId(os.urandom(32)), ChunkId(os.urandom(32))
        with old.blobs.meta.begin_write() as txn:
            for cid in (busy, stranded):
                txn.put(keyspace.DOOMED + cid, DOOM_REC.pack(own, 0))
        old.blobs.unlinking.add(busy)  # another thread of the node is deleting it
        with (
            _accept(pair, _other_chunks(pair, "busy")),
            pytest.raises(StoreDamaged, match="rebound to another chunk location"),
        ):
            old.gc()
        with old.blobs.meta.begin() as txn:
            assert get_doom(txn, busy) == (own, 0)  # left to its unlink
            done = get_doom(txn, stranded)
            assert done is not None and done[0] == own and done[1] > 0
        old.blobs.unlinking.discard(busy)
