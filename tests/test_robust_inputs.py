"""Hostile inputs get typed errors and never hang (issue 6, section 0).

Regressions: a body whose ``readinto()`` returned -1 looped for ever; a
5,000-digit range raised a raw ValueError (Python's int digit limit);
non-ASCII digits were accepted in ranges; wrong-typed ``objstore.open()``
options and unsupported bodies (str, int, dict, an aiofiles file) raised raw
TypeErrors. Hang-prone cases run in a thread with a deadline.
"""

from __future__ import annotations

import io
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import objstore
from objstore import errors
from objstore.ns.ranges import resolve_range

DEADLINE = 20.0


def _within_deadline(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` in a thread; fail the test if it has not returned by the deadline."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(DEADLINE)
    assert not t.is_alive(), "the call hung"
    return outcome[0]


@pytest.fixture
def s(tmp_path: Path) -> objstore.Store:
    store = objstore.open(tmp_path, chunk_size=64 * 1024, inline_threshold=1024)
    store.root.create_bucket("bkt")
    return store


# ------------------------------------------------------------------ bodies


class _Returns:
    """A file whose ``readinto`` fills what it may and returns scripted values."""

    def __init__(self, *values: object) -> None:
        self.values = list(values)

    def readinto(self, buf: memoryview) -> object:
        value = self.values.pop(0) if len(self.values) > 1 else self.values[0]
        if type(value) is int and 0 < value <= len(buf):
            buf[:value] = b"x" * value
        return value


NONSENSE_READINTO: dict[str, tuple[object, ...]] = {
    "-1 for ever": (-1,),
    "-1 after data": (100, -1),
    "more than the buffer": (1 << 40,),
    "None for ever": (None,),
    "a float": (3.0,),
    "bytes": (b"abc",),
    "True": (True,),
}


@pytest.mark.parametrize("case", sorted(NONSENSE_READINTO))
def test_readinto_returning_nonsense_is_invalid_argument(s: objstore.Store, case: str) -> None:
    body = _Returns(*NONSENSE_READINTO[case])
    exc = _within_deadline(lambda: s.root.put_object("bkt", "k", body))
    assert isinstance(exc, errors.InvalidArgument), repr(exc)
    assert s.root.list_objects("bkt").contents == ()


class _AsyncFile:
    """Shaped like an ``aiofiles`` file: every I/O method is a coroutine function."""

    async def read(self, n: int = -1) -> bytes:
        return b"data"

    async def readinto(self, buf: memoryview) -> int:
        return 0

    async def close(self) -> None:
        return None


async def _agen() -> AsyncIterator[bytes]:
    yield b"data"


class _SneakyAsync:
    """A sync-looking ``readinto`` that returns a coroutine (a wrapper around an async file)."""

    def readinto(self, buf: memoryview) -> Any:
        return _AsyncFile().readinto(buf)


def _closed_file() -> io.BytesIO:
    f = io.BytesIO(b"data")
    f.close()
    return f


UNSUPPORTED_BODIES: dict[str, Callable[[], object]] = {
    "str": lambda: "text",
    "int": lambda: 5,
    "float": lambda: 1.5,
    "None": lambda: None,
    "dict": lambda: {b"a": b"b"},
    "set": lambda: {b"a", b"b"},
    "list of str": lambda: ["a", "b"],
    "list of int": lambda: [1, 2],
    "text file": lambda: io.StringIO("text"),
    "async file": _AsyncFile,
    "async generator": _agen,
    "readinto returning a coroutine": _SneakyAsync,
    "closed file": _closed_file,
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED_BODIES))
def test_unsupported_body_is_invalid_argument(s: objstore.Store, case: str) -> None:
    body = UNSUPPORTED_BODIES[case]()
    exc = _within_deadline(lambda: s.root.put_object("bkt", "k", body))
    assert isinstance(exc, errors.InvalidArgument), repr(exc)
    assert s.root.list_objects("bkt").contents == ()
    # And in a batch: nothing of it is stored either.
    exc = _within_deadline(lambda: s.root.put_objects("bkt", [("ok", b"fine"), ("k", body)]))
    assert isinstance(exc, errors.InvalidArgument), repr(exc)
    assert s.root.list_objects("bkt").contents == ()


def test_aiofiles_file_is_refused_by_the_sync_api(s: objstore.Store, tmp_path: Path) -> None:
    aiofiles = pytest.importorskip("aiofiles")
    import asyncio

    (tmp_path / "f").write_bytes(b"x" * 5000)

    async def main() -> BaseException | None:
        async with aiofiles.open(tmp_path / "f", "rb") as f:
            put = lambda: s.root.put_object("bkt", "k", f)  # noqa: E731
            return await asyncio.to_thread(_within_deadline, put)

    exc = asyncio.run(main())
    assert isinstance(exc, errors.InvalidArgument), repr(exc)
    assert "asyncio" in str(exc)


def test_the_bodys_own_exception_propagates_and_stores_nothing(s: objstore.Store) -> None:
    class Failing:
        def __init__(self) -> None:
            self.calls = 0

        def readinto(self, buf: memoryview) -> int:
            self.calls += 1
            if self.calls > 3:
                raise OSError(5, "Input/output error")
            buf[:1000] = b"y" * 1000
            return 1000

    with pytest.raises(OSError, match="Input/output"):
        s.root.put_object("bkt", "k", Failing())
    assert s.root.list_objects("bkt").contents == ()


def test_wellbehaved_short_reads_still_work(s: objstore.Store) -> None:
    """The contract check must not refuse a valid stream that returns little at a time."""
    data = bytes(range(256)) * 1000

    class Trickle:
        def __init__(self) -> None:
            self.pos = 0

        def readinto(self, buf: memoryview) -> int:
            n = min(len(buf), 7, len(data) - self.pos)
            buf[:n] = data[self.pos : self.pos + n]
            self.pos += n
            return n

    s.root.put_object("bkt", "k", Trickle())
    assert s.root.get_object("bkt", "k").read() == data


# ------------------------------------------------------------------ ranges


@pytest.mark.parametrize(
    "spec",
    [
        "bytes=" + "9" * 5000 + "-",
        "bytes=" + "1" * 5000 + "-" + "2" * 5000,
    ],
)
def test_huge_range_start_is_unsatisfiable(spec: str) -> None:
    with pytest.raises(errors.InvalidRange):
        resolve_range(spec, 100)


def test_huge_range_end_and_suffix_cover_the_object() -> None:
    assert resolve_range("bytes=5-" + "9" * 5000, 100) == (5, 99)
    assert resolve_range("bytes=-" + "9" * 5000, 100) == (0, 99)
    assert resolve_range("bytes=" + "0" * 5000 + "7-9", 100) == (7, 9)


def test_huge_range_through_the_api(s: objstore.Store) -> None:
    s.root.put_object("bkt", "k", b"0123456789")
    with pytest.raises(errors.InvalidRange):
        s.root.get_object("bkt", "k", range="bytes=" + "9" * 5000 + "-")
    assert s.root.get_object("bkt", "k", range="bytes=2-" + "9" * 5000).read() == b"23456789"


@pytest.mark.parametrize(
    "spec",
    [
        "bytes=\u0663-\u0665",  # Arabic-Indic 3-5
        "bytes=0-\u0665",
        "bytes=\uff11-\uff13",  # fullwidth 1-3
        "bytes=-\u09e9",  # Bengali 3
        "bytes=1\u00b2-5",  # superscript two
        "bytes=\u2003" + "1-2",  # em space inside
    ],
)
def test_non_ascii_digits_are_malformed(spec: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        resolve_range(spec, 100)


@given(st.text(max_size=30))
def test_any_text_range_is_typed(spec: str) -> None:
    try:
        span = resolve_range("bytes=" + spec, 1000)
    except (errors.InvalidArgument, errors.InvalidRange):
        return
    # Accepted only when made of ASCII digits, and then always within the object.
    assert span is not None
    assert set(spec) <= set("0123456789-")
    assert 0 <= span[0] <= span[1] <= 999


# ------------------------------------------------------------------ open() options

BAD_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("chunk_size str", {"chunk_size": "x"}),
    ("chunk_size float", {"chunk_size": 65536.0}),
    ("chunk_size negative", {"chunk_size": -1}),
    ("chunk_size bool", {"chunk_size": True}),
    ("limits int", {"limits": 5}),
    ("clock int", {"clock": 3}),
    ("etag_mode None", {"etag_mode": None}),
    ("etag_mode unknown", {"etag_mode": "sha1"}),
    ("chunking None", {"chunking": None}),
    ("chunking unknown", {"chunking": "magic"}),
    ("inline_threshold str", {"inline_threshold": "a"}),
    ("inline_threshold None", {"inline_threshold": None}),
    ("audit str", {"audit": "log"}),
    ("authorizer int", {"authorizer": 1}),
    ("chunk_store str", {"chunk_store": "dir"}),
    ("metadata_store dict", {"metadata_store": {}}),
    ("account_id int", {"account_id": 123456789012}),
    ("secret_key str", {"secret_key": "k" * 32}),
]


@pytest.mark.parametrize("name,options", BAD_OPTIONS, ids=[n for n, _ in BAD_OPTIONS])
def test_bad_open_options_are_invalid_argument(
    tmp_path: Path, name: str, options: dict[str, Any]
) -> None:
    for path in (None, tmp_path / "s"):
        with pytest.raises(errors.InvalidArgument):
            objstore.open(path, **options)
    # Refused before anything was opened: the same path opens normally afterwards.
    with objstore.open(tmp_path / "s") as ok:
        ok.root.create_bucket("bkt")


@pytest.mark.parametrize("path", [123, 1.5, b"/tmp/bytes-path", ["a"], object()])
def test_bad_path_is_invalid_argument(path: object) -> None:
    with pytest.raises(errors.InvalidArgument):
        objstore.open(path)  # type: ignore[arg-type]
