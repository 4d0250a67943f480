"""gc over the whole id space: ids whose bytes are ff are neither skipped nor leaked.

Regression for the ``prefix + b"\\xff"`` scan stop that made gc delete about one
live chunk in 256 and never reclaim one dead body or pending upload in 256.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.meta.scan import scan_prefix

KiB = 1 << 10


@pytest.fixture
def data_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Data ids whose first byte walks 0xff, 0xfe, ... so the top of the range is covered."""
    import objstore.blob.ingest as blob_ingest

    counter = itertools.count()
    real = os.urandom

    def fake(n: int) -> bytes:
        if n == 16:
            i = next(counter)
            return bytes((0xFF - i % 256,)) + b"\xff" * (i % 3) + real(15 - i % 3)
        return real(n)

    monkeypatch.setattr(blob_ingest.os, "urandom", fake)
    yield


@pytest.mark.parametrize("backend", ["memory", "files"])
def test_gc_keeps_every_live_chunk_whatever_its_first_byte(
    tmp_path: Path, backend: str, data_ids: None
) -> None:
    """4 KiB chunks of a 16 MiB object cover all 256 first bytes; gc keeps all of them."""
    path = None if backend == "memory" else tmp_path / "s"
    with objstore.open(path, chunk_size=4 * KiB, inline_threshold=0) as store:
        s3 = store.root
        s3.create_bucket("ids")
        live = os.urandom(16 << 20)
        s3.put_object("ids", "live", live)
        cids = list(store.blobs.chunks.iter_ids())
        assert {c[0] for c in cids} == set(range(256))
        for i in range(8):  # dead bodies whose data ids start ff, fe, ...
            s3.put_object("ids", f"dead{i}", os.urandom(9 * KiB))
            s3.delete_object("ids", f"dead{i}")
        store.gc()
        assert len(list(store.blobs.chunks.iter_ids())) == len(cids)
        assert s3.get_object("ids", "live").read() == live
        with store.blobs.meta.begin() as txn:
            assert list(scan_prefix(txn, keyspace.DEAD)) == []
            assert list(scan_prefix(txn, keyspace.PENDING)) == []
