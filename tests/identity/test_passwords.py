"""Passwords: scrypt hashes, the AWS password policy, reuse prevention and expiry."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import DataCorruption, PasswordPolicyViolation, ValidationError
from objstore.identity.passwords import (
    DEFAULT_SCRYPT,
    HISTORY_LIMIT,
    SYMBOLS,
    PasswordExpiry,
    PasswordPolicy,
    ScryptParams,
    check_password,
    expiry_status,
    hash_password,
    is_expired,
    needs_rehash,
    password_expires_at,
    remember_password,
    validate_password_input,
    verify_password,
)

# Cheap parameters keep the suite fast; the format and the defaults are tested separately.
FAST = ScryptParams(log2_n=10, r=1, p=1)
DAY = 86_400


def h(password: str) -> str:
    return hash_password(password, params=FAST)


# --- hashing ----------------------------------------------------------------------------------


def test_default_hash_format_and_verify() -> None:
    """The default hash names its parameters and verifies the right password only."""
    stored = hash_password("correct horse")
    assert stored.startswith("$scrypt$ln=15,r=8,p=1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert not needs_rehash(stored)
    assert needs_rehash(stored, ScryptParams(log2_n=16))


def test_salt_is_per_password() -> None:
    """The same password hashes differently each time, and both verify."""
    a, b = h("same"), h("same")
    assert a != b
    assert verify_password("same", a) and verify_password("same", b)


def test_parameters_travel_with_the_hash() -> None:
    """A hash made with other parameters still verifies after the defaults change."""
    stored = hash_password("pw", params=ScryptParams(log2_n=11, r=2, p=2))
    assert stored.startswith("$scrypt$ln=11,r=2,p=2$")
    assert verify_password("pw", stored)
    assert needs_rehash(stored, DEFAULT_SCRYPT)
    assert not needs_rehash(stored, ScryptParams(11, 2, 2))


@pytest.mark.parametrize(
    "password", ["", " ", "p\u00e4ss", "\u5bc6\u7801", "\U0001f511", "\udc80", "x" * 10_000]
)
def test_any_string_hashes_and_verifies(password: str) -> None:
    """Empty, non-ASCII, emoji, a lone surrogate and very long input all work."""
    stored = h(password)
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)


def test_unicode_forms_are_distinct() -> None:
    """No silent normalization: composed and decomposed forms are different passwords."""
    assert not verify_password("e\u0301", h("\u00e9"))


def test_non_string_password() -> None:
    """Hashing a non-string is a ValidationError; verifying one is simply wrong."""
    with pytest.raises(ValidationError):
        hash_password(b"bytes")  # type: ignore[arg-type]
    assert not verify_password(None, h("x"))  # type: ignore[arg-type]


def test_tampered_hash_bytes_fail_or_report_corruption() -> None:
    """Changing any character of a stored hash never verifies; broken shapes are corruption."""
    stored = h("secret")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i, ch in enumerate(stored):
        replacement = next(c for c in alphabet if c != ch)
        tampered = stored[:i] + replacement + stored[i + 1 :]
        with contextlib.suppress(DataCorruption):
            assert not verify_password("secret", tampered), i


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "$scrypt$ln=15,r=8,p=1$",
        "$scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,  # N beyond the cap
        "$scrypt$ln=10,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,
        "$scrypt$ln=10,r=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 42,  # short key
        "$scrypt$ln=10,r=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43 + "\n",
        "$scrypt$ln=10,r=1,p=1$AAAAAAAAAAAAAAAAA$" + "A" * 43,  # 17 chars: not base64
        "$bcrypt$2b$12$abcdefghijklmnopqrstuv",
    ],
)
def test_malformed_stored_hash_is_corruption(stored: str) -> None:
    """Never 'wrong password' for a damaged record, never a raw ValueError."""
    with pytest.raises(DataCorruption):
        verify_password("x", stored)
    with pytest.raises(DataCorruption):
        needs_rehash(stored)


@pytest.mark.parametrize(
    "kwargs", [{"log2_n": 9}, {"log2_n": 21}, {"r": 33}, {"p": 0}, {"p": True}]
)
def test_scrypt_param_bounds(kwargs: dict[str, int]) -> None:
    """Parameters outside the sane range are refused."""
    with pytest.raises(ValidationError):
        ScryptParams(**kwargs)


# --- policy values ----------------------------------------------------------------------------


def test_policy_defaults_are_aws_defaults() -> None:
    """An update that omits every field gives AWS's policy: length 6, nothing else."""
    policy = PasswordPolicy.from_update()
    assert policy == PasswordPolicy()
    assert policy.minimum_password_length == 6
    assert policy.max_password_age is None and not policy.expire_passwords
    assert policy.password_reuse_prevention is None
    assert not (
        policy.require_symbols or policy.hard_expiry or policy.allow_users_to_change_password
    )


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("minimum_password_length", [6, 7, 128], [5, 0, -1, 129, True, None, 8.0, "8"]),
        ("max_password_age", [1, 90, 1095, None], [0, -1, 1096, True, 1.5]),
        ("password_reuse_prevention", [1, 24, None], [0, 25, False]),
    ],
)
def test_policy_ranges(field: str, good: list[object], bad: list[object]) -> None:
    """AWS's ranges, inclusive; the 'off' value 0 cannot be passed explicitly."""
    for value in good:
        assert getattr(PasswordPolicy(**{field: value}), field) == value  # type: ignore[arg-type]
    for value in bad:
        with pytest.raises(ValidationError) as info:
            PasswordPolicy(**{field: value})  # type: ignore[arg-type]
        assert info.value.code == "ValidationError" and info.value.http_status == 400


def test_policy_flags_must_be_bools() -> None:
    """A truthy non-bool is refused rather than guessed at."""
    with pytest.raises(ValidationError):
        PasswordPolicy(require_symbols=1)  # type: ignore[arg-type]


def test_from_update_passes_every_field() -> None:
    """Every UpdateAccountPasswordPolicy field reaches the policy."""
    policy = PasswordPolicy.from_update(
        minimum_password_length=14,
        require_symbols=True,
        require_numbers=True,
        require_uppercase_characters=True,
        require_lowercase_characters=True,
        allow_users_to_change_password=True,
        max_password_age=90,
        password_reuse_prevention=24,
        hard_expiry=True,
    )
    assert policy == PasswordPolicy(14, True, True, True, True, True, 90, 24, True)
    assert policy.expire_passwords


# --- checking passwords -----------------------------------------------------------------------


def _rules(policy: PasswordPolicy | None, password: str, history: tuple[str, ...] = ()) -> set[str]:
    try:
        check_password(policy, password, history)
    except PasswordPolicyViolation as err:
        assert err.code == "PasswordPolicyViolation" and err.http_status == 400
        return set(err.details["rules"])
    return set()


STRICT = PasswordPolicy(
    minimum_password_length=10,
    require_symbols=True,
    require_numbers=True,
    require_uppercase_characters=True,
    require_lowercase_characters=True,
)


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("Aa1!aaaaaa", set()),
        ("Aa1!aaaaa", {"MinimumPasswordLength"}),
        ("aa1!aaaaaa", {"RequireUppercaseCharacters"}),
        ("AA1!AAAAAA", {"RequireLowercaseCharacters"}),
        ("Aa!!aaaaaa", {"RequireNumbers"}),
        ("Aa1aaaaaaa", {"RequireSymbols"}),
        ("Aa1~aaaaaa", {"RequireSymbols"}),  # '~' is not in AWS's symbol list
        ("Aa1\u00e9aaaaaa", {"RequireSymbols"}),  # Latin-1 letters are neither case nor symbol
        (
            "\u00e9\u00e9\u00e9",
            {
                "MinimumPasswordLength",
                "RequireUppercaseCharacters",
                "RequireLowercaseCharacters",
                "RequireNumbers",
                "RequireSymbols",
            },
        ),
    ],
)
def test_each_rule_is_named(password: str, failed: set[str]) -> None:
    """Every failed rule is reported, and only those."""
    assert _rules(STRICT, password) == failed


@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_every_aws_symbol_counts(symbol: str) -> None:
    """Each of AWS's listed symbols satisfies RequireSymbols."""
    assert _rules(PasswordPolicy(require_symbols=True), "abcdef" + symbol) == set()


def test_symbol_set_is_exactly_aws_list() -> None:
    """! @ # $ % ^ & * ( ) _ + - = [ ] { } | ' and nothing else."""
    assert frozenset("!@#$%^&*()_+-=[]{}|'") == SYMBOLS and len(SYMBOLS) == 20


def test_length_is_in_characters_not_bytes() -> None:
    """Six Latin-1 characters (12 UTF-8 bytes) meet a minimum of 6, five do not."""
    assert _rules(PasswordPolicy(), "\u00e9" * 6) == set()
    assert _rules(PasswordPolicy(), "\u00e9" * 5) == {"MinimumPasswordLength"}


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("Abcdefg1", set()),  # 8 characters, three types
        ("abcdef1!", set()),
        ("Abcdef1", {"MinimumPasswordLength"}),
        ("abcdefgh1", {"CharacterTypes"}),  # two types only
        ("ABCDEFGH", {"CharacterTypes"}),
    ],
)
def test_aws_default_rules_without_a_policy(password: str, failed: set[str]) -> None:
    """No custom policy: 8+ characters and three of the four character types."""
    assert _rules(None, password) == failed


def test_default_rules_refuse_the_account_name() -> None:
    """The password may not equal the account name under the default rules."""
    with pytest.raises(PasswordPolicyViolation) as info:
        check_password(None, "MyAccount1", account_name="MyAccount1")
    assert info.value.details["rules"] == ("AccountName",)
    check_password(None, "MyAccount1", account_name="other")


@pytest.mark.parametrize(
    "password", ["", "x" * 129, "tab\tok" + "\x00", "\u0100bcdefgh", "\x7f" * 8]
)
def test_input_constraints_are_validation_errors(password: str) -> None:
    """Outside AWS's password pattern or 1-128 length: ValidationError, not a policy violation."""
    if password == "\x7f" * 8:
        # DEL is inside U+0020..U+00FF, so AWS's pattern accepts it.
        assert validate_password_input(password) == password
        return
    with pytest.raises(ValidationError):
        check_password(PasswordPolicy(), password)


def test_maximal_password_accepted() -> None:
    """128 characters with every class and tab/LF/CR passes the strictest policy."""
    password = ("Aa1!\t\n\r\u00ff" * 16)[:128]
    assert len(password) == 128
    check_password(PasswordPolicy(minimum_password_length=128, require_symbols=True), password)


def test_reuse_prevention_over_the_last_n() -> None:
    """With reuse prevention N, the N newest hashes (current first) are refused; older ones not."""
    history = tuple(h(f"Password{i}!") for i in range(5))  # index 0 = current password
    policy = PasswordPolicy(password_reuse_prevention=3)
    for i in range(3):
        assert _rules(policy, f"Password{i}!", history) == {"PasswordReusePrevention"}
    for i in range(3, 5):
        assert _rules(policy, f"Password{i}!", history) == set()
    assert _rules(policy, "Fresh-password1", history) == set()
    # Without reuse prevention nothing is compared.
    assert _rules(PasswordPolicy(), "Password0!", history) == set()


def test_reuse_and_complexity_reported_together() -> None:
    """A reused password that also breaks a rule names both."""
    history = (h("short"),)
    policy = PasswordPolicy(minimum_password_length=8, password_reuse_prevention=1)
    assert _rules(policy, "short", history) == {"MinimumPasswordLength", "PasswordReusePrevention"}


def test_reuse_check_with_corrupt_history_is_corruption() -> None:
    """A damaged history entry is reported, not skipped."""
    with pytest.raises(DataCorruption):
        check_password(PasswordPolicy(password_reuse_prevention=2), "whatever1", ("garbage",))


def test_remember_password_keeps_24_newest_first() -> None:
    """History grows newest-first and is capped at 24."""
    history: tuple[str, ...] = ()
    for i in range(30):
        history = remember_password(history, f"hash{i}")
    assert len(history) == HISTORY_LIMIT
    assert history[0] == "hash29" and history[-1] == "hash6"


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40))
def test_check_password_is_a_model(password: str) -> None:
    """check_password agrees with a direct reading of the rules for any Latin-1 text."""
    policy = PasswordPolicy(minimum_password_length=8, require_symbols=True, require_numbers=True)
    expected = set()
    if len(password) < 8:
        expected.add("MinimumPasswordLength")
    if not any(c in SYMBOLS for c in password):
        expected.add("RequireSymbols")
    if not any(c in "0123456789" for c in password):
        expected.add("RequireNumbers")
    if not password:
        with pytest.raises(ValidationError):
            check_password(policy, password)
    else:
        assert _rules(policy, password) == expected


# --- expiry -----------------------------------------------------------------------------------


def test_expiry_to_the_day() -> None:
    """A 90-day password expires exactly 90 days after its last change."""
    policy = PasswordPolicy(max_password_age=90)
    changed = 1_700_000_000.0
    assert password_expires_at(changed, policy) == changed + 90 * DAY
    assert not is_expired(changed + 90 * DAY - 1, changed, policy)
    assert is_expired(changed + 90 * DAY, changed, policy)
    assert expiry_status(changed + 90 * DAY, changed, policy) is PasswordExpiry.EXPIRED


def test_hard_expiry() -> None:
    """With HardExpiry an expired password needs an administrator."""
    policy = PasswordPolicy(max_password_age=1, hard_expiry=True)
    assert expiry_status(DAY, 0, policy) is PasswordExpiry.HARD_EXPIRED
    assert expiry_status(DAY - 1, 0, policy) is PasswordExpiry.VALID


def test_no_expiry_without_a_maximum_age() -> None:
    """No policy, or no MaxPasswordAge: passwords never expire (HardExpiry alone does nothing)."""
    for policy in (None, PasswordPolicy(), PasswordPolicy(hard_expiry=True)):
        assert password_expires_at(0, policy) is None
        assert not is_expired(10**12, 0, policy)
        assert expiry_status(10**12, 0, policy) is PasswordExpiry.VALID


def test_non_canonical_base64_is_corruption() -> None:
    """Regression: a last character differing only in base64's spare bits used to verify."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stored = h("secret")
    last = alphabet.index(stored[-1])
    twin = alphabet[last ^ 1]  # a 32-byte key in 43 characters leaves the low 2 bits unused
    with pytest.raises(DataCorruption):
        verify_password("secret", stored[:-1] + twin)
