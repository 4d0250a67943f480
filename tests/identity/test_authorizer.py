"""The IAM authorizer on live calls: identity, group, managed and inline policies,
boundaries, bucket policies, condition keys from the request, 403 versus 404."""

from __future__ import annotations

import pytest

import objstore
from objstore.errors import AccessDenied, NoSuchBucketPolicy, NoSuchKey

from .helpers import allow, deny, policy, user_client

B = "photos"


@pytest.fixture
def store() -> objstore.Store:
    s = objstore.open(None)
    s.root.create_bucket(B)
    s.root.put_object(B, "a.txt", b"a")
    return s


def test_a_user_with_no_policy_can_do_nothing(store: objstore.Store) -> None:
    c = user_client(store, "nobody")
    for call in (
        lambda: c.list_buckets(),
        lambda: c.get_object(B, "a.txt"),
        lambda: c.put_object(B, "b", b"x"),
        lambda: c.iam.list_users(),
        lambda: c.iam.create_access_key(),
    ):
        with pytest.raises(AccessDenied):
            call()


def test_group_managed_policy_allows_and_removal_revokes(store: objstore.Store) -> None:
    iam = store.root.iam
    c = user_client(store, "yash")
    iam.create_group("HR")
    pol = iam.create_policy("read-photos", policy(allow("s3:GetObject", f"arn:aws:s3:::{B}/*")))
    iam.attach_group_policy("HR", pol.arn)
    with pytest.raises(AccessDenied):
        c.get_object(B, "a.txt")
    iam.add_user_to_group("HR", "yash")
    assert c.get_object(B, "a.txt").read() == b"a"
    # A new default version narrows it at the next request.
    iam.create_policy_version(pol.arn, policy(allow("s3:GetObject", f"arn:aws:s3:::{B}/x/*")))
    with pytest.raises(AccessDenied):
        c.get_object(B, "a.txt")
    iam.set_default_policy_version(pol.arn, "v1")
    c.get_object(B, "a.txt").close()
    iam.remove_user_from_group("HR", "yash")
    with pytest.raises(AccessDenied):
        c.get_object(B, "a.txt")


def test_explicit_deny_wins_and_boundary_limits(store: objstore.Store) -> None:
    iam = store.root.iam
    c = user_client(store, "u", allow("s3:*"), deny("s3:DeleteObject"))
    c.put_object(B, "k", b"1")
    with pytest.raises(AccessDenied):
        c.delete_object(B, "k")
    boundary = iam.create_policy("only-get", policy(allow("s3:GetObject")))
    iam.put_user_permissions_boundary("u", boundary.arn)
    with pytest.raises(AccessDenied):
        c.put_object(B, "k", b"2")
    c.get_object(B, "k").close()
    iam.delete_user_permissions_boundary("u")
    c.put_object(B, "k", b"2")


def test_username_variable_in_resource(store: objstore.Store) -> None:
    home = allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{B}/home/${{aws:username}}/*")
    ann = user_client(store, "ann", home)
    bob = user_client(store, "bob", home)
    ann.put_object(B, "home/ann/x", b"1")
    bob.put_object(B, "home/bob/x", b"1")
    with pytest.raises(AccessDenied):
        ann.get_object(B, "home/bob/x")


def _net_policy(equals: dict[str, str]) -> str:
    return policy(
        allow(
            "s3:GetObject",
            Condition={
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": equals,
            },
        )
    )


def test_request_condition_keys(store: objstore.Store) -> None:
    store.root.iam.create_user("net")
    store.root.iam.put_user_policy("net", "p", _net_policy({"aws:PrincipalTag/team": "blue"}))
    key = store.root.iam.create_access_key("net")

    def client(**kw: object) -> objstore.Client:
        return store.client(key.access_key_id, key.secret_access_key, **kw)  # type: ignore[arg-type]

    with pytest.raises(AccessDenied):
        client(source_ip="10.1.2.3").get_object(B, "a.txt")  # no tag yet
    store.root.iam.put_user_policy("net", "p", _net_policy({"aws:username": "net"}))
    client(source_ip="10.1.2.3").get_object(B, "a.txt").close()
    with pytest.raises(AccessDenied):
        client(source_ip="192.168.0.1").get_object(B, "a.txt")
    with pytest.raises(AccessDenied):
        client(source_ip="10.1.2.3", secure_transport=False).get_object(B, "a.txt")
    with pytest.raises(AccessDenied):
        client().get_object(B, "a.txt")  # no source ip: IpAddress is false


def test_principal_tags_feed_conditions(store: objstore.Store) -> None:
    iam = store.root.iam
    iam.create_user("tagged", tags={"team": "blue"})
    iam.put_user_policy(
        "tagged",
        "p",
        policy(
            allow("s3:GetObject", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})
        ),
    )
    key = iam.create_access_key("tagged")
    store.client(key.access_key_id, key.secret_access_key).get_object(B, "a.txt").close()


def test_bucket_policy_grants_a_user_directly_and_anonymous(store: objstore.Store) -> None:
    c = user_client(store, "guest")
    arn = store.root.iam.get_user("guest").arn
    store.root.put_bucket_policy(
        B,
        policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{B}/*",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{B}/public/*",
            },
        ),
    )
    c.get_object(B, "a.txt").close()
    anon = store.client_for(objstore.Identity.anonymous())
    store.root.put_object(B, "public/p", b"p")
    assert anon.get_object(B, "public/p").read() == b"p"
    with pytest.raises(AccessDenied):
        anon.get_object(B, "a.txt")
    assert "guest" in store.root.get_bucket_policy(B)
    store.root.delete_bucket_policy(B)
    with pytest.raises(NoSuchBucketPolicy):
        store.root.get_bucket_policy(B)
    with pytest.raises(AccessDenied):
        c.get_object(B, "a.txt")


def test_bucket_policy_deny_applies_to_root_but_not_to_its_policy_management(
    store: objstore.Store,
) -> None:
    store.root.put_bucket_policy(
        B, policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    )
    with pytest.raises(AccessDenied):
        store.root.get_object(B, "a.txt")
    store.root.delete_bucket_policy(B)  # the owner can never lock itself out
    store.root.get_object(B, "a.txt").close()


def test_a_recreated_bucket_does_not_inherit_the_old_policy(store: objstore.Store) -> None:
    store.root.create_bucket("tmp-bucket")
    store.root.put_bucket_policy(
        "tmp-bucket",
        policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
    )
    store.root.delete_bucket("tmp-bucket")
    store.root.create_bucket("tmp-bucket")
    with pytest.raises(NoSuchBucketPolicy):
        store.root.get_bucket_policy("tmp-bucket")
    anon = store.client_for(objstore.Identity.anonymous())
    with pytest.raises(AccessDenied):
        anon.put_object("tmp-bucket", "x", b"x")


def test_missing_key_is_404_only_with_list_bucket(store: objstore.Store) -> None:
    getter = user_client(store, "getter", allow("s3:GetObject"))
    with pytest.raises(AccessDenied):
        getter.get_object(B, "absent")
    lister = user_client(store, "lister", allow(["s3:GetObject", "s3:ListBucket"]))
    with pytest.raises(NoSuchKey):
        lister.get_object(B, "absent")


def test_denial_names_action_and_resource_only(store: objstore.Store) -> None:
    c = user_client(store, "secretive", deny("s3:GetObject"))
    with pytest.raises(AccessDenied) as exc:
        c.get_object(B, "a.txt")
    message = str(exc.value)
    assert "s3:GetObject" in message and f"arn:aws:s3:::{B}/a.txt" in message
    assert "secretive" not in message and "Deny" not in message and "policy" not in message


def test_user_name_none_means_the_caller(store: objstore.Store) -> None:
    c = user_client(store, "self", allow("iam:*", "arn:aws:iam::*:user/${aws:username}"))
    keys = c.iam.list_access_keys()
    assert [k.user_name for k in keys] == ["self"]
    assert c.iam.get_user().user_name == "self"
    with pytest.raises(AccessDenied):
        c.iam.list_access_keys("someone-else")
    root_key = store.root.iam.create_access_key(None)
    assert root_key.user_name is None
    root = store.client(root_key.access_key_id, root_key.secret_access_key)
    assert root.identity.kind == "root"
    assert [k.access_key_id for k in root.iam.list_access_keys()] == [root_key.access_key_id]


def test_custom_authorizer_still_accepted() -> None:
    with objstore.open(None, authorizer=objstore.RootOnlyAuthorizer()) as s:
        s.root.iam.create_user("x")
        key = s.root.iam.create_access_key("x")
        s.root.iam.put_user_policy("x", "p", policy(allow("*")))
        with pytest.raises(AccessDenied):
            s.client(key.access_key_id, key.secret_access_key).list_buckets()
