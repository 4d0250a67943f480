"""ns.versioning: the pure decisions behind PUT and DELETE."""

from __future__ import annotations

import pytest

from objstore.errors import InvalidArgument
from objstore.ns import versioning as v


@pytest.mark.parametrize(
    ("state", "null_version", "replaces_null"),
    [(None, True, True), ("Enabled", False, False), ("Suspended", True, True)],
)
def test_put_plan(state: str | None, null_version: bool, replaces_null: bool) -> None:
    """Never-enabled and Suspended buckets write the null version; Enabled a new id."""
    plan = v.put_plan(state)
    assert (plan.null_version, plan.replaces_null) == (null_version, replaces_null)


@pytest.mark.parametrize(
    ("state", "remove_null", "add_marker", "marker_is_null"),
    [
        (None, True, False, False),
        ("Enabled", False, True, False),
        ("Suspended", True, True, True),
    ],
)
def test_delete_plan(
    state: str | None, remove_null: bool, add_marker: bool, marker_is_null: bool
) -> None:
    """The reference's table for DELETE without a version id."""
    plan = v.delete_plan(state)
    assert (plan.remove_null, plan.add_marker, plan.marker_is_null) == (
        remove_null,
        add_marker,
        marker_is_null,
    )


def test_version_ids_carry_their_sequence_and_sort_newest_first() -> None:
    """An id parses back to its sequence; inverted sequences sort newest first."""
    ids = [v.new_version_id(seq) for seq in (1, 2, 300)]
    assert [v.parse_version_id(i) for i in ids] == [1, 2, 300]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    assert v.inv_seq(300) < v.inv_seq(2) < v.inv_seq(1)
    assert v.seq_of(v.inv_seq(12345)) == 12345
    assert v.parse_version_id("null") is None


@pytest.mark.parametrize("bad", ["", "NULL", "xyz", "0" * 31, "g" * 32, None, 5])
def test_malformed_version_ids_are_invalid_argument(bad: object) -> None:
    """Anything that is not an id this store made is InvalidArgument."""
    with pytest.raises(InvalidArgument):
        v.parse_version_id(bad)


@pytest.mark.parametrize("bad", ["enabled", "Disabled", "", None, 1])
def test_versioning_status_values(bad: object) -> None:
    """Only Enabled and Suspended may be set (never back to unversioned)."""
    assert v.check_transition(None, "Enabled") == "Enabled"
    assert v.check_transition("Enabled", "Suspended") == "Suspended"
    with pytest.raises(InvalidArgument):
        v.check_transition("Enabled", bad)
