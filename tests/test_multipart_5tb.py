"""The 5 TB promise: 1,000 copied 5 GiB parts joined into one object, read byte-exact.

The source is 5 GiB of one repeating 1 MiB block, streamed from an iterator
(never held in memory); deduplication keeps it to a single 4 MiB chunk on
disk. Copying it whole into 1,000 parts and completing them is metadata work
only, so the whole test costs about one 5 GiB ingest.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

import objstore

GIB = 1024**3
BLOCK = 1024 * 1024
PART = 5 * GIB
PARTS = 1000
BUCKET = "huge"


def repeated(block: bytes, total: int) -> Iterator[bytes]:
    for _ in range(total // len(block)):
        yield block


def expected(block: bytes, first: int, last: int) -> bytes:
    """Bytes first..last of the endless repetition of ``block``."""
    n = last - first + 1
    start = first % len(block)
    reps = (start + n) // len(block) + 1
    return (block * reps)[start : start + n]


@pytest.mark.slow
def test_five_terabyte_object_from_copied_parts(tmp_path: Path) -> None:
    block = random.Random(5).randbytes(BLOCK)
    with objstore.open(tmp_path / "s") as store:
        c = store.root
        c.create_bucket(BUCKET)
        src = c.put_object(BUCKET, "src", repeated(block, PART), content_length=PART)
        assert src.size == PART
        uid = c.create_multipart_upload(BUCKET, "5tb")
        parts = [
            c.upload_part_copy(BUCKET, "5tb", uid, n, BUCKET, "src") for n in range(1, 1 + PARTS)
        ]
        assert {p.etag for p in parts} == {src.etag}
        out = c.complete_multipart_upload(BUCKET, "5tb", uid, parts)
        total = PART * PARTS
        assert out.size == total == c.head_object(BUCKET, "5tb").size
        digest = hashlib.md5(bytes.fromhex(src.etag.strip('"')) * PARTS).hexdigest()
        assert out.etag == f'"{digest}-{PARTS}"'
        assert total > 4.9 * 1000**4  # 5 TB (5,000 GiB)
        for first, last in [
            (0, 100),  # first part
            (PART - 50, PART + 50),  # across the first part boundary
            (500 * PART + 12_345_678, 500 * PART + 12_345_678 + 3 * BLOCK),  # middle part
            (total - 2 * BLOCK - 7, total - 1),  # end of the last part
        ]:
            with c.get_object(BUCKET, "5tb", range=(first, last)) as body:
                assert body.read() == expected(block, first, last), (first, last)
        # Deduplication: the whole store is a few MiB of chunks.
        stored = sum(
            os.path.getsize(os.path.join(d, f))
            for d, _, files in os.walk(tmp_path / "s" / "chunks")
            for f in files
        )
        assert stored < 64 * 1024 * 1024
