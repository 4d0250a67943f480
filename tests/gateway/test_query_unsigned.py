"""Review 7c over HTTP: an unsigned STS/IAM request is MissingAuthenticationToken unless it
is AssumeRoleWithWebIdentity (H2), and a repeated tag key is refused with AWS's codes (H1),
through boto3 against a running gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

import objstore
from objstore.testing import Server
from tests.gateway.query_harness import Query, form_for, send

DUP = [{"Key": "team", "Value": "eng"}, {"Key": "team", "Value": "admin"}]


def _trust(**condition: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def served() -> Iterator[tuple[objstore.Store, str]]:
    store = objstore.open(None)
    store.root.create_bucket("private")
    store.root.put_object("private", "payroll.csv", b"salaries")
    with Server(store) as url:
        yield store, url
    store.close()


def _code(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("condition", [None, {"StringEquals": {"sts:ExternalId": "p-42"}}])
def test_unsigned_sts_calls_are_missing_authentication_token(
    served: tuple[objstore.Store, str], condition: Any
) -> None:
    store, url = served
    role = store.root.iam.create_role("app", _trust(**(condition or {})))
    store.root.iam.attach_role_policy("app", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    sts = boto3.client(
        "sts", endpoint_url=url, region_name="us-east-1", config=Config(signature_version=UNSIGNED)
    )
    refused = ("MissingAuthenticationToken", 403)
    assert _code(lambda: sts.assume_role(RoleArn=role.arn, RoleSessionName="anon")) == refused
    assert (
        _code(lambda: sts.assume_role(RoleArn=role.arn, RoleSessionName="a2", ExternalId="p-42"))
        == refused
    )
    assert _code(sts.get_caller_identity) == refused
    assert _code(sts.get_session_token) == refused


def test_repeated_tag_keys_over_http(served: tuple[objstore.Store, str]) -> None:
    store, url = served
    iam = store.root.iam
    role = iam.create_role("app", _trust())
    iam.create_user("dev")
    iam.put_user_policy(
        "dev",
        "p",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["sts:*", "iam:*"], "Resource": "*"},
                ],
            }
        ),
    )
    key = iam.create_access_key("dev")
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": key.access_key_id,
        "aws_secret_access_key": key.secret_access_key,
    }
    sts, iam_http = boto3.client("sts", **kw), boto3.client("iam", **kw)
    assert _code(lambda: sts.assume_role(RoleArn=role.arn, RoleSessionName="s1", Tags=DUP)) == (
        "InvalidParameterValue",
        400,
    )
    assert _code(lambda: iam_http.create_user(UserName="u1", Tags=DUP)) == ("InvalidInput", 400)
    assert _code(lambda: iam_http.tag_role(RoleName="app", Tags=DUP)) == ("InvalidInput", 400)
    assert [u.user_name for u in iam.list_users()] == ["dev"]
    assert iam.list_role_tags("app") == []


def test_the_query_handler_checks_the_action_it_runs() -> None:
    """The action refused is the one the handler would run: a form naming
    AssumeRoleWithWebIdentity and then AssumeRole is still not let through unsigned."""
    store = objstore.open(None)
    try:
        role = store.root.iam.create_role("app", _trust())
        anonymous = Query(store.client_for(objstore.Identity.anonymous()))
        for operation, service in (("AssumeRole", "sts"), ("ListUsers", "iam")):
            params = {"RoleArn": role.arn, "RoleSessionName": "s0"} if service == "sts" else {}
            answer = anonymous.answer(service, operation, **params)
            assert (answer.status, answer.code) == (403, "MissingAuthenticationToken")
        form = form_for("sts", "AssumeRole", {"RoleArn": role.arn, "RoleSessionName": "s0"})
        web = ("Action", "AssumeRoleWithWebIdentity")
        for twice in ([web, *form], [*form, web]):
            answer = send(anonymous.aclient, "sts", "AssumeRole", twice)
            assert answer.status >= 400, answer.body
            assert b"AccessKeyId" not in answer.body
    finally:
        store.close()
