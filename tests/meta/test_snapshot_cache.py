"""The LMDB backend's per-snapshot read cache (objstore/meta/lmdb_txn.py).

Read transactions that see the same LMDB snapshot share what they read, so a
hot record is read from LMDB once per commit instead of once per request
(each py-lmdb call releases the GIL, which costs a thread hand-off whenever
other threads wait). These tests hold it to the one thing that matters: every
reader still sees exactly its own snapshot.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.meta import lmdb_txn
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.scan import note_first, prefix_end, scan_prefix


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[LmdbMetadataStore]:
    store = LmdbMetadataStore(tmp_path / "meta", map_size=1 << 30)
    yield store
    store.close()


class _Counting:
    """Wraps a py-lmdb transaction and counts the calls that reach LMDB."""

    def __init__(self, txn: Any, calls: list[str]) -> None:
        self._txn = txn
        self._calls = calls

    def get(self, key: bytes) -> Any:
        self._calls.append("get")
        return self._txn.get(key)

    def cursor(self) -> Any:
        self._calls.append("cursor")
        return self._txn.cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._txn, name)


def _count_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = lmdb_txn.ReadTxnView.__init__

    def wrapped(self: Any, txn: Any, *args: Any) -> None:
        real(self, _Counting(txn, calls), *args)

    monkeypatch.setattr(lmdb_txn.ReadTxnView, "__init__", wrapped)
    return calls


def test_a_warm_snapshot_is_read_without_lmdb(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request on an unchanged store makes no LMDB call for what the first
    read (gets, absent keys and the first item of scans alike)."""
    with meta.begin_write() as txn:
        txn.put(b"Bbkt", b"bucket")
        txn.put(b"Vbkt\x00k\x00\x00\x02", b"v-old")
        txn.put(b"Vbkt\x00k\x00\x00\x01", b"v-new")
    calls = _count_calls(monkeypatch)

    def request() -> tuple[Any, ...]:
        with meta.begin() as r:
            newest = next(iter(r.scan(b"Vbkt\x00k\x00\x00", b"Vbkt\x00k\x00\x01")))
            last = next(iter(r.scan_reverse(b"V", b"W")))
            return r.get(b"Bbkt"), r.get(b"Pbkt"), newest, last

    first = request()
    assert calls  # the first request reads LMDB
    calls.clear()
    assert (
        request()
        == first
        == (
            b"bucket",
            None,
            (b"Vbkt\x00k\x00\x00\x01", b"v-new"),
            (b"Vbkt\x00k\x00\x00\x02", b"v-old"),
        )
    )
    assert calls == []
    with meta.begin_write() as txn:
        txn.put(b"Bbkt", b"bucket-2")
    calls.clear()
    # The cache outlives the commit: it holds what the commit wrote, and the scans'
    # first items, whose ranges the commit did not write in.
    assert request() == (b"bucket-2", None, first[2], first[3])
    assert calls == []
    with meta.begin_write() as txn:
        txn.put(b"Vbkt\x00k\x00\x00\x00", b"v-newer")  # in both scans' ranges
    calls.clear()
    assert request() == (
        b"bucket-2",
        None,
        (b"Vbkt\x00k\x00\x00\x00", b"v-newer"),
        (b"Vbkt\x00k\x00\x00\x02", b"v-old"),
    )
    assert calls == ["cursor", "cursor"]  # both walked again


def test_a_commit_in_another_process_is_seen(meta: LmdbMetadataStore, tmp_path: Path) -> None:
    """The snapshot id is LMDB's, shared by every process: another process's commit
    makes the next read transaction here read again."""
    with meta.begin_write() as txn:
        txn.put(b"k", b"v1")  # this process's cache of the commit holds k = v1
    with meta.begin() as r:
        assert r.get(b"k") == b"v1"
        assert next(iter(r.scan(b"k")))[1] == b"v1"
    script = (
        "import lmdb, sys\n"
        "env = lmdb.open(sys.argv[1], subdir=True, map_size=1 << 30, max_dbs=0)\n"
        "with env.begin(write=True) as t:\n"
        "    t.put(b'k', b'v2')\n"
        "env.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "meta")], check=True)
    with meta.begin_write() as w:
        assert w.get(b"k") == b"v2"  # a writer's base is the other process's commit
        w.put(b"k2", b"x")
    with meta.begin() as r:
        assert r.get(b"k") == b"v2"
        assert next(iter(r.scan(b"k")))[1] == b"v2"


@pytest.mark.parametrize("empty", ["reads only", "deletes a missing key"])
def test_a_write_that_changes_nothing_claims_no_snapshot(
    meta: LmdbMetadataStore, empty: str
) -> None:
    """LMDB commits a transaction that changed no page without a new txn id, so the next
    commit takes the id the empty one had: the empty one must not have cached a snapshot
    under it (regression: a completion retry, which only reads, hid a later PUT)."""
    with meta.begin_write() as txn:
        txn.put(b"k", b"v1")
    with meta.begin_write() as txn:
        assert txn.get(b"k") == b"v1"
        if empty == "deletes a missing key":
            assert txn.delete(b"missing") is False
    with meta.begin_write() as txn:
        txn.put(b"k", b"v2")
    with meta.begin() as r:
        assert r.get(b"k") == b"v2"


@pytest.mark.parametrize("bound", ["entries", "bytes"])
def test_the_cache_is_bounded(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch, bound: str
) -> None:
    """Reading many records in one snapshot never holds more than the bounds (lowered
    here, so that a test reads a few thousand records, not a hundred thousand): a full
    cache starts over empty; values past the bound are still read right, from LMDB."""
    monkeypatch.setattr(lmdb_txn, "CACHE_ENTRIES", 3000 if bound == "entries" else 1 << 20)
    monkeypatch.setattr(lmdb_txn, "CACHE_BYTES", 1 << 20 if bound == "bytes" else 1 << 30)
    n = 3500
    with meta.begin_write() as txn:
        for i in range(n):
            txn.put(b"k%06d" % i, b"x" * 400)
        txn.put(b"big", b"y" * (lmdb_txn.CACHE_VALUE_MAX + 1))
    most = 0
    for _ in range(2):
        with meta.begin() as r:
            cache = r._cache  # type: ignore[attr-defined]
            for i in range(n):
                assert r.get(b"k%06d" % i) == b"x" * 400
                assert next(iter(r.scan(b"k%06d" % i)))[1] == b"x" * 400
                held = len(cache.values) + len(cache.firsts)
                assert held <= lmdb_txn.CACHE_ENTRIES
                assert cache.bytes <= lmdb_txn.CACHE_BYTES
                # Each entry is counted with Python's overhead, not only its bytes.
                assert cache.bytes >= held * lmdb_txn.ENTRY_OVERHEAD
                most = max(most, held)
            assert r.get(b"big") == b"y" * (lmdb_txn.CACHE_VALUE_MAX + 1)
            assert b"big" not in cache.values
    assert most >= 1000  # it was used up to a bound


def test_a_working_set_of_small_versions_stays_cached(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (perf6b): the cache held 8 MiB, 1,850 of the ~9,700 version records of
    4 KiB objects that `bench small` reads from 4 threads, so most GETs made two LMDB
    calls, each a GIL hand-off. 12 MiB of such records (4 KiB bodies inline, as the
    namespace stores them) are now read from LMDB once per snapshot."""
    n = 3000
    record = b"h" * 120 + b"b" * 4096

    def vkey(i: int) -> bytes:
        return b"Vbkt\x00k%05d\x00\x00" % i

    with meta.begin_write() as txn:
        for i in range(n):
            txn.put(vkey(i) + b"\xff" * 8, record)
    calls = _count_calls(monkeypatch)

    def read_all() -> None:
        for i in range(n):
            with meta.begin() as r:  # one read transaction per GET, as the namespace
                assert next(iter(scan_prefix(r, vkey(i))))[1] == record

    read_all()
    assert len(calls) == n  # one cursor per record the first time
    calls.clear()
    read_all()
    assert calls == []


def test_commits_do_not_fill_the_next_snapshots_cache(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (perf6c): a commit carried the last snapshot's byte count, scans'
    firsts included, into the next snapshot's cache, but only its values: every commit
    after a round of reads started fuller, until a snapshot admitted nothing and every
    GET read LMDB (from the third commit here; under a mixed load, for good). The cache
    now outlives the commits; what it counts must stay what it holds."""
    monkeypatch.setattr(lmdb_txn, "CACHE_BYTES", 2 << 20)
    # ~600 KB of records read as scans' first items: three times that does not fit.
    n = 150
    record = b"r" * 4000
    with meta.begin_write() as txn:
        for i in range(n):
            txn.put(b"V%04d" % i, record)
    calls = _count_calls(monkeypatch)
    for round_ in range(6):
        with meta.begin_write() as txn:
            txn.put(b"counter", b"%d" % round_)  # a new snapshot, few values carried
        for _ in range(2):
            calls.clear()
            with meta.begin() as r:
                for i in range(n):
                    assert next(iter(scan_prefix(r, b"V%04d" % i)))[1] == record
                assert r.get(b"counter") == b"%d" % round_
        assert calls == [], f"round {round_}: the second pass read LMDB"
        cache = r._cache  # type: ignore[attr-defined]
        assert cache.bytes == _counted(cache) <= lmdb_txn.CACHE_BYTES


def _counted(cache: Any) -> int:
    """What the entries a cache holds count against its bound."""
    held: int = sum(lmdb_txn._value_size(k, v) for k, v in cache.values.items())  # type: ignore[attr-defined]
    held += sum(lmdb_txn._item_size(ck[1], got) for ck, got in cache.firsts.items())  # type: ignore[attr-defined]
    return held


# Few distinct bytes, so that writes land in the ranges readers scan (ff: a prefix
# whose end drops it, see scan.prefix_end).
_KEYS = st.lists(st.sampled_from([0x00, 0x01, 0x7F, 0xFF]), min_size=1, max_size=3).map(bytes)
_PREFIX = "prefix"  # a scan's stop: prefix_end(start), a whole-prefix scan


class _RolledBack(Exception):
    pass


@st.composite
def _steps(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Commits, readers opened between them, and reads through any open reader."""
    out: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["commit", "open", "get", "scan", "scan_reverse"]))
        if kind == "commit":
            ops = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["put", "delete", "get", "scan"]),
                        _KEYS,
                        st.binary(max_size=4),
                    ),
                    max_size=5,
                )
            )
            out.append((kind, (ops, draw(st.booleans()))))  # (operations, roll back?)
        elif kind == "open":
            out.append((kind, None))
        elif kind == "get":
            out.append((kind, (draw(st.integers(0, 5)), draw(_KEYS))))
        else:
            start, stop = draw(_KEYS), draw(st.one_of(st.none(), _KEYS, st.just(_PREFIX)))
            take = draw(st.integers(0, 4))  # 0: walk it all
            out.append((kind, (draw(st.integers(0, 5)), start, stop, take)))
    return out


def test_every_reader_sees_its_own_snapshot(meta: LmdbMetadataStore) -> None:
    """Model test: readers opened at different commits, interleaved with commits (some
    rolled back, reading as they write), each read exactly their snapshot through gets and
    (partly consumed) scans."""
    _check_snapshots(meta)


def test_writers_past_the_tracking_cap_read_their_own_writes(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same model with a write transaction's tracking cap at 2 keys: a writer past it
    reads what it wrote (not the last commit's cached value), and what it read never
    reaches the cache of the snapshot other readers share (review of the cache: a
    transaction of 1,035 writes read its own write stale, and a rolled-back one left its
    values in the shared cache)."""
    monkeypatch.setattr(lmdb_txn, "TRACK_MAX", 2)
    _check_snapshots(meta)


def _check_snapshots(meta: LmdbMetadataStore) -> None:
    @settings(max_examples=150, deadline=None)
    @given(_steps())
    def run(steps: list[tuple[str, Any]]) -> None:
        with meta.begin_write() as txn:
            for k, _ in list(txn.scan(b"")):
                txn.delete(k)
        model: dict[bytes, bytes] = {}
        readers: list[tuple[Any, Any, dict[bytes, bytes]]] = []
        try:
            for kind, arg in steps:
                if kind == "commit":
                    ops, roll_back = arg
                    mine = dict(model)
                    try:
                        with meta.begin_write() as txn:
                            for op, k, v in ops:
                                if op == "put":
                                    txn.put(k, v)
                                    mine[k] = v
                                elif op == "delete":
                                    assert txn.delete(k) == (k in mine)
                                    mine.pop(k, None)
                                elif op == "get":  # the last commit and its own writes
                                    assert txn.get(k) == mine.get(k)
                                else:  # the first item of a whole-prefix scan, likewise
                                    assert next(iter(scan_prefix(txn, k)), None) == min(
                                        ((x, y) for x, y in mine.items() if x.startswith(k)),
                                        default=None,
                                    )
                            if roll_back:
                                raise _RolledBack
                    except _RolledBack:
                        continue
                    model = mine
                elif kind == "open" or not readers:
                    ctx = meta.begin()
                    readers.append((ctx, ctx.__enter__(), dict(model)))
                if kind in ("get", "scan", "scan_reverse") and readers:
                    _ctx, r, seen = readers[arg[0] % len(readers)]
                    if kind == "get":
                        assert r.get(arg[1]) == seen.get(arg[1])
                        continue
                    _, start, stop, take = arg
                    if stop == _PREFIX:
                        stop = prefix_end(start)
                    want = sorted(
                        (k, v) for k, v in seen.items() if k >= start and (stop is None or k < stop)
                    )
                    if kind == "scan_reverse":
                        want.reverse()
                    walk = r.scan(start, stop) if kind == "scan" else r.scan_reverse(start, stop)
                    got = list(walk) if take == 0 else list(itertools.islice(walk, take))
                    assert got == (want if take == 0 else want[:take])
        finally:
            for ctx, _r, _ in reversed(readers):
                ctx.__exit__(None, None, None)
        cache = meta._shared_env.cache  # type: ignore[attr-defined]
        assert cache.bytes == _counted(cache)  # drops and adds counted right

    run()


class _Abort(Exception):
    pass


def test_a_writer_past_the_cap_neither_reads_stale_nor_leaks(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (review of the cache): past the tracking cap a writer read its own write
    as the last commit's cached value, and a rolled-back writer's reads reached the cache
    every reader of the last commit shares."""
    monkeypatch.setattr(lmdb_txn, "TRACK_MAX", 4)
    with meta.begin_write() as w:
        w.put(b"victim", b"old")
        w.put(b"other", b"committed")
    with meta.begin() as r:  # warm the snapshot's cache
        assert r.get(b"victim") == b"old"
        assert r.get(b"other") == b"committed"
    with meta.begin_write() as w:
        for i in range(10):
            w.put(b"k%02d" % i, b"x")
        w.put(b"victim", b"new")
        assert w.get(b"victim") == b"new"
    with meta.begin() as r:
        assert r.get(b"victim") == b"new"
    with pytest.raises(_Abort), meta.begin_write() as w:
        for i in range(10):
            w.put(b"j%02d" % i, b"x")
        w.put(b"other", b"UNCOMMITTED")
        w.put(b"ghost", b"GHOST")
        assert (w.get(b"other"), w.get(b"ghost")) == (b"UNCOMMITTED", b"GHOST")
        raise _Abort
    with meta.begin() as r:
        assert (r.get(b"other"), r.get(b"ghost")) == (b"committed", None)


def test_a_writers_scan_then_write_in_its_range_is_not_passed_on(
    meta: LmdbMetadataStore,
) -> None:
    """A write transaction passes on the first items its scans saw (the namespace's
    newest-version read after storing a version), but not one its later write in the
    range may have changed."""
    with meta.begin_write() as txn:
        txn.put(b"Vk\x00\x05", b"old")
    with meta.begin_write() as txn:
        assert next(iter(scan_prefix(txn, b"Vk\x00"))) == (b"Vk\x00\x05", b"old")
        txn.put(b"Vk\x00\x01", b"newer")  # sorts first now
    with meta.begin() as r:
        assert next(iter(scan_prefix(r, b"Vk\x00"))) == (b"Vk\x00\x01", b"newer")


def test_a_put_then_its_newest_version_read_warms_the_next_get(
    meta: LmdbMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET right after a PUT makes no LMDB call: the PUT's scan of the key's versions
    after it stored the new one (or its note of it) is the GET's first item, true in the
    PUT's snapshot; a key it read, then wrote, is held with its new value. A key it only
    wrote (an audit event) is not held."""
    with meta.begin_write() as txn:
        txn.put(b"Vk\x00\x05", b"v1")
    calls = _count_calls(monkeypatch)
    with meta.begin_write() as txn:
        txn.put(b"Vk\x00\x04", b"v2")
        assert next(iter(scan_prefix(txn, b"Vk\x00"))) == (b"Vk\x00\x04", b"v2")
        txn.put(b"Vj\x00\x09", b"j1")
        note_first(txn, b"Vj\x00", b"Vj\x00\x09", b"j1")
        assert txn.get(b"Lk") is None
        txn.put(b"Lk", b"summary")  # outside the ranges: their first items still hold
        txn.put(b"zaudit", b"event")
    with meta.begin() as r:
        assert next(iter(scan_prefix(r, b"Vk\x00"))) == (b"Vk\x00\x04", b"v2")
        assert next(iter(scan_prefix(r, b"Vj\x00"))) == (b"Vj\x00\x09", b"j1")
        assert r.get(b"Lk") == b"summary"
        assert calls == []
        assert r.get(b"zaudit") == b"event"
        assert calls == ["get"]


@settings(max_examples=300, deadline=None)
@given(
    starts=st.lists(
        st.lists(st.sampled_from([0x00, 0x01, 0x7F, 0xFF]), max_size=7).map(bytes),
        max_size=30,
    ),
    key=st.lists(st.sampled_from([0x00, 0x01, 0x7F, 0xFF]), max_size=9).map(bytes),
    lengths_max=st.sampled_from([2, lmdb_txn.LENGTHS_MAX]),
)
def test_a_written_key_drops_exactly_the_prefixes_it_starts_with(
    starts: list[bytes], key: bytes, lengths_max: int
) -> None:
    """A commit drops the first items of the whole-prefix scans whose range holds a key
    it wrote, and only those, of the scans it tells apart: starts that end with a 0 byte
    and starts of the first LENGTHS_MAX lengths (checked against a plain filter); the
    first items of other scans are kept until the next commit, as other ranges."""
    cache = lmdb_txn.ReadCache()
    cache.snap = 7
    ranges = [(rev, s, prefix_end(s)) for s in starts for rev in (False, True)]
    told: set[int] = set()  # lengths told apart, in the order they come
    for s in starts:
        if not s.endswith(b"\x00") and len(told) < lengths_max:
            told.add(len(s))
    real = lmdb_txn.LENGTHS_MAX
    lmdb_txn.LENGTHS_MAX = lengths_max  # type: ignore[misc]
    try:
        for ck in ranges:
            cache.add_first(7, ck, None)
    finally:
        lmdb_txn.LENGTHS_MAX = real  # type: ignore[misc]
    cache.publish(8, {key: lmdb_txn._UNKEPT}, {})  # type: ignore[attr-defined]
    assert set(cache.firsts) == {
        ck
        for ck in ranges
        if not key.startswith(ck[1]) and (ck[1].endswith(b"\x00") or len(ck[1]) in told)
    }
    assert cache.bytes == _counted(cache)


def test_threads_never_read_across_a_commit(meta: LmdbMetadataStore) -> None:
    """Readers in threads, a writer committing a counter under a value key and a scanned
    key in each transaction, GIL switches forced every microsecond: every read
    transaction sees both at the same count, and no thread sees the count go back."""
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        last = -1
        while not stop.is_set():
            with meta.begin() as r:
                a = r.get(b"A")
                b = next(iter(scan_prefix(r, b"V")), (b"", b"-1"))[1]
                a2 = r.get(b"A")
            if a is None:
                continue
            if not a == b == a2 or int(a) < last:
                errors.append(f"{a!r} {b!r} {a2!r} after {last}")
                return
            last = int(a)

    def write() -> None:
        for i in range(100):  # durable commits: ~1.5 s on a quiet machine
            with meta.begin_write() as w:
                w.put(b"A", b"%d" % i)
                w.put(b"V%08d" % (10**8 - 1 - i), b"%d" % i)  # the newest sorts first
                next(iter(scan_prefix(w, b"V")))  # passed on to the cache, as a PUT's
        stop.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=read) for _ in range(3)]
        threads.append(threading.Thread(target=write))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []


class _Racing(dict[Any, Any]):
    """A cache dict whose next lookup lets a publish run first, between the reader's
    check of the snapshot and its lookup (the interleaving a GIL switch allows)."""

    def __init__(self, items: dict[Any, Any], race: Any) -> None:
        super().__init__(items)
        self.race = race

    def get(self, key: Any, default: Any = None) -> Any:
        race, self.race = self.race, None
        if race is not None:
            race()
        return super().get(key, default)


@pytest.mark.parametrize("kind", ["value", "first"])
def test_a_lookup_that_a_publish_overtakes_misses(kind: str) -> None:
    """A reader of snapshot 5 that checked the snapshot, then looked up after a publish
    of snapshot 6 changed the entry, must not take snapshot 6's value."""
    cache = lmdb_txn.ReadCache()
    cache.seen_commit(5)
    ck = (False, b"V", b"W")
    cache.add_value(5, b"A", b"old")
    cache.add_first(5, ck, (b"V1", b"old"))

    def publish() -> None:
        cache.publish(6, {b"A": b"new", b"V0": b"new"}, {ck: (b"V0", b"new")})

    if kind == "value":
        cache.values = _Racing(cache.values, publish)
        assert cache.value(5, b"A") is lmdb_txn._MISS  # type: ignore[attr-defined]
        assert cache.value(6, b"A") == b"new"
    else:
        cache.firsts = _Racing(cache.firsts, publish)
        assert cache.first(5, ck) is lmdb_txn._MISS  # type: ignore[attr-defined]
        assert cache.first(6, ck) == (b"V0", b"new")


def test_a_value_read_before_a_commit_is_not_added_after_it() -> None:
    """A reader of snapshot 5 adds what it read from LMDB after this process published
    snapshot 6, which rewrote the key (with a value too big to keep): refused (it would
    answer readers of 6)."""
    cache = lmdb_txn.ReadCache()
    cache.seen_commit(5)
    cache.publish(6, {b"A": lmdb_txn._UNKEPT}, {})  # type: ignore[attr-defined]
    cache.add_value(5, b"A", b"old")
    cache.add_first(5, (False, b"A", b"B"), (b"A", b"old"))
    assert cache.value(6, b"A") is lmdb_txn._MISS  # type: ignore[attr-defined]
    assert cache.first(6, (False, b"A", b"B")) is lmdb_txn._MISS  # type: ignore[attr-defined]


class _Txn:
    """A read transaction that holds ``values`` (what LMDB would answer)."""

    def __init__(self, values: dict[bytes, bytes]) -> None:
        self.values = values

    def get(self, key: bytes) -> bytes | None:
        return self.values.get(key)


def test_a_lookup_while_a_change_is_under_way_misses() -> None:
    """Regression (review 6e): a publish bumped the version before it named no snapshot,
    so a lookup that read the bumped version and then the old snapshot passed both
    checks while the publish changed entries, and a reader of snapshot 5 got snapshot
    6's value. A lookup now misses while the version is odd (a change under way)."""
    cache = lmdb_txn.ReadCache()
    cache.seen_commit(5)
    ck = (False, b"V", b"W")
    cache.add_value(5, b"A", b"old")
    cache.add_first(5, ck, (b"V1", b"old"))
    # The state between a change's first bump and its end, snapshot 5 still named.
    cache.version += 1
    cache.values[b"A"] = b"new"
    cache.firsts[ck] = (b"V0", b"new")
    miss = lmdb_txn._MISS  # type: ignore[attr-defined]
    assert cache.value(5, b"A") is miss
    assert cache.first(5, ck) is miss
    view = lmdb_txn.ReadTxnView(_Txn({b"A": b"old"}), cache, 5)
    assert view.get(b"A") == b"old"  # (its inlined lookup) from LMDB
