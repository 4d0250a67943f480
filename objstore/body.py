"""``ObjectBody``: the streaming result of ``get_object``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType

from objstore.errors import RequestCancelled


class ObjectBody:
    """An object's bytes, streamed; also a context manager.

    Iterate for chunks of bytes, or ``read(n)``. Attributes mirror
    :class:`objstore.types.ObjectInfo`, plus ``content_range`` for range reads
    (``"bytes a-b/size"``) and ``size`` (the length of what this body yields).
    Reading may raise :class:`objstore.errors.DataCorruption`.
    """

    # Every descriptive attribute (what AsyncObjectBody copies).
    ATTRIBUTES = (
        "bucket",
        "key",
        "version_id",
        "size",
        "object_size",
        "content_range",
        "etag",
        "last_modified",
        "content_type",
        "metadata",
        "checksum",
        "checksums",
        "checksum_type",
        "cache_control",
        "content_disposition",
        "content_encoding",
        "content_language",
        "expires",
        "tag_count",
        "parts_count",
        "object_lock_mode",
        "object_lock_retain_until_date",
        "object_lock_legal_hold_status",
    )

    def __init__(
        self,
        pieces: Iterator[bytes],
        *,
        bucket: str,
        key: str,
        version_id: str | None,
        size: int,
        object_size: int,
        content_range: str | None,
        etag: str,
        last_modified: datetime,
        content_type: str | None,
        metadata: dict[str, str],
        checksum: str,
        checksums: dict[str, str] | None = None,
        checksum_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: str | None = None,
        tag_count: int = 0,
        parts_count: int = 0,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> None:
        self._pieces = pieces
        # Unread tail of the current piece: (piece, offset), so small reads
        # slice instead of re-copying the rest of a 4 MiB chunk each time.
        self._buf = b""
        self._pos = 0
        self._closed = False
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        self.size = size
        self.object_size = object_size
        self.content_range = content_range
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type
        self.metadata = metadata
        self.checksum = checksum
        self.checksums = checksums or {}
        self.checksum_type = checksum_type
        self.cache_control = cache_control
        self.content_disposition = content_disposition
        self.content_encoding = content_encoding
        self.content_language = content_language
        self.expires = expires
        self.tag_count = tag_count
        self.parts_count = parts_count
        self.object_lock_mode = object_lock_mode
        self.object_lock_retain_until_date = object_lock_retain_until_date
        self.object_lock_legal_hold_status = object_lock_legal_hold_status

    def _take_buffered(self) -> bytes:
        out = self._buf[self._pos :] if self._pos else self._buf
        self._buf, self._pos = b"", 0
        return out

    def __iter__(self) -> Iterator[bytes]:
        if self._pos < len(self._buf):
            yield self._take_buffered()
        yield from self._pieces
        self.close()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all remaining when ``n`` < 0); b"" at the end.

        Raises DataCorruption if a chunk read does not match its hash.
        """
        if n is None or n < 0:
            parts = [self._take_buffered()]
            parts.extend(self._pieces)
            return b"".join(parts)
        parts = []
        want = n
        while want > 0:
            avail = len(self._buf) - self._pos
            if avail <= 0:
                piece = next(self._pieces, None)
                if piece is None:
                    break
                self._buf, self._pos = piece, 0
                continue
            take = min(avail, want)
            parts.append(self._buf[self._pos : self._pos + take])
            self._pos += take
            want -= take
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def preload(self) -> None:
        """Read the rest of the body into memory now and release what it holds, so that
        later reads and iteration do no I/O (the asyncio API does this for small bodies
        in the call that opens them). A failure while reading is kept and raised where
        reading would have met it, after the pieces read before it.
        """
        got: list[bytes] = []
        error: Exception | None = None
        try:
            for piece in self._pieces:
                got.append(piece)
        except RequestCancelled:
            raise
        except Exception as exc:  # raised later, by the read that reaches it
            error = exc
        finally:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
        self._pieces = replay(got, error)

    @property
    def closed(self) -> bool:
        """Whether the body was closed (or read to its end, which closes it)."""
        return self._closed

    def readinto(self, target: bytearray | memoryview) -> int:
        """Fill ``target`` from the stream; return the number of bytes written."""
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Stop reading and release what the body holds."""
        if not self._closed:
            self._closed = True
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> ObjectBody:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ObjectBody {self.bucket}/{self.key} {self.size} bytes>"


def replay(pieces: Iterable[bytes], error: BaseException | None) -> Iterator[bytes]:
    """``pieces`` read already, then ``error`` (if any) raised where it was met."""
    yield from pieces
    if error is not None:
        raise error
