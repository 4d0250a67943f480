"""The work of one listing page is bounded (review rev11gen M1, M2, L3).

Counted, never timed: record decodes (by wrapping the decoders the listings call)
and the memory a page holds (tracemalloc). Long keys (over 400 escaped bytes) that
share their first 400 bytes form a group stored in hash order (docs/architecture.md).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUCKET, open_store

import objstore
from objstore.ns import lists
from objstore.ns.records import VersionRecord

HEAD = "L/" + "h" * 420  # longer than the cut: every key under it is in one group


def _count_summaries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = lists.decode_summary

    def counting(raw: bytes) -> tuple[int, int, int, str, str]:
        calls[0] += 1
        return real(raw)

    monkeypatch.setattr(lists, "decode_summary", counting)
    return calls


def _count_records(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real: Callable[[bytes], VersionRecord] = VersionRecord.decode

    def counting(cls: type[VersionRecord], raw: bytes) -> VersionRecord:
        calls[0] += 1
        return real(raw)

    monkeypatch.setattr(VersionRecord, "decode", classmethod(counting))
    real_key = lists.version_key

    def counting_key(raw: bytes) -> str:
        calls[0] += 1
        return real_key(raw)

    monkeypatch.setattr(lists, "version_key", counting_key)
    return calls


def test_delimiter_pages_over_a_long_key_group_read_it_once_each(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M1: each common prefix used to re-read the whole group from its head, so a page
    of P prefixes decoded P x group records; now a page reads the group once."""
    root = store.root
    root.create_bucket(BUCKET)
    n, size = 120, 40
    root.put_objects(BUCKET, [(f"{HEAD}{i:04d}/x", b"") for i in range(n)])
    want = [f"{HEAD}{i:04d}/" for i in range(n)]
    calls = _count_summaries(monkeypatch)
    got: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = root.list_objects(
            BUCKET, prefix=HEAD, delimiter="/", max_keys=size, continuation_token=token
        )
        pages += 1
        got += page.common_prefixes
        if not page.is_truncated:
            break
        token = page.next_continuation_token
    assert got == want and pages == n // size
    assert calls[0] <= pages * n  # was about pages * size * n
    # ListObjectVersions: the same, one version record decoded per key and page.
    records = _count_records(monkeypatch)
    vgot: list[str] = []
    km: str | None = None
    while True:
        vpage = root.list_object_versions(
            BUCKET, prefix=HEAD, delimiter="/", max_keys=size, key_marker=km
        )
        vgot += vpage.common_prefixes
        if not vpage.is_truncated:
            break
        km = vpage.next_key_marker
    assert vgot == want
    assert records[0] <= pages * n


def test_a_version_page_in_a_long_key_group_holds_no_bodies_it_does_not_return(
    tmp_path: Path,
) -> None:
    """M2: a page reaching a group loaded every version record of it, inline bodies
    included, to sort them; now it keeps ``max_keys + 1`` keys, never a body it does
    not return. On LMDB, whose reads are copies, so what a page holds shows."""
    store = open_store(tmp_path / "s")
    try:
        root = store.root
        root.create_bucket(BUCKET)
        n, body = 200, 1000  # inline (below the tests' 1 KiB threshold)
        root.put_objects(BUCKET, [(f"{HEAD}{i:04d}", bytes([i % 251]) * body) for i in range(n)])
        root.list_object_versions(BUCKET, max_keys=1)  # warm up caches and imports
        tracemalloc.start()
        try:
            page = root.list_object_versions(BUCKET, max_keys=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert [v.key for v in page.versions] == [f"{HEAD}0000"] and page.is_truncated
        assert peak < n * body // 4  # was above n * body: every body at once
    finally:
        store.close()


@pytest.mark.parametrize("key", ["hot", HEAD + "hot"], ids=["short", "long"])
def test_version_pages_of_one_key_seek_to_their_marker(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """L3: resuming inside a key decoded its versions from the newest until the marker,
    so the last pages of a hot key cost O(versions); now each page decodes about what
    it returns."""
    root = store.root
    root.create_bucket(BUCKET)
    root.put_bucket_versioning(BUCKET, "Enabled")
    n, size = 300, 30
    for start in range(0, n, 100):
        root.put_objects(BUCKET, [(key, b"%d" % i) for i in range(start, start + 100)])
    records = _count_records(monkeypatch)
    seen: list[str] = []
    km: str | None = None
    vm: str | None = None
    while True:
        before = records[0]
        page = root.list_object_versions(BUCKET, key_marker=km, version_id_marker=vm, max_keys=size)
        seen += [v.version_id for v in page.versions]
        assert records[0] - before <= 2 * size + 2  # was up to n + size on the last page
        if not page.is_truncated:
            break
        km, vm = page.next_key_marker, page.next_version_id_marker
    assert len(seen) == len(set(seen)) == n
    newest = root.list_object_versions(BUCKET, max_keys=n)
    assert seen == [v.version_id for v in newest.versions]
