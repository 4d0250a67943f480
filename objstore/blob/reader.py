"""Reads: a byte range of a stored body, streamed, read ahead and verified."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import suppress
from typing import TYPE_CHECKING

import blake3

from objstore import keyspace
from objstore.blob.chunkstore import ChunkId, ChunkMissing
from objstore.blob.records import LEN, READ_BATCH, DataGone, mkey
from objstore.errors import DataCorruption
from objstore.meta.scan import scan_prefix

if TYPE_CHECKING:
    from objstore.blob.store import BlobStore


class Reader:
    """Streams a range of a body: seeks the manifest, reads ahead, verifies."""

    def __init__(self, blobs: BlobStore, data_id: bytes, first: int, last: int) -> None:
        self.b = blobs
        self.data_id = data_id
        self.first = first
        self.last = last

    def _entries(self) -> Iterator[tuple[int, ChunkId, int]]:
        prefix = keyspace.MANIFEST + self.data_id
        with self.b.meta.begin() as txn:
            if txn.get(keyspace.DATA + self.data_id) is None:
                raise DataGone(self.data_id.hex())
            # The chunk holding `first` is the last entry whose offset <= first.
            start_key = None
            for key, _ in txn.scan_reverse(prefix, mkey(self.data_id, self.first + 1)):
                start_key = key
                break
        if start_key is None:
            raise DataCorruption(f"manifest of {self.data_id.hex()} has no entry for byte 0")
        cursor = start_key
        while True:
            # A short read transaction per batch: long readers pin LMDB pages.
            with self.b.meta.begin() as txn:
                batch = []
                for key, value in scan_prefix(txn, prefix, cursor):
                    batch.append((int.from_bytes(key[-8:], "big"), value))
                    if len(batch) >= READ_BATCH:
                        break
            if not batch:
                return
            for off, value in batch:
                if off > self.last:
                    return
                yield off, ChunkId(value[:32]), LEN.unpack_from(value, 32)[0]
            if len(batch) < READ_BATCH:
                return
            cursor = mkey(self.data_id, batch[-1][0] + 1)

    def _fetch(self, cid: ChunkId, length: int) -> bytes:
        try:
            data = self.b.chunks.get(cid)
        except ChunkMissing:
            raise DataCorruption(f"chunk {cid.hex()} is missing", chunk=cid.hex()) from None
        if len(data) != length or blake3.blake3(data).digest() != cid:
            raise DataCorruption(f"chunk {cid.hex()} does not match its hash", chunk=cid.hex())
        return data

    def iterate(self) -> Iterator[bytes]:
        with self.b.lock.shared():
            ahead: list[tuple[int, Future[bytes]]] = []
            entries = self._entries()
            depth = max(1, self.b.settings.read_ahead)
            try:
                exhausted = False
                while True:
                    while not exhausted and len(ahead) < depth:
                        try:
                            off, cid, length = next(entries)
                        except StopIteration:
                            exhausted = True
                            break
                        ahead.append((off, self.b.io.submit(self._fetch, cid, length)))
                    if not ahead:
                        return
                    off, fut = ahead.pop(0)
                    data = fut.result()
                    lo = max(0, self.first - off)
                    hi = min(len(data), self.last - off + 1)
                    if lo == 0 and hi == len(data):
                        yield data  # whole chunk: no copy
                    elif hi > lo:
                        yield data[lo:hi]
            finally:
                for _, fut in ahead:
                    fut.cancel()
                for _, fut in ahead:
                    if not fut.cancelled():
                        with suppress(Exception):
                            fut.result()
