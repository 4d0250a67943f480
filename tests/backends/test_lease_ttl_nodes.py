"""A GET in progress on a default-ttl node survives the gc of a short-ttl node
(review 9c, M2), on both pairs: LMDB + chunk files, and PostgreSQL + Ceph RGW.

The gc node judged the reader node's lease by its own 2 s ttl, reaped it 2 s after its
last renewal and collected the body under the reader (DataCorruption mid-GET).
"""

from __future__ import annotations

import hashlib
import os
import time

from tests.backends.nodes import Backends

CHUNK = 64 * 1024


def test_a_reader_survives_the_gc_of_a_short_ttl_node(fresh_backends: Backends) -> None:
    pair = fresh_backends
    body = os.urandom(8 << 20)
    reader_node = pair.open(chunk_size=CHUNK, gc_interval=None)  # default lease_ttl 600
    gc_node = pair.open(chunk_size=CHUNK, gc_interval=None, lease_ttl=2.0)
    try:
        reader_node.root.create_bucket("bkt")
        reader_node.root.put_object("bkt", "big", body)
        reader = reader_node.root.get_object("bkt", "big")
        got = [reader.read(CHUNK)]
        gc_node.root.delete_object("bkt", "big")  # another node deletes it
        time.sleep(3)  # the reader pauses, well within its own ttl
        r1, r2 = gc_node.gc(), gc_node.gc()
        assert r1.leases_expired + r2.leases_expired == 0
        assert r1.bodies_dropped + r2.bodies_dropped == 0
        while piece := reader.read(1 << 20):
            got.append(piece)
        assert hashlib.sha256(b"".join(got)).digest() == hashlib.sha256(body).digest()
        reader.close()
    finally:
        gc_node.close()
        reader_node.close()
