"""Reading a browser upload's multipart body (objstore/gateway/s3/form_body.py) from a
request body that arrives in arbitrary pieces: the fields and the file come out the
same however the bytes are cut, the file streams (its first bytes come out before the
body's end has arrived), and bad bodies fail with S3's errors."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import (
    EntityTooLarge,
    IncompleteBody,
    InvalidArgument,
    MalformedPOSTRequest,
    MaxPostPreDataLengthExceeded,
    PreconditionFailed,
)
from objstore.gateway.s3.form_body import read_form

BOUNDARY = "----b0und4ry"
HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class Pieces:
    """A RequestBody that yields ``pieces`` (then raises ``error`` if given) and
    counts how many it has handed out."""

    def __init__(self, pieces: list[bytes], error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error
        self.served = 0

    @property
    def length(self) -> int | None:
        return None

    @property
    def trailers(self) -> Mapping[str, str]:
        return {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.served += 1
            yield piece
        if self.error is not None:
            raise self.error

    async def read_all(self, limit: int) -> bytes:
        raise AssertionError("not used")


def form(fields: list[tuple[str, str]], data: bytes, *, end: bool = True) -> bytes:
    out = b""
    for name, value in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    out += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a/b.txt"'.encode()
    )
    out += b"\r\nContent-Type: text/plain\r\n\r\n" + data
    return out + (f"\r\n--{BOUNDARY}--\r\n".encode() if end else b"")


def cut(raw: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(raw), *(p % (len(raw) + 1) for p in points)})
    return [raw[a:b] for a, b in itertools.pairwise(edges)]


async def read(body: Pieces, limit: int | None = None) -> tuple[dict[str, str], str, bytes]:
    got = await read_form(HEADERS, body)

    def check(size: int, final: bool) -> None:
        if limit is not None and size > limit:
            raise EntityTooLarge("too large")

    data = b"".join([piece async for piece in got.file(check)])
    return dict(got.fields), got.filename, data


field_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40).filter(
    lambda v: "\r" not in v and BOUNDARY not in v
)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(field_values, min_size=1, max_size=4),
    data=st.binary(max_size=3000),
    points=st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_cut_reads_the_same(values: list[str], data: bytes, points: list[int]) -> None:
    fields = [(f"Field{i}", v) for i, v in enumerate(values)] + [("KEY", "k")]
    raw = form(fields, data + b"\r\n--" + BOUNDARY[:-1].encode())  # a near-boundary in the file
    got_fields, filename, got = asyncio.run(read(Pieces(cut(raw, points))))
    assert got_fields == {name.lower(): value for name, value in fields}
    assert filename == "a/b.txt"
    assert got == data + b"\r\n--" + BOUNDARY[:-1].encode()


def test_repeated_fields_are_joined_with_commas() -> None:
    raw = form([("x-amz-meta-tag", "Ninja"), ("X-Amz-Meta-Tag", "Stallman")], b"")
    fields, _, data = asyncio.run(read(Pieces([raw])))
    assert fields == {"x-amz-meta-tag": "Ninja,Stallman"}
    assert data == b""


def test_the_file_streams() -> None:
    """The file's first bytes come out while most of the body has not been read."""
    pieces = [form([("key", "k")], b"")[: -len(f"\r\n--{BOUNDARY}--\r\n")]]
    pieces += [b"x" * (1 << 20)] * 20 + [f"\r\n--{BOUNDARY}--\r\n".encode()]
    body = Pieces(pieces)

    async def first_piece() -> int:
        got = await read_form(HEADERS, body)
        async for _ in got.file(lambda size, final: None):
            return body.served
        raise AssertionError("no file bytes")

    assert asyncio.run(first_piece()) <= 4


def test_check_refuses_mid_file() -> None:
    body = Pieces([form([("key", "k")], b"x" * 100_000)])
    with pytest.raises(EntityTooLarge):
        asyncio.run(read(body, limit=10))


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (form([("key", "k")], b"data", end=False), MalformedPOSTRequest),  # never ends
        (b"no multipart here", MalformedPOSTRequest),
        (form([("key", "k")], b"")[: len(BOUNDARY) + 20], MalformedPOSTRequest),
        (f"--{BOUNDARY}\r\n\r\nvalue\r\n".encode(), MalformedPOSTRequest),  # no name
        (f"--{BOUNDARY}--\r\n".encode(), InvalidArgument),  # no file
        (form([("key", "k"), ("pad", "p" * 25_000)], b""), MaxPostPreDataLengthExceeded),
        (form([(f"f{i}", "") for i in range(300)], b""), MalformedPOSTRequest),
    ],
)
def test_bad_bodies(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        asyncio.run(read(Pieces(cut(raw, [7, 300, 5000]))))


def test_a_long_header_line_is_refused() -> None:
    raw = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{"n" * 30_000}"\r\n\r\n'
    with pytest.raises((MalformedPOSTRequest, MaxPostPreDataLengthExceeded)):
        asyncio.run(read(Pieces([raw.encode()])))


def test_the_body_s_own_errors_pass_through() -> None:
    raw = form([("key", "k")], b"x" * 1000, end=False)
    with pytest.raises(IncompleteBody):
        asyncio.run(read(Pieces([raw], error=IncompleteBody("cut short"))))


def test_not_a_form() -> None:
    with pytest.raises(PreconditionFailed):
        asyncio.run(read_form({"Content-Type": "application/json"}, Pieces([b"{}"])))


def test_a_preamble_is_bounded() -> None:
    """Lines before the first boundary count as form data: a long preamble is refused
    without the rest of the body being read; a line without end is refused too."""
    body = Pieces([b"junk\r\n" * 1000] * 1000 + [form([("key", "k")], b"")])
    with pytest.raises(MaxPostPreDataLengthExceeded):
        asyncio.run(read(body))
    assert body.served <= 10  # of 1001
    endless = Pieces([b"x" * 4096] * 1000)
    with pytest.raises(MalformedPOSTRequest):
        asyncio.run(read(endless))
    assert endless.served <= 20


def test_fields_just_under_the_bound_and_a_big_file() -> None:
    """The bound is the form data's, not what the reader looked ahead at."""
    raw = form([("key", "k"), ("pad", "p" * 19_900)], b"f" * 300_000)
    fields, _, data = asyncio.run(read(Pieces([raw])))
    assert len(fields["pad"]) == 19_900
    assert data == b"f" * 300_000
