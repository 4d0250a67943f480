"""AWS's rules for IAM entities: names, uniqueness, limits, dependencies, error codes."""

from __future__ import annotations

import json

import pytest

import objstore
from objstore.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicy,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)

from .helpers import allow, policy

DOC = policy(allow("s3:GetObject"))


@pytest.fixture
def iam() -> objstore.IamClient:
    return objstore.open(None).root.iam


def test_names_are_unique_case_insensitively(iam: objstore.IamClient) -> None:
    iam.create_user("Yash")
    with pytest.raises(EntityAlreadyExists):
        iam.create_user("yash")
    iam.create_group("HR")
    with pytest.raises(EntityAlreadyExists):
        iam.create_group("hr")
    iam.create_policy("P", DOC)
    with pytest.raises(EntityAlreadyExists):
        iam.create_policy("p", DOC)
    assert iam.get_user("YASH").user_name == "Yash"


@pytest.mark.parametrize("name", ["", "a" * 65, "bad name", "slash/no", "ü"])
def test_bad_user_names(iam: objstore.IamClient, name: str) -> None:
    with pytest.raises(ValidationError):
        iam.create_user(name)


def test_bad_types_and_paths(iam: objstore.IamClient) -> None:
    with pytest.raises(InvalidInput):
        iam.create_user(5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        iam.create_user("u", path="no-slash")
    with pytest.raises(ValidationError):
        iam.create_role("r", DOC, max_session_duration=100)


def test_ids_and_arns(iam: objstore.IamClient) -> None:
    user = iam.create_user("u", path="/a/b/")
    assert user.user_id.startswith("AIDA") and len(user.user_id) == 21
    assert user.arn == "arn:aws:iam::000000000000:user/a/b/u"
    assert iam.create_group("g").group_id.startswith("AGPA")
    assert iam.create_policy("p", DOC).policy_id.startswith("ANPA")
    key = iam.create_access_key("u")
    assert key.access_key_id.startswith("AKIA") and len(key.access_key_id) == 20
    assert len(key.secret_access_key) == 40
    # Listing never shows the secret again.
    assert not hasattr(iam.list_access_keys("u")[0], "secret_access_key")


def test_limits(iam: objstore.IamClient) -> None:
    iam.create_user("u")
    iam.create_access_key("u")
    iam.create_access_key("u")
    with pytest.raises(LimitExceeded):
        iam.create_access_key("u")
    for i in range(10):
        iam.create_group(f"g{i}")
        iam.add_user_to_group(f"g{i}", "u")
    iam.create_group("g10")
    with pytest.raises(LimitExceeded):
        iam.add_user_to_group("g10", "u")
    arns = [iam.create_policy(f"p{i}", DOC).arn for i in range(11)]
    for arn in arns[:10]:
        iam.attach_user_policy("u", arn)
    with pytest.raises(LimitExceeded):
        iam.attach_user_policy("u", arns[10])
    for _ in range(4):
        iam.create_policy_version(arns[0], DOC)
    with pytest.raises(LimitExceeded):
        iam.create_policy_version(arns[0], DOC)
    assert [v.version_id for v in iam.list_policy_versions(arns[0])] == [
        "v1",
        "v2",
        "v3",
        "v4",
        "v5",
    ]


def test_policy_sizes(iam: objstore.IamClient) -> None:
    iam.create_user("u")
    big = policy(allow([f"s3:Get{'x' * 40}{i}" for i in range(60)]))
    with pytest.raises(LimitExceeded):
        iam.put_user_policy("u", "big", big)  # over 2,048 characters per user
    iam.create_group("g")
    iam.put_group_policy("g", "big", big)  # a group allows 5,120
    huge = policy(allow([f"s3:Get{'x' * 40}{i}" for i in range(200)]))
    with pytest.raises((LimitExceeded, MalformedPolicyDocument)):
        iam.create_policy("huge", huge)


def test_malformed_documents(iam: objstore.IamClient) -> None:
    with pytest.raises(MalformedPolicyDocument):
        iam.create_policy("p", "{not json")
    with pytest.raises(MalformedPolicyDocument):
        iam.create_role("r", DOC)  # a trust policy needs a Principal
    iam.create_user("u")
    with pytest.raises(MalformedPolicyDocument):
        iam.put_user_policy(
            "u",
            "p",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}],
                }
            ),
        )
    root = objstore.open(None).root
    root.create_bucket("bkt")
    with pytest.raises(MalformedPolicy):
        root.put_bucket_policy("bkt", DOC)  # a bucket policy needs a Principal


def test_delete_conflicts_and_missing_entities(iam: objstore.IamClient) -> None:
    iam.create_user("u")
    iam.create_group("g")
    iam.add_user_to_group("g", "u")
    pol = iam.create_policy("p", DOC)
    iam.attach_user_policy("u", pol.arn)
    with pytest.raises(DeleteConflict):
        iam.delete_user("u")
    with pytest.raises(DeleteConflict):
        iam.delete_group("g")
    with pytest.raises(DeleteConflict):
        iam.delete_policy(pol.arn)
    iam.remove_user_from_group("g", "u")
    iam.detach_user_policy("u", pol.arn)
    iam.create_policy_version(pol.arn, DOC)
    with pytest.raises(DeleteConflict):
        iam.delete_policy_version(pol.arn, "v2")  # the default
    with pytest.raises(DeleteConflict):
        iam.delete_policy(pol.arn)  # versions besides the default left
    iam.delete_policy_version(pol.arn, "v1")
    iam.delete_policy(pol.arn)
    iam.delete_user("u")
    iam.delete_group("g")
    for call in (
        lambda: iam.get_user("u"),
        lambda: iam.get_group("g"),
        lambda: iam.get_policy(pol.arn),
        lambda: iam.detach_user_policy("nobody", pol.arn),
        lambda: iam.attach_user_policy("nobody", pol.arn),
        lambda: iam.get_role("r"),
    ):
        with pytest.raises(NoSuchEntity):
            call()


def test_aws_managed_policies_attach_by_arn(iam: objstore.IamClient) -> None:
    iam.create_role(
        "svc",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    iam.attach_role_policy("svc", arn)
    assert [p.policy_name for p in iam.list_attached_role_policies("svc")] == ["AmazonS3FullAccess"]
    assert iam.get_policy(arn).policy_name == "AmazonS3FullAccess"
    with pytest.raises(NoSuchEntity):
        iam.attach_role_policy("svc", "arn:aws:iam::aws:policy/NoSuchThing")


def test_inline_policies_round_trip(iam: objstore.IamClient) -> None:
    iam.create_role(
        "r",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    iam.put_role_policy("r", "Inline", DOC)
    assert iam.list_role_policies("r") == ["Inline"]
    assert iam.get_role_policy("r", "inline").policy_document == DOC
    iam.delete_role_policy("r", "INLINE")
    assert iam.list_role_policies("r") == []
    iam.delete_role("r")


def test_a_deleted_user_releases_its_boundary(iam: objstore.IamClient) -> None:
    boundary = iam.create_policy("b", DOC)
    iam.create_user("u", permissions_boundary=boundary.arn)
    assert iam.get_policy(boundary.arn).permissions_boundary_usage_count == 1
    with pytest.raises(DeleteConflict):
        iam.delete_policy(boundary.arn)
    iam.delete_user("u")
    assert iam.get_policy(boundary.arn).permissions_boundary_usage_count == 0
    iam.delete_policy(boundary.arn)


# --- break-it review of issue 7 (low findings) ------------------------------------------


def _trust(action: object, principal: object = "*", key: str = "Action") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, key: action}],
        }
    )


@pytest.mark.parametrize(
    "action",
    ["s3:GetObject", "*", "iam:*", ["sts:AssumeRole", "s3:*"], "sts:GetCallerIdentity"],
)
def test_trust_policy_allows_only_role_assumption_actions(
    iam: objstore.IamClient, action: object
) -> None:
    """Regression: a trust policy granting s3:GetObject was accepted; IAM refuses any
    action but STS's role-assumption ones, at create and at update."""
    with pytest.raises(MalformedPolicyDocument, match="only specify STS AssumeRole actions"):
        iam.create_role("r", _trust(action))
    iam.create_role("ok", _trust("sts:AssumeRole"))
    with pytest.raises(MalformedPolicyDocument):
        iam.update_assume_role_policy("ok", _trust(action))
    with pytest.raises(MalformedPolicyDocument):
        iam.update_assume_role_policy("ok", _trust(action, key="NotAction"))
    assert json.loads(iam.get_role("ok").assume_role_policy_document)["Statement"][0]["Action"] == (
        "sts:AssumeRole"
    )


@pytest.mark.parametrize(
    "action",
    [
        "sts:AssumeRole",
        "STS:assumeRoleWithWebIdentity",
        "sts:AssumeRoleWithSAML",
        ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"],
        "sts:*",
        "sts:Assume*",
    ],
)
def test_trust_policy_role_assumption_actions_are_accepted(
    iam: objstore.IamClient, action: object
) -> None:
    assert iam.create_role("r", _trust(action)).role_name == "r"


def test_policy_document_text_is_capped_at_131072_characters(iam: objstore.IamClient) -> None:
    """Regression: a 10 MB document, all whitespace but a small policy, was stored whole.
    AWS caps PolicyDocument at 131,072 characters, whitespace included (ValidationError)."""
    iam.create_user("u")
    padded = " " * 10_000_000 + DOC
    at_cap = " " * (131_072 - len(DOC)) + DOC
    calls = [
        lambda text: iam.create_policy("p", text),
        lambda text: iam.put_user_policy("u", "inline", text),
        lambda text: iam.create_role("r", " " * (len(text) - len(DOC)) + _trust("sts:AssumeRole")),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="at most 131072"):
            call(padded)
        with pytest.raises(ValidationError):
            call(" " + at_cap)
    arn = iam.create_policy("p", at_cap).arn
    assert len(iam.get_policy_version(arn, "v1").document) == 131_072
    root = objstore.open(None).root
    root.create_bucket("bkt")
    bucket_doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
            ],
        }
    )
    with pytest.raises(MalformedPolicy):
        root.put_bucket_policy("bkt", " " * 10_000_000 + bucket_doc)


@pytest.mark.parametrize("name", ["root", "Root", "ROOT"])
def test_user_named_root_is_refused(iam: objstore.IamClient, name: str) -> None:
    """Regression: an IAM user named root could be created but never sign in, because
    sign_in("root") is the account root's sign-in (and "Root" signed in as the user)."""
    with pytest.raises(InvalidInput, match="reserved"):
        iam.create_user(name)
    assert iam.list_users() == []
    iam.create_role(name, _trust("sts:AssumeRole"))  # only user names are reserved
    iam.create_user("rooted")


def test_secrets_are_kept_out_of_reprs() -> None:
    """Regression: AccessKey, Credentials and VirtualMFADevice reprs carried the secret
    access key, session token and MFA seed (into logs and tracebacks)."""
    store = objstore.open(None)
    iam = store.root.iam
    iam.create_user("u")
    iam.put_user_policy("u", "p", policy(allow("sts:GetSessionToken")))
    key = iam.create_access_key("u")
    device = iam.create_virtual_mfa_device("dev")
    creds = store.client(key.access_key_id, key.secret_access_key).sts.get_session_token()
    secrets = {
        key: [key.secret_access_key],
        creds: [creds.secret_access_key, creds.session_token],
        device: [device.base32_string_seed, device.qr_code_uri],
    }
    for result, values in secrets.items():
        text = repr(result)
        assert all(value and value not in text for value in values), text
    assert key.access_key_id in repr(key) and creds.access_key_id in repr(creds)
    assert device.serial_number in repr(device)
    assert device.base32_string_seed in device.qr_code_uri
