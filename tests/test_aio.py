"""The asyncio twin: same names, same results, same errors."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

import objstore
from objstore import aio
from objstore.client import Client
from objstore.errors import DataCorruption, NoSuchKey


def test_async_client_has_every_public_client_method() -> None:
    """Every public Client method has an async twin with the same parameters."""
    for name, fn in inspect.getmembers(Client, inspect.isfunction):
        if name.startswith("_"):
            continue
        twin = getattr(aio.AsyncClient, name)
        assert inspect.iscoroutinefunction(twin), name
        sync_params = list(inspect.signature(fn).parameters)
        assert list(inspect.signature(twin).parameters) == sync_params, name


def test_round_trip_and_errors(tmp_path: Path) -> None:
    """A put, a streamed get, a listing and a typed error through asyncio."""

    async def main() -> None:
        async with aio.open(tmp_path / "s", chunk_size=64 * 1024) as store:
            await store.root.create_bucket("async-bucket")
            data = bytes(range(256)) * 1000
            put = await store.root.put_object("async-bucket", "k", data)
            assert put.size == len(data)
            body = await store.root.get_object("async-bucket", "k")
            got = b"".join([piece async for piece in body])
            assert got == data
            async with await store.root.get_object("async-bucket", "k", range=(10, 19)) as part:
                assert await part.read() == data[10:20]
            page = await store.root.list_objects("async-bucket")
            assert [o.key for o in page.contents] == ["k"]
            with pytest.raises(NoSuchKey):
                await store.root.get_object("async-bucket", "missing")

    asyncio.run(main())


def test_concurrent_puts_from_the_loop(tmp_path: Path) -> None:
    """Many coroutines writing at once each get their object stored."""

    async def main() -> list[str]:
        async with aio.open(tmp_path / "s") as store:
            await store.root.create_bucket("many")
            await asyncio.gather(
                *(store.root.put_object("many", f"k{i:02d}", b"x" * i) for i in range(20))
            )
            page = await store.root.list_objects("many")
            return [o.key for o in page.contents]

    assert asyncio.run(main()) == [f"k{i:02d}" for i in range(20)]
    assert isinstance(objstore.open(None).root, Client)


def _no_threads(*args: object, **kwargs: object) -> object:
    raise AssertionError("a preloaded body read in a worker thread")


@pytest.mark.parametrize("size", [0, 5, 100_000, aio.AsyncClient.PRELOAD_BYTES])
def test_small_body_is_read_in_the_call_that_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """A body of at most PRELOAD_BYTES is read whole by get_object's own thread hop:
    reading, iterating and closing it then need no thread; a larger one streams."""
    data = bytes(range(256)) * (size // 256) + b"t" * (size % 256)

    async def main() -> None:
        async with aio.open(tmp_path / "s", chunk_size=64 * 1024) as store:
            await store.root.create_bucket("bkt")
            await store.root.put_object("bkt", "small", data)
            await store.root.put_object("bkt", "large", data + b"!")
            body = await store.root.get_object("bkt", "small")
            large = await store.root.get_object("bkt", "large")
            with monkeypatch.context() as m:
                m.setattr(asyncio, "to_thread", _no_threads)
                assert body.size == size
                assert b"".join([piece async for piece in body]) == data
                assert await body.read() == b""
                await body.close()
                again = await store.root.get_object("bkt", "small")
                assert await again.read(4) == data[:4]
                assert await again.read() == data[4:]
                await again.close()
                if size == aio.AsyncClient.PRELOAD_BYTES:
                    with pytest.raises(AssertionError, match="worker thread"):
                        await large.read(1)
            assert b"".join([piece async for piece in large]) == data + b"!"
            await large.close()

    asyncio.run(main())


def test_preloaded_body_raises_corruption_where_a_read_meets_it(tmp_path: Path) -> None:
    """Preloading changes where the bytes are read, not what reading returns: the pieces
    before a damaged chunk come first, then DataCorruption (not at get_object)."""
    chunk = 64 * 1024
    data = b"".join(bytes([i]) * chunk for i in range(3))

    async def main() -> None:
        async with aio.open(tmp_path / "s", chunk_size=chunk) as store:
            await store.root.create_bucket("bkt")
            await store.root.put_object("bkt", "k", data)
            chunks = [p for p in (tmp_path / "s" / "chunks").rglob("*") if p.is_file()]
            damaged = next(p for p in chunks if p.read_bytes() == bytes([1]) * chunk)
            damaged.write_bytes(bytes([9]) * chunk)
            body = await store.root.get_object("bkt", "k")  # opening still succeeds
            got: list[bytes] = []
            with pytest.raises(DataCorruption):
                async for piece in body:
                    got.append(piece)
            assert b"".join(got) == data[:chunk]
            await body.close()
            body = await store.root.get_object("bkt", "k")
            assert await body.read(10) == data[:10]
            with pytest.raises(DataCorruption):
                await body.read()
            await body.close()

    asyncio.run(main())


def test_iam_and_sts_of_an_async_client(tmp_path: Path) -> None:
    """``iam``/``sts`` are made on first use, once per client, and act as its caller."""

    async def main() -> None:
        async with aio.open(tmp_path / "s") as store:
            root = store.root
            assert root.iam is root.iam and root.sts is root.sts
            await root.iam.create_user("alice")
            assert [u.user_name for u in await root.iam.list_users()] == ["alice"]
            who = await root.sts.get_caller_identity()
            assert who.arn == root.identity.arn

    asyncio.run(main())
