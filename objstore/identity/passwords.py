"""Console passwords: scrypt hashes, the account password policy, reuse prevention and expiry.

Why a module of its own: a password is the one credential a person chooses, so it is the one
an attacker who copies the store's files will try to guess offline. Hashes are therefore
memory-hard (scrypt, from :mod:`cryptography`), salted per password, and self-describing: the
stored string carries its scrypt parameters, so the defaults can be raised later and old hashes
still verify (:func:`needs_rehash` tells the caller when to re-hash at the next sign-in).

The rest is AWS's account password policy as pure rules:

* :class:`PasswordPolicy` has every field of UpdateAccountPasswordPolicy, with AWS's defaults
  for omitted ones (:meth:`PasswordPolicy.from_update`) and AWS's ranges (``ValidationError``).
* :func:`check_password` applies a policy - or AWS's default rules when the account has none -
  to a new password and raises :class:`PasswordPolicyViolation` naming every failed rule,
  including reuse of the last N passwords (checked against their hashes).
* :func:`expiry_status` / :func:`password_expires_at` decide what sign-in does with an old
  password (``MaxPasswordAge``, with and without ``HardExpiry``). Times are Unix seconds passed
  by the caller.

Stored format: ``$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>`` (salt and key in standard
base64 without padding), in the spirit of the PHC string format.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from objstore.errors import DataCorruption, PasswordPolicyViolation, ValidationError

__all__ = [
    "DEFAULT_SCRYPT",
    "HISTORY_LIMIT",
    "MAX_PASSWORD_LENGTH",
    "SYMBOLS",
    "PasswordExpiry",
    "PasswordPolicy",
    "ScryptParams",
    "check_password",
    "expiry_status",
    "hash_password",
    "is_expired",
    "needs_rehash",
    "password_expires_at",
    "remember_password",
    "validate_password_input",
    "verify_password",
]

MAX_PASSWORD_LENGTH = 128  # AWS's passwordType and MinimumPasswordLength maximum
HISTORY_LIMIT = 24  # PasswordReusePrevention's maximum: the most hashes ever worth keeping
# AWS's "non-alphanumeric characters" for RequireSymbols, exactly as its API reference lists them.
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
# AWS's passwordType pattern: tab, LF, CR and U+0020..U+00FF.
_PASSWORD_CHARS = re.compile(r"[\t\n\r\x20-\xff]+")
_SALT_BYTES = 16
_KEY_BYTES = 32
_SECONDS_PER_DAY = 86_400


# --- hashing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost: N = 2**log2_n, block size r, parallelism p (memory is 128 * N * r bytes).

    Raises :class:`ValidationError` for parameters outside sane bounds (N from 2**10 to 2**20,
    r from 1 to 32, p from 1 to 16), which also caps the work a tampered stored hash can demand.
    """

    log2_n: int = 15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        for name, low, high in (("log2_n", 10, 20), ("r", 1, 32), ("p", 1, 16)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"scrypt {name} must be an integer from {low} to {high}")


# 2**15 x 8 = 32 MiB and ~0.1 s per hash here: memory-hard, yet a reuse check over the 24
# remembered hashes stays around three seconds. Stored hashes carry their parameters, so this
# can be raised later without invalidating anything.
DEFAULT_SCRYPT = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    # Unpadded base64 leaves spare bits in its last character; only the canonical spelling is
    # accepted, so one stored hash has exactly one text (no silently equivalent edits).
    if _b64(data) != text:
        raise ValueError("non-canonical base64")
    return data


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    # surrogatepass: every Python str hashes (a lone surrogate cannot make encode() raise).
    secret = password.encode("utf-8", "surrogatepass")
    kdf = Scrypt(salt=salt, length=_KEY_BYTES, n=1 << params.log2_n, r=params.r, p=params.p)
    return kdf.derive(secret)


def hash_password(password: str, *, params: ScryptParams = DEFAULT_SCRYPT) -> str:
    """A fresh salted scrypt hash of ``password``, as a self-describing string.

    Raises :class:`ValidationError` when ``password`` is not a string.
    """
    if not isinstance(password, str):
        raise ValidationError("a password must be a string")
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, params)
    return f"$scrypt$ln={params.log2_n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


_STORED = re.compile(
    r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{43})"
)


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    match = _STORED.fullmatch(stored) if isinstance(stored, str) else None
    if match is None:
        raise DataCorruption("a stored password hash is not in objstore's scrypt format")
    try:
        params = ScryptParams(int(match[1]), int(match[2]), int(match[3]))
        return params, _unb64(match[4]), _unb64(match[5])
    except (ValidationError, binascii.Error, ValueError):
        raise DataCorruption("a stored password hash has invalid parameters") from None


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` hashes to ``stored`` (compared in constant time).

    A non-string password is simply wrong (False). Raises :class:`DataCorruption` when
    ``stored`` is not a hash this module wrote: a damaged record must not read as "wrong
    password", or an administrator would reset it instead of investigating.
    """
    params, salt, key = _parse(stored)
    if not isinstance(password, str):
        return False
    return hmac.compare_digest(_derive(password, salt, params), key)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_SCRYPT) -> bool:
    """True when ``stored`` was made with other scrypt parameters than ``params``.

    Raises :class:`DataCorruption` as :func:`verify_password` does.
    """
    return _parse(stored)[0] != params


# --- policy -------------------------------------------------------------------------------------


def _check_int(name: str, value: object, low: int, high: int, *, optional: bool) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        # AWS answers a value outside the API model's range with this ValidationError message.
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
            f"constraint: Member must have value between {low} and {high}",
            field=name,
        )


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """An account password policy, field for field as AWS's (snake_case names).

    ``max_password_age`` and ``password_reuse_prevention`` are ``None`` when unset (AWS reports
    them absent: passwords never expire, any old password may be reused). Raises
    :class:`ValidationError` for a value outside AWS's range: minimum length 6-128, maximum
    age 1-1095 days, reuse prevention 1-24; a non-bool flag.
    """

    minimum_password_length: int = 6
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase_characters: bool = False
    require_lowercase_characters: bool = False
    allow_users_to_change_password: bool = False
    max_password_age: int | None = None
    password_reuse_prevention: int | None = None
    hard_expiry: bool = False

    def __post_init__(self) -> None:
        _check_int("minimumPasswordLength", self.minimum_password_length, 6, 128, optional=False)
        _check_int("maxPasswordAge", self.max_password_age, 1, 1095, optional=True)
        _check_int("passwordReusePrevention", self.password_reuse_prevention, 1, 24, optional=True)
        for name in (
            "require_symbols",
            "require_numbers",
            "require_uppercase_characters",
            "require_lowercase_characters",
            "allow_users_to_change_password",
            "hard_expiry",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be true or false", field=name)

    @classmethod
    def from_update(
        cls,
        *,
        minimum_password_length: int | None = None,
        require_symbols: bool = False,
        require_numbers: bool = False,
        require_uppercase_characters: bool = False,
        require_lowercase_characters: bool = False,
        allow_users_to_change_password: bool = False,
        max_password_age: int | None = None,
        password_reuse_prevention: int | None = None,
        hard_expiry: bool = False,
    ) -> PasswordPolicy:
        """The policy UpdateAccountPasswordPolicy sets: omitted fields take AWS's defaults.

        The update replaces the whole policy; an omitted minimum length is 6. As in AWS, the
        "off" values cannot be passed explicitly (0 days or 0 passwords is a ValidationError);
        omit them instead. Raises :class:`ValidationError`.
        """
        return cls(
            minimum_password_length=6
            if minimum_password_length is None
            else minimum_password_length,
            require_symbols=require_symbols,
            require_numbers=require_numbers,
            require_uppercase_characters=require_uppercase_characters,
            require_lowercase_characters=require_lowercase_characters,
            allow_users_to_change_password=allow_users_to_change_password,
            max_password_age=max_password_age,
            password_reuse_prevention=password_reuse_prevention,
            hard_expiry=hard_expiry,
        )

    @property
    def expire_passwords(self) -> bool:
        """AWS's ``ExpirePasswords``: true when a maximum age is set."""
        return self.max_password_age is not None


def validate_password_input(password: object) -> str:
    """Check a password against AWS's API constraints (not the policy) and return it.

    1 to 128 characters among tab, LF, CR and U+0020..U+00FF. Raises :class:`ValidationError`.
    """
    if not isinstance(password, str):
        raise ValidationError("a password must be a string", field="password")
    if not 1 <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"a password must be 1 to {MAX_PASSWORD_LENGTH} characters long", field="password"
        )
    if _PASSWORD_CHARS.fullmatch(password) is None:
        raise ValidationError(
            "a password may contain only printable Latin-1 characters, tab, LF and CR",
            field="password",
        )
    return password


_CLASSES = {
    "RequireUppercaseCharacters": re.compile(r"[A-Z]"),
    "RequireLowercaseCharacters": re.compile(r"[a-z]"),
    "RequireNumbers": re.compile(r"[0-9]"),
    "RequireSymbols": re.compile(r"[!@#$%^&*()_+\-=\[\]{}|']"),
}


def _character_classes(password: str) -> dict[str, bool]:
    # AWS counts only ASCII letters and digits ("ISO basic Latin"), and only its listed symbols.
    return {rule: pattern.search(password) is not None for rule, pattern in _CLASSES.items()}


_RULE_TEXT = {
    "RequireUppercaseCharacters": "at least one uppercase letter (A-Z)",
    "RequireLowercaseCharacters": "at least one lowercase letter (a-z)",
    "RequireNumbers": "at least one number (0-9)",
    "RequireSymbols": "at least one of ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '",
}


def check_password(
    policy: PasswordPolicy | None,
    password: str,
    previous_hashes: Sequence[str] = (),
    *,
    account_name: str | None = None,
) -> None:
    """Check a new password against the account's policy; return quietly when it passes.

    ``policy=None`` applies AWS's default rules (no custom policy, and the root user's own
    rules): 8 to 128 characters, at least three of uppercase, lowercase, numbers and symbols,
    and not equal to ``account_name``. ``previous_hashes`` are the user's password hashes,
    newest (the current password) first; the policy's ``password_reuse_prevention`` decides how
    many of them the new password may not equal.

    Raises :class:`ValidationError` when the password breaks AWS's input constraints,
    :class:`PasswordPolicyViolation` naming every failed rule otherwise (``details["rules"]``
    lists the policy field names), and :class:`DataCorruption` for a damaged stored hash.
    """
    validate_password_input(password)
    classes = _character_classes(password)
    failed: list[str] = []
    reasons: list[str] = []
    if policy is None:
        if len(password) < 8:
            failed.append("MinimumPasswordLength")
            reasons.append("at least 8 characters")
        if sum(classes.values()) < 3:
            failed.append("CharacterTypes")
            reasons.append("at least three of uppercase, lowercase, numbers and symbols")
        if account_name is not None and password == account_name:
            failed.append("AccountName")
            reasons.append("not the account name")
    else:
        if len(password) < policy.minimum_password_length:
            failed.append("MinimumPasswordLength")
            reasons.append(f"at least {policy.minimum_password_length} characters")
        required = {
            "RequireUppercaseCharacters": policy.require_uppercase_characters,
            "RequireLowercaseCharacters": policy.require_lowercase_characters,
            "RequireNumbers": policy.require_numbers,
            "RequireSymbols": policy.require_symbols,
        }
        for rule, wanted in required.items():
            if wanted and not classes[rule]:
                failed.append(rule)
                reasons.append(_RULE_TEXT[rule])
        reuse = policy.password_reuse_prevention or 0
        # Every remembered hash is verified (no early exit): the time taken does not tell which
        # of the old passwords matched.
        matches = [verify_password(password, h) for h in previous_hashes[:reuse]]
        if any(matches):
            failed.append("PasswordReusePrevention")
            reasons.append(f"not one of the last {reuse} passwords")
    if failed:
        raise PasswordPolicyViolation(
            "Password does not conform to the account password policy: it needs "
            + "; ".join(reasons),
            rules=tuple(failed),
        )


def remember_password(previous_hashes: Sequence[str], new_hash: str) -> tuple[str, ...]:
    """The password history after a change: the new hash first, at most 24 kept.

    Keeping the maximum whatever the policy says lets a later, stricter reuse policy apply at
    once, as AWS's does.
    """
    return (new_hash, *previous_hashes)[:HISTORY_LIMIT]


# --- expiry -------------------------------------------------------------------------------------


class PasswordExpiry(Enum):
    """What sign-in does with a password of a given age."""

    VALID = "valid"
    EXPIRED = "expired"  # the user must choose a new password before going on
    HARD_EXPIRED = "hard_expired"  # HardExpiry: only an administrator can reset it


def password_expires_at(
    password_last_changed: float, policy: PasswordPolicy | None
) -> float | None:
    """Unix time the password expires at, or ``None`` when the policy sets no maximum age.

    This is the credential report's ``password_next_rotation``.
    """
    if policy is None or policy.max_password_age is None:
        return None
    return password_last_changed + policy.max_password_age * _SECONDS_PER_DAY


def is_expired(now: float, password_last_changed: float, policy: PasswordPolicy | None) -> bool:
    """True when the password is at least ``max_password_age`` days old at ``now``.

    A new maximum age applies at once to existing passwords, as in AWS.
    """
    expires = password_expires_at(password_last_changed, policy)
    return expires is not None and now >= expires


def expiry_status(
    now: float, password_last_changed: float, policy: PasswordPolicy | None
) -> PasswordExpiry:
    """VALID, EXPIRED (must change at sign-in) or HARD_EXPIRED (refused until an admin resets)."""
    if not is_expired(now, password_last_changed, policy):
        return PasswordExpiry.VALID
    hard = policy is not None and policy.hard_expiry
    return PasswordExpiry.HARD_EXPIRED if hard else PasswordExpiry.EXPIRED
