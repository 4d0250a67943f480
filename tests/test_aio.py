"""The asyncio twin: same names, same results, same errors."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

import objstore
from objstore import aio
from objstore.client import Client
from objstore.errors import NoSuchKey


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
