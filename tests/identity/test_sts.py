"""STS: trust policies decide AssumeRole, sessions carry role policies and session policies,
expire to the second, cannot be forged; role chaining is capped at one hour; MFA."""

from __future__ import annotations

import json
import time

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAuthenticationCode,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    ValidationError,
)
from objstore.identity import totp

from .helpers import allow, policy, user_client

B = "bkt"


def trust(principal: object, **condition: object) -> str:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Clock:
    def __init__(self) -> None:
        self.ns = int(time.time()) * 10**9

    def __call__(self) -> int:
        return self.ns


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> objstore.Store:
    s = objstore.open(None, clock=clock)
    s.root.create_bucket(B)
    s.root.put_object(B, "k", b"v")
    return s


def session(store: objstore.Store, creds: objstore.identity.Credentials) -> objstore.Client:
    return store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)


def test_caller_identity_needs_no_permission(store: objstore.Store) -> None:
    c = user_client(store, "dev")
    who = c.sts.get_caller_identity()
    assert who.arn.endswith(":user/dev") and who.user_id.startswith("AIDA")
    assert store.root.sts.get_caller_identity().arn.endswith(":root")


def test_trust_policy_naming_the_user_allows_assume_role(store: objstore.Store) -> None:
    dev = user_client(store, "dev")
    other = user_client(store, "other")
    role = store.root.iam.create_role("reader", trust({"AWS": dev.identity.arn}))
    store.root.iam.put_role_policy("reader", "read", policy(allow("s3:GetObject")))
    creds = dev.sts.assume_role(role.arn, "s1")
    assert creds.access_key_id.startswith("ASIA")
    s = session(store, creds)
    assert s.identity.arn == f"arn:aws:sts::{store.account_id}:assumed-role/reader/s1"
    assert s.get_object(B, "k").read() == b"v"
    with pytest.raises(AccessDenied):
        s.put_object(B, "k", b"w")
    with pytest.raises(AccessDenied):
        other.sts.assume_role(role.arn, "s2")


def test_trust_naming_the_account_needs_an_identity_allow(store: objstore.Store) -> None:
    role = store.root.iam.create_role("acct", trust({"AWS": store.account_id}))
    plain = user_client(store, "plain")
    with pytest.raises(AccessDenied):
        plain.sts.assume_role(role.arn, "s0")
    allowed = user_client(store, "allowed", allow("sts:AssumeRole", role.arn))
    allowed.sts.assume_role(role.arn, "s0")


def test_external_id_condition(store: objstore.Store) -> None:
    dev = user_client(store, "dev")
    role = store.root.iam.create_role(
        "ext", trust({"AWS": dev.identity.arn}, StringEquals={"sts:ExternalId": "abc"})
    )
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(role.arn, "s0")
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(role.arn, "s0", external_id="abd")
    dev.sts.assume_role(role.arn, "s0", external_id="abc")


def test_session_policy_limits_and_expiry_to_the_second(
    store: objstore.Store, clock: Clock
) -> None:
    dev = user_client(store, "dev")
    role = store.root.iam.create_role("full", trust({"AWS": dev.identity.arn}))
    store.root.iam.attach_role_policy("full", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    creds = dev.sts.assume_role(
        role.arn, "narrow", duration_seconds=900, policy=policy(allow("s3:GetObject"))
    )
    s = session(store, creds)
    s.get_object(B, "k").close()
    with pytest.raises(AccessDenied):
        s.put_object(B, "x", b"1")  # the role allows it, the session policy does not
    clock.ns += 899 * 10**9
    s.get_object(B, "k").close()
    clock.ns += 10**9
    with pytest.raises(ExpiredToken):
        s.get_object(B, "k")
    with pytest.raises(ExpiredToken):
        session(store, creds)


def test_tampered_tokens_and_wrong_secrets_are_refused(store: objstore.Store) -> None:
    dev = user_client(store, "dev")
    creds = dev.sts.get_session_token()
    token = creds.session_token
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    with pytest.raises(InvalidClientTokenId):
        store.client(creds.access_key_id, creds.secret_access_key, flipped)
    with pytest.raises(SignatureDoesNotMatch):
        secret = creds.secret_access_key
        wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # never the real one
        store.client(creds.access_key_id, wrong, token)
    other = dev.sts.get_session_token()
    with pytest.raises(InvalidClientTokenId):  # a token only pairs with its own key id
        store.client(other.access_key_id, creds.secret_access_key, token)
    # Another store's key does not open this store's tokens.
    with objstore.open(None) as elsewhere, pytest.raises(InvalidClientTokenId):
        elsewhere.client(creds.access_key_id, creds.secret_access_key, token)


def test_role_chaining_is_capped_at_one_hour(store: objstore.Store) -> None:
    dev = user_client(store, "dev")
    first = store.root.iam.create_role(
        "first", trust({"AWS": dev.identity.arn}), max_session_duration=7200
    )
    second_trust = trust({"AWS": f"arn:aws:sts::{store.account_id}:assumed-role/first/s1"})
    second = store.root.iam.create_role("second", second_trust, max_session_duration=7200)
    dev.sts.assume_role(first.arn, "s0", duration_seconds=7200)  # not chained: up to 2 h
    s1 = session(store, dev.sts.assume_role(first.arn, "s1"))
    with pytest.raises(ValidationError):
        s1.sts.assume_role(second.arn, "s2", duration_seconds=3601)
    chained = s1.sts.assume_role(second.arn, "s2", duration_seconds=3600)
    assert session(store, chained).identity.role_arn == second.arn


def test_session_token_with_mfa_sets_multi_factor_auth_present(store: objstore.Store) -> None:
    iam = store.root.iam
    dev = user_client(
        store,
        "dev",
        allow("s3:GetObject", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    )
    device = iam.create_virtual_mfa_device("dev-mfa")
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    iam.enable_mfa_device(
        "dev", device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
    )
    with pytest.raises(AccessDenied):
        dev.get_object(B, "k")  # long-term keys carry no MFA
    plain = session(store, dev.sts.get_session_token())
    with pytest.raises(AccessDenied):
        plain.get_object(B, "k")
    code = totp.hotp(seed, step + 1)
    with_mfa = session(
        store, dev.sts.get_session_token(serial_number=device.serial_number, token_code=code)
    )
    with_mfa.get_object(B, "k").close()
    with pytest.raises(InvalidAuthenticationCode):  # a code works once
        dev.sts.get_session_token(serial_number=device.serial_number, token_code=code)
    with pytest.raises(AccessDenied):
        with_mfa.sts.get_session_token()  # not from a session


def test_mfa_condition_in_a_trust_policy(store: objstore.Store) -> None:
    iam = store.root.iam
    dev = user_client(store, "dev")
    role = iam.create_role(
        "guarded", trust({"AWS": dev.identity.arn}, Bool={"aws:MultiFactorAuthPresent": "true"})
    )
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(role.arn, "s0")
    device = iam.create_virtual_mfa_device("m")
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    iam.enable_mfa_device(
        "dev", device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
    )
    creds = dev.sts.assume_role(
        role.arn, "s0", serial_number=device.serial_number, token_code=totp.hotp(seed, step + 1)
    )
    assert session(store, creds).identity.mfa_authenticated_at is not None
