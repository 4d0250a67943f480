"""The Query protocol itself: the action tables against botocore's service models, form
decoding, paging, and AWS's error documents for requests that cannot be served."""

from __future__ import annotations

import asyncio
import inspect
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore.aio import AsyncClient
from objstore.errors import SignatureDoesNotMatch
from objstore.gateway.query import error_response, handle_query
from objstore.gateway.query.form import parse_form
from objstore.gateway.query.iam_actions import IAM_ACTIONS
from objstore.gateway.query.spec import decode_args
from objstore.gateway.query.sts_actions import STS_ACTIONS
from objstore.gateway.query.xml import escape
from objstore.identity.facade import IamClient
from objstore.identity.sts_facade import StsClient
from tests.gateway.query_harness import MODELS, Query, form_for, parse, send

# objstore's own parameters, beyond AWS's model.
EXTENSIONS = {("CreateOpenIDConnectProvider", "Jwks")}
# Library calls that are not IAM Query actions (the audit log is CloudTrail's LookupEvents).
NOT_QUERY = {"lookup_events"}


@pytest.fixture
def q(store: objstore.Store) -> Query:
    return Query(store.root)


@pytest.mark.parametrize(
    ("service", "table", "facade"),
    [("iam", IAM_ACTIONS, IamClient), ("sts", STS_ACTIONS, StsClient)],
)
def test_every_library_call_has_an_action_shaped_as_aws(
    service: str, table: dict[str, Any], facade: type
) -> None:
    """Each public method of the facade is one row; each row is an AWS operation whose
    parameters and result members exist in botocore's model."""
    public = {
        name
        for name, _ in inspect.getmembers(facade, inspect.isfunction)
        if not name.startswith("_")
    }
    assert {row.method for row in table.values()} == public - NOT_QUERY
    model = MODELS[service]
    for name, row in table.items():
        assert name in model.operation_names, name
        op = model.operation_model(name)
        inputs = op.input_shape.members if op.input_shape is not None else {}
        for p in row.all_params():
            assert p.wire in inputs or (name, p.wire) in EXTENSIONS, (name, p.wire)
        outputs = op.output_shape.members if op.output_shape is not None else {}
        names = [f.name for f in row.result or ()]
        if row.page is not None:
            names += [row.page.name, "IsTruncated", "Marker"]
        assert set(names) <= set(outputs), (name, set(names) - set(outputs))
        assert (row.result is None and row.page is None) == (op.output_shape is None), name


def _raw(q: Query, service: str, operation: str, form: list[tuple[str, str]]) -> Any:
    return send(q.aclient, service, operation, form)


def test_unknown_and_missing_actions(q: Query) -> None:
    unknown = _raw(
        q, "iam", "ListUsers", [("Action", "CreateSAMLProvider"), ("Version", "2010-05-08")]
    )
    assert (unknown.status, unknown.code) == (400, "InvalidAction")
    assert unknown.parsed["Error"]["Type"] == "Sender"
    assert b'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"' in unknown.body
    sts_only = _raw(q, "sts", "GetCallerIdentity", [("Action", "ListUsers")])
    assert sts_only.code == "InvalidAction"
    assert b'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in sts_only.body
    none = _raw(q, "iam", "ListUsers", [("Version", "2010-05-08")])
    assert (none.status, none.code) == (400, "MissingAction")
    other = asyncio.run(handle_query("s3", [("Action", "ListUsers")], q.aclient, request_id="r"))
    assert other.status == 400
    assert b"<Code>InvalidAction</Code>" in bytes(other.body)  # type: ignore[arg-type]


def test_missing_and_malformed_parameters(q: Query, store: objstore.Store) -> None:
    missing = _raw(q, "iam", "CreateUser", [("Action", "CreateUser")])
    assert (missing.status, missing.code) == (400, "ValidationError")
    assert "'userName'" in missing.parsed["Error"]["Message"]
    twice = _raw(
        q, "iam", "CreateUser", [("Action", "CreateUser"), ("UserName", "a"), ("UserName", "b")]
    )
    assert twice.code == "ValidationError"
    role = [("Action", "CreateRole"), ("RoleName", "r"), ("AssumeRolePolicyDocument", "{}")]
    bad_int = _raw(q, "iam", "CreateRole", [*role, ("MaxSessionDuration", "1h")])
    assert bad_int.code == "ValidationError"
    bad_bool = _raw(
        q,
        "iam",
        "CreatePolicyVersion",
        [("Action", "CreatePolicyVersion"), ("PolicyArn", "a"), ("PolicyDocument", "{}"),
         ("SetAsDefault", "yes")],
    )  # fmt: skip
    assert bad_bool.code == "ValidationError"
    bad_index = _raw(
        q,
        "iam",
        "CreateUser",
        [("Action", "CreateUser"), ("UserName", "u"), ("Tags.member.0.Key", "k"),
         ("Tags.member.0.Value", "v")],
    )  # fmt: skip
    assert bad_index.code == "ValidationError"
    no_value = _raw(
        q,
        "iam",
        "CreateUser",
        [("Action", "CreateUser"), ("UserName", "u"), ("Tags.member.1.Key", "k")],
    )
    assert no_value.code == "ValidationError"
    assert store.root.iam.list_users() == []  # nothing was created by any of them


def test_parameters_objstore_cannot_honour_are_refused(q: Query, store: objstore.Store) -> None:
    """PolicyArns would narrow a session; ignoring it would hand out more than asked."""
    role = store.root.iam.create_role(
        "r",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
        '{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}',
    )
    refused = q.sts_error(
        "AssumeRole",
        RoleArn=role.arn,
        RoleSessionName="s0",
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}],
    )
    assert (refused.status, refused.code) == (400, "ValidationError")
    assert "PolicyArns" in refused.parsed["Error"]["Message"]


def test_empty_list_and_envelope_parameters(q: Query, store: objstore.Store) -> None:
    """``Tags=`` is AWS's empty list; Version and presigned X-Amz-* names are not arguments."""
    answer = _raw(
        q,
        "iam",
        "CreateUser",
        [("Action", "CreateUser"), ("Version", "2010-05-08"), ("UserName", "u"), ("Tags", ""),
         ("X-Amz-Date", "20261130T000000Z")],
    )  # fmt: skip
    assert answer.status == 200, answer.body
    assert store.root.iam.get_user("u").tags == {}


def test_status_and_type_follow_the_error_class(store: objstore.Store) -> None:
    q = Query(store.root)
    assert q.iam_error("GetUser", UserName="nobody").status == 404
    store.close()
    closed = q.iam_error("ListUsers")
    assert (closed.status, closed.code) == (500, "StoreClosed")
    assert closed.parsed["Error"]["Type"] == "Receiver"


def test_an_unexpected_failure_is_an_internal_error(
    store: objstore.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug answers AWS's InternalError (and is logged), never a traceback."""

    class Broken:
        async def list_users(self, **_: Any) -> Any:
            raise RuntimeError("boom")

    client = AsyncClient(store.root)
    client.iam = Broken()  # type: ignore[assignment]
    answer = send(client, "iam", "ListUsers", [("Action", "ListUsers")])
    assert (answer.status, answer.code) == (500, "InternalError")
    assert b"boom" not in answer.body
    assert "boom" in caplog.text


def _pages(q: Query, operation: str, name: str, **params: Any) -> list[list[Any]]:
    pages: list[list[Any]] = []
    marker: dict[str, str] = {}
    while True:
        got = q.iam(operation, MaxItems=2, **params, **marker)
        pages.append(got[name])
        if not got["IsTruncated"]:
            assert "Marker" not in got
            return pages
        marker = {"Marker": got["Marker"]}


def test_paging_by_name_survives_changes_between_pages(q: Query) -> None:
    for name in "edcba":
        q.iam("CreateUser", UserName=name)
    pages = _pages(q, "ListUsers", "Users")
    assert [[u["UserName"] for u in page] for page in pages] == [["a", "b"], ["c", "d"], ["e"]]
    first = q.iam("ListUsers", MaxItems=2)
    q.iam("DeleteUser", UserName="b")  # the marker's own entry goes away
    q.iam("CreateUser", UserName="aa")  # and one appears before it
    rest = q.iam("ListUsers", MaxItems=10, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["c", "d", "e"]


def test_paging_by_position(q: Query) -> None:
    arn = q.iam("CreatePolicy", PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    for _ in range(3):
        q.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=DOC)
    pages = _pages(q, "ListPolicyVersions", "Versions", PolicyArn=arn)
    assert [len(p) for p in pages] == [2, 2]
    ids = [v["VersionId"] for page in pages for v in page]
    assert sorted(ids) == ["v1", "v2", "v3", "v4"]


def test_bad_paging_parameters(q: Query) -> None:
    assert q.iam_error("ListUsers", Marker="not-a-marker!").code == "ValidationError"
    for name in ("a", "b"):
        q.iam("CreateUser", UserName=name)
    by_name = q.iam("ListUsers", MaxItems=1)["Marker"]
    arn = q.iam("CreatePolicy", PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    wrong_kind = q.iam_error("ListPolicyVersions", PolicyArn=arn, Marker=by_name)
    assert wrong_kind.code == "ValidationError"
    zero = _raw(q, "iam", "ListUsers", [("Action", "ListUsers"), ("MaxItems", "0")])
    assert zero.code == "ValidationError"


DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'

_xml_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=50
)


@settings(max_examples=200, deadline=None)
@given(_xml_text)
def test_element_text_round_trips(text: str) -> None:
    """What XML can carry comes back exactly; what it cannot becomes U+FFFD."""
    parsed = ET.fromstring(f"<a>{escape(text)}</a>").text or ""
    allowed = {"\t", "\n", "\r"}
    expected = "".join(
        c if c in allowed or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"
        else "\ufffd"
        for c in text
    )  # fmt: skip
    assert parsed == expected


_names = st.text(st.sampled_from("abcXYZ09:*/-"), min_size=5, max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    actions=st.lists(_names, min_size=1, max_size=5),
    resources=st.none() | st.lists(_names, max_size=4),
    entries=st.lists(
        st.fixed_dictionaries(
            {
                "ContextKeyName": _names,
                "ContextKeyValues": st.lists(_names, max_size=3),
                "ContextKeyType": st.sampled_from(["string", "stringList"]),
            }
        ),
        max_size=3,
    ),
)
def test_botocore_forms_decode_to_the_arguments_boto3_was_given(
    actions: list[str], resources: list[str] | None, entries: list[dict[str, Any]]
) -> None:
    """Lists of strings and of structures with nested lists, as botocore flattens them."""
    params: dict[str, Any] = {"PolicyInputList": [DOC], "ActionNames": actions}
    if resources is not None:
        params["ResourceArns"] = resources
    if entries:
        params["ContextEntries"] = entries
    form = form_for("iam", "SimulateCustomPolicy", params)
    kwargs, _ = decode_args(IAM_ACTIONS["SimulateCustomPolicy"], parse_form(form))
    assert kwargs["policy_input_list"] == [DOC]
    assert kwargs["action_names"] == actions
    assert kwargs.get("resource_arns") == resources
    assert kwargs.get("context_entries", []) == entries


def test_handle_query_is_a_coroutine_the_app_awaits(store: objstore.Store) -> None:
    response = asyncio.run(
        handle_query(
            "sts",
            [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
            AsyncClient(store.root),
            request_id="r-1",
        )
    )
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert response.headers["x-amzn-RequestId"] == "r-1"


@pytest.mark.parametrize(
    ("service", "operation"), [("iam", "ListUsers"), ("sts", "GetCallerIdentity")]
)
def test_error_response_for_a_request_that_failed_before_the_query(
    service: str, operation: str
) -> None:
    """What the app answers when authentication of an IAM/STS request fails: botocore
    reads the code (an S3-style document would read as "Unknown")."""
    response = error_response(service, SignatureDoesNotMatch("bad signature"), request_id="r-2")
    answer = parse(service, operation, response)
    assert (answer.status, answer.code) == (403, "SignatureDoesNotMatch")
    assert answer.parsed["Error"]["Message"] == "bad signature"
    assert answer.parsed["ResponseMetadata"]["RequestId"] == "r-2"


def test_the_documentation_lists_every_action() -> None:
    """docs/gateway-query.md names each action of the tables (and their counts)."""
    text = Path(__file__).parents[2].joinpath("docs", "gateway-query.md").read_text()
    for name in [*IAM_ACTIONS, *STS_ACTIONS]:
        assert re.search(rf"\b{name}\b", text), name
    assert f"IAM ({len(IAM_ACTIONS)})" in text
    assert f"STS ({len(STS_ACTIONS)})" in text


def test_hostile_forms_are_refused_cheaply(q: Query, store: objstore.Store) -> None:
    """Deep names, huge or sparse list indexes and unknown nested fields: ValidationError,
    nothing created."""
    deep = ("Tags." + ".".join(["x"] * 5000), "v")
    huge = ("ActionNames.member.99999999", "s3:GetObject")
    sparse = [(f"ActionNames.member.{i * 1000 + 1}", "s3:GetObject") for i in range(50)]
    base = [("Action", "SimulateCustomPolicy"), ("PolicyInputList.member.1", DOC)]
    for extra in ([deep], [huge], [("ContextEntries.member.1.Nope", "x")]):
        answer = _raw(q, "iam", "SimulateCustomPolicy", [*base, *extra])
        assert answer.code == "ValidationError", extra
    user = _raw(q, "iam", "CreateUser", [("Action", "CreateUser"), ("UserName", "u"), deep])
    assert user.code == "ValidationError"
    assert store.root.iam.list_users() == []
    ok = _raw(q, "iam", "SimulateCustomPolicy", [*base, *sparse])
    assert ok.status == 200  # sparse numbering still reads in order, as AWS's
    assert len(ok.parsed["EvaluationResults"]) == 50
