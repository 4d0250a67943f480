"""PostgresMetadataStore on a real PostgreSQL: the conformance suite, and what only it has
(paged scans, read-your-writes buffering, schema versions, URL options, several processes
sharing one database, a server restarted under an open store, a COMMIT whose answer is lost)."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore.backends import pg_txn
from objstore.backends import postgres as postgres_mod
from objstore.backends.pg_sql import parse_url
from objstore.backends.postgres import PostgresMetadataStore
from objstore.blob.files import FileChunkStore
from objstore.blob.store import GcSettings
from objstore.errors import (
    InternalError,
    InvalidArgument,
    NoSuchDatabase,
    NoSuchKey,
    ServiceUnavailable,
    StoreClosed,
    StoreDamaged,
)
from objstore.testing import MetadataStoreTests
from tests.backends.pgproxy import CommitCutter
from tests.conftest import BATCHED, CHUNK, open_store, read_all


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


def test_parked_connections_are_reused_or_returned(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ended reads park their connection; stale parked ones go back to the pool. Either
    way no connection leaks: a pool of 2 serves many transactions, some at once."""
    store = PostgresMetadataStore.from_url(postgres_dsn + "?pool_max=2&timeout=5")
    try:
        for fresh in (30.0, 0.0):
            monkeypatch.setattr(postgres_mod, "_PARK_FRESH", fresh)
            for i in range(20):
                with store.begin_write() as txn:
                    txn.put(b"k", b"%d" % i)
                with store.begin() as r, store.begin() as r2:
                    assert r.get(b"k") == r2.get(b"k") == b"%d" % i
                with pytest.raises(_Abort), store.begin_write() as txn:
                    txn.put(b"k", b"lost")
                    raise _Abort
        assert _all(store) == [(b"k", b"19")]
    finally:
        store.close()


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
    # Tables dropped under a recorded version are damage, not a new store.
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE objstore_schema SET version = 1")
        conn.execute("DROP TABLE objstore_kv")
    with pytest.raises(StoreDamaged, match="gone"):
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


@pytest.mark.parametrize("named", ["public", "s1"])
def test_one_set_of_tables_named_two_ways_has_one_writer_lock(
    postgres_dsn: str, named: str
) -> None:
    """Review 9i, H1: a node opening ``.../db`` and one opening ``.../db?schema=public``
    wrote the same tables under two writer locks (the key hashed the URL's text):
    conditional writes both won, reference counts were lost and gc deleted live chunks.
    Unqualified names are pinned at open to the schema they resolve to, here also
    through a search_path."""
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA s1")
    path = "" if named == "public" else "?options=-csearch_path%3Ds1"
    plain = PostgresMetadataStore.from_url(postgres_dsn + path)
    other = PostgresMetadataStore.from_url(f"{postgres_dsn}?schema={named}&lock_timeout=1")
    try:
        with plain.begin_write() as txn:
            txn.put(b"k", b"plain")
        assert _all(other) == [(b"k", b"plain")]  # the same tables
        with plain.begin_write() as txn:
            txn.put(b"k", b"held")
            with pytest.raises(ServiceUnavailable), other.begin_write() as txn2:
                txn2.put(b"k", b"other")  # waits for the one lock, and gives up
        assert _all(other) == [(b"k", b"held")]
    finally:
        plain.close()
        other.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert conn.execute(f"SELECT count(*) FROM {named}.objstore_kv").fetchone() == (1,)


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


def test_password_from_the_environment(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq's PGPASSWORD serves a URL without a password (the pool's connections too)."""
    password = psycopg.conninfo.conninfo_to_dict(postgres_dsn)["password"]
    assert isinstance(password, str)
    monkeypatch.setenv("PGPASSWORD", password)
    bare = postgres_dsn.replace(f":{password}@", "@")
    assert password not in bare
    store = PostgresMetadataStore.from_url(bare)
    try:
        with store.begin_write() as txn:
            txn.put(b"k", b"v")
        assert _all(store) == [(b"k", b"v")]
        assert password not in repr(store)
    finally:
        store.close()


def test_wrong_password_is_typed_and_not_echoed(postgres_dsn: str) -> None:
    wrong = postgres_dsn.replace("@127.0.0.1", "x@127.0.0.1")
    password = psycopg.conninfo.conninfo_to_dict(wrong)["password"]
    with pytest.raises(InternalError) as info:
        PostgresMetadataStore.from_url(wrong)
    assert password not in str(info.value)


def test_a_missing_database_is_no_such_database(postgres_service: Any, tmp_path: Path) -> None:
    """A URL naming a database that does not exist answered InternalError ("refused the
    connection"): now NoSuchDatabase, naming the database and how to create it, through
    the library and the CLI (one line, exit status 1, no traceback)."""
    name = f"objstore_missing_{os.urandom(4).hex()}"
    url = postgres_service.dsn_for(name)
    for opening in (
        lambda: PostgresMetadataStore.from_url(url),
        lambda: objstore.open(metadata=url, chunks=f"file://{tmp_path}/c", secret_key=bytes(32)),
    ):
        with pytest.raises(NoSuchDatabase) as info:
            opening()
        assert f'"{name}" does not exist' in str(info.value)
        assert "CREATE DATABASE" in str(info.value)
        assert info.value.details["database"] == name
        assert postgres_service.password not in str(info.value)
    env = {**os.environ, "OBJSTORE_SECRET_KEY": base64.b64encode(bytes(32)).decode()}
    env.pop("OBJSTORE_SECRET_KEY_FILE", None)
    cli = subprocess.run(
        [sys.executable, "-m", "objstore.cli", "--metadata", url, "ls"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert cli.returncode == 1, cli
    assert cli.stdout == ""
    assert cli.stderr.startswith("objstore: NoSuchDatabase: "), cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1 and name in cli.stderr
    assert "Traceback" not in cli.stderr and postgres_service.password not in cli.stderr


# ---- several processes -----------------------------------------------------------------------

_CHILD = """
import sys
from objstore.backends.postgres import PostgresMetadataStore
store = PostgresMetadataStore.from_url(sys.argv[1])
with store.begin() as r:
    print(r.get(b"hello"))
print("waiting", flush=True)
with store.begin_write() as txn:
    print("got", txn.get(b"held"), flush=True)
    txn.put(b"from-child", b"1")
for _ in range(int(sys.argv[2])):
    with store.begin_write() as txn:
        n = int(txn.get(b"n") or b"0")
        txn.put(b"n", str(n + 1).encode())
store.close()
"""


def test_two_processes_share_one_store(meta: PostgresMetadataStore, postgres_dsn: str) -> None:
    """Writes of one process are seen by the other's next transaction; writers serialise."""
    with meta.begin_write() as txn:
        txn.put(b"hello", b"world")
    # The child reads what this process committed; its write transaction waits while this
    # process holds the writer lock, then sees what this one committed meanwhile.
    with meta.begin_write() as txn:
        txn.put(b"held", b"yes")
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, postgres_dsn, "80"], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "b'world'"
        assert child.stdout.readline().strip() == "waiting"
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)
    assert child.stdout.readline().strip() == "got b'yes'"
    # Read-modify-write from both processes at once loses no update.
    for _ in range(80):
        with meta.begin_write() as txn:
            n = int(txn.get(b"n") or b"0")
            txn.put(b"n", str(n + 1).encode())
    assert child.wait(timeout=60) == 0
    with meta.begin() as r:
        assert r.get(b"from-child") == b"1"
        assert r.get(b"n") == b"160"


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


# ---- the write transaction's buffer against a model ------------------------------------------

_ALL = [b"a", b"a\x00", b"a\xff", b"b", b"ba", b"c", b"\x00", b"\xff", b"\xff\xff"]
_KEYS = st.sampled_from(_ALL)
# Steps between the items of a walk: writes anywhere (ahead of it, behind it, on the
# key it stands on), another scan (which sends the buffer) left half-read, a get.
_WALK_STEPS = st.lists(
    st.one_of(
        st.just(("next", b"", b"")),
        st.just(("next", b"", b"")),
        st.tuples(st.just("put"), _KEYS, st.binary(max_size=2)),
        st.tuples(st.just("delete"), _KEYS, st.just(b"")),
        st.tuples(st.just("get"), _KEYS, st.just(b"")),
        st.tuples(st.sampled_from(["scan", "rscan"]), _KEYS, st.just(b"")),
    ),
    max_size=16,
)
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _KEYS, st.binary(max_size=3)),
        st.tuples(st.just("delete"), _KEYS, st.just(b"")),
        st.tuples(st.just("get"), _KEYS, st.just(b"")),
        st.tuples(st.sampled_from(["scan", "rscan"]), _KEYS, _KEYS),
        st.tuples(st.sampled_from(["walk-delete", "walk-ahead"]), _KEYS, st.binary(max_size=2)),
        st.tuples(st.just("abort"), st.just(b""), st.just(b"")),
        st.tuples(st.sampled_from(["walk", "rwalk"]), st.tuples(_KEYS, _KEYS), _WALK_STEPS),
    ),
    max_size=30,
)


def test_buffered_writes_match_a_model(
    meta: PostgresMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random gets, puts, deletes and scans (some deleting as they walk) inside write
    transactions, some aborted, agree with a dict at every step; tiny pages, cache and
    flush batches make every path run."""
    monkeypatch.setattr(pg_txn, "_PAGE_FIRST", 2)
    monkeypatch.setattr(pg_txn, "_PAGE_MAX", 3)
    monkeypatch.setattr(pg_txn, "_SEEN_MAX", 4)
    monkeypatch.setattr(pg_txn, "_SEEN_BYTES", 3)
    monkeypatch.setattr(pg_txn, "_FLUSH_ROWS", 2)
    committed: dict[bytes, bytes] = {}

    @settings(max_examples=80, deadline=None)
    @given(st.lists(_OPS, min_size=1, max_size=3))
    def run(transactions: list[list[tuple[str, Any, Any]]]) -> None:
        for ops in transactions:
            model = dict(committed)
            aborted = False
            with contextlib.suppress(_Abort), meta.begin_write() as txn:
                for op, key, arg in ops:
                    if op == "put":
                        txn.put(key, arg)
                        model[key] = arg
                    elif op == "delete":
                        assert txn.delete(key) == (key in model)
                        model.pop(key, None)
                    elif op == "get":
                        assert txn.get(key) == model.get(key)
                    elif op in ("scan", "rscan"):
                        lo, hi = min(key, arg), max(key, arg)
                        want = sorted((k, v) for k, v in model.items() if lo <= k < hi)
                        if op == "scan":
                            assert list(txn.scan(lo, hi)) == want
                        else:
                            assert list(txn.scan_reverse(lo, hi)) == want[::-1]
                    elif op == "walk-delete":
                        # Delete every key from `key` on while walking them.
                        for k, _ in txn.scan(key):
                            assert txn.delete(k) is True
                            model.pop(k)
                        assert [k for k in model if k >= key] == []
                    elif op == "walk-ahead":
                        # While walking, delete the next key and change the one after it:
                        # the walk skips the one and shows the other's new value.
                        walked = []
                        for k, v in txn.scan(key):
                            assert k in model and model[k] == v
                            walked.append(k)
                            ahead = sorted(x for x in model if x > k)[:2]
                            if ahead:
                                assert txn.delete(ahead[0]) is True
                                del model[ahead[0]]
                            if len(ahead) > 1:
                                txn.put(ahead[1], arg)
                                model[ahead[1]] = arg
                        assert set(walked) >= {k for k in model if k >= key}
                    elif op in ("walk", "rwalk"):
                        _walk(txn, model, min(key), max(key), op == "rwalk", arg)
                    else:
                        aborted = True
                        raise _Abort
                    if op not in ("put", "delete", "get"):
                        # A scan sent the buffer: what get answers must not change.
                        assert {k: txn.get(k) for k in _ALL} == {k: model.get(k) for k in _ALL}
            if not aborted:
                committed.clear()
                committed.update(model)
            assert _all(meta) == sorted(committed.items())

    run()


def test_walks_with_writes_between_items_match_a_model(
    meta: PostgresMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scans read item by item with writes, gets and other (flushing) scans between the
    items, forward and reverse, over a random starting set, agree with a model cursor."""
    monkeypatch.setattr(pg_txn, "_PAGE_FIRST", 2)
    monkeypatch.setattr(pg_txn, "_PAGE_MAX", 3)
    monkeypatch.setattr(pg_txn, "_SEEN_MAX", 4)
    monkeypatch.setattr(pg_txn, "_INSORT_MAX", 2)

    @settings(max_examples=150, deadline=None)
    @given(
        st.dictionaries(_KEYS, st.binary(max_size=2)),
        st.tuples(_KEYS, _KEYS),
        st.booleans(),
        _WALK_STEPS,
    )
    def run(
        start: dict[bytes, bytes],
        bounds: tuple[bytes, bytes],
        reverse: bool,
        steps: list[tuple[str, bytes, bytes]],
    ) -> None:
        with contextlib.suppress(_Abort), meta.begin_write() as txn:
            for k in _ALL:
                txn.delete(k)
            txn.put_many(start.items())
            model = dict(start)
            _walk(txn, model, min(bounds), max(bounds) + b"\xff", reverse, steps)
            assert {k: txn.get(k) for k in _ALL} == {k: model.get(k) for k in _ALL}
            raise _Abort

    run()


class _Abort(Exception):
    pass


def _walk(
    txn: Any,
    model: dict[bytes, bytes],
    lo: bytes,
    hi: bytes,
    reverse: bool,
    steps: list[tuple[str, bytes, bytes]],
) -> None:
    """A scan read item by item, with writes and other scans between the items, left
    unfinished: each item is the first key past the last one in the scan's direction
    *as the transaction stands then* (LMDB's cursor), with its current value."""
    walk = txn.scan_reverse(lo, hi) if reverse else txn.scan(lo, hi)
    last: bytes | None = None
    ended = False
    for step, key, value in steps:
        if step == "next" and not ended:
            ahead = sorted(
                (
                    k
                    for k in model
                    if lo <= k < hi and (last is None or (k < last if reverse else k > last))
                ),
                reverse=reverse,
            )
            got = next(walk, None)
            assert got == ((ahead[0], model[ahead[0]]) if ahead else None)
            ended = got is None
            last = ahead[0] if ahead else last
        elif step == "put":
            txn.put(key, value)
            model[key] = value
        elif step == "delete":
            assert txn.delete(key) == (key in model)
            model.pop(key, None)
        elif step == "get":
            assert txn.get(key) == model.get(key)
        elif step in ("scan", "rscan"):
            other = txn.scan(key) if step == "scan" else txn.scan_reverse(b"", key)
            want = sorted(k for k in model if (k >= key) == (step == "scan"))
            got = next(other, None)
            assert got == (None if not want else (w := want[0 if step == "scan" else -1], model[w]))


def test_readers_never_see_half_a_transaction(meta: PostgresMetadataStore) -> None:
    """Snapshots taken while a writer commits pairs of keys always see both or neither."""
    stop = threading.Event()
    seen: list[tuple[bytes | None, bytes | None]] = []

    def read() -> None:
        while not stop.is_set():
            with meta.begin() as r:
                seen.append((r.get(b"x"), r.get(b"y")))
                assert [v for _, v in r.scan(b"p", b"q")] in ([], [b"1", b"1"], [b"2", b"2"])

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for i in range(60):
            with meta.begin_write() as txn:
                txn.put(b"x", b"%d" % i)
                txn.put(b"y", b"%d" % i)
                txn.put_many([(b"p1", b"%d" % (i % 2 + 1)), (b"p2", b"%d" % (i % 2 + 1))])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert seen and all(x == y for x, y in seen)


def test_postgres_restarted_mid_upload(tmp_path: Path, postgres_restartable: Any) -> None:
    """A restart while an upload commits its batches: the upload either completes whole or
    fails typed and leaves nothing; acknowledged objects survive; gc and fsck are clean."""
    pg = postgres_restartable
    meta = PostgresMetadataStore.from_url(pg.dsn)
    store = objstore.Store(
        FileChunkStore(tmp_path / "chunks"),
        meta,
        settings=BATCHED,
        gc=GcSettings(interval=None),
        secret_key=bytes(32),
    )
    try:
        root = store.root
        root.create_bucket("bkt")
        root.put_object("bkt", "before", b"kept" * 5000)
        piece = bytes(range(256)) * 16

        def body() -> Iterator[bytes]:
            for i in range(40):
                if i == 20:
                    pg.restart("immediate")
                yield piece + i.to_bytes(4, "big")

        expected = b"".join(piece + i.to_bytes(4, "big") for i in range(40))
        try:
            root.put_object("bkt", "during", body())
        except ServiceUnavailable:
            with pytest.raises(NoSuchKey):
                root.head_object("bkt", "during")
        else:
            assert read_all(root.get_object("bkt", "during")) == expected
        assert read_all(root.get_object("bkt", "before")) == b"kept" * 5000
        store.gc()
        assert store.fsck().healthy
    finally:
        store.close()


def _open_at_once(url: str, n: int) -> list[PostgresMetadataStore]:
    """Open ``n`` stores of ``url`` from ``n`` threads released together."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []
    opened: list[PostgresMetadataStore] = []

    def open_one() -> None:
        barrier.wait()
        try:
            opened.append(PostgresMetadataStore.from_url(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return opened


def test_stores_opening_a_fresh_database_at_once_agree(postgres_dsn: str) -> None:
    """Several nodes opening the same empty database at the same moment: one creates the
    tables, the others find them (they failed with "relation ... already exists", or
    called the half-seen schema damaged, before the creation lock came before the look)."""
    for round_ in range(8):
        opened = _open_at_once(f"{postgres_dsn}?table_prefix=fresh{round_}_", 4)
        with opened[0].begin_write() as txn:
            txn.put(b"k", b"from the first")
        for store in opened:
            with store.begin() as r:
                assert r.get(b"k") == b"from the first"
            store.close()
