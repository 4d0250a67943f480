"""Buckets and objects through the public API: put/get/head/delete/copy/delete_objects,
body kinds, sizes and limits, ETags, metadata, dedup and conditional requests."""

from __future__ import annotations

import array
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import blake3
import pytest
from conftest import (
    BATCHED_CHUNK,
    BUCKET,
    CHUNK,
    INLINE,
    chunk_files,
    chunk_path,
    open_batched,
    open_store,
    read_all,
)

import objstore
from objstore.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    EntityTooLarge,
    IncompleteBody,
    InvalidArgument,
    InvalidBucketName,
    InvalidRange,
    InvalidRequest,
    NoSuchBucket,
    NoSuchKey,
    NotModified,
    PreconditionFailed,
)
from objstore.errors import NotImplemented as NotImplemented_

SIZES = [0, 1, INLINE, INLINE + 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]


def data_of(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes (distinct per seed)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


class AllowAll:
    """An authorizer that lets every principal do everything."""

    def authorize(self, request: objstore.AuthorizationRequest) -> bool:
        return True


# ------------------------------------------------------------------ buckets


def test_bucket_lifecycle(store: objstore.Store) -> None:
    root = store.root
    assert root.list_buckets() == []
    for name in ("zeta", "alpha", "mid-1"):
        root.create_bucket(name)
    listed = root.list_buckets()
    assert [b.name for b in listed] == ["alpha", "mid-1", "zeta"]
    assert all(b.creation_date.tzinfo is not None for b in listed)
    assert root.head_bucket("alpha").name == "alpha"
    root.delete_bucket("alpha")
    with pytest.raises(NoSuchBucket):
        root.head_bucket("alpha")
    with pytest.raises(NoSuchBucket):
        root.delete_bucket("alpha")
    assert [b.name for b in root.list_buckets()] == ["mid-1", "zeta"]


def test_bucket_names_are_unique(store: objstore.Store) -> None:
    store.root.create_bucket(BUCKET)
    with pytest.raises(BucketAlreadyOwnedByYou):
        store.root.create_bucket(BUCKET)
    assert len(store.root.list_buckets()) == 1


def test_bucket_owned_by_another_account(tmp_path: Path) -> None:
    with open_store(tmp_path / "s", authorizer=AllowAll()) as s:
        s.root.create_bucket(BUCKET)
        other = s.client_for(
            objstore.Identity(
                arn="arn:aws:iam::111122223333:root", account="111122223333", kind="root"
            )
        )
        with pytest.raises(BucketAlreadyExists):
            other.create_bucket(BUCKET)
        other.create_bucket("theirs")
        with pytest.raises(BucketAlreadyExists):
            s.root.create_bucket("theirs")
        with pytest.raises(BucketAlreadyOwnedByYou):
            other.create_bucket("theirs")


def test_only_empty_buckets_can_be_deleted(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"x")
    with pytest.raises(BucketNotEmpty):
        root.delete_bucket(BUCKET)
    assert root.head_bucket(BUCKET).name == BUCKET
    root.delete_object(BUCKET, "k")
    root.delete_bucket(BUCKET)
    with pytest.raises(NoSuchBucket):
        root.put_object(BUCKET, "k", b"x")


def test_a_deleted_bucket_name_can_be_reused_empty(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    vid = root.put_object(BUCKET, "k", b"x").version_id
    root.delete_object(BUCKET, "k", version_id=vid)
    root.delete_bucket(BUCKET)
    root.create_bucket(BUCKET)
    assert root.get_bucket_versioning(BUCKET) is None
    assert root.list_objects(BUCKET).contents == ()
    assert root.list_object_versions(BUCKET).versions == ()


def test_operations_on_a_missing_bucket(store: objstore.Store) -> None:
    root = store.root
    calls: list[Callable[[], object]] = [
        lambda: root.put_object("nobucket", "k", b"x"),
        lambda: root.get_object("nobucket", "k"),
        lambda: root.head_object("nobucket", "k"),
        lambda: root.delete_object("nobucket", "k"),
        lambda: root.delete_objects("nobucket", ["k"]),
        lambda: root.list_objects("nobucket"),
        lambda: root.list_object_versions("nobucket"),
        lambda: root.head_bucket("nobucket"),
    ]
    for call in calls:
        with pytest.raises(NoSuchBucket):
            call()
    with pytest.raises(InvalidBucketName):
        root.create_bucket("No")


# ------------------------------------------------------------ bodies


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        out.append(data[pos : pos + n])
        pos += n
        i += 1
    return out


class ReadOnly:
    """A file-like body offering only ``read(n)``."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)


BODY_KINDS: dict[str, Callable[[bytes, Path], object]] = {
    "bytes": lambda d, _p: d,
    "bytearray": lambda d, _p: bytearray(d),
    "memoryview": lambda d, _p: memoryview(d),
    "bytesio": lambda d, _p: io.BytesIO(d),
    "file": lambda d, p: _file_body(d, p),
    "read-only": lambda d, _p: ReadOnly(d),
    "list": lambda d, _p: _pieces(d, [7, 1000, 1, 70000]),
    "generator": lambda d, _p: (piece for piece in _pieces(d, [4096, 3, 65537])),
    "mixed-pieces": lambda d, _p: iter(
        [bytearray(x) if i % 2 else memoryview(x) for i, x in enumerate(_pieces(d, [999, 5]))]
    ),
}


def _file_body(data: bytes, tmp: Path) -> object:
    path = tmp / f"body-{len(data)}"
    path.write_bytes(data)
    return path.open("rb")


@pytest.mark.parametrize("kind", sorted(BODY_KINDS))
@pytest.mark.parametrize("size", SIZES)
def test_put_and_get_every_body_kind(
    root: objstore.Client, tmp_path: Path, kind: str, size: int
) -> None:
    data = data_of(size, seed=size)
    body = BODY_KINDS[kind](data, tmp_path)
    try:
        r = root.put_object(BUCKET, "k", body)
    finally:
        close = getattr(body, "close", None)
        if close is not None and not isinstance(body, memoryview):
            close()
    assert r.size == size
    assert r.etag == md5_etag(data)
    assert r.checksum == blake3.blake3(data).hexdigest()
    with root.get_object(BUCKET, "k") as b:
        assert b.size == size
        assert b.etag == r.etag
        assert b.checksum == r.checksum
        assert b.content_range is None
        assert b.read() == data
    info = root.head_object(BUCKET, "k")
    assert (info.size, info.etag, info.checksum) == (size, r.etag, r.checksum)


def test_array_body_is_taken_as_its_bytes(root: objstore.Client) -> None:
    arr = array.array("I", range(1000))
    r = root.put_object(BUCKET, "k", memoryview(arr))
    assert r.size == 4000
    assert read_all(root.get_object(BUCKET, "k")) == arr.tobytes()


def test_zero_byte_objects(root: objstore.Client) -> None:
    empty_etag = md5_etag(b"")
    for i, body in enumerate([b"", io.BytesIO(b""), iter(()), (x for x in [b"", b""])]):
        r = root.put_object(BUCKET, f"e{i}", body, content_length=0)
        assert (r.size, r.etag) == (0, empty_etag)
        with root.get_object(BUCKET, f"e{i}") as b:
            assert b.size == 0
            assert list(b) == []
        assert read_all(root.get_object(BUCKET, f"e{i}")) == b""
        assert root.head_object(BUCKET, f"e{i}").size == 0
        with pytest.raises(InvalidRange):
            root.get_object(BUCKET, f"e{i}", range="bytes=0-0")
    assert [o.size for o in root.list_objects(BUCKET).contents] == [0, 0, 0, 0]


def test_body_reading_interfaces(root: objstore.Client) -> None:
    data = data_of(3 * CHUNK + 5)
    root.put_object(BUCKET, "k", data)
    with root.get_object(BUCKET, "k") as b:
        assert b.read(10) == data[:10]
        assert b.read(0) == b""
        buf = bytearray(CHUNK + 3)
        assert b.readinto(buf) == CHUNK + 3
        assert bytes(buf) == data[10 : CHUNK + 13]
        assert b.read() == data[CHUNK + 13 :]
        assert b.read(5) == b""
    with root.get_object(BUCKET, "k") as b:
        pieces = list(b)
    assert b"".join(pieces) == data
    assert len(pieces) > 1  # streamed, not one buffer
    # A partial read, then iteration, continues where the read stopped.
    with root.get_object(BUCKET, "k") as b:
        head = b.read(CHUNK + 1)
        assert head + b"".join(b) == data


def test_reading_part_then_closing_releases_the_store(store: objstore.Store) -> None:
    store.root.create_bucket(BUCKET)
    store.root.put_object(BUCKET, "k", data_of(4 * CHUNK))
    for _ in range(3):
        with store.root.get_object(BUCKET, "k") as b:
            b.read(100)
    # gc waits for readers: it only finishes if every body above let go.
    store.gc(timeout=5)


@pytest.mark.parametrize(
    "body",
    [
        "text",
        12,
        None,
        ["piece", b"bytes"],
        [b"ok", 3],
        io.StringIO("text file"),
    ],
)
def test_bodies_of_the_wrong_type(root: objstore.Client, body: object) -> None:
    with pytest.raises(InvalidArgument):
        root.put_object(BUCKET, "k", body)
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k")


class Boom(Exception):
    pass


def test_a_failing_body_stores_nothing(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)

    def failing() -> Iterator[bytes]:
        yield data_of(5 * CHUNK, seed=1)
        raise Boom

    with pytest.raises(Boom):
        root.put_object(BUCKET, "k", failing())
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


# ------------------------------------------------------ sizes and lengths


def _untouched() -> Iterator[bytes]:
    raise AssertionError("the body was read although the size was refused up front")
    yield b""  # pragma: no cover


def test_declared_oversize_is_refused_before_reading() -> None:
    with open_store(None, limits=objstore.Limits(max_put_size=10 * CHUNK)) as s:
        s.root.create_bucket(BUCKET)
        with pytest.raises(EntityTooLarge):
            s.root.put_object(BUCKET, "k", _untouched(), content_length=10 * CHUNK + 1)
        with pytest.raises(NoSuchKey):
            s.root.head_object(BUCKET, "k")


def test_streamed_oversize_is_refused(tmp_path: Path) -> None:
    limit = 5 * CHUNK + 3
    with open_store(tmp_path / "limited", limits=objstore.Limits(max_put_size=limit)) as s:
        s.root.create_bucket(BUCKET)
        exact = data_of(limit)
        assert s.root.put_object(BUCKET, "exact", iter(_pieces(exact, [CHUNK]))).size == limit
        for body in (data_of(limit + 1), iter(_pieces(data_of(limit + 1), [1000]))):
            with pytest.raises(EntityTooLarge):
                s.root.put_object(BUCKET, "big", body)
        # An oversize overwrite leaves the current object alone.
        with pytest.raises(EntityTooLarge):
            s.root.put_object(BUCKET, "exact", data_of(3 * limit))
        assert read_all(s.root.get_object(BUCKET, "exact")) == exact
        assert [o.key for o in s.root.list_objects(BUCKET).contents] == ["exact"]
        s.gc(timeout=5)
        assert len(chunk_files(s)) == 6  # only the chunks of "exact"


def test_small_limit_applies_to_inline_objects() -> None:
    with open_store(None, limits=objstore.Limits(max_put_size=100)) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", b"x" * 100)
        with pytest.raises(EntityTooLarge):
            s.root.put_object(BUCKET, "k2", b"x" * 101)
        with pytest.raises(EntityTooLarge):
            s.root.put_object(BUCKET, "k3", b"x" * 10, content_length=101)


@pytest.mark.parametrize("size", [10, INLINE + 1, 3 * CHUNK + 1])
def test_content_length_must_match_the_body(disk_store: objstore.Store, size: int) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    data = data_of(size)
    for declared in (size - 1, size + 1, 0):
        for body in (data, iter(_pieces(data, [4000]))):
            with pytest.raises(IncompleteBody):
                root.put_object(BUCKET, "k", body, content_length=declared)
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()
    r = root.put_object(BUCKET, "k", iter(_pieces(data, [4000])), content_length=size)
    assert r.size == size
    assert read_all(root.get_object(BUCKET, "k")) == data


@pytest.mark.parametrize("declared", [-1, 1.5, "10", True])
def test_content_length_must_be_a_non_negative_int(root: objstore.Client, declared: object) -> None:
    with pytest.raises(InvalidArgument):
        root.put_object(BUCKET, "k", b"0123456789", content_length=declared)  # type: ignore[arg-type]


def test_blake3_etag_mode_gives_opaque_etags() -> None:
    with open_store(None, etag_mode="blake3") as s:
        s.root.create_bucket(BUCKET)
        data = data_of(2 * CHUNK)
        r = s.root.put_object(BUCKET, "k", data)
        assert r.etag.startswith('"') and r.etag.endswith('"')
        # Not 32 hex digits, so S3 clients do not mistake it for an MD5.
        assert len(r.etag) - 2 != 32
        assert r.etag != md5_etag(data)
        assert r.checksum == blake3.blake3(data).hexdigest()


def test_unknown_store_settings_are_invalid_arguments() -> None:
    with pytest.raises(InvalidArgument):
        objstore.open(None, etag_mode="sha1")
    with pytest.raises(InvalidArgument):
        objstore.open(None, chunking="rabin")


# ------------------------------------------------------ metadata and type


def test_metadata_and_content_type_round_trip(root: objstore.Client) -> None:
    meta = {"Color": "blue", "x-thing": "ünïcode ok", "empty": ""}
    for size in (5, 2 * CHUNK):
        data = data_of(size)
        root.put_object(BUCKET, "k", data, metadata=meta, content_type="text/plain; charset=utf-8")
        info = root.head_object(BUCKET, "k")
        want = {"color": "blue", "x-thing": "ünïcode ok", "empty": ""}
        assert info.metadata == want
        assert info.content_type == "text/plain; charset=utf-8"
        with root.get_object(BUCKET, "k") as b:
            assert b.metadata == want
            assert b.content_type == "text/plain; charset=utf-8"
            assert b.last_modified == info.last_modified
            assert b.read() == data
    # An overwrite replaces metadata and type entirely.
    root.put_object(BUCKET, "k", b"new")
    info = root.head_object(BUCKET, "k")
    assert info.metadata == {}
    assert info.content_type is None


def test_last_modified_is_aware_and_advances(root: objstore.Client) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    root.put_object(BUCKET, "k", b"1")
    first = root.head_object(BUCKET, "k").last_modified
    root.put_object(BUCKET, "k", b"2")
    second = root.head_object(BUCKET, "k").last_modified
    assert before <= first <= second <= datetime.now(UTC) + timedelta(seconds=1)
    listed = root.list_objects(BUCKET).contents[0]
    assert listed.last_modified == second


# ------------------------------------------------------------ delete


def test_delete_removes_and_frees(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    root.put_object(BUCKET, "k", data_of(3 * CHUNK))
    assert len(chunk_files(disk_store)) == 3
    assert root.delete_object(BUCKET, "k").delete_marker is False
    with pytest.raises(NoSuchKey):
        root.get_object(BUCKET, "k")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


def test_overwrite_frees_the_old_body(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    root.put_object(BUCKET, "k", data_of(3 * CHUNK, seed=1))
    root.put_object(BUCKET, "k", data_of(2 * CHUNK, seed=2))
    disk_store.gc(timeout=5)
    assert len(chunk_files(disk_store)) == 2
    assert read_all(root.get_object(BUCKET, "k")) == data_of(2 * CHUNK, seed=2)


def test_delete_objects(root: objstore.Client) -> None:
    for k in ("a", "b", "c", "d"):
        root.put_object(BUCKET, k, k.encode())
    out = root.delete_objects(BUCKET, ["a", ("b", None), {"Key": "c"}, "missing"])
    assert all(isinstance(r, objstore.DeletedObject) for r in out)
    assert [r.key for r in out] == ["a", "b", "c", "missing"]
    assert all(not r.delete_marker for r in out if isinstance(r, objstore.DeletedObject))
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["d"]
    assert root.delete_objects(BUCKET, []) == []


def test_delete_objects_in_a_versioned_bucket(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "a", b"1").version_id
    v2 = root.put_object(BUCKET, "a", b"2").version_id
    root.put_object(BUCKET, "b", b"1")
    out = root.delete_objects(BUCKET, [("a", v2), {"Key": "b"}])
    assert isinstance(out[0], objstore.DeletedObject)
    assert (out[0].key, out[0].version_id, out[0].delete_marker) == ("a", v2, False)
    assert isinstance(out[1], objstore.DeletedObject)
    assert out[1].delete_marker is True
    marker = out[1].delete_marker_version_id
    assert marker is not None and marker != "null"
    assert read_all(root.get_object(BUCKET, "a")) == b"1"
    assert root.head_object(BUCKET, "a").version_id == v1
    with pytest.raises(NoSuchKey) as exc:
        root.get_object(BUCKET, "b")
    assert exc.value.delete_marker
    # Deleting the marker by version id reports that it was one.
    out = root.delete_objects(BUCKET, [("b", marker)])
    assert isinstance(out[0], objstore.DeletedObject) and out[0].delete_marker
    assert read_all(root.get_object(BUCKET, "b")) == b"1"


def test_delete_objects_reports_per_key_errors(root: objstore.Client) -> None:
    root.put_object(BUCKET, "a", b"1")
    root.put_object(BUCKET, "b", b"1")
    out = root.delete_objects(BUCKET, ["a", ("b", "not-a-version"), "x" * 1025])
    assert isinstance(out[0], objstore.DeletedObject)
    assert isinstance(out[1], objstore.DeleteError) and out[1].code == "InvalidArgument"
    assert isinstance(out[2], objstore.DeleteError) and out[2].code == "KeyTooLongError"
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["b"]


def test_delete_objects_limits_and_shapes(root: objstore.Client) -> None:
    root.put_object(BUCKET, "a", b"1")
    with pytest.raises(InvalidArgument):
        root.delete_objects(BUCKET, [f"k{i}" for i in range(1001)])
    with pytest.raises(InvalidArgument):
        root.delete_objects(BUCKET, "a")
    with pytest.raises(InvalidArgument):
        root.delete_objects(BUCKET, [42])  # type: ignore[list-item]
    for odd in (["x"], {}, {"a": 1}):  # unhashable: refused as a name, not a raw TypeError
        with pytest.raises(InvalidBucketName):
            root.delete_objects(odd, ["a"])  # type: ignore[arg-type]
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["a"]
    out = root.delete_objects(BUCKET, [f"k{i}" for i in range(999)] + ["a"])
    assert len(out) == 1000
    assert root.list_objects(BUCKET).contents == ()


# -------------------------------------------------------------- copy


def test_copy_with_copy_directive(root: objstore.Client) -> None:
    data = data_of(2 * CHUNK + 1)
    src = root.put_object(BUCKET, "src", data, metadata={"a": "1"}, content_type="x/y")
    root.create_bucket("other")
    for bucket, key in ((BUCKET, "dst"), ("other", "src")):
        r = root.copy_object(BUCKET, "src", bucket, key)
        assert (r.etag, r.size, r.checksum) == (src.etag, src.size, src.checksum)
        info = root.head_object(bucket, key)
        assert info.metadata == {"a": "1"} and info.content_type == "x/y"
        assert read_all(root.get_object(bucket, key)) == data


def test_copy_with_replace_directive(root: objstore.Client) -> None:
    root.put_object(BUCKET, "src", b"payload", metadata={"a": "1"}, content_type="x/y")
    root.copy_object(
        BUCKET,
        "src",
        BUCKET,
        "dst",
        metadata_directive="REPLACE",
        metadata={"B": "2"},
        content_type="text/plain",
    )
    info = root.head_object(BUCKET, "dst")
    assert info.metadata == {"b": "2"} and info.content_type == "text/plain"
    assert root.head_object(BUCKET, "src").metadata == {"a": "1"}
    with pytest.raises(InvalidArgument):
        root.copy_object(BUCKET, "src", BUCKET, "d2", metadata_directive="MERGE")


def test_copy_onto_itself(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"payload", metadata={"a": "1"})
    with pytest.raises(InvalidRequest):
        root.copy_object(BUCKET, "k", BUCKET, "k")
    assert root.head_object(BUCKET, "k").metadata == {"a": "1"}
    # Changing the metadata makes a self-copy legal (the S3 way to edit metadata).
    root.copy_object(BUCKET, "k", BUCKET, "k", metadata_directive="REPLACE", metadata={"a": "2"})
    assert root.head_object(BUCKET, "k").metadata == {"a": "2"}
    assert read_all(root.get_object(BUCKET, "k")) == b"payload"


def test_copy_of_an_old_version_restores_it(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", data_of(2 * CHUNK, seed=1)).version_id
    root.put_object(BUCKET, "k", b"newer")
    r = root.copy_object(BUCKET, "k", BUCKET, "k", src_version_id=v1)
    assert r.version_id not in (None, v1)
    assert read_all(root.get_object(BUCKET, "k")) == data_of(2 * CHUNK, seed=1)
    assert len(root.list_object_versions(BUCKET).versions) == 3


def test_copy_errors(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    root.put_object(BUCKET, "k", b"x")
    marker = root.delete_object(BUCKET, "k").version_id
    with pytest.raises(NoSuchKey):
        root.copy_object(BUCKET, "k", BUCKET, "dst")
    with pytest.raises(InvalidRequest):
        root.copy_object(BUCKET, "k", BUCKET, "dst", src_version_id=marker)
    with pytest.raises(NoSuchKey):
        root.copy_object(BUCKET, "absent", BUCKET, "dst")
    with pytest.raises(NoSuchBucket):
        root.copy_object("nobucket", "k", BUCKET, "dst")
    root.put_object(BUCKET, "real", b"x")
    with pytest.raises(NoSuchBucket):
        root.copy_object(BUCKET, "real", "nobucket", "dst")
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "dst")


def test_copy_source_over_the_copy_limit() -> None:
    with open_store(None, limits=objstore.Limits(max_copy_size=2 * CHUNK)) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "big", data_of(2 * CHUNK + 1))
        with pytest.raises(InvalidRequest):
            s.root.copy_object(BUCKET, "big", BUCKET, "copy")


def test_copy_moves_no_chunk_bytes(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    root.create_bucket("other")
    data = data_of(4 * CHUNK + 9)
    root.put_object(BUCKET, "src", data)
    before = chunk_files(disk_store)
    assert len(before) == 5
    mtimes = {n: os.stat(chunk_path(disk_store, n)).st_mtime_ns for n in before}
    root.copy_object(BUCKET, "src", "other", "copy")
    root.copy_object(BUCKET, "src", BUCKET, "copy2", metadata_directive="REPLACE")
    assert chunk_files(disk_store) == before
    assert {n: os.stat(chunk_path(disk_store, n)).st_mtime_ns for n in before} == mtimes
    # The copy outlives its source: the chunks are shared, not borrowed.
    root.delete_object(BUCKET, "src")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == before
    assert read_all(root.get_object("other", "copy")) == data
    root.delete_object("other", "copy")
    root.delete_object(BUCKET, "copy2")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


# ------------------------------------------------------------- dedup


def test_dedup_across_keys_buckets_and_versions(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    root.create_bucket("other")
    root.put_bucket_versioning("other", "Enabled")
    data = data_of(3 * CHUNK + 100)
    root.put_object(BUCKET, "a", data)
    files = chunk_files(disk_store)
    assert len(files) == 4
    root.put_object(BUCKET, "b", data)
    root.put_object("other", "a", io.BytesIO(data))
    root.put_object("other", "a", iter(_pieces(data, [333])))  # a second version
    assert chunk_files(disk_store) == files
    assert len(root.list_object_versions("other").versions) == 2
    # Removing some holders frees nothing; removing the last frees everything.
    root.delete_object(BUCKET, "a")
    root.delete_object(BUCKET, "b")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == files
    for v in root.list_object_versions("other").versions:
        assert read_all(root.get_object("other", "a", version_id=v.version_id)) == data
        root.delete_object("other", "a", version_id=v.version_id)
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


def test_dedup_stores_only_new_chunks(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    base = data_of(4 * CHUNK, seed=1)
    root.put_object(BUCKET, "base", base)
    assert len(chunk_files(disk_store)) == 4
    # Same first three chunks (fixed chunking), a new fourth and a new tail.
    variant = base[: 3 * CHUNK] + data_of(CHUNK + 10, seed=2)
    root.put_object(BUCKET, "variant", variant)
    assert len(chunk_files(disk_store)) == 6
    # Repeated content inside one object is stored once.
    block = data_of(CHUNK, seed=3)
    root.put_object(BUCKET, "repeat", block * 5)
    assert len(chunk_files(disk_store)) == 7
    assert read_all(root.get_object(BUCKET, "repeat")) == block * 5
    assert read_all(root.get_object(BUCKET, "variant")) == variant


def test_dedup_in_memory_store_too(store: objstore.Store) -> None:
    store.root.create_bucket(BUCKET)
    data = data_of(3 * CHUNK)
    store.root.put_object(BUCKET, "a", data)
    ids = set(store.blobs.chunks.iter_ids())
    store.root.put_object(BUCKET, "b", data)
    store.root.copy_object(BUCKET, "a", BUCKET, "c")
    assert set(store.blobs.chunks.iter_ids()) == ids
    assert len(ids) == 3


# ------------------------------------------------- conditional writes


def test_if_none_match_star_creates_only(root: objstore.Client) -> None:
    r = root.put_object(BUCKET, "k", b"first", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        root.put_object(BUCKET, "k", b"second", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        root.put_object(BUCKET, "k", data_of(2 * CHUNK), if_none_match="*")
    assert read_all(root.get_object(BUCKET, "k")).startswith(b"first")
    assert root.head_object(BUCKET, "k").etag == r.etag
    # S3 evaluates only "*" on a write: an ETag there is 501 NotImplemented, nothing stored.
    with pytest.raises(NotImplemented_) as err:
        root.put_object(BUCKET, "k2", b"x", if_none_match=r.etag)
    assert (err.value.code, err.value.http_status) == ("NotImplemented", 501)
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k2")
    # After a delete (or behind a delete marker) the key may be created again.
    root.delete_object(BUCKET, "k")
    root.put_object(BUCKET, "k", b"again", if_none_match="*")
    root.put_bucket_versioning(BUCKET, "Enabled")
    root.delete_object(BUCKET, "k")
    root.put_object(BUCKET, "k", b"behind marker", if_none_match="*")
    assert read_all(root.get_object(BUCKET, "k")) == b"behind marker"


def test_if_match_compares_and_swaps(root: objstore.Client) -> None:
    r1 = root.put_object(BUCKET, "k", b"one")
    r2 = root.put_object(BUCKET, "k", b"two", if_match=r1.etag)
    with pytest.raises(PreconditionFailed):
        root.put_object(BUCKET, "k", b"three", if_match=r1.etag)
    assert read_all(root.get_object(BUCKET, "k")) == b"two"
    # ETags match with or without their quotes.
    root.put_object(BUCKET, "k", data_of(2 * CHUNK), if_match=r2.etag.strip('"'))
    assert root.head_object(BUCKET, "k").size == 2 * CHUNK
    with pytest.raises(NoSuchKey):
        root.put_object(BUCKET, "absent", b"x", if_match=r1.etag)
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "absent")


def test_conditional_copy(root: objstore.Client) -> None:
    root.put_object(BUCKET, "src", b"source")
    dst = root.put_object(BUCKET, "dst", b"dest")
    with pytest.raises(PreconditionFailed):
        root.copy_object(BUCKET, "src", BUCKET, "dst", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        root.copy_object(BUCKET, "src", BUCKET, "dst", if_match='"0123"')
    assert read_all(root.get_object(BUCKET, "dst")) == b"dest"
    root.copy_object(BUCKET, "src", BUCKET, "dst", if_match=dst.etag)
    assert read_all(root.get_object(BUCKET, "dst")) == b"source"
    root.copy_object(BUCKET, "src", BUCKET, "new", if_none_match="*")
    assert read_all(root.get_object(BUCKET, "new")) == b"source"


# -------------------------------------------------- conditional reads


def test_if_match_on_read(root: objstore.Client) -> None:
    r = root.put_object(BUCKET, "k", b"data")
    for cond in (r.etag, r.etag.strip('"'), "*", f'"nope", {r.etag}'):
        assert read_all(root.get_object(BUCKET, "k", if_match=cond)) == b"data"
    for cond in ('"nope"', md5_etag(b"other")):
        with pytest.raises(PreconditionFailed):
            root.get_object(BUCKET, "k", if_match=cond)


def test_if_none_match_on_read(root: objstore.Client) -> None:
    r = root.put_object(BUCKET, "k", data_of(2 * CHUNK))
    for cond in (r.etag, r.etag.strip('"'), "*", f'"x", {r.etag}', f"W/{r.etag}"):
        with pytest.raises(NotModified):
            root.get_object(BUCKET, "k", if_none_match=cond)
    assert read_all(root.get_object(BUCKET, "k", if_none_match='"other"')) == data_of(2 * CHUNK)


def test_time_conditions_on_read(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"data")
    mtime = root.head_object(BUCKET, "k").last_modified
    past, future = mtime - timedelta(hours=1), mtime + timedelta(hours=1)
    assert read_all(root.get_object(BUCKET, "k", if_modified_since=past)) == b"data"
    with pytest.raises(NotModified):
        root.get_object(BUCKET, "k", if_modified_since=future)
    with pytest.raises(NotModified):
        root.get_object(BUCKET, "k", if_modified_since=mtime)
    assert read_all(root.get_object(BUCKET, "k", if_unmodified_since=future)) == b"data"
    with pytest.raises(PreconditionFailed):
        root.get_object(BUCKET, "k", if_unmodified_since=past)
    # If-Match wins over If-Unmodified-Since; If-None-Match over If-Modified-Since.
    etag = root.head_object(BUCKET, "k").etag
    assert read_all(root.get_object(BUCKET, "k", if_match=etag, if_unmodified_since=past))
    with pytest.raises(NotModified):
        root.get_object(BUCKET, "k", if_none_match=etag, if_modified_since=past)


def test_naive_times_are_utc(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"data")
    mtime = root.head_object(BUCKET, "k").last_modified
    naive_past = (mtime - timedelta(hours=1)).replace(tzinfo=None)
    naive_future = (mtime + timedelta(hours=1)).replace(tzinfo=None)
    assert read_all(root.get_object(BUCKET, "k", if_modified_since=naive_past)) == b"data"
    with pytest.raises(NotModified):
        root.get_object(BUCKET, "k", if_modified_since=naive_future)
    with pytest.raises(PreconditionFailed):
        root.get_object(BUCKET, "k", if_unmodified_since=naive_past)
    with pytest.raises(InvalidArgument):
        root.get_object(BUCKET, "k", if_modified_since="yesterday")  # type: ignore[arg-type]


def test_conditions_apply_to_the_version_read(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    r1 = root.put_object(BUCKET, "k", b"one")
    r2 = root.put_object(BUCKET, "k", b"two")
    got = root.get_object(BUCKET, "k", version_id=r1.version_id, if_match=r1.etag)
    assert read_all(got) == b"one"
    with pytest.raises(PreconditionFailed):
        root.get_object(BUCKET, "k", version_id=r1.version_id, if_match=r2.etag)


def test_a_write_that_lands_during_a_conditional_upload_is_a_conflict(
    root: objstore.Client,
) -> None:
    """The condition is checked before the upload and again at commit; if another writer
    changed the key in between, the upload fails with ConditionalRequestConflict (409)."""

    def racing(sneak: bytes) -> Iterator[bytes]:
        yield data_of(2 * CHUNK, seed=1)
        root.put_object(BUCKET, "k", sneak)  # another writer wins the race
        yield data_of(CHUNK, seed=2)

    with pytest.raises(ConditionalRequestConflict) as exc:
        root.put_object(BUCKET, "k", racing(b"first"), if_none_match="*")
    assert exc.value.http_status == 409
    assert read_all(root.get_object(BUCKET, "k")) == b"first"
    etag = root.head_object(BUCKET, "k").etag
    with pytest.raises(ConditionalRequestConflict):
        root.put_object(BUCKET, "k", racing(b"second"), if_match=etag)
    assert read_all(root.get_object(BUCKET, "k")) == b"second"
    assert len(root.list_objects(BUCKET).contents) == 1


# ------------------------------------------------------------ put_objects


def test_put_objects_writes_a_batch(root: objstore.Client) -> None:
    big = data_of(3 * CHUNK)
    out = root.put_objects(BUCKET, [("a", b"1"), ("b", big), ("c", io.BytesIO(b"3"))])
    assert [r.size for r in out] == [1, len(big), 1]
    assert out[1].etag == md5_etag(big)
    assert read_all(root.get_object(BUCKET, "b")) == big
    # The same key twice: the later body wins, as two PUTs in a row would.
    root.put_objects(BUCKET, [("a", b"x"), ("a", b"y")])
    assert read_all(root.get_object(BUCKET, "a")) == b"y"
    assert len(root.list_object_versions(BUCKET).versions) == 3
    root.put_bucket_versioning(BUCKET, "Enabled")
    out = root.put_objects(BUCKET, [("a", b"v1"), ("a", b"v2")])
    assert out[0].version_id != out[1].version_id
    assert read_all(root.get_object(BUCKET, "a")) == b"v2"
    assert read_all(root.get_object(BUCKET, "a", version_id=out[0].version_id)) == b"v1"


def test_put_objects_is_all_or_nothing(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    good = ("good", data_of(3 * CHUNK))
    for bad in (("bad", 5), ("b" * 1025, b""), ("bad", "text")):
        with pytest.raises((InvalidArgument, objstore.errors.KeyTooLongError)):
            root.put_objects(BUCKET, [good, bad])
    with pytest.raises(NoSuchBucket):
        root.put_objects("nobucket", [good])
    assert root.list_objects(BUCKET).contents == ()
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


# ------------------------------------------------------------ persistence


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with open_store(path) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_bucket_versioning(BUCKET, "Enabled")
        v1 = s.root.put_object(BUCKET, "k", data_of(3 * CHUNK), metadata={"a": "1"}).version_id
        s.root.put_object(BUCKET, "k", b"small", content_type="t/x")
        marker = s.root.delete_object(BUCKET, "gone").version_id
        before = s.root.list_object_versions(BUCKET)
    with open_store(path) as s:
        assert s.root.list_object_versions(BUCKET) == before
        assert read_all(s.root.get_object(BUCKET, "k", version_id=v1)) == data_of(3 * CHUNK)
        assert s.root.head_object(BUCKET, "k", version_id=v1).metadata == {"a": "1"}
        assert s.root.head_object(BUCKET, "k").content_type == "t/x"
        with pytest.raises(NoSuchKey) as exc:
            s.root.get_object(BUCKET, "gone")
        assert exc.value.delete_marker
        # Version ids keep growing after a reopen: never reused.
        v3 = s.root.put_object(BUCKET, "k", b"after").version_id
        assert v3 not in {v.version_id for v in before.versions} | {marker}


def test_reopening_with_other_chunking_reads_old_objects(tmp_path: Path) -> None:
    path = tmp_path / "s"
    data = data_of(5 * CHUNK + 7)
    with open_store(path) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", data)
    with objstore.open(path, chunking="cdc", chunk_size=16 * 1024) as s:
        assert read_all(s.root.get_object(BUCKET, "k")) == data
        got = s.root.get_object(BUCKET, "k", range=(CHUNK - 3, 2 * CHUNK + 3))
        assert read_all(got) == data[CHUNK - 3 : 2 * CHUNK + 4]
        s.root.put_object(BUCKET, "k2", data)
        assert read_all(s.root.get_object(BUCKET, "k2")) == data


# ------------------------------------------------------------ store-level rules


def test_list_buckets_lists_only_the_callers_buckets() -> None:
    with open_store(None, authorizer=AllowAll()) as s:
        s.root.create_bucket("mine")
        other = s.client_for(
            objstore.Identity(
                arn="arn:aws:iam::111122223333:root", account="111122223333", kind="root"
            )
        )
        other.create_bucket("theirs")
        assert [b.name for b in s.root.list_buckets()] == ["mine"]
        assert [b.name for b in other.list_buckets()] == ["theirs"]


@pytest.mark.parametrize("backend", ["memory", "lmdb"])
def test_a_closed_store_raises_objstore_errors(tmp_path: Path, backend: str) -> None:
    s = open_store(None if backend == "memory" else tmp_path / "s")
    s.root.create_bucket(BUCKET)
    s.close()
    with pytest.raises(objstore.errors.ObjstoreError):
        s.root.list_buckets()
    with pytest.raises(objstore.errors.ObjstoreError):
        s.root.put_object(BUCKET, "k", b"x")


# ------------------------------------------------------ reference counts


def test_rewriting_identical_content_keeps_its_chunks(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    data = data_of(3 * CHUNK + 1)
    root.put_object(BUCKET, "k", data)
    files = chunk_files(disk_store)
    root.put_object(BUCKET, "k", data)  # replaces the null version with the same chunks
    root.copy_object(BUCKET, "k", BUCKET, "k", metadata_directive="REPLACE")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == files
    assert read_all(root.get_object(BUCKET, "k")) == data


def test_content_deleted_but_not_collected_is_reused_safely(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    data = data_of(3 * CHUNK + 1)
    root.put_object(BUCKET, "a", data)
    files = chunk_files(disk_store)
    root.delete_object(BUCKET, "a")  # chunks unreferenced, still on disk until gc
    root.put_object(BUCKET, "b", data)
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == files
    assert read_all(root.get_object(BUCKET, "b")) == data


def test_repeated_chunks_are_counted_per_use(disk_store: objstore.Store) -> None:
    root = disk_store.root
    root.create_bucket(BUCKET)
    block = data_of(CHUNK, seed=9)
    root.put_object(BUCKET, "five", block * 5)
    root.put_object(BUCKET, "two", block * 2 + b"tail")
    root.delete_object(BUCKET, "five")
    disk_store.gc(timeout=5)
    assert read_all(root.get_object(BUCKET, "two")) == block * 2 + b"tail"
    assert len(chunk_files(disk_store)) == 2
    root.delete_object(BUCKET, "two")
    disk_store.gc(timeout=5)
    assert chunk_files(disk_store) == set()


# ------------------------------------------------ uploads in many batches


def _ids(store: objstore.Store) -> set[bytes]:
    return set(store.blobs.chunks.iter_ids())


def test_batched_upload_round_trips(batched_store: objstore.Store) -> None:
    root = batched_store.root
    root.create_bucket(BUCKET)
    size = 100 * BATCHED_CHUNK + 333  # > 64 manifest entries: several read batches too
    data = data_of(size, seed=4)
    r = root.put_object(BUCKET, "k", iter(_pieces(data, [3001, 17, 9000])), content_length=size)
    assert (r.size, r.etag) == (size, md5_etag(data))
    assert r.checksum == blake3.blake3(data).hexdigest()
    assert read_all(root.get_object(BUCKET, "k")) == data
    edges = [0, 1, BATCHED_CHUNK, 64 * BATCHED_CHUNK, 65 * BATCHED_CHUNK, size - 1]
    for a in edges:
        for b in edges:
            for da, db in ((0, 0), (-1, 1), (1, -1)):
                first, last = max(0, a + da), min(size - 1, b + db)
                if first <= last:
                    got = read_all(root.get_object(BUCKET, "k", range=(first, last)))
                    assert got == data[first : last + 1], (first, last)
    ids = _ids(batched_store)
    # The same bytes again, cut into other pieces: every chunk is reused.
    root.put_object(BUCKET, "again", iter(_pieces(data, [5000])))
    assert _ids(batched_store) == ids
    assert len(ids) == 101


@pytest.mark.parametrize("failure", ["short", "long", "raises"])
def test_batched_upload_failure_leaves_nothing(batched_store: objstore.Store, failure: str) -> None:
    root = batched_store.root
    root.create_bucket(BUCKET)
    keep = data_of(10 * BATCHED_CHUNK, seed=1)
    root.put_object(BUCKET, "keep", keep)
    data = data_of(40 * BATCHED_CHUNK, seed=2)
    pieces = _pieces(data, [7000])
    if failure == "raises":

        def body() -> Iterator[bytes]:
            yield from pieces
            raise Boom

        with pytest.raises(Boom):
            root.put_object(BUCKET, "k", body())
    else:
        declared = len(data) + (1 if failure == "short" else -1)
        with pytest.raises(IncompleteBody):
            root.put_object(BUCKET, "k", iter(pieces), content_length=declared)
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k")
    result = batched_store.gc(timeout=5)
    assert result.pending_uploads_released == 0  # the failed upload cleaned up after itself
    assert len(_ids(batched_store)) == 10
    assert read_all(root.get_object(BUCKET, "keep")) == keep


def test_batched_upload_over_the_limit(tmp_path: Path) -> None:
    limit = 20 * BATCHED_CHUNK
    with open_batched(tmp_path / "s", limits=objstore.Limits(max_put_size=limit)) as s:
        s.root.create_bucket(BUCKET)
        with pytest.raises(EntityTooLarge):
            s.root.put_object(BUCKET, "k", iter(_pieces(data_of(3 * limit), [5000])))
        s.root.put_object(BUCKET, "ok", iter(_pieces(data_of(limit), [5000])))
        s.gc(timeout=5)
        assert len(_ids(s)) == 20
