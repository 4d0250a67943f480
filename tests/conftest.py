"""Shared fixtures of the storage tests.

Every ``store`` test runs twice: against the in-memory backends and against
the on-disk ones (LMDB metadata, chunk files) in ``tmp_path``. The stores use
64 KiB chunks and a 1 KiB inline threshold so that multi-chunk objects,
chunk-boundary ranges and inlined small objects all appear with small data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore.blob.files import FileChunkStore
from objstore.blob.memory import MemoryChunkStore
from objstore.blob.store import BlobSettings
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.memory import MemoryMetadataStore

# Real PostgreSQL and Ceph RGW (postgres_dsn, rgw, ... : see the module's docstring).
pytest_plugins = ["objstore.testing.services.fixtures"]


@pytest.hookimpl(trylast=True)  # after pytest's own grouping of items by fixture parameters
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On pytest-xdist workers (``make test``), the tests marked slow run first.

    Why: the workers take tests one by one in this order, so a long test started last keeps
    one worker busy while the other idles; started first, the short ones fill in around it.
    The sort is stable (every worker must collect the same order). A plain run keeps the
    file order.
    """
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


CHUNK = 64 * 1024
INLINE = 1024
BUCKET = "bkt"


def open_store(path: Path | None, **kwargs: Any) -> objstore.Store:
    """A store with the small chunking the tests rely on (``path`` None: in memory)."""
    kwargs.setdefault("chunk_size", CHUNK)
    kwargs.setdefault("inline_threshold", INLINE)
    return objstore.open(path, **kwargs)


@pytest.fixture(params=["memory", "lmdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[objstore.Store]:
    """An empty store, in memory or on disk."""
    path = None if request.param == "memory" else tmp_path / "store"
    s = open_store(path)
    try:
        yield s
    finally:
        s.close()


# Tiny windows and commit batches: an upload of a few hundred KiB then goes
# through every stage a multi-GiB one does (window carry-over, intermediate
# pending commits, manifests longer than one read batch).
BATCHED = BlobSettings(chunk_size=4096, inline_threshold=100, window_size=16384, batch_bytes=16384)
BATCHED_CHUNK = 4096


def open_batched(path: Path | None, **kwargs: Any) -> objstore.Store:
    """A store with :data:`BATCHED` settings (not reachable through ``objstore.open``)."""
    if path is None:
        return objstore.Store(
            MemoryChunkStore(),
            MemoryMetadataStore(),
            settings=BATCHED,
            **kwargs,
        )
    os.makedirs(path, exist_ok=True)
    return objstore.Store(
        FileChunkStore(path / "chunks"),
        LmdbMetadataStore(path / "meta"),
        path=str(path),
        settings=BATCHED,
        **kwargs,
    )


@pytest.fixture(params=["memory", "lmdb"])
def batched_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[objstore.Store]:
    """An empty store with tiny windows and commit batches."""
    s = open_batched(None if request.param == "memory" else tmp_path / "batched")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def disk_store(tmp_path: Path) -> Iterator[objstore.Store]:
    """An empty on-disk store (for tests that look at chunk files)."""
    s = open_store(tmp_path / "store")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def root(store: objstore.Store) -> objstore.Client:
    """The account root of ``store``, with the bucket ``BUCKET`` created."""
    store.root.create_bucket(BUCKET)
    return store.root


def user_client(store: objstore.Store, name: str, *actions: str) -> objstore.Client:
    """A client of a new IAM user allowed ``actions`` on everything (none: nothing)."""
    iam = store.root.iam
    iam.create_user(name)
    if actions:
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_user_policy(name, "allowed", json.dumps(policy))
    key = iam.create_access_key(name)
    return store.client(key.access_key_id, key.secret_access_key)


def chunk_files(store: objstore.Store) -> set[str]:
    """Names of the chunk files of an on-disk store (64 hex digits each)."""
    assert store.path is not None, "chunk files exist only for on-disk stores"
    out: set[str] = set()
    for _dir, _subdirs, files in os.walk(os.path.join(store.path, "chunks")):
        out.update(f for f in files if len(f) == 64)
    return out


def chunk_path(store: objstore.Store, name: str) -> str:
    """The path of chunk file ``name`` (as returned by :func:`chunk_files`)."""
    assert store.path is not None
    return os.path.join(store.path, "chunks", name[:2], name[2:4], name)


@pytest.fixture
def count_chunks() -> Callable[[objstore.Store], int]:
    """How many chunk files an on-disk store holds."""
    return lambda s: len(chunk_files(s))


def read_all(body: objstore.ObjectBody) -> bytes:
    """Read a body to the end and close it."""
    with body:
        return body.read()
