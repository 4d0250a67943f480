"""The request context: condition-key values of one request, looked up case-insensitively.

AWS condition key names are case-insensitive (``aws:SourceIp`` == ``AWS:sourceip``), tag
keys included. Every key maps to a tuple of values: a single-valued key has one, a
multivalued key (``aws:TagKeys``) any number, possibly none. Values are kept exactly as the
caller gave them (str, int, float, bool, datetime, ip addresses, bytes); the condition
operators interpret them by type, so ``5`` and ``"5"`` both satisfy ``NumericEquals 5``.

A key given with the value ``None`` is treated as absent; ``None`` items inside a list are
dropped. Sets are accepted as lists (in their iteration order).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

from objstore.errors import InvalidInput

__all__ = ["EMPTY_CONTEXT", "RequestContext", "Value", "format_datetime", "value_to_string"]

Value = str | int | float | bool | datetime | ipaddress.IPv4Address | ipaddress.IPv6Address | bytes


def format_datetime(when: datetime) -> str:
    """ISO 8601 in UTC as AWS prints ``aws:CurrentTime``: ``2024-01-02T03:04:05Z``.

    A naive datetime is taken to be UTC already. Fractions of a second are kept only
    when present.
    """
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def value_to_string(value: object) -> str | None:
    """The text form of a context value, as AWS holds context values as strings.

    Booleans become ``true``/``false``, numbers (finite Decimals too) their decimal text,
    datetimes ISO 8601 UTC, IP addresses and networks their usual text, bytes base64. Anything else
    (a nested list, a mapping, an arbitrary object) has no text form: None.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # 5.0 -> "5.0" would surprise a StringEquals "5"; integral floats print as ints.
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(
        value,
        ipaddress.IPv4Address
        | ipaddress.IPv6Address
        | ipaddress.IPv4Network
        | ipaddress.IPv6Network,
    ):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return None


def _values_of(key: str, raw: object) -> tuple[object, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, list | tuple | set | frozenset):
        return tuple(v for v in raw if v is not None)
    if isinstance(raw, Mapping):
        raise InvalidInput(f"context key {key!r}: a value cannot be a mapping")
    return (raw,)


@dataclass(frozen=True, slots=True, eq=False)
class RequestContext:
    """Immutable condition-key values; build with :meth:`from_mapping`."""

    # lower-cased key -> (key as the caller spelled it, values)
    _entries: Mapping[str, tuple[str, tuple[object, ...]]]

    @staticmethod
    def from_mapping(values: Mapping[str, object] | None) -> RequestContext:
        """Build from ``key -> value | list of values``; keys are case-insensitive.

        Raises InvalidInput for a key that is not a non-empty str, a key given twice with
        different spellings (``aws:username`` and ``AWS:UserName``), or a mapping as value.
        """
        if not values:
            return EMPTY_CONTEXT
        entries: dict[str, tuple[str, tuple[object, ...]]] = {}
        for key, raw in values.items():
            if not isinstance(key, str) or not key:
                raise InvalidInput(f"context key must be a non-empty string, not {key!r}")
            lower = key.lower()
            if lower in entries:
                raise InvalidInput(
                    f"context key {key!r} given twice (condition keys are case-insensitive)"
                )
            found = _values_of(key, raw)
            if found is not None:
                entries[lower] = (key, found)
        return RequestContext(MappingProxyType(entries))

    def with_values(self, values: Mapping[str, object]) -> RequestContext:
        """A copy where ``values`` are added, replacing existing keys of any spelling.

        A ``None`` value removes the key. Raises InvalidInput as :meth:`from_mapping`.
        """
        entries = dict(self._entries)
        for key, raw in values.items():
            if not isinstance(key, str) or not key:
                raise InvalidInput(f"context key must be a non-empty string, not {key!r}")
            lower = key.lower()
            found = _values_of(key, raw)
            if found is None:
                entries.pop(lower, None)
            else:
                entries[lower] = (key, found)
        return RequestContext(MappingProxyType(entries))

    def get(self, key: str) -> tuple[object, ...] | None:
        """The values of ``key`` (any spelling), or None when the key is absent."""
        entry = self._entries.get(key.lower())
        return None if entry is None else entry[1]

    def get_lower(self, lower_key: str) -> tuple[object, ...] | None:
        """As :meth:`get` for a key already lower-cased (the compiled-condition fast path)."""
        entry = self._entries.get(lower_key)
        return None if entry is None else entry[1]

    def keys(self) -> frozenset[str]:
        """The keys present, lower-cased."""
        return frozenset(self._entries)

    def items(self) -> list[tuple[str, tuple[object, ...]]]:
        """``(key as given, values)`` pairs, for display and the simulator."""
        return list(self._entries.values())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestContext):
            return NotImplemented
        return {k: v[1] for k, v in self._entries.items()} == {
            k: v[1] for k, v in other._entries.items()
        }

    def __hash__(self) -> int:
        return hash(frozenset(self._entries))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k!r}: {list(v)!r}" for k, v in self._entries.values())
        return f"RequestContext({{{shown}}})"


EMPTY_CONTEXT = RequestContext(MappingProxyType({}))
