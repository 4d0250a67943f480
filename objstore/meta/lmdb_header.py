"""Check an LMDB ``data.mdb`` against its own header before it is mapped.

LMDB maps the data file and trusts it: a file cut short makes page reads past
its end fault with SIGBUS (the process dies, no exception), and an empty or
missing file silently becomes a new, empty environment. So before opening, the
two meta pages are read with plain ``read()`` and checked: flags, magic,
version, page size, and that every page the newest meta page claims
(``last_pg``) lies inside the file.

Meta page layout (LMDB 0.9, 64-bit; ``mdb.c``): a 16-byte page header
(``pgno`` u64, pad u16, flags u16, lower/upper u16), then ``MDB_meta``: magic
u32, version u32, address u64, mapsize u64, two ``MDB_db`` records of 48 bytes
(the free-list db's ``md_pad`` holds the page size), ``last_pg`` u64, ``txnid`` u64.
Page 0 and page 1 (at offset page-size) are the two meta pages.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

MAGIC = 0xBEEFC0DE
DATA_VERSION = 1
P_META = 0x08
P_INVALID = (1 << 64) - 1  # a db with no root page

_PAGE_HEAD = struct.Struct("<QHHHH")  # pgno, pad, flags, lower, upper
_META = struct.Struct("<IIQQ")  # magic, version, address, mapsize
_DB = struct.Struct("<IHHQQQQQ")  # pad, flags, depth, branch, leaf, overflow, entries, root
_TAIL = struct.Struct("<QQ")  # last_pg, txnid
_META_END = 16 + _META.size + 2 * _DB.size + _TAIL.size  # 152 bytes


class HeaderError(Exception):
    """The file is not a whole LMDB data file (message says why)."""


@dataclass(frozen=True, slots=True)
class Meta:
    """One decoded meta page."""

    page_size: int
    map_size: int
    last_page: int
    txnid: int
    roots: tuple[int, int]


def _decode(raw: bytes, pgno: int) -> Meta:
    if len(raw) < _META_END:
        raise HeaderError(f"meta page {pgno} is cut short")
    got_pgno, _pad, flags, _lo, _up = _PAGE_HEAD.unpack_from(raw, 0)
    magic, version, _addr, map_size = _META.unpack_from(raw, 16)
    if magic != MAGIC:
        raise HeaderError(f"meta page {pgno} has no LMDB magic number")
    if not flags & P_META or got_pgno != pgno:
        raise HeaderError(f"meta page {pgno} is not marked as a meta page")
    if version != DATA_VERSION:
        raise HeaderError(f"meta page {pgno} has LMDB format version {version}")
    free = _DB.unpack_from(raw, 16 + _META.size)
    main = _DB.unpack_from(raw, 16 + _META.size + _DB.size)
    last_page, txnid = _TAIL.unpack_from(raw, 16 + _META.size + 2 * _DB.size)
    page_size = free[0]
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise HeaderError(f"meta page {pgno} records an impossible page size {page_size}")
    return Meta(page_size, map_size, last_page, txnid, (free[7], main[7]))


def check_data_file(path: str) -> Meta | None:
    """Validate ``path`` (a ``data.mdb``); None when it is missing or empty.

    Returns the newest meta page. Raises HeaderError when the file is not a
    whole LMDB data file, OSError when it cannot be read.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        first = _decode(os.pread(fd, _META_END, 0), 0)
        second = _decode(os.pread(fd, _META_END, first.page_size), 1)
    finally:
        os.close(fd)
    # LMDB uses the meta page with the larger transaction id.
    meta = second if second.txnid > first.txnid else first
    need = (meta.last_page + 1) * first.page_size
    if meta.last_page < 1 or need > size:
        raise HeaderError(
            f"the file holds {size} bytes but its header needs {need} "
            f"({meta.last_page + 1} pages of {first.page_size}): it was truncated"
        )
    if meta.map_size < need:
        raise HeaderError(f"the recorded map size {meta.map_size} is smaller than the data")
    for root in meta.roots:
        if root != P_INVALID and not 2 <= root <= meta.last_page:
            raise HeaderError(f"a root page {root} lies outside the data")
    return meta
