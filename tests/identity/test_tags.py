"""Tags on users and roles: tag/untag/list with AWS's rules and limits, persisted, and fed to
``aws:PrincipalTag/*`` from the next request; ``aws:RequestTag/*`` and ``aws:TagKeys`` on
the tagging calls themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore.errors import (
    AccessDenied,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from objstore.identity import Tag
from tests.identity.helpers import allow, deny, policy, user_client

B = "tagged"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


class Entity:
    """The user or role calls of one kind, so each test runs for both."""

    def __init__(self, store: objstore.Store, kind: str) -> None:
        self.store = store
        self.iam = store.root.iam
        self.kind = kind

    def create(self, name: str, **kw: Any) -> Any:
        if self.kind == "user":
            return self.iam.create_user(name, **kw)
        return self.iam.create_role(name, TRUST, **kw)

    def get(self, name: str) -> Any:
        return getattr(self.iam, f"get_{self.kind}")(name)

    def tag(self, name: str, tags: Any) -> None:
        getattr(self.iam, f"tag_{self.kind}")(name, tags)

    def untag(self, name: str, keys: Any) -> None:
        getattr(self.iam, f"untag_{self.kind}")(name, keys)

    def tags(self, name: str) -> list[Tag]:
        result: list[Tag] = getattr(self.iam, f"list_{self.kind}_tags")(name)
        return result


@pytest.fixture(params=["user", "role"])
def entity(request: pytest.FixtureRequest, store: objstore.Store) -> Entity:
    return Entity(store, request.param)


def test_tag_list_untag(entity: Entity) -> None:
    entity.create("e", tags={"team": "blue"})
    entity.tag("e", [{"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": ""}])
    assert entity.tags("e") == [Tag("cost", ""), Tag("env", "prod"), Tag("team", "blue")]
    assert dict(entity.get("e").tags) == {"cost": "", "env": "prod", "team": "blue"}
    # Keys are unique case-insensitively: a new spelling replaces the old tag.
    entity.tag("e", {"TEAM": "red"})
    assert entity.tags("e") == [Tag("TEAM", "red"), Tag("cost", ""), Tag("env", "prod")]
    # Removing is case-insensitive too, and a key the entity lacks is no error.
    entity.untag("e", ["team", "ENV", "absent"])
    assert entity.tags("e") == [Tag("cost", "")]
    entity.tag("e", {})
    assert entity.tags("e") == [Tag("cost", "")]


def test_limits_and_errors_change_nothing(entity: Entity) -> None:
    entity.create("e")
    fifty = {f"k{i:02d}": "v" for i in range(50)}
    entity.tag("e", fifty)
    with pytest.raises(LimitExceeded):
        entity.tag("e", {"one-more": "v"})
    entity.tag("e", {"K00": "replaced"})  # a replacement keeps the count at 50
    before = entity.tags("e")
    assert len(before) == 50
    bad: list[tuple[Any, type[Exception]]] = [
        ({"x" * 129: "v"}, ValidationError),
        ({"": "v"}, ValidationError),
        ({"k": "v" * 257}, ValidationError),
        ({"a*b": "v"}, ValidationError),
        ({"tab\there": "v"}, ValidationError),
        ({"k": "new\nline"}, ValidationError),
        ({"aws:team": "v"}, InvalidInput),
        ([{"Key": "dup", "Value": "1"}, {"Key": "DUP", "Value": "2"}], InvalidInput),
        ({"k": 1}, InvalidInput),
        ("team=blue", InvalidInput),
    ]
    for tags, error in bad:
        with pytest.raises(error):
            entity.tag("e", tags)
    for keys, error in [
        ([], ValidationError),
        ([f"k{i}" for i in range(51)], ValidationError),
        (["x" * 129], ValidationError),
        ("k00", InvalidInput),
        ([7], InvalidInput),
    ]:
        with pytest.raises(error):
            entity.untag("e", keys)
    assert entity.tags("e") == before
    for call in (lambda: entity.tag("nobody", {"k": "v"}), lambda: entity.untag("nobody", ["k"])):
        with pytest.raises(NoSuchEntity):
            call()
    with pytest.raises(NoSuchEntity):
        entity.tags("nobody")


def test_a_listed_tag_needs_its_value(entity: Entity) -> None:
    """AWS's Tag has two required members (review of issue 7, LOW): an entry without
    ``Value`` (or with None) is refused at tag and at create; "" is a value."""
    entity.create("e")
    for tags in ([{"Key": "team"}], [{"Key": "team", "Value": None}], [{"Value": "v"}]):
        with pytest.raises(ValidationError):
            entity.tag("e", tags)
        with pytest.raises(ValidationError):
            entity.create("f", tags=tags)
    with pytest.raises(NoSuchEntity):
        entity.get("f")
    assert entity.tags("e") == []
    entity.tag("e", [{"Key": "team", "Value": ""}])
    assert entity.tags("e") == [Tag("team", "")]


def test_session_tags_need_their_value(store: objstore.Store) -> None:
    store.root.iam.create_role("r", TRUST)
    dev = user_client(store, "dev", allow(["sts:AssumeRole", "sts:TagSession"]))
    arn = f"arn:aws:iam::{store.account_id}:role/r"
    with pytest.raises(ValidationError):
        dev.sts.assume_role(arn, "s1", tags=[{"Key": "team"}])
    assert dev.sts.assume_role(arn, "s1", tags=[{"Key": "team", "Value": "x"}]).session_token


def test_unicode_letters_digits_and_spaces_are_allowed(entity: Entity) -> None:
    entity.create("e", tags={"Équipe data": "Zürich 2 _.:/=+-@"})
    assert entity.tags("e") == [Tag("Équipe data", "Zürich 2 _.:/=+-@")]


def test_tags_survive_reopen(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as s:
        s.root.iam.create_user("u")
        s.root.iam.create_role("r", TRUST)
        s.root.iam.tag_user("u", {"team": "blue"})
        s.root.iam.tag_role("r", {"tier": "gold", "x": "y"})
        s.root.iam.untag_role("r", ["X"])
    with objstore.open(tmp_path / "s") as s:
        assert s.root.iam.list_user_tags("U") == [Tag("team", "blue")]
        assert s.root.iam.list_role_tags("r") == [Tag("tier", "gold")]


def _team_policy(team: str) -> str:
    return policy(
        allow(
            "s3:GetObject",
            f"arn:aws:s3:::{B}/*",
            Condition={"StringEquals": {"aws:PrincipalTag/team": team}},
        )
    )


def test_user_tags_feed_principal_tag_from_the_next_request(store: objstore.Store) -> None:
    store.root.create_bucket(B)
    store.root.put_object(B, "k", b"v")
    client = user_client(store, "pat")  # built before any tag exists
    iam = store.root.iam
    iam.put_user_policy("pat", "p", _team_policy("blue"))
    with pytest.raises(AccessDenied):
        client.get_object(B, "k")
    generation = store.identity.repo.generation()
    iam.tag_user("pat", {"team": "blue"})
    assert store.identity.repo.generation() > generation  # what invalidates the caches
    assert client.get_object(B, "k").read() == b"v"
    iam.tag_user("pat", {"Team": "red"})
    with pytest.raises(AccessDenied):
        client.get_object(B, "k")
    iam.tag_user("pat", {"team": "blue"})
    client.get_object(B, "k").close()
    iam.untag_user("pat", ["TEAM"])
    with pytest.raises(AccessDenied):
        client.get_object(B, "k")


def test_role_tags_and_session_tags_feed_principal_tag(store: objstore.Store) -> None:
    """A role session's principal tags: its role's tags, a session tag of the same key wins."""
    store.root.create_bucket(B)
    store.root.put_object(B, "k", b"v")
    iam = store.root.iam
    role = iam.create_role("worker", TRUST)
    iam.put_role_policy("worker", "p", _team_policy("blue"))
    # Not the root (it may not assume roles); session tags need sts:TagSession too.
    assumer = user_client(store, "assumer", allow(["sts:AssumeRole", "sts:TagSession"], role.arn))

    def session(tags: dict[str, str] | None = None) -> objstore.Client:
        creds = assumer.sts.assume_role(role.arn, "sess", tags=tags)
        return store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)

    plain, red = session(), session({"Team": "red"})
    with pytest.raises(AccessDenied):
        plain.get_object(B, "k")
    iam.tag_role("worker", {"team": "blue"})
    plain.get_object(B, "k").close()  # the role's tag, from the next request
    with pytest.raises(AccessDenied):
        red.get_object(B, "k")  # the session's tag overrides the role's
    session({"team": "blue"}).get_object(B, "k").close()
    iam.untag_role("worker", ["team"])
    with pytest.raises(AccessDenied):
        plain.get_object(B, "k")


def test_the_simulator_sees_current_tags(store: objstore.Store) -> None:
    iam = store.root.iam
    arn = iam.create_user("pat").arn
    iam.put_user_policy("pat", "p", _team_policy("blue"))

    def decision() -> str:
        [result] = iam.simulate_principal_policy(
            arn, ["s3:GetObject"], resource_arns=[f"arn:aws:s3:::{B}/k"]
        )
        return result.eval_decision

    assert decision() == "implicitDeny"
    iam.tag_user("pat", {"team": "blue"})
    assert decision() == "allowed"


def test_request_tag_and_tag_keys_conditions(store: objstore.Store) -> None:
    """Only the tag ``team`` may be set, and only to blue or green; only it may be removed."""
    iam = store.root.iam
    iam.create_user("target")
    iam.create_role("r", TRUST)
    admin = user_client(
        store,
        "tagger",
        allow(
            ["iam:TagUser", "iam:TagRole", "iam:CreateUser"],
            Condition={
                "StringEquals": {"aws:RequestTag/team": ["blue", "green"]},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
            },
        ),
        allow(
            ["iam:UntagUser", "iam:UntagRole"],
            Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        ),
    )
    admin.iam.tag_user("target", {"team": "blue"})
    admin.iam.tag_role("r", [{"Key": "team", "Value": "green"}])
    admin.iam.create_user("born-tagged", tags={"team": "green"})
    for tags in ({"team": "red"}, {"team": "blue", "env": "prod"}, {"env": "prod"}):
        with pytest.raises(AccessDenied):
            admin.iam.tag_user("target", tags)
        with pytest.raises(AccessDenied):
            admin.iam.create_user("never", tags=tags)
    with pytest.raises(AccessDenied):
        admin.iam.create_user("untagged")  # no aws:RequestTag/team: StringEquals is false
    with pytest.raises(AccessDenied):
        admin.iam.untag_user("target", ["team", "env"])
    admin.iam.untag_user("target", ["team"])
    admin.iam.untag_role("r", ["team"])
    assert iam.list_user_tags("target") == []
    assert iam.list_role_tags("r") == []
    assert iam.list_user_tags("born-tagged") == [Tag("team", "green")]


_KEYS = st.sampled_from(["team", "Team", "TEAM", "env", "Env", "cost", "owner"])
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("tag"), st.dictionaries(_KEYS, st.sampled_from(["", "a", "b"]))),
        st.tuples(st.just("untag"), st.lists(_KEYS, min_size=1, max_size=3)),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(ops=_OPS)
def test_tags_follow_a_case_insensitive_model(ops: list[tuple[str, Any]]) -> None:
    """Against a model keyed by the lower-cased key holding (spelling, value)."""
    with objstore.open(None) as s:
        iam = s.root.iam
        iam.create_user("u")
        model: dict[str, tuple[str, str]] = {}
        for op, arg in ops:
            lowered = [k.lower() for k in arg]
            if op == "tag" and len(set(lowered)) < len(lowered):
                with pytest.raises(InvalidInput):
                    iam.tag_user("u", arg)
                continue
            if op == "tag":
                iam.tag_user("u", arg)
                model.update({k.lower(): (k, v) for k, v in arg.items()})
            else:
                iam.untag_user("u", arg)
                for key in lowered:
                    model.pop(key, None)
            expected = [Tag(k, v) for k, v in sorted(model.values())]
            assert iam.list_user_tags("u") == expected  # listed by key


def test_a_session_of_a_deleted_user_gets_nothing_of_a_new_user_of_its_name(
    store: objstore.Store,
) -> None:
    """Policies (and tags) are found by name, but belong to the user id the session was
    issued to: a user re-created under the name is another principal."""
    store.root.create_bucket(B)
    iam = store.root.iam
    iam.create_user("pat")
    iam.create_login_profile("pat", "Correct-horse-1!")
    old = store.sign_in("pat", "Correct-horse-1!")
    iam.delete_login_profile("pat")
    iam.delete_user("pat")
    iam.create_user("PAT", tags={"team": "blue"})
    iam.put_user_policy("PAT", "p", policy(allow("s3:PutObject")))
    with pytest.raises(AccessDenied):
        old.put_object(B, "k", b"v")
    fresh = user_client(store, "other")
    iam.put_user_policy("other", "p", policy(allow("s3:PutObject")))
    fresh.put_object(B, "k", b"v")


def test_resource_tags_of_users_and_roles_feed_iam_calls_on_them(store: objstore.Store) -> None:
    """aws:ResourceTag/* of the user or role an IAM call acts on (ABAC on IAM entities)."""
    iam = store.root.iam
    iam.create_user("blue-user", tags={"team": "blue"})
    iam.create_user("red-user", tags={"team": "red"})
    iam.create_role("blue-role", TRUST, tags={"Team": "blue"})
    iam.create_role("bare-role", TRUST)
    admin = user_client(
        store,
        "admin",
        allow(
            ["iam:GetUser", "iam:GetRole", "iam:TagUser"],
            Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}},
        ),
    )
    assert admin.iam.get_user("blue-user").user_name == "blue-user"
    assert admin.iam.get_role("blue-role").role_name == "blue-role"  # keys: any case
    for call in (lambda: admin.iam.get_user("red-user"), lambda: admin.iam.get_role("bare-role")):
        with pytest.raises(AccessDenied):
            call()
    with pytest.raises(AccessDenied):
        admin.iam.get_user("nobody")  # no such user: no tags, so no grant (and no leak)
    # Re-tagging itself away is allowed once (the tag is read before the call) ...
    admin.iam.tag_user("blue-user", {"team": "red"})
    # ... and the next call sees the new tag.
    with pytest.raises(AccessDenied):
        admin.iam.get_user("blue-user")
    iam.tag_user("red-user", {"team": "blue"})
    admin.iam.get_user("red-user")


def test_creating_with_tags_also_needs_the_tagging_permission(entity: Entity) -> None:
    """CreateUser/CreateRole with tags ask iam:TagUser/iam:TagRole too (as AWS), on the new
    entity's ARN, with aws:RequestTag/* and aws:TagKeys; without tags they do not."""
    k = entity.kind.capitalize()
    create = f"iam:Create{k}"
    tag = f"iam:Tag{k}"
    arn = f"arn:aws:iam::000000000000:{entity.kind}"
    cases = {
        # Create only: tags need Tag<Kind> as well.
        "c1": (allow(create),),
        # An explicit Deny of Tag<Kind> wins over iam:*.
        "c2": (allow("iam:*"), deny(tag)),
        # Tag<Kind> only on entities named ok*, and only for team=blue.
        "c3": (
            allow(create),
            allow(tag, f"{arn}/ok*", Condition={"StringEquals": {"aws:RequestTag/team": "blue"}}),
        ),
    }
    clients = {
        name: user_client(entity.store, name, *statements) for name, statements in cases.items()
    }

    def make(client: objstore.Client, name: str, **kw: Any) -> Any:
        if entity.kind == "user":
            return client.iam.create_user(name, **kw)
        return client.iam.create_role(name, TRUST, **kw)

    for i, client in enumerate(clients.values()):
        with pytest.raises(AccessDenied):
            make(client, f"no{i}", tags={"team": "blue"})
        with pytest.raises(NoSuchEntity):
            entity.get(f"no{i}")  # nothing was created
    for i, client in enumerate(clients.values()):
        make(client, f"bare{i}")  # no tags: the create permission alone
    c3 = clients["c3"]
    with pytest.raises(AccessDenied):
        make(c3, "ok-red", tags={"team": "red"})
    make(c3, "ok-blue", tags={"team": "blue"})
    assert entity.tags("ok-blue") == [Tag("team", "blue")]


def test_iam_resource_tag_is_the_entity_tags(store: objstore.Store) -> None:
    """iam:ResourceTag/* carries the same values as aws:ResourceTag/* for users and roles."""
    iam = store.root.iam
    iam.create_user("vip", tags={"Protected": "true"})
    iam.create_user("plain")
    iam.create_role("prot", TRUST, tags={"protected": "true"})
    guard = {"StringEquals": {"iam:ResourceTag/protected": "true"}}
    op = user_client(
        store,
        "op",
        allow("iam:*"),
        deny(
            ["iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:UpdateAssumeRolePolicy"],
            Condition=guard,
        ),
    )
    with pytest.raises(AccessDenied):
        op.iam.create_access_key("vip")
    with pytest.raises(AccessDenied):
        op.iam.attach_user_policy("vip", "arn:aws:iam::aws:policy/IAMFullAccess")
    with pytest.raises(AccessDenied):
        op.iam.update_assume_role_policy("prot", TRUST)
    op.iam.create_access_key("plain")
    reader = user_client(
        store,
        "reader",
        allow(
            ["iam:GetUser", "iam:GetRole"],
            Condition={"StringEquals": {"IAM:RESOURCETAG/Protected": "true"}},
        ),
    )
    assert reader.iam.get_user("vip").user_name == "vip"
    assert reader.iam.get_role("prot").role_name == "prot"
    with pytest.raises(AccessDenied):
        reader.iam.get_user("plain")


@pytest.mark.parametrize("prefix", ["aws:ResourceTag/", "iam:ResourceTag/"])
def test_assume_role_sees_the_role_tags(store: objstore.Store, prefix: str) -> None:
    """sts:AssumeRole is asked with the role's tags as aws:ResourceTag/* and
    iam:ResourceTag/*, for the caller's policies and for the trust policy."""
    iam = store.root.iam
    iam.create_role("prot", TRUST, tags={"protected": "true"})
    iam.create_role("dev", TRUST, tags={"team": "dev"})
    arn = "arn:aws:iam::000000000000:role/"
    guarded = user_client(
        store,
        "guarded",
        allow("sts:AssumeRole"),
        deny("sts:AssumeRole", Condition={"StringEquals": {f"{prefix}protected": "true"}}),
    )
    with pytest.raises(AccessDenied):
        guarded.sts.assume_role(arn + "prot", "s1")
    guarded.sts.assume_role(arn + "dev", "s1")
    abac = user_client(
        store,
        "abac",
        allow("sts:AssumeRole", Condition={"StringEquals": {f"{prefix}team": "dev"}}),
    )
    abac.sts.assume_role(arn + "dev", "s1")
    with pytest.raises(AccessDenied):
        abac.sts.assume_role(arn + "prot", "s1")
    # The trust policy sees them too: it names the user directly, only for dev-tagged roles.
    bare = user_client(store, "bare")
    trusting = json.loads(TRUST)
    trusting["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::000000000000:user/bare"}
    trusting["Statement"][0]["Condition"] = {"StringEquals": {f"{prefix}team": "dev"}}
    iam.update_assume_role_policy("dev", json.dumps(trusting))
    iam.update_assume_role_policy("prot", json.dumps(trusting))
    bare.sts.assume_role(arn + "dev", "s1")
    with pytest.raises(AccessDenied):
        bare.sts.assume_role(arn + "prot", "s1")


def test_an_identity_deny_of_assume_role_holds_when_the_trust_names_the_caller(
    store: objstore.Store,
) -> None:
    """A trust policy naming the user directly needs no identity Allow, but the user's own
    explicit Deny (here on the role's tags) still refuses, as in AWS."""
    iam = store.root.iam
    arn = "arn:aws:iam::000000000000:role/"
    user = user_client(
        store,
        "u",
        deny("sts:AssumeRole", Condition={"StringEquals": {"aws:ResourceTag/protected": "true"}}),
    )
    trust = json.loads(TRUST)
    trust["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::000000000000:user/u"}
    iam.create_role("prot", json.dumps(trust), tags={"protected": "true"})
    iam.create_role("open", json.dumps(trust))
    user.sts.assume_role(arn + "open", "s1")
    with pytest.raises(AccessDenied):
        user.sts.assume_role(arn + "prot", "s1")
