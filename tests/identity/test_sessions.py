"""STS session tokens: sealed claims, tamper refusal, expiry to the second, secret checks."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import (
    ExpiredToken,
    InvalidClientTokenId,
    InvalidInput,
    SignatureDoesNotMatch,
    ValidationError,
)
from objstore.identity.ids import is_temporary_access_key_id, new_temporary_access_key_id
from objstore.identity.sessions import (
    CHAINED_MAX_SECONDS,
    MAX_TOKEN_CHARS,
    SessionClaims,
    SessionCredentials,
    SessionSealer,
    mint_session,
    open_session,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = 1_800_000_000
ROLE_ARN = "arn:aws:iam::123456789012:role/service/S3Access"


def claims(**overrides: object) -> SessionClaims:
    base: dict[str, object] = {
        "principal_arn": "arn:aws:sts::123456789012:assumed-role/S3Access/app",
        "principal_id": "AROAEXAMPLEEXAMPLEEXA:app",
        "source_arn": ROLE_ARN,
        "issued_at": NOW,
        "expires_at": NOW + 3600,
        "session_name": "app",
    }
    base.update(overrides)
    return SessionClaims(**base)  # type: ignore[arg-type]


@pytest.fixture
def sealer() -> SessionSealer:
    return SessionSealer(KEY)


def test_mint_and_open_round_trip(sealer: SessionSealer) -> None:
    """Every claim comes back out of the token; the key id is ASIA-shaped."""
    full = claims(
        source_identity="alice@example.com",
        session_policy='{"Version":"2012-10-17","Statement":[]}',
        tags={"team": "hr", "cost-center": "42"},
        mfa_present=True,
        mfa_auth_time=NOW - 10,
        chained=False,
    )
    creds = sealer.mint(full)
    assert is_temporary_access_key_id(creds.access_key_id)
    assert len(creds.secret_access_key) == 40
    assert creds.expiration == NOW + 3600
    opened = sealer.open(
        creds.session_token, creds.access_key_id, NOW + 1, secret_access_key=creds.secret_access_key
    )
    assert opened == creds
    assert opened.claims == full
    assert dict(opened.claims.tags) == {"team": "hr", "cost-center": "42"}
    assert opened.claims.mfa_age(NOW + 20) == 30


def test_the_secret_is_not_readable_from_the_token(sealer: SessionSealer) -> None:
    """The token is ciphertext: neither the secret nor the ARN appears in it."""
    creds = sealer.mint(claims())
    raw = base64.urlsafe_b64decode(creds.session_token + "=" * (-len(creds.session_token) % 4))
    assert creds.secret_access_key.encode() not in raw
    assert b"S3Access" not in raw and b"assumed-role" not in raw


def test_each_mint_is_fresh(sealer: SessionSealer) -> None:
    """Same claims, different key id, secret and token every time."""
    a, b = sealer.mint(claims()), sealer.mint(claims())
    assert a.access_key_id != b.access_key_id
    assert a.secret_access_key != b.secret_access_key
    assert a.session_token != b.session_token


def test_any_changed_character_is_invalid(sealer: SessionSealer) -> None:
    """Changing any single character of the token is InvalidClientTokenId."""
    creds = sealer.mint(claims(tags={"k": "v"}))
    token = creds.session_token
    for i, ch in enumerate(token):
        replacement = "A" if ch != "A" else "B"
        tampered = token[:i] + replacement + token[i + 1 :]
        with pytest.raises(InvalidClientTokenId):
            sealer.open(tampered, creds.access_key_id, NOW)


def test_any_flipped_bit_is_invalid(sealer: SessionSealer) -> None:
    """Flipping any bit of the decoded token (then re-encoding) is InvalidClientTokenId."""
    creds = sealer.mint(claims())
    raw = bytearray(base64.urlsafe_b64decode(creds.session_token + "=="))
    for i in range(len(raw)):
        for bit in (0, 7):
            changed = bytearray(raw)
            changed[i] ^= 1 << bit
            token = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
            with pytest.raises(InvalidClientTokenId):
                sealer.open(token, creds.access_key_id, NOW)


def test_truncated_and_extended_tokens_are_invalid(sealer: SessionSealer) -> None:
    """Dropping or appending characters never opens."""
    creds = sealer.mint(claims())
    token = creds.session_token
    for bad in (token[:-1], token[:-4], token[1:], token + "A", token + "AAAA", token[:20]):
        with pytest.raises(InvalidClientTokenId):
            sealer.open(bad, creds.access_key_id, NOW)


def test_non_canonical_spelling_is_invalid(sealer: SessionSealer) -> None:
    """A last character that differs only in spare base64 bits is not the same token."""
    creds = sealer.mint(claims())
    token = creds.session_token
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare_bits = {2: 4, 3: 2}.get(len(token) % 4)
    if spare_bits is None:
        pytest.skip("this token length has no spare bits")
    twin = alphabet[alphabet.index(token[-1]) ^ 1]
    with pytest.raises(InvalidClientTokenId):
        sealer.open(token[:-1] + twin, creds.access_key_id, NOW)


def test_token_bound_to_its_access_key_id(sealer: SessionSealer) -> None:
    """The right token with another ASIA id, or two sessions' parts swapped, is invalid."""
    a, b = sealer.mint(claims()), sealer.mint(claims())
    with pytest.raises(InvalidClientTokenId):
        sealer.open(a.session_token, b.access_key_id, NOW)
    with pytest.raises(InvalidClientTokenId):
        sealer.open(a.session_token, new_temporary_access_key_id(), NOW)
    with pytest.raises(InvalidClientTokenId):
        sealer.open(a.session_token, "AKIA" + a.access_key_id[4:], NOW)


def test_another_stores_key_cannot_open(sealer: SessionSealer) -> None:
    """A token minted under one signing key is invalid under another."""
    creds = SessionSealer(OTHER_KEY).mint(claims())
    with pytest.raises(InvalidClientTokenId):
        sealer.open(creds.session_token, creds.access_key_id, NOW)


@pytest.mark.parametrize(
    "token", ["", "A", "not base64!", "\u00e9" * 40, "=" * 40, "A" * (MAX_TOKEN_CHARS + 1)]
)
def test_garbage_tokens_are_invalid(sealer: SessionSealer, token: str) -> None:
    """Empty, junk, non-ASCII and oversized tokens are InvalidClientTokenId."""
    with pytest.raises(InvalidClientTokenId):
        sealer.open(token, new_temporary_access_key_id(), NOW)


def test_wrong_types_are_invalid(sealer: SessionSealer) -> None:
    """Non-string token or key id: InvalidClientTokenId, never TypeError."""
    creds = sealer.mint(claims())
    with pytest.raises(InvalidClientTokenId):
        sealer.open(None, creds.access_key_id, NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidClientTokenId):
        sealer.open(creds.session_token.encode(), creds.access_key_id, NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidClientTokenId):
        sealer.open(creds.session_token, None, NOW)  # type: ignore[arg-type]


def test_expiry_to_the_second(sealer: SessionSealer) -> None:
    """Valid through expiration - epsilon, expired at the expiration second."""
    creds = sealer.mint(claims(expires_at=NOW + 900))
    sealer.open(creds.session_token, creds.access_key_id, NOW + 899.999)
    for later in (NOW + 900, NOW + 900.001, NOW + 10**6):
        with pytest.raises(ExpiredToken) as info:
            sealer.open(creds.session_token, creds.access_key_id, later)
        assert info.value.code == "ExpiredToken"


def test_tampering_beats_expiry(sealer: SessionSealer) -> None:
    """An expired token that was also changed is reported invalid, not expired."""
    creds = sealer.mint(claims())
    token = creds.session_token
    tampered = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    with pytest.raises(InvalidClientTokenId):
        sealer.open(tampered, creds.access_key_id, NOW + 10**6)


def test_secret_check(sealer: SessionSealer) -> None:
    """A wrong, empty, non-ASCII or non-string secret is SignatureDoesNotMatch."""
    creds = sealer.mint(claims())
    secret = creds.secret_access_key
    # Another last character (a fixed "x" equals the real one for 1 secret in 64).
    other = secret[:-1] + ("y" if secret.endswith("x") else "x")
    for wrong in (other, "", "\u00e9" * 40, 42):
        with pytest.raises(SignatureDoesNotMatch):
            sealer.open(
                creds.session_token,
                creds.access_key_id,
                NOW,
                secret_access_key=wrong,  # type: ignore[arg-type]
            )


def test_chained_sessions_capped_at_one_hour(sealer: SessionSealer) -> None:
    """Role chaining: an hour is allowed, a second more is AWS's ValidationError."""
    ok = sealer.mint(claims(chained=True, expires_at=NOW + CHAINED_MAX_SECONDS))
    assert sealer.open(ok.session_token, ok.access_key_id, NOW).claims.chained
    with pytest.raises(ValidationError, match="role chaining"):
        sealer.mint(claims(chained=True, expires_at=NOW + CHAINED_MAX_SECONDS + 1))
    # Unchained sessions may last longer (the caller enforces the role's maximum).
    assert sealer.mint(claims(expires_at=NOW + 43_200)).expiration == NOW + 43_200


def test_session_must_outlive_its_issue_time(sealer: SessionSealer) -> None:
    """Zero or negative durations are refused."""
    for expires in (NOW, NOW - 1):
        with pytest.raises(ValidationError):
            sealer.mint(claims(expires_at=expires))


@pytest.mark.parametrize(
    "overrides",
    [
        {"principal_arn": ""},
        {"source_arn": None},
        {"issued_at": 1.5},
        {"issued_at": True},
        {"expires_at": -1},
        {"tags": {"k": 1}},
        {"tags": [("k", "v")]},
        {"mfa_present": True},  # no auth time
        {"mfa_auth_time": NOW},  # auth time without MFA
        {"mfa_present": 1, "mfa_auth_time": NOW},
        {"session_policy": b"{}"},
    ],
)
def test_claims_are_typed(overrides: dict[str, object]) -> None:
    """Malformed claims are InvalidInput before anything is sealed."""
    with pytest.raises(InvalidInput):
        claims(**overrides)


def test_claims_tags_are_a_snapshot() -> None:
    """Changing the caller's dict afterwards does not change the claims."""
    tags = {"a": "1"}
    made = claims(tags=tags)
    tags["a"] = "2"
    assert dict(made.tags) == {"a": "1"}
    with pytest.raises(TypeError):
        made.tags["a"] = "3"  # type: ignore[index]


def test_signing_key_length() -> None:
    """Keys under 32 bytes, or not bytes, are refused."""
    for bad in (b"", b"x" * 31, "x" * 32):
        with pytest.raises(InvalidInput):
            SessionSealer(bad)  # type: ignore[arg-type]
    SessionSealer(b"x" * 64)


def test_maximal_claims_round_trip(sealer: SessionSealer) -> None:
    """50 tags of maximal size, a 2048-character non-ASCII policy, and long names."""
    tags = {f"k{i:03d}" + "\u00e9" * 124: "\u4e2d" * 256 for i in range(50)}
    big = claims(
        session_name="s" * 64,
        source_identity="\U0001f511" * 64,
        session_policy='{"x":"' + "\u00fc" * 2040 + '"}',
        tags=tags,
    )
    creds = sealer.mint(big)
    assert len(creds.session_token) <= MAX_TOKEN_CHARS
    assert sealer.open(creds.session_token, creds.access_key_id, NOW).claims == big


@settings(max_examples=60, deadline=None)
@given(
    name=st.none() | st.text(max_size=64),
    policy=st.none() | st.text(max_size=200),
    tags=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5),
    duration=st.integers(min_value=1, max_value=129_600),
    mfa=st.none() | st.integers(min_value=0, max_value=NOW),
)
def test_round_trip_property(
    name: str | None, policy: str | None, tags: dict[str, str], duration: int, mfa: int | None
) -> None:
    """Any claims (any Unicode text) come back unchanged."""
    sealer = SessionSealer(KEY)
    made = claims(
        session_name=name,
        session_policy=policy,
        tags=tags,
        expires_at=NOW + duration,
        mfa_present=mfa is not None,
        mfa_auth_time=mfa,
    )
    creds = sealer.mint(made)
    opened = sealer.open(creds.session_token, creds.access_key_id, NOW + duration - 1)
    assert isinstance(opened, SessionCredentials) and opened.claims == made


def test_one_off_functions_match_the_sealer(sealer: SessionSealer) -> None:
    """mint_session/open_session interoperate with a SessionSealer of the same key."""
    creds = mint_session(KEY, claims())
    assert sealer.open(creds.session_token, creds.access_key_id, NOW).claims == claims()
    other = sealer.mint(claims())
    opened = open_session(
        KEY,
        other.session_token,
        other.access_key_id,
        NOW,
        secret_access_key=other.secret_access_key,
    )
    assert opened == other
    with pytest.raises(InvalidClientTokenId):
        open_session(OTHER_KEY, other.session_token, other.access_key_id, NOW)
