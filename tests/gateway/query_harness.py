"""Drive ``handle_query`` as boto3 does: botocore's own Query serializer builds the form from
boto3-style arguments, and botocore's Query parser reads the answer against the
operation's output shape, so what parses here parses in boto3."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import botocore.parsers
import botocore.serialize
import botocore.session
from aiohttp import web

import objstore
from objstore.aio import AsyncClient
from objstore.gateway.query import handle_query

_SESSION = botocore.session.get_session()
MODELS = {name: _SESSION.get_service_model(name) for name in ("iam", "sts")}
_SERIALIZER = botocore.serialize.create_serializer("query")
_PARSER = botocore.parsers.create_parser("query")
REQUEST_ID = "query-test-request"


@dataclass
class Answer:
    status: int
    parsed: dict[str, Any]
    body: bytes
    headers: dict[str, str]

    @property
    def code(self) -> str:
        return str(self.parsed["Error"]["Code"])


class QueryFailed(AssertionError):
    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.status}: {answer.body.decode()}")
        self.answer = answer


def form_for(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The form botocore sends for ``operation`` with these (validated) arguments."""
    op = MODELS[service].operation_model(operation)
    request = _SERIALIZER.serialize_to_request(params, op)
    return [(str(k), str(v)) for k, v in request["body"].items()]


def send(client: AsyncClient, service: str, operation: str, form: list[tuple[str, str]]) -> Answer:
    """Run one request through ``handle_query`` and parse its answer as botocore does."""
    response = asyncio.run(handle_query(service, form, client, request_id=REQUEST_ID))
    return parse(service, operation, response)


def parse(service: str, operation: str, response: web.Response) -> Answer:
    """An answer as botocore's Query parser reads it for ``operation``."""
    op = MODELS[service].operation_model(operation)
    assert response.body is not None
    body = bytes(response.body)  # type: ignore[arg-type]
    headers = dict(response.headers)
    parsed = _PARSER.parse(
        {"body": body, "headers": headers, "status_code": response.status}, op.output_shape
    )
    return Answer(response.status, parsed, body, headers)


class Query:
    """IAM and STS through the Query API, as one caller."""

    def __init__(self, client: objstore.Client) -> None:
        self.client = client
        self.aclient = AsyncClient(client)

    def answer(self, service: str, operation: str, **params: Any) -> Answer:
        return send(self.aclient, service, operation, form_for(service, operation, params))

    def iam(self, operation: str, **params: Any) -> dict[str, Any]:
        """The parsed answer; raises QueryFailed on an error answer."""
        return self._ok(self.answer("iam", operation, **params))

    def sts(self, operation: str, **params: Any) -> dict[str, Any]:
        return self._ok(self.answer("sts", operation, **params))

    def iam_error(self, operation: str, **params: Any) -> Answer:
        """An answer that must be an error."""
        answer = self.answer("iam", operation, **params)
        assert answer.status >= 400, answer.body
        return answer

    def sts_error(self, operation: str, **params: Any) -> Answer:
        answer = self.answer("sts", operation, **params)
        assert answer.status >= 400, answer.body
        return answer

    @staticmethod
    def _ok(answer: Answer) -> dict[str, Any]:
        if answer.status != 200:
            raise QueryFailed(answer)
        assert answer.parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
        return answer.parsed
