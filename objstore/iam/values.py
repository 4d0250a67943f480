"""Typed values for condition operators: numbers, dates, booleans, bytes, IP addresses.

Policy side (``conditions.py`` compiling a Condition) and request side (a context value
being tested) share these conversions. Request-side helpers return None for a value of the
wrong type (it then simply does not match, as in AWS); nothing here raises for any input.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

__all__ = [
    "IPAddr",
    "IPNetwork",
    "ip_key",
    "network_test",
    "parse_network",
    "parse_bool",
    "parse_bytes",
    "parse_date",
    "parse_ip",
    "parse_number",
    "policy_text",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_YEAR = re.compile(r"\d{4}")
_W3C_DATE = re.compile(
    r"(\d{4})-(\d{2})(?:-(\d{2})"
    r"(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?)?)?"
)
_EPOCH_ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def parse_number(value: object) -> Decimal | None:
    """A request or policy value as an exact decimal, or None if it is not a number.

    Accepts int and float (not bool), finite Decimals, and strings such as ``10``,
    ``-2.5``, ``.5``, ``1e3``. Never raises.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        return _number_from_text(value)
    return None


# Request values arrive as text again and again (the simulator, HTTP headers): parsing is
# the expensive part of a Numeric/Date/IP test, so parsed text is memoised. The caches are
# bounded and keyed on the value text only.
@functools.lru_cache(maxsize=4096)
def _number_from_text(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid text
        return None


def _micros(when: datetime) -> int:
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    return (aware - _EPOCH_ORIGIN) // _MICRO


def _epoch_micros(seconds: Decimal) -> int | None:
    # Beyond datetime's range (years 1..9999) a date cannot be meant; refuse it.
    if abs(seconds) > Decimal(253402300800):
        return None
    return int(seconds * 1_000_000)


def parse_date(value: object) -> int | None:
    """A request or policy value as microseconds since the epoch, or None.

    Accepts datetimes (naive = UTC), dates (midnight UTC), epoch seconds as numbers or
    numeric strings, and ISO 8601 strings: the W3C profile ``YYYY``, ``YYYY-MM``,
    ``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm[:ss[.fff]][TZD]`` (no zone = UTC) and what
    ``datetime.fromisoformat`` reads (basic format like ``20130930T231548Z``).
    Never raises.
    """
    if isinstance(value, datetime):
        return _micros(value)
    if isinstance(value, date):
        return _micros(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        number = parse_number(value)
        return None if number is None else _epoch_micros(number)
    if not isinstance(value, str):
        return None
    return _date_from_text(value)


@functools.lru_cache(maxsize=4096)
def _date_from_text(value: str) -> int | None:
    text = value.strip()
    try:
        if _YEAR.fullmatch(text):
            return _micros(datetime(int(text), 1, 1, tzinfo=UTC))
        if _EPOCH.fullmatch(text):
            return _epoch_micros(Decimal(text))
        found = _W3C_DATE.fullmatch(text)
        if found is not None:
            return _micros(_w3c_datetime(found))
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, InvalidOperation):
        return None
    return _micros(parsed)


def _w3c_datetime(found: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: timezone = UTC
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= timedelta(hours=24):
            raise ValueError("zone offset out of range")
        tz = timezone(sign * offset)
    return datetime(
        int(year),
        int(month),
        int(day or 1),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=tz,
    )


def parse_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None


def parse_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
    return None


def parse_ip(value: object) -> tuple[int, int] | None:
    """A request value as (IP version, address as int); IPv4-mapped IPv6 counts as IPv4."""
    if isinstance(value, str):
        return _ip_from_text(value)
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip_key(value)
    return None


def ip_key(address: IPAddr) -> tuple[int, int]:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return 4, int(address.ipv4_mapped)
    return address.version, int(address)


@functools.lru_cache(maxsize=4096)
def _ip_from_text(text: str) -> tuple[int, int] | None:
    try:
        return ip_key(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def policy_text(value: object) -> str | None:
    """Policy JSON scalars as text for String/Arn operators (quotes are optional in JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


# --- per-kind compilers: policy values -> a _Bind ----------------------------------------


def parse_network(value: object) -> IPNetwork | None:
    """An ``IpAddress`` condition value as a network (None if it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        # strict=False: "10.1.2.3/8" means 10.0.0.0/8 (host bits ignored), as lenient as AWS.
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def network_test(networks: tuple[IPNetwork, ...]) -> Callable[[object], bool]:
    """A test: is a value an IP address inside one of ``networks``?"""
    # (version, network address, netmask) as ints: membership is one AND and one compare.
    blocks = tuple((n.version, int(n.network_address), int(n.netmask)) for n in networks)

    def test_ip(value: object) -> bool:
        found = parse_ip(value)
        if found is None:
            return False
        version, address = found
        for block_version, network, mask in blocks:
            if version == block_version and address & mask == network:
                return True
        return False

    return test_ip
