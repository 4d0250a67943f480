"""A GET whose stored bytes turn out corrupt: the client gets the answer's head (and the
pieces before the damage), then the connection is cut short of its Content-Length, for
a small body read whole at open (its head otherwise waits for the first piece: see
``as_sent.HeadWithBodyResponse``) as for a streamed one."""

from __future__ import annotations

import hashlib
import http.client
from pathlib import Path
from urllib.parse import urlsplit

import blake3
import pytest

from objstore.aio import AsyncClient
from tests.conftest import CHUNK, chunk_files, chunk_path, open_store
from tests.gateway.s3_support import serve
from tests.gateway.signing import capture

# Four chunks of distinct bytes: 256 KiB, the most a GET reads whole when it opens it.
SMALL = b"".join(hashlib.sha256(bytes([i])).digest() * (CHUNK // 32) for i in range(4))
# Five: read piece by piece after the head went out.
STREAMED = SMALL + hashlib.sha256(b"5").digest() * (CHUNK // 32)


def _flip_first_chunk(path: Path, data: bytes) -> None:
    store = open_store(path)
    try:
        store.root.create_bucket("bkt")
        store.root.put_object("bkt", "k", data)
    finally:
        store.close()
    name = blake3.blake3(data[:CHUNK]).hexdigest()
    reopened = open_store(path)
    try:
        assert name in chunk_files(reopened)
        file = chunk_path(reopened, name)
    finally:
        reopened.close()
    with open(file, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))


@pytest.mark.parametrize("data", [SMALL, STREAMED], ids=["read-whole", "streamed"])
def test_corrupt_get_sends_the_head_then_cuts_the_body(tmp_path: Path, data: bytes) -> None:
    assert len(SMALL) <= AsyncClient.PRELOAD_BYTES < len(STREAMED)
    _flip_first_chunk(tmp_path / "store", data)
    store = open_store(tmp_path / "store")
    try:
        with serve(store) as gw:
            wire = capture(gw.client(), "get_object", Bucket="bkt", Key="k")
            conn = http.client.HTTPConnection(urlsplit(gw.url).netloc, timeout=10)
            conn.request(wire.method, wire.target, headers=dict(wire.headers))
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Length") == str(len(data))
            with pytest.raises(http.client.IncompleteRead):
                response.read()
            conn.close()
    finally:
        store.close()
