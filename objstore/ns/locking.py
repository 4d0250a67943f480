"""S3 Object Lock as pure rules (no I/O): retention modes, retain-until dates, legal holds,
a bucket's default retention, and what each of them forbids.

A version under an active retention (its retain-until date not yet passed) or a legal hold
cannot be removed: GOVERNANCE yields to a request that asks to bypass it (and was allowed
``s3:BypassGovernanceRetention``), COMPLIANCE to nothing but time, a legal hold only to
being turned off. A retention may be extended freely; shortening it, changing its mode or
removing it is a bypass of GOVERNANCE and never possible under COMPLIANCE.

Dates are kept as whole milliseconds since the epoch, UTC (S3's precision): a date read
back and written again is the same date, never a shortening.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from objstore.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidRequest,
    InvalidRetentionPeriod,
    MalformedXML,
)

GOVERNANCE = "GOVERNANCE"
COMPLIANCE = "COMPLIANCE"
MODES = (GOVERNANCE, COMPLIANCE)
ON = "ON"
OFF = "OFF"
ENABLED = "Enabled"
MS_PER_DAY = 86_400_000
# objstore's bounds on a default retention (S3 documents none; datetimes end in 9999).
MAX_DAYS = 36_500
MAX_YEARS = 100

# The condition keys of requests that set a lock (IAM's s3:object-lock-* keys).
MODE_KEY = "s3:object-lock-mode"
UNTIL_KEY = "s3:object-lock-retain-until-date"
REMAINING_KEY = "s3:object-lock-remaining-retention-days"
HOLD_KEY = "s3:object-lock-legal-hold"


@dataclass(frozen=True, slots=True)
class Lock:
    """The lock of one version: its retention (mode and retain-until date, both or
    neither) and its legal hold (None: never set, as S3 reports it)."""

    mode: str | None = None
    until_ms: int | None = None
    legal_hold: bool | None = None

    @property
    def empty(self) -> bool:
        return self.mode is None and self.legal_hold is None

    def retained(self, now_ns: int) -> bool:
        """Whether the retention is still in force at ``now_ns``."""
        return self.until_ms is not None and self.until_ms * 1_000_000 > now_ns


NO_LOCK = Lock()


@dataclass(frozen=True, slots=True)
class DefaultRetention:
    """A bucket's default retention: mode and a period in days or in years."""

    mode: str
    days: int | None = None
    years: int | None = None


# ------------------------------------------------------------------ values


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch of ``when`` (naive: UTC), truncated."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The UTC datetime of ``ms`` milliseconds since the epoch."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def iso(ms: int) -> str:
    """S3's ISO 8601 form of a retain-until date: ``2030-01-01T00:00:00.000Z``."""
    when = from_ms(ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_date(value: object, name: str) -> int:
    """A retain-until date (a datetime, naive meaning UTC, or ISO 8601 text) in ms.

    Raises InvalidArgument."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidArgument(
                f"{name} must be an ISO 8601 date", ArgumentName=name, ArgumentValue=value
            ) from None
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{name} must be a date", ArgumentName=name)
    try:
        return to_ms(value)
    except OverflowError:
        raise InvalidArgument(f"{name} is out of range", ArgumentName=name) from None


def check_mode(mode: object, *, error: type[InvalidArgument | MalformedXML]) -> str:
    """A retention mode as S3 spells it (upper case). Raises ``error``."""
    if mode not in MODES:
        raise error(f"the retention mode must be GOVERNANCE or COMPLIANCE, not {mode!r}")
    assert isinstance(mode, str)
    return mode


def check_hold(status: object, *, error: type[InvalidArgument | MalformedXML]) -> bool:
    """A legal hold status (``"ON"``/``"OFF"``; a bool is taken too). Raises ``error``."""
    if isinstance(status, bool):
        return status
    if status not in (ON, OFF):
        raise error(f"the legal hold status must be ON or OFF, not {status!r}")
    return status == ON


def hold_status(hold: bool | None) -> str | None:
    return None if hold is None else (ON if hold else OFF)


def requested(
    mode: object, until: object, legal_hold: object, *, now_ns: int, bucket_locked: bool
) -> Lock:
    """The lock a write asks for (``x-amz-object-lock-*``): mode and date together or
    neither, the date in the future, in a bucket with Object Lock.

    Raises InvalidArgument, InvalidRequest (a bucket without Object Lock)."""
    if mode is None and until is None and legal_hold is None:
        return NO_LOCK
    if not bucket_locked:
        raise InvalidRequest("Bucket is missing Object Lock Configuration")
    if (mode is None) != (until is None):
        raise InvalidArgument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
        )
    hold = None if legal_hold is None else check_hold(legal_hold, error=InvalidArgument)
    if mode is None:
        return Lock(legal_hold=hold)
    checked = check_mode(mode, error=InvalidArgument)
    until_ms = parse_date(until, "x-amz-object-lock-retain-until-date")
    if until_ms * 1_000_000 <= now_ns:
        raise InvalidArgument(
            "The retain until date must be in the future!",
            ArgumentName="x-amz-object-lock-retain-until-date",
        )
    return Lock(checked, until_ms, hold)


# ------------------------------------------------------------------ bucket rules


def check_default(rule: DefaultRetention | None) -> DefaultRetention | None:
    """A default retention as S3 validates it: a known mode and exactly one of days and
    years, a positive number. Raises MalformedXML, InvalidRetentionPeriod."""
    if rule is None:
        return None
    check_mode(rule.mode, error=MalformedXML)
    if (rule.days is None) == (rule.years is None):
        raise MalformedXML("a DefaultRetention needs either Days or Years (not both)")
    count, most = (rule.days, MAX_DAYS) if rule.years is None else (rule.years, MAX_YEARS)
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise InvalidRetentionPeriod("Default retention period must be a positive integer value")
    if count > most:
        raise InvalidRetentionPeriod(f"Default retention period must be at most {most}")
    return rule


def default_lock(rule: DefaultRetention, created_ns: int) -> Lock:
    """The retention a new version gets from its bucket's default: its creation time plus
    the period (calendar years; February 29 becomes February 28)."""
    created = from_ms(created_ns // 1_000_000)
    if rule.years is not None:
        try:
            until = created.replace(year=created.year + rule.years)
        except ValueError:  # February 29 in a year that has none
            until = created.replace(year=created.year + rule.years, day=28)
    else:
        until = created + timedelta(days=rule.days or 0)
    return Lock(rule.mode, to_ms(until))


# ------------------------------------------------------------------ enforcement


def _denied(message: str) -> AccessDenied:
    return AccessDenied(message)


def check_removable(lock: Lock, now_ns: int, *, bypass: bool) -> None:
    """Refuse to remove a version that a legal hold or an active retention protects
    (GOVERNANCE gives way to ``bypass``). Raises AccessDenied."""
    if lock.legal_hold:
        raise _denied("Access Denied because object protected by object lock (legal hold)")
    if lock.retained(now_ns) and not (lock.mode == GOVERNANCE and bypass):
        raise _denied("Access Denied because object protected by object lock")


def check_retention_change(old: Lock, new: Lock, now_ns: int, *, bypass: bool) -> None:
    """Refuse a retention change S3 refuses: while a retention is in force, anything but
    keeping the mode and not moving the date earlier needs a GOVERNANCE bypass, and under
    COMPLIANCE is impossible. Raises AccessDenied."""
    if not old.retained(now_ns):
        return
    assert old.until_ms is not None
    extends = new.mode == old.mode and new.until_ms is not None and new.until_ms >= old.until_ms
    if extends:
        return
    if old.mode == GOVERNANCE and bypass:
        return
    raise _denied(
        "Access Denied because object protected by object lock"
        if old.mode == COMPLIANCE
        else "a GOVERNANCE retention may be shortened, changed or removed only with "
        "x-amz-bypass-governance-retention and s3:BypassGovernanceRetention"
    )


# ------------------------------------------------------------------ IAM context


def condition_values(params: Mapping[str, Any], now_ns: int) -> dict[str, object]:
    """The ``s3:object-lock-*`` condition keys of a request setting a lock, from its
    parameters (PutObject-like ``object_lock_*``, PutObjectRetention's ``retention``,
    PutObjectLegalHold's ``legal_hold``); values that do not parse are left out (the call
    refuses them after authorization)."""
    out: dict[str, object] = {}
    mode = params.get("object_lock_mode")
    until = params.get("object_lock_retain_until_date")
    retention = params.get("retention")
    if retention is not None:
        mode = getattr(retention, "mode", None)
        until = getattr(retention, "retain_until_date", None)
    if isinstance(mode, str) and mode:
        out[MODE_KEY] = mode
    if until is not None:
        try:
            until_ms = parse_date(until, "retain_until_date")
        except InvalidArgument:
            until_ms = None
        if until_ms is not None:
            out[UNTIL_KEY] = iso(until_ms)
            remaining = (until_ms * 1_000_000 - now_ns) / (MS_PER_DAY * 1_000_000)
            out[REMAINING_KEY] = max(0, math.ceil(remaining))
    hold = params.get("object_lock_legal_hold_status", params.get("legal_hold"))
    if isinstance(hold, bool):
        hold = ON if hold else OFF
    if isinstance(hold, str) and hold:
        out[HOLD_KEY] = hold
    return out
