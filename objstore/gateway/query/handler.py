"""One IAM or STS Query request: decode the form, call the client, answer in XML.

The client acts as the caller (or as the anonymous identity, for an unsigned
AssumeRoleWithWebIdentity; any other unsigned action is MissingAuthenticationToken): the
library authorizes and audits every call, so nothing here checks permissions. Every
objstore error becomes AWS's Query error document with the error class's status; an
unexpected failure becomes InternalError, logged here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from objstore.aio import AsyncClient
from objstore.errors import InternalError, InvalidAction, MissingAction, ObjstoreError
from objstore.gateway.query.form import parse_form
from objstore.gateway.query.iam_actions import IAM_ACTIONS
from objstore.gateway.query.spec import Action, decode_args, render_result
from objstore.gateway.query.sts_actions import STS_ACTIONS
from objstore.gateway.query.xml import error_document, response_document
from objstore.identity.session_rules import check_signed

__all__ = ["NAMESPACES", "error_response", "handle_query"]

log = logging.getLogger(__name__)

NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_TABLES: dict[str, dict[str, Action]] = {"iam": IAM_ACTIONS, "sts": STS_ACTIONS}
_XML = "text/xml"


async def handle_query(
    service: str,
    form: Sequence[tuple[str, str]],
    client: AsyncClient,
    *,
    request_id: str,
) -> web.Response:
    """Answer one Query request of ``service`` ("iam" or "sts") made by ``client``'s caller.

    ``form`` holds the request's parameters (the POST form, or the query string of a GET)
    in order. Never raises for a bad request: unknown action (InvalidAction), no action
    (MissingAction), a missing or malformed parameter (ValidationError) and every library
    error are answered as AWS's error document.
    """
    try:
        body = await _answer(service, form, client, request_id)
    except ObjstoreError as err:
        return error_response(service, err, request_id=request_id)
    except Exception:
        log.exception("IAM/STS Query request %s failed", request_id)
        internal = InternalError("We encountered an internal error.")
        return error_response(service, internal, request_id=request_id)
    return web.Response(body=body, content_type=_XML, headers={"x-amzn-RequestId": request_id})


async def _answer(
    service: str, form: Sequence[tuple[str, str]], client: AsyncClient, request_id: str
) -> bytes:
    table = _TABLES.get(service)
    if table is None:
        raise InvalidAction(f"the service {service!r} has no Query API here")
    root = parse_form(form)
    action_node = root.children.get("Action")
    if action_node is None or not action_node.value:
        raise MissingAction("The request must contain the parameter Action.")
    # An unsigned request may only trade a web identity (or SAML) token for credentials:
    # told before anything else about the action, as AWS answers it.
    check_signed(client.identity, action_node.value)
    action = table.get(action_node.value)
    if action is None:
        raise InvalidAction(f"The action {action_node.value} is not valid for this web service.")
    kwargs, values = decode_args(action, root)
    target = client.iam if service == "iam" else client.sts
    method: Any = getattr(target, action.method)
    result = await method(**kwargs)
    return response_document(
        action.name, NAMESPACES[service], render_result(action, values, result), request_id
    )


def error_response(service: str, err: ObjstoreError, *, request_id: str) -> web.Response:
    """AWS's Query error document for ``err`` with its status, in ``service``'s namespace.

    For the app too: a request to IAM or STS that fails before it reaches
    :func:`handle_query` (a bad signature, an expired session token) must be answered in
    this form, or boto3's iam/sts clients cannot read the error (they see "Unknown").
    """
    status = err.http_status if 400 <= err.http_status < 600 else 500
    namespace = NAMESPACES.get(service, NAMESPACES["iam"])
    body = error_document(namespace, err.code, err.message, status < 500, request_id)
    return web.Response(
        status=status,
        body=body,
        content_type=_XML,
        headers={"x-amzn-RequestId": request_id},
    )
