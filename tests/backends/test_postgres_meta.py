"""PostgresMetadataStore on a real PostgreSQL: the conformance suite, and what only it has
(paged scans, read-your-writes buffering, schema versions, URL options, several processes
sharing one database, a server restarted under an open store, a COMMIT whose answer is lost)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from objstore.backends.pg_sql import parse_url
from objstore.backends.postgres import PostgresMetadataStore
from objstore.errors import (
    InternalError,
    InvalidArgument,
    ServiceUnavailable,
    StoreClosed,
    StoreDamaged,
)
from objstore.testing import MetadataStoreTests
from tests.backends.pgproxy import CommitCutter
from tests.conftest import CHUNK, open_store, read_all


class TestPostgres(MetadataStoreTests):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_dsn: str) -> None:
        self.dsn = postgres_dsn

    def make_store(self, tmp_path: Path) -> PostgresMetadataStore:
        return PostgresMetadataStore.from_url(self.dsn + "?pool_max=8")


@pytest.fixture
def meta(postgres_dsn: str) -> Iterator[PostgresMetadataStore]:
    store = PostgresMetadataStore.from_url(postgres_dsn)
    yield store
    store.close()


def _all(store: PostgresMetadataStore) -> list[tuple[bytes, bytes]]:
    with store.begin() as r:
        return list(r.scan(b""))


# ---- keys, values, order ---------------------------------------------------------------------


def test_every_byte_value_sorts_bytewise(meta: PostgresMetadataStore) -> None:
    """Keys with every byte 00-ff, empty values and max-size keys; order is Python's bytes order."""
    keys = [bytes([b]) for b in range(256)] + [bytes([b, 0]) for b in range(0, 256, 15)]
    keys += [b"\x00" * 511, b"\xff" * 511, b"m" * 510 + b"\x00"]
    with meta.begin_write() as txn:
        txn.put_many((k, b"") for k in keys)
    with meta.begin() as r:
        assert [k for k, _ in r.scan(b"")] == sorted(keys)
        assert [k for k, _ in r.scan_reverse(b"\x00")] == sorted(keys, reverse=True)
        assert r.get(b"\xff" * 511) == b""
        assert r.get(b"\x00") == b""
        assert r.get(b"\x00\x01") is None
        # The upper bound is exclusive and compares bytewise too.
        assert [k for k, _ in r.scan(b"\xfe", b"\xff")] == [b"\xfe"]


def test_bad_keys_are_typed_errors(meta: PostgresMetadataStore) -> None:
    with pytest.raises(InternalError), meta.begin_write() as txn:
        txn.put(b"k" * 512, b"v")
    with pytest.raises(InternalError), meta.begin_write() as txn:
        txn.put(b"", b"v")
    with pytest.raises(InternalError), meta.begin() as r:
        r.get("text")  # type: ignore[arg-type]
    assert _all(meta) == []


def test_long_scans_page_in_order(meta: PostgresMetadataStore) -> None:
    """Scans longer than several pages, both ways, bounded and open, stopped early."""
    keys = [b"p%05d" % i for i in range(5000)]
    with meta.begin_write() as txn:
        txn.put_many((k, k[1:]) for k in keys)
        txn.put(b"q", b"after")
    with meta.begin() as r:
        assert [k for k, _ in r.scan(b"p", b"q")] == keys
        assert [k for k, _ in r.scan_reverse(b"p", b"q")] == keys[::-1]
        assert [k for k, _ in r.scan(b"p04990")] == [*keys[4990:], b"q"]
        assert [k for k, _ in r.scan_reverse(b"p")][:2] == [b"q", keys[-1]]
        first = next(r.scan(b"p00100"))
        assert first == (b"p00100", b"00100")


def test_write_transaction_reads_its_own_writes(meta: PostgresMetadataStore) -> None:
    """Buffered puts and deletes show in get and in scans, before and after a page is sent."""
    with meta.begin_write() as txn:
        txn.put_many((b"k%04d" % i, b"old") for i in range(100))
    with meta.begin_write() as txn:
        txn.put(b"k0005", b"new")
        assert txn.delete(b"k0006") is True
        assert txn.delete(b"k0006") is False
        assert txn.get(b"k0006") is None
        txn.put(b"k0050x", b"added")
        seen = []
        # Delete every key while walking it; keys added ahead of the walk appear.
        for key, value in txn.scan(b"k"):
            seen.append((key, value))
            assert txn.delete(key) is True
            if key == b"k0010":
                txn.put(b"k0090x", b"ahead")
        assert (b"k0005", b"new") in seen
        assert (b"k0050x", b"added") in seen
        assert (b"k0090x", b"ahead") in seen
        assert all(k != b"k0006" for k, _ in seen)
        assert [k for k, _ in seen] == sorted(k for k, _ in seen)
        assert list(txn.scan(b"k")) == []
        txn.put(b"k0001", b"back")
        assert list(txn.scan_reverse(b"k")) == [(b"k0001", b"back")]
    assert _all(meta) == [(b"k0001", b"back")]


def test_large_batches_are_split(meta: PostgresMetadataStore) -> None:
    """A transaction bigger than one flush statement (rows and bytes) commits whole."""
    big = b"v" * (1 << 20)
    with meta.begin_write() as txn:
        txn.put_many((b"s%05d" % i, b"x") for i in range(12_000))
        txn.put_many((b"b%02d" % i, big) for i in range(40))
    with meta.begin() as r:
        assert len(list(r.scan(b"s", b"t"))) == 12_000
        assert sum(len(v) for _, v in r.scan(b"b", b"c")) == 40 << 20


# ---- schema, names, URLs ---------------------------------------------------------------------


def test_schema_version_is_recorded_and_a_newer_one_refused(postgres_dsn: str) -> None:
    PostgresMetadataStore.from_url(postgres_dsn).close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM objstore_schema").fetchall() == [(1,)]
    # Opening again migrates nothing and keeps the data.
    store = PostgresMetadataStore.from_url(postgres_dsn)
    with store.begin_write() as txn:
        txn.put(b"a", b"1")
    store.close()
    store = PostgresMetadataStore.from_url(postgres_dsn)
    assert _all(store) == [(b"a", b"1")]
    store.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE objstore_schema SET version = 99")
    with pytest.raises(StoreDamaged, match="newer"):
        PostgresMetadataStore.from_url(postgres_dsn)


def test_create_false_refuses_missing_tables(postgres_dsn: str) -> None:
    with pytest.raises(StoreDamaged, match="new, empty store"):
        PostgresMetadataStore.from_url(postgres_dsn, create=False)
    PostgresMetadataStore.from_url(postgres_dsn).close()
    PostgresMetadataStore.from_url(postgres_dsn, create=False).close()


def test_prefixes_and_schemas_keep_stores_apart(postgres_dsn: str) -> None:
    stores = [
        PostgresMetadataStore.from_url(postgres_dsn),
        PostgresMetadataStore.from_url(postgres_dsn + "?table_prefix=other_"),
        PostgresMetadataStore.from_url(postgres_dsn + "?schema=tenant&table_prefix=os_"),
    ]
    try:
        for i, store in enumerate(stores):
            with store.begin_write() as txn:
                txn.put(b"k", b"%d" % i)
        assert [_all(s) for s in stores] == [[(b"k", b"0")], [(b"k", b"1")], [(b"k", b"2")]]
        # Different tables, different writer locks: one store's writer does not block another's.
        with stores[0].begin_write() as txn, stores[1].begin_write() as txn2:
            txn.put(b"x", b"0")
            txn2.put(b"x", b"1")
    finally:
        for s in stores:
            s.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM tenant.os_kv").fetchone() == (1,)


def test_url_options_and_a_repr_without_the_password(postgres_dsn: str) -> None:
    opts = parse_url(postgres_dsn + "?sslmode=disable&pool_max=3&lock_timeout=0&schema=s1")
    assert (opts.pool_max, opts.lock_timeout, opts.schema) == (3, None, "s1")
    assert "sslmode=disable" in opts.conninfo and "pool_max" not in opts.conninfo
    password = psycopg.conninfo.conninfo_to_dict(postgres_dsn)["password"]
    store = PostgresMetadataStore.from_url(postgres_dsn + "?sslmode=disable")
    try:
        assert password not in repr(store)
        assert "objstore@127.0.0.1" in repr(store)
    finally:
        store.close()
    for bad in ("mysql://u@h/db", "postgresql://u@h/db?pool_max=many", postgres_dsn + "?nope=1"):
        with pytest.raises(InvalidArgument):
            PostgresMetadataStore.from_url(bad)
    with pytest.raises(InvalidArgument):
        PostgresMetadataStore.from_url(postgres_dsn + "?table_prefix=bad;name")


def test_wrong_password_is_typed_and_not_echoed(postgres_dsn: str) -> None:
    wrong = postgres_dsn.replace("@127.0.0.1", "x@127.0.0.1")
    password = psycopg.conninfo.conninfo_to_dict(wrong)["password"]
    with pytest.raises(InternalError) as info:
        PostgresMetadataStore.from_url(wrong)
    assert password not in str(info.value)


# ---- several processes -----------------------------------------------------------------------

_CHILD = """
import sys
from objstore.backends.postgres import PostgresMetadataStore
store = PostgresMetadataStore.from_url(sys.argv[1])
mode = sys.argv[2]
if mode == "bump":
    for _ in range(int(sys.argv[3])):
        with store.begin_write() as txn:
            n = int(txn.get(b"n") or b"0")
            txn.put(b"n", str(n + 1).encode())
elif mode == "wait-write":
    with store.begin() as r:
        print(r.get(b"hello"))
    print("waiting", flush=True)
    with store.begin_write() as txn:
        print("got", txn.get(b"held"), flush=True)
        txn.put(b"from-child", b"1")
store.close()
"""


def _child(dsn: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, dsn, *args], stdout=subprocess.PIPE, text=True
    )


def test_two_processes_share_one_store(meta: PostgresMetadataStore, postgres_dsn: str) -> None:
    """Writes of one process are seen by the other's next transaction; writers serialise."""
    with meta.begin_write() as txn:
        txn.put(b"hello", b"world")
    # The child reads what this process committed; its write transaction waits while this
    # process holds the writer lock, then sees what this one committed meanwhile.
    with meta.begin_write() as txn:
        txn.put(b"held", b"yes")
        child = _child(postgres_dsn, "wait-write")
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "b'world'"
        assert child.stdout.readline().strip() == "waiting"
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)
    assert child.communicate(timeout=30)[0].strip() == "got b'yes'"
    with meta.begin() as r:
        assert r.get(b"from-child") == b"1"

    # Read-modify-write from three processes at once loses no update.
    bumpers = [_child(postgres_dsn, "bump", "60") for _ in range(2)]
    for _ in range(60):
        with meta.begin_write() as txn:
            n = int(txn.get(b"n") or b"0")
            txn.put(b"n", str(n + 1).encode())
    for b in bumpers:
        assert b.wait(timeout=60) == 0
    with meta.begin() as r:
        assert r.get(b"n") == b"180"


# ---- faults ----------------------------------------------------------------------------------


def test_a_frozen_writer_loses_the_lock(postgres_dsn: str) -> None:
    """A writer idle in its transaction for longer than lock_timeout is ended by the server:
    other writers go on, and its own commit fails typed with nothing written."""
    frozen = PostgresMetadataStore.from_url(postgres_dsn + "?lock_timeout=0.5")
    other = PostgresMetadataStore.from_url(postgres_dsn + "?lock_timeout=30")
    try:
        with pytest.raises(ServiceUnavailable), frozen.begin_write() as txn:
            txn.put(b"frozen", b"1")
            # While this writer sits idle holding the lock, another store's writer waits
            # until the server ends the idle session.
            with other.begin_write() as txn2:
                txn2.put(b"other", b"2")
        assert _all(other) == [(b"other", b"2")]
        with frozen.begin_write() as txn:
            txn.put(b"later", b"3")
        assert _all(frozen) == [(b"later", b"3"), (b"other", b"2")]
    finally:
        frozen.close()
        other.close()


def test_store_survives_a_server_restart(postgres_restartable: Any) -> None:
    """Transactions in flight fail typed and leave nothing; the open store works afterwards."""
    pg = postgres_restartable
    store = PostgresMetadataStore.from_url(pg.dsn + "?timeout=5")
    try:
        with store.begin_write() as txn:
            txn.put(b"before", b"1")
        with pytest.raises(ServiceUnavailable), store.begin_write() as txn:
            txn.put(b"half", b"1")
            assert txn.get(b"before") == b"1"
            pg.restart("fast")
            txn.put(b"half2", b"2")
        with pytest.raises(ServiceUnavailable), store.begin() as r:
            assert r.get(b"before") == b"1"
            pg.restart("immediate")
            r.get(b"before")
        # Every pooled connection died with the server; the next transactions get new ones.
        assert _all(store) == [(b"before", b"1")]
        with store.begin_write() as txn:
            txn.put(b"after", b"2")
        assert _all(store) == [(b"after", b"2"), (b"before", b"1")]
    finally:
        store.close()


def test_server_down_is_service_unavailable_then_recovers(postgres_restartable: Any) -> None:
    pg = postgres_restartable
    store = PostgresMetadataStore.from_url(pg.dsn + "?timeout=1")
    try:
        with store.begin_write() as txn:
            txn.put(b"k", b"v")
        pg.stop("fast")
        with pytest.raises(ServiceUnavailable), store.begin():
            pass
        with pytest.raises(ServiceUnavailable), store.begin_write():
            pass
        pg.start()
        assert _all(store) == [(b"k", b"v")]
    finally:
        store.close()
    with pytest.raises(StoreClosed), store.begin():
        pass


@pytest.mark.parametrize("forward", [True, False])
def test_a_lost_commit_answer_is_settled(postgres_dsn: str, forward: bool) -> None:
    """The connection dies during COMMIT: with the COMMIT delivered the block returns (it
    committed); without, ServiceUnavailable and nothing is written. Never a blind retry."""
    with CommitCutter(postgres_dsn) as proxy:
        store = PostgresMetadataStore.from_url(proxy.dsn)
        try:
            with store.begin_write() as txn:
                txn.put(b"first", b"1")
            proxy.cut_next_commit(forward=forward)
            if forward:
                with store.begin_write() as txn:
                    txn.put(b"second", b"2")
            else:
                with pytest.raises(ServiceUnavailable), store.begin_write() as txn:
                    txn.put(b"second", b"2")
            assert proxy.cuts == 1
            expected = [(b"first", b"1")] + ([(b"second", b"2")] if forward else [])
            assert _all(store) == expected
        finally:
            store.close()


def test_an_unsettled_commit_says_so(postgres_dsn: str) -> None:
    """When the server cannot be asked, the outcome is reported unknown, not as lost."""
    with CommitCutter(postgres_dsn) as proxy:
        store = PostgresMetadataStore.from_url(proxy.dsn, resolve_timeout=1.0)
        try:
            proxy.cut_next_commit(forward=False, then_refuse=True)
            with pytest.raises(InternalError) as info, store.begin_write() as txn:
                txn.put(b"k", b"v")
            assert info.value.details["commit_outcome"] == "unknown"
            # Reachable again: the same store reconnects, and the write was not committed.
            proxy.refuse = False
            assert _all(store) == []
        finally:
            store.close()


# ---- a whole store on it ---------------------------------------------------------------------


def test_a_store_runs_on_postgres_metadata(tmp_path: Path, postgres_dsn: str) -> None:
    """Objects, versions, listing, multi-chunk bodies, deletes, gc and fsck over PostgreSQL
    (the store's own suites pass with it too; this one stays as a quick guard)."""
    data = bytes(range(256)) * (3 * CHUNK // 256) + b"tail"
    meta = PostgresMetadataStore.from_url(postgres_dsn)
    with open_store(tmp_path / "s", metadata_store=meta, gc_interval=None) as store:
        root = store.root
        root.create_bucket("bkt")
        root.put_bucket_versioning("bkt", "Enabled")
        root.put_object("bkt", "big", data)
        root.put_object("bkt", "small", b"v1")
        root.put_object("bkt", "small", b"v2")
        assert read_all(root.get_object("bkt", "big")) == data
        assert read_all(root.get_object("bkt", "small")) == b"v2"
        assert [o.key for o in root.list_objects("bkt").contents] == ["big", "small"]
        for version in root.list_object_versions("bkt").versions:
            root.delete_object("bkt", version.key, version_id=version.version_id)
        assert root.list_objects("bkt").contents == ()
        assert store.gc().chunks_deleted > 0
        assert store.fsck().healthy
