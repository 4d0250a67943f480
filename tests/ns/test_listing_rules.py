"""ns.listing without any store: a sorted list of encodings stands in for the index."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import InvalidArgument
from objstore.ns import keys, listing

BASE = b"L" + b"bucket" + keys.SEP


def _index(all_keys: list[str]) -> listing.Scan:
    """A scan over BASE + encoding -> value (the value holds the key, as summaries do)."""
    rows = sorted((BASE + keys.encode_key(k), k.encode()) for k in set(all_keys))
    raw = [r[0] for r in rows]

    def scan(start: bytes) -> Iterator[tuple[bytes, bytes]]:
        yield from rows[bisect.bisect_left(raw, start) :]

    return scan


def _page_all(all_keys: list[str], prefix: str, delimiter: str | None, size: int) -> list[str]:
    scan = _index(all_keys)
    out: list[str] = []
    after = None
    for _ in range(10_000):
        page = listing.list_page(
            scan,
            base=BASE,
            long_key_of=lambda v: v.decode(),
            prefix=prefix,
            delimiter=delimiter,
            max_keys=size,
            after=after,
        )
        out += [k for k, _ in page.entries] + [f"PRE:{p}" for p in page.common_prefixes]
        assert len(page.entries) + len(page.common_prefixes) <= size
        if not page.is_truncated:
            return out
        after = page.last
    raise AssertionError("pagination did not end")


def _model(all_keys: list[str], prefix: str, delimiter: str | None) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for k in sorted(set(all_keys), key=lambda s: s.encode()):
        if not k.startswith(prefix):
            continue
        i = k.find(delimiter, len(prefix)) if delimiter else -1
        if i >= 0:
            cp = k[: i + len(delimiter or "")]
            if cp not in seen:
                seen.add(cp)
                out.append(f"PRE:{cp}")
        else:
            out.append(k)
    return out


_chars = st.sampled_from(["a", "b", "/", "é", "\x00", "z"])
_key = st.one_of(
    st.text(_chars, min_size=1, max_size=8),
    st.builds(lambda t: "L" * 398 + t, st.text(_chars, min_size=1, max_size=6)),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_key, min_size=0, max_size=40),
    st.sampled_from(["", "a", "a/", "L" * 398]),
    st.sampled_from([None, "/", "b"]),
    st.integers(min_value=1, max_value=7),
)
def test_paged_listing_equals_the_model(
    all_keys: list[str], prefix: str, delimiter: str | None, size: int
) -> None:
    """Any page size gives the model's keys and common prefixes, each in byte order, once."""
    got = _page_all(all_keys, prefix, delimiter, size)
    want = _model(all_keys, prefix, delimiter)
    # S3 returns Contents and CommonPrefixes as separate lists: compare each in order.
    assert [k for k in got if not k.startswith("PRE:")] == [
        k for k in want if not k.startswith("PRE:")
    ]
    assert [k for k in got if k.startswith("PRE:")] == [k for k in want if k.startswith("PRE:")]


def test_max_keys_zero_is_an_empty_untruncated_page() -> None:
    """max_keys=0 returns nothing and is not truncated (S3)."""
    page = listing.list_page(
        _index(["a", "b"]),
        base=BASE,
        long_key_of=lambda v: v.decode(),
        prefix="",
        delimiter=None,
        max_keys=0,
        after=None,
    )
    assert page.entries == [] and not page.is_truncated


def test_tokens_round_trip_and_reject_forgeries() -> None:
    """A token decodes to what was encoded; anything else is InvalidArgument."""
    token = listing.encode_token("dir/é", True)
    assert listing.decode_token(token) == ("dir/é", True)
    for bad in ("", "not-a-token", listing.encode_token("x", False)[:-2] + "!!"):
        with pytest.raises(InvalidArgument):
            listing.decode_token(bad)


@pytest.mark.parametrize("value", [-1, 1.5, "10", None, True])
def test_max_keys_must_be_a_non_negative_int(value: object) -> None:
    """Bad max_keys values are InvalidArgument; big ones are capped at 1000."""
    with pytest.raises(InvalidArgument):
        listing.check_max_keys(value)
    assert listing.check_max_keys(5000) == 1000


def _grouped_index(entries: list[tuple[str, int]]) -> listing.Scan:
    """BASE + encoding + 1-byte entry number -> key + number (several entries a key)."""
    rows = sorted(
        (BASE + keys.encode_key(k) + bytes((n,)), k.encode() + bytes((n,))) for k, n in entries
    )
    raw = [r[0] for r in rows]

    def scan(start: bytes) -> Iterator[tuple[bytes, bytes]]:
        yield from rows[bisect.bisect_left(raw, start) :]

    return scan


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_key, st.integers(0, 2)), min_size=0, max_size=30, unique=True),
    st.sampled_from(["", "a", "a/", "L" * 398]),
    st.sampled_from([None, "/", "b"]),
    st.integers(min_value=1, max_value=7),
)
def test_grouped_pages_resume_at_their_markers(
    entries: list[tuple[str, int]], prefix: str, delimiter: str | None, size: int
) -> None:
    """Pages over several entries per key, resumed at (key, entry) or at a common prefix,
    give every entry once, in (key, entry) order, with each common prefix once."""
    scan = _grouped_index(entries)
    got: list[str] = []
    after_key: str | None = None
    after_n: int | None = None
    for _ in range(10_000):
        page = listing.grouped_page(
            scan,
            base=BASE,
            suffix=1,
            long_key_of=lambda v: v[:-1].decode(),
            prefix=prefix,
            delimiter=delimiter,
            max_items=size,
            after_key=after_key,
            after_suffix=None if after_n is None else bytes((after_n,)),
        )
        assert len(page.entries) + len(page.common_prefixes) <= size
        got += [f"{k}#{v[-1]}" for k, v in page.entries]
        got += [f"PRE:{p}" for p in page.common_prefixes]
        if not page.is_truncated:
            break
        assert page.last is not None
        after_key, is_prefix = page.last
        after_n = None if is_prefix else page.entries[-1][1][-1]
    else:
        raise AssertionError("pagination did not end")
    want: list[str] = []
    for k in _model([k for k, _ in entries], prefix, delimiter):
        want += (
            [k] if k.startswith("PRE:") else [f"{k}#{n}" for kk, n in sorted(entries) if kk == k]
        )
    assert [g for g in got if not g.startswith("PRE:")] == [
        w for w in want if not w.startswith("PRE:")
    ]
    assert sorted(g for g in got if g.startswith("PRE:")) == sorted(
        w for w in want if w.startswith("PRE:")
    )
