"""S3's additional checksums and Content-MD5: the pure module, PUT, GET/HEAD, copies,
multipart COMPOSITE and FULL_OBJECT checksums, and records from before them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import zlib
from collections.abc import Iterator

import pytest
from awscrt import checksums as crt
from conftest import BUCKET, open_store
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore import aio, checksums
from objstore.errors import (
    BadDigest,
    InvalidDigest,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchKey,
)
from objstore.ns.records import VersionRecord
from objstore.ns.uploads import PartRecord, UploadRecord

MiB = 1 << 20
REFERENCE = {"CRC32": zlib.crc32, "CRC32C": crt.crc32c, "CRC64NVME": crt.crc64nvme}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc(alg: str, data: bytes) -> str:
    width = 8 if alg == "CRC64NVME" else 4
    return b64(REFERENCE[alg](data).to_bytes(width, "big"))


def value(alg: str, data: bytes) -> str:
    if alg in REFERENCE:
        return crc(alg, data)
    return b64(hashlib.new(alg.lower(), data).digest())


@pytest.fixture
def root(store: objstore.Store) -> objstore.Client:
    store.root.create_bucket(BUCKET)
    return store.root


# ----------------------------------------------------------------- the pure module


def test_check_values_of_the_standard_catalogue() -> None:
    data = b"123456789"
    assert checksums.digest("CRC32", data).hex() == "cbf43926"
    assert checksums.digest("CRC32C", data).hex() == "e3069283"
    assert checksums.digest("CRC64NVME", data).hex() == "ae8b14860a799888"
    assert checksums.digest("SHA1", data) == hashlib.sha1(data).digest()
    assert checksums.digest("SHA256", data) == hashlib.sha256(data).digest()
    assert checksums.encode(checksums.digest("CRC32", b"")) == "AAAAAA=="


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(REFERENCE)),
    st.binary(max_size=3000),
    st.binary(max_size=3000),
)
def test_crc_combination_equals_the_crc_of_the_concatenation(alg: str, a: bytes, b: bytes) -> None:
    fn = REFERENCE[alg]
    assert checksums.combine(alg, fn(a), fn(b), len(b)) == fn(a + b)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(REFERENCE)), st.lists(st.binary(max_size=2000), max_size=6))
def test_full_object_checksum_of_parts(alg: str, parts: list[bytes]) -> None:
    pairs = [(checksums.digest(alg, p), len(p)) for p in parts]
    assert checksums.full_object(alg, pairs) == crc(alg, b"".join(parts))


def test_combination_of_large_lengths_needs_no_bytes() -> None:
    zeros = bytes(64 * MiB)
    assert checksums.combine("CRC32", zlib.crc32(b"head"), zlib.crc32(zeros), len(zeros)) == (
        zlib.crc32(b"head" + zeros)
    )
    # Beyond 4 GiB: joining is associative, whatever the lengths.
    x, y, z = 0x1234_5678, 0x0BAD_F00D, 0xDEAD_BEEF
    big, bigger = 5 * 1024**3 + 7, 2**40 + 3
    for alg in REFERENCE:
        left = checksums.combine(alg, checksums.combine(alg, x, y, big), z, bigger)
        right = checksums.combine(alg, x, checksums.combine(alg, y, z, bigger), big + bigger)
        assert left == right


def test_types_and_algorithms_as_s3() -> None:
    assert checksums.check_type("CRC64NVME", None) == "FULL_OBJECT"
    assert checksums.check_type("CRC32", None) == "COMPOSITE"
    assert checksums.check_type("SHA256", None) == "COMPOSITE"
    assert checksums.check_type(None, None) is None
    assert checksums.check_type("CRC32C", "FULL_OBJECT") == "FULL_OBJECT"
    for alg, kind in [
        ("SHA1", "FULL_OBJECT"),
        ("SHA256", "FULL_OBJECT"),
        ("CRC64NVME", "COMPOSITE"),
        (None, "COMPOSITE"),
        ("CRC32", "WHOLE"),
    ]:
        with pytest.raises(InvalidRequest):
            checksums.check_type(alg, kind)
    assert checksums.check_algorithm("crc32c") == "CRC32C"
    with pytest.raises(InvalidRequest):
        checksums.check_algorithm("MD5")


# ------------------------------------------------------------------------- PUT


@pytest.mark.parametrize("alg", checksums.ALGORITHMS)
def test_put_computes_stores_and_returns_on_request(root: objstore.Client, alg: str) -> None:
    for key, data in (("small", b"tiny"), ("big", os.urandom(300_000))):
        put = root.put_object(BUCKET, key, data, checksum_algorithm=alg)
        assert put.checksums == {alg: value(alg, data)}
        assert put.checksum_type == "FULL_OBJECT"
        head = root.head_object(BUCKET, key, checksum_mode=True)
        assert head.checksums == {alg: value(alg, data)}
        assert head.checksum_type == "FULL_OBJECT"
        assert root.head_object(BUCKET, key).checksums == {}  # only when asked, as S3
        with root.get_object(BUCKET, key, checksum_mode=True) as body:
            assert body.checksums == {alg: value(alg, data)}
            assert body.read() == data
        with root.get_object(BUCKET, key, checksum_mode=True, range=(0, 1)) as part:
            assert part.checksums == {}  # a range has no stored checksum


def test_supplied_value_is_verified(root: objstore.Client) -> None:
    data = os.urandom(200_000)
    good = crc("CRC32C", data)
    root.put_object(BUCKET, "k", data, checksums={"CRC32C": good})
    assert root.head_object(BUCKET, "k", checksum_mode=True).checksums == {"CRC32C": good}
    # The header name works as the key too, and the algorithm may be named as well.
    root.put_object(
        BUCKET, "h", data, checksum_algorithm="CRC32C", checksums={"x-amz-checksum-crc32c": good}
    )
    wrong = crc("CRC32C", data + b"!")
    with pytest.raises(BadDigest) as exc:
        root.put_object(BUCKET, "k", b"other", checksums={"CRC32C": wrong})
    assert exc.value.http_status == 400
    assert "CRC32C" in exc.value.message
    # Nothing stored: the old object is still there, unchanged.
    with root.get_object(BUCKET, "k") as body:
        assert body.read() == data
    with pytest.raises(BadDigest):
        root.put_object(BUCKET, "fresh", iter([data, b"x"]), checksums={"CRC32C": good})
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "fresh")


def test_malformed_checksum_requests(root: objstore.Client) -> None:
    bad: list[dict[str, object]] = [
        {"checksums": {"CRC32": "not base64!"}},
        {"checksums": {"CRC32": b64(b"12345")}},  # 5 bytes, not 4
        {"checksums": {"CRC32": "AAAAAA==", "SHA1": b64(bytes(20))}},  # two algorithms
        {"checksums": {"MD5": "AAAAAA=="}},
        {"checksum_algorithm": "CRC16"},
        {"checksum_algorithm": "SHA1", "checksums": {"CRC32": "AAAAAA=="}},
        {"checksums": lambda: {}},  # a trailer without a named algorithm
        {"checksums": "AAAAAA=="},
    ]
    for kw in bad:
        with pytest.raises(InvalidRequest):
            root.put_object(BUCKET, "k", b"x", **kw)  # type: ignore[arg-type]
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "k")


def test_trailing_checksum_is_read_after_the_body(root: objstore.Client) -> None:
    data = os.urandom(100_000)
    state = {"done": False}

    def body() -> Iterator[bytes]:
        yield data[:50_000]
        yield data[50_000:]
        state["done"] = True

    def trailer() -> dict[str, str]:
        assert state["done"], "the trailer is read only once the body has ended"
        return {"x-amz-checksum-sha256": value("SHA256", data)}

    put = root.put_object(BUCKET, "t", body(), checksum_algorithm="SHA256", checksums=trailer)
    assert put.checksums == {"SHA256": value("SHA256", data)}
    with pytest.raises(BadDigest):
        root.put_object(
            BUCKET,
            "t2",
            data,
            checksum_algorithm="SHA256",
            checksums=lambda: {"SHA256": value("SHA256", b"")},
        )
    with pytest.raises(InvalidRequest):  # a trailer of another algorithm
        root.put_object(
            BUCKET, "t2", data, checksum_algorithm="SHA256", checksums=lambda: {"CRC32": "AAAAAA=="}
        )
    with pytest.raises(NoSuchKey):
        root.head_object(BUCKET, "t2")


def test_multi_window_streamed_body() -> None:
    """A body over several ingest windows: the checksum runs in its own thread."""
    data = os.urandom(MiB) * 37  # > two 16 MiB windows
    with open_store(None) as s:
        s.root.create_bucket(BUCKET)
        pieces = (data[i : i + 3 * MiB] for i in range(0, len(data), 3 * MiB))
        put = s.root.put_object(
            BUCKET, "big", pieces, checksums={"CRC64NVME": crc("CRC64NVME", data)}
        )
        assert put.checksums == {"CRC64NVME": crc("CRC64NVME", data)}
        assert put.etag == f'"{hashlib.md5(data).hexdigest()}"'


@pytest.mark.parametrize("etag_mode", ["md5", "blake3"])
def test_content_md5(etag_mode: str) -> None:
    with open_store(None, etag_mode=etag_mode) as s:
        s.root.create_bucket(BUCKET)
        for data in (b"small", os.urandom(200_000)):
            md5 = b64(hashlib.md5(data).digest())
            put = s.root.put_object(BUCKET, "k", data, content_md5=md5)
            assert put.size == len(data)
            with pytest.raises(BadDigest) as exc:
                s.root.put_object(BUCKET, "k2", data + b"!", content_md5=md5)
            assert "Content-MD5" in exc.value.message
            for bad in ("nope", b64(b"short"), 5):
                with pytest.raises(InvalidDigest):
                    s.root.put_object(BUCKET, "k2", data, content_md5=bad)  # type: ignore[arg-type]
            with pytest.raises(NoSuchKey):
                s.root.head_object(BUCKET, "k2")
        if etag_mode == "blake3":  # checking an MD5 does not change the ETag mode
            assert len(s.root.head_object(BUCKET, "k").etag.strip('"')) == 64


def test_copy_keeps_the_checksum(root: objstore.Client) -> None:
    root.put_object(BUCKET, "src", b"abc", checksum_algorithm="CRC32")
    root.copy_object(BUCKET, "src", BUCKET, "dst", metadata_directive="REPLACE")
    assert root.head_object(BUCKET, "dst", checksum_mode=True).checksums == {
        "CRC32": crc("CRC32", b"abc")
    }


# ------------------------------------------------------------------- multipart

PART = 5 * MiB


def _parts(n: int, last: int = 1000) -> list[bytes]:
    return [os.urandom(PART) for _ in range(n - 1)] + [os.urandom(last)]


def _upload(
    c: objstore.Client, key: str, parts: list[bytes], **create: str
) -> tuple[str, list[objstore.UploadPartResult]]:
    uid = c.create_multipart_upload(BUCKET, key, **create)  # type: ignore[arg-type]
    return uid, [c.upload_part(BUCKET, key, uid, i + 1, p) for i, p in enumerate(parts)]


@pytest.mark.parametrize(
    ("alg", "kind"),
    [
        ("CRC32", "COMPOSITE"),
        ("CRC32C", "COMPOSITE"),
        ("SHA1", "COMPOSITE"),
        ("SHA256", "COMPOSITE"),
        ("CRC32", "FULL_OBJECT"),
        ("CRC32C", "FULL_OBJECT"),
        ("CRC64NVME", "FULL_OBJECT"),
    ],
)
def test_multipart_checksums(alg: str, kind: str) -> None:
    parts = _parts(3)
    with open_store(None) as s:
        c = s.root
        c.create_bucket(BUCKET)
        uid, results = _upload(c, "mp", parts, checksum_algorithm=alg, checksum_type=kind)
        for r, p in zip(results, parts, strict=True):
            assert r.checksums == {alg: value(alg, p)}
        listed = c.list_parts(BUCKET, "mp", uid)
        assert [p.checksums for p in listed] == [r.checksums for r in results]
        assert (listed.checksum_algorithm, listed.checksum_type) == (alg, kind)
        done = c.complete_multipart_upload(BUCKET, "mp", uid, results)
        if kind == "COMPOSITE":
            raw = b"".join(base64.b64decode(value(alg, p)) for p in parts)
            want = f"{b64(checksums.digest(alg, raw))}-3"
        else:
            want = value(alg, b"".join(parts))
        assert done.checksums == {alg: want}
        head = c.head_object(BUCKET, "mp", checksum_mode=True)
        assert (head.checksums, head.checksum_type, head.parts_count) == ({alg: want}, kind, 3)


def test_multipart_default_type_and_checks() -> None:
    parts = _parts(2)
    with open_store(None) as s:
        c = s.root
        c.create_bucket(BUCKET)
        for alg, kind in (("SHA1", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")):
            with pytest.raises(InvalidRequest):
                c.create_multipart_upload(BUCKET, "x", checksum_algorithm=alg, checksum_type=kind)
        uid = c.create_multipart_upload(BUCKET, "mp", checksum_algorithm="CRC64NVME")
        # A part of another algorithm, or with a wrong value, is refused and not kept.
        with pytest.raises(InvalidRequest):
            c.upload_part(BUCKET, "mp", uid, 1, parts[0], checksum_algorithm="CRC32")
        with pytest.raises(InvalidRequest):
            c.upload_part(BUCKET, "mp", uid, 1, parts[0], checksums={"SHA1": b64(bytes(20))})
        with pytest.raises(BadDigest):
            c.upload_part(BUCKET, "mp", uid, 1, parts[0], checksums={"CRC64NVME": b64(bytes(8))})
        assert len(c.list_parts(BUCKET, "mp", uid)) == 0
        r1 = c.upload_part(
            BUCKET, "mp", uid, 1, parts[0], checksums={"CRC64NVME": crc("CRC64NVME", parts[0])}
        )
        r2 = c.upload_part(BUCKET, "mp", uid, 2, parts[1])  # computed when not supplied
        # A part checksum listed at completion must match.
        with pytest.raises(InvalidPart):
            c.complete_multipart_upload(
                BUCKET,
                "mp",
                uid,
                [
                    {"PartNumber": 1, "ETag": r1.etag, "ChecksumCRC64NVME": b64(bytes(8))},
                    {"PartNumber": 2, "ETag": r2.etag},
                ],
            )
        with pytest.raises(BadDigest):
            c.complete_multipart_upload(
                BUCKET, "mp", uid, [r1, r2], checksums={"CRC64NVME": b64(bytes(8))}
            )
        whole = crc("CRC64NVME", parts[0] + parts[1])
        done = c.complete_multipart_upload(
            BUCKET,
            "mp",
            uid,
            [(1, r1.etag), (2, r2.etag)],  # FULL_OBJECT: part checksums are optional
            checksums={"CRC64NVME": whole},
        )
        assert done.checksums == {"CRC64NVME": whole} and done.checksum_type == "FULL_OBJECT"


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_completion_needs_parts_numbered_from_one(alg: str) -> None:
    # S3: with a FULL_OBJECT checksum the completed parts are 1, 2, ... without a gap
    # (400 InvalidPartOrder); a COMPOSITE upload may skip numbers.
    p1, p2, last = _parts(3)
    with open_store(None) as s:
        c = s.root
        c.create_bucket(BUCKET)
        uid = c.create_multipart_upload(
            BUCKET, "mp", checksum_algorithm=alg, checksum_type="FULL_OBJECT"
        )
        r1, r2, r4 = (
            c.upload_part(BUCKET, "mp", uid, n, body) for n, body in ((1, p1), (2, p2), (4, last))
        )
        for chosen in ([r1, r2, r4], [r2, r4], [r2], [r4]):
            with pytest.raises(InvalidPartOrder) as err:
                c.complete_multipart_upload(BUCKET, "mp", uid, chosen)
            assert (err.value.code, err.value.http_status) == ("InvalidPartOrder", 400)
        assert [p.part_number for p in c.list_parts(BUCKET, "mp", uid)] == [1, 2, 4]
        done = c.complete_multipart_upload(BUCKET, "mp", uid, [r1, r2])
        assert done.checksums == {alg: crc(alg, p1 + p2)}
        assert c.get_object(BUCKET, "mp").read() == p1 + p2

        composite = "SHA256" if alg == "CRC64NVME" else alg
        uid = c.create_multipart_upload(BUCKET, "gaps", checksum_algorithm=composite)
        gaps = [c.upload_part(BUCKET, "gaps", uid, n, body) for n, body in ((2, p1), (5, last))]
        done = c.complete_multipart_upload(BUCKET, "gaps", uid, gaps)
        assert done.checksums[composite].endswith("-2")
        assert c.get_object(BUCKET, "gaps").read() == p1 + last


def test_composite_completion_lists_every_part_checksum() -> None:
    parts = _parts(2)
    with open_store(None) as s:
        c = s.root
        c.create_bucket(BUCKET)
        uid, results = _upload(c, "mp", parts, checksum_algorithm="SHA256")
        with pytest.raises(InvalidRequest):
            c.complete_multipart_upload(
                BUCKET, "mp", uid, [(r.part_number, r.etag) for r in results]
            )
        boto_style = [
            {"PartNumber": r.part_number, "ETag": r.etag, "ChecksumSHA256": r.checksums["SHA256"]}
            for r in results
        ]
        done = c.complete_multipart_upload(BUCKET, "mp", uid, boto_style)
        assert done.checksums["SHA256"].endswith("-2")


def test_upload_part_copy_gets_the_upload_checksum() -> None:
    data = os.urandom(PART + 100)
    with open_store(None) as s:
        c = s.root
        c.create_bucket(BUCKET)
        c.put_object(BUCKET, "src", data, checksum_algorithm="CRC32")
        c.put_object(BUCKET, "plain", data)
        uid = c.create_multipart_upload(
            BUCKET, "mp", checksum_algorithm="CRC32", checksum_type="FULL_OBJECT"
        )
        whole = c.upload_part_copy(BUCKET, "mp", uid, 1, BUCKET, "src")
        assert whole.checksums == {"CRC32": crc("CRC32", data)}
        plain = c.upload_part_copy(BUCKET, "mp", uid, 2, BUCKET, "plain")
        assert plain.checksums == {"CRC32": crc("CRC32", data)}
        ranged = c.upload_part_copy(BUCKET, "mp", uid, 3, BUCKET, "src", src_range=(10, 109))
        assert ranged.checksums == {"CRC32": crc("CRC32", data[10:110])}
        done = c.complete_multipart_upload(BUCKET, "mp", uid, [whole, plain, ranged])
        assert done.checksums == {"CRC32": crc("CRC32", data + data + data[10:110])}


def test_async_twin() -> None:
    async def main() -> None:
        async with aio.open(None) as s:
            c = s.root
            await c.create_bucket(BUCKET)

            async def body() -> object:
                yield b"abc"

            await c.put_object(
                BUCKET, "k", body(), checksums={"CRC32": crc("CRC32", b"abc")}, content_md5=None
            )
            head = await c.head_object(BUCKET, "k", checksum_mode=True)
            assert head.checksums == {"CRC32": crc("CRC32", b"abc")}
            got = await c.get_object(BUCKET, "k", checksum_mode=True)
            assert got.checksums == head.checksums  # type: ignore[attr-defined]
            await got.read()

    asyncio.run(main())


# ------------------------------------------------------------ older records


def test_records_written_before_the_new_fields_decode_with_defaults() -> None:
    old = VersionRecord(key="k", version_id="null", seq=1, mtime_ns=5, size=3, etag='"e"')
    raw = old.encode()
    tail = json.loads(raw[raw.index(b"{") :].split(b"}")[0] + b"}")
    assert set(tail) == {"k", "c"}  # what the earlier encoder wrote for this record
    back = VersionRecord.decode(raw)
    assert (back.tags, back.checksums, back.checksum_type, back.headers) == ({}, {}, None, {})
    up = UploadRecord.decode(b'{"k":"key","m":{"a":"1"},"t":"text/plain"}')
    assert (up.tags, up.headers, up.checksum_algorithm, up.checksum_type) == ({}, {}, None, None)
    part = PartRecord(bytes(16), 10, 1, None, bytes(32))
    assert len(part.encode()) == 81  # the earlier fixed size, unchanged without a checksum
    assert PartRecord.decode(part.encode()).checksum is None
    with_sum = PartRecord(bytes(16), 10, 1, None, bytes(32), ("CRC64NVME", bytes(range(8))))
    assert PartRecord.decode(with_sum.encode()) == with_sum
