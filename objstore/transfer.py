"""High-level transfers: ``upload_file`` and ``download_file`` (boto3's names).

Uploads below :data:`THRESHOLD` are one PUT; larger files are multipart
uploads whose parts are read straight from the file (``os.preadv`` into the
ingest buffers, never a whole part in memory) and uploaded by ``concurrency``
threads. A failed multipart upload is aborted, so its parts do not linger.

Downloads are written to a temporary file next to the destination and
renamed over it only when complete: a failure never leaves a partial file.
Large objects are fetched as parallel ranged GETs, each pinned to the version
(and ETag) found first, so a concurrent overwrite fails the download instead
of mixing two versions.

``callback(n)`` is called with the number of bytes moved since the previous
call, as boto3's ``Callback`` (sum the calls for the total); calls come from
worker threads, one at a time.

The asyncio versions (:func:`upload_file_async`, :func:`download_file_async`)
read and write files with ``aiofiles`` and run parts as concurrent tasks, so
the event loop never blocks on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

import aiofiles
import aiofiles.os

from objstore.errors import InternalError, InvalidArgument, ObjstoreError
from objstore.types import ObjectInfo, PutObjectResult, UploadPartResult

if TYPE_CHECKING:
    from objstore.aio import AsyncClient
    from objstore.client import Client

MIB = 1024 * 1024
THRESHOLD = 16 * MIB  # files at least this big go multipart
PART_SIZE = 16 * MIB  # default part (and download range) size
MIN_PART = 5 * MIB  # S3's minimum for every part but the last
MAX_PART = 5 * 1024 * MIB
MAX_PARTS = 10_000
CONCURRENCY = 4
PIECE = MIB  # async reads and writes move this much at a time

Callback = Callable[[int], object]


# ------------------------------------------------------------------ planning


def plan_parts(size: int, part_size: int | None) -> list[tuple[int, int]]:
    """``(offset, length)`` of each part of a ``size``-byte file.

    The part size grows past ``part_size`` when 10,000 parts would not hold
    the file. Raises InvalidArgument for a part size outside 5 MiB-5 GiB.
    """
    if part_size is None:
        part_size = PART_SIZE
    elif type(part_size) is not int or not MIN_PART <= part_size <= MAX_PART:
        raise InvalidArgument(f"part_size must be an integer from {MIN_PART} to {MAX_PART}")
    need = -(-size // MAX_PARTS)
    if need > part_size:
        part_size = -(-need // MIB) * MIB  # whole MiB
    return [(off, min(part_size, size - off)) for off in range(0, size, part_size)] or [(0, 0)]


def _workers(concurrency: int | None) -> int:
    if concurrency is None:
        return CONCURRENCY
    if type(concurrency) is not int or concurrency < 1:
        raise InvalidArgument("concurrency must be a positive integer")
    return concurrency


def _callback(callback: Callback | None) -> Callback:
    if callback is None:
        return lambda n: None
    if not callable(callback):
        raise InvalidArgument("callback must be callable")
    lock = threading.Lock()

    def report(n: int) -> None:
        if n:
            with lock:
                callback(n)

    return report


def _local_error(path: object, exc: OSError) -> ObjstoreError:
    """A local file problem as a typed error (the public API raises no OSError)."""
    if isinstance(
        exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError
    ):
        return InvalidArgument(f"{path}: {exc.strerror or exc}", path=str(path))
    return InternalError(f"{path}: {exc}", path=str(path))


# ------------------------------------------------------------------- upload


class FileSlice:
    """``readinto`` over bytes ``offset .. offset+length`` of an open file descriptor.

    Reads with ``os.preadv`` straight into the caller's buffer, so parts read
    by several threads from one descriptor never share a file position.
    """

    def __init__(self, fd: int, offset: int, length: int, progress: Callback) -> None:
        self._fd = fd
        self._pos = offset
        self._left = length
        self._progress = progress

    def readinto(self, target: memoryview) -> int:
        n = min(len(target), self._left)
        if n <= 0:
            return 0
        got = os.preadv(self._fd, [memoryview(target)[:n]], self._pos)
        self._pos += got
        self._left -= got
        self._progress(got)
        return got


def _check_path(path: object) -> None:
    """Raises InvalidArgument for a local path that is not a str, bytes or os.PathLike
    (an int would be taken by os.open as a file descriptor)."""
    if not isinstance(path, str | bytes | os.PathLike):
        raise InvalidArgument(
            f"a local file path must be a str or os.PathLike, not {type(path).__name__}"
        )


def _open_for_upload(path: str | os.PathLike[str]) -> tuple[int, int]:
    _check_path(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except ObjstoreError:
        raise  # AccessDenied is a PermissionError, hence an OSError
    except OSError as exc:
        raise _local_error(path, exc) from None
    st = os.fstat(fd)
    if not os.path.stat.S_ISREG(st.st_mode):  # type: ignore[attr-defined]
        os.close(fd)
        raise InvalidArgument(f"{path} is not a regular file", path=str(path))
    return fd, st.st_size


def upload_file(
    client: Client,
    path: str | os.PathLike[str],
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    part_size: int | None = None,
    concurrency: int | None = None,
    callback: Callback | None = None,
) -> PutObjectResult:
    """See :meth:`objstore.client.Client.upload_file`."""
    workers = _workers(concurrency)
    report = _callback(callback)
    fd, size = _open_for_upload(path)
    try:
        try:
            if size < THRESHOLD:
                return client.put_object(
                    bucket,
                    key,
                    FileSlice(fd, 0, size, report),
                    metadata=metadata,
                    content_type=content_type,
                    content_length=size,
                )
            parts = plan_parts(size, part_size)
            return _multipart(
                client, fd, parts, bucket, key, metadata, content_type, workers, report
            )
        except ObjstoreError:
            raise  # AccessDenied is a PermissionError, hence an OSError
        except OSError as exc:
            raise _local_error(path, exc) from None
    finally:
        os.close(fd)


def _multipart(
    client: Client,
    fd: int,
    parts: list[tuple[int, int]],
    bucket: str,
    key: str,
    metadata: Mapping[str, str] | None,
    content_type: str | None,
    workers: int,
    report: Callback,
) -> PutObjectResult:
    uid = client.create_multipart_upload(bucket, key, metadata=metadata, content_type=content_type)
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="objstore-up") as pool:
            futures: list[Future[UploadPartResult]] = [
                pool.submit(
                    client.upload_part,
                    bucket,
                    key,
                    uid,
                    n,
                    FileSlice(fd, off, length, report),
                    content_length=length,
                )
                for n, (off, length) in enumerate(parts, start=1)
            ]
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for fut in pending:
                fut.cancel()
            done = [f.result() for f in futures]  # raises the first failure
        return client.complete_multipart_upload(bucket, key, uid, done)
    except BaseException:
        with contextlib.suppress(ObjstoreError):
            client.abort_multipart_upload(bucket, key, uid)
        raise


# ----------------------------------------------------------------- download


def _temp_beside(path: str | os.PathLike[str]) -> tuple[int, str]:
    _check_path(path)
    target = os.fspath(path)
    if os.path.isdir(target):
        raise InvalidArgument(f"{target} is a directory", path=target)
    folder, name = os.path.split(os.path.abspath(target))
    try:
        return tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    except ObjstoreError:
        raise  # AccessDenied is a PermissionError, hence an OSError
    except OSError as exc:
        raise _local_error(path, exc) from None


def _ranges(size: int) -> list[tuple[int, int]]:
    return [(off, min(size, off + PART_SIZE) - 1) for off in range(0, size, PART_SIZE)]


def download_file(
    client: Client,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    *,
    version_id: str | None = None,
    concurrency: int | None = None,
    callback: Callback | None = None,
) -> ObjectInfo:
    """See :meth:`objstore.client.Client.download_file`."""
    workers = _workers(concurrency)
    report = _callback(callback)
    _check_path(path)
    info = client.head_object(bucket, key, version_id=version_id)
    fd, tmp = _temp_beside(path)
    try:
        try:

            def fetch(first: int, last: int) -> None:
                rng = None if (first, last) == (0, info.size - 1) else (first, last)
                with client.get_object(
                    bucket, key, range=rng, version_id=info.version_id, if_match=info.etag
                ) as body:
                    pos = first
                    for piece in body:
                        os.pwrite(fd, piece, pos)
                        pos += len(piece)
                        report(len(piece))

            ranges = _ranges(info.size)
            if len(ranges) <= 1 or workers == 1:
                for first, last in ranges:
                    fetch(first, last)
            else:
                with ThreadPoolExecutor(workers, thread_name_prefix="objstore-down") as pool:
                    futures = [pool.submit(fetch, a, b) for a, b in ranges]
                    _, pending = wait(futures, return_when=FIRST_EXCEPTION)
                    for fut in pending:
                        fut.cancel()
                    for fut in futures:
                        if not fut.cancelled():
                            fut.result()
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
        except ObjstoreError:
            raise  # AccessDenied is a PermissionError, hence an OSError
        except OSError as exc:
            raise _local_error(path, exc) from None
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return info


# -------------------------------------------------------------------- async


async def _file_pieces(
    path: str | os.PathLike[str], offset: int, length: int, report: Callback
) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as f:
        await f.seek(offset)
        left = length
        while left > 0:
            piece = await f.read(min(PIECE, left))
            if not piece:
                return  # the file shrank: content_length turns this into IncompleteBody
            left -= len(piece)
            report(len(piece))
            yield piece


async def upload_file_async(
    client: AsyncClient,
    path: str | os.PathLike[str],
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    part_size: int | None = None,
    concurrency: int | None = None,
    callback: Callback | None = None,
) -> PutObjectResult:
    """See :meth:`objstore.aio.AsyncClient.upload_file`."""
    workers = _workers(concurrency)
    report = _callback(callback)
    _check_path(path)
    try:
        st = await aiofiles.os.stat(path)
    except ObjstoreError:
        raise  # AccessDenied is a PermissionError, hence an OSError
    except OSError as exc:
        raise _local_error(path, exc) from None
    if not os.path.stat.S_ISREG(st.st_mode):  # type: ignore[attr-defined]
        raise InvalidArgument(f"{path} is not a regular file", path=str(path))
    size = st.st_size
    try:
        if size < THRESHOLD:
            return await client.put_object(
                bucket,
                key,
                _file_pieces(path, 0, size, report),
                metadata=metadata,
                content_type=content_type,
                content_length=size,
            )
        parts = plan_parts(size, part_size)
        uid = await client.create_multipart_upload(
            bucket, key, metadata=metadata, content_type=content_type
        )
        gate = asyncio.Semaphore(workers)

        async def one(n: int, off: int, length: int) -> UploadPartResult:
            async with gate:
                return await client.upload_part(
                    bucket,
                    key,
                    uid,
                    n,
                    _file_pieces(path, off, length, report),
                    content_length=length,
                )

        try:
            tasks = [
                asyncio.ensure_future(one(n, off, length))
                for n, (off, length) in enumerate(parts, start=1)
            ]
            try:
                done = await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
            return await client.complete_multipart_upload(bucket, key, uid, done)
        except BaseException:
            with contextlib.suppress(ObjstoreError):
                await client.abort_multipart_upload(bucket, key, uid)
            raise
    except ObjstoreError:
        raise  # AccessDenied is a PermissionError, hence an OSError
    except OSError as exc:
        raise _local_error(path, exc) from None


async def download_file_async(
    client: AsyncClient,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    *,
    version_id: str | None = None,
    concurrency: int | None = None,
    callback: Callback | None = None,
) -> ObjectInfo:
    """See :meth:`objstore.aio.AsyncClient.download_file`."""
    workers = _workers(concurrency)
    report = _callback(callback)
    _check_path(path)
    info = await client.head_object(bucket, key, version_id=version_id)
    target = os.fspath(path)
    if await aiofiles.os.path.isdir(target):
        raise InvalidArgument(f"{target} is a directory", path=target)
    folder, name = os.path.split(os.path.abspath(target))
    try:
        async with aiofiles.tempfile.NamedTemporaryFile(
            "wb", dir=folder, prefix=f".{name}.", suffix=".part", delete=False
        ) as tmpf:
            tmp = str(tmpf.name)
    except ObjstoreError:
        raise  # AccessDenied is a PermissionError, hence an OSError
    except OSError as exc:
        raise _local_error(path, exc) from None
    gate = asyncio.Semaphore(workers)

    async def fetch(first: int, last: int) -> None:
        rng = None if (first, last) == (0, info.size - 1) else (first, last)
        async with gate, aiofiles.open(tmp, "r+b") as out:
            await out.seek(first)
            body = await client.get_object(
                bucket, key, range=rng, version_id=info.version_id, if_match=info.etag
            )
            async with body:
                async for piece in body:
                    await out.write(piece)
                    report(len(piece))

    try:
        try:
            tasks = [asyncio.ensure_future(fetch(a, b)) for a, b in _ranges(info.size)]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            await aiofiles.os.replace(tmp, target)
        except ObjstoreError:
            raise  # AccessDenied is a PermissionError, hence an OSError
        except OSError as exc:
            raise _local_error(path, exc) from None
    except BaseException:
        # Whatever failed (the store's errors included), the temporary file goes.
        with contextlib.suppress(OSError):
            await aiofiles.os.remove(tmp)
        raise
    return info
