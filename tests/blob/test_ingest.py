"""Ingest: chunk boundaries do not depend on buffering; hashes; failures leave nothing."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from pathlib import Path

import blake3
import pytest
from conftest import BATCHED_CHUNK, open_batched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore import keyspace
from objstore.blob.files import FileChunkStore
from objstore.blob.source import BufferPool
from objstore.errors import IncompleteBody, InternalError, InvalidArgument, NoSuchKey
from objstore.meta.scan import scan_prefix
from objstore.store import Store

MiB = 1 << 20


def _chunk_ids(store: Store) -> set[bytes]:
    return set(store.blobs.chunks.iter_ids())


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("chunking", ["cdc", "fixed"])
def test_boundaries_independent_of_how_the_body_arrives(chunking: str) -> None:
    """Bytes, a file and odd-sized pieces of the same data share every chunk."""
    data = os.urandom(40 * MiB)  # > two 16 MiB windows: carries across windows happen
    with objstore.open(None, chunking=chunking, chunk_size=256 * 1024) as store:
        store.root.create_bucket("ingest")
        first = store.root.put_object("ingest", "bytes", data)
        ids = _chunk_ids(store)
        second = store.root.put_object("ingest", "file", io.BytesIO(data))
        third = store.root.put_object("ingest", "pieces", _pieces(data, 999_983))
        assert _chunk_ids(store) == ids  # nothing new was stored
        assert first.etag == second.etag == third.etag == f'"{hashlib.md5(data).hexdigest()}"'
        assert first.checksum == third.checksum == blake3.blake3(data).hexdigest()
        assert store.root.get_object("ingest", "pieces").read() == data


def test_cdc_survives_an_insertion() -> None:
    """Content-defined chunks re-sync after an insertion; fixed chunks would not."""
    data = os.urandom(8 * MiB)
    shifted = data[:1000] + b"inserted!" + data[1000:]
    with objstore.open(None, chunking="cdc", chunk_size=256 * 1024) as store:
        store.root.create_bucket("ingest")
        store.root.put_object("ingest", "a", data)
        before = _chunk_ids(store)
        store.root.put_object("ingest", "b", shifted)
        new = _chunk_ids(store) - before
        assert 0 < len(new) <= 3  # only the chunks around the insertion


def test_blake3_etag_mode() -> None:
    """etag_mode='blake3' gives a 64-hex ETag equal to the object's BLAKE3."""
    data = os.urandom(3 * MiB)
    with objstore.open(None, etag_mode="blake3") as store:
        store.root.create_bucket("ingest")
        r = store.root.put_object("ingest", "k", data)
        assert r.etag == f'"{blake3.blake3(data).hexdigest()}"'
        assert len(r.etag.strip('"')) != 32


def test_failed_stream_leaves_no_reference() -> None:
    """A body that raises midway stores no object and no chunk reference."""

    def body():  # type: ignore[no-untyped-def]
        yield os.urandom(20 * MiB)
        raise OSError("connection reset")

    with objstore.open(None) as store:
        store.root.create_bucket("ingest")
        with pytest.raises(OSError):
            store.root.put_object("ingest", "k", body())
        assert store.root.list_objects("ingest").key_count == 0
        assert not _chunk_ids(store)  # released at once, not left for gc


def test_short_body_against_content_length() -> None:
    """A body shorter than content_length is IncompleteBody and stores nothing."""
    with objstore.open(None) as store:
        store.root.create_bucket("ingest")
        with pytest.raises(IncompleteBody):
            store.root.put_object(
                "ingest", "k", io.BytesIO(b"x" * (5 * MiB)), content_length=6 * MiB
            )
        with pytest.raises(IncompleteBody):
            store.root.put_object("ingest", "k", b"abc", content_length=2)
        assert store.root.list_objects("ingest").key_count == 0


def test_bad_body_types() -> None:
    """Text and other non-bytes bodies are InvalidArgument."""
    with objstore.open(None) as store:
        store.root.create_bucket("ingest")
        for bad in ("text", io.StringIO("text"), 42, ["a", "b"]):
            with pytest.raises(InvalidArgument):
                store.root.put_object("ingest", "k", bad)
        assert store.root.list_objects("ingest").key_count == 0


def test_buffer_pool_lends_a_free_buffer_or_makes_one_of_the_size_asked() -> None:
    pool = BufferPool(1 * MiB, keep=1)
    small = pool.take(100)
    assert len(small) == 100
    pool.give(small)  # not the pool's size: dropped
    assert len(pool.take()) == 1 * MiB
    pool.give(bytearray(1 * MiB))
    assert len(pool.take(100)) == 1 * MiB  # a free pooled buffer serves any size
    assert len(pool.take(5 * MiB)) == 1 * MiB  # never more than the pool's size


def test_small_declared_body_takes_no_window_sized_buffer() -> None:
    """With every pooled window taken, a small streamed PUT with a content length makes
    a buffer of its own size, not a 16 MiB window (which the pool would then keep)."""
    with objstore.open(None) as store:
        store.root.create_bucket("ingest")
        pool = store.blobs.buffers
        while pool._free:  # as when other uploads hold every pooled buffer
            pool.take()
        for size in (10, 4096, 300_000):
            data = os.urandom(size)
            store.root.put_object("ingest", "k", io.BytesIO(data), content_length=size)
            assert store.root.get_object("ingest", "k").read() == data
        assert pool._free == []
        store.root.put_object("ingest", "k", io.BytesIO(b"x" * 5000))  # no length declared
        assert [len(b) for b in pool._free] == [pool.size]


_AROUND = [0, 1, 1023, 1024, 1025, 4096, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200_000]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    declared=st.sampled_from(_AROUND),
    delta=st.integers(-2, 2),
    kind=st.sampled_from(["bytes", "file", "pieces"]),
    pool_free=st.booleans(),
)
def test_declared_length_decides_like_the_body_arrives(
    declared: int, delta: int, kind: str, pool_free: bool
) -> None:
    """Whatever window the declared length picks: a body of exactly that length is
    stored whole; one shorter or longer is IncompleteBody and leaves nothing."""
    size = max(0, declared + delta)
    data = os.urandom(size)
    body: object = {
        "bytes": data,
        "file": io.BytesIO(data),
        "pieces": _pieces(data, 777) if data else [],
    }[kind]
    with objstore.open(None, chunk_size=64 * 1024, inline_threshold=1024) as store:
        store.root.create_bucket("ingest")
        if not pool_free:
            while store.blobs.buffers._free:
                store.blobs.buffers.take()
        if size == declared:
            r = store.root.put_object("ingest", "k", body, content_length=declared)
            assert r.etag == f'"{hashlib.md5(data).hexdigest()}"'
            assert store.root.get_object("ingest", "k").read() == data
        else:
            with pytest.raises(IncompleteBody):
                store.root.put_object("ingest", "k", body, content_length=declared)
            assert store.root.list_objects("ingest").key_count == 0
            assert not _chunk_ids(store)


def test_streamed_upload_is_durable_when_acknowledged_and_a_failed_last_sync_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last sync of a streamed body runs beside the end of its hashing: the PUT still
    returns only after it (nothing left pending), and when it fails the PUT fails and
    leaves nothing referenced."""
    data = os.urandom(40 * BATCHED_CHUNK + 5)  # windows of 4 chunks, batches of 4 chunks
    with open_batched(tmp_path / "s") as store:
        store.root.create_bucket("ingest")
        chunks = store.blobs.chunks
        assert isinstance(chunks, FileChunkStore)
        store.root.put_object("ingest", "ok", io.BytesIO(data))
        assert not chunks._q.files  # every chunk synced and under its id
        assert store.root.get_object("ingest", "ok").read() == data

        real_sync = chunks.sync

        def failing_sync(cids: object = ()) -> None:
            if sys._getframe(1).f_code.co_name == "_commit":
                real_sync(cids)  # the batches before the last one
                return
            raise InternalError("injected sync failure")

        monkeypatch.setattr(chunks, "sync", failing_sync)
        other = os.urandom(40 * BATCHED_CHUNK + 7)
        with pytest.raises(InternalError):
            store.root.put_object("ingest", "bad", io.BytesIO(other))
        monkeypatch.undo()
        with pytest.raises(NoSuchKey):
            store.root.head_object("ingest", "bad")
        kept = {
            blake3.blake3(data[i : i + BATCHED_CHUNK]).digest()
            for i in range(0, len(data), BATCHED_CHUNK)
        }
        # The chunks of the batches synced before went at once. Those whose sync failed
        # are not durable, so no record vouches for them (a record would let the next
        # upload of those bytes be acknowledged without a sync: break-it review 9k):
        # they are files no record names, for gc's sweep of orphans.
        store.gc()
        with store.blobs.meta.begin() as txn:
            named = {k[len(keyspace.CHUNKREF) :] for k, _ in scan_prefix(txn, keyspace.CHUNKREF)}
        assert named == kept and kept <= _chunk_ids(store)
