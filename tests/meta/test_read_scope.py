"""``LmdbMetadataStore.begin()``: a read transaction as a plain context manager.

It replaced a generator-based one (a 4 KiB GET opens three), so these hold it to what
that one did: LMDB's errors raised in the block come out typed, any other exception
passes through unchanged, the transaction always ends (no reader slot is kept), and
the store refuses use after close and in a forked child.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import lmdb
import pytest

from objstore.errors import InternalError, StoreClosed, StoreDamaged
from objstore.meta.lmdb_store import LmdbMetadataStore


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[LmdbMetadataStore]:
    store = LmdbMetadataStore(tmp_path / "meta", map_size=1 << 30)
    with store.begin_write() as txn:
        txn.put(b"a", b"1")
    yield store
    store.close()


def test_lmdb_errors_in_the_block_come_out_typed(meta: LmdbMetadataStore) -> None:
    with pytest.raises(StoreDamaged), meta.begin():
        raise lmdb.CorruptedError("damaged page")
    with pytest.raises(InternalError), meta.begin():
        raise lmdb.BadTxnError("bad transaction")


def test_other_exceptions_pass_through_unchanged(meta: LmdbMetadataStore) -> None:
    class Mine(Exception):
        pass

    with pytest.raises(Mine), meta.begin() as txn:
        assert txn.get(b"a") == b"1"
        raise Mine


def test_every_transaction_ends_however_its_block_ends(meta: LmdbMetadataStore) -> None:
    # More scopes than the environment has reader slots (512), all kept alive: a scope
    # that held on to its transaction after its block would run out of them.
    scopes = []
    for i in range(600):
        scope = meta.begin()
        scopes.append(scope)
        try:
            with scope as txn:
                assert txn.get(b"a") == b"1"
                if i % 2:
                    raise KeyError(i)
        except KeyError:
            pass
    # And a writer still commits and every new reader sees it.
    with meta.begin_write() as w:
        w.put(b"a", b"2")
    with meta.begin() as txn:
        assert txn.get(b"a") == b"2"


def test_a_scope_sees_its_snapshot_after_a_commit(meta: LmdbMetadataStore) -> None:
    scope = meta.begin()
    txn = scope.__enter__()
    try:
        with meta.begin_write() as w:
            w.put(b"a", b"3")
        assert txn.get(b"a") == b"1"
    finally:
        scope.__exit__(None, None, None)
    with meta.begin() as fresh:
        assert fresh.get(b"a") == b"3"


def test_closed_store_refuses_to_begin(tmp_path: Path) -> None:
    store = LmdbMetadataStore(tmp_path / "meta", map_size=1 << 30)
    store.close()
    with pytest.raises(StoreClosed):
        store.begin()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_is_refused_without_asking_the_kernel_each_time(
    meta: LmdbMetadataStore,
) -> None:
    # The pid is cached and kept current by an at-fork hook: the child must still see
    # that it is not the process that opened the store.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            meta.begin()
        except StoreClosed:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with meta.begin() as txn:  # the parent is unaffected
        assert txn.get(b"a") == b"1"
