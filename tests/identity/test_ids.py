"""AWS-shaped ids and secret access keys."""

from __future__ import annotations

import base64
import re

import pytest

from objstore.identity.ids import (
    IdKind,
    is_access_key_id,
    is_temporary_access_key_id,
    new_access_key_id,
    new_id,
    new_secret_access_key,
    new_temporary_access_key_id,
)

UNIQUE = re.compile(r"[A-Z]{4}[A-Z2-7]{17}")


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [
        (IdKind.USER, "AIDA"),
        (IdKind.ROLE, "AROA"),
        (IdKind.GROUP, "AGPA"),
        (IdKind.POLICY, "ANPA"),
        (IdKind.INSTANCE_PROFILE, "AIPA"),
    ],
)
def test_unique_ids_are_21_characters(kind: IdKind, prefix: str) -> None:
    """Prefix + 17 base32 characters, different every time."""
    ids = {new_id(kind) for _ in range(500)}
    assert len(ids) == 500
    for value in ids:
        assert value.startswith(prefix) and UNIQUE.fullmatch(value), value


def test_access_key_ids_are_20_characters() -> None:
    """AKIA/ASIA + 16 base32 characters; the checkers tell them apart."""
    for _ in range(200):
        long_term, temporary = new_access_key_id(), new_temporary_access_key_id()
        assert len(long_term) == len(temporary) == 20
        assert long_term.startswith("AKIA") and temporary.startswith("ASIA")
        assert is_access_key_id(long_term) and not is_temporary_access_key_id(long_term)
        assert is_access_key_id(temporary) and is_temporary_access_key_id(temporary)


def test_every_tail_character_appears() -> None:
    """The tail uses the whole base32 alphabet (no stuck bits in the last character)."""
    seen = set("".join(new_id(IdKind.USER)[4:] for _ in range(300)))
    assert seen == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    last = {new_access_key_id()[-1] for _ in range(600)}
    assert len(last) == 32


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AKIA",
        "AKIA" + "A" * 15,
        "AKIA" + "A" * 17,
        "akia" + "A" * 16,
        "AKIA" + "a" * 16,
        "AKIA" + "1" * 16,  # 0, 1, 8 and 9 are not base32
        "AIDA" + "A" * 16,
        "AKIA" + "A" * 15 + "\u00c4",
        None,
        42,
    ],
)
def test_malformed_key_ids(text: object) -> None:
    """Wrong prefix, length, case, alphabet or type: not an access key id."""
    assert not is_access_key_id(text)
    assert not is_temporary_access_key_id(text)


def test_secret_access_keys() -> None:
    """40 characters of standard base64 carrying 30 random bytes."""
    secrets = {new_secret_access_key() for _ in range(200)}
    assert len(secrets) == 200
    for secret in secrets:
        assert len(secret) == 40 and re.fullmatch(r"[A-Za-z0-9+/]{40}", secret)
        assert len(base64.b64decode(secret, validate=True)) == 30
