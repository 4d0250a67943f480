"""Range reads: every form, clamping, unsatisfiable ranges, chunk boundaries, seeking."""

from __future__ import annotations

import hashlib

import blake3
import pytest
from conftest import BUCKET, CHUNK, INLINE, open_store, read_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore.blob.chunkstore import ChunkId
from objstore.blob.memory import MemoryChunkStore
from objstore.errors import InvalidArgument, InvalidRange
from objstore.ns.ranges import resolve_range, well_formed

# -------------------------------------------------------------- pure rules


@given(
    st.one_of(
        st.text(max_size=12),
        st.from_regex(r"bytes=[0-9]{0,3}-[0-9]{0,3}(,[0-9]-[0-9])?", fullmatch=True),
    ),
    st.integers(0, 2000),
)
def test_well_formed_is_what_resolve_range_does_not_call_malformed(spec: str, size: int) -> None:
    """The gateway serves exactly the Range values the library takes (S3 ignores the
    rest): well_formed(spec) iff resolve_range does not call spec malformed."""
    try:
        resolve_range(spec, size)
        parsed = True
    except InvalidRange:
        parsed = True
    except InvalidArgument:
        parsed = False
    assert well_formed(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "size", "want"),
    [
        (None, 10, None),
        ((0, 0), 10, (0, 0)),
        ((0, 9), 10, (0, 9)),
        ((3, 5), 10, (3, 5)),
        ((9, 9), 10, (9, 9)),
        ((5, 100), 10, (5, 9)),  # last clamped to the end
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-4", 10, (2, 4)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=0-", 10, (0, 9)),
        ("bytes=9-", 10, (9, 9)),
        ("bytes=-1", 10, (9, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-10", 10, (0, 9)),
        ("bytes=-1000", 10, (0, 9)),  # a suffix longer than the object is all of it
        ("bytes=5-999999999999", 10, (5, 9)),
        (" bytes=1-2 ", 10, (1, 2)),
        ("bytes=0-0", 1, (0, 0)),
    ],
)
def test_resolve_range(spec: object, size: int, want: tuple[int, int] | None) -> None:
    assert resolve_range(spec, size) == want  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ((10, 10), 10),  # a start at the end
        ((11, 20), 10),
        ("bytes=10-", 10),
        ("bytes=10-20", 10),
        ("bytes=-0", 10),  # an empty suffix
        ("bytes=0-0", 0),  # any range on an empty object
        ("bytes=0-", 0),
        ("bytes=-5", 0),
        ((0, 0), 0),
    ],
)
def test_unsatisfiable_ranges(spec: object, size: int) -> None:
    with pytest.raises(InvalidRange) as exc:
        resolve_range(spec, size)  # type: ignore[arg-type]
    assert exc.value.http_status == 416


@pytest.mark.parametrize(
    "spec",
    [
        "bytes=",
        "bytes=-",
        "bytes=a-b",
        "bytes=1-2,4-5",  # one range per call
        "bits=1-2",
        "1-2",
        "bytes=5-2",  # last before first
        "bytes=--1",
        (5, 2),
        (-1, 3),
        (1, -3),
        (1,),
        (1, 2, 3),
        (1.0, 2),
        (True, 2),
        [1, 2],
        5,
    ],
)
def test_malformed_ranges(spec: object) -> None:
    with pytest.raises(InvalidArgument):
        resolve_range(spec, 100)  # type: ignore[arg-type]


# ---------------------------------------------------- through the store

SIZE = 5 * CHUNK + 123  # odd-sized last chunk
DATA = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(SIZE // 32 + 1))[:SIZE]


def test_range_forms_through_get_object(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", DATA)
    cases = {
        (0, 0): (0, 0),
        (CHUNK - 1, CHUNK): (CHUNK - 1, CHUNK),
        "bytes=100-": (100, SIZE - 1),
        "bytes=-77": (SIZE - 77, SIZE - 1),
        (SIZE - 5, SIZE + 1000): (SIZE - 5, SIZE - 1),
    }
    for spec, (first, last) in cases.items():
        with root.get_object(BUCKET, "k", range=spec) as b:  # type: ignore[arg-type]
            assert b.size == last - first + 1
            assert b.content_range == f"bytes {first}-{last}/{SIZE}"
            assert b.object_size == SIZE
            assert b.etag == root.head_object(BUCKET, "k").etag
            assert b.read() == DATA[first : last + 1]
    for bad in ((SIZE, SIZE), f"bytes={SIZE}-"):
        with pytest.raises(InvalidRange):
            root.get_object(BUCKET, "k", range=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        root.get_object(BUCKET, "k", range="bytes=0-1,5-6")


def test_ranges_of_inline_objects(root: objstore.Client) -> None:
    data = DATA[:INLINE]
    root.put_object(BUCKET, "small", data)
    assert read_all(root.get_object(BUCKET, "small", range=(10, 19))) == data[10:20]
    assert read_all(root.get_object(BUCKET, "small", range="bytes=-1")) == data[-1:]
    with pytest.raises(InvalidRange):
        root.get_object(BUCKET, "small", range=(INLINE, INLINE))


def test_ranges_of_an_old_version(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", DATA).version_id
    root.put_object(BUCKET, "k", b"short")
    got = root.get_object(BUCKET, "k", version_id=v1, range=(CHUNK - 2, CHUNK + 2))
    assert read_all(got) == DATA[CHUNK - 2 : CHUNK + 3]
    with pytest.raises(InvalidRange):
        root.get_object(BUCKET, "k", range=(5, 6))


def _boundary_heavy(size: int) -> st.SearchStrategy[int]:
    """Offsets, with chunk boundaries (and their neighbours) drawn often."""
    near = st.builds(
        lambda c, d: min(size - 1, max(0, c * CHUNK + d)),
        st.integers(0, size // CHUNK),
        st.integers(-2, 2),
    )
    return st.one_of(near, st.integers(0, size - 1))


@st.composite
def specs(draw: st.DrawFn) -> object:
    first = draw(_boundary_heavy(SIZE))
    last = draw(st.one_of(_boundary_heavy(SIZE), st.integers(SIZE, 2 * SIZE)))
    first, last = min(first, last), max(first, last)
    form = draw(st.sampled_from(["tuple", "a-b", "a-", "-n"]))
    if form == "tuple":
        return (first, last)
    if form == "a-b":
        return f"bytes={first}-{last}"
    if form == "a-":
        return f"bytes={first}-"
    return f"bytes=-{draw(st.integers(1, SIZE + 10))}"


def model(spec: object) -> bytes:
    """What HTTP range semantics say the bytes are (a plain bytes model)."""
    if isinstance(spec, tuple):
        return DATA[spec[0] : spec[1] + 1]
    assert isinstance(spec, str)
    a, b = spec.removeprefix("bytes=").split("-")
    if not a:
        return DATA[-int(b) :] if int(b) < SIZE else DATA
    return DATA[int(a) : (int(b) + 1 if b else SIZE)]


@pytest.mark.parametrize("backend", ["memory", "lmdb"])
def test_ranges_match_a_bytes_model(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = None if backend == "memory" else tmp_path_factory.mktemp("ranges")
    with open_store(path) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", DATA)

        @settings(
            max_examples=150 if backend == "memory" else 60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(specs(), st.one_of(st.none(), st.integers(4096, 3 * CHUNK)))
        def check(spec: object, piece: int | None) -> None:
            want = model(spec)
            with s.root.get_object(BUCKET, "k", range=spec) as b:  # type: ignore[arg-type]
                assert b.size == len(want)
                if piece is None:
                    got = b"".join(b)
                else:
                    parts = []
                    while part := b.read(piece):  # reads straddle chunk boundaries
                        assert len(part) <= piece
                        parts.append(part)
                    got = b"".join(parts)
            assert got == want

        check()


# ---------------------------------------------------------------- seeking


class CountingChunks(MemoryChunkStore):
    """A memory chunk store that records which chunks were read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[ChunkId] = []

    def get(self, cid: ChunkId) -> bytes:
        self.reads.append(cid)
        return super().get(cid)


def _chunk_ids(data: bytes) -> list[bytes]:
    return [blake3.blake3(data[i : i + CHUNK]).digest() for i in range(0, len(data), CHUNK)]


def test_range_reads_only_the_chunks_they_cover() -> None:
    chunks = CountingChunks()
    n = 40
    data = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() * (CHUNK // 32) for i in range(n))
    ids = _chunk_ids(data)
    assert len(set(ids)) == n
    with open_store(None, chunk_store=chunks) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", data)
        cases = [
            ((0, 0), [0]),
            ((n * CHUNK - 1, n * CHUNK - 1), [n - 1]),  # the last byte: one chunk, no scan
            ((17 * CHUNK + 5, 17 * CHUNK + 10), [17]),
            ((17 * CHUNK - 1, 17 * CHUNK), [16, 17]),  # straddles a boundary
            ("bytes=-10", [n - 1]),
            ((30 * CHUNK, 33 * CHUNK - 1), [30, 31, 32]),
        ]
        for spec, want in cases:
            chunks.reads.clear()
            with s.root.get_object(BUCKET, "k", range=spec) as b:  # type: ignore[arg-type]
                b.read()
            assert sorted(chunks.reads) == sorted(ids[i] for i in want), spec


def test_closing_a_ranged_body_early_reads_little() -> None:
    chunks = CountingChunks()
    data = b"".join(
        hashlib.sha256(i.to_bytes(4, "big")).digest() * (CHUNK // 32) for i in range(64)
    )
    with open_store(None, chunk_store=chunks) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", data)
        chunks.reads.clear()
        with s.root.get_object(BUCKET, "k") as b:
            assert b.read(10) == data[:10]
        # Read-ahead may fetch a few chunks, never the whole object.
        assert len(chunks.reads) < 16
