"""IAM credentials over the Query API: access keys and their last use, login profiles and
passwords, the password policy, virtual MFA devices, the credential report, OIDC
providers and the policy simulator. Answers parsed by botocore must carry the library's
values."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import unquote

import pytest

import objstore
from objstore.identity import totp
from tests.gateway.query_harness import Query, form_for, send
from tests.identity.helpers import allow, policy

# ``store``: tests/conftest.py's (in memory and on disk).


@pytest.fixture
def q(store: objstore.Store) -> Query:
    """The Query API as the store's root."""
    return Query(store.root)


ISSUER = "https://login.example.com"


def test_access_keys(q: Query, store: objstore.Store) -> None:
    """Create (for a user and for the caller), list, deactivate, last used, delete."""
    iam = store.root.iam
    q.iam("CreateUser", UserName="u")
    made = q.iam("CreateAccessKey", UserName="u")["AccessKey"]
    assert made["UserName"] == "u"
    assert made["Status"] == "Active"
    assert made["AccessKeyId"].startswith("AKIA")
    never = q.iam("GetAccessKeyLastUsed", AccessKeyId=made["AccessKeyId"])
    library = iam.get_access_key_last_used(made["AccessKeyId"])
    assert never["UserName"] == "u"
    assert never["AccessKeyLastUsed"]["ServiceName"] == library.service_name == "N/A"
    assert never["AccessKeyLastUsed"]["Region"] == library.region
    assert "LastUsedDate" not in never["AccessKeyLastUsed"]
    listed = q.iam("ListAccessKeys", UserName="u")["AccessKeyMetadata"]
    (meta,) = iam.list_access_keys("u")
    assert listed == [
        {
            "UserName": "u",
            "AccessKeyId": meta.access_key_id,
            "Status": meta.status,
            "CreateDate": meta.create_date,
        }
    ]
    assert made["CreateDate"] == meta.create_date

    root_key = q.iam("CreateAccessKey")["AccessKey"]
    assert "UserName" not in root_key  # the account root's own key
    assert (
        store.client(root_key["AccessKeyId"], root_key["SecretAccessKey"]).identity.kind == "root"
    )

    # The secret works: the key authenticates as the user.
    client = store.client(made["AccessKeyId"], made["SecretAccessKey"])
    assert client.identity.arn == iam.get_user("u").arn
    with pytest.raises(objstore.errors.AccessDenied):
        client.list_buckets()  # refused, yet the key was used
    used = q.iam("GetAccessKeyLastUsed", AccessKeyId=made["AccessKeyId"])["AccessKeyLastUsed"]
    library = iam.get_access_key_last_used(made["AccessKeyId"])
    assert used["LastUsedDate"] == library.last_used_date
    assert used["ServiceName"] == library.service_name

    q.iam("UpdateAccessKey", UserName="u", AccessKeyId=made["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys("u")[0].status == "Inactive"
    bad = q.iam_error("UpdateAccessKey", AccessKeyId=made["AccessKeyId"], Status="Sleepy")
    assert bad.code in ("ValidationError", "NoSuchEntity")
    q.iam("DeleteAccessKey", UserName="u", AccessKeyId=made["AccessKeyId"])
    assert iam.list_access_keys("u") == []
    q.iam("DeleteAccessKey", AccessKeyId=root_key["AccessKeyId"])


def test_login_profiles_and_change_password(q: Query, store: objstore.Store) -> None:
    iam = store.root.iam
    q.iam("CreateUser", UserName="u")
    made = q.iam("CreateLoginProfile", UserName="u", Password="Correct-horse-1")["LoginProfile"]
    library = iam.get_login_profile("u")
    assert made == {
        "UserName": "u",
        "CreateDate": library.create_date,
        "PasswordResetRequired": False,
    }
    q.iam("UpdateLoginProfile", UserName="u", PasswordResetRequired=True)
    got = q.iam("GetLoginProfile", UserName="u")["LoginProfile"]
    assert (
        got["PasswordResetRequired"] is True is iam.get_login_profile("u").password_reset_required
    )
    q.iam(
        "UpdateLoginProfile",
        UserName="u",
        Password="Battery-staple-2",
        PasswordResetRequired=False,
    )
    store.sign_in("u", "Battery-staple-2")

    # The user changes its own password, as itself.
    iam.attach_user_policy("u", "arn:aws:iam::aws:policy/IAMUserChangePassword")
    key = iam.create_access_key("u")
    as_user = Query(store.client(key.access_key_id, key.secret_access_key))
    wrong = as_user.iam_error("ChangePassword", OldPassword="nope", NewPassword="Other-pass-3")
    assert (wrong.code, wrong.status) == ("AccessDenied", 403)
    as_user.iam("ChangePassword", OldPassword="Battery-staple-2", NewPassword="Other-pass-3")
    store.sign_in("u", "Other-pass-3")

    q.iam("DeleteLoginProfile", UserName="u")
    assert q.iam_error("GetLoginProfile", UserName="u").code == "NoSuchEntity"


def test_account_password_policy(q: Query, store: objstore.Store) -> None:
    assert q.iam_error("GetAccountPasswordPolicy").code == "NoSuchEntity"
    q.iam(
        "UpdateAccountPasswordPolicy",
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=3,
    )
    library = store.root.iam.get_account_password_policy()
    got = q.iam("GetAccountPasswordPolicy")["PasswordPolicy"]
    assert got == {
        "MinimumPasswordLength": library.minimum_password_length,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 3,
        "HardExpiry": False,
    }
    assert library.minimum_password_length == 12
    bad = q.iam_error("UpdateAccountPasswordPolicy", MinimumPasswordLength=200)
    assert (bad.code, bad.status) == ("ValidationError", 400)
    q.iam("UpdateAccountPasswordPolicy")  # replaces the whole policy: defaults
    got = q.iam("GetAccountPasswordPolicy")["PasswordPolicy"]
    assert got["ExpirePasswords"] is False
    assert "MaxPasswordAge" not in got
    q.iam("DeleteAccountPasswordPolicy")
    assert q.iam_error("DeleteAccountPasswordPolicy").code == "NoSuchEntity"


def test_virtual_mfa_devices(q: Query, store: objstore.Store) -> None:
    """Create (seed and QR code as AWS's blobs), enable with two codes, list, deactivate,
    delete."""
    iam = store.root.iam
    q.iam("CreateUser", UserName="u")
    device = q.iam("CreateVirtualMFADevice", VirtualMFADeviceName="phone")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{store.account_id}:mfa/phone"
    seed_text = device["Base32StringSeed"].decode("ascii")  # boto3 hands blobs as bytes
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    seed = totp.seed_from_base32(seed_text)
    step = totp.time_step(time.time())
    wrong = q.iam_error(
        "EnableMFADevice",
        UserName="u",
        SerialNumber=serial,
        AuthenticationCode1="000000" if totp.hotp(seed, step - 1) != "000000" else "111111",
        AuthenticationCode2="000000",
    )
    assert wrong.code == "InvalidAuthenticationCode"
    q.iam(
        "EnableMFADevice",
        UserName="u",
        SerialNumber=serial,
        AuthenticationCode1=totp.hotp(seed, step - 1),
        AuthenticationCode2=totp.hotp(seed, step),
    )
    listed = q.iam("ListMFADevices", UserName="u")["MFADevices"]
    (library,) = iam.list_mfa_devices("u")
    assert listed == [{"UserName": "u", "SerialNumber": serial, "EnableDate": library.enable_date}]
    still = q.iam_error("DeleteVirtualMFADevice", SerialNumber=serial)
    assert (still.code, still.status) == ("DeleteConflict", 409)
    q.iam("DeactivateMFADevice", UserName="u", SerialNumber=serial)
    assert q.iam("ListMFADevices", UserName="u")["MFADevices"] == []
    q.iam("DeleteVirtualMFADevice", SerialNumber=serial)
    assert q.iam_error("DeleteVirtualMFADevice", SerialNumber=serial).code == "NoSuchEntity"


def test_credential_report(q: Query, store: objstore.Store) -> None:
    q.iam("CreateUser", UserName="u")
    assert q.iam_error("GetCredentialReport").code == "NoSuchEntity"
    assert q.iam("GenerateCredentialReport")["State"] == "COMPLETE"
    got = q.iam("GetCredentialReport")
    assert got["ReportFormat"] == "text/csv"
    assert got["Content"].decode() == store.root.iam.get_credential_report()
    assert "\nu,arn:aws:iam::" in got["Content"].decode()


def test_open_id_connect_providers(q: Query, store: objstore.Store) -> None:
    iam = store.root.iam
    made = q.iam(
        "CreateOpenIDConnectProvider",
        Url=ISSUER,
        ClientIDList=["app-1", "app-2"],
        ThumbprintList=["a" * 40],
    )
    arn = made["OpenIDConnectProviderArn"]
    library = iam.get_open_id_connect_provider(arn)
    got = q.iam("GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
    assert got["Url"] == library.url
    assert got["ClientIDList"] == list(library.client_id_list) == ["app-1", "app-2"]
    assert got["ThumbprintList"] == list(library.thumbprint_list)
    assert got["CreateDate"] == library.create_date
    assert q.iam("ListOpenIDConnectProviders")["OpenIDConnectProviderList"] == [{"Arn": arn}]
    again = q.iam_error("CreateOpenIDConnectProvider", Url=ISSUER, ThumbprintList=["a" * 40])
    assert (again.code, again.status) == ("EntityAlreadyExists", 409)
    q.iam("DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
    assert q.iam("ListOpenIDConnectProviders")["OpenIDConnectProviderList"] == []


def test_open_id_connect_provider_with_keys(q: Query, store: objstore.Store) -> None:
    """objstore's ``Jwks`` parameter registers the keys it verifies tokens with (it never
    fetches them); a request carrying it is a plain Query form."""
    from tests.identity.test_web_identity import jwks

    form = form_for("iam", "CreateOpenIDConnectProvider", {"Url": ISSUER, "ClientIDList": ["a"]})
    answer = send(
        q.aclient, "iam", "CreateOpenIDConnectProvider", [*form, ("Jwks", json.dumps(jwks()))]
    )
    assert answer.status == 200, answer.body
    bad = send(q.aclient, "iam", "CreateOpenIDConnectProvider", [*form, ("Jwks", "[1]")])
    assert bad.code == "ValidationError"
    deep = [*form, ("Jwks", "[" * 5000)]  # a RecursionError in json (review 10c, F1)
    assert send(q.aclient, "iam", "CreateOpenIDConnectProvider", deep).code == "ValidationError"


CONTEXT = [
    {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.7"], "ContextKeyType": "ip"},
    {
        "ContextKeyName": "s3:prefix",
        "ContextKeyValues": ["home/", "docs/"],
        "ContextKeyType": "stringList",
    },
]


def _compare(parsed: list[dict[str, Any]], library: list[Any]) -> None:
    assert len(parsed) == len(library)
    for got, want in zip(parsed, library, strict=True):
        assert got["EvalActionName"] == want.eval_action_name
        assert got["EvalResourceName"] == want.eval_resource_name
        assert got["EvalDecision"] == want.eval_decision
        assert got["MissingContextValues"] == list(want.missing_context_values)
        allowed = got["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"]
        assert allowed is want.permissions_boundary_allowed
        assert [
            (
                m["SourcePolicyId"],
                m["SourcePolicyType"],
                m["StartPosition"]["Line"],
                m["StartPosition"]["Column"],
                m["EndPosition"]["Line"],
                m["EndPosition"]["Column"],
            )
            for m in got["MatchedStatements"]
        ] == [
            (
                m.source_policy_id,
                m.source_policy_type,
                m.start.line,
                m.start.column,
                m.end.line,
                m.end.column,
            )
            for m in want.matched_statements
        ]


def test_simulate_custom_policy(q: Query, store: objstore.Store) -> None:
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                },
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:username": "x"}},
                },
            ],
        },
        indent=2,
    )
    boundary = policy(allow("s3:*"))
    args: dict[str, Any] = {
        "ActionNames": ["s3:ListBucket", "s3:DeleteObject", "s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::b", "arn:aws:s3:::b/k"],
        "ContextEntries": CONTEXT,
    }
    got = q.iam(
        "SimulateCustomPolicy",
        PolicyInputList=[doc],
        PermissionsBoundaryPolicyInputList=[boundary],
        **args,
    )
    library = store.root.iam.simulate_custom_policy(
        [doc],
        args["ActionNames"],
        resource_arns=args["ResourceArns"],
        context_entries=CONTEXT,
        permissions_boundary_policy_input_list=[boundary],
    )
    assert got["IsTruncated"] is False
    _compare(got["EvaluationResults"], library)
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in got["EvaluationResults"]}
    assert decisions == {
        "s3:ListBucket": "allowed",
        "s3:DeleteObject": "explicitDeny",
        "s3:GetObject": "implicitDeny",
    }
    bad = q.iam_error(
        "SimulateCustomPolicy",
        PolicyInputList=[doc],
        ActionNames=["s3:GetObject"],
        ContextEntries=[
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["x"], "ContextKeyType": "ip"}
        ],
    )
    assert bad.code == "InvalidInput"


def test_simulate_principal_policy(q: Query, store: objstore.Store) -> None:
    iam = store.root.iam
    iam.create_user("u")
    iam.put_user_policy("u", "p", policy(allow("s3:GetObject", "arn:aws:s3:::b/*")))
    arn = iam.get_user("u").arn
    got = q.iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::b/k"],
    )
    library = iam.simulate_principal_policy(
        arn, ["s3:GetObject", "s3:PutObject"], resource_arns=["arn:aws:s3:::b/k"]
    )
    _compare(got["EvaluationResults"], library)
    assert [r["EvalDecision"] for r in got["EvaluationResults"]] == ["allowed", "implicitDeny"]
    assert got["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "p"
    missing = q.iam_error(
        "SimulatePrincipalPolicy", PolicySourceArn=arn + "x", ActionNames=["s3:GetObject"]
    )
    assert missing.code == "NoSuchEntity"


def test_policy_documents_are_url_encoded_as_iam_sends_them(q: Query) -> None:
    """A document with characters that need encoding comes back byte for byte."""
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::b/a b+c&d=é%20/*"))
    q.iam("CreateUser", UserName="u")
    q.iam("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=doc)
    answer = q.answer("iam", "GetUserPolicy", UserName="u", PolicyName="p")
    raw = answer.body.decode()
    assert "%22Statement%22" in raw  # encoded on the wire, not JSON text
    assert unquote(answer.parsed["PolicyDocument"]) == doc
    assert base64  # (imported for blobs above)
