"""upload_file / download_file (sync and asyncio) and async bodies."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiofiles
import pytest

import objstore
from objstore import aio, transfer
from objstore.errors import (
    AccessDenied,
    InvalidArgument,
    NoSuchBucket,
    NoSuchKey,
    PreconditionFailed,
)

BUCKET = "bkt"
MIB = 1024 * 1024
BIG = 2 * transfer.THRESHOLD + 3 * MIB + 17  # multipart, with a short last part


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        s.root.create_bucket(BUCKET)
        yield s


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def md5_parts(data: bytes, part: int) -> str:
    digests = b"".join(hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part))
    return f'"{hashlib.md5(digests).hexdigest()}-{-(-len(data) // part)}"'


def test_plan_parts_fits_ten_thousand() -> None:
    assert transfer.plan_parts(10, None) == [(0, 10)]
    assert transfer.plan_parts(0, None) == [(0, 0)]
    parts = transfer.plan_parts(5 * 1024**4, 5 * MIB)
    assert len(parts) <= 10_000
    assert sum(n for _, n in parts) == 5 * 1024**4
    assert all(n == parts[0][1] for _, n in parts[:-1]) and parts[0][1] % MIB == 0
    for bad in (MIB, 6 * 1024**3, "8MiB", 5.5 * MIB):
        with pytest.raises(InvalidArgument):
            transfer.plan_parts(100, bad)  # type: ignore[arg-type]


def test_upload_file_small_is_one_put(store: objstore.Store, tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_bytes(b"hello file")
    seen: list[int] = []
    out = store.root.upload_file(
        path, BUCKET, "s", metadata={"a": "b"}, content_type="text/plain", callback=seen.append
    )
    assert out.etag == f'"{hashlib.md5(b"hello file").hexdigest()}"'
    assert sum(seen) == 10
    info = store.root.head_object(BUCKET, "s")
    assert (info.metadata, info.content_type) == ({"a": "b"}, "text/plain")


def test_upload_file_multipart_parallel(store: objstore.Store, big_file: Path) -> None:
    seen: list[int] = []
    out = store.root.upload_file(
        big_file,
        BUCKET,
        "big",
        part_size=5 * MIB,
        concurrency=3,
        callback=seen.append,
        metadata={"x": "y"},
    )
    data = big_file.read_bytes()
    assert out.etag == md5_parts(data, 5 * MIB)
    assert sum(seen) == BIG
    with store.root.get_object(BUCKET, "big") as body:
        assert body.read() == data
    assert store.root.head_object(BUCKET, "big").metadata == {"x": "y"}
    assert not store.root.list_multipart_uploads(BUCKET).uploads


def test_failed_multipart_upload_is_aborted(store: objstore.Store, big_file: Path) -> None:
    sent = [0]

    def boom(n: int) -> None:
        sent[0] += n
        if sent[0] > transfer.THRESHOLD:
            raise RuntimeError("network down")

    with pytest.raises(RuntimeError):
        store.root.upload_file(big_file, BUCKET, "big", part_size=5 * MIB, callback=boom)
    assert not store.root.list_multipart_uploads(BUCKET).uploads
    with pytest.raises(NoSuchKey):
        store.root.head_object(BUCKET, "big")


def test_upload_file_errors(store: objstore.Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        store.root.upload_file(tmp_path / "absent", BUCKET, "k")
    with pytest.raises(InvalidArgument):
        store.root.upload_file(tmp_path, BUCKET, "k")
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(NoSuchBucket):
        store.root.upload_file(tmp_path / "f", "no-such-bucket", "k")
    with pytest.raises(InvalidArgument):
        store.root.upload_file(tmp_path / "f", BUCKET, "k", concurrency=0)
    with pytest.raises(InvalidArgument):
        store.root.upload_file(tmp_path / "f", BUCKET, "k", callback="no")  # type: ignore[arg-type]


def test_transfers_are_authorized_step_by_step(tmp_path: Path) -> None:
    with objstore.open(None, authorizer=objstore.RootOnlyAuthorizer()) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", b"data")
        user = s.client_for(
            objstore.Identity(
                arn="arn:aws:iam::000000000000:user/u", account="000000000000", kind="user"
            )
        )
        (tmp_path / "f").write_bytes(b"x")
        with pytest.raises(AccessDenied):
            user.upload_file(tmp_path / "f", BUCKET, "k2")
        with pytest.raises(AccessDenied):
            user.download_file(BUCKET, "k", tmp_path / "out")
        assert not (tmp_path / "out").exists()


def test_download_file_small_and_large(
    store: objstore.Store, big_file: Path, tmp_path: Path
) -> None:
    data = big_file.read_bytes()
    store.root.put_object(BUCKET, "big", data)
    store.root.put_object(BUCKET, "small", b"tiny")
    seen: list[int] = []
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old contents")
    info = store.root.download_file(BUCKET, "big", dest, concurrency=3, callback=seen.append)
    assert dest.read_bytes() == data
    assert sum(seen) == BIG and info.size == BIG
    store.root.download_file(BUCKET, "small", tmp_path / "small")
    assert (tmp_path / "small").read_bytes() == b"tiny"
    store.root.put_object(BUCKET, "empty", b"")
    store.root.download_file(BUCKET, "empty", tmp_path / "empty")
    assert (tmp_path / "empty").read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "empty", "out.bin", "small"]


def test_download_file_version(store: objstore.Store, tmp_path: Path) -> None:
    store.root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = store.root.put_object(BUCKET, "k", b"one").version_id
    store.root.put_object(BUCKET, "k", b"two")
    store.root.download_file(BUCKET, "k", tmp_path / "v1", version_id=v1)
    assert (tmp_path / "v1").read_bytes() == b"one"


def test_failed_download_leaves_nothing(
    store: objstore.Store, big_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NoSuchKey):
        store.root.download_file(BUCKET, "absent", out / "f")
    store.root.put_object(BUCKET, "big", big_file.read_bytes())
    with pytest.raises(InvalidArgument):
        store.root.download_file(BUCKET, "big", out)  # a directory
    got = [0]

    def overwrite_midway(n: int) -> None:
        got[0] += n
        if got[0] >= transfer.PART_SIZE and got[0] - n < transfer.PART_SIZE:
            store.root.put_object(BUCKET, "big", b"replaced")

    with pytest.raises(PreconditionFailed):
        store.root.download_file(BUCKET, "big", out / "f", concurrency=1, callback=overwrite_midway)
    assert list(out.iterdir()) == []
    with pytest.raises(InvalidArgument):
        store.root.download_file(BUCKET, "big", tmp_path / "no-dir" / "f")


# ------------------------------------------------------------------ asyncio


def test_paths_of_the_wrong_type_are_refused(store: objstore.Store, tmp_path: Path) -> None:
    """Review rev11gen L1: raw TypeErrors (and an int taken as a file descriptor)."""
    store.root.put_object(BUCKET, "k", b"x")
    odd: list[object] = [123, None, [1], 1.5]
    for path in odd:
        with pytest.raises(InvalidArgument):
            store.root.upload_file(path, BUCKET, "up")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            store.root.download_file(BUCKET, "k", path)  # type: ignore[arg-type]

    async def main() -> None:
        async with aio.open(None) as s:
            await s.root.create_bucket(BUCKET)
            await s.root.put_object(BUCKET, "k", b"x")
            for path in odd:
                with pytest.raises(InvalidArgument):
                    await s.root.upload_file(path, BUCKET, "up")  # type: ignore[arg-type]
                with pytest.raises(InvalidArgument):
                    await s.root.download_file(BUCKET, "k", path)  # type: ignore[arg-type]

    asyncio.run(main())
    assert [o.key for o in store.root.list_objects(BUCKET).contents] == ["k"]


def test_failed_async_download_leaves_nothing(big_file: Path, tmp_path: Path) -> None:
    """A store error in the middle of an asyncio download (the object replaced between two
    ranges: PreconditionFailed) removes the temporary file, as the sync twin does."""
    out = tmp_path / "out"
    out.mkdir()

    async def main() -> None:
        async with aio.open(None) as store:
            c = store.root
            await c.create_bucket(BUCKET)
            await c.put_object(BUCKET, "big", big_file.read_bytes())
            got = [0]

            def overwrite_midway(n: int) -> None:
                got[0] += n
                if got[0] >= transfer.PART_SIZE and got[0] - n < transfer.PART_SIZE:
                    store.sync.root.put_object(BUCKET, "big", b"replaced")

            with pytest.raises(PreconditionFailed):
                await c.download_file(
                    BUCKET, "big", out / "f", concurrency=1, callback=overwrite_midway
                )

    asyncio.run(main())
    assert list(out.iterdir()) == []


def test_async_transfers(tmp_path: Path, big_file: Path) -> None:
    data = big_file.read_bytes()

    async def main() -> None:
        async with aio.open(None) as store:
            c = store.root
            await c.create_bucket(BUCKET)
            seen: list[int] = []
            out = await c.upload_file(
                big_file, BUCKET, "big", part_size=5 * MIB, concurrency=2, callback=seen.append
            )
            assert out.etag == md5_parts(data, 5 * MIB) and sum(seen) == BIG
            small = tmp_path / "small"
            small.write_bytes(b"abc")
            assert (await c.upload_file(small, BUCKET, "small")).size == 3
            seen.clear()
            await c.download_file(BUCKET, "big", tmp_path / "copy", callback=seen.append)
            assert (tmp_path / "copy").read_bytes() == data and sum(seen) == BIG
            with pytest.raises(NoSuchKey):
                await c.download_file(BUCKET, "absent", tmp_path / "nothing")
            with pytest.raises(InvalidArgument):
                await c.upload_file(tmp_path / "absent", BUCKET, "k")

    asyncio.run(main())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "copy", "small"]


def test_async_bodies_stream(tmp_path: Path) -> None:
    pieces = [os.urandom(300_000) for _ in range(20)]
    (tmp_path / "f").write_bytes(b"".join(pieces))

    async def gen() -> AsyncIterator[bytes]:
        for p in pieces:
            await asyncio.sleep(0)
            yield p

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 100_000
        raise ConnectionError("client went away")

    async def main() -> None:
        async with aio.open(None) as store:
            c = store.root
            await c.create_bucket(BUCKET)
            out = await c.put_object(BUCKET, "gen", gen())
            assert out.size == sum(map(len, pieces))
            async with aiofiles.open(tmp_path / "f", "rb") as f:
                out2 = await c.put_object(BUCKET, "file", f)
            assert out2.etag == out.etag
            uid = await c.create_multipart_upload(BUCKET, "mp")
            r1 = await c.upload_part(BUCKET, "mp", uid, 1, gen())
            async with aiofiles.open(tmp_path / "f", "rb") as f:
                r2 = await c.upload_part(BUCKET, "mp", uid, 2, f)
            r3 = await c.upload_part(BUCKET, "mp", uid, 3, b"sync bodies too")
            done = await c.complete_multipart_upload(BUCKET, "mp", uid, [r1, r2, r3])
            assert done.size == 2 * out.size + 15
            body = await c.get_object(BUCKET, "mp", range=(out.size - 2, out.size + 1))
            async with body:
                assert await body.read() == pieces[-1][-2:] + pieces[0][:2]
            with pytest.raises(ConnectionError):
                await c.put_object(BUCKET, "broken", broken())
            with pytest.raises(NoSuchKey):
                await c.head_object(BUCKET, "broken")
            (tmp_path / "t").write_text("some text")
            async with aiofiles.open(tmp_path / "t") as text:
                with pytest.raises(InvalidArgument):
                    await c.put_object(BUCKET, "text", text)

    asyncio.run(main())


def test_many_concurrent_async_file_uploads(tmp_path: Path) -> None:
    """More concurrent uploads of aiofiles bodies than the default executor has
    threads: each upload's worker waits on reads aiofiles runs on that executor."""
    n = 2 * (min(32, (os.cpu_count() or 1) + 4)) + 1
    data = [os.urandom(200_000 + i) for i in range(n)]
    for i, d in enumerate(data):
        (tmp_path / f"f{i}").write_bytes(d)

    async def one(c: aio.AsyncClient, i: int) -> objstore.PutObjectResult:
        async with aiofiles.open(tmp_path / f"f{i}", "rb") as f:
            return await c.put_object(BUCKET, f"k{i}", f)

    async def main() -> None:
        async with aio.open(None) as store:
            c = store.root
            await c.create_bucket(BUCKET)
            # A hang guard, not a speed check: the old design never finished.
            results = await asyncio.wait_for(
                asyncio.gather(*(one(c, i) for i in range(n))), timeout=120
            )
            for i, r in enumerate(results):
                assert r.etag == f'"{hashlib.md5(data[i]).hexdigest()}"'

    asyncio.run(main())


def test_cancelled_async_body_upload_stores_nothing() -> None:
    async def main() -> None:
        async with aio.open(None) as store:
            c = store.root
            await c.create_bucket(BUCKET)
            started = asyncio.Event()
            release = asyncio.Event()

            async def body() -> AsyncIterator[bytes]:
                yield b"x" * 100_000
                started.set()
                await release.wait()  # the caller is cancelled while the body is half read
                yield b"y" * 100_000

            task = asyncio.ensure_future(c.put_object(BUCKET, "k", body()))
            await started.wait()
            task.cancel()
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(NoSuchKey):
                await c.head_object(BUCKET, "k")

    asyncio.run(main())
