"""The asyncio bridge: one worker-thread hop per call, and async bodies for the sync core.

:func:`in_thread` / :func:`in_pool` run a whole synchronous operation in a
worker thread with the cancellation rule described in :mod:`objstore.aio`;
:class:`AsyncObjectBody` reads a body without blocking the loop (a small one
was read whole by :func:`open_body` in the opening hop), and :func:`bridged`
turns async iterables and ``aiofiles`` files into the sync iterables the core
takes, streamed through a bounded read-ahead (:class:`_Pump`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from aiofiles.threadpool.text import AsyncTextIOWrapper

from objstore import cancel
from objstore.body import ObjectBody
from objstore.errors import InvalidArgument, InvalidRequest, RequestCancelled


def _scoped(token: cancel.CancelToken, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    with cancel.scope(token):
        try:
            return fn(*args, **kwargs)
        except RequestCancelled:
            # Nothing was kept; the awaiting side raises CancelledError.
            return _ABANDONED


_ABANDONED = object()


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in a worker thread; on cancellation, stop it at its next
    checkpoint or commit point and wait until it has finished (module docstring)."""
    return await in_pool(None, fn, *args, **kwargs)


async def in_pool(pool: Executor | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """:func:`in_thread` on the threads of ``pool`` (None: the loop's default executor)."""
    loop = asyncio.get_running_loop()
    call = _Call(loop)
    work = functools.partial(call.run, contextvars.copy_context(), fn, args, kwargs)
    executor = pool if pool is not None else getattr(loop, "_default_executor", None)
    if executor is None:
        # The default executor is made on first use (or this loop keeps it elsewhere):
        # let the loop pick it; ``work`` reports to ``call`` either way.
        loop.run_in_executor(None, work)
    else:
        executor.submit(work)
    try:
        await call.waiter
    except asyncio.CancelledError:
        call.token.cancel()
        while call.outcome is None:
            # Cancelled again while waiting: keep waiting, the thread cannot be stopped.
            call.waiter = loop.create_future()
            with contextlib.suppress(asyncio.CancelledError):
                await call.waiter
        result, error = call.outcome
        if error is None and result is not _ABANDONED:
            name = getattr(fn, "__name__", "the call")
            raise asyncio.CancelledError(
                f"cancelled too late: {name} had passed its commit point and completed"
            ) from None
        raise
    assert call.outcome is not None
    result, error = call.outcome
    call.outcome = None  # no cycle through the traceback
    if error is not None:
        raise error
    if result is _ABANDONED:
        raise RuntimeError("an uncancelled call was abandoned")  # pragma: no cover
    return result


class _Call:
    """One call in a worker thread, reporting back to the loop with one wake-up.

    Leaner than ``run_in_executor`` + ``shield`` (an asyncio future chained to the
    executor's, another around it): the thread hands its outcome to the loop with one
    ``call_soon_threadsafe``, which sets whichever future the caller awaits then (a new
    one after a cancellation, as the caller keeps waiting for the thread).
    """

    __slots__ = ("loop", "outcome", "token", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.token = cancel.CancelToken()
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.outcome: tuple[Any, BaseException | None] | None = None

    def run(self, ctx: contextvars.Context, fn: Callable[..., Any], args: Any, kw: Any) -> None:
        """In the worker thread (in ``ctx``, a copy of the caller's, as ``to_thread``)."""
        try:
            outcome: tuple[Any, BaseException | None] = (
                ctx.run(_scoped, self.token, fn, args, kw),
                None,
            )
        except BaseException as exc:  # delivered to the awaiting side, raised there
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            self.loop.call_soon_threadsafe(self._settle, outcome)

    def _settle(self, outcome: tuple[Any, BaseException | None]) -> None:
        """On the loop."""
        self.outcome = outcome
        if not self.waiter.done():
            self.waiter.set_result(None)


class AsyncObjectBody:
    """An :class:`ObjectBody` read from the event loop: each read is one thread hop, or
    none for a body :func:`open_body` read whole when it was opened."""

    def __init__(self, body: ObjectBody, *, preloaded: bool = False) -> None:
        self._body = body
        self._it = iter(body)
        # Everything is in memory: reads run on the loop (they never block).
        self._local = preloaded
        for name in ObjectBody.ATTRIBUTES:
            setattr(self, name, getattr(body, name))

    @property
    def in_memory(self) -> bool:
        """Whether the body was read whole when it was opened (reads never wait)."""
        return self._local

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all when ``n`` < 0). May raise DataCorruption."""
        if self._local:
            return self._body.read(n)
        return await asyncio.to_thread(self._body.read, n)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        done = object()
        while True:
            if self._local:
                piece = next(self._it, done)
            else:
                piece = await asyncio.to_thread(next, self._it, done)
            if piece is done:
                return
            assert isinstance(piece, bytes)
            yield piece

    async def close(self) -> None:
        if self._local or self._body.closed:  # nothing left to release in a thread
            self._body.close()
            return
        await asyncio.to_thread(self._body.close)

    async def __aenter__(self) -> AsyncObjectBody:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def open_body(
    open_fn: Callable[..., ObjectBody], limit: int, *args: Any, **kwargs: Any
) -> ObjectBody:
    """``open_fn(*args, **kwargs)``, read whole (:meth:`ObjectBody.preload`) when it is at
    most ``limit`` bytes: a small GET is then one worker-thread hop, not three (open,
    read, close). For :func:`in_thread`."""
    body = open_fn(*args, **kwargs)
    if body.size <= limit:
        try:
            body.preload()
        except BaseException:
            body.close()
            raise
    return body


_END = object()


class _AsyncBody:
    """A sync iterable of bytes over an async body, for the worker thread.

    ``put_object`` and ``upload_part`` run in a worker thread; an async
    iterable of bytes or an ``aiofiles`` file can only be read on the event
    loop. Each pass over the body is a :class:`_Pump`: the worker's first read
    starts it, so nothing is read before the call asks (the engine authorizes
    an upload before its body is read). Cancellation is the call's
    :class:`~objstore.cancel.CancelToken`: the upload stops at its next read,
    and the pump with it.
    """

    PIECE = 1 << 20

    def __init__(self, body: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if _is_async_file(body):
            self._next: Callable[[], Awaitable[object]] = lambda: _read_piece(body, self.PIECE)
        else:
            it = body.__aiter__()
            self._next = lambda: _next_piece(it)

    def __iter__(self) -> Iterator[object]:
        return _Pump(self._next, self._loop).pieces()


class _Failure:
    """What ended a pump early: raised in the worker where it meets it."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Pump:
    """One pass over an async body: a task on the loop reads pieces ahead of the worker
    thread (at most :attr:`AHEAD` bytes queued) and the worker takes everything queued
    at once. A thread is woken only when one side waits for the other (the worker for
    data, the reader for room), not once per piece: a body that has arrived crosses in
    one handoff with its end. Memory stays bounded: the body is never gathered whole.
    """

    AHEAD = 4 << 20

    def __init__(self, read: Callable[[], Awaitable[object]], loop: asyncio.AbstractEventLoop):
        self._read = read
        self._loop = loop
        self._cond = threading.Condition()
        # Under _cond: pieces, then _END or a _Failure; their bytes; the reader's pause.
        self._items: collections.deque[object] = collections.deque()
        self._ahead = 0
        self._paused = False
        # Loop thread only.
        self._room: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def pieces(self) -> Iterator[object]:
        """The body's pieces, in the worker thread."""
        self._call_soon(self._start)
        reader_done = False  # the reader queued its last item and returned
        try:
            while True:
                with self._cond:
                    while not self._items:
                        if not self._cond.wait(1.0) and self._loop.is_closed():
                            raise InvalidRequest("the event loop closed during the upload")
                    items = list(self._items)
                    self._items.clear()
                    self._ahead = 0
                    wake, self._paused = self._paused, False
                if wake:
                    self._call_soon(self._resume)
                for item in items:
                    if item is _END:
                        reader_done = True
                        return
                    if isinstance(item, _Failure):
                        reader_done = True
                        raise item.error
                    yield item
        finally:
            # Failed or abandoned by the upload: stop reading ahead. A reader that ended
            # needs no stop (one loop wake-up fewer per upload).
            if not reader_done:
                with contextlib.suppress(InvalidRequest):
                    self._call_soon(self._stop)

    def _call_soon(self, fn: Callable[[], None]) -> None:
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop is gone
            raise InvalidRequest("the event loop closed during the upload") from None

    def _start(self) -> None:
        if not self._stopped:
            self._room = asyncio.Event()
            self._task = self._loop.create_task(self._run())

    def _resume(self) -> None:
        if self._room is not None:
            self._room.set()

    def _stop(self) -> None:
        self._stopped = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _put(self, item: object, size: int = 0) -> bool:
        """Queue ``item``; whether the reader must now wait for room."""
        with self._cond:
            self._items.append(item)
            self._ahead += size
            full = self._ahead >= self.AHEAD
            if full:
                self._paused = True
                assert self._room is not None
                self._room.clear()  # before the worker can see the pause and resume it
            self._cond.notify()
        return full

    async def _run(self) -> None:
        try:
            while True:
                piece = await self._read()
                if piece is _END:
                    self._put(_END)
                    return
                if isinstance(piece, bytearray | memoryview):
                    # The body may reuse its buffer once asked for the next piece.
                    piece = bytes(piece)
                size = len(piece) if isinstance(piece, bytes) else 0
                if self._put(piece, size):
                    assert self._room is not None
                    await self._room.wait()
        except Exception as exc:  # the body's own failure, raised in the worker
            self._put(_Failure(exc))
        except BaseException:  # cancelled (the upload stopped, or the loop is closing)
            self._put(_Failure(InvalidRequest("the upload's body stopped being read")))
            raise


async def _read_piece(f: Any, n: int) -> object:
    piece = await f.read(n)
    return piece if piece else _END


async def _next_piece(it: AsyncIterator[object]) -> object:
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        return _END


def _is_async_file(body: object) -> bool:
    return inspect.iscoroutinefunction(getattr(body, "read", None))


_BRIDGE_POOL: list[ThreadPoolExecutor] = []
_BRIDGE_LOCK = threading.Lock()


def bridge_pool() -> ThreadPoolExecutor:
    """Threads for uploads of async bodies (made on first use, shared by every loop)."""
    with _BRIDGE_LOCK:
        if not _BRIDGE_POOL:
            _BRIDGE_POOL.append(
                ThreadPoolExecutor(max_workers=64, thread_name_prefix="objstore-aio-upload")
            )
        return _BRIDGE_POOL[0]


def bridged(body: object) -> tuple[object, bool]:
    """``body`` as the sync API takes it (async ones wrapped for the worker thread)."""
    if isinstance(body, AsyncTextIOWrapper):
        raise InvalidArgument("file bodies must be opened in binary mode")
    if hasattr(body, "__aiter__") or _is_async_file(body):
        return _AsyncBody(body, asyncio.get_running_loop()), True
    return body, False
