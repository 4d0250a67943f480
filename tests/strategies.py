"""Hypothesis strategies shared by the storage tests.

Keys come from a small alphabet so prefixes and delimiters collide often; it
mixes ASCII, the delimiter, a NUL, and 2-, 3- and 4-byte UTF-8 characters
(whose code-point order must equal UTF-8 byte order in listings). Some keys
share a head longer than the 400-byte cut of the LMDB key encoding, which is
where long-key ordering could go wrong.
"""

from __future__ import annotations

from hypothesis import strategies as st

# One character per UTF-8 width, plus the delimiter and NUL (escaped in encodings).
ALPHABET = ["a", "b", "/", "\x00", "é", "\u20ac", "\U0001f600", "~"]

# A head longer than the long-key cut (400 escaped bytes), shared by "long" keys.
LONG_HEAD = "L/" + "h" * 420

short_keys = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=6)
long_keys = st.builds(lambda tail: LONG_HEAD + tail, short_keys)
keys = st.one_of(short_keys, short_keys, long_keys)

prefixes = st.one_of(
    st.just(""),
    st.text(st.sampled_from(ALPHABET), min_size=1, max_size=2),
    st.just(LONG_HEAD[:2]),
    st.just(LONG_HEAD),
)
delimiters = st.sampled_from([None, "/", "é", "ab"])
page_sizes = st.integers(min_value=1, max_value=7)

# Bodies around the 1 KiB inline threshold of the test stores, and empty ones.
small_bodies = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=1000, max_size=1100),
)


def utf8_order(key: str) -> bytes:
    """The sort key S3 lists by."""
    return key.encode("utf-8")


def list_model(
    keys: set[str] | list[str],
    prefix: str = "",
    delimiter: str | None = None,
    start_after: str | None = None,
) -> list[tuple[str, str]]:
    """What ListObjectsV2 returns over all pages: ``("key", k)`` / ``("prefix", p)`` items.

    Keys in UTF-8 byte order after ``start_after``, folded into common
    prefixes. A prefix appears if a key under it comes after ``start_after``
    and the prefix itself sorts after ``start_after``: AWS's ListObjectsV2
    reference (Delimiter) says "CommonPrefixes is filtered out from results if
    it is not lexicographically greater than the StartAfter value".
    """
    out: list[tuple[str, str]] = []
    for k in sorted(set(keys), key=utf8_order):
        if not k.startswith(prefix) or (start_after is not None and k <= start_after):
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[: i + len(delimiter)]
                if start_after is not None and cp <= start_after:
                    continue
                if not out or out[-1] != ("prefix", cp):
                    out.append(("prefix", cp))
                continue
        out.append(("key", k))
    return out
