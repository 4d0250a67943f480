"""One chunk location, one store (break-it review of issue 9, F1: data loss).

Each store's gc deletes the chunks its own metadata does not name, so two stores
sharing a chunk location deleted each other's data: two new databases opened on one
empty prefix, or a database reopened on another store's prefix. A mistyped prefix
also took acknowledged writes the right location never saw. The chunk store now
carries its owner's id (``objstore-owner.json``), claimed create-if-absent at the
first open; every test below failed before it (the second store opened).

Runs on both pairs: LMDB + chunk files, and PostgreSQL + Ceph RGW.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import obstore
import pytest

import objstore
from objstore.backends import urls
from objstore.backends.s3 import S3ChunkStore
from objstore.blob import owner
from objstore.blob.chunkstore import OWNER_NAME, ChunkOwner, ChunkStore, OwnerMark
from objstore.errors import StoreDamaged
from objstore.meta import marker
from objstore.testing.services.fixtures import _fresh_database
from tests.backends.nodes import Backends

B = "owned"
DATA = os.urandom(3 << 20)  # several chunks, none inlined
OTHER = os.urandom(3 << 20)


@pytest.fixture
def new_metadata(
    fresh_backends: Backends, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """Makes the URL of another fresh, empty metadata store of the pair's kind."""
    with ExitStack() as stack:

        def make() -> str:
            if fresh_backends.name == "local":
                return f"lmdb://{tmp_path}/meta-{os.urandom(4).hex()}"
            databases = _fresh_database(request.getfixturevalue("postgres_service"))
            url = next(databases)
            stack.callback(_drain, databases)  # drops the database
            return url

        yield make


def _drain(gen: Iterator[object]) -> None:
    for _ in gen:
        pass


def _other_chunks(pair: Backends, other: str = "other") -> str:
    """The pair's chunk URL with another directory or prefix."""
    if pair.name == "local":
        return f"{pair.chunks}-{other}"
    return pair.chunks.replace("/chunks?", f"/chunks-{other}?", 1)


def _open(metadata: str, chunks: str, key: bytes) -> objstore.Store:
    return objstore.open(metadata=metadata, chunks=chunks, secret_key=key)


def _owner(chunks: str) -> str | None:
    store = urls.open_chunks(urls.parse_chunks_url(chunks))
    try:
        assert isinstance(store, ChunkOwner)
        mark = store.read_owner()
        return None if mark is None else mark.store_id
    finally:
        store.close()


def _fill(s: objstore.Store, key: str = "k", data: bytes = DATA) -> None:
    s.root.create_bucket(B)
    s.root.put_object(B, key, data)


def test_a_second_new_store_on_a_claimed_location_is_refused(
    fresh_backends: Backends, new_metadata: Callable[[], str]
) -> None:
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as first:
        # Before the first store wrote a chunk, only the owner mark tells them apart.
        with pytest.raises(StoreDamaged, match="belongs to store"):
            _open(new_metadata(), pair.chunks, os.urandom(32))
        _fill(first)
    # After, the older rule (empty metadata beside chunks) may answer first.
    with pytest.raises(StoreDamaged, match=r"belongs to store|holds chunks but no metadata"):
        _open(new_metadata(), pair.chunks, os.urandom(32))
    with _open(pair.metadata, pair.chunks, pair.key) as first:
        first.gc()
        assert first.root.get_object(B, "k").read() == DATA
        assert first.fsck().healthy


def test_a_store_reopened_on_an_unmarked_location_is_refused(
    fresh_backends: Backends,
) -> None:
    """A mistyped prefix or directory: refused before anything is written there."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        _fill(s)
    wrong = _other_chunks(pair)
    with pytest.raises(StoreDamaged, match="is empty and carries no mark") as caught:
        _open(pair.metadata, wrong, pair.key)
    assert _owner(wrong) is None
    assert "name the recorded location" in str(caught.value)
    with _open(pair.metadata, pair.chunks, pair.key) as s:
        assert s.root.get_object(B, "k").read() == DATA


def test_a_store_reopened_on_another_stores_location_is_refused(
    fresh_backends: Backends, new_metadata: Callable[[], str]
) -> None:
    pair = fresh_backends
    other_meta, other_chunks, other_key = new_metadata(), _other_chunks(pair), os.urandom(32)
    with _open(pair.metadata, pair.chunks, pair.key) as a:
        _fill(a, "from-a")
    with _open(other_meta, other_chunks, other_key) as b:
        _fill(b, "from-b")
    with pytest.raises(StoreDamaged, match="belongs to store"):
        _open(pair.metadata, other_chunks, pair.key)
    with _open(other_meta, other_chunks, other_key) as b:
        b.gc()
        assert b.root.get_object(B, "from-b").read() == DATA
    with _open(pair.metadata, pair.chunks, pair.key) as a:
        assert a.root.get_object(B, "from-a").read() == DATA


def test_first_opens_racing_for_one_location_leave_one_owner(
    fresh_backends: Backends, new_metadata: Callable[[], str]
) -> None:
    """On S3 also with ``conditional_put=0`` (look-then-PUT for chunks), which must not
    weaken the claim: it still uses If-None-Match where the backend has it (break-it
    review H2: two of five racing stores opened, and their gcs deleted each other's
    objects)."""
    pair = fresh_backends
    _race([pair.metadata, *(new_metadata() for _ in range(3))], pair.chunks, pair.key)
    if pair.name == "distributed":
        lookup = _other_chunks(pair) + "&conditional_put=0"
        _race([new_metadata() for _ in range(4)], lookup, os.urandom(32))


def _at_once(opens: list[Callable[[], objstore.Store]]) -> dict[int, objstore.Store | Exception]:
    """Run the opens in threads started together; what each returned or raised."""
    barrier = threading.Barrier(len(opens))
    outcome: dict[int, objstore.Store | Exception] = {}

    def racer(i: int) -> None:
        barrier.wait()
        try:
            outcome[i] = opens[i]()
        except Exception as exc:  # the outcome is the test's subject
            outcome[i] = exc

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(len(opens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcome


def _race(metas: list[str], chunks: str, key: bytes) -> None:
    keys = [key, *(os.urandom(32) for _ in metas[1:])]
    outcome = _at_once([partial(_open, m, chunks, k) for m, k in zip(metas, keys, strict=True)])
    opened = {i: s for i, s in outcome.items() if isinstance(s, objstore.Store)}
    refused = [e for e in outcome.values() if not isinstance(e, objstore.Store)]
    try:
        assert len(opened) == 1, outcome
        assert all(isinstance(e, StoreDamaged) for e in refused), refused
        assert len(refused) == len(metas) - 1
        (winner,) = opened.values()
        _fill(winner)
        winner.gc()
        assert winner.root.get_object(B, "k").read() == DATA
    finally:
        for s in opened.values():
            s.close()


def _forget_the_claim(metadata: str, chunks: str) -> None:
    """Make a store look made before chunk stores were marked: no mark, no record."""
    store = urls.open_chunks(urls.parse_chunks_url(chunks))
    try:
        if isinstance(store, S3ChunkStore):
            store._call("test: deleting the mark", lambda st: obstore.delete(st, OWNER_NAME))
        else:
            (Path(store.root) / OWNER_NAME).unlink()  # type: ignore[attr-defined]
        assert isinstance(store, ChunkOwner) and store.read_owner() is None
    finally:
        store.close()
    meta = urls.open_metadata(urls.parse_metadata_url(metadata))
    try:
        with meta.begin_write() as txn:
            assert txn.delete(b"Gchunks-owner")
    finally:
        meta.close()


def test_adoption_refuses_another_old_stores_location(
    fresh_backends: Backends, new_metadata: Callable[[], str]
) -> None:
    """Break-it reviews: a store made before the mark claimed any unmarked location
    (later: any whose 16-id sample looked like its own, which deduplicated content can
    steer), another old store's too, and its gc deleted that store's chunks. An old store
    now claims a location named by URL only once the user wrote the mark by hand."""
    pair = fresh_backends
    other_meta, other_chunks, other_key = new_metadata(), _other_chunks(pair), os.urandom(32)
    with _open(pair.metadata, pair.chunks, pair.key) as a:
        _fill(a, "from-a")
    with _open(other_meta, other_chunks, other_key) as b:
        _fill(b, "from-a", DATA)  # the same object: every chunk of A is in B's location
        b.root.put_object(B, "from-b", OTHER)
    a_id, b_id = _owner(pair.chunks), _owner(other_chunks)
    assert a_id is not None and b_id is not None
    _forget_the_claim(pair.metadata, pair.chunks)
    _forget_the_claim(other_meta, other_chunks)
    with pytest.raises(StoreDamaged, match="never claimed a chunk store") as caught:
        _open(pair.metadata, other_chunks, pair.key)
    assert a_id in str(caught.value)
    assert _owner(other_chunks) is None
    # The documented way to accept a location: write its mark.
    _write_mark(other_chunks, b_id)
    _write_mark(pair.chunks, a_id)
    with _open(other_meta, other_chunks, other_key) as b:
        b.gc()
        assert b.root.get_object(B, "from-b").read() == OTHER
    with _open(pair.metadata, pair.chunks, pair.key) as a:
        assert a.root.get_object(B, "from-a").read() == DATA


def _write_mark(chunks: str, store_id: str) -> None:
    store = urls.open_chunks(urls.parse_chunks_url(chunks))
    try:
        assert isinstance(store, ChunkOwner)
        # By hand, as the message says: the store id alone (no location id).
        assert store.claim_owner(OwnerMark(store_id)) == OwnerMark(store_id)
    finally:
        store.close()


def _chunk_ids(chunks: str) -> set[bytes]:
    store = urls.open_chunks(urls.parse_chunks_url(chunks))
    try:
        return set(store.iter_ids())
    finally:
        store.close()


def test_metadata_left_by_a_refused_first_open_does_not_claim_an_old_stores_location(
    fresh_backends: Backends, new_metadata: Callable[[], str]
) -> None:
    """Review 9 (R1): metadata holding only an identity (a first open refused after the
    identity was committed, a lost first-open race, a crash before the claim) claimed
    any unmarked location, an old store's full of chunks too, and its gc deleted them."""
    pair = fresh_backends
    with _open(pair.metadata, pair.chunks, pair.key) as x:
        _fill(x)
    _forget_the_claim(pair.metadata, pair.chunks)  # x: an old store
    z_chunks = _other_chunks(pair, "z")
    with _open(new_metadata(), z_chunks, os.urandom(32)):
        pass  # z: a new store, no chunk yet
    y_meta, y_key = new_metadata(), os.urandom(32)
    with pytest.raises(StoreDamaged, match="belongs to store"):
        _open(y_meta, z_chunks, y_key)  # y's metadata now holds an identity
    before = _chunk_ids(pair.chunks)
    assert before
    with pytest.raises(StoreDamaged, match="holds chunks but carries no owner mark"):
        _open(y_meta, pair.chunks, y_key)
    assert _owner(pair.chunks) is None
    assert _chunk_ids(pair.chunks) == before
    with _open(y_meta, _other_chunks(pair, "y"), y_key) as y:  # an empty one: claimed
        _fill(y, "from-y", OTHER)
        y.gc()


def test_first_opens_racing_with_two_locations_bind_one(
    fresh_backends: Backends,
) -> None:
    """Review 9 (R9): first opens of one new store with two chunk locations (a node
    configured with another prefix) each read "no claim recorded", claimed their own
    location with the store id and matched the record (the id alone): the store opened
    on both for good. The interleaving is forced: the second open's claim returns after
    the first open finished binding."""
    pair = fresh_backends
    first, second = pair.chunks, _other_chunks(pair)
    meta = urls.open_metadata(urls.parse_metadata_url(pair.metadata))
    l1 = urls.open_chunks(urls.parse_chunks_url(first))
    l2 = urls.open_chunks(urls.parse_chunks_url(second))
    try:
        assert isinstance(l1, ChunkOwner) and isinstance(l2, ChunkOwner)
        ident = marker.establish(None, meta, None, has_chunks=lambda: False, where="test")

        def bind(store: ChunkOwner, claim: Callable[[OwnerMark], OwnerMark]) -> None:
            assert isinstance(store, ChunkStore)
            loc = owner.Location(
                "test", store, store.read_owner, claim, None, lambda: False, lambda: False
            )
            owner.bind_chunks(meta, ident, loc)

        def claim_second(mark: OwnerMark) -> OwnerMark:
            got = l2.claim_owner(mark)
            bind(l1, l1.claim_owner)  # the other node's whole open, in between
            return got

        with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
            bind(l2, claim_second)
        recorded = l1.read_owner()
        marked = l2.read_owner()
        assert recorded is not None and marked is not None
        assert recorded.store_id == marked.store_id == ident.store_id
        assert recorded.location != marked.location
    finally:
        for backend in (l1, l2, meta):
            backend.close()
    with pytest.raises(StoreDamaged, match="not the location its metadata recorded"):
        _open(pair.metadata, second, pair.key)
    with _open(pair.metadata, first, pair.key) as s:
        _fill(s)
    # A copy of the location (a replica, a restored backup) carries the same mark.
    replica = _other_chunks(pair, "replica")
    store = urls.open_chunks(urls.parse_chunks_url(replica))
    try:
        assert isinstance(store, ChunkOwner)
        assert store.claim_owner(recorded) == recorded
    finally:
        store.close()
    with _open(pair.metadata, replica, pair.key) as s:
        assert s.root.list_buckets()
