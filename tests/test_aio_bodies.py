"""Async upload bodies cross to the worker thread through a bounded read-ahead pump:
nothing is read before the call asks, no more than a bounded amount is read ahead,
reused buffers are safe, and an upload that stops early stops the reading."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator

import pytest

from objstore import aio
from objstore.aiobridge import _END, _Pump
from objstore.errors import IncompleteBody, NoSuchBucket

BUCKET = "bkt"
MiB = 1 << 20


def test_nothing_is_read_before_the_call_asks() -> None:
    started: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        started.append(True)
        yield b"x"

    async def main() -> None:
        async with aio.open(None) as store:
            with pytest.raises(NoSuchBucket):
                await store.root.put_object("no-such-bucket", "k", body())

    asyncio.run(main())
    assert started == []


def test_a_reused_buffer_is_stored_as_it_was_when_yielded() -> None:
    """Pieces are read ahead of the worker: a body that refills one bytearray for every
    piece must still store each piece's bytes."""
    pieces = [bytes([i]) * 300_000 for i in range(12)]

    async def body() -> AsyncIterator[bytearray]:
        buf = bytearray(300_000)
        for piece in pieces:
            buf[:] = piece
            yield buf

    async def main() -> None:
        async with aio.open(None) as store:
            await store.root.create_bucket(BUCKET)
            put = await store.root.put_object(BUCKET, "k", body())
            assert put.etag == f'"{hashlib.md5(b"".join(pieces)).hexdigest()}"'
            got = await store.root.get_object(BUCKET, "k")
            assert await got.read() == b"".join(pieces)

    asyncio.run(main())


def test_an_upload_that_fails_early_stops_reading_its_body() -> None:
    """A body longer than declared: the upload fails, and the endless body is read only
    a bounded amount past the declared length, then abandoned."""
    read = [0]
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                read[0] += MiB
                yield b"e" * MiB
        finally:
            closed.set()

    async def main() -> None:
        async with aio.open(None) as store:
            await store.root.create_bucket(BUCKET)
            body = endless()
            with pytest.raises(IncompleteBody):
                await store.root.put_object(BUCKET, "k", body, content_length=3 * MiB)
            await asyncio.sleep(0.1)  # let the cancelled reader unwind
            await body.aclose()
            assert closed.is_set()
            assert read[0] <= 3 * MiB + 2 * _Pump.AHEAD + MiB

    asyncio.run(main())


def test_read_ahead_is_bounded() -> None:
    """The reader never gets more than AHEAD bytes (and one piece) ahead of the worker."""
    piece = 256 * 1024
    total = 64 * piece
    produced = [0]
    consumed = [0]
    worst = [0]

    async def read() -> object:
        await asyncio.sleep(0)
        if produced[0] >= total:
            return _END
        produced[0] += piece
        worst[0] = max(worst[0], produced[0] - consumed[0])
        return b"p" * piece

    def consume(pump: _Pump) -> int:
        n = 0
        for got in pump.pieces():
            assert isinstance(got, bytes)
            n += len(got)
            consumed[0] = n
            time.sleep(0.002)  # a worker slower than the reader
        return n

    async def main() -> None:
        pump = _Pump(read, asyncio.get_running_loop())
        assert await asyncio.to_thread(consume, pump) == total

    asyncio.run(main())
    assert worst[0] <= 2 * _Pump.AHEAD + piece
