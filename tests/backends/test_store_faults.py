"""The whole store on PostgreSQL + Ceph RGW under faults (issue 9, "Faults, tested").

PostgreSQL restarted in the middle of an upload, radosgw stopped and started again, radosgw
slowed down by a latency-injecting proxy: every call either succeeds or raises a typed
ObjstoreError; an acknowledged object is never lost; nothing half-written becomes visible; fsck
is healthy afterwards. The faults hit private servers (the
``postgres_restartable`` cluster and the ``rgw_restartable`` radosgw), never the shared ones.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore.backends.postgres import PostgresMetadataStore
from objstore.backends.s3 import S3ChunkStore
from objstore.errors import NoSuchKey, ObjstoreError, ServiceUnavailable
from objstore.testing.proxy import FaultProxy
from objstore.testing.services.fixtures import RestartablePostgres, RestartableRgw

BUCKET = "faults"
CHUNK = 256 * 1024


class SlowBody:
    """A readable body of ``size`` bytes that sleeps between pieces, so an upload spans a
    fault; ``started`` is set once half of it was read."""

    def __init__(self, size: int, pause: float) -> None:
        self.data = hashlib.shake_256(b"faults").digest(size)
        self.pos = 0
        self.pause = pause
        self.started = threading.Event()

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = len(self.data) - self.pos
        n = min(n, 64 * 1024)
        piece = self.data[self.pos : self.pos + n]
        self.pos += len(piece)
        if self.pos >= len(self.data) // 2:
            self.started.set()
        if piece:
            time.sleep(self.pause)
        return piece


def open_store(
    where: Path,
    pg: RestartablePostgres,
    endpoint: str,
    bucket: str,
    *,
    pg_query: str = "",
    **s3: Any,
) -> objstore.Store:
    """A store with its metadata on ``pg`` and its chunks on ``endpoint``'s ``bucket``
    (identity keys under ``where``: the URL-only form of several nodes is another issue's)."""
    s3.setdefault("retry_time", 20)
    chunks = S3ChunkStore(bucket, "chunks", endpoint=endpoint, region="us-east-1", **s3)
    meta = PostgresMetadataStore.from_url(pg.dsn + pg_query)
    return objstore.open(
        where, chunk_store=chunks, metadata_store=meta, chunk_size=CHUNK, gc_interval=None
    )


@pytest.fixture
def env(rgw_restartable: RestartableRgw, monkeypatch: pytest.MonkeyPatch) -> RestartableRgw:
    b = rgw_restartable.bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", b.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", b.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", b.region)
    return rgw_restartable


@pytest.fixture
def store(
    tmp_path: Path, postgres_restartable: RestartablePostgres, env: RestartableRgw
) -> Iterator[objstore.Store]:
    s = open_store(tmp_path, postgres_restartable, env.gateway.endpoint, env.bucket.bucket)
    s.root.create_bucket(BUCKET)
    try:
        yield s
    finally:
        s.close()


def upload_in_thread(store: objstore.Store, key: str, body: SlowBody) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["result"] = store.root.put_object(BUCKET, key, body, content_length=len(body.data))
        except BaseException as exc:
            out["error"] = exc
        finally:
            body.started.set()

    th = threading.Thread(target=go)
    th.start()
    out["thread"] = th
    return out


def read(store: objstore.Store, key: str) -> bytes:
    with store.root.get_object(BUCKET, key) as body:
        return body.read()


def assert_clean(store: objstore.Store) -> None:
    """fsck (with every chunk's hash) finds nothing missing, corrupt, orphaned or inconsistent."""
    report = store.fsck()
    assert report.healthy, report


def check_outcome(store: objstore.Store, key: str, body: SlowBody, out: dict[str, Any]) -> None:
    """Acknowledged: the whole object reads back. Failed: a typed error, nothing visible."""
    if "error" in out:
        assert isinstance(out["error"], ObjstoreError), repr(out["error"])
        with pytest.raises(NoSuchKey):
            store.root.head_object(BUCKET, key)
    else:
        assert read(store, key) == body.data


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restarted_mid_upload(
    store: objstore.Store, postgres_restartable: RestartablePostgres, mode: str
) -> None:
    """PostgreSQL restarts while an upload streams: the upload fails with a typed error or
    succeeds; the object acknowledged before stays; the store works on afterwards."""
    store.root.put_object(BUCKET, "before", b"kept" * 100_000)
    body = SlowBody(4 * CHUNK + 123, pause=0.01)
    out = upload_in_thread(store, "during", body)
    assert body.started.wait(30)
    postgres_restartable.restart(mode)
    out["thread"].join(120)
    assert not out["thread"].is_alive()
    check_outcome(store, "during", body, out)
    assert read(store, "before") == b"kept" * 100_000
    store.root.put_object(BUCKET, "after", b"x" * 300_000)
    assert read(store, "after") == b"x" * 300_000
    assert_clean(store)


def test_rgw_stopped_and_started_during_upload(store: objstore.Store, env: RestartableRgw) -> None:
    """radosgw goes away mid-upload and comes back within the retry time: the upload
    completes (retried) or fails typed; everything acknowledged reads back."""
    store.root.put_object(BUCKET, "before", b"k" * 600_000)
    body = SlowBody(6 * CHUNK, pause=0.01)
    out = upload_in_thread(store, "during", body)
    assert body.started.wait(30)
    env.kill()
    time.sleep(1.0)
    env.start()
    out["thread"].join(120)
    assert not out["thread"].is_alive()
    check_outcome(store, "during", body, out)
    assert read(store, "before") == b"k" * 600_000
    assert_clean(store)


def test_rgw_down_past_the_retry_time(
    tmp_path: Path, postgres_restartable: RestartablePostgres, env: RestartableRgw
) -> None:
    """radosgw down for longer than the store retries: PUT and GET raise typed errors
    (ServiceUnavailable), nothing half-written is visible, and all is well once it is back."""
    s = open_store(
        tmp_path,
        postgres_restartable,
        env.gateway.endpoint,
        env.bucket.bucket,
        retry_time=1,
        connect_timeout=1,
    )
    try:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "before", b"b" * 500_000)
        env.stop()
        with pytest.raises(ServiceUnavailable):
            s.root.put_object(BUCKET, "lost", b"l" * 500_000)
        with pytest.raises(ServiceUnavailable):
            read(s, "before")
        env.start()
        with pytest.raises(NoSuchKey):
            s.root.head_object(BUCKET, "lost")
        assert read(s, "before") == b"b" * 500_000
        assert_clean(s)
    finally:
        s.close()


def test_rgw_slowed_down(
    tmp_path: Path, postgres_restartable: RestartablePostgres, env: RestartableRgw
) -> None:
    """Every piece to and from radosgw delayed: PUT and GET still succeed, byte for byte."""
    host, port = env.gateway.endpoint.removeprefix("http://").split(":")
    with FaultProxy(host, int(port)) as proxy:
        s = open_store(tmp_path, postgres_restartable, proxy.url, env.bucket.bucket)
        try:
            s.root.create_bucket(BUCKET)
            proxy.delay = 0.02
            data = hashlib.shake_256(b"slow").digest(3 * CHUNK + 7)
            s.root.put_object(BUCKET, "slow", data)
            assert read(s, "slow") == data
            proxy.delay = 0.0
            assert_clean(s)
        finally:
            s.close()


def test_postgres_down(
    tmp_path: Path, postgres_restartable: RestartablePostgres, env: RestartableRgw
) -> None:
    """PostgreSQL stopped: calls fail with a typed error within the pool's timeout, nothing
    is half-visible, and the same store works again once it is back."""
    pg = postgres_restartable
    s = open_store(tmp_path, pg, env.gateway.endpoint, env.bucket.bucket, pg_query="?timeout=2")
    try:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "before", b"p" * 300_000)
        pg.stop()
        with pytest.raises(ServiceUnavailable):
            s.root.put_object(BUCKET, "lost", b"l" * 300_000)
        with pytest.raises(ServiceUnavailable):
            read(s, "before")
        pg.start()
        with pytest.raises(NoSuchKey):
            s.root.head_object(BUCKET, "lost")
        assert read(s, "before") == b"p" * 300_000
        s.root.put_object(BUCKET, "after", b"a" * 300_000)
        assert read(s, "after") == b"a" * 300_000
        assert_clean(s)
    finally:
        s.close()
