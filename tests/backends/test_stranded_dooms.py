"""A failed upload's clean-up that could not reach the chunk store, on a node that runs
no gc of its own (review 9, R3; ``objstore serve --gc-interval 0``, as docs/scale-out.md
suggests for most nodes).

The clean-up marks the upload's chunks for deletion (K marks under the node's lease);
when the unlink failed, the marks stayed under that live lease: the other nodes' gc left
them alone and every PUT of the same bytes, on every node, failed with
ServiceUnavailable ("being garbage-collected") for as long as the node lived. The node
now finishes them itself at its next write. Runs on both pairs.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

import objstore
from objstore import keyspace
from objstore.backends.s3 import S3ChunkStore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.files import FileChunkStore
from objstore.errors import ObjstoreError, ServiceUnavailable
from objstore.meta.scan import scan_prefix
from tests.backends.nodes import Backends
from tests.bodies import CutOff

B = "bkt"
DATA = os.urandom(24 << 20)
CUT = 20 << 20  # past the first 16 MiB window: its chunks are written


class FlakyS3(S3ChunkStore):
    down = False

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        if self.down:
            raise ServiceUnavailable("test: the chunk store is unreachable for the clean-up")
        super().delete_many(cids)


class FlakyFiles(FileChunkStore):
    down = False

    def delete_many(self, cids: Iterable[ChunkId]) -> None:
        if self.down:
            raise ServiceUnavailable("test: the chunk store is unreachable for the clean-up")
        super().delete_many(cids)


def _dooms(s: objstore.Store) -> int:
    with s._meta.begin() as txn:
        return sum(1 for _ in scan_prefix(txn, keyspace.DOOMED))


def test_a_node_without_gc_finishes_its_stranded_deletions(fresh_backends: Backends) -> None:
    pair = fresh_backends
    flaky: FlakyS3 | FlakyFiles
    if pair.name == "local":
        flaky = FlakyFiles(Path(pair.chunks.removeprefix("file://")))
    else:
        flaky = FlakyS3.from_url(pair.chunks)

    def node(chunks: object) -> objstore.Store:
        return objstore.open(
            metadata=pair.metadata,
            chunks=chunks,  # type: ignore[arg-type]
            secret_key=pair.key,
            gc_interval=None,
            chunk_size=1 << 20,
        )

    with node(flaky) as a, node(pair.chunks) as b:
        a.root.create_bucket(B)
        flaky.down = True
        with pytest.raises((ObjstoreError, OSError)):
            a.root.put_object(B, "k", io.BufferedReader(CutOff(DATA, CUT)))
        flaky.down = False  # the outage is over
        assert _dooms(a) > 0  # left under A's live lease
        b.gc()  # B's gc may not touch them: A's lease lives
        with pytest.raises(ServiceUnavailable, match="being garbage-collected"):
            b.root.put_object(B, "k", DATA)
        a.root.put_object(B, "small", os.urandom(8 << 10))  # A's next write finishes them
        b.root.put_object(B, "k", DATA)
        assert b.root.get_object(B, "k").read() == DATA
        assert a.root.get_object(B, "k").read() == DATA
        b.gc()
        assert b.fsck().healthy
