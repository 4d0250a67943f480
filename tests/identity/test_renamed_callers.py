"""A renamed user's credentials keep working, as the renamed user (review of issue 7, M2).

AWS: renaming a user does not affect its access keys; its unique id stays. A client built
from a key (and the user's sessions) before ``update_user(new_user_name=...)`` act as the
renamed user from their next call: new ARN and name, its policies. A deleted user's clients
are refused, also once another user takes the name (another unique id).
"""

from __future__ import annotations

import pytest

import objstore
from objstore.errors import AccessDenied, InvalidClientTokenId

from .helpers import allow, policy
from .test_sts import B, Clock, session

PASSWORD = "Correct-horse-1!"
SELF = "arn:aws:s3:::" + B + "/${aws:username}/*"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> objstore.Store:
    return objstore.open(None, clock=clock)


def _setup(store: objstore.Store) -> str:
    """Bucket B with objects per user name; user pat with a key, a password, and a policy
    naming ``${aws:username}``. Returns pat's unique id."""
    store.root.create_bucket(B)
    for key in ("k", "pat/k", "robin/k", "sam/k"):
        store.root.put_object(B, key, b"v")
    iam = store.root.iam
    user = iam.create_user("pat")
    iam.put_user_policy(
        "pat",
        "own",
        policy(
            allow(["s3:GetObject", "s3:PutObject"], SELF),
            allow(["iam:GetUser", "sts:GetSessionToken"]),
        ),
    )
    iam.create_login_profile("pat", PASSWORD)
    return user.user_id


def _key_client(store: objstore.Store, user: str) -> objstore.Client:
    key = store.root.iam.create_access_key(user)
    return store.client(key.access_key_id, key.secret_access_key)


def _delete(store: objstore.Store, user: str) -> None:
    """Delete the user :func:`_setup` made (under its current name), and what it holds."""
    iam = store.root.iam
    for key in iam.list_access_keys(user):
        iam.delete_access_key(user, key.access_key_id)
    iam.delete_user_policy(user, "own")
    iam.delete_login_profile(user)
    iam.delete_user(user)


def _user_arn(store: objstore.Store, path_and_name: str) -> str:
    return f"arn:aws:iam::{store.account_id}:user{path_and_name}"


def test_a_key_client_built_before_a_rename_acts_as_the_renamed_user(
    store: objstore.Store,
) -> None:
    uid = _setup(store)
    client = _key_client(store, "pat")
    assert client.get_object(B, "pat/k").read() == b"v"
    store.root.iam.update_user("pat", new_user_name="robin", new_path="/eng/")
    me = client.sts.get_caller_identity()
    assert (me.arn, me.user_id) == (_user_arn(store, "/eng/robin"), uid)
    assert client.iam.get_user().user_name == "robin"  # user_name=None: the caller
    assert client.get_object(B, "robin/k").read() == b"v"  # aws:username is robin now
    with pytest.raises(AccessDenied):
        client.get_object(B, "pat/k")
    # The audit log names the caller as it is now, once per call (the run that found the
    # caller renamed and started again is not logged).
    client.put_object(B, "robin/new", b"w")
    store.identity.audit.flush()
    events = store.root.iam.lookup_events()
    [event] = [e for e in events if e.operation == "GetUser"][:1]
    assert event.principal == _user_arn(store, "/eng/robin")
    assert [e.principal for e in events if e.resource == f"arn:aws:s3:::{B}/robin/new"] == [
        _user_arn(store, "/eng/robin")
    ]
    # A later move and rename are followed too.
    store.root.iam.update_user("robin", new_user_name="sam", new_path="/")
    assert client.sts.get_caller_identity().arn == _user_arn(store, "/sam")
    assert client.get_object(B, "sam/k").read() == b"v"


def test_a_renamed_users_old_client_gets_nothing_of_a_new_user_of_the_old_name(
    store: objstore.Store,
) -> None:
    _setup(store)
    client = _key_client(store, "pat")
    iam = store.root.iam
    iam.update_user("pat", new_user_name="robin")
    iam.create_user("pat")  # someone else, another unique id
    iam.attach_user_policy("pat", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert client.sts.get_caller_identity().arn == _user_arn(store, "/robin")
    with pytest.raises(AccessDenied):
        client.get_object(B, "k")  # not robin's, though the new pat may
    assert _key_client(store, "pat").get_object(B, "k").read() == b"v"


def test_a_deleted_users_client_is_refused_also_when_the_name_comes_back(
    store: objstore.Store,
) -> None:
    _setup(store)
    client = _key_client(store, "pat")
    iam = store.root.iam
    iam.update_user("pat", new_user_name="robin")
    _delete(store, "robin")
    for name in ("robin", "pat"):
        iam.create_user(name)
        iam.attach_user_policy(name, "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    with pytest.raises(InvalidClientTokenId):
        client.get_object(B, "k")
    with pytest.raises(InvalidClientTokenId):
        client.sts.get_caller_identity()


def test_a_renamed_users_sessions_act_as_the_renamed_user(
    store: objstore.Store,
) -> None:
    """Our choice where AWS documents only keys: sessions stand for the user's id too."""
    uid = _setup(store)
    client = _key_client(store, "pat")
    creds = client.sts.get_session_token()
    token_session = session(store, creds)
    console = store.sign_in("pat", PASSWORD)
    iam = store.root.iam
    iam.update_user("pat", new_user_name="robin", new_path="/eng/")
    iam.create_user("pat")  # the old name taken by someone else changes nothing
    iam.attach_user_policy("pat", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    robin = _user_arn(store, "/eng/robin")
    for old in (token_session, console):
        me = old.sts.get_caller_identity()
        assert (me.arn, me.user_id) == (robin, uid)
        assert old.get_object(B, "robin/k").read() == b"v"
        with pytest.raises(AccessDenied):
            old.get_object(B, "pat/k")
    # Presented anew (as a gateway does per request), the credentials are robin's too.
    assert session(store, creds).sts.get_caller_identity().arn == robin
    _, identity = store.identity.signing_credentials(creds.access_key_id, creds.session_token)
    assert (identity.arn, identity.name) == (robin, "robin")
    # Deleted, the user's sessions stand for nobody.
    _delete(store, "robin")
    for old in (token_session, console):
        with pytest.raises(InvalidClientTokenId):
            old.get_object(B, "robin/k")
    with pytest.raises(InvalidClientTokenId):
        session(store, creds)


class AllowAll:
    """An authorizer other than IAM's, allowing everything."""

    def authorize(self, request: object) -> bool:
        return True


def test_the_caller_is_found_by_id_with_any_authorizer() -> None:
    with objstore.open(None, authorizer=AllowAll()) as store:
        iam = store.root.iam
        iam.create_user("pat")
        client = _key_client(store, "pat")
        iam.update_user("pat", new_user_name="robin")
        assert client.sts.get_caller_identity().arn == _user_arn(store, "/robin")
        assert client.iam.get_user().user_name == "robin"


def test_a_user_moved_to_another_path_is_decided_on_its_new_arn(store: objstore.Store) -> None:
    """A move keeps the name (and the key's owner): the new ARN comes from the user record
    the authorizer loads, in a storage call that no IAM call preceded."""
    _setup(store)
    moved_only = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/eng/*"}}
    store.root.iam.put_user_policy(
        "pat", "eng", policy(allow("s3:GetObject", f"arn:aws:s3:::{B}/k", Condition=moved_only))
    )
    client = _key_client(store, "pat")
    with pytest.raises(AccessDenied):
        client.get_object(B, "k")
    store.root.iam.update_user("pat", new_path="/eng/")
    assert client.get_object(B, "k").read() == b"v"
    assert client.sts.get_caller_identity().arn == _user_arn(store, "/eng/pat")
