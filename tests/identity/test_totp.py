"""RFC 6238 TOTP: test vectors, seeds and URIs, enabling, replay refusal and lockout."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objstore.errors import InvalidAuthenticationCode, InvalidInput
from objstore.identity.totp import (
    DEFAULT_LOCKOUT,
    CodeOutcome,
    LockoutPolicy,
    MfaDeviceState,
    check_code,
    hotp,
    new_seed,
    otpauth_uri,
    seed_from_base32,
    seed_to_base32,
    time_step,
    totp,
    verify_enable_codes,
)

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890123456789012345678901234567890123456789012345678901234"
KEYS = {"SHA1": SHA1_KEY, "SHA256": SHA256_KEY, "SHA512": SHA512_KEY}

# RFC 6238 Appendix B: (time, SHA1, SHA256, SHA512), 8 digits, 30 s steps, T0 = 0.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

# RFC 4226 Appendix D: HOTP, SHA1, 6 digits, counters 0..9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583"]
RFC4226 += ["399871", "520489"]

KEY = bytes(range(20))
T = 1_700_000_010.0  # an arbitrary instant, 10 s into its step
ARABIC_DIGITS = "\u0661\u0662\u0663\u0664\u0665\u0666"  # str.isdigit() is True for these
FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize(("now", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(now: int, sha1: str, sha256: str, sha512: str) -> None:
    """Every RFC 6238 test vector, with each of the three hashes."""
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        assert totp(KEYS[algorithm], now, digits=8, algorithm=algorithm) == expected


def test_rfc4226_vectors() -> None:
    """HOTP values of RFC 4226 Appendix D (the truncation TOTP builds on)."""
    assert [hotp(SHA1_KEY, c) for c in range(10)] == RFC4226


def test_six_digit_code_is_the_tail_of_the_eight_digit_one() -> None:
    """Both come from the same 31-bit value, modulo 10**6 and 10**8."""
    for now, sha1, _, _ in RFC6238:
        assert totp(SHA1_KEY, now) == sha1[-6:]


def test_time_step_boundaries() -> None:
    """A step covers [30k, 30k+30): the code changes exactly at the boundary."""
    assert time_step(0) == 0
    assert time_step(29.999) == 0
    assert time_step(30) == 1
    assert totp(KEY, 59.999) == totp(KEY, 30)
    assert totp(KEY, 60) == hotp(KEY, 2)
    with pytest.raises(InvalidInput):
        time_step(-1)
    with pytest.raises(InvalidInput):
        time_step(10, step=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"digits": 5},
        {"digits": 11},
        {"digits": True},
        {"algorithm": "MD5"},
        {"algorithm": "sha1"},
    ],
)
def test_bad_parameters_are_invalid_input(kwargs: dict[str, object]) -> None:
    """Unsupported digit counts and hashes are refused, not silently mapped."""
    with pytest.raises(InvalidInput):
        hotp(KEY, 1, **kwargs)  # type: ignore[arg-type]


def test_key_and_counter_limits() -> None:
    """Keys under 128 bits, negative and 65-bit counters are refused; 2**64-1 works."""
    for key in (b"", b"x" * 15):
        with pytest.raises(InvalidInput):
            hotp(key, 0)
    for counter in (-1, 1 << 64):
        with pytest.raises(InvalidInput):
            hotp(KEY, counter)
    assert len(hotp(KEY, (1 << 64) - 1, digits=10)) == 10


def test_seed_is_160_bits_and_base32_round_trips() -> None:
    """AWS shape: 20 random bytes, 32 base32 characters without padding."""
    seed = new_seed()
    assert len(seed) == 20
    assert new_seed() != seed
    text = seed_to_base32(seed)
    assert len(text) == 32
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert seed_from_base32(text) == seed
    assert seed_from_base32(text.lower()) == seed
    spaced = " ".join(text[i : i + 4] for i in range(0, 32, 4))
    assert seed_from_base32(spaced) == seed


@given(st.binary(min_size=16, max_size=64))
def test_base32_round_trip_any_length(seed: bytes) -> None:
    """Seeds of any length round-trip, padding dropped and restored."""
    assert seed_from_base32(seed_to_base32(seed)) == seed


@pytest.mark.parametrize(
    "text", ["", "AAAA", "1111111111111111", "ÄBCDEFGHIJKLMNOPQRSTUVWXYZ234567"]
)
def test_bad_base32_seeds(text: str) -> None:
    """Empty, too short, not base32 or not ASCII: all InvalidInput."""
    with pytest.raises(InvalidInput):
        seed_from_base32(text)


def test_otpauth_uri_fields() -> None:
    """Label issuer:account/user, secret, issuer and the explicit defaults."""
    seed = seed_to_base32(KEY)
    uri = otpauth_uri(seed, "123456789012", "yash")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/objstore:123456789012/yash"
    query = parse_qs(parts.query)
    assert query == {
        "secret": [seed],
        "issuer": ["objstore"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }


def test_otpauth_uri_escapes_non_ascii_and_separators() -> None:
    """UTF-8 percent-encoding; '/', '?', '&' and spaces cannot break the URI apart."""
    uri = otpauth_uri(seed_to_base32(KEY), "acme corp", "Zoë?&x=1")
    parts = urlsplit(uri)
    assert unquote(parts.path) == "/objstore:acme corp/Zoë?&x=1"
    assert uri.isascii() and " " not in uri
    assert parse_qs(parts.query)["issuer"] == ["objstore"]


@pytest.mark.parametrize(
    ("account", "user", "issuer"),
    [("", "u", "objstore"), ("a", "", "objstore"), ("a", "u", ""), ("a:b", "u", "objstore")],
)
def test_otpauth_uri_refuses_bad_labels(account: str, user: str, issuer: str) -> None:
    """Empty parts and a ':' that would move the issuer/account split are refused."""
    with pytest.raises(InvalidInput):
        otpauth_uri(seed_to_base32(KEY), account, user, issuer=issuer)


def test_otpauth_uri_refuses_bad_seed_and_control_characters() -> None:
    """A URI no app could use is never produced."""
    with pytest.raises(InvalidInput):
        otpauth_uri("not base32!", "a", "u")
    with pytest.raises(InvalidInput):
        otpauth_uri(seed_to_base32(KEY), "a", "u\nx")


# --- enabling ---------------------------------------------------------------------------------


def test_enable_with_two_consecutive_codes() -> None:
    """Codes of steps T-1 and T (the usual typing pace) enable; both are then used up."""
    step = time_step(T)
    state = verify_enable_codes(KEY, hotp(KEY, step - 1), hotp(KEY, step), T)
    assert state == MfaDeviceState(last_step=step)
    # Neither enabling code works for sign-in afterwards.
    for code in (hotp(KEY, step - 1), hotp(KEY, step)):
        assert check_code(KEY, code, state, T).outcome is CodeOutcome.REPLAYED


@pytest.mark.parametrize("offset", [-2, -1, 0])
def test_enable_accepts_the_skew_window(offset: int) -> None:
    """The second code may be one step behind or ahead of now."""
    step = time_step(T) + offset
    state = verify_enable_codes(KEY, hotp(KEY, step), hotp(KEY, step + 1), T)
    assert state.last_step == step + 1


@pytest.mark.parametrize(
    "codes",
    [
        ("step", "step"),  # the same step twice
        ("next", "step"),  # reversed
        ("old", "old+1"),  # too old
        ("step+1", "step+2"),  # too far ahead
        ("step-1", "step+1"),  # not consecutive
    ],
)
def test_enable_refuses_other_pairs(codes: tuple[str, str]) -> None:
    """Anything but consecutive codes near now is InvalidAuthenticationCode."""
    step = time_step(T)
    steps = {
        "step": step,
        "next": step + 1,
        "old": step - 3,
        "old+1": step - 2,
        "step+1": step + 1,
        "step+2": step + 2,
        "step-1": step - 1,
    }
    code1, code2 = (hotp(KEY, steps[c]) for c in codes)
    if code1 == code2 and codes[0] != codes[1]:
        pytest.skip("a one-in-a-million collision of two codes")
    with pytest.raises(InvalidAuthenticationCode):
        verify_enable_codes(KEY, code1, code2, T)


@pytest.mark.parametrize(
    "bad", ["", "12345", "1234567", "12345a", ARABIC_DIGITS, " 12345", "12345\n"]
)
def test_enable_refuses_malformed_codes(bad: str) -> None:
    """Wrong length, letters, non-ASCII digits, whitespace: refused, never an exception leak."""
    good = hotp(KEY, time_step(T))
    with pytest.raises(InvalidAuthenticationCode):
        verify_enable_codes(KEY, bad, good, T)
    with pytest.raises(InvalidAuthenticationCode):
        verify_enable_codes(KEY, good, bad, T)


# --- sign-in checks ---------------------------------------------------------------------------


def test_current_code_accepted_once() -> None:
    """The current code is accepted, then refused as a replay (RFC 6238 section 5.2)."""
    code = totp(KEY, T)
    first = check_code(KEY, code, MfaDeviceState(), T)
    assert first.accepted and first.step == time_step(T)
    assert first.state == MfaDeviceState(last_step=time_step(T))
    again = check_code(KEY, code, first.state, T + 5)
    assert again.outcome is CodeOutcome.REPLAYED and not again.accepted
    assert again.state.failures == 1 and again.state.last_step == first.state.last_step


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_of_skew_either_way(offset: int) -> None:
    """Codes of the previous and next step are accepted."""
    step = time_step(T) + offset
    result = check_code(KEY, hotp(KEY, step), MfaDeviceState(), T)
    assert result.accepted and result.state.last_step == step


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_window_refused(offset: int) -> None:
    """Two steps away is too far (unless it happens to collide with a code in the window)."""
    step = time_step(T)
    code = hotp(KEY, step + offset)
    if code in {hotp(KEY, s) for s in (step - 1, step, step + 1)}:
        pytest.skip("collision with a code inside the window")
    result = check_code(KEY, code, MfaDeviceState(), T)
    assert result.outcome is CodeOutcome.INVALID and result.state.failures == 1


def test_wider_window_parameter() -> None:
    """window=2 reaches two steps."""
    step = time_step(T)
    assert check_code(KEY, hotp(KEY, step - 2), MfaDeviceState(), T, window=2).accepted


def test_older_unused_code_refused_after_newer_accepted() -> None:
    """After the next-step code is accepted, the current step's code is stale."""
    step = time_step(T)
    ahead = check_code(KEY, hotp(KEY, step + 1), MfaDeviceState(), T)
    assert ahead.accepted
    behind = check_code(KEY, hotp(KEY, step), ahead.state, T)
    assert behind.outcome is CodeOutcome.REPLAYED


def test_new_code_accepted_in_the_next_step() -> None:
    """Once time moves on, the next code works."""
    state = check_code(KEY, totp(KEY, T), MfaDeviceState(), T).state
    later = check_code(KEY, totp(KEY, T + 30), state, T + 30)
    assert later.accepted and later.state.last_step == time_step(T) + 1


@pytest.mark.parametrize(
    "bad", ["", "00000", "0000000", "abcdef", ARABIC_DIGITS, FULLWIDTH_DIGITS, "\udcff" * 6]
)
def test_malformed_codes_count_as_failures(bad: str) -> None:
    """Malformed input is an ordinary refusal (and counts toward lockout)."""
    result = check_code(KEY, bad, MfaDeviceState(), T)
    assert result.outcome is CodeOutcome.INVALID
    assert result.state == MfaDeviceState(failures=1)


def _wrong_code(now: float) -> str:
    step = time_step(now)
    window = {hotp(KEY, s) for s in (step - 1, step, step + 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in window)


def test_lockout_after_consecutive_failures() -> None:
    """The fifth failure in a row locks the device; the right code is refused until it ends."""
    state = MfaDeviceState()
    now = T
    for i in range(DEFAULT_LOCKOUT.max_failures - 1):
        state = check_code(KEY, _wrong_code(now), state, now).state
        assert state.failures == i + 1 and not state.is_locked(now)
    state = check_code(KEY, _wrong_code(now), state, now).state
    assert state.is_locked(now)
    assert state.locked_until == now + DEFAULT_LOCKOUT.lockout_seconds
    assert state.failures == 0
    # Locked: even the correct code is refused and the state is unchanged (no extension).
    during = now + DEFAULT_LOCKOUT.lockout_seconds - 1
    locked = check_code(KEY, totp(KEY, during), state, during)
    assert locked.outcome is CodeOutcome.LOCKED and locked.state == state
    # At the end of the lockout the correct code works and resets the counters.
    after = now + DEFAULT_LOCKOUT.lockout_seconds
    ok = check_code(KEY, totp(KEY, after), state, after)
    assert ok.accepted and ok.state == MfaDeviceState(last_step=time_step(after))


def test_success_resets_failures() -> None:
    """Failures must be consecutive: a success in between starts over."""
    state = MfaDeviceState(failures=4)
    ok = check_code(KEY, totp(KEY, T), state, T)
    assert ok.accepted and ok.state.failures == 0


def test_custom_lockout_policy() -> None:
    """max_failures=1 locks at once, for the given duration."""
    policy = LockoutPolicy(max_failures=1, lockout_seconds=60)
    state = check_code(KEY, _wrong_code(T), MfaDeviceState(), T, policy=policy).state
    assert state.locked_until == T + 60
    with pytest.raises(InvalidInput):
        LockoutPolicy(max_failures=0)
    with pytest.raises(InvalidInput):
        LockoutPolicy(lockout_seconds=True)


def test_replay_refused_across_the_whole_window() -> None:
    """Property over many instants: a code accepted once is never accepted again."""
    for k in range(200):
        now = 1_000_000 + k * 7.3
        first = check_code(KEY, totp(KEY, now), MfaDeviceState(), now)
        assert first.accepted
        for later in (now, now + 10, now + 29, now + 30):
            assert not check_code(KEY, totp(KEY, now), first.state, later).accepted


@given(
    st.integers(min_value=1, max_value=2**40),
    st.integers(min_value=-1, max_value=2**40),
    st.text(min_size=0, max_size=8),
)
def test_check_code_never_raises_on_any_code(now: int, last: int, code: str) -> None:
    """Any string is either accepted for a step after last_step, or refused with a state."""
    state = MfaDeviceState(last_step=last)
    result = check_code(KEY, code, state, float(now))
    if result.accepted:
        assert result.step is not None and result.step > last
        assert code == hotp(KEY, result.step)
    else:
        assert result.state.last_step == last
