"""IAM and STS end to end: boto3's own ``iam`` and ``sts`` clients against a served store,
and the credentials STS hands out used for S3 through the same endpoint."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from objstore.identity import totp
from tests.gateway.s3_support import REAL_AUTH, Gateway
from tests.identity.helpers import allow, policy
from tests.identity.test_web_identity import CLIENT, HOST, ISSUER, jwks, token

TRUST = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "sts:AssumeRole",
    }
)


@pytest.fixture
def iam(gw: Gateway) -> Any:
    return gw.client(service="iam")


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_iam_entities_with_boto3(gw: Gateway, iam: Any) -> None:
    """Users, groups, roles and policies; boto3 decodes the URL-encoded documents itself."""
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "blue"}])
    assert iam.get_user(UserName="alice")["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]
    for name in ("bob", "carol", "dave"):
        iam.create_user(UserName=name)
    pages = iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
    assert [u["UserName"] for page in pages for u in page["Users"]] == [
        "alice",
        "bob",
        "carol",
        "dave",
    ]
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["alice"]

    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)  # decoded by boto3
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    iam.put_user_policy(UserName="alice", PolicyName="p", PolicyDocument=doc)
    assert iam.get_user_policy(UserName="alice", PolicyName="p")["PolicyDocument"] == json.loads(
        doc
    )
    arn = iam.create_policy(PolicyName="m", PolicyDocument=doc)["Policy"]["Arn"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(doc)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
    assert attached == [{"PolicyName": "m", "PolicyArn": arn}]
    assert gw.store.root.iam.list_attached_role_policies("r")[0].policy_arn == arn

    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.get_user(UserName="nobody")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="alice")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(PolicyName="bad", PolicyDocument="{nope")


def test_credentials_report_mfa_and_simulator_with_boto3(gw: Gateway, iam: Any) -> None:
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="u")["AccessKeyMetadata"]] == [
        key["AccessKeyId"]
    ]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")["VirtualMFADevice"]
    seed = totp.seed_from_base32(device["Base32StringSeed"].decode())
    step = totp.time_step(time.time())
    iam.enable_mfa_device(
        UserName="u",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.hotp(seed, step - 1),
        AuthenticationCode2=totp.hotp(seed, step),
    )
    assert (
        iam.list_mfa_devices(UserName="u")["MFADevices"][0]["SerialNumber"]
        == (device["SerialNumber"])
    )
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["Content"].decode() == gw.store.root.iam.get_credential_report()
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=policy(allow("s3:Get*")))
    user_arn = iam.get_user(UserName="u")["User"]["Arn"]
    results = iam.simulate_principal_policy(
        PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:PutObject"]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    iam.update_account_password_policy(MinimumPasswordLength=10)
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 10


def test_a_user_without_permission_is_refused(gw: Gateway) -> None:
    keys = gw.user_keys("limited", policy(allow("iam:GetUser")))
    iam = gw.client(keys, service="iam")
    assert iam.get_user()["User"]["UserName"] == "limited"
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="x")
    assert _code(err) == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sts = gw.client(keys, service="sts")
    assert sts.get_caller_identity()["Arn"].endswith(":user/limited")


@pytest.mark.skipif(not REAL_AUTH, reason="temporary credentials need the SigV4 authenticator")
def test_assume_role_then_s3_with_the_session(gw: Gateway) -> None:
    root_iam = gw.store.root.iam
    role = root_iam.create_role("worker", TRUST)
    root_iam.attach_role_policy("worker", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    keys = gw.user_keys("alice", policy(allow("sts:AssumeRole", role.arn)))
    gw.store.root.create_bucket("bkt")
    sts = gw.client(keys, service="sts")
    got = sts.assume_role(RoleArn=role.arn, RoleSessionName="s1", DurationSeconds=900)
    creds = got["Credentials"]
    assert got["AssumedRoleUser"]["Arn"].endswith(":assumed-role/worker/s1")
    session = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=gw.url,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        **session,
    )
    s3.put_object(Bucket="bkt", Key="k", Body=b"from a role")
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"from a role"
    as_role = boto3.client("sts", endpoint_url=gw.url, region_name="us-east-1", **session)
    assert as_role.get_caller_identity()["Arn"] == got["AssumedRoleUser"]["Arn"]
    user_s3 = gw.client(keys)
    with pytest.raises(ClientError) as err:
        user_s3.get_object(Bucket="bkt", Key="k")
    assert _code(err) == "AccessDenied"


def test_assume_role_with_web_identity_unsigned(gw: Gateway) -> None:
    """No credentials at all: the token is the proof, as with AWS."""
    root_iam = gw.store.root.iam
    provider = root_iam.create_open_id_connect_provider(ISSUER, [CLIENT], jwks=jwks())
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider.arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:aud": CLIENT}},
        }
    )
    role = root_iam.create_role("web", trust)
    root_iam.attach_role_policy("web", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    gw.store.root.create_bucket("bkt")
    gw.store.root.put_object("bkt", "k", b"public to the role")
    sts = boto3.client(
        "sts",
        endpoint_url=gw.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    got = sts.assume_role_with_web_identity(
        RoleArn=role.arn, RoleSessionName="web-1", WebIdentityToken=token()
    )
    assert got["SubjectFromWebIdentityToken"] == "user-1"
    assert got["Provider"] == ISSUER
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(
            RoleArn=role.arn, RoleSessionName="web-1", WebIdentityToken="a.b.c"
        )
    assert _code(err) == "InvalidIdentityToken"
    creds = got["Credentials"]
    session = gw.store.client(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session.get_object("bkt", "k").read() == b"public to the role"
    if REAL_AUTH:
        s3 = boto3.client(
            "s3",
            endpoint_url=gw.url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=Config(s3={"addressing_style": "path"}),
        )
        assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"public to the role"


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_authentication_failures_answer_in_the_query_error_form(gw: Gateway, service: str) -> None:
    """A request to IAM or STS refused before it reaches the Query handler (wrong secret,
    unknown key) still answers AWS's Query error document, which boto3 reads."""
    access, secret = gw.user_keys("someone", policy(allow("iam:GetUser")))
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")

    def call(keys: tuple[str, str]) -> None:
        client = gw.client(keys, service=service)
        if service == "iam":
            client.get_user()
        else:
            client.get_caller_identity()

    with pytest.raises(ClientError) as bad_secret:
        call((access, wrong))
    assert _code(bad_secret) == "SignatureDoesNotMatch"
    assert bad_secret.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as unknown:
        call(("AKIA" + "Z" * 16, secret))
    assert _code(unknown) == "InvalidClientTokenId"


OLD_PASSWORD = "Correct-horse-1!"
NEW_PASSWORD = "Another-pass-9!"


def test_users_change_their_own_password_when_the_account_allows_it(gw: Gateway, iam: Any) -> None:
    keys = gw.user_keys("pat")
    iam.create_login_profile(UserName="pat", Password=OLD_PASSWORD)
    pat = gw.client(keys, service="iam")
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=False)
    with pytest.raises(ClientError) as denied:
        pat.change_password(OldPassword=OLD_PASSWORD, NewPassword=NEW_PASSWORD)
    assert _code(denied) == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        pat.get_account_password_policy()
    assert _code(denied) == "AccessDenied"

    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    got = pat.get_account_password_policy()["PasswordPolicy"]
    assert (got["AllowUsersToChangePassword"], got["MinimumPasswordLength"]) == (True, 8)
    pat.change_password(OldPassword=OLD_PASSWORD, NewPassword=NEW_PASSWORD)
    gw.store.sign_in("pat", NEW_PASSWORD)
    with pytest.raises(ClientError) as denied:
        pat.list_users()
    assert _code(denied) == "AccessDenied"


def test_user_and_role_tags_with_boto3(gw: Gateway, iam: Any) -> None:
    """Tag/Untag/List*Tags as boto3 sends them; a tag change reaches aws:PrincipalTag."""
    gw.store.root.create_bucket("tagged")
    gw.store.root.put_object("tagged", "k", b"v")
    keys = gw.user_keys(
        "pat",
        policy(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::tagged/*",
                Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}},
            )
        ),
    )
    s3 = gw.client(keys)
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="tagged", Key="k")
    assert _code(denied) == "AccessDenied"
    iam.tag_user(UserName="pat", Tags=[{"Key": "team", "Value": "blue"}])
    assert s3.get_object(Bucket="tagged", Key="k")["Body"].read() == b"v"
    iam.tag_user(UserName="pat", Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(3)])
    pages = iam.get_paginator("list_user_tags").paginate(
        UserName="pat", PaginationConfig={"PageSize": 2}
    )
    listed = [(t["Key"], t["Value"]) for page in pages for t in page["Tags"]]
    assert listed == [("k0", "0"), ("k1", "1"), ("k2", "2"), ("team", "blue")]
    iam.untag_user(UserName="pat", TagKeys=["TEAM", "k0"])
    assert [t["Key"] for t in iam.list_user_tags(UserName="pat")["Tags"]] == ["k1", "k2"]
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="tagged", Key="k")
    assert _code(denied) == "AccessDenied"

    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.tag_role(RoleName="r", Tags=[{"Key": "tier", "Value": "gold"}])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "tier", "Value": "gold"}]
    assert iam.get_role(RoleName="r")["Role"]["Tags"] == [{"Key": "tier", "Value": "gold"}]
    iam.untag_role(RoleName="r", TagKeys=["tier"])
    assert iam.list_role_tags(RoleName="r")["Tags"] == []
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.tag_role(RoleName="r", Tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)])
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.tag_role(RoleName="r", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_role_tags(RoleName="nobody")


def test_update_user_group_and_role_with_boto3(gw: Gateway, iam: Any) -> None:
    """A renamed user's keys keep working through the gateway (it authenticates each request
    afresh), as the new name; groups follow; UpdateRole changes what GetRole shows."""
    keys = gw.user_keys("pat", policy(allow("iam:GetUser")))
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="pat")
    pat = gw.client(keys, service="iam")
    user_id = pat.get_user()["User"]["UserId"]
    iam.update_user(UserName="pat", NewUserName="robin", NewPath="/eng/")
    me = pat.get_user()["User"]
    assert (me["UserName"], me["UserId"], me["Path"]) == ("robin", user_id, "/eng/")
    iam.create_user(UserName="taken")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.update_user(UserName="robin", NewUserName="TAKEN")
    iam.update_group(GroupName="devs", NewGroupName="builders")
    groups = iam.list_groups_for_user(UserName="robin")["Groups"]
    assert [g["GroupName"] for g in groups] == ["builders"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_group(GroupName="devs")

    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert (
        iam.update_role(RoleName="r", Description="svc", MaxSessionDuration=7200)[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 200
    )
    role = iam.get_role(RoleName="r")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("svc", 7200)
    with pytest.raises(ClientError) as bad:
        iam.update_role(RoleName="r", MaxSessionDuration=100000)
    assert _code(bad) == "ValidationError"


def test_list_paging_with_boto3(gw: Gateway, iam: Any) -> None:
    """MaxItems/Marker/IsTruncated from the library's own paging; boto3's paginators."""
    for name in ("b", "A", "c"):
        iam.create_user(UserName=name)
        iam.create_group(GroupName=name, Path="/g/")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        iam.create_policy(PolicyName=name, PolicyDocument=policy(allow("s3:GetObject")))
    first = iam.list_users(MaxItems=2)
    assert ([u["UserName"] for u in first["Users"]], first["IsTruncated"]) == (["A", "b"], True)
    rest = iam.list_users(MaxItems=2, Marker=first["Marker"])
    assert ([u["UserName"] for u in rest["Users"]], rest["IsTruncated"]) == (["c"], False)
    assert "Marker" not in rest
    for op, key, name, kw in (
        ("list_groups", "Groups", "GroupName", {"PathPrefix": "/g/"}),
        ("list_roles", "Roles", "RoleName", {}),
        ("list_policies", "Policies", "PolicyName", {"Scope": "Local"}),
    ):
        pages = iam.get_paginator(op).paginate(PaginationConfig={"PageSize": 1}, **kw)
        assert [item[name] for page in pages for item in page[key]] == ["A", "b", "c"], op
    everything = iam.list_policies()  # AWS managed first, then the account's
    local = [p["PolicyName"] for p in everything["Policies"] if ":aws:policy/" not in p["Arn"]]
    assert (local, everything["IsTruncated"]) == (["A", "b", "c"], False)
    assert everything["Policies"][-1]["PolicyName"] == "c"
    with pytest.raises(ClientError) as bad:
        iam.list_users(Marker="nonsense")
    assert _code(bad) == "ValidationError"
