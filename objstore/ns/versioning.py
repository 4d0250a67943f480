"""S3 versioning rules as pure decisions (no I/O).

The namespace asks these functions what a PUT or DELETE means in a bucket's
versioning state, then carries the answer out in one transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from objstore.errors import InvalidArgument

NULL = "null"
ENABLED = "Enabled"
SUSPENDED = "Suspended"


@dataclass(frozen=True, slots=True)
class WritePlan:
    """What a PUT (or a delete marker) does to a key's version stack."""

    null_version: bool  # the new version's id is "null"
    replaces_null: bool  # an existing "null" version is removed first


def put_plan(state: str | None) -> WritePlan:
    """A PUT: never-enabled and Suspended buckets write (and replace) the null version."""
    if state == ENABLED:
        return WritePlan(null_version=False, replaces_null=False)
    return WritePlan(null_version=True, replaces_null=True)


@dataclass(frozen=True, slots=True)
class DeletePlan:
    """What a DELETE without a version id does."""

    remove_null: bool  # remove the key's null version
    add_marker: bool  # then add a delete marker
    marker_is_null: bool  # ... whose id is "null"


def delete_plan(state: str | None) -> DeletePlan:
    """A DELETE without version id, by bucket state (see the reference's table)."""
    if state == ENABLED:
        return DeletePlan(remove_null=False, add_marker=True, marker_is_null=False)
    if state == SUSPENDED:
        return DeletePlan(remove_null=True, add_marker=True, marker_is_null=True)
    return DeletePlan(remove_null=True, add_marker=False, marker_is_null=False)


def check_transition(current: str | None, new: object) -> str:
    """Validate a versioning change; once enabled a bucket never returns to "never"."""
    if new not in (ENABLED, SUSPENDED):
        raise InvalidArgument(f"versioning status must be 'Enabled' or 'Suspended', not {new!r}")
    assert isinstance(new, str)
    return new


def new_version_id(seq: int) -> str:
    """An opaque version id that sorts with the store's sequence (32 hex digits)."""
    return f"{seq:016x}{os.urandom(8).hex()}"


def parse_version_id(version_id: object) -> int | None:
    """The sequence number inside a version id; None for "null".

    Raises InvalidArgument for something that is not a version id.
    """
    if version_id == NULL:
        return None
    if (
        isinstance(version_id, str)
        and len(version_id) == 32
        and all(c in "0123456789abcdef" for c in version_id)
    ):
        return int(version_id[:16], 16)
    raise InvalidArgument(f"invalid version id {version_id!r}")


def inv_seq(seq: int) -> bytes:
    """Big-endian inverted sequence: newer versions sort first."""
    return ((1 << 64) - 1 - seq).to_bytes(8, "big")


def seq_of(inv: bytes) -> int:
    return (1 << 64) - 1 - int.from_bytes(inv, "big")
