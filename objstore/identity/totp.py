"""Virtual MFA: RFC 6238 time-based one-time passwords, as AWS virtual MFA devices use them.

Why a module of its own: MFA is the second factor the root and IAM users sign in with, and the
"MFA present" fact that STS puts into a session. Getting it wrong is quiet (a replayed code that
still works, a lockout that never triggers), so the whole rule set lives here as pure functions
over explicit state, with no clock and no storage of its own:

* :func:`hotp` / :func:`totp` compute codes (RFC 4226 dynamic truncation over HMAC-SHA1, -SHA256
  or -SHA512; 6 to 10 digits; 30-second steps from the Unix epoch). The RFC 6238 test vectors
  (8 digits, all three hashes) are checked in the tests.
* :func:`new_seed`, :func:`seed_to_base32`, :func:`seed_from_base32` and :func:`otpauth_uri`
  create a device the way AWS does: a 160-bit secret shown once as base32 and as an
  ``otpauth://totp/...`` URI for a QR code.
* :func:`verify_enable_codes` checks the two consecutive codes that enabling a device needs.
* :func:`check_code` verifies a sign-in code. The caller passes the device's persisted
  :class:`MfaDeviceState` and stores the returned one, whatever the outcome: it carries the last
  accepted time step (RFC 6238 section 5.2: a code is accepted at most once, and never a code
  older than the newest accepted one) and the lockout counters of :class:`LockoutPolicy`.

Every time is a ``now`` in Unix seconds passed by the caller (from its injected clock); codes are
compared with :func:`hmac.compare_digest`, every candidate in the skew window is computed and
compared, so response time does not tell which step matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from objstore.errors import InvalidAuthenticationCode, InvalidInput

__all__ = [
    "DEFAULT_LOCKOUT",
    "DIGITS",
    "ISSUER",
    "SEED_BYTES",
    "STEP",
    "CodeOutcome",
    "CodeCheck",
    "LockoutPolicy",
    "MfaDeviceState",
    "check_code",
    "hotp",
    "new_seed",
    "otpauth_uri",
    "seed_from_base32",
    "seed_to_base32",
    "time_step",
    "totp",
    "verify_enable_codes",
]

STEP = 30  # seconds per time step (RFC 6238's default, and every authenticator app's)
DIGITS = 6  # AWS virtual MFA codes are six digits
SEED_BYTES = 20  # 160-bit secret, as AWS's Base32StringSeed (RFC 4226 recommends 160 bits)
ISSUER = "objstore"
_MIN_KEY_BYTES = 16  # RFC 4226 R6: the shared secret is at least 128 bits

_HASHES: dict[str, Callable[..., Any]] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}


# --- codes --------------------------------------------------------------------------------------


def _check_params(key: bytes, digits: int, algorithm: str) -> Callable[..., Any]:
    if not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES:
        raise InvalidInput(f"an OTP secret must be at least {_MIN_KEY_BYTES} bytes")
    # Below 6 digits guessing is too easy (RFC 4226 R4); above 10 the 31-bit value runs out.
    if isinstance(digits, bool) or not isinstance(digits, int) or not 6 <= digits <= 10:
        raise InvalidInput("digits must be an integer from 6 to 10")
    digest = _HASHES.get(algorithm)
    if digest is None:
        raise InvalidInput(f"algorithm must be one of {', '.join(_HASHES)}")
    return digest


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    """The RFC 4226 one-time password for ``counter``, as a zero-padded decimal string.

    Raises :class:`InvalidInput` for a key under 16 bytes, a counter outside 0..2**64-1, digits
    outside 6..10 or an algorithm other than SHA1/SHA256/SHA512.
    """
    digest = _check_params(key, digits, algorithm)
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter < 1 << 64:
        raise InvalidInput("an OTP counter must be an integer from 0 to 2**64-1")
    mac = hmac.new(key, counter.to_bytes(8, "big"), digest).digest()
    offset = mac[-1] & 0x0F  # dynamic truncation (RFC 4226 section 5.3)
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def time_step(now: float, *, step: int = STEP) -> int:
    """The RFC 6238 counter T for Unix time ``now`` (T0 = 0).

    Raises :class:`InvalidInput` for a time before the epoch or a step below one second.
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise InvalidInput("the time step must be a positive number of seconds")
    if now < 0:
        raise InvalidInput("TOTP times start at the Unix epoch")
    return int(now // step)


def totp(
    key: bytes, now: float, *, step: int = STEP, digits: int = DIGITS, algorithm: str = "SHA1"
) -> str:
    """The RFC 6238 code a device with secret ``key`` shows at Unix time ``now``.

    Raises :class:`InvalidInput` as :func:`hotp` and :func:`time_step` do.
    """
    return hotp(key, time_step(now, step=step), digits=digits, algorithm=algorithm)


# --- devices ------------------------------------------------------------------------------------


def new_seed() -> bytes:
    """A fresh random 160-bit device secret (from :mod:`secrets`)."""
    return secrets.token_bytes(SEED_BYTES)


def seed_to_base32(seed: bytes) -> str:
    """The seed as AWS's ``Base32StringSeed``: RFC 4648 base32, upper case, without padding."""
    return base64.b32encode(seed).decode("ascii").rstrip("=")


def seed_from_base32(text: str) -> bytes:
    """Decode a base32 seed (case and spaces ignored, padding optional).

    Raises :class:`InvalidInput` when the text is not base32 or holds fewer than 128 bits.
    """
    if not isinstance(text, str):
        raise InvalidInput("a base32 seed must be a string")
    cleaned = text.replace(" ", "").upper().rstrip("=")
    if not cleaned.isascii():
        raise InvalidInput("a base32 seed is ASCII")
    try:
        seed = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise InvalidInput("the seed is not valid base32") from None
    if len(seed) < _MIN_KEY_BYTES:
        raise InvalidInput(f"an OTP secret must be at least {_MIN_KEY_BYTES} bytes")
    return seed


def otpauth_uri(base32_seed: str, account: str, user: str, *, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/`` URI (Key Uri Format) an authenticator app scans.

    The label is ``issuer:account/user`` (percent-encoded as UTF-8), and the parameters name the
    secret, the issuer, SHA1, 6 digits and a 30-second period, so apps that ignore defaults still
    agree with :func:`totp`. Raises :class:`InvalidInput` for an empty part, a ``:`` in the issuer
    or the account (it separates them in the label) or a seed that is not base32.
    """
    seed_from_base32(base32_seed)  # refuse a seed no app could use
    for name, value in (("issuer", issuer), ("account", account), ("user", user)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"the {name} of an MFA device label must be a non-empty string")
        if not value.isprintable():
            raise InvalidInput(f"the {name} of an MFA device label has unprintable characters")
    if ":" in issuer or ":" in account:
        raise InvalidInput("the issuer and account of an MFA device label cannot contain ':'")
    label = quote(issuer, safe="") + ":" + quote(f"{account}/{user}", safe="")
    secret = base32_seed.replace(" ", "").upper().rstrip("=")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP}"
    )


def _matches(code: str, expected: str) -> bool:
    # Both sides are encoded so compare_digest accepts any str, and a non-ASCII "digit" such as
    # Arabic-Indic one (U+0661) can never equal an ASCII one.
    return hmac.compare_digest(code.encode("utf-8", "surrogatepass"), expected.encode("ascii"))


def _well_formed(code: object, digits: int) -> bool:
    return isinstance(code, str) and len(code) == digits and code.isascii() and code.isdigit()


def verify_enable_codes(
    key: bytes,
    code1: str,
    code2: str,
    now: float,
    *,
    window: int = 1,
    step: int = STEP,
    digits: int = DIGITS,
    algorithm: str = "SHA1",
) -> MfaDeviceState:
    """Check the two consecutive codes that enable a device (AWS EnableMFADevice).

    ``code1`` must be the code of some step T and ``code2`` that of T+1, with T+1 within
    ``window`` steps of now (a user typically types one code, waits, and types the next).
    Returns the device's first :class:`MfaDeviceState`, with both steps already used, so neither
    code works again for sign-in. Raises :class:`InvalidAuthenticationCode` otherwise, and
    :class:`InvalidInput` for bad parameters.
    """
    _check_params(key, digits, algorithm)
    current = time_step(now, step=step)
    if not (_well_formed(code1, digits) and _well_formed(code2, digits)):
        raise InvalidAuthenticationCode("authentication codes are not valid")
    found: int | None = None
    # T+1 within [current - window, current + window], so T from current - window - 1.
    for first in range(max(current - window - 1, 0), current + window):
        one = _matches(code1, hotp(key, first, digits=digits, algorithm=algorithm))
        two = _matches(code2, hotp(key, first + 1, digits=digits, algorithm=algorithm))
        # '&' not 'and': both comparisons run for every candidate (no early exit to time).
        if (one & two) and found is None:
            found = first + 1
    if found is None:
        raise InvalidAuthenticationCode("authentication codes are not valid")
    return MfaDeviceState(last_step=found)


# --- sign-in verification with replay protection and lockout -------------------------------------


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After ``max_failures`` consecutive rejected codes, refuse every code for ``lockout_seconds``.

    Raises :class:`InvalidInput` for values below one.
    """

    max_failures: int = 5
    lockout_seconds: int = 300

    def __post_init__(self) -> None:
        for name in ("max_failures", "lockout_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a positive integer")


DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True, slots=True)
class MfaDeviceState:
    """What a device must remember between codes; the caller persists it after every check.

    ``last_step``: the newest time step whose code was accepted (-1: none yet); only later steps
    are accepted. ``failures``: consecutive rejections since the last success or lockout.
    ``locked_until``: Unix time before which every code is refused (0: not locked).
    """

    last_step: int = -1
    failures: int = 0
    locked_until: float = 0.0

    def is_locked(self, now: float) -> bool:
        """True while the lockout lasts."""
        return now < self.locked_until


class CodeOutcome(Enum):
    """Why :func:`check_code` accepted or refused a code (callers answer every refusal alike)."""

    ACCEPTED = "accepted"
    INVALID = "invalid"  # malformed, or no step in the window produces it
    REPLAYED = "replayed"  # produced by a step at or before the last accepted one
    LOCKED = "locked"  # refused unseen: the device is locked out


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The verdict of :func:`check_code` and the device state to persist (always)."""

    outcome: CodeOutcome
    state: MfaDeviceState
    step: int | None = None  # the time step the accepted code belongs to

    @property
    def accepted(self) -> bool:
        """True when the code was accepted."""
        return self.outcome is CodeOutcome.ACCEPTED


def check_code(
    key: bytes,
    code: str,
    state: MfaDeviceState,
    now: float,
    *,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
    window: int = 1,
    step: int = STEP,
    digits: int = DIGITS,
    algorithm: str = "SHA1",
) -> CodeCheck:
    """Verify a sign-in code against a device, at most once per code.

    A code is accepted when it is the code of a step within ``window`` steps of ``now`` and later
    than ``state.last_step``; several matching steps (a one-in-a-million coincidence) use the
    earliest unused one. While ``state`` is locked every code is refused without being looked at
    and the state is returned unchanged (refusals during a lockout do not prolong it). Otherwise a
    refusal counts a failure, and the ``policy.max_failures``-th in a row starts a lockout. The
    caller persists :attr:`CodeCheck.state` in every case. Raises :class:`InvalidInput` for bad
    parameters, never for a bad code.
    """
    _check_params(key, digits, algorithm)
    current = time_step(now, step=step)
    if state.is_locked(now):
        return CodeCheck(CodeOutcome.LOCKED, state)
    fresh: int | None = None
    replayed = False
    if _well_formed(code, digits):
        for candidate in range(max(current - window, 0), current + window + 1):
            hit = _matches(code, hotp(key, candidate, digits=digits, algorithm=algorithm))
            if hit and candidate > state.last_step:
                fresh = candidate if fresh is None else fresh
            elif hit:
                replayed = True
    if fresh is not None:
        return CodeCheck(CodeOutcome.ACCEPTED, MfaDeviceState(last_step=fresh), fresh)
    failures = state.failures + 1
    if failures >= policy.max_failures:
        new_state = MfaDeviceState(state.last_step, 0, now + policy.lockout_seconds)
    else:
        new_state = MfaDeviceState(state.last_step, failures, 0.0)
    return CodeCheck(CodeOutcome.REPLAYED if replayed else CodeOutcome.INVALID, new_state)
