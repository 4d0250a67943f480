"""upload_part_copy: whole and ranged copies share the source's bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import BUCKET, CHUNK, open_store, read_all
from test_multipart import LIMITS, MIN, mstore, s3_etag  # noqa: F401  (fixture)

import objstore
from objstore.errors import (
    InvalidArgument,
    InvalidRange,
    InvalidRequest,
    NoSuchKey,
    NoSuchVersion,
)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def get(c: objstore.Client, key: str) -> bytes:
    return read_all(c.get_object(BUCKET, key))


def test_whole_and_ranged_copies(mstore: objstore.Store) -> None:  # noqa: F811
    c = mstore.root
    src = os.urandom(3 * MIN + 123)
    c.put_object(BUCKET, "src", src)
    uid = c.create_multipart_upload(BUCKET, "k")
    ranges = [None, (CHUNK, 2 * CHUNK - 1), "bytes=17-70000", (len(src) - 5, len(src) - 1)]
    pieces = [src, src[CHUNK : 2 * CHUNK], src[17:70001], src[-5:]]
    done = []
    for n, (rng, want) in enumerate(zip(ranges, pieces, strict=True), start=1):
        r = c.upload_part_copy(BUCKET, "k", uid, n, BUCKET, "src", src_range=rng)
        assert (r.part_number, r.etag, r.size) == (n, md5_etag(want), len(want))
        done.append(r)
    out = c.complete_multipart_upload(BUCKET, "k", uid, done)
    assert out.etag == s3_etag(pieces)
    whole = b"".join(pieces)
    assert get(c, "k") == whole
    for first, last in [(len(src) - 3, len(src) + 3), (len(src) + CHUNK - 1, len(src) + CHUNK)]:
        rd = read_all(c.get_object(BUCKET, "k", range=(first, last)))
        assert rd == whole[first : last + 1]


def test_copies_of_a_multipart_source(mstore: objstore.Store) -> None:  # noqa: F811
    c = mstore.root
    parts = [os.urandom(MIN), os.urandom(MIN + 9), b"end"]
    uid = c.create_multipart_upload(BUCKET, "mp")
    done = [c.upload_part(BUCKET, "mp", uid, i + 1, p) for i, p in enumerate(parts)]
    c.complete_multipart_upload(BUCKET, "mp", uid, done)
    src = b"".join(parts)
    uid = c.create_multipart_upload(BUCKET, "k")
    r1 = c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "mp")
    assert r1.etag == md5_etag(src)  # the bytes' MD5, not the source's "-3" ETag
    r2 = c.upload_part_copy(BUCKET, "k", uid, 2, BUCKET, "mp", src_range=(MIN - 10, 2 * MIN + 10))
    out = c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2])
    expected = [src, src[MIN - 10 : 2 * MIN + 11]]
    assert out.etag == s3_etag(expected)
    assert get(c, "k") == b"".join(expected)


def test_copy_survives_the_source(mstore: objstore.Store) -> None:  # noqa: F811
    c = mstore.root
    src = os.urandom(2 * MIN)
    c.put_object(BUCKET, "src", src)
    uid = c.create_multipart_upload(BUCKET, "k")
    r1 = c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "src")
    r2 = c.upload_part_copy(BUCKET, "k", uid, 2, BUCKET, "src", src_range=(5, MIN))
    c.delete_object(BUCKET, "src")
    for _ in range(3):
        mstore.gc()
    c.complete_multipart_upload(BUCKET, "k", uid, [r1, r2])
    for _ in range(3):
        mstore.gc()
    assert get(c, "k") == src + src[5 : MIN + 1]
    c.delete_object(BUCKET, "k")
    for _ in range(3):
        mstore.gc()
    assert list(mstore.blobs.chunks.iter_ids()) == []


def test_copy_source_versions_and_errors(mstore: objstore.Store) -> None:  # noqa: F811
    c = mstore.root
    c.put_bucket_versioning(BUCKET, "Enabled")
    v1 = c.put_object(BUCKET, "src", b"A" * MIN)
    c.put_object(BUCKET, "src", b"B" * MIN)
    c.put_object(BUCKET, "tiny", b"tiny bytes")  # stored inline
    uid = c.create_multipart_upload(BUCKET, "k")
    old = c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "src", src_version_id=v1.version_id)
    assert old.etag == md5_etag(b"A" * MIN)
    tiny = c.upload_part_copy(BUCKET, "k", uid, 2, BUCKET, "tiny", src_range=(1, 3))
    assert (tiny.etag, tiny.size) == (md5_etag(b"iny"), 3)
    for rng, err in [
        ("bytes=5-", InvalidArgument),
        ("bytes=-5", InvalidArgument),
        ((3, 2), InvalidArgument),
        ("bytes=0-99999999", InvalidRange),
        ((MIN, MIN), InvalidRange),
        (42, InvalidArgument),
    ]:
        with pytest.raises(err):
            c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "src", src_range=rng)  # type: ignore[arg-type]
    with pytest.raises(NoSuchKey):
        c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "absent")
    with pytest.raises(NoSuchVersion):
        c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "src", src_version_id="0" * 32)
    marker = c.delete_object(BUCKET, "src").version_id
    with pytest.raises(NoSuchKey):
        c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "src")
    with pytest.raises(InvalidRequest):
        c.upload_part_copy(BUCKET, "k", uid, 3, BUCKET, "src", src_version_id=marker)
    out = c.complete_multipart_upload(BUCKET, "k", uid, [old, tiny])
    assert get(c, "k") == b"A" * MIN + b"iny"
    assert out.etag == s3_etag([b"A" * MIN, b"iny"])


def test_copied_part_size_limit(tmp_path: Path) -> None:
    with open_store(tmp_path / "s", limits=objstore.Limits(max_copy_size=5000)) as s:
        c = s.root
        c.create_bucket(BUCKET)
        c.put_object(BUCKET, "src", os.urandom(8000))
        uid = c.create_multipart_upload(BUCKET, "k")
        with pytest.raises(InvalidRequest):
            c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "src")
        r = c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "src", src_range=(0, 4999))
        assert r.size == 5000


def test_copy_of_an_empty_multipart_object(mstore: objstore.Store) -> None:  # noqa: F811
    """Regression: a whole copy of a 0-byte composite once read a body with no segments."""
    c = mstore.root
    uid = c.create_multipart_upload(BUCKET, "empty")
    c.complete_multipart_upload(BUCKET, "empty", uid, [c.upload_part(BUCKET, "empty", uid, 1, b"")])
    uid = c.create_multipart_upload(BUCKET, "k")
    r = c.upload_part_copy(BUCKET, "k", uid, 1, BUCKET, "empty")
    assert (r.size, r.etag) == (0, md5_etag(b""))
    assert c.complete_multipart_upload(BUCKET, "k", uid, [r]).size == 0
