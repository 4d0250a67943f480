"""``objstore.open(metadata=..., chunks=...)``: URLs or objects, the shared secret key,
the store identity without a path."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.backends import urls
from objstore.blob.memory import MemoryChunkStore
from objstore.errors import InvalidArgument, StoreDamaged
from objstore.identity import storekey
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.memory import MemoryMetadataStore

B = "shared-bkt"


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (storekey.ENV_KEY, storekey.ENV_KEY_FILE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


def local_urls(root: Path) -> dict[str, str]:
    return {"metadata": f"lmdb://{root}/meta", "chunks": f"file://{root}/chunks"}


def test_urls_open_a_store_that_two_handles_share(tmp_path: Path, key: bytes) -> None:
    """Two handles over the same URLs (and key) are one store: objects and credentials
    made through one are seen through the other."""
    where = local_urls(tmp_path)
    with (
        objstore.open(**where, secret_key=key) as a,
        objstore.open(**where, secret_key=key) as b,
    ):
        assert a.path is None
        a.root.create_bucket(B)
        a.root.put_object(B, "k", b"v" * 10_000)
        assert b.root.get_object(B, "k").read() == b"v" * 10_000
        b.root.iam.create_user("u")
        ak = b.root.iam.create_access_key("u")
        assert a.client(ak.access_key_id, ak.secret_access_key).identity.name == "u"
        assert repr(a) == (
            f"<objstore.Store metadata=lmdb://{tmp_path}/meta, chunks=file://{tmp_path}/chunks>"
        )
    # Nothing was written outside the two named places.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunks", "meta"]


def test_objects_are_accepted_for_either_argument(tmp_path: Path) -> None:
    meta, chunks = MemoryMetadataStore(), MemoryChunkStore()
    with objstore.open(metadata=meta, chunks=chunks) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"x" * 5000)
    assert any(True for _ in chunks.iter_ids())
    # A URL for one, an object for the other.
    lmdb = LmdbMetadataStore(tmp_path / "m")
    with objstore.open(
        metadata=lmdb, chunks=f"file://{tmp_path}/c", secret_key=os.urandom(32)
    ) as s:
        s.root.create_bucket(B)
        assert s.backends == ("<LmdbMetadataStore>", f"file://{tmp_path}/c")


@pytest.mark.parametrize(
    "options,why",
    [
        ({"metadata": "memory:", "metadata_store": MemoryMetadataStore()}, "not both"),
        ({"chunks": "memory:", "chunk_store": MemoryChunkStore()}, "not both"),
        ({"metadata": 5}, "URL or a MetadataStore"),
        ({"chunks": {}}, "URL or a ChunkStore"),
        ({"metadata": MemoryChunkStore()}, "URL or a MetadataStore"),
        ({"metadata": "s3://b"}, "scheme"),
        ({"chunks": "lmdb:///x"}, "scheme"),
        ({"clock_skew": "1"}, "clock_skew"),
        ({"clock_skew": -1.0}, "clock_skew"),
        ({"clock_skew": True}, "clock_skew"),
    ],
)
def test_bad_backend_options_are_invalid_argument(options: dict[str, object], why: str) -> None:
    with pytest.raises(InvalidArgument, match=why):
        objstore.open(**options)  # type: ignore[arg-type]


def test_persistent_metadata_needs_persistent_chunks(tmp_path: Path, key: bytes) -> None:
    meta = f"lmdb://{tmp_path}/m"
    with pytest.raises(InvalidArgument, match="persistent chunks"):
        objstore.open(metadata=meta, secret_key=key)
    with pytest.raises(InvalidArgument, match="persistent chunks"):
        objstore.open(metadata=meta, chunks="memory:", secret_key=key)
    # memory: for both is the in-memory store, and needs no key.
    with objstore.open(metadata="memory:", chunks="memory:") as s:
        s.root.create_bucket(B)


def test_a_shared_store_needs_a_key_and_refuses_another(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = local_urls(tmp_path)
    with pytest.raises(InvalidArgument, match="OBJSTORE_SECRET_KEY"):
        objstore.open(**where)
    with objstore.open(**where, secret_key=key) as s:
        s.root.create_bucket(B)
        ak = s.root.iam.create_access_key()
    with pytest.raises(InvalidArgument, match="not this store's"):
        objstore.open(**where, secret_key=os.urandom(32))
    # The key from the environment: base64 (either alphabet, padding optional) ...
    monkeypatch.setenv(storekey.ENV_KEY, base64.urlsafe_b64encode(key).decode().rstrip("="))
    with objstore.open(**where) as s:
        assert s.client(ak.access_key_id, ak.secret_access_key).identity.kind == "root"
    monkeypatch.setenv(storekey.ENV_KEY, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(InvalidArgument, match="OBJSTORE_SECRET_KEY is not this store's"):
        objstore.open(**where)
    # ... or from a file (base64 text or the raw bytes).
    monkeypatch.delenv(storekey.ENV_KEY)
    for content in (base64.b64encode(key) + b"\n", key):
        (tmp_path / "key").write_bytes(content)
        monkeypatch.setenv(storekey.ENV_KEY_FILE, str(tmp_path / "key"))
        with objstore.open(**where) as s:
            assert s.client(ak.access_key_id, ak.secret_access_key).identity.kind == "root"


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_in_the_environment_is_refused(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(storekey.ENV_KEY_FILE, str(tmp_path / "absent"))
    if value:
        monkeypatch.setenv(storekey.ENV_KEY, value)
        match = "must hold a 32-byte key"
    else:
        match = "cannot read the key file"
    with pytest.raises(InvalidArgument, match=match) as err:
        objstore.open(**local_urls(tmp_path))
    if value:
        assert value not in err.value.message


def test_a_key_file_beside_a_path_still_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store with a path keeps using its identity.key; the environment only serves
    stores without one (so exporting a cluster's key does not lock out local stores)."""
    with objstore.open(tmp_path / "s") as s:
        ak = s.root.iam.create_access_key()
    monkeypatch.setenv(storekey.ENV_KEY, base64.b64encode(os.urandom(32)).decode())
    with objstore.open(tmp_path / "s") as s:
        assert s.client(ak.access_key_id, ak.secret_access_key).identity.kind == "root"


def test_a_store_made_before_the_key_check_is_adopted_only_by_its_key(
    tmp_path: Path, key: bytes
) -> None:
    where = local_urls(tmp_path)
    with objstore.open(**where, secret_key=key) as s:
        s.root.iam.create_access_key()
    meta = LmdbMetadataStore(tmp_path / "meta")
    with meta.begin_write() as txn:
        assert txn.delete(keyspace.CONFIG + b"keycheck")  # as an older objstore left it
    meta.close()
    with pytest.raises(InvalidArgument, match="does not open this store's credentials"):
        objstore.open(**where, secret_key=os.urandom(32))
    with objstore.open(**where, secret_key=key):
        pass
    with pytest.raises(InvalidArgument, match="not this store's"):
        objstore.open(**where, secret_key=os.urandom(32))


def test_empty_metadata_beside_existing_chunks_is_refused(tmp_path: Path, key: bytes) -> None:
    """Without a path there is no marker file: the rule left is that empty metadata over
    chunks that exist (a wrong or emptied database) never opens as a new store."""
    with objstore.open(**local_urls(tmp_path), secret_key=key) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", os.urandom(10_000))
    with pytest.raises(StoreDamaged, match="holds chunks but no metadata"):
        objstore.open(
            metadata=f"lmdb://{tmp_path}/other-meta",
            chunks=f"file://{tmp_path}/chunks",
            secret_key=key,
        )
    # The refused open wrote nothing that would let a second attempt through.
    with pytest.raises(StoreDamaged):
        objstore.open(
            metadata=f"lmdb://{tmp_path}/other-meta",
            chunks=f"file://{tmp_path}/chunks",
            secret_key=key,
        )


def test_create_false_refuses_backends_that_hold_no_store(tmp_path: Path, key: bytes) -> None:
    where = local_urls(tmp_path)
    with pytest.raises(InvalidArgument, match="no store"):
        objstore.open(**where, secret_key=key, create=False)
    with objstore.open(**where, secret_key=key) as s:
        s.root.create_bucket(B)
    with objstore.open(**where, secret_key=key, create=False) as s:
        assert [b.name for b in s.root.list_buckets()] == [B]


def test_clock_skew_defaults_by_how_shared_the_store_is(tmp_path: Path, key: bytes) -> None:
    with objstore.open(tmp_path / "own") as s:
        assert s.blobs.leases.skew_ns == 50_000_000
    with objstore.open(**local_urls(tmp_path / "sh"), secret_key=key) as s:
        assert s.blobs.leases.skew_ns == 1_000_000_000
    with objstore.open(**local_urls(tmp_path / "sh"), secret_key=key, clock_skew=3) as s:
        assert s.blobs.leases.skew_ns == 3_000_000_000


@pytest.fixture
def fake_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """``postgresql://`` answered by an in-process LMDB store (the URL it got is kept)."""
    seen: list[str] = []

    def from_url(module: str, cls: str, url: str) -> object:
        seen.append(url)
        return LmdbMetadataStore(os.environ["FAKE_PG_DIR"])

    monkeypatch.setattr(urls, "_from_url", from_url)
    yield seen


def test_a_password_in_a_url_is_never_shown(
    tmp_path: Path, key: bytes, fake_postgres: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PG_DIR", str(tmp_path / "pg"))
    url = "postgresql://objstore:hunter2@db.example:5432/objstore?sslpassword=swordfish"
    with objstore.open(metadata=url, chunks=f"file://{tmp_path}/c", secret_key=key) as s:
        assert fake_postgres == [url]  # the backend gets the URL whole
        shown = repr(s) + str(s.backends)
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"x" * 10_000)
    assert "hunter2" not in shown and "swordfish" not in shown
    assert "postgresql://objstore:***@db.example:5432/objstore?sslpassword=***" in shown
    # The store refusing to open names the metadata redacted too.
    with pytest.raises(StoreDamaged) as err:
        monkeypatch.setenv("FAKE_PG_DIR", str(tmp_path / "pg-empty"))
        objstore.open(metadata=url, chunks=f"file://{tmp_path}/c", secret_key=key)
    assert "hunter2" not in str(err.value) and "postgresql://objstore:***@" in str(err.value)
