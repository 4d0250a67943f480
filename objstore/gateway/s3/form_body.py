"""The ``multipart/form-data`` body of a browser upload, read as S3 reads it.

The fields before ``file`` are read whole, within S3's bound (20 KiB of form data and
boundaries before the file's content, :data:`MAX_PRE_DATA`; at most :data:`MAX_FIELDS`
fields); then the file streams, piece by piece, into the upload: it is never held
whole. What follows the file is ignored, as S3 ignores it, but it must still be a
well-formed end of the form when it is small (:data:`TAIL_LIMIT`): a body cut short
fails the upload's last read, so nothing is stored.

The parsing is aiohttp's multipart reader; it reads through the request's
:class:`RequestBody` (so ``100 Continue``, the body timeout and a client that goes
away behave as for any upload) by way of :class:`_Stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar, cast

from aiohttp import BodyPartReader, MultipartReader, StreamReader
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError

from objstore.errors import (
    InvalidArgument,
    MalformedPOSTRequest,
    MaxPostPreDataLengthExceeded,
    ObjstoreError,
    PreconditionFailed,
)
from objstore.gateway.caller import RequestBody

# S3: "The form data and boundaries (excluding the contents of the file) cannot exceed
# 20 KB."
MAX_PRE_DATA = 20 * 1024
MAX_FIELDS = 256
# The longest line the reader looks for (part headers, boundaries, a preamble's lines).
MAX_LINE = 64 * 1024
# The most read after the file to see the form end well; more is left unread (the
# answer then closes the connection).
TAIL_LIMIT = 64 * 1024
# The most one read of the file asks for.
PIECE = 1 << 20
_FIELD_READ = 4096
# What aiohttp may read past a part's end before giving it back (a read and a boundary).
_SLACK = 4 * _FIELD_READ
_PART_HEADERS = 16

T = TypeVar("T")


def _malformed() -> MalformedPOSTRequest:
    return MalformedPOSTRequest(
        "The body of your POST request is not well-formed multipart/form-data."
    )


async def _parsed(step: Awaitable[T]) -> T:
    """``step`` of aiohttp's reader, its complaints about the body as
    MalformedPOSTRequest (the body's own errors, such as IncompleteBody, pass)."""
    try:
        return await step
    except ObjstoreError:
        raise
    except (ValueError, RuntimeError, AssertionError, HttpProcessingError):
        raise _malformed() from None


class _Stream:
    """The reads aiohttp's multipart reader makes of a StreamReader (``read``,
    ``readline``, ``at_eof``, ``unread_data``), served from a :class:`RequestBody`.
    ``consumed`` counts the bytes handed out and not given back.

    Bounded: a line is at most :data:`MAX_LINE` bytes, and until ``fields_read`` is set
    (the file has begun) at most :data:`MAX_PRE_DATA` plus a read's worth of slack is
    handed out (the exact bound is checked between parts: aiohttp reads a little past a
    part's end and gives it back), so a preamble or a field without end cannot make the
    reader hold or read an unbounded amount."""

    def __init__(self, body: RequestBody) -> None:
        self._pieces = aiter(body)
        self._buffer = b""
        self._at = 0
        self._ended = False
        self.consumed = 0
        self.fields_read = False

    async def _fill(self) -> bool:
        if self._ended:
            return False
        try:
            piece = await anext(self._pieces)
        except StopAsyncIteration:
            self._ended = True
            return False
        rest = self._buffer[self._at :]
        self._buffer = rest + piece if rest else piece
        self._at = 0
        return True

    def _take(self, end: int) -> bytes:
        out = self._buffer[self._at : end]
        self._at = end
        self.consumed += len(out)
        if not self.fields_read and self.consumed > MAX_PRE_DATA + _SLACK:
            raise _too_large()
        return out

    async def read(self, n: int = -1) -> bytes:
        while self._at >= len(self._buffer):
            if not await self._fill():
                return b""
        end = len(self._buffer) if n < 0 else min(len(self._buffer), self._at + n)
        return self._take(end)

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        if max_line_length is None or max_line_length > MAX_LINE:
            max_line_length = MAX_LINE
        searched = self._at
        while True:
            found = self._buffer.find(b"\n", searched)
            if found >= 0:
                end = found + 1
                break
            if len(self._buffer) - self._at > max_line_length:
                raise _malformed()
            # _fill moves the unread rest to the front: resume the search where it stopped.
            searched_past = len(self._buffer) - self._at
            if not await self._fill():
                end = len(self._buffer)
                break
            searched = self._at + searched_past
        if end - self._at > max_line_length:
            raise _malformed()
        return self._take(end)

    def at_eof(self) -> bool:
        return self._ended and self._at >= len(self._buffer)

    def unread_data(self, data: bytes) -> None:
        if data:
            self._buffer = data + self._buffer[self._at :]
            self._at = 0
            self.consumed -= len(data)


@dataclass(frozen=True, slots=True)
class Form:
    """The fields before the file (lower-case names; repeated ones joined with commas,
    as S3 matches them) and the file's part, not yet read."""

    fields: Mapping[str, str]
    filename: str
    _file: BodyPartReader
    _reader: MultipartReader
    _stream: _Stream

    async def file(self, check: Callable[[int, bool], None]) -> AsyncIterator[bytes]:
        """The file's bytes, piece by piece. ``check(size so far, final)`` runs after
        each piece and at the end (it raises to refuse the file). Then up to
        :data:`TAIL_LIMIT` bytes of what follows are read and dropped; they must end
        the form well.

        Raises MalformedPOSTRequest, the body's errors (IncompleteBody, RequestTimeout)
        and ``check``'s."""
        size = 0
        while not self._file.at_eof():
            piece = await _parsed(self._file.read_chunk(PIECE))
            if piece:
                size += len(piece)
                check(size, False)
                yield piece
        check(size, True)
        start = self._stream.consumed
        while True:
            part = await _parsed(self._reader.next())
            if not isinstance(part, BodyPartReader):
                return  # the form's end (or a nested multipart S3 would not read either)
            while not part.at_eof():
                await _parsed(part.read_chunk(_FIELD_READ))
                if self._stream.consumed - start > TAIL_LIMIT:
                    return  # left unread: the answer closes the connection


async def read_form(headers: Mapping[str, str], body: RequestBody) -> Form:
    """Read a browser upload's fields up to its ``file`` part.

    Raises PreconditionFailed (not ``multipart/form-data``), MalformedPOSTRequest,
    MaxPostPreDataLengthExceeded, InvalidArgument (no ``file`` field), and the body's
    errors (IncompleteBody, RequestTimeout).
    """
    content_type = headers.get("Content-Type", "")
    mime = parse_mimetype(content_type)
    if (mime.type, mime.subtype) != ("multipart", "form-data"):
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold",
            Condition="Bucket POST must be of the enclosure-type multipart/form-data",
        )
    stream = _Stream(body)
    try:
        reader = MultipartReader(
            {"Content-Type": content_type},
            cast(StreamReader, stream),
            max_field_size=MAX_PRE_DATA,
            max_headers=_PART_HEADERS,
        )
    except (ValueError, AssertionError):
        raise _malformed() from None
    fields: dict[str, str] = {}
    count = 0
    while True:
        part = await _parsed(reader.next())
        if part is None:
            raise InvalidArgument(
                "POST requires exactly one file upload per request.",
                ArgumentName="file",
                ArgumentValue="0",
            )
        _bounded(stream)
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise _malformed()
        name = part.name.lower()
        if name == "file":
            stream.fields_read = True
            return Form(fields, part.filename or "", part, reader, stream)
        value = bytearray()
        while not part.at_eof():
            value += await _parsed(part.read_chunk(_FIELD_READ))
            _bounded(stream)
        count += 1
        if count > MAX_FIELDS:
            raise MalformedPOSTRequest(f"A POST form may have at most {MAX_FIELDS} fields.")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(
                "POST form fields must be UTF-8", ArgumentName=part.name
            ) from None
        fields[name] = f"{fields[name]},{text}" if name in fields else text


def _too_large() -> MaxPostPreDataLengthExceeded:
    return MaxPostPreDataLengthExceeded(
        "Your POST request fields preceding the upload file were too large.",
        MaxPostPreDataLengthBytes=MAX_PRE_DATA,
    )


def _bounded(stream: _Stream) -> None:
    if stream.consumed > MAX_PRE_DATA:
        raise _too_large()
