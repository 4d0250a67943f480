"""Bit rot: damaged or missing chunk files raise DataCorruption, never NoSuchKey."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import blake3
import pytest
from conftest import BUCKET, CHUNK, chunk_files, chunk_path

import objstore
from objstore.errors import DataCorruption, NoSuchKey

N_CHUNKS = 5
DATA = (
    b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() * (CHUNK // 32) for i in range(N_CHUNKS))
    + b"tail"
)


def chunk_name(index: int) -> str:
    """The file name of chunk ``index`` of DATA (fixed 64 KiB chunking)."""
    return blake3.blake3(DATA[index * CHUNK : (index + 1) * CHUNK]).hexdigest()


@pytest.fixture
def rotten(disk_store: objstore.Store) -> objstore.Store:
    disk_store.root.create_bucket(BUCKET)
    disk_store.root.put_object(BUCKET, "k", DATA)
    assert chunk_files(disk_store) == {chunk_name(i) for i in range(N_CHUNKS + 1)}
    return disk_store


def flip_byte(path: str, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def truncate(path: str, offset: int) -> None:
    os.truncate(path, offset)


def remove(path: str, offset: int) -> None:
    os.unlink(path)


DAMAGE: dict[str, Callable[[str, int], None]] = {
    "flip": flip_byte,
    "truncate": truncate,
    "delete": remove,
}


def read(store: objstore.Store, **kwargs: object) -> bytes:
    with store.root.get_object(BUCKET, "k", **kwargs) as b:  # type: ignore[arg-type]
        return b.read()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("index", [0, 2, N_CHUNKS - 1])
def test_damaged_chunk_raises_data_corruption(
    rotten: objstore.Store, damage: str, index: int
) -> None:
    DAMAGE[damage](chunk_path(rotten, chunk_name(index)), 1234)
    with pytest.raises(DataCorruption) as exc:
        read(rotten)
    # Corrupted data must never look like missing data.
    assert not isinstance(exc.value, LookupError)
    assert exc.value.http_status == 500
    with pytest.raises(DataCorruption), rotten.root.get_object(BUCKET, "k") as b:
        for _ in b:
            pass
    # A range over the damaged chunk fails; one elsewhere still reads.
    lo = index * CHUNK
    with pytest.raises(DataCorruption):
        read(rotten, range=(lo + 10, lo + 20))
    other = (index + 1) % N_CHUNKS
    assert (
        read(rotten, range=(other * CHUNK, other * CHUNK + 99))
        == DATA[other * CHUNK : other * CHUNK + 100]
    )
    # The object still exists: its metadata and listing are intact.
    assert rotten.root.head_object(BUCKET, "k").size == len(DATA)
    assert [o.key for o in rotten.root.list_objects(BUCKET).contents] == ["k"]


def test_damaged_tail_chunk(rotten: objstore.Store) -> None:
    flip_byte(chunk_path(rotten, chunk_name(N_CHUNKS)), 0)
    with pytest.raises(DataCorruption):
        read(rotten)
    assert read(rotten, range=(0, 9)) == DATA[:10]


def test_shared_chunk_damage_affects_every_holder(rotten: objstore.Store) -> None:
    rotten.root.create_bucket("other")
    rotten.root.copy_object(BUCKET, "k", "other", "copy")
    rotten.root.put_object(BUCKET, "dup", DATA[: 2 * CHUNK])
    flip_byte(chunk_path(rotten, chunk_name(1)), 99)
    for bucket, key in ((BUCKET, "k"), ("other", "copy"), (BUCKET, "dup")):
        with pytest.raises(DataCorruption), rotten.root.get_object(bucket, key) as b:
            b.read()


def test_undamaged_store_reads_back(rotten: objstore.Store) -> None:
    assert read(rotten) == DATA
    with pytest.raises(NoSuchKey):
        rotten.root.get_object(BUCKET, "absent")


def test_a_damaged_inline_body_is_data_corruption_and_fsck_lists_it(
    tmp_path: os.PathLike[str],
) -> None:
    """Review 10b, R4: bodies small enough to live in their version record were served as
    stored, so a flipped bit in data.mdb came back as the object with no error, and fsck
    called the store healthy. Every holder of the body now checks it against its BLAKE3."""
    path = os.path.join(tmp_path, "s")
    payload = b"inline body " + hashlib.sha256(b"R4").hexdigest().encode()  # 76 bytes
    s = objstore.open(path, gc_interval=None)
    s.root.create_bucket(BUCKET)
    s.root.put_object(BUCKET, "small", payload)
    s.root.put_object(BUCKET, "other", b"untouched")
    s.close()
    data_file = os.path.join(path, "meta", "data.mdb")
    with open(data_file, "r+b") as f:
        raw = f.read()
        found, at = [], raw.find(payload)
        while at >= 0:
            found.append(at)
            at = raw.find(payload, at + 1)
        assert found  # the body is stored inline, in the record
        for at in found:  # every copy LMDB keeps (its pages are copy-on-write)
            f.seek(at + 20)
            f.write(bytes([raw[at + 20] ^ 0x01]))
    s = objstore.open(path, gc_interval=None)
    try:
        with pytest.raises(DataCorruption, match="small"):
            s.root.get_object(BUCKET, "small").read()
        with pytest.raises(DataCorruption):
            s.root.get_object(BUCKET, "small", range="bytes=0-3").read()
        with pytest.raises(DataCorruption):
            s.root.get_object(BUCKET, "small", checksum_mode=True).read()
        up = s.root.create_multipart_upload(BUCKET, "copied")
        with pytest.raises(DataCorruption):
            s.root.upload_part_copy(BUCKET, "copied", up, 1, BUCKET, "small")
        assert s.root.get_object(BUCKET, "other").read() == b"untouched"
        assert s.root.head_object(BUCKET, "small").size == len(payload)
        assert s.fsck(verify_data=False).healthy  # the bodies are what it skips
        r = s.fsck()
        assert not r.healthy and r.inconsistencies == 1
        assert f"{BUCKET}/small" in r.inconsistent[0] and "does not match" in r.inconsistent[0]
    finally:
        s.close()
