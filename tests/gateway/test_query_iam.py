"""IAM entities over the Query API: users, groups, roles, managed and inline policies,
versions, attachments and permissions boundaries. Each answer is parsed by botocore and
must carry what the library returns for the same entity."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote

import pytest

import objstore
from tests.gateway.query_harness import Query, form_for, send
from tests.identity.helpers import allow, policy

# ``store``: tests/conftest.py's (in memory and on disk).


@pytest.fixture
def q(store: objstore.Store) -> Query:
    """The Query API as the store's root."""
    return Query(store.root)


TRUST = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "sts:AssumeRole",
    }
)
DOC = policy(allow("s3:Get*"))
DOC2 = policy(allow("s3:List*"))


def tags(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def assert_user(parsed: dict[str, Any], user: Any) -> None:
    assert parsed["UserName"] == user.user_name
    assert parsed["UserId"] == user.user_id
    assert parsed["Arn"] == user.arn
    assert parsed["Path"] == user.path
    assert parsed["CreateDate"] == user.create_date
    assert {t["Key"]: t["Value"] for t in parsed.get("Tags", [])} == dict(user.tags)
    boundary = parsed.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    assert boundary == user.permissions_boundary


def assert_group(parsed: dict[str, Any], group: Any) -> None:
    assert (parsed["GroupName"], parsed["GroupId"], parsed["Arn"], parsed["Path"]) == (
        group.group_name,
        group.group_id,
        group.arn,
        group.path,
    )
    assert parsed["CreateDate"] == group.create_date


def assert_role(parsed: dict[str, Any], role: Any) -> None:
    assert parsed["RoleName"] == role.role_name
    assert parsed["RoleId"] == role.role_id
    assert parsed["Arn"] == role.arn
    assert parsed["Path"] == role.path
    assert parsed["CreateDate"] == role.create_date
    # IAM sends policy documents URL-encoded (boto3's iam handler decodes them).
    assert unquote(parsed["AssumeRolePolicyDocument"]) == role.assume_role_policy_document
    assert parsed["MaxSessionDuration"] == role.max_session_duration
    assert parsed.get("Description", "") == role.description
    assert {t["Key"]: t["Value"] for t in parsed.get("Tags", [])} == dict(role.tags)


def assert_policy(parsed: dict[str, Any], policy: Any) -> None:
    assert parsed["PolicyName"] == policy.policy_name
    assert parsed["PolicyId"] == policy.policy_id
    assert parsed["Arn"] == policy.arn
    assert parsed["Path"] == policy.path
    assert parsed["DefaultVersionId"] == policy.default_version_id
    assert parsed["AttachmentCount"] == policy.attachment_count
    assert parsed["PermissionsBoundaryUsageCount"] == policy.permissions_boundary_usage_count
    assert parsed["IsAttachable"] is policy.is_attachable
    assert parsed.get("Description", "") == policy.description
    assert parsed["CreateDate"] == policy.create_date
    assert parsed["UpdateDate"] == policy.update_date


def test_users(q: Query, store: objstore.Store) -> None:
    """Create (path, tags, boundary), get, list and delete users."""
    iam = store.root.iam
    boundary = q.iam("CreatePolicy", PolicyName="b", PolicyDocument=DOC)["Policy"]["Arn"]
    created = q.iam(
        "CreateUser",
        UserName="alice",
        Path="/staff/",
        Tags=tags({"team": "blue", "cost": "7 + 8 = 15 @ a/b:c"}),
        PermissionsBoundary=boundary,
    )["User"]
    assert_user(created, iam.get_user("alice"))
    assert created["PermissionsBoundary"]["PermissionsBoundaryType"] == "PermissionsBoundaryPolicy"
    q.iam("CreateUser", UserName="bob")
    assert_user(q.iam("GetUser", UserName="alice")["User"], iam.get_user("alice"))
    listed = q.iam("ListUsers")
    assert listed["IsTruncated"] is False
    assert [u["UserName"] for u in listed["Users"]] == ["alice", "bob"]
    for parsed in listed["Users"]:
        assert_user(parsed, iam.get_user(parsed["UserName"]))
    assert [u["UserName"] for u in q.iam("ListUsers", PathPrefix="/staff/")["Users"]] == ["alice"]
    q.iam("DeleteUser", UserName="bob")
    assert q.iam_error("GetUser", UserName="bob").code == "NoSuchEntity"
    assert q.iam_error("CreateUser", UserName="alice").code == "EntityAlreadyExists"


def test_get_user_without_a_name_is_the_caller(q: Query, store: objstore.Store) -> None:
    assert_user(q.iam("GetUser")["User"], store.root.iam.get_user())


def test_groups(q: Query, store: objstore.Store) -> None:
    """Create, get (with members), list, membership and delete."""
    iam = store.root.iam
    created = q.iam("CreateGroup", GroupName="devs", Path="/eng/")["Group"]
    assert_group(created, iam.get_group("devs").group)
    q.iam("CreateGroup", GroupName="ops")
    for name in ("carol", "alice"):
        q.iam("CreateUser", UserName=name)
        q.iam("AddUserToGroup", GroupName="devs", UserName=name)
    got = q.iam("GetGroup", GroupName="devs")
    assert_group(got["Group"], iam.get_group("devs").group)
    assert [u["UserName"] for u in got["Users"]] == ["alice", "carol"]
    for parsed in got["Users"]:
        assert_user(parsed, iam.get_user(parsed["UserName"]))
    assert got["IsTruncated"] is False
    listed = q.iam("ListGroups")["Groups"]
    assert [g["GroupName"] for g in listed] == ["devs", "ops"]
    assert [g["GroupName"] for g in q.iam("ListGroups", PathPrefix="/eng/")["Groups"]] == ["devs"]
    for_user = q.iam("ListGroupsForUser", UserName="alice")["Groups"]
    assert [g["GroupName"] for g in for_user] == [
        g.group_name for g in iam.list_groups_for_user("alice")
    ]
    q.iam("RemoveUserFromGroup", GroupName="devs", UserName="alice")
    assert q.iam("ListGroupsForUser", UserName="alice")["Groups"] == []
    assert q.iam_error("DeleteGroup", GroupName="devs").code == "DeleteConflict"
    q.iam("RemoveUserFromGroup", GroupName="devs", UserName="carol")
    q.iam("DeleteGroup", GroupName="devs")
    assert q.iam_error("GetGroup", GroupName="devs").code == "NoSuchEntity"


def test_roles(q: Query, store: objstore.Store) -> None:
    """Create (description, duration, tags), get, list, update the trust policy, delete."""
    iam = store.root.iam
    created = q.iam(
        "CreateRole",
        RoleName="reader",
        AssumeRolePolicyDocument=TRUST,
        Path="/app/",
        MaxSessionDuration=7200,
        Description='reads <things> & "more"\r\n',
        Tags=tags({"env": "prod"}),
    )["Role"]
    assert_role(created, iam.get_role("reader"))
    q.iam("CreateRole", RoleName="admin", AssumeRolePolicyDocument=TRUST)
    assert_role(q.iam("GetRole", RoleName="admin")["Role"], iam.get_role("admin"))
    listed = q.iam("ListRoles")["Roles"]
    assert [r["RoleName"] for r in listed] == ["admin", "reader"]
    for parsed in listed:
        assert_role(parsed, iam.get_role(parsed["RoleName"]))
    new_trust = TRUST.replace("sts:AssumeRole", "sts:*")
    q.iam("UpdateAssumeRolePolicy", RoleName="admin", PolicyDocument=new_trust)
    assert iam.get_role("admin").assume_role_policy_document == new_trust
    assert (
        unquote(q.iam("GetRole", RoleName="admin")["Role"]["AssumeRolePolicyDocument"]) == new_trust
    )
    q.iam("DeleteRole", RoleName="admin")
    assert q.iam_error("GetRole", RoleName="admin").code == "NoSuchEntity"
    bad = q.iam_error("CreateRole", RoleName="x", AssumeRolePolicyDocument="{not json")
    assert bad.code == "MalformedPolicyDocument"
    assert bad.status == 400


def test_managed_policies_and_versions(q: Query, store: objstore.Store) -> None:
    """Create, get, list (scope, OnlyAttached), versions (AWS's SetAsDefault default: false)."""
    iam = store.root.iam
    created = q.iam(
        "CreatePolicy", PolicyName="read", PolicyDocument=DOC, Path="/p/", Description="r"
    )["Policy"]
    arn = created["Arn"]
    assert_policy(created, iam.get_policy(arn))
    assert_policy(q.iam("GetPolicy", PolicyArn=arn)["Policy"], iam.get_policy(arn))
    local = q.iam("ListPolicies", Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == [arn]
    aws = q.iam("ListPolicies", Scope="AWS", MaxItems=1000)["Policies"]
    assert sorted(p["Arn"] for p in aws) == sorted(p.arn for p in iam.list_policies(scope="AWS"))
    assert q.iam("ListPolicies", Scope="Local", OnlyAttached=True)["Policies"] == []
    q.iam("CreateUser", UserName="u")
    q.iam("AttachUserPolicy", UserName="u", PolicyArn=arn)
    attached = q.iam("ListPolicies", Scope="Local", OnlyAttached=True)["Policies"]
    assert [p["Arn"] for p in attached] == [arn]
    assert attached[0]["AttachmentCount"] == 1

    v2 = q.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=DOC2)["PolicyVersion"]
    assert v2["VersionId"] == "v2"
    assert v2["IsDefaultVersion"] is False  # AWS's default, not the library's
    lib_v2 = iam.get_policy_version(arn, "v2")
    assert unquote(v2["Document"]) == lib_v2.document == DOC2
    assert v2["CreateDate"] == lib_v2.create_date
    got = q.iam("GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert unquote(got["Document"]) == DOC
    assert got["IsDefaultVersion"] is True
    v3 = q.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=DOC, SetAsDefault=True)
    assert v3["PolicyVersion"]["IsDefaultVersion"] is True
    versions = q.iam("ListPolicyVersions", PolicyArn=arn)["Versions"]
    lib_versions = iam.list_policy_versions(arn)
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        (v.version_id, v.is_default_version) for v in lib_versions
    ]
    q.iam("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(arn).default_version_id == "v2"
    assert (
        q.iam_error("DeletePolicyVersion", PolicyArn=arn, VersionId="v2").code == "DeleteConflict"
    )
    q.iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v1")
    assert {v.version_id for v in iam.list_policy_versions(arn)} == {"v2", "v3"}
    q.iam("DetachUserPolicy", UserName="u", PolicyArn=arn)
    q.iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    q.iam("DeletePolicy", PolicyArn=arn)
    assert q.iam_error("GetPolicy", PolicyArn=arn).code == "NoSuchEntity"


@pytest.mark.parametrize("entity", ["User", "Group", "Role"])
def test_attachments_and_inline_policies(q: Query, store: objstore.Store, entity: str) -> None:
    """Attach/list/detach managed policies; put/get/list/delete inline ones."""
    iam = store.root.iam
    name_key = f"{entity}Name"
    if entity == "Role":
        q.iam("CreateRole", RoleName="e", AssumeRolePolicyDocument=TRUST)
    else:
        q.iam(f"Create{entity}", **{name_key: "e"})
    lower = entity.lower()
    arn = q.iam("CreatePolicy", PolicyName="m", PolicyDocument=DOC)["Policy"]["Arn"]
    aws_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    q.iam(f"Attach{entity}Policy", **{name_key: "e"}, PolicyArn=arn)
    q.iam(f"Attach{entity}Policy", **{name_key: "e"}, PolicyArn=aws_arn)
    attached = q.iam(f"ListAttached{entity}Policies", **{name_key: "e"})["AttachedPolicies"]
    library = getattr(iam, f"list_attached_{lower}_policies")("e")
    assert sorted((a["PolicyName"], a["PolicyArn"]) for a in attached) == sorted(
        (a.policy_name, a.policy_arn) for a in library
    )
    assert len(attached) == 2
    q.iam(f"Detach{entity}Policy", **{name_key: "e"}, PolicyArn=arn)
    assert getattr(iam, f"list_attached_{lower}_policies")("e")[0].policy_arn == aws_arn
    missing = q.iam_error(f"Detach{entity}Policy", **{name_key: "e"}, PolicyArn=arn)
    assert (missing.code, missing.status) == ("NoSuchEntity", 404)

    q.iam(f"Put{entity}Policy", **{name_key: "e"}, PolicyName="inline", PolicyDocument=DOC)
    q.iam(f"Put{entity}Policy", **{name_key: "e"}, PolicyName="a-second", PolicyDocument=DOC2)
    got = q.iam(f"Get{entity}Policy", **{name_key: "e"}, PolicyName="inline")
    library_doc = getattr(iam, f"get_{lower}_policy")("e", "inline")
    assert got[name_key] == library_doc.entity_name == "e"
    assert got["PolicyName"] == "inline"
    assert unquote(got["PolicyDocument"]) == library_doc.policy_document
    names = q.iam(f"List{entity}Policies", **{name_key: "e"})["PolicyNames"]
    assert names == sorted(getattr(iam, f"list_{lower}_policies")("e"))
    q.iam(f"Delete{entity}Policy", **{name_key: "e"}, PolicyName="inline")
    assert getattr(iam, f"list_{lower}_policies")("e") == ["a-second"]
    gone = q.iam_error(f"Get{entity}Policy", **{name_key: "e"}, PolicyName="inline")
    assert gone.code == "NoSuchEntity"


@pytest.mark.parametrize("entity", ["User", "Role"])
def test_permissions_boundaries(q: Query, store: objstore.Store, entity: str) -> None:
    iam = store.root.iam
    if entity == "Role":
        q.iam("CreateRole", RoleName="e", AssumeRolePolicyDocument=TRUST)
    else:
        q.iam("CreateUser", UserName="e")
    arn = q.iam("CreatePolicy", PolicyName="b", PolicyDocument=DOC)["Policy"]["Arn"]
    q.iam(f"Put{entity}PermissionsBoundary", **{f"{entity}Name": "e"}, PermissionsBoundary=arn)
    got = q.iam(f"Get{entity}", **{f"{entity}Name": "e"})[entity]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    assert getattr(iam, f"get_{entity.lower()}")("e").permissions_boundary == arn
    q.iam(f"Delete{entity}PermissionsBoundary", **{f"{entity}Name": "e"})
    assert "PermissionsBoundary" not in q.iam(f"Get{entity}", **{f"{entity}Name": "e"})[entity]
    assert getattr(iam, f"get_{entity.lower()}")("e").permissions_boundary is None


def test_get_role_shows_a_deleted_trusted_users_id_and_takes_it_back(
    q: Query, store: objstore.Store
) -> None:
    """GetRole shows a trusted user that was deleted by its unique id (as AWS); the document
    read over the wire can be saved back, and names nobody new (break-it review 7b, H4)."""
    iam = store.root.iam
    carol = iam.create_user("carol")
    trust = TRUST.replace("arn:aws:iam::000000000000:root", carol.arn)
    q.iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust)
    iam.delete_user("carol")
    iam.create_user("carol")
    shown = unquote(q.iam("GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"])
    assert carol.arn not in shown
    assert carol.user_id in shown
    q.iam("UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=shown)
    assert unquote(q.iam("GetRole", RoleName="r")["Role"]["AssumeRolePolicyDocument"]) == shown


def test_path_prefixes_markers_and_tag_values_are_checked(q: Query, store: objstore.Store) -> None:
    """Review of issue 7, LOW, over the Query API: PathPrefix as AWS's pattern, markers only
    as this store gave them for this list and these filters, and Tag's Value required."""
    iam = store.root.iam
    iam.create_user("a", path="/t/")
    iam.create_user("b")
    forged = base64.urlsafe_b64encode(b"m:a").decode()  # the earlier, unauthenticated form
    for op in ("ListUsers", "ListGroups", "ListRoles", "ListPolicies"):
        assert q.iam_error(op, PathPrefix="t/").code == "ValidationError"
        assert q.iam_error(op, Marker=forged).code == "ValidationError"
    first = q.iam("ListUsers", MaxItems=1)
    assert [u["UserName"] for u in q.iam("ListUsers", Marker=first["Marker"])["Users"]] == ["b"]
    assert q.iam_error("ListUsers", Marker=first["Marker"], PathPrefix="/t/").code == (
        "ValidationError"
    )
    assert q.iam_error("ListRoles", Marker=first["Marker"]).code == "ValidationError"
    iam.create_role("r", TRUST)
    for op, named in (
        ("TagUser", {"UserName": "a"}),
        ("CreateUser", {"UserName": "c"}),
        ("TagRole", {"RoleName": "r"}),
        ("CreateRole", {"RoleName": "r2", "AssumeRolePolicyDocument": TRUST}),
    ):
        form = form_for("iam", op, {**named, "Tags": [{"Key": "team", "Value": "x"}]})
        without_value = [(k, v) for k, v in form if not k.endswith(".Value")]
        answer = send(q.aclient, "iam", op, without_value)
        assert (answer.status, answer.code) == (400, "ValidationError"), op
    assert [u.user_name for u in iam.list_users()] == ["a", "b"]
    assert iam.list_user_tags("a") == [] and iam.list_role_tags("r") == []
