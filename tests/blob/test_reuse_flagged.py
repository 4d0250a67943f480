"""An upload never commits a reference to a chunk quarantined after it chose to reuse it.

Break-it review 9f, M2: dedup decided "reuse" while the chunk's record was trusted;
a read, fsck or a rebind's check then found the chunk missing and flagged it; the
commit referenced it all the same, acknowledged and unreadable. The commit now fails
(ServiceUnavailable) and the retry writes the chunk afresh.
"""

from __future__ import annotations

import os

import blake3
import pytest

import objstore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.quarantine import flag
from objstore.errors import ServiceUnavailable


def test_a_chunk_flagged_between_the_reuse_and_the_commit_fails_the_commit() -> None:
    body = os.urandom(100_000)  # one chunk
    cid = ChunkId(blake3.blake3(body).digest())
    with objstore.open(gc_interval=None) as s:
        s.root.create_bucket("bkt")
        s.root.put_object("bkt", "first", body)
        s.blobs.chunks.delete(cid)  # lost, not noticed yet
        ing = s.blobs.ingest(body, content_length=len(body), max_size=1 << 30)
        try:
            assert ing.reused == {cid}
            with s._meta.begin_write() as txn:
                flag(txn, cid)  # a reader (or a rebind's check) finds it missing now
            with (
                pytest.raises(ServiceUnavailable, match="found missing or damaged"),
                s._meta.begin_write() as txn,
            ):
                s.blobs.commit(txn, ing)
        finally:
            s.blobs.finish(ing)
        s.root.put_object("bkt", "retry", body)  # writes it afresh
        assert s.root.get_object("bkt", "retry").read() == body
        assert s.root.get_object("bkt", "first").read() == body  # healed
