"""Helpers every GET runs: ``to_datetime`` (memoised) and ``check_read`` (a fast path
when the request names no condition)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objstore.errors import InvalidArgument, NotModified, PreconditionFailed
from objstore.ns import index
from objstore.ns.conditional import check_read
from objstore.ns.index import to_datetime


@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=50))
def test_to_datetime_is_fromtimestamp_however_often_asked(stamps: list[int]) -> None:
    for ns in stamps + stamps:
        assert to_datetime(ns) == datetime.fromtimestamp(ns / 1e9, tz=UTC)
        assert to_datetime(ns).tzinfo is UTC


def test_to_datetime_stays_bounded_and_right_past_its_bound() -> None:
    start = 1_764_612_345_000_000_000
    for i in range(index._DATETIMES_MAX + 10):
        ns = start + i * 1_000_000
        assert to_datetime(ns) == datetime.fromtimestamp(ns / 1e9, tz=UTC)
    assert len(index._DATETIMES) <= index._DATETIMES_MAX


_MTIME = datetime(2026, 12, 1, 18, 0, 0, 500_000, tzinfo=UTC)


def test_no_condition_passes() -> None:
    check_read('"abc"', _MTIME, if_match=None, if_none_match=None)


def test_conditions_still_apply() -> None:
    with pytest.raises(PreconditionFailed):
        check_read('"abc"', _MTIME, if_match='"other"', if_none_match=None)
    with pytest.raises(NotModified):
        check_read('"abc"', _MTIME, if_match=None, if_none_match='"abc"')
    with pytest.raises(NotModified):
        check_read(
            '"abc"',
            _MTIME,
            if_match=None,
            if_none_match=None,
            if_modified_since=_MTIME + timedelta(seconds=1),
        )
    with pytest.raises(PreconditionFailed):
        check_read(
            '"abc"',
            _MTIME,
            if_match=None,
            if_none_match=None,
            if_unmodified_since=_MTIME - timedelta(seconds=1),
        )
    with pytest.raises(InvalidArgument):
        check_read(
            '"abc"',
            _MTIME,
            if_match=None,
            if_none_match=None,
            if_modified_since="yesterday",  # type: ignore[arg-type]
        )
