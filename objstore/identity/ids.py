"""AWS-shaped identifiers and secret access keys.

Why a module of its own: the id prefix tells AWS tools and people what an id names (``AIDA``
a user, ``AKIA`` a long-term access key, ``ASIA`` a temporary one ...), and logs, credential
reports and SDKs expect the shapes AWS uses. Every id here is random (from :mod:`secrets`),
never derived from a name, so a deleted and re-created user gets a new id and old grants that
name the id do not come back to life.

Shapes: unique ids are the 4-character prefix + 17 characters (21 in all), access key ids the
prefix + 16 (20 in all), both from the base32 alphabet ``A-Z2-7`` that AWS's own ids use.
Secret access keys are 40 characters of standard base64 (240 random bits).
"""

from __future__ import annotations

import base64
import re
import secrets
from enum import Enum

__all__ = [
    "IdKind",
    "is_access_key_id",
    "is_temporary_access_key_id",
    "new_access_key_id",
    "new_id",
    "new_secret_access_key",
    "new_temporary_access_key_id",
]


class IdKind(Enum):
    """The id prefixes AWS uses, by what they name."""

    USER = "AIDA"
    ROLE = "AROA"
    GROUP = "AGPA"
    POLICY = "ANPA"
    INSTANCE_PROFILE = "AIPA"
    ACCESS_KEY = "AKIA"
    TEMPORARY_ACCESS_KEY = "ASIA"


_UNIQUE_ID_TAIL = 17  # 85 random bits
_KEY_ID_TAIL = 16  # 80 random bits
_SECRET_BYTES = 30  # 40 base64 characters
_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z2-7]{16}")


def _random_base32(length: int) -> str:
    # Every base32 character carries 5 fresh bits, so a prefix of the encoding is uniform.
    return base64.b32encode(secrets.token_bytes((length * 5 + 7) // 8)).decode("ascii")[:length]


def new_id(kind: IdKind) -> str:
    """A fresh 21-character unique id (``AIDA...``, ``AROA...``), or a 20-character key id."""
    prefix: str = kind.value
    if kind in (IdKind.ACCESS_KEY, IdKind.TEMPORARY_ACCESS_KEY):
        return prefix + _random_base32(_KEY_ID_TAIL)
    return prefix + _random_base32(_UNIQUE_ID_TAIL)


def new_access_key_id() -> str:
    """A long-term access key id: ``AKIA`` + 16 characters."""
    return new_id(IdKind.ACCESS_KEY)


def new_temporary_access_key_id() -> str:
    """An STS access key id: ``ASIA`` + 16 characters."""
    return new_id(IdKind.TEMPORARY_ACCESS_KEY)


def new_secret_access_key() -> str:
    """A 40-character secret access key (standard base64 of 240 random bits)."""
    return base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def is_access_key_id(text: object) -> bool:
    """True for a well-formed ``AKIA``/``ASIA`` key id (it says nothing about existence)."""
    return isinstance(text, str) and _KEY_ID.fullmatch(text) is not None


def is_temporary_access_key_id(text: object) -> bool:
    """True for a well-formed ``ASIA`` key id: one whose session token carries its facts."""
    return is_access_key_id(text) and str(text).startswith("ASIA")
