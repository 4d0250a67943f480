"""STS over the Query API: GetCallerIdentity, AssumeRole (session policy, tags, external id,
MFA), GetSessionToken and AssumeRoleWithWebIdentity as the anonymous caller. The returned
credentials must work against the store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

import objstore
from objstore.errors import AccessDenied
from objstore.identity import totp
from tests.gateway.query_harness import Query
from tests.identity.helpers import allow, policy
from tests.identity.test_web_identity import CLIENT, HOST, ISSUER, jwks, token


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    s = objstore.open(None)
    s.root.create_bucket("bkt")
    yield s
    s.close()


def user(store: objstore.Store, name: str, *statements: dict[str, Any]) -> objstore.Client:
    iam = store.root.iam
    iam.create_user(name)
    if statements:
        iam.put_user_policy(name, "p", policy(*statements))
    key = iam.create_access_key(name)
    return store.client(key.access_key_id, key.secret_access_key)


def trust(account: str, **condition: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def session(store: objstore.Store, creds: dict[str, Any]) -> objstore.Client:
    return store.client(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_get_caller_identity(store: objstore.Store) -> None:
    alice = user(store, "alice")
    got = Query(alice).sts("GetCallerIdentity")
    library = alice.sts.get_caller_identity()
    assert (got["UserId"], got["Account"], got["Arn"]) == (
        library.user_id,
        library.account,
        library.arn,
    )
    root = Query(store.root).sts("GetCallerIdentity")
    assert root["Arn"] == f"arn:aws:iam::{store.account_id}:root"


def test_assume_role_with_session_policy_tags_and_external_id(store: objstore.Store) -> None:
    iam = store.root.iam
    role = iam.create_role(
        "worker", trust(store.account_id, StringEquals={"sts:ExternalId": "ext-1"})
    )
    iam.attach_role_policy("worker", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    caller = user(store, "alice", allow(["sts:AssumeRole", "sts:TagSession"], role.arn))
    q = Query(caller)
    refused = q.sts_error("AssumeRole", RoleArn=role.arn, RoleSessionName="s1")
    assert (refused.code, refused.status) == ("AccessDenied", 403)
    got = q.sts(
        "AssumeRole",
        RoleArn=role.arn,
        RoleSessionName="s1",
        ExternalId="ext-1",
        DurationSeconds=900,
        Policy=policy(allow("s3:GetObject")),
        Tags=[{"Key": "project", "Value": "x"}],
    )
    creds = got["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert 800 < creds["Expiration"].timestamp() - time.time() <= 900
    arn = f"arn:aws:sts::{store.account_id}:assumed-role/worker/s1"
    assert got["AssumedRoleUser"]["Arn"] == arn
    worker = session(store, creds)
    assert worker.identity.arn == arn
    assert worker.identity.tags == {"project": "x"}
    assert Query(worker).sts("GetCallerIdentity")["Arn"] == arn
    store.root.put_object("bkt", "k", b"data")
    assert worker.get_object("bkt", "k").read() == b"data"
    with pytest.raises(AccessDenied):  # the session policy narrows the role's
        worker.put_object("bkt", "k2", b"x")


def test_assume_role_tags_need_tag_session_in_the_trust_policy(store: objstore.Store) -> None:
    only_assume = json.loads(trust(store.account_id))
    only_assume["Statement"][0]["Action"] = "sts:AssumeRole"
    role = store.root.iam.create_role("plain", json.dumps(only_assume))
    q = Query(user(store, "alice", allow(["sts:AssumeRole", "sts:TagSession"], role.arn)))
    tags = [{"Key": "team", "Value": "admin"}]
    refused = q.sts_error("AssumeRole", RoleArn=role.arn, RoleSessionName="s1", Tags=tags)
    assert (refused.code, refused.status) == ("AccessDenied", 403)
    assert q.sts("AssumeRole", RoleArn=role.arn, RoleSessionName="s1")["Credentials"]


def test_assume_role_with_mfa(store: objstore.Store) -> None:
    iam = store.root.iam
    role = iam.create_role(
        "admin", trust(store.account_id, Bool={"aws:MultiFactorAuthPresent": "true"})
    )
    caller = user(store, "dev", allow("sts:AssumeRole", role.arn))
    device = iam.create_virtual_mfa_device("dev-mfa")
    seed = totp.seed_from_base32(device.base32_string_seed)
    step = totp.time_step(time.time())
    iam.enable_mfa_device(
        "dev", device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
    )
    q = Query(caller)
    assert q.sts_error("AssumeRole", RoleArn=role.arn, RoleSessionName="s0").code == "AccessDenied"
    wrong = q.sts_error(
        "AssumeRole",
        RoleArn=role.arn,
        RoleSessionName="s0",
        SerialNumber=device.serial_number,
        TokenCode=totp.hotp(seed, step),  # already used to enable the device
    )
    assert (wrong.code, wrong.status) == ("InvalidAuthenticationCode", 403)
    got = q.sts(
        "AssumeRole",
        RoleArn=role.arn,
        RoleSessionName="s0",
        SerialNumber=device.serial_number,
        TokenCode=totp.hotp(seed, step + 1),
    )
    assert session(store, got["Credentials"]).identity.mfa_authenticated_at is not None


def test_get_session_token(store: objstore.Store) -> None:
    caller = user(store, "alice", allow("s3:ListBucket"))
    got = Query(caller).sts("GetSessionToken", DurationSeconds=1800)["Credentials"]
    assert 1700 < got["Expiration"].timestamp() - time.time() <= 1800
    temp = session(store, got)
    assert temp.identity.arn == caller.identity.arn
    temp.list_objects("bkt")
    again = Query(temp).sts_error("GetSessionToken")
    assert again.code == "AccessDenied"  # not from a session
    too_long = Query(caller).sts_error("GetSessionToken", DurationSeconds=10**6)
    assert (too_long.code, too_long.status) == ("ValidationError", 400)


def _web_role(store: objstore.Store) -> str:
    iam = store.root.iam
    provider = iam.create_open_id_connect_provider(ISSUER, [CLIENT], jwks=jwks())
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider.arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{HOST}:aud": CLIENT}},
    }
    role = iam.create_role("web", json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    iam.attach_role_policy("web", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    return role.arn


def test_assume_role_with_web_identity_as_the_anonymous_caller(store: objstore.Store) -> None:
    arn = _web_role(store)
    anonymous = Query(store.client_for(objstore.Identity.anonymous()))
    got = anonymous.sts(
        "AssumeRoleWithWebIdentity",
        RoleArn=arn,
        RoleSessionName="web-1",
        WebIdentityToken=token(sub="user-7"),
        DurationSeconds=900,
    )
    assert got["SubjectFromWebIdentityToken"] == "user-7"
    assert got["Audience"] == CLIENT
    assert got["Provider"] == ISSUER
    assert got["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{store.account_id}:assumed-role/web/web-1"
    )
    web = session(store, got["Credentials"])
    web.list_objects("bkt")
    with pytest.raises(AccessDenied):
        web.put_object("bkt", "k", b"x")
    bad = anonymous.sts_error(
        "AssumeRoleWithWebIdentity", RoleArn=arn, RoleSessionName="w0", WebIdentityToken="x.y.z"
    )
    assert (bad.code, bad.status) == ("InvalidIdentityToken", 400)
    expired = anonymous.sts_error(
        "AssumeRoleWithWebIdentity",
        RoleArn=arn,
        RoleSessionName="w0",
        WebIdentityToken=token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
    )
    assert expired.code == "ExpiredTokenException"


def test_anonymous_gets_nothing_else(store: objstore.Store) -> None:
    anonymous = Query(store.client_for(objstore.Identity.anonymous()))
    role = store.root.iam.create_role("r", trust(store.account_id))
    refused = anonymous.sts_error("AssumeRole", RoleArn=role.arn, RoleSessionName="s0")
    assert refused.status == 403
    assert anonymous.iam_error("ListUsers").status == 403
