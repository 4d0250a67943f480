"""Inline bodies are checked against their record's CRC32, or its BLAKE3 checksum for
records written before the CRC (objstore/ns/inline.py; review 10b, R4)."""

from __future__ import annotations

import os
import zlib
from dataclasses import replace

import blake3
import pytest

from objstore.errors import DataCorruption
from objstore.ns.inline import inline_body
from objstore.ns.records import VersionRecord


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4095, 4096, 9000])
def test_old_and_new_records_are_checked(size: int) -> None:
    body = os.urandom(size)
    old = VersionRecord("k", "v", 1, 0, inline=body, checksum=blake3.blake3(body).hexdigest())
    new = replace(old, inline_crc=zlib.crc32(body))
    for rec in (old, new, VersionRecord.decode(new.encode()), VersionRecord.decode(old.encode())):
        assert inline_body(rec) == body
        if size:
            flipped = bytes([body[0] ^ 1]) + body[1:]
            with pytest.raises(DataCorruption, match="no longer matches"):
                inline_body(replace(rec, inline=flipped))
    assert VersionRecord.decode(new.encode()).inline_crc == zlib.crc32(body)
    assert VersionRecord.decode(old.encode()).inline_crc is None
    with pytest.raises(DataCorruption):  # a damaged checksum field is damage too
        inline_body(replace(old, checksum="0" * 64))
