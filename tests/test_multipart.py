"""Multipart uploads: S3's rules, ETags, versioning, atomic and byte-free completion."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BUCKET, open_store, read_all

import objstore
from objstore.errors import (
    EntityTooLarge,
    EntityTooSmall,
    IncompleteBody,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    PreconditionFailed,
)

MIN = 64 * 1024  # the tests' minimum part size (S3's 5 MiB is tested separately)
LIMITS = objstore.Limits(min_part_size=MIN)


@pytest.fixture(params=["memory", "lmdb"])
def mstore(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[objstore.Store]:
    s = open_store(None if request.param == "memory" else tmp_path / "s", limits=LIMITS)
    s.root.create_bucket(BUCKET)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def c(mstore: objstore.Store) -> objstore.Client:
    return mstore.root


def md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def s3_etag(parts: list[bytes]) -> str:
    """S3's multipart ETag, computed independently of the store."""
    return f'"{hashlib.md5(b"".join(md5(p) for p in parts)).hexdigest()}-{len(parts)}"'


def body(c: objstore.Client, key: str, **kw: Any) -> bytes:
    return read_all(c.get_object(BUCKET, key, **kw))


def upload(c: objstore.Client, key: str, parts: list[bytes], **kw: Any) -> objstore.PutObjectResult:
    uid = c.create_multipart_upload(BUCKET, key)
    done = [c.upload_part(BUCKET, key, uid, i + 1, p) for i, p in enumerate(parts)]
    return c.complete_multipart_upload(BUCKET, key, uid, done, **kw)


# ------------------------------------------------------------------ basics


def test_round_trip_etag_and_head(c: objstore.Client) -> None:
    parts = [os.urandom(MIN + 1000), os.urandom(MIN), b"tail"]
    uid = c.create_multipart_upload(BUCKET, "k", metadata={"colour": "blue"}, content_type="text/x")
    results = [c.upload_part(BUCKET, "k", uid, i + 1, p) for i, p in enumerate(parts)]
    assert [(r.part_number, r.size) for r in results] == [(1, MIN + 1000), (2, MIN), (3, 4)]
    assert results[0].etag == f'"{md5(parts[0]).hex()}"'
    out = c.complete_multipart_upload(BUCKET, "k", uid, results)
    assert out.etag == s3_etag(parts)
    assert out.size == sum(map(len, parts))
    info = c.head_object(BUCKET, "k")
    assert (info.etag, info.size, info.metadata, info.content_type) == (
        out.etag,
        out.size,
        {"colour": "blue"},
        "text/x",
    )
    assert body(c, "k") == b"".join(parts)
    # The upload is gone once completed.
    assert not c.list_multipart_uploads(BUCKET).uploads
    with pytest.raises(NoSuchUpload):
        c.list_parts(BUCKET, "k", uid)
    listing = c.list_objects(BUCKET).contents
    assert [(o.key, o.etag, o.size) for o in listing] == [("k", out.etag, out.size)]


def test_parts_in_any_order_and_replaced(c: objstore.Client) -> None:
    a, b, b2, tail = (os.urandom(MIN) for _ in range(4))
    uid = c.create_multipart_upload(BUCKET, "k")
    r3 = c.upload_part(BUCKET, "k", uid, 3, tail)
    c.upload_part(BUCKET, "k", uid, 2, b)
    r1 = c.upload_part(BUCKET, "k", uid, 1, a)
    r2 = c.upload_part(BUCKET, "k", uid, 2, b2)  # replaces the first part 2
    listed = c.list_parts(BUCKET, "k", uid)
    assert [p.etag for p in listed] == [r1.etag, r2.etag, r3.etag]
    # An upload created without an additional checksum lists neither algorithm nor type.
    assert (listed.checksum_algorithm, listed.checksum_type) == (None, None)
    # The replaced part's ETag no longer names a part.
    with pytest.raises(InvalidPart):
        c.complete_multipart_upload(BUCKET, "k", uid, [r1, (2, f'"{md5(b).hex()}"'), r3])
    out = c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2, r3])
    assert body(c, "k") == a + b2 + tail
    assert out.etag == s3_etag([a, b2, tail])


def test_parts_may_be_skipped_and_etags_given_in_any_form(c: objstore.Client) -> None:
    p1, p5, p9 = os.urandom(MIN), os.urandom(MIN), b"end"
    uid = c.create_multipart_upload(BUCKET, "k")
    r1 = c.upload_part(BUCKET, "k", uid, 1, p1)
    c.upload_part(BUCKET, "k", uid, 3, os.urandom(MIN))  # uploaded, not used
    r5 = c.upload_part(BUCKET, "k", uid, 5, p5)
    r9 = c.upload_part(BUCKET, "k", uid, 9, p9)
    out = c.complete_multipart_upload(
        BUCKET,
        "k",
        uid,
        [(1, r1.etag.strip('"')), {"PartNumber": 5, "ETag": r5.etag.upper()}, r9],
    )
    assert out.etag == s3_etag([p1, p5, p9])
    assert body(c, "k") == p1 + p5 + p9


def test_single_empty_part_makes_an_empty_object(c: objstore.Client) -> None:
    out = upload(c, "empty", [b""])
    assert out.size == 0
    assert out.etag == s3_etag([b""])
    assert body(c, "empty") == b""


def test_blake3_etag_mode_equivalent(tmp_path: Path) -> None:
    import blake3

    with open_store(tmp_path / "s", etag_mode="blake3", limits=LIMITS) as s:
        s.root.create_bucket(BUCKET)
        parts = [os.urandom(MIN), b"x"]
        out = upload(s.root, "k", parts)
        digests = b"".join(blake3.blake3(p).digest() for p in parts)
        assert out.etag == f'"{blake3.blake3(digests).hexdigest()}-2"'
        assert out.checksum == f"{blake3.blake3(digests).hexdigest()}-2"
        assert read_all(s.root.get_object(BUCKET, "k")) == b"".join(parts)


# ------------------------------------------------------------------ errors


def test_completion_errors_as_s3_answers(c: objstore.Client) -> None:
    small, big = os.urandom(MIN - 1), os.urandom(MIN)
    uid = c.create_multipart_upload(BUCKET, "k")
    r1 = c.upload_part(BUCKET, "k", uid, 1, small)
    r2 = c.upload_part(BUCKET, "k", uid, 2, big)
    with pytest.raises(InvalidPartOrder):
        c.complete_multipart_upload(BUCKET, "k", uid, [r2, r1])
    with pytest.raises(InvalidPartOrder):
        c.complete_multipart_upload(BUCKET, "k", uid, [r1, r1])
    with pytest.raises(InvalidPart):
        c.complete_multipart_upload(BUCKET, "k", uid, [r1, (3, r2.etag)])
    with pytest.raises(InvalidPart):
        c.complete_multipart_upload(BUCKET, "k", uid, [(1, r2.etag)])
    with pytest.raises(EntityTooSmall) as exc:
        c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2])
    assert exc.value.http_status == 400
    with pytest.raises(InvalidRequest):
        c.complete_multipart_upload(BUCKET, "k", uid, [])
    with pytest.raises(InvalidArgument):
        c.complete_multipart_upload(BUCKET, "k", uid, [("1", r1.etag)])  # type: ignore[list-item]
    # Nothing was consumed by the failures: a valid list still completes.
    assert len(c.list_parts(BUCKET, "k", uid)) == 2
    # The last part may be small.
    out = c.complete_multipart_upload(BUCKET, "k", uid, [r2, (1, r1.etag)][1:])
    assert out.size == MIN - 1
    with pytest.raises(NoSuchKey):
        c.head_object(BUCKET, "missing")


def test_s3_default_minimum_is_5_mib() -> None:
    with open_store(None) as s:
        s.root.create_bucket(BUCKET)
        c = s.root
        uid = c.create_multipart_upload(BUCKET, "k")
        r1 = c.upload_part(BUCKET, "k", uid, 1, b"a" * (5 * 1024 * 1024 - 1))
        r2 = c.upload_part(BUCKET, "k", uid, 2, b"b")
        with pytest.raises(EntityTooSmall):
            c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2])
        r1 = c.upload_part(BUCKET, "k", uid, 1, b"a" * (5 * 1024 * 1024))
        assert c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2]).size == 5 * 1024 * 1024 + 1


def test_part_numbers_and_sizes(c: objstore.Client, mstore: objstore.Store) -> None:
    uid = c.create_multipart_upload(BUCKET, "k")
    for bad in (0, 10_001, -1, "1", 1.0, True):
        with pytest.raises(InvalidArgument):
            c.upload_part(BUCKET, "k", uid, bad, b"x")  # type: ignore[arg-type]
    assert c.upload_part(BUCKET, "k", uid, 10_000, b"x").part_number == 10_000
    with pytest.raises(IncompleteBody):
        c.upload_part(BUCKET, "k", uid, 1, b"xy", content_length=3)
    with pytest.raises(InvalidArgument):
        c.upload_part(BUCKET, "k", uid, 1, 12345)
    assert [p.part_number for p in c.list_parts(BUCKET, "k", uid)] == [10_000]


def test_part_and_object_size_limits(tmp_path: Path) -> None:
    limits = objstore.Limits(min_part_size=10, max_part_size=100, max_object_size=150)
    with open_store(tmp_path / "s", limits=limits) as s:
        s.root.create_bucket(BUCKET)
        c = s.root
        uid = c.create_multipart_upload(BUCKET, "k")
        with pytest.raises(EntityTooLarge):
            c.upload_part(BUCKET, "k", uid, 1, b"x" * 101)
        with pytest.raises(EntityTooLarge):
            c.upload_part(BUCKET, "k", uid, 1, iter([b"x" * 60, b"x" * 60]))
        r1 = c.upload_part(BUCKET, "k", uid, 1, b"x" * 100)
        r2 = c.upload_part(BUCKET, "k", uid, 2, b"y" * 51)
        with pytest.raises(EntityTooLarge):
            c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2])
        r2 = c.upload_part(BUCKET, "k", uid, 2, b"y" * 50)
        assert c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2]).size == 150


def test_no_such_upload(c: objstore.Client) -> None:
    uid = c.create_multipart_upload(BUCKET, "k")
    for bad_id in ("nope", "0" * 32, uid.upper(), ""):
        with pytest.raises(NoSuchUpload) as exc:
            c.upload_part(BUCKET, "k", bad_id, 1, b"x")
        assert exc.value.http_status == 404
    with pytest.raises(NoSuchUpload):
        c.upload_part(BUCKET, "other-key", uid, 1, b"x")  # the id belongs to another key
    with pytest.raises(NoSuchBucket):
        c.upload_part("no-such-bucket", "k", uid, 1, b"x")
    r = c.upload_part(BUCKET, "k", uid, 1, b"x")
    c.abort_multipart_upload(BUCKET, "k", uid)
    for call in (
        lambda: c.upload_part(BUCKET, "k", uid, 2, b"x"),
        lambda: c.complete_multipart_upload(BUCKET, "k", uid, [r]),
        lambda: c.abort_multipart_upload(BUCKET, "k", uid),
        lambda: c.list_parts(BUCKET, "k", uid),
    ):
        with pytest.raises(NoSuchUpload):
            call()
    with pytest.raises(NoSuchKey):
        c.head_object(BUCKET, "k")


def test_abort_during_part_upload_stores_nothing(c: objstore.Client) -> None:
    uid = c.create_multipart_upload(BUCKET, "k")

    def pieces() -> Iterator[bytes]:
        yield b"a" * MIN
        c.abort_multipart_upload(BUCKET, "k", uid)  # while the part is being read
        yield b"b" * MIN

    with pytest.raises(NoSuchUpload):
        c.upload_part(BUCKET, "k", uid, 1, pieces())
    assert not c.list_multipart_uploads(BUCKET).uploads


# --------------------------------------------------------- preconditions, versioning


def test_conditional_completion(c: objstore.Client) -> None:
    first = upload(c, "k", [b"one"])
    uid = c.create_multipart_upload(BUCKET, "k")
    r = c.upload_part(BUCKET, "k", uid, 1, b"two")
    with pytest.raises(PreconditionFailed):
        c.complete_multipart_upload(BUCKET, "k", uid, [r], if_none_match="*")
    with pytest.raises(PreconditionFailed):
        c.complete_multipart_upload(BUCKET, "k", uid, [r], if_match='"0123"')
    out = c.complete_multipart_upload(BUCKET, "k", uid, [r], if_match=first.etag)
    assert body(c, "k") == b"two" and out.etag != first.etag
    uid = c.create_multipart_upload(BUCKET, "new")
    r = c.upload_part(BUCKET, "new", uid, 1, b"three")
    c.complete_multipart_upload(BUCKET, "new", uid, [r], if_none_match="*")
    assert body(c, "new") == b"three"


def test_versioning_applies_to_completed_objects(c: objstore.Client) -> None:
    c.put_bucket_versioning(BUCKET, "Enabled")
    v1 = c.put_object(BUCKET, "k", b"plain")
    v2 = upload(c, "k", [os.urandom(MIN), b"end"])
    assert v2.version_id not in (None, v1.version_id)
    assert body(c, "k", version_id=v1.version_id) == b"plain"
    assert body(c, "k", version_id=v2.version_id)[-3:] == b"end"
    c.put_bucket_versioning(BUCKET, "Suspended")
    v3 = upload(c, "k", [b"null one"])
    v4 = upload(c, "k", [b"null two"])
    assert v3.version_id == v4.version_id == "null"
    versions = c.list_object_versions(BUCKET).versions
    assert [v.version_id for v in versions] == ["null", v2.version_id, v1.version_id]
    assert body(c, "k") == b"null two"


def test_unversioned_completion_replaces_and_frees(mstore: objstore.Store) -> None:
    c = mstore.root
    upload(c, "k", [os.urandom(MIN), os.urandom(MIN)])
    upload(c, "k", [b"small"])
    assert body(c, "k") == b"small"
    c.delete_object(BUCKET, "k")
    _collect(mstore)
    assert list(mstore.blobs.chunks.iter_ids()) == []


# ---------------------------------------------------------------- reading


def test_ranges_anywhere_match_the_bytes(c: objstore.Client) -> None:
    parts = [os.urandom(MIN + 7), os.urandom(MIN * 2 + 1), os.urandom(33)]
    upload(c, "k", parts)
    whole = b"".join(parts)
    n = len(whole)
    edges = [0, 1, MIN + 6, MIN + 7, MIN + 8, 3 * MIN + 7, n - 34, n - 33, n - 2, n - 1]
    for first in edges:
        for last in (first, min(n - 1, first + 1), min(n - 1, first + MIN + 100), n - 1):
            assert body(c, "k", range=(first, last)) == whole[first : last + 1], (first, last)
    assert body(c, "k", range="bytes=-40") == whole[-40:]


def test_reader_open_before_completion_sees_old_version(c: objstore.Client) -> None:
    old = os.urandom(3 * MIN)
    c.put_object(BUCKET, "k", old)
    reader = c.get_object(BUCKET, "k")
    first = reader.read(1000)
    new = [os.urandom(MIN), os.urandom(MIN)]
    upload(c, "k", new)
    assert first + reader.read() == old
    reader.close()
    assert body(c, "k") == b"".join(new)


def test_completion_and_whole_copy_touch_no_chunk(mstore: objstore.Store) -> None:
    """Joining parts (and copying a whole part) is metadata work only."""
    c = mstore.root
    src = os.urandom(2 * MIN)
    c.put_object(BUCKET, "src", src)
    uid = c.create_multipart_upload(BUCKET, "k")
    done = [c.upload_part(BUCKET, "k", uid, i, os.urandom(MIN)) for i in (1, 2)]
    chunks = mstore.blobs.chunks
    touched: list[str] = []
    saved = {}
    for name in ("get", "put", "put_many", "has", "has_many"):
        saved[name] = getattr(chunks, name)

        def spy(*a: Any, _n: str = name, **k: Any) -> Any:
            touched.append(_n)
            return saved[_n](*a, **k)

        setattr(chunks, name, spy)
    try:
        done.append(c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "src"))
        c.complete_multipart_upload(BUCKET, "k", uid, done)
    finally:
        for name, fn in saved.items():
            setattr(chunks, name, fn)
    assert touched == []
    assert body(c, "k")[2 * MIN :] == src


# --------------------------------------------------------------- listing


def test_list_parts_pages(c: objstore.Client) -> None:
    uid = c.create_multipart_upload(BUCKET, "k")
    for n in (7, 3, 12, 1, 5):
        c.upload_part(BUCKET, "k", uid, n, bytes([n]) * n)
    assert [(p.part_number, p.size) for p in c.list_parts(BUCKET, "k", uid)] == [
        (1, 1),
        (3, 3),
        (5, 5),
        (7, 7),
        (12, 12),
    ]
    assert [p.part_number for p in c.list_parts(BUCKET, "k", uid, max_parts=2)] == [1, 3]
    page = c.list_parts(BUCKET, "k", uid, max_parts=2, part_number_marker=3)
    assert [p.part_number for p in page] == [5, 7]
    assert len(c.list_parts(BUCKET, "k", uid, part_number_marker=12)) == 0
    assert len(c.list_parts(BUCKET, "k", uid, max_parts=0)) == 0
    with pytest.raises(InvalidArgument):
        c.list_parts(BUCKET, "k", uid, max_parts=-1)


def test_list_multipart_uploads_order_prefix_markers(c: objstore.Client) -> None:
    ids: dict[str, list[str]] = {}
    for key in ("b/2", "a", "b/1", "a", "c", "b/1"):
        ids.setdefault(key, []).append(c.create_multipart_upload(BUCKET, key))
    listed = c.list_multipart_uploads(BUCKET)
    expected = [(k, u) for k in sorted(ids) for u in ids[k]]
    assert [(u.key, u.upload_id) for u in listed] == expected
    # Initiation order within a key, as S3 lists them.
    assert listed[0].initiated <= listed[1].initiated
    assert [u.key for u in c.list_multipart_uploads(BUCKET, prefix="b/")] == ["b/1", "b/1", "b/2"]
    assert [u.key for u in c.list_multipart_uploads(BUCKET, key_marker="a")] == [
        "b/1",
        "b/1",
        "b/2",
        "c",
    ]
    after = c.list_multipart_uploads(BUCKET, key_marker="b/1", upload_id_marker=ids["b/1"][0])
    assert [(u.key, u.upload_id) for u in after] == [
        ("b/1", ids["b/1"][1]),
        ("b/2", ids["b/2"][0]),
        ("c", ids["c"][0]),
    ]
    assert len(c.list_multipart_uploads(BUCKET, max_uploads=2)) == 2
    with pytest.raises(InvalidArgument):
        c.list_multipart_uploads(BUCKET, key_marker="a", upload_id_marker="zz")
    with pytest.raises(NoSuchBucket):
        c.list_multipart_uploads("no-such-bucket")


# ------------------------------------------------------ space: abort, gc, expiry


def _collect(store: objstore.Store) -> None:
    # A dropped composite releases its parts, which the next pass drops.
    for _ in range(3):
        store.gc()


def test_abort_and_completion_release_unused_parts(mstore: objstore.Store) -> None:
    c = mstore.root
    uid = c.create_multipart_upload(BUCKET, "gone")
    for n in (1, 2, 2):
        c.upload_part(BUCKET, "gone", uid, n, os.urandom(MIN))
    c.abort_multipart_upload(BUCKET, "gone", uid)
    uid = c.create_multipart_upload(BUCKET, "kept")
    r1 = c.upload_part(BUCKET, "kept", uid, 1, os.urandom(MIN))
    c.upload_part(BUCKET, "kept", uid, 2, os.urandom(MIN))  # never used
    kept = b"k" * 3000 + os.urandom(MIN)
    r1 = c.upload_part(BUCKET, "kept", uid, 1, kept)  # replaces the first part 1
    c.complete_multipart_upload(BUCKET, "kept", uid, [r1])
    _collect(mstore)
    ids = set(mstore.blobs.chunks.iter_ids())
    # Only the kept object's chunks remain (64 KiB chunks: two of them).
    assert len(ids) == 2
    assert body(c, "kept") == kept
    c.delete_object(BUCKET, "kept")
    _collect(mstore)
    assert list(mstore.blobs.chunks.iter_ids()) == []


def test_stale_uploads_are_aborted(tmp_path: Path) -> None:
    now = [10**18]
    with open_store(
        tmp_path / "s", limits=LIMITS, clock=lambda: now[0], abort_incomplete_after=60
    ) as s:
        c = s.root
        c.create_bucket(BUCKET)
        old = c.create_multipart_upload(BUCKET, "old")
        c.upload_part(BUCKET, "old", old, 1, os.urandom(MIN))
        now[0] += 59 * 10**9
        young = c.create_multipart_upload(BUCKET, "young")
        assert len(c.list_multipart_uploads(BUCKET)) == 2
        now[0] += 2 * 10**9  # "old" is now 61 s old
        assert [u.key for u in c.list_multipart_uploads(BUCKET)] == ["young"]
        with pytest.raises(NoSuchUpload):
            c.upload_part(BUCKET, "old", old, 2, b"x")
        _collect(s)
        assert list(s.blobs.chunks.iter_ids()) == []
        now[0] += 60 * 10**9
        s.gc()  # gc aborts stale uploads too
        with pytest.raises(NoSuchUpload):
            c.list_parts(BUCKET, "young", young)
    with pytest.raises(objstore.errors.InvalidArgument):
        objstore.open(None, abort_incomplete_after=-1)


# ------------------------------------------------------------- concurrency


def test_parts_from_many_threads(c: objstore.Client) -> None:
    uid = c.create_multipart_upload(BUCKET, "k")
    parts = {n: os.urandom(MIN + n) for n in range(1, 25)}
    results: dict[int, objstore.UploadPartResult] = {}
    errors: list[BaseException] = []

    def worker(numbers: list[int]) -> None:
        try:
            for n in numbers:
                results[n] = c.upload_part(BUCKET, "k", uid, n, parts[n])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(list(range(i, 25, 6)),)) for i in (1, 2, 3, 4, 5, 6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    out = c.complete_multipart_upload(BUCKET, "k", uid, [results[n] for n in sorted(results)])
    ordered = [parts[n] for n in sorted(parts)]
    assert out.etag == s3_etag(ordered)
    assert body(c, "k") == b"".join(ordered)


# A child process uploading some parts (a fresh interpreter: no state shared by fork).
_CHILD = """
import sys
from pathlib import Path
import objstore
path, uid, min_part = sys.argv[1], sys.argv[2], int(sys.argv[3])
limits = objstore.Limits(min_part_size=min_part)
with objstore.open(Path(path), chunk_size=64 * 1024, inline_threshold=1024, limits=limits) as s:
    for n in map(int, sys.argv[4:]):
        s.root.upload_part("bkt", "k", uid, n, bytes([n]) * (min_part + n))
"""


def test_parts_from_several_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s"
    with open_store(path, limits=LIMITS) as s:
        s.root.create_bucket(BUCKET)
        uid = s.root.create_multipart_upload(BUCKET, "k")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), uid, str(MIN)]
            + [str(n) for n in range(i, 13, 3)]
        )
        for i in (1, 2, 3)
    ]
    for p in procs:
        assert p.wait(120) == 0
    with open_store(path, limits=LIMITS) as s:
        c = s.root
        listed = c.list_parts(BUCKET, "k", uid)
        assert [p.part_number for p in listed] == list(range(1, 13))
        out = c.complete_multipart_upload(
            BUCKET, "k", uid, [(p.part_number, p.etag) for p in listed]
        )
        expected = [bytes([n]) * (MIN + n) for n in range(1, 13)]
        assert out.etag == s3_etag(expected)
        assert read_all(c.get_object(BUCKET, "k")) == b"".join(expected)


def test_deleting_a_bucket_aborts_its_uploads(mstore: objstore.Store) -> None:
    """S3 deletes an (object-free) bucket with its uploads in progress."""
    c = mstore.root
    uid = c.create_multipart_upload(BUCKET, "k")
    c.upload_part(BUCKET, "k", uid, 1, os.urandom(MIN))
    c.delete_bucket(BUCKET)
    c.create_bucket(BUCKET)
    assert not c.list_multipart_uploads(BUCKET).uploads
    with pytest.raises(NoSuchUpload):
        c.upload_part(BUCKET, "k", uid, 2, b"x")
    _collect(mstore)
    assert list(mstore.blobs.chunks.iter_ids()) == []


def test_fsck_and_stats_understand_parts_and_composites(mstore: objstore.Store) -> None:
    """Parts in progress, composites and copied parts are references fsck accounts for."""
    c = mstore.root
    c.put_object(BUCKET, "src", os.urandom(2 * MIN))
    done = upload(c, "mp", [os.urandom(MIN), b"tail"])
    uid = c.create_multipart_upload(BUCKET, "open")
    c.upload_part(BUCKET, "open", uid, 1, os.urandom(MIN))
    c.upload_part_copy(BUCKET, "open", uid, 2, BUCKET, "src")
    c.upload_part_copy(BUCKET, "open", uid, 3, BUCKET, "mp", src_range=(10, MIN + 2))
    report = mstore.fsck()
    assert report.healthy, report.inconsistent
    stats = mstore.stats()
    assert (stats.objects, stats.logical_bytes) == (2, 2 * MIN + done.size)
    c.abort_multipart_upload(BUCKET, "open", uid)
    c.delete_object(BUCKET, "mp")
    _collect(mstore)
    report = mstore.fsck()
    assert report.healthy, report.inconsistent


def test_repeated_completion_answers_the_same_result(c: objstore.Client) -> None:
    """Completing an upload again with the same parts (a client retrying a completion
    whose answer it lost) answers the first completion's result, as S3 does; with
    other parts, or once the object it made was replaced or deleted, NoSuchUpload."""
    parts = [os.urandom(MIN), b"end"]
    uid = c.create_multipart_upload(BUCKET, "k")
    results = [c.upload_part(BUCKET, "k", uid, i + 1, p) for i, p in enumerate(parts)]
    first = c.complete_multipart_upload(BUCKET, "k", uid, results)
    plain = [(r.part_number, r.etag.strip('"')) for r in results]  # quotes do not matter
    again = c.complete_multipart_upload(BUCKET, "k", uid, plain)
    assert again == first
    assert body(c, "k") == b"".join(parts)
    assert not c.list_multipart_uploads(BUCKET).uploads
    with pytest.raises(NoSuchUpload):
        c.complete_multipart_upload(BUCKET, "k", uid, results[:1])  # other parts
    with pytest.raises(NoSuchUpload):
        c.complete_multipart_upload(BUCKET, "other", uid, results)  # another key
    c.put_object(BUCKET, "k", b"replaced")
    with pytest.raises(NoSuchUpload):
        c.complete_multipart_upload(BUCKET, "k", uid, results)
    with pytest.raises(NoSuchUpload):
        c.abort_multipart_upload(BUCKET, "k", uid)  # only completion is answered again
    assert body(c, "k") == b"replaced"


def test_repeated_completion_in_a_versioned_bucket(c: objstore.Client) -> None:
    """In a versioned bucket the retry names the version the completion made, even
    after newer versions; once that version is deleted, NoSuchUpload."""
    c.put_bucket_versioning(BUCKET, "Enabled")
    uid = c.create_multipart_upload(BUCKET, "v")
    parts = [c.upload_part(BUCKET, "v", uid, 1, b"only part")]
    first = c.complete_multipart_upload(BUCKET, "v", uid, parts)
    c.put_object(BUCKET, "v", b"newer")
    assert c.complete_multipart_upload(BUCKET, "v", uid, parts) == first
    assert first.version_id is not None
    c.delete_object(BUCKET, "v", version_id=first.version_id)
    with pytest.raises(NoSuchUpload):
        c.complete_multipart_upload(BUCKET, "v", uid, parts)


def test_completions_are_remembered_for_an_hour(tmp_path: Path) -> None:
    """A completion is answered again for an hour; later completions forget the
    records older than that (the store keeps no record forever)."""
    from objstore import keyspace
    from objstore.meta.scan import scan_prefix

    now = [10**18]
    with open_store(tmp_path / "s", limits=LIMITS, clock=lambda: now[0]) as s:
        c = s.root
        c.create_bucket(BUCKET)
        uid = c.create_multipart_upload(BUCKET, "old")
        parts = [c.upload_part(BUCKET, "old", uid, 1, b"x")]
        first = c.complete_multipart_upload(BUCKET, "old", uid, parts)
        now[0] += 3599 * 10**9
        assert c.complete_multipart_upload(BUCKET, "old", uid, parts) == first
        now[0] += 2 * 10**9
        with pytest.raises(NoSuchUpload):
            c.complete_multipart_upload(BUCKET, "old", uid, parts)
        young = c.create_multipart_upload(BUCKET, "young")
        c.complete_multipart_upload(
            BUCKET, "young", young, [c.upload_part(BUCKET, "young", young, 1, b"y")]
        )
        with s.namespace.meta.begin() as txn:
            remembered = [k[1:].hex() for k, _ in scan_prefix(txn, keyspace.COMPLETED)]
        assert remembered == [young]
