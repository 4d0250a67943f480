"""AWS's fixed rules for temporary credentials, whatever the policies say (break-it review of
issue 7): sessions stand for their user or role by unique id; GetSessionToken credentials
call IAM only with MFA and of STS only AssumeRole and GetCallerIdentity; the root assumes no
role; MFA codes presented by a caller are checked against that caller's own devices only."""

from __future__ import annotations

import json

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAuthenticationCode,
    InvalidClientTokenId,
)
from objstore.identity import totp
from objstore.identity.results import Credentials

from . import test_sts
from .helpers import allow, policy, user_client
from .test_sts import B, Clock, session, trust

# test_sts.py's fixtures: an injected clock, and a store on it whose bucket B holds "k".
clock = test_sts.clock
store = test_sts.store


class AllowAll:
    """An authorizer other than IAM's, allowing everything."""

    def authorize(self, request: object) -> bool:
        return True


S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"


def _mfa(store: objstore.Store, clock: Clock, user: str | None, name: str) -> tuple[str, bytes]:
    """A virtual MFA device enabled for ``user`` (None: the root): its serial and seed."""
    iam = store.root.iam
    device = iam.create_virtual_mfa_device(name)
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(clock.ns / 1e9)
    iam.enable_mfa_device(
        user, device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
    )
    return device.serial_number, seed


def _code(seed: bytes, clock: Clock) -> str:
    return totp.hotp(seed, totp.time_step(clock.ns / 1e9))


# ---------------------------------------------- sessions are bound to the entity's unique id


def test_a_user_session_dies_with_its_user_even_if_the_name_comes_back(
    store: objstore.Store,
) -> None:
    iam = store.root.iam
    iam.create_user("u")
    key = iam.create_access_key("u")
    iam.create_login_profile("u", "Passw0rd!Passw0rd")
    creds = store.client(key.access_key_id, key.secret_access_key).sts.get_session_token()
    token_session = session(store, creds)
    console = store.sign_in("u", "Passw0rd!Passw0rd")
    assert token_session.sts.get_caller_identity().arn.endswith(":user/u")
    iam.delete_access_key("u", key.access_key_id)
    iam.delete_login_profile("u")
    iam.delete_user("u")
    iam.create_user("u")  # another person, another AIDA id
    iam.attach_user_policy("u", S3_FULL)
    for old in (token_session, console):
        with pytest.raises(InvalidClientTokenId):
            old.get_object(B, "k")
        with pytest.raises(InvalidClientTokenId):
            old.sts.get_caller_identity()
        with pytest.raises(InvalidClientTokenId):
            old.iam.get_user()
    with pytest.raises(InvalidClientTokenId):  # nor can the credentials be used anew
        session(store, creds)
    with pytest.raises(InvalidClientTokenId):
        store.identity.signing_credentials(creds.access_key_id, creds.session_token)


def test_renaming_a_user_keeps_its_sessions(store: objstore.Store) -> None:
    """A session stands for its user's unique id: after a rename it acts as the renamed user,
    and the old name taken by someone else gives it nothing."""
    iam = store.root.iam
    dev = user_client(store, "dev", allow("s3:GetObject", "arn:aws:s3:::*/k"))
    old = session(store, dev.sts.get_session_token())
    old.get_object(B, "k").close()
    iam.update_user("dev", new_user_name="robin")
    old.get_object(B, "k").close()
    assert old.sts.get_caller_identity().arn.endswith(":user/robin")
    iam.create_user("dev")
    iam.attach_user_policy("dev", S3_FULL)
    store.root.put_object(B, "other", b"x")
    with pytest.raises(AccessDenied):
        old.get_object(B, "other")  # the new dev's S3 access is not the session's


def test_a_role_session_dies_with_its_role_even_if_the_name_comes_back(
    store: objstore.Store,
) -> None:
    iam = store.root.iam
    dev = user_client(store, "dev", allow("sts:AssumeRole"))
    role_trust = trust({"AWS": store.account_id})
    role = iam.create_role("r", role_trust)  # no permissions
    creds = dev.sts.assume_role(role.arn, "s1")
    old = session(store, creds)
    with pytest.raises(AccessDenied):
        old.get_object(B, "k")
    iam.delete_role("r")
    iam.create_role("r", role_trust)
    iam.attach_role_policy("r", S3_FULL)
    with pytest.raises(InvalidClientTokenId):
        old.get_object(B, "k")
    with pytest.raises(InvalidClientTokenId):
        session(store, creds)
    # A new session of the new role works.
    session(store, dev.sts.assume_role(role.arn, "s2")).get_object(B, "k").close()


def test_sessions_of_a_deleted_role_are_refused_with_any_authorizer(
    clock: Clock,
) -> None:
    """An authorizer other than IAM's gets the same check from the engine."""
    s = objstore.open(None, clock=clock, authorizer=AllowAll())
    s.root.create_bucket(B)
    dev = user_client(s, "dev")
    role = s.root.iam.create_role("r", trust({"AWS": s.account_id}))
    old = session(s, dev.sts.assume_role(role.arn, "s1"))
    old.head_bucket(B)
    s.root.iam.delete_role("r")
    with pytest.raises(InvalidClientTokenId):
        old.head_bucket(B)


# ------------------------------------------------ GetSessionToken credentials and the root


def test_session_token_without_mfa_calls_no_iam_and_with_mfa_does(
    store: objstore.Store, clock: Clock
) -> None:
    dev = user_client(store, "dev", allow(["iam:*", "s3:*"]))
    plain = session(store, dev.sts.get_session_token())
    with pytest.raises(AccessDenied):
        plain.iam.create_user("made-by-session")
    with pytest.raises(AccessDenied):
        plain.iam.create_access_key("dev")
    with pytest.raises(AccessDenied):
        plain.iam.list_users()
    plain.get_object(B, "k").close()  # other services: as the user's policies say
    assert plain.sts.get_caller_identity().arn.endswith(":user/dev")
    assert store.root.iam.list_access_keys("dev")[0].status == "Active"
    assert [u.user_name for u in store.root.iam.list_users()] == ["dev"]
    serial, seed = _mfa(store, clock, "dev", "dev-mfa")
    clock.ns += 30 * 10**9
    with_mfa = session(
        store, dev.sts.get_session_token(serial_number=serial, token_code=_code(seed, clock))
    )
    assert with_mfa.iam.create_user("made-by-session").user_name == "made-by-session"


def test_session_token_calls_of_sts_only_assume_role_and_caller_identity(
    store: objstore.Store,
) -> None:
    dev = user_client(store, "dev", allow("sts:*"))
    role = store.root.iam.create_role("r", trust({"AWS": store.account_id}))
    plain = session(store, dev.sts.get_session_token())
    with pytest.raises(AccessDenied):
        plain.sts.get_session_token()
    plain.sts.get_caller_identity()
    chained = session(store, plain.sts.assume_role(role.arn, "s1"))
    assert chained.identity.role_arn == role.arn


def test_the_root_assumes_no_role(store: objstore.Store) -> None:
    role = store.root.iam.create_role("r", trust({"AWS": store.account_id}))
    with pytest.raises(AccessDenied, match="root"):
        store.root.sts.assume_role(role.arn, "rootsess")
    root_session = session(store, store.root.sts.get_session_token(duration_seconds=900))
    with pytest.raises(AccessDenied, match="root"):
        root_session.sts.assume_role(role.arn, "rootsess")
    key = store.root.iam.create_access_key()
    with pytest.raises(AccessDenied, match="root"):
        store.client(key.access_key_id, key.secret_access_key).sts.assume_role(role.arn, "r2")


def test_the_rules_hold_with_another_authorizer(clock: Clock) -> None:
    s = objstore.open(None, clock=clock, authorizer=AllowAll())
    role = s.root.iam.create_role("r", trust({"AWS": s.account_id}))
    with pytest.raises(AccessDenied, match="root"):
        s.root.sts.assume_role(role.arn, "rootsess")
    dev = user_client(s, "dev")
    plain = session(s, dev.sts.get_session_token())
    with pytest.raises(AccessDenied):
        plain.iam.create_user("x")


def test_an_expired_session_token_is_told_so_before_what_it_may_not_do(
    store: objstore.Store, clock: Clock
) -> None:
    dev = user_client(store, "dev", allow("iam:*"))
    plain = session(store, dev.sts.get_session_token(duration_seconds=900))
    clock.ns += 900 * 10**9
    with pytest.raises(ExpiredToken):
        plain.iam.create_user("x")


# --------------------------------------------------------------- MFA codes of a caller


def _role_session(store: objstore.Store) -> objstore.Client:
    alice = user_client(store, "alice", allow("sts:AssumeRole"))
    role = store.root.iam.create_role("r", trust({"AWS": alice.identity.arn}))
    store.root.iam.put_role_policy("r", "p", policy(allow("sts:AssumeRole")))
    return session(store, alice.sts.assume_role(role.arn, "s1"))


def _assume_with_code(
    client: objstore.Client, store: objstore.Store, serial: str, code: str
) -> Credentials:
    arn = f"arn:aws:iam::{store.account_id}:role/r"
    return client.sts.assume_role(arn, "s2", serial_number=serial, token_code=code)


def test_a_role_session_cannot_lock_out_the_roots_mfa(store: objstore.Store, clock: Clock) -> None:
    store.root.iam.create_login_profile(None, "RootPassw0rd!!")
    serial, seed = _mfa(store, clock, None, "root-mfa")
    role_session = _role_session(store)
    clock.ns += 90 * 10**9
    for _ in range(8):  # more than the lockout threshold, had they counted
        with pytest.raises(InvalidAuthenticationCode):
            _assume_with_code(role_session, store, serial, "000000")
    store.sign_in("root", "RootPassw0rd!!", mfa_code=_code(seed, clock))


def test_a_role_session_cannot_use_up_the_roots_mfa_code(
    store: objstore.Store, clock: Clock
) -> None:
    store.root.iam.create_login_profile(None, "RootPassw0rd!!")
    serial, seed = _mfa(store, clock, None, "root-mfa")
    role_session = _role_session(store)
    clock.ns += 90 * 10**9
    code = _code(seed, clock)
    with pytest.raises(InvalidAuthenticationCode):  # the device is not the caller's
        _assume_with_code(role_session, store, serial, code)
    with pytest.raises(InvalidAuthenticationCode):
        role_session.sts.get_session_token(serial_number=serial, token_code=code)
    # The code was neither accepted nor used up: the root signs in with it.
    store.sign_in("root", "RootPassw0rd!!", mfa_code=code)


def test_an_orphaned_user_session_touches_no_mfa_device(
    store: objstore.Store, clock: Clock
) -> None:
    """A session of a deleted user presents the new same-named user's device and code."""
    iam = store.root.iam
    dev = user_client(store, "dev")
    old = session(store, dev.sts.get_session_token())
    iam.delete_access_key("dev", dev.identity.access_key_id or "")
    iam.delete_user("dev")
    iam.create_user("dev")
    iam.create_login_profile("dev", "Passw0rd!Passw0rd")
    serial, seed = _mfa(store, clock, "dev", "dev-mfa")
    clock.ns += 90 * 10**9
    code = _code(seed, clock)
    role = iam.create_role("r", trust({"AWS": store.account_id}))
    with pytest.raises(InvalidClientTokenId):
        old.sts.assume_role(role.arn, "s", serial_number=serial, token_code=code)
    store.sign_in("dev", "Passw0rd!Passw0rd", mfa_code=code)


# ------------------------------------------------------------- session tags: sts:TagSession


def _trust_actions(principal: object, *actions: str, **condition: object) -> str:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    rest: dict[str, object] = {"Effect": "Allow", "Principal": principal, "Action": list(actions)}
    if condition:
        rest["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement, rest]})


def _team_reader(store: objstore.Store, role_trust: str) -> str:
    """A role whose policy reads bucket B only for sessions tagged team=admin; its ARN."""
    role = store.root.iam.create_role("reader", role_trust, tags={"team": "guest"})
    store.root.iam.put_role_policy(
        "reader",
        "p",
        policy(
            allow(
                "s3:GetObject",
                f"arn:aws:s3:::{B}/*",
                Condition={"StringEquals": {"aws:PrincipalTag/team": "admin"}},
            )
        ),
    )
    return role.arn


def test_session_tags_need_tag_session_in_the_trust_policy(store: objstore.Store) -> None:
    alice = user_client(store, "alice", allow(["sts:AssumeRole", "sts:TagSession"]))
    arn = _team_reader(store, trust({"AWS": alice.identity.arn}))  # sts:AssumeRole only
    with pytest.raises(AccessDenied, match="sts:TagSession"):
        alice.sts.assume_role(arn, "s1", tags={"team": "admin"})
    with pytest.raises(AccessDenied, match="sts:TagSession"):
        alice.sts.assume_role(arn, "s1", tags=[{"Key": "team", "Value": "admin"}])
    untagged = session(store, alice.sts.assume_role(arn, "s2", tags={}))
    with pytest.raises(AccessDenied):
        untagged.get_object(B, "k")  # the role's own tag: guest
    store.root.iam.update_assume_role_policy(
        "reader", _trust_actions({"AWS": alice.identity.arn}, "sts:TagSession")
    )
    tagged = session(store, alice.sts.assume_role(arn, "s3", tags={"team": "admin"}))
    assert tagged.get_object(B, "k").read() == b"v"


def test_trust_naming_the_account_needs_tag_session_in_the_callers_policies(
    store: objstore.Store,
) -> None:
    arn = _team_reader(store, _trust_actions({"AWS": store.account_id}, "sts:TagSession"))
    plain = user_client(store, "plain", allow("sts:AssumeRole"))
    plain.sts.assume_role(arn, "s0")
    with pytest.raises(AccessDenied, match="sts:TagSession"):
        plain.sts.assume_role(arn, "s1", tags={"team": "admin"})
    tagger = user_client(store, "tagger", allow(["sts:AssumeRole", "sts:TagSession"]))
    tagged = session(store, tagger.sts.assume_role(arn, "s1", tags={"team": "admin"}))
    tagged.get_object(B, "k").close()


def test_request_tag_conditions_of_the_trust_policy(store: objstore.Store) -> None:
    alice = user_client(store, "alice")
    role_trust = _trust_actions(
        {"AWS": alice.identity.arn},
        "sts:TagSession",
        StringEquals={"aws:RequestTag/team": "guest"},
        **{"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
    )
    arn = _team_reader(store, role_trust)
    with pytest.raises(AccessDenied):
        alice.sts.assume_role(arn, "s1", tags={"team": "admin"})
    with pytest.raises(AccessDenied):  # a key the trust policy does not list
        alice.sts.assume_role(arn, "s1", tags={"team": "guest", "level": "9"})
    guest = session(store, alice.sts.assume_role(arn, "s1", tags={"team": "guest"}))
    with pytest.raises(AccessDenied):
        guest.get_object(B, "k")


def test_a_role_session_tags_its_chained_session_only_if_allowed(store: objstore.Store) -> None:
    alice = user_client(store, "alice")
    first = store.root.iam.create_role("first", trust({"AWS": alice.identity.arn}))
    store.root.iam.put_role_policy("first", "p", policy(allow("sts:AssumeRole")))
    first_session = session(store, alice.sts.assume_role(first.arn, "s0"))
    arn = _team_reader(store, trust({"AWS": first.arn}))
    with pytest.raises(AccessDenied, match="sts:TagSession"):
        first_session.sts.assume_role(arn, "s1", tags={"team": "admin"})
    chained = session(store, first_session.sts.assume_role(arn, "s1"))
    with pytest.raises(AccessDenied):
        chained.get_object(B, "k")
