"""ns.uploads.check_completion: the order rules of a part list, against a model."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from objstore.errors import InvalidPart, InvalidPartOrder
from objstore.ns.uploads import PartRecord, check_completion

SIZE = 10


def _part(number: int) -> PartRecord:
    return PartRecord(
        data_id=number.to_bytes(16, "big"),
        size=SIZE,
        mtime_ns=0,
        md5=number.to_bytes(16, "big"),
        blake3=bytes(32),
    )


@given(
    numbers=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    consecutive=st.booleans(),
)
def test_order_rules(numbers: list[int], consecutive: bool) -> None:
    """Numbers not strictly ascending are InvalidPartOrder; with ``consecutive`` (a
    FULL_OBJECT checksum) so is any list but 1..n; otherwise the listed parts join in order."""
    stored = {n: _part(n) for n in set(numbers)}
    listed = [(n, _part(n).etag()) for n in numbers]
    ascending = all(a < b for a, b in itertools.pairwise(numbers))
    gapless = numbers == list(range(1, len(numbers) + 1))
    try:
        chosen = check_completion(
            listed, stored, min_part_size=SIZE, max_object_size=10**9, consecutive=consecutive
        )
    except InvalidPartOrder:
        assert not ascending or (consecutive and not gapless)
    else:
        assert ascending and (gapless or not consecutive)
        assert chosen == [stored[n] for n in numbers]


@given(st.lists(st.integers(1, 40), min_size=1, max_size=12, unique=True))
def test_order_is_checked_before_the_parts(numbers: list[int]) -> None:
    """A gap is refused as InvalidPartOrder even when a listed part was never uploaded
    (S3 checks the list's order first); without the rule the missing part is InvalidPart."""
    numbers.sort()
    listed = [(n, _part(n).etag()) for n in numbers]
    stored = {n: _part(n) for n in numbers[:-1]}  # the last one missing
    gapless = numbers == list(range(1, len(numbers) + 1))
    for consecutive in (True, False):
        try:
            check_completion(
                listed, stored, min_part_size=SIZE, max_object_size=10**9, consecutive=consecutive
            )
        except InvalidPartOrder:
            assert consecutive and not gapless
        except InvalidPart:
            assert gapless or not consecutive
        else:
            raise AssertionError("a missing part was accepted")
