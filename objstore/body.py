"""``ObjectBody``: the streaming result of ``get_object``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import TracebackType


class ObjectBody:
    """An object's bytes, streamed; also a context manager.

    Iterate for chunks of bytes, or ``read(n)``. Attributes mirror
    :class:`objstore.types.ObjectInfo`, plus ``content_range`` for range reads
    (``"bytes a-b/size"``) and ``size`` (the length of what this body yields).
    Reading may raise :class:`objstore.errors.DataCorruption`.
    """

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
    ) -> None:
        self._pieces = pieces
        self._buf = b""
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

    def __iter__(self) -> Iterator[bytes]:
        if self._buf:
            buf, self._buf = self._buf, b""
            yield buf
        yield from self._pieces
        self.close()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all remaining when ``n`` < 0); b"" at the end."""
        if n is None or n < 0:
            parts = [self._buf]
            self._buf = b""
            parts.extend(self._pieces)
            return b"".join(parts)
        while len(self._buf) < n:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buf = self._buf + piece if self._buf else bytes(piece)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

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
