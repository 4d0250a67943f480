"""Order-preserving key encoding (objstore.ns.keys)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.ns import keys

# Keys built from few characters (NUL included) so that prefixes collide often,
# with some longer than the cut so that long encodings appear.
_alphabet = st.sampled_from(["a", "b", "\x00", "/", "é", "\U0001f600", "\x01"])
_short = st.text(_alphabet, min_size=1, max_size=12)
_long = st.builds(lambda head, tail: "x" * (keys.CUT - 3) + head + tail, _short, _short)
_key = st.one_of(_short, _long)


def _order_key(k: str) -> bytes:
    return k.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.lists(_key, min_size=2, max_size=30, unique=True))
def test_encoding_order_matches_key_order_except_within_long_groups(ks: list[str]) -> None:
    """Sorting encodings sorts keys, up to reordering inside one long-key group."""
    by_encoding = sorted(ks, key=keys.encode_key)
    by_key = sorted(ks, key=_order_key)

    def group(k: str) -> bytes:
        e = keys.encode_key(k)
        return keys.long_group(e) if keys.is_long(e) else e

    # Replace each long key by its group head: the two orders then agree exactly.
    assert [group(k) for k in by_encoding] == [group(k) for k in by_key]


@settings(max_examples=200, deadline=None)
@given(_key)
def test_encoding_round_trips_and_fits_lmdb(k: str) -> None:
    """Short encodings decode back; every encoding leaves room in a 511-byte LMDB key."""
    e = keys.encode_key(k)
    assert len(e) <= keys.LONG_LEN
    if keys.is_long(e):
        assert keys.decode_key(e) is None
    else:
        assert keys.decode_key(e) == k


@settings(max_examples=200, deadline=None)
@given(_key, _short)
def test_prefix_bounds_cover_every_key_with_the_prefix(k: str, extra: str) -> None:
    """Every key starting with a prefix encodes inside the prefix's bounds."""
    prefix = k
    start, stop = keys.prefix_bound(prefix)
    for candidate in (k, k + extra):
        e = keys.encode_key(candidate)
        assert start <= e < stop


def test_nul_is_escaped_so_terminator_sorts_first() -> None:
    """'a' < 'a\\x00' < 'a\\x00b' < 'a\\x01' holds for the encodings too."""
    ordered = ["a", "a\x00", "a\x00b", "a\x01", "ab"]
    assert sorted(ordered, key=keys.encode_key) == ordered


def test_long_keys_are_unique_and_marked() -> None:
    """Two long keys sharing the cut head still encode differently."""
    a = "p" * 600 + "a"
    b = "p" * 600 + "b"
    ea, eb = keys.encode_key(a), keys.encode_key(b)
    assert ea != eb
    assert keys.is_long(ea) and keys.is_long(eb)
    assert keys.long_group(ea) == keys.long_group(eb)


def test_cut_never_splits_an_escape_pair() -> None:
    """A NUL at the cut moves the cut back one byte, keeping the pair whole."""
    k = "y" * (keys.CUT - 1) + "\x00" + "z" * 50
    e = keys.encode_key(k)
    assert keys.is_long(e)
    assert e[: keys.CUT - 1] == b"y" * (keys.CUT - 1)
    assert e[keys.CUT - 1 : keys.CUT + 1] == keys.LONG_MARKER
