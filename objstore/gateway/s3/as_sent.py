"""Answer header values as the bytes the client sent.

HTTP header values are bytes. aiohttp hands the gateway each request header decoded
as Latin-1 (one character per byte), so a stored ``x-amz-meta-*`` value holds the bytes
exactly as sent, but it writes answer headers as UTF-8: a value sent as byte ``0xE9``
would come back as ``0xC3 0xA9``. S3 returns metadata bytes as they were sent (boto3
sends and reads header values as Latin-1), so the answers that carry stored values
write each value whose characters are all below U+0100 back as Latin-1 (the bytes
sent); a value with any other character (set through the library API, say) stays
UTF-8, the only way to send it.

aiohttp has no public switch for this: the response classes here replace the head
aiohttp serialized (and checked for control characters) with the same head in these
bytes, and leave aiohttp's head as it is if its internals ever differ.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web


def needs_latin1(headers: Mapping[str, str]) -> bool:
    """Whether a value would be written differently as Latin-1 than as UTF-8."""
    return any(not v.isascii() and _latin1(v) for v in headers.values())


def _latin1(value: str) -> bool:
    return max(value, default="\0") < "\u0100"


def _value(value: str) -> bytes:
    return value.encode("latin-1") if _latin1(value) else value.encode("utf-8")


def encode_head(status_line: bytes, headers: Mapping[str, str]) -> bytes:
    """An HTTP/1.1 answer head: the status line, then each header with its value as
    sent (Latin-1 when possible)."""
    lines = [status_line]
    lines.extend(name.encode("ascii") + b": " + _value(v) for name, v in headers.items())
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _AsSent(web.StreamResponse):
    # Buffer the head until the body (or the end) is written, so it can be replaced.
    _send_headers_immediately = False

    async def _write_headers(self) -> None:
        await super()._write_headers()
        writer = self._payload_writer
        buffered = getattr(writer, "_headers_buf", None)
        if isinstance(buffered, bytes) and not getattr(writer, "_headers_written", True):
            status_line = buffered.split(b"\r\n", 1)[0]
            writer._headers_buf = encode_head(status_line, self.headers)  # type: ignore[union-attr]


class AsSentStreamResponse(_AsSent):
    """A streamed answer whose header values go out as sent."""


class AsSentResponse(_AsSent, web.Response):
    """A whole answer whose header values go out as sent."""


class HeadWithBodyResponse(web.StreamResponse):
    """A streamed answer whose head goes out with the first piece of its body (one send
    instead of two), for a body already in memory: no read can delay the head."""

    _send_headers_immediately = False


def stream_response(
    status: int, headers: Mapping[str, str], *, head_with_body: bool = False
) -> web.StreamResponse:
    """A streamed answer; its values as sent when that differs from UTF-8 (that answer
    always holds its head back until the body). ``head_with_body``: the body is in
    memory, so the head may wait for its first piece (:class:`HeadWithBodyResponse`)."""
    if needs_latin1(headers):
        return AsSentStreamResponse(status=status, headers=headers)
    cls = HeadWithBodyResponse if head_with_body else web.StreamResponse
    return cls(status=status, headers=headers)


def response(status: int, headers: Mapping[str, str]) -> web.Response:
    """A bodiless answer (HEAD); its values as sent when that differs from UTF-8."""
    cls = AsSentResponse if needs_latin1(headers) else web.Response
    return cls(status=status, headers=headers)
