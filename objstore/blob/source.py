"""Turn what a caller passes as a body into windows over the byte stream.

A body is bytes-like, a binary file object, or an iterable of bytes-like
pieces. The ingest loop asks for the next *window* starting at the first byte
it has not consumed yet; a window is a memoryview of up to ``window_size``
bytes. Bytes-like bodies are windowed without copying; streams are read with
``readinto`` into a small ring of reused buffers (allocating fresh buffers
per read costs more than the hashing here).
"""

from __future__ import annotations

import inspect
import io
import mmap
import threading
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any, Protocol

from objstore import cancel
from objstore.errors import InvalidArgument

BytesLike = bytes | bytearray | memoryview
#: A window buffer: large ones are anonymous maps (see :func:`new_buffer`).
Buffer = bytearray | mmap.mmap

# Buffers at least this large are page-aligned maps.
_MAPPED = 1 << 20


def new_buffer(size: int) -> Buffer:
    """A zeroed, writable buffer of ``size`` bytes.

    A large one is an anonymous map, so it starts on a page boundary: its chunks
    at page-multiple offsets (fixed chunking) can then be written to chunk files
    with ``O_DIRECT`` (:mod:`.files`), without the copy into the page cache.
    """
    if size >= _MAPPED:
        return mmap.mmap(-1, size)
    return bytearray(size)


class Windows(Protocol):
    """A sequence of windows over one byte stream."""

    def next(self, start: int) -> memoryview:
        """The window beginning at stream offset ``start`` (empty at the end)."""
        ...

    def exhausted(self) -> bool:
        """Whether the last window returned reaches the end of the stream."""
        ...

    def close(self) -> None:
        """The caller is done with every window (buffers may be reused)."""
        ...


class _MemoryWindows:
    def __init__(self, data: memoryview, window_size: int) -> None:
        self._data = data.cast("B") if data.format != "B" or data.ndim != 1 else data
        self._size = window_size
        self._end = 0

    def next(self, start: int) -> memoryview:
        self._end = min(len(self._data), start + self._size)
        return self._data[start : self._end]

    def exhausted(self) -> bool:
        return self._end >= len(self._data)

    def close(self) -> None:
        return None


# Bytes read after a full window to learn whether the stream ends there.
_PROBE = 64 << 10


class _StreamWindows:
    """Windows read from ``readinto``-able input into a ring of buffers.

    Each window starts with the unconsumed tail of the previous one (copied,
    at most one chunk) followed by fresh bytes. The ring has three buffers so
    that hashing threads may still be reading the previous two windows while
    the next is filled; :meth:`wait_free` lets the owner block on them.
    """

    def __init__(
        self, read_into: Any, window_size: int, ring: int = 3, pool: BufferPool | None = None
    ) -> None:
        self._pool = pool or BufferPool(window_size, 0)
        self._read_into = read_into
        self._size = window_size
        self._bufs: list[Buffer] = []
        self._ring = ring
        self._index = -1
        self._win_start = 0  # stream offset of the current window
        self._win: memoryview = memoryview(b"")
        self._eof = False
        self._probe: bytearray | None = None  # small buffer for the end-of-stream probe
        self._ahead = memoryview(b"")  # bytes the probe read: the next window's first
        self.on_reuse: Any = None  # callback(buffer_index) before a buffer is overwritten

    def _buffer(self, i: int) -> Buffer:
        while len(self._bufs) <= i:
            self._bufs.append(self._pool.take(self._size))
        return self._bufs[i]

    def close(self) -> None:
        """Return the buffers to the pool (call once nothing reads them any more)."""
        for buf in self._bufs:
            self._pool.give(buf)
        self._bufs = []
        self._win = memoryview(b"")

    def next(self, start: int) -> memoryview:
        if self._eof and not self._ahead and start >= self._win_start + len(self._win):
            self._win = memoryview(b"")
            self._win_start = start
            return self._win
        carry = self._win[start - self._win_start :] if self._win else memoryview(b"")
        self._index = (self._index + 1) % self._ring
        if self.on_reuse is not None:
            self.on_reuse(self._index)
        buf = self._buffer(self._index)
        view = memoryview(buf)[: self._size]  # a pooled buffer may be larger
        n = len(carry)
        view[:n] = carry
        if self._ahead:  # read past the last (full) window by its probe
            take = min(len(self._ahead), self._size - n)
            view[n : n + take] = self._ahead[:take]
            self._ahead = self._ahead[take:]
            n += take
        while n < self._size and not self._eof:
            got = _checked_read(self._read_into, view[n:])
            if not got:
                self._eof = True
                break
            n += got
        if n == self._size and not self._eof and not self._ahead:
            self._probe_end()
        self._win_start = start
        self._win = view[:n]
        return self._win

    def _probe_end(self) -> None:
        """After a full window, one small read tells whether the stream ends there.

        Without it a body of exactly one window (a 16 MiB part) looked unfinished: it
        took a second window buffer (often a fresh 16 MiB allocation) just to read
        nothing, and its hashes ran on threads started for a second window.
        """
        if self._probe is None:
            self._probe = bytearray(_PROBE)
        got = _checked_read(self._read_into, memoryview(self._probe))
        if got:
            self._ahead = memoryview(self._probe)[:got]
        else:
            self._eof = True

    def exhausted(self) -> bool:
        return self._eof and not self._ahead

    @property
    def buffer_index(self) -> int:
        return self._index


def _checked_read(read_into: Any, target: memoryview) -> int:
    """``read_into(target)``, held to the ``readinto`` contract: 0 <= n <= len(target).

    Anything else (-1, a count past the buffer, a coroutine from an async file,
    None from a non-blocking stream) would loop for ever, overrun the window or
    silently truncate the object, so it is refused. An exception the body
    raises itself (a reset connection, a failing disk) is the caller's own and
    propagates unchanged.
    """
    cancel.checkpoint()  # a cancelled upload stops reading (objstore.cancel)
    got = read_into(target)
    if type(got) is int and 0 <= got <= len(target):
        return got
    if got is None:
        # A non-blocking stream with nothing ready: taking it for the end
        # would silently truncate the object.
        raise InvalidArgument("the body is a non-blocking stream with no data ready")
    if inspect.isawaitable(got):
        _discard(got)
        raise InvalidArgument(_ASYNC_BODY)
    raise InvalidArgument(
        f"the body's readinto() returned {got!r} for a {len(target)}-byte buffer "
        "(it must return a byte count from 0 to the buffer's length)"
    )


_ASYNC_BODY = (
    "the body is asynchronous (an aiofiles file or an async iterable): "
    "pass it to the asyncio API (objstore.aio), or pass a regular file here"
)


def _discard(awaitable: object) -> None:
    """Close a coroutine we will never await (no 'never awaited' warning)."""
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()


def _is_async(body: object) -> bool:
    if hasattr(body, "__aiter__") and not isinstance(body, Iterable):
        return True
    return any(
        inspect.iscoroutinefunction(getattr(body, name, None)) for name in ("readinto", "read")
    )


class BufferPool:
    """Window buffers reused across uploads.

    A fresh 16 MiB ``bytearray`` costs a zero-fill and, on this kind of VM,
    first-touch page faults: several milliseconds per upload. Reusing a few
    buffers makes small streamed uploads cheap and big ones start warm.
    """

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self.keep = keep
        self._free: list[Buffer] = []
        self._lock = threading.Lock()

    def take(self, want: int | None = None) -> Buffer:
        """A buffer of at least ``want`` bytes (at most the pool's size; default: that
        size): a free pooled one, else a new one of just ``want`` bytes (a small body's
        window need not cost a 16 MiB allocation when every pooled buffer is taken)."""
        with self._lock:
            if self._free:
                return self._free.pop()
        return new_buffer(self.size if want is None else min(want, self.size))

    def give(self, buf: Buffer) -> None:
        with self._lock:
            if len(self._free) < self.keep and len(buf) == self.size:
                self._free.append(buf)


class _IterReader:
    """``readinto`` over an iterable of bytes-like pieces (copies each piece once)."""

    def __init__(self, pieces: Iterable[Any]) -> None:
        self._it: Iterator[Any] = iter(pieces)
        self._pending = memoryview(b"")

    def readinto(self, target: memoryview) -> int:
        while not self._pending:
            try:
                piece = next(self._it)
            except StopIteration:
                return 0
            if isinstance(piece, str) or not isinstance(piece, bytes | bytearray | memoryview):
                raise InvalidArgument(f"body pieces must be bytes-like, got {type(piece).__name__}")
            view = memoryview(piece)
            # One piece may be copied (pieces are small); a whole body never is.
            self._pending = view.cast("B") if view.c_contiguous else memoryview(view.tobytes())
        n = min(len(target), len(self._pending))
        target[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _ReadReader:
    """``readinto`` over a file object that only offers ``read(n)``."""

    def __init__(self, f: Any) -> None:
        self._f = f
        self._extra = memoryview(b"")  # what a read(n) returned beyond n

    def readinto(self, target: memoryview) -> int:
        if not self._extra:
            data = self._f.read(len(target))
            if data is None:
                raise InvalidArgument("the body is a non-blocking stream with no data ready")
            if isinstance(data, str):
                raise InvalidArgument("file bodies must be opened in binary mode")
            if not isinstance(data, bytes | bytearray | memoryview):
                raise InvalidArgument(f"read() returned {type(data).__name__}, not bytes")
            if not data:
                return 0
            self._extra = memoryview(bytes(data)).cast("B")
        n = min(len(target), len(self._extra))
        target[:n] = self._extra[:n]
        self._extra = self._extra[n:]
        return n


def windows_for(
    body: object, window_size: int, pool: BufferPool | None = None
) -> _MemoryWindows | _StreamWindows:
    """Choose how to window ``body``; raises InvalidArgument for unsupported types."""
    if isinstance(body, bytes | bytearray | memoryview):
        view = memoryview(body)
        if not view.c_contiguous:
            # Copying it whole would buffer the body; a generator of pieces streams.
            raise InvalidArgument("a memoryview body must be contiguous (pass bytes(view))")
        return _MemoryWindows(view, window_size)
    if isinstance(body, str):
        raise InvalidArgument("body must be bytes, a binary file or an iterable of bytes, not str")
    if isinstance(body, io.TextIOBase):
        raise InvalidArgument("file bodies must be opened in binary mode")
    if _is_async(body):
        raise InvalidArgument(_ASYNC_BODY)
    if isinstance(body, Mapping | Set):
        # Iterating would store the keys (or members in no defined order).
        raise InvalidArgument(f"body must not be a {type(body).__name__}")
    if getattr(body, "closed", False) is True:
        raise InvalidArgument("the body file is closed")
    read_into = getattr(body, "readinto", None)
    if callable(read_into):
        return _StreamWindows(read_into, window_size, pool=pool)
    if callable(getattr(body, "read", None)):
        return _StreamWindows(_ReadReader(body).readinto, window_size, pool=pool)
    if isinstance(body, Iterable):
        return _StreamWindows(_IterReader(body).readinto, window_size, pool=pool)
    raise InvalidArgument(
        f"body must be bytes, a binary file or an iterable of bytes, not {type(body).__name__}"
    )
