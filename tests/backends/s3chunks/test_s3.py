"""S3ChunkStore beyond the conformance suite: URLs, layout, write times, corruption."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import blake3
import pytest

import objstore
from objstore.backends.s3 import MTIME_META, S3ChunkStore
from objstore.blob.chunkstore import ChunkId
from objstore.errors import DataCorruption, InvalidArgument, NoSuchBucket
from objstore.meta.memory import MemoryMetadataStore
from tests.backends.s3chunks.conftest import S3Target
from tests.test_fork import _in_child


def cid_of(data: bytes) -> ChunkId:
    return ChunkId(blake3.blake3(data).digest())


@pytest.fixture
def chunks(s3_url: str) -> Iterator[S3ChunkStore]:
    store = S3ChunkStore.from_url(s3_url)
    yield store
    store.close()


def test_from_url_reads_parameters_and_repr_shows_no_secret(
    s3_env: S3Target, s3_bucket: str
) -> None:
    store = S3ChunkStore.from_url(
        f"s3://{s3_bucket}/a/b/?endpoint={s3_env.endpoint}&region=us-east-1"
        "&concurrency=3&retry_time=7"
    )
    assert (store.bucket, store.prefix, store.concurrency) == (s3_bucket, "a/b", 3)
    assert store.backoff.deadline == 7
    text = repr(store)
    assert s3_bucket in text and s3_env.endpoint in text
    assert s3_env.secret_key not in text and s3_env.access_key not in text
    store.close()


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIAX:secret@bucket/p?endpoint=http://127.0.0.1:1",
        "s3://bucket/p?endpoint=http://key:secret@127.0.0.1:1",
        "s3://bucket/p?endpoint=ftp://127.0.0.1:1",
        "s3://bucket/p?aws_secret_access_key=x",
        "s3://bucket/p?concurrency=lots",
        "s3://bucket/p?concurrency=0",
        "s3://bucket/p?concurrency=nan",
        "s3://bucket/p?retry_time=nan",
        "s3://bucket/p?read_timeout=inf",
        "s3://bucket/p?connect_timeout=-1",
        "http://bucket/p",
        "s3:///p",
    ],
)
def test_bad_urls_are_refused_before_any_request(url: str) -> None:
    """Credentials are never taken from a URL (where they would end up in logs)."""
    with pytest.raises(InvalidArgument):
        S3ChunkStore.from_url(url)


def test_missing_bucket_is_refused_unless_create(s3_env: S3Target) -> None:
    name = f"absent-{os.urandom(6).hex()}"
    url = f"s3://{name}/c?endpoint={s3_env.endpoint}&region=us-east-1&retry_time=5"
    with pytest.raises(NoSuchBucket):
        S3ChunkStore.from_url(url)
    store = S3ChunkStore.from_url(url + "&create=1")
    try:
        store.put(cid_of(b"made"), b"made")
        assert store.get(cid_of(b"made")) == b"made"
        S3ChunkStore.from_url(url + "&create=1").close()  # an existing bucket is fine too
    finally:
        store.close()
        from tests.backends.s3chunks.conftest import empty_bucket

        empty_bucket(s3_env.admin(), name)


def test_one_object_per_chunk_under_the_prefix(
    chunks: S3ChunkStore, s3_env: S3Target, s3_bucket: str
) -> None:
    data = os.urandom(5000)
    chunks.put(cid_of(data), data)
    h = cid_of(data).hex()
    keys = [o["Key"] for o in s3_env.admin().list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == [f"chunks/{h[:2]}/{h}"]


def test_stat_is_the_writers_clock_at_the_put(chunks: S3ChunkStore) -> None:
    """Exact ns of the writer (not Last-Modified's truncated second): gc compares it with
    lease floors taken on the writer's clock."""
    data = os.urandom(3000)
    before = time.time_ns()
    chunks.put(cid_of(data), data)
    after = time.time_ns()
    st = chunks.stat(cid_of(data))
    assert st is not None
    assert st[0] == len(data) and before <= st[1] <= after


def test_stat_without_metadata_rounds_last_modified_up(
    chunks: S3ChunkStore, s3_env: S3Target, s3_bucket: str
) -> None:
    """An object some other tool wrote: its second's end, never earlier than the write."""
    data = os.urandom(2000)
    before = time.time_ns()
    s3_env.admin().put_object(Bucket=s3_bucket, Key=f"chunks/{chunks.key(cid_of(data))}", Body=data)
    st = chunks.stat(cid_of(data))
    assert st is not None and st[0] == len(data)
    assert st[1] % 1_000_000_000 == 999_999_999
    assert st[1] >= before  # the server shares this machine's clock


def test_put_of_a_stored_chunk_keeps_the_first_copy(
    chunks: S3ChunkStore, s3_env: S3Target, s3_bucket: str
) -> None:
    """Create-if-absent: the second put leaves the object (and its write time) alone."""
    data = os.urandom(4000)
    chunks.put(cid_of(data), data)
    first = chunks.stat(cid_of(data))
    chunks.put(cid_of(data), data)
    assert chunks.stat(cid_of(data)) == first
    head = s3_env.admin().head_object(Bucket=s3_bucket, Key=f"chunks/{chunks.key(cid_of(data))}")
    assert first is not None and head["Metadata"][MTIME_META] == str(first[1])


def test_a_put_over_a_damaged_copy_heals_it(
    chunks: S3ChunkStore, s3_env: S3Target, s3_bucket: str
) -> None:
    """Create-if-absent never keeps bytes that do not match their id: re-uploading heals."""
    data = os.urandom(6000)
    key = f"chunks/{chunks.key(cid_of(data))}"
    s3_env.admin().put_object(Bucket=s3_bucket, Key=key, Body=os.urandom(6000))
    chunks.put(cid_of(data), data)
    assert chunks.get(cid_of(data)) == data


def test_get_then_put_mode(s3_url: str) -> None:
    """conditional_put=0 (backends without If-None-Match) keeps the same semantics."""
    store = S3ChunkStore.from_url(s3_url + "&conditional_put=0")
    try:
        data = os.urandom(3000)
        store.put(cid_of(data), data)
        first = store.stat(cid_of(data))
        store.put(cid_of(data), memoryview(data))
        assert store.stat(cid_of(data)) == first
        assert store.get(cid_of(data)) == data
    finally:
        store.close()


def test_a_corrupted_object_is_corruption_and_is_quarantined(
    s3_url: str, s3_env: S3Target, s3_bucket: str
) -> None:
    """Bytes that do not match their id come up as DataCorruption (never "missing"); the
    blob layer moves them aside, and uploading the same bytes again heals the object."""
    chunks = S3ChunkStore.from_url(s3_url)
    store = objstore.open(
        None,
        chunk_store=chunks,
        metadata_store=MemoryMetadataStore(),
        chunk_size=64 * 1024,
        gc_interval=None,
    )
    try:
        store.root.create_bucket("bkt")
        body = os.urandom(200 * 1024)
        store.root.put_object("bkt", "k", body)
        admin = s3_env.admin()
        listing = admin.list_objects_v2(Bucket=s3_bucket, Prefix="chunks/")["Contents"]
        victim = sorted(o["Key"] for o in listing)[0]
        bad = os.urandom(64 * 1024)
        admin.put_object(Bucket=s3_bucket, Key=victim, Body=bad)
        cid = ChunkId(bytes.fromhex(victim.rsplit("/", 1)[1]))
        assert chunks.get(cid) == bad  # as stored: the blob layer judges it
        assert chunks.get_verified(cid) is None  # what the blob layer reads through
        good = ChunkId(bytes.fromhex(sorted(o["Key"] for o in listing)[1].rsplit("/", 1)[1]))
        assert chunks.get_verified(good) == chunks.get(good)
        with pytest.raises(DataCorruption):
            store.root.get_object("bkt", "k").read()
        assert chunks.get(cid) == bad  # flagged and left in place ...
        store.root.put_object("bkt", "k2", body)  # ... and written over by the next upload
        assert chunks.get_verified(cid) is not None
        assert store.root.get_object("bkt", "k").read() == body
    finally:
        store.close()
        chunks.close()


def test_gc_and_fsck_over_s3(s3_url: str, s3_env: S3Target, s3_bucket: str) -> None:
    """gc lists the bucket, deletes dead chunks and old orphans (by their stat times), keeps
    live ones; fsck verifies every chunk through the store."""
    chunks = S3ChunkStore.from_url(s3_url)
    store = objstore.open(
        None,
        chunk_store=chunks,
        metadata_store=MemoryMetadataStore(),
        chunk_size=64 * 1024,
        gc_interval=None,
    )
    try:
        store.root.create_bucket("bkt")
        kept, dropped = os.urandom(150 * 1024), os.urandom(200 * 1024)
        store.root.put_object("bkt", "kept", kept)
        store.root.put_object("bkt", "dropped", dropped)
        live = set(chunks.iter_ids())
        store.root.delete_object("bkt", "dropped")
        orphan = os.urandom(5000)  # a crash leftover from an hour ago: no record names it
        hour_ago = str(time.time_ns() - 3600 * 10**9)
        s3_env.admin().put_object(
            Bucket=s3_bucket,
            Key=f"chunks/{chunks.key(cid_of(orphan))}",
            Body=orphan,
            Metadata={MTIME_META: hour_ago},
        )
        result = store.gc()
        assert (result.chunks_deleted, result.orphans_deleted) == (5, 1)  # 4 dead + the orphan
        assert result.bytes_freed == len(dropped) + len(orphan)
        remaining = set(chunks.iter_ids())
        assert len(remaining) == 3 and remaining < live
        assert store.root.get_object("bkt", "kept").read() == kept
        report = store.fsck(verify_data=True)
        assert report.healthy and report.bytes_verified == len(kept)
    finally:
        store.close()
        chunks.close()


def test_a_forked_child_gets_a_typed_error_not_a_hang(chunks: S3ChunkStore, s3_url: str) -> None:
    """obstore's runtime does not survive fork(): a child of a process that used the store
    is refused at once (InternalError), through the old store and a new one alike."""
    data = os.urandom(1000)
    chunks.put(cid_of(data), data)
    assert _in_child(lambda: chunks.get(cid_of(data))).startswith("InternalError: ")
    assert _in_child(lambda: S3ChunkStore.from_url(s3_url)).startswith("InternalError: ")
    assert chunks.get(cid_of(data)) == data  # the parent carries on


def test_the_endpoint_from_the_environment_is_the_one_named(
    s3_env: S3Target, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 9h, M2: the client took its endpoint from ``AWS_ENDPOINT_URL`` unseen, so two
    copies of one bucket at two endpoints had one name, and a rebind check cut short at
    one resumed at the other. The endpoint in use is resolved at open and named."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_env.endpoint)
    chunks = S3ChunkStore(s3_bucket, "p", region=s3_env.region, retry_time=10)
    try:
        data = os.urandom(1000)
        cid = ChunkId(blake3.blake3(data).digest())
        chunks.put(cid, data)
        assert chunks.endpoint == s3_env.endpoint and chunks.get(cid) == data
        assert chunks.site == f"s3://{s3_bucket}/p at {s3_env.endpoint}"
    finally:
        chunks.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "ftp://nowhere")
    with pytest.raises(InvalidArgument, match=r"\$AWS_ENDPOINT_URL"):
        S3ChunkStore(s3_bucket, "p")
