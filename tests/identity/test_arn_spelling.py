"""IAM calls act only on the entity their authorization named, spelled exactly.

Regressions of break-it review rev11a:
- H1: ``user_name=""`` reached the account root's access keys (the root's key records have
  no owner, and ``""`` compared equal to it): a user allowed ``iam:UpdateAccessKey`` on
  ``user/*`` could deactivate the root's key, or re-activate one the root had turned off.
- H2: Get/DeleteOpenIDConnectProvider found the provider case-insensitively, so an
  upper-cased host passed a Deny written on the provider's ARN.
- M1: SimulatePrincipalPolicy simulated whichever entity had the ARN's last segment, path
  and case ignored, past a Deny or outside the path the caller was allowed.
"""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import objstore
from objstore.errors import AccessDenied, NoSuchEntity, ValidationError
from tests.identity.helpers import allow, deny, user_client


@pytest.fixture
def store() -> objstore.Store:
    return objstore.open(None)


def test_an_empty_user_name_never_names_the_root(store: objstore.Store) -> None:
    root_key = store.root.iam.create_access_key()
    account = store.root.identity.account
    mallory = user_client(store, "mallory", allow("iam:*", f"arn:aws:iam::{account}:user/*"))
    for status in ("Inactive", "Active"):
        with pytest.raises(ValidationError):
            mallory.iam.update_access_key("", root_key.access_key_id, status)
    with pytest.raises(ValidationError):
        mallory.iam.delete_access_key("", root_key.access_key_id)
    with pytest.raises(ValidationError):
        mallory.iam.list_access_keys(user_name="")
    # The root's key is untouched and still works.
    assert [k.status for k in store.root.iam.list_access_keys()] == ["Active"]
    store.client(root_key.access_key_id, root_key.secret_access_key).list_buckets()
    # Even past the name check, a user's name never matches the root's (owner-less) keys.
    with pytest.raises(NoSuchEntity):
        mallory.iam.update_access_key("mallory", root_key.access_key_id, "Inactive")


def _provider(store: objstore.Store) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "k1"
    made = store.root.iam.create_open_id_connect_provider(
        "https://idp.example.com", ["client"], jwks={"keys": [jwk]}
    )
    return made.arn


def test_a_provider_is_named_by_its_exact_arn(store: objstore.Store) -> None:
    arn = _provider(store)
    oscar = user_client(
        store,
        "oscar",
        allow("iam:*"),
        deny(["iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider"], arn),
    )
    with pytest.raises(AccessDenied):
        oscar.iam.delete_open_id_connect_provider(arn)
    for other in (arn.replace("idp.example.com", "IDP.EXAMPLE.COM"), arn.replace("idp", "Idp")):
        with pytest.raises(NoSuchEntity):
            oscar.iam.delete_open_id_connect_provider(other)
        with pytest.raises(NoSuchEntity):
            oscar.iam.get_open_id_connect_provider(other)
    assert [p.arn for p in store.root.iam.list_open_id_connect_providers()] == [arn]
    assert store.root.iam.get_open_id_connect_provider(arn).arn == arn


def test_the_simulator_simulates_only_the_entity_its_arn_names(store: objstore.Store) -> None:
    iam = store.root.iam
    account = store.root.identity.account
    iam.create_user("admin")
    iam.put_user_policy("admin", "Secret", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Payroll", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }))  # fmt: skip
    iam.create_role("ops", json.dumps({"Version": "2012-10-17", "Statement": []}), path="/team/")
    head = f"arn:aws:iam::{account}:"
    sandboxed = user_client(
        store, "mallory", allow("iam:SimulatePrincipalPolicy", f"{head}user/sandbox/*")
    )
    with pytest.raises(AccessDenied):
        sandboxed.iam.simulate_principal_policy(f"{head}user/admin", ["s3:GetObject"])
    with pytest.raises(NoSuchEntity):
        sandboxed.iam.simulate_principal_policy(f"{head}user/sandbox/admin", ["s3:GetObject"])
    eve = user_client(
        store,
        "eve",
        allow("iam:SimulatePrincipalPolicy"),
        deny("iam:SimulatePrincipalPolicy", f"{head}user/admin"),
    )
    with pytest.raises(NoSuchEntity):
        eve.iam.simulate_principal_policy(f"{head}user/ADMIN", ["s3:GetObject"])
    for wrong in (f"{head}role/ops", f"{head}role/other/ops", f"{head}role/team/OPS"):
        with pytest.raises(NoSuchEntity):
            iam.simulate_principal_policy(wrong, ["s3:GetObject"])
    # The exact ARNs still work.
    (got,) = iam.simulate_principal_policy(f"{head}user/admin", ["s3:GetObject"])
    assert got.eval_decision == "allowed"
    (got,) = iam.simulate_principal_policy(f"{head}role/team/ops", ["s3:GetObject"])
    assert got.eval_decision == "implicitDeny"


def test_a_refusal_names_the_resource_as_the_caller_named_it(store: objstore.Store) -> None:
    """Review rev11a L4: refusals named the resource as resolved to decide, so a caller
    with no permission learnt who owns any access key id and the path of any user."""
    iam = store.root.iam
    iam.create_user("cfo", path="/finance/admins/")
    key = iam.create_access_key("cfo")
    nobody = user_client(store, "nobody")
    with pytest.raises(AccessDenied) as err:
        nobody.iam.get_access_key_last_used(key.access_key_id)
    assert "cfo" not in str(err.value) and "finance" not in str(err.value)
    assert key.access_key_id in str(err.value)
    for spelled in ("cfo", "CFO", "ghost"):
        with pytest.raises(AccessDenied) as err:
            nobody.iam.get_user(spelled)
        assert "finance" not in str(err.value) and f"user {spelled}" in str(err.value)
        assert err.value.details["resource"] == f"user {spelled}"
    # The audit log, for the account's administrators, keeps the resolved ARN.
    refused = [e for e in iam.lookup_events() if e.operation == "GetAccessKeyLastUsed"]
    assert refused and refused[0].resource.endswith(":user/finance/admins/cfo")
