"""Conformance tests every :class:`~objstore.meta.base.MetadataStore` must pass."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import StoreClosed
from objstore.meta.base import MetadataStore


class _Boom(Exception):
    pass


class MetadataStoreTests:
    """Subclass and implement :meth:`make_store`."""

    def make_store(self, tmp_path: Path) -> MetadataStore:
        raise NotImplementedError

    @pytest.fixture
    def meta(self, tmp_path: Path) -> Iterator[MetadataStore]:
        store = self.make_store(tmp_path)
        yield store
        store.close()

    def test_put_get_delete(self, meta: MetadataStore) -> None:
        """Values read back; deleting reports whether the key existed."""
        with meta.begin_write() as txn:
            txn.put(b"a", b"1")
            assert txn.get(b"a") == b"1"  # a write transaction sees its own writes
        with meta.begin() as r:
            assert r.get(b"a") == b"1"
            assert r.get(b"b") is None
        with meta.begin_write() as txn:
            assert txn.delete(b"a") is True
            assert txn.delete(b"a") is False
        with meta.begin() as r:
            assert r.get(b"a") is None

    def test_failed_transaction_changes_nothing(self, meta: MetadataStore) -> None:
        """An exception inside the block rolls everything back."""
        with meta.begin_write() as txn:
            txn.put(b"keep", b"old")
        with pytest.raises(_Boom), meta.begin_write() as txn:
            txn.put(b"keep", b"new")
            txn.put(b"extra", b"x")
            txn.delete(b"keep")
            raise _Boom
        with meta.begin() as r:
            assert r.get(b"keep") == b"old"
            assert r.get(b"extra") is None

    def test_scan_is_ordered_and_bounded(self, meta: MetadataStore) -> None:
        """scan walks [start, stop) ascending, scan_reverse descending."""
        keys = [b"a", b"a\x00", b"a\x01", b"ab", b"b", b"\xff\xfe"]
        with meta.begin_write() as txn:
            txn.put_many((k, k) for k in reversed(keys))
        with meta.begin() as r:
            assert [k for k, _ in r.scan(b"a", b"b")] == [b"a", b"a\x00", b"a\x01", b"ab"]
            assert [k for k, _ in r.scan(b"a\x00")] == keys[1:]
            assert [k for k, _ in r.scan_reverse(b"a", b"b")] == [b"ab", b"a\x01", b"a\x00", b"a"]
            assert [k for k, _ in r.scan_reverse(b"a\x01")] == list(reversed(keys[2:]))
            assert list(r.scan(b"c", b"d")) == []
            assert list(r.scan_reverse(b"0", b"1")) == []

    def test_reader_snapshot_is_stable(self, meta: MetadataStore) -> None:
        """A read transaction does not see later commits."""
        with meta.begin_write() as txn:
            txn.put(b"k", b"v1")
        with meta.begin() as r:
            with meta.begin_write() as txn:
                txn.put(b"k", b"v2")
                txn.put(b"k2", b"x")
            assert r.get(b"k") == b"v1"
            assert r.get(b"k2") is None
        with meta.begin() as r:
            assert r.get(b"k") == b"v2"

    def test_max_key_size_is_honoured(self, meta: MetadataStore) -> None:
        """Keys up to max_key_size work (the namespace relies on 511)."""
        assert meta.max_key_size >= 511
        key = b"k" * meta.max_key_size
        with meta.begin_write() as txn:
            txn.put(key, b"v")
        with meta.begin() as r:
            assert r.get(key) == b"v"

    def test_use_after_close_is_store_closed(self, tmp_path: Path) -> None:
        """A closed backend refuses new transactions with StoreClosed, not a raw error."""
        store = self.make_store(tmp_path)
        store.close()
        with pytest.raises(StoreClosed), store.begin():
            pass
        with pytest.raises(StoreClosed), store.begin_write():
            pass

    def test_large_values(self, meta: MetadataStore) -> None:
        """Values are not limited like keys (records carry inline data)."""
        value = bytes(range(256)) * 4096
        with meta.begin_write() as txn:
            txn.put(b"big", value)
        with meta.begin() as r:
            assert r.get(b"big") == value

    def test_writers_are_serialised(self, meta: MetadataStore) -> None:
        """Concurrent read-modify-write transactions lose no update."""

        def bump() -> None:
            for _ in range(50):
                with meta.begin_write() as txn:
                    raw = txn.get(b"n")
                    n = int(raw) if raw else 0
                    txn.put(b"n", str(n + 1).encode())

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with meta.begin() as r:
            assert r.get(b"n") == b"200"

    def test_matches_a_dict_model(self, meta: MetadataStore) -> None:
        """Random puts and deletes leave the same ordered contents as a dict."""

        @settings(max_examples=25, deadline=None)
        @given(
            st.lists(
                st.tuples(st.booleans(), st.binary(min_size=1, max_size=12), st.binary(max_size=8)),
                max_size=40,
            )
        )
        def run(ops: list[tuple[bool, bytes, bytes]]) -> None:
            model: dict[bytes, bytes] = {}
            with meta.begin_write() as txn:
                for k, _ in list(txn.scan(b"\x00")):
                    txn.delete(k)
            with meta.begin_write() as txn:
                for is_put, k, v in ops:
                    if is_put:
                        txn.put(k, v)
                        model[k] = v
                    else:
                        assert txn.delete(k) == (k in model)
                        model.pop(k, None)
            with meta.begin() as r:
                assert list(r.scan(b"\x00")) == sorted(model.items())

        run()
