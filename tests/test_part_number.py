"""GET and HEAD by part number: the bytes of part N of a multipart object (its
``content_range``, ``parts_count``), the whole of a single-PUT object as part 1, the
errors beyond the count, and objects completed before part sizes were recorded."""

from __future__ import annotations

import base64
import itertools
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import BUCKET, open_store
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore import keyspace
from objstore.errors import (
    InvalidArgument,
    InvalidPartNumber,
    InvalidRequest,
    NoSuchKey,
)
from objstore.meta.scan import scan_prefix
from objstore.ns import ranges
from objstore.ns.index import bucket_prefix
from objstore.ns.records import VersionRecord

MIN = 1024
LIMITS = objstore.Limits(min_part_size=MIN)


@pytest.fixture(params=["memory", "lmdb"])
def c(request: pytest.FixtureRequest, tmp_path: Path) -> objstore.Client:
    store = open_store(None if request.param == "memory" else tmp_path / "s", limits=LIMITS)
    request.addfinalizer(store.close)
    store.root.create_bucket(BUCKET)
    return store.root


def multipart(c: objstore.Client, key: str, parts: list[bytes], numbers: list[int]) -> str:
    uid = c.create_multipart_upload(BUCKET, key, checksum_algorithm="CRC32")
    done = [c.upload_part(BUCKET, key, uid, n, p) for n, p in zip(numbers, parts, strict=True)]
    return c.complete_multipart_upload(BUCKET, key, uid, done).etag


def read(c: objstore.Client, key: str, **kw: object) -> tuple[bytes, objstore.ObjectBody]:
    body = c.get_object(BUCKET, key, **kw)  # type: ignore[arg-type]
    with body:
        return body.read(), body


def test_each_part_of_a_multipart_object(c: objstore.Client) -> None:
    parts = [b"a" * MIN, b"b" * (MIN + 7), b"c" * MIN, b"d" * 10]
    # Part numbers need not be consecutive: parts are counted in the object's order.
    etag = multipart(c, "mp", parts, [2, 5, 6, 9])
    first = 0
    for n, part in enumerate(parts, start=1):
        data, body = read(c, "mp", part_number=n, checksum_mode=True)
        last = first + len(part) - 1
        assert data == part
        assert body.content_range == f"bytes {first}-{last}/{sum(map(len, parts))}"
        assert (body.size, body.parts_count, body.etag) == (len(part), 4, etag)
        # The part's own checksum, not the object's (as S3).
        crc = base64.b64encode(zlib.crc32(part).to_bytes(4, "big")).decode()
        assert (body.checksums, body.checksum_type) == ({"CRC32": crc}, "COMPOSITE")
        info = c.head_object(BUCKET, "mp", part_number=n)
        assert (info.content_range, info.content_length) == (body.content_range, len(part))
        assert (info.size, info.parts_count) == (sum(map(len, parts)), 4)
        first = last + 1
    for beyond in (5, 10_000):
        with pytest.raises(InvalidPartNumber) as err:
            c.get_object(BUCKET, "mp", part_number=beyond)
        assert err.value.http_status == 416
        assert err.value.details == {"PartNumberRequested": beyond, "ActualPartCount": 4}
        with pytest.raises(InvalidPartNumber):
            c.head_object(BUCKET, "mp", part_number=beyond)
    # Without a part number nothing changes.
    info = c.head_object(BUCKET, "mp")
    assert (info.content_range, info.content_length) == (None, None)


def test_a_single_put_is_part_one(c: objstore.Client) -> None:
    c.put_object(BUCKET, "k", b"body", checksum_algorithm="SHA256")
    data, body = read(c, "k", part_number=1, checksum_mode=True)
    assert data == b"body" and body.content_range == "bytes 0-3/4"
    assert body.parts_count == 0 and "SHA256" in body.checksums  # all of the object
    info = c.head_object(BUCKET, "k", part_number=1)
    assert (info.content_range, info.content_length) == ("bytes 0-3/4", 4)
    with pytest.raises(InvalidPartNumber):
        c.get_object(BUCKET, "k", part_number=2)
    c.put_object(BUCKET, "empty", b"")
    data, body = read(c, "empty", part_number=1)
    assert data == b"" and body.content_range is None
    assert c.head_object(BUCKET, "empty", part_number=1).content_length == 0


def test_a_one_part_upload_keeps_its_checksum(c: objstore.Client) -> None:
    multipart(c, "one", [b"x" * 100], [1])
    data, body = read(c, "one", part_number=1, checksum_mode=True)
    assert data == b"x" * 100 and body.parts_count == 1 and "CRC32" in body.checksums


def test_an_empty_last_part(c: objstore.Client) -> None:
    multipart(c, "e", [b"a" * MIN, b""], [1, 2])
    data, body = read(c, "e", part_number=2)
    assert data == b"" and body.size == 0 and body.content_range is None
    info = c.head_object(BUCKET, "e", part_number=2)
    assert (info.content_range, info.content_length) == (None, 0)


@pytest.mark.parametrize("bad", [0, -1, 10_001, "1", 1.0, True])
def test_bad_part_numbers(c: objstore.Client, bad: object) -> None:
    c.put_object(BUCKET, "k", b"v")
    with pytest.raises(InvalidArgument):
        c.get_object(BUCKET, "k", part_number=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        c.head_object(BUCKET, "k", part_number=bad)  # type: ignore[arg-type]


def test_range_and_part_number_together(c: objstore.Client) -> None:
    c.put_object(BUCKET, "k", b"v")
    with pytest.raises(InvalidRequest):
        c.get_object(BUCKET, "k", part_number=1, range=(0, 0))


def test_missing_key_before_part_checks(c: objstore.Client) -> None:
    with pytest.raises(NoSuchKey):
        c.get_object(BUCKET, "nope", part_number=3)


def test_copies_keep_the_parts(c: objstore.Client) -> None:
    parts = [b"a" * MIN, b"b" * 3]
    multipart(c, "src", parts, [1, 2])
    c.copy_object(BUCKET, "src", BUCKET, "dst")
    data, body = read(c, "dst", part_number=2)
    assert data == b"bbb" and body.content_range == f"bytes {MIN}-{MIN + 2}/{MIN + 3}"


def _forget_part_sizes(store: objstore.Store, key: str) -> None:
    """Rewrite ``key``'s versions as a store from before part sizes wrote them."""
    meta = store.namespace.meta
    base = bucket_prefix(keyspace.VERSION, BUCKET)
    with meta.begin_write() as txn:
        for k, v in list(scan_prefix(txn, base)):
            rec = VersionRecord.decode(v)
            if rec.key == key:
                assert rec.part_sizes  # recorded now
                txn.put(k, replace(rec, part_sizes=()).encode())


def test_objects_completed_before_part_sizes_were_recorded(tmp_path: Path) -> None:
    with open_store(tmp_path / "s", limits=LIMITS) as store:
        c = store.root
        c.create_bucket(BUCKET)
        multipart(c, "old", [b"a" * MIN, b"b" * 5], [1, 2])
        multipart(c, "old1", [b"z" * 9], [1])
        _forget_part_sizes(store, "old")
        _forget_part_sizes(store, "old1")
        # The whole object still reads, by range too; the count is known.
        assert read(c, "old")[0] == b"a" * MIN + b"b" * 5
        assert read(c, "old", range=(MIN, MIN + 4))[0] == b"b" * 5
        assert c.head_object(BUCKET, "old").parts_count == 2
        # A part of several: the sizes are unknown, said as InvalidRequest.
        with pytest.raises(InvalidRequest, match="before objstore recorded part sizes"):
            c.get_object(BUCKET, "old", part_number=1)
        with pytest.raises(InvalidPartNumber):
            c.head_object(BUCKET, "old", part_number=3)
        # A one-part object's part 1 is all of it.
        data, body = read(c, "old1", part_number=1)
        assert data == b"z" * 9 and body.parts_count == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=40))
def test_part_spans_follow_the_sizes(sizes: list[int]) -> None:
    runs = ranges.part_runs(sizes)
    assert [s for s, n in runs for _ in range(n)] == sizes
    assert all(a[0] != b[0] for a, b in itertools.pairwise(runs))
    first = 0
    for n, size in enumerate(sizes, start=1):
        got = ranges.part_span(n, size=sum(sizes), parts=len(sizes), runs=runs)
        assert got == ((0, sum(sizes)) if len(sizes) == 1 else (first, size))
        first += size
    with pytest.raises(InvalidPartNumber):
        ranges.part_span(len(sizes) + 1, size=sum(sizes), parts=len(sizes), runs=runs)


def test_records_before_part_sizes_decode() -> None:
    old = VersionRecord(key="k", version_id="null", seq=1, mtime_ns=5, size=3, parts=2)
    assert VersionRecord.decode(old.encode()).part_sizes == ()
    new = replace(old, part_sizes=((2, 1), (1, 1)))
    assert VersionRecord.decode(new.encode()) == new


def _version_records(store: objstore.Store, key: str) -> list[tuple[bytes, VersionRecord]]:
    with store.namespace.meta.begin() as txn:
        return [
            (k, rec)
            for k, v in scan_prefix(txn, bucket_prefix(keyspace.VERSION, BUCKET))
            if (rec := VersionRecord.decode(v)).key == key
        ]


def _part_sums(store: objstore.Store) -> dict[bytes, bytes]:
    with store.namespace.meta.begin() as txn:
        return {k[1:]: v for k, v in scan_prefix(txn, keyspace.PART_SUMS)}


def _crc(part: bytes) -> str:
    return base64.b64encode(zlib.crc32(part).to_bytes(4, "big")).decode()


def test_part_checksums_live_beside_the_body_not_in_the_version(tmp_path: Path) -> None:
    """perf6b: the version record every GET and HEAD decodes no longer carries the part
    checksums (~430 KB for 10,000 SHA-256 parts); they sit under the body's own key, read
    by a part-number read only, shared by copies, and dropped with the body by gc."""
    parts = [b"a" * MIN, b"b" * (MIN + 1), b"c" * 3]
    with open_store(tmp_path / "s", limits=LIMITS) as store:
        c = store.root
        c.create_bucket(BUCKET)
        multipart(c, "mp", parts, [1, 2, 3])
        [(_, rec)] = _version_records(store, "mp")
        assert rec.part_checksums == b"" and rec.checksums
        assert b'"z"' not in rec.encode()
        assert rec.data_id is not None
        assert _part_sums(store) == {
            rec.data_id: b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
        }
        c.copy_object(BUCKET, "mp", BUCKET, "copy")
        c.delete_object(BUCKET, "mp")
        store.gc()
        for n, part in enumerate(parts, start=1):
            body = read(c, "copy", part_number=n, checksum_mode=True)[1]
            assert body.checksums == {"CRC32": _crc(part)}
            info = c.head_object(BUCKET, "copy", part_number=n, checksum_mode=True)
            assert info.checksums == {"CRC32": _crc(part)}
        # Without checksum mode (or without a part number) nothing is fetched or shown.
        assert read(c, "copy", part_number=1)[1].checksums == {}
        c.delete_object(BUCKET, "copy")
        assert _part_sums(store) != {}  # the body is dead, not yet collected
        store.gc()
        assert _part_sums(store) == {}


def test_part_checksums_in_an_old_version_record_still_answer(tmp_path: Path) -> None:
    """A version completed before perf6b holds its part checksums in its own tail and
    has no key of them beside its body: a part read answers from the tail."""
    parts = [b"x" * MIN, b"y" * 5]
    with open_store(tmp_path / "s", limits=LIMITS) as store:
        c = store.root
        c.create_bucket(BUCKET)
        multipart(c, "old", parts, [1, 2])
        [(vkey, rec)] = _version_records(store, "old")
        assert rec.data_id is not None
        with store.namespace.meta.begin_write() as txn:
            sums = txn.get(keyspace.PART_SUMS + rec.data_id)
            assert sums is not None
            txn.delete(keyspace.PART_SUMS + rec.data_id)
            txn.put(vkey, replace(rec, part_checksums=sums).encode())
        assert _part_sums(store) == {}
        for n, part in enumerate(parts, start=1):
            body = read(c, "old", part_number=n, checksum_mode=True)[1]
            assert body.checksums == {"CRC32": _crc(part)}
        # The whole object's checksum is unchanged by where the parts' ones live.
        whole = read(c, "old", checksum_mode=True)[1]
        assert whole.checksums == rec.checksums
