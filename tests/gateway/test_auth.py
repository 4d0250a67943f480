"""make_authenticator: aiohttp requests signed by botocore -> callers, and every refusal."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from aiohttp import web

import objstore
from objstore.authz import Identity
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidClientTokenId,
    InvalidRequest,
    InvalidToken,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from objstore.gateway.auth import make_authenticator
from objstore.gateway.caller import Caller
from tests.gateway.signing import Wire, capture, client, mocked, presigned


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


class Env:
    def __init__(self) -> None:
        self.now_ns = time.time_ns()
        self.store = objstore.open(None, clock=lambda: self.now_ns)
        self.root_key = self.store.root.iam.create_access_key()
        iam = self.store.root.iam
        iam.create_user("alice")
        self.alice_key = iam.create_access_key("alice")
        self.auth = make_authenticator(self.store, region="us-east-1")

    def s3(self, key: Any = None, **kw: Any) -> Any:
        key = key or self.root_key
        return client(key=key.access_key_id, secret=key.secret_access_key, **kw)

    def call(self, wire: Wire, auth: Any = None, **kw: Any) -> tuple[Caller, bytes]:
        async def main() -> tuple[Caller, bytes]:
            caller = await (auth or self.auth)(mocked(wire, **kw))
            return caller, b"".join([piece async for piece in caller.body])

        result: tuple[Caller, bytes] = run(main())
        return result


@pytest.fixture
def env() -> Iterator[Env]:
    e = Env()
    try:
        yield e
    finally:
        e.store.close()


def test_root_and_user_keys(env: Env) -> None:
    wire = capture(env.s3(), "put_object", Bucket="bkt", Key="k", Body=b"hello")
    caller, body = env.call(wire, peer="203.0.113.7", tls=True)
    assert body == b"hello"
    assert caller.identity.kind == "root" and caller.service == "s3"
    assert caller.region == "us-east-1"
    assert caller.identity.access_key_id == env.root_key.access_key_id
    assert caller.identity.source_ip == "203.0.113.7"
    assert caller.identity.secure_transport is True
    assert caller.identity.user_agent is not None and "Boto3" in caller.identity.user_agent
    caller, _ = env.call(capture(env.s3(env.alice_key), "get_object", Bucket="b", Key="k"))
    assert caller.identity.kind == "user" and caller.identity.name == "alice"
    assert caller.identity.secure_transport is False


def test_forwarded_for_is_not_trusted(env: Env) -> None:
    wire = capture(env.s3(), "get_object", Bucket="b", Key="k")
    caller, _ = env.call(wire, peer="198.51.100.1", extra_headers=[("X-Forwarded-For", "10.0.0.1")])
    assert caller.identity.source_ip == "198.51.100.1"


def test_unknown_inactive_and_deleted_keys(env: Env) -> None:
    class Fake:
        access_key_id = "AKIAUNKNOWNUNKNOWN00"
        secret_access_key = "x" * 40

    with pytest.raises(InvalidAccessKeyId) as err:
        env.call(capture(env.s3(Fake), "get_object", Bucket="b", Key="k"))
    assert err.value.details["AWSAccessKeyId"] == Fake.access_key_id
    with pytest.raises(InvalidClientTokenId):
        env.call(capture(client("iam", key=Fake.access_key_id, secret="x"), "list_users"))
    with pytest.raises(InvalidClientTokenId):
        env.call(capture(client("sts", key=Fake.access_key_id, secret="x"), "get_caller_identity"))
    key_id = env.alice_key.access_key_id
    env.store.root.iam.update_access_key("alice", key_id, "Inactive")
    with pytest.raises(InvalidAccessKeyId):
        env.call(capture(env.s3(env.alice_key), "get_object", Bucket="b", Key="k"))
    env.store.root.iam.update_access_key("alice", key_id, "Active")
    env.call(capture(env.s3(env.alice_key), "get_object", Bucket="b", Key="k"))
    env.store.root.iam.delete_access_key("alice", key_id)
    with pytest.raises(InvalidAccessKeyId):
        env.call(capture(env.s3(env.alice_key), "get_object", Bucket="b", Key="k"))


def test_wrong_secret(env: Env) -> None:
    boto = client(key=env.root_key.access_key_id, secret="wrong" * 8)
    with pytest.raises(SignatureDoesNotMatch) as err:
        env.call(capture(boto, "get_object", Bucket="b", Key="k"))
    assert "CanonicalRequest" in err.value.details


def test_session_credentials(env: Env) -> None:
    alice = env.store.client(env.alice_key.access_key_id, env.alice_key.secret_access_key)
    creds = alice.sts.get_session_token(duration_seconds=900)
    boto = client(
        key=creds.access_key_id, secret=creds.secret_access_key, token=creds.session_token
    )
    caller, _ = env.call(capture(boto, "get_object", Bucket="b", Key="k"))
    assert caller.identity.access_key_id == creds.access_key_id
    assert caller.identity.token_issued_at is not None
    assert caller.identity.arn.endswith(":user/alice")
    sts = client(
        "sts", key=creds.access_key_id, secret=creds.secret_access_key, token=creds.session_token
    )
    assert env.call(capture(sts, "get_caller_identity"))[0].service == "sts"
    # A token of another session, or changed: S3's InvalidToken, STS's InvalidClientTokenId.
    other = alice.sts.get_session_token(duration_seconds=900)
    forged = client(
        key=creds.access_key_id, secret=creds.secret_access_key, token=other.session_token
    )
    with pytest.raises(InvalidToken):
        env.call(capture(forged, "get_object", Bucket="b", Key="k"))
    forged_sts = client(
        "sts", key=creds.access_key_id, secret=creds.secret_access_key, token=other.session_token
    )
    with pytest.raises(InvalidClientTokenId):
        env.call(capture(forged_sts, "get_caller_identity"))
    # A temporary key without its token is no key at all.
    bare = client(key=creds.access_key_id, secret=creds.secret_access_key)
    with pytest.raises(InvalidAccessKeyId):
        env.call(capture(bare, "get_object", Bucket="b", Key="k"))
    wire = capture(boto, "get_object", Bucket="b", Key="k")
    env.now_ns += 901 * 10**9
    with pytest.raises(ExpiredToken):
        env.call(wire)


def test_anonymous_requests(env: Env) -> None:
    wire = Wire(
        "PUT",
        "/bkt/k",
        "",
        [("Host", "h"), ("User-Agent", "curl/8"), ("Referer", "https://r.example/")],
        b"data",
    )
    caller, body = env.call(wire, peer="192.0.2.99")
    assert caller.identity.kind == "anonymous" and caller.service is None
    assert caller.identity.source_ip == "192.0.2.99"
    assert caller.identity.user_agent == "curl/8"
    assert caller.identity.referer == "https://r.example/"
    assert body == b"data" and caller.body.length == 4
    signed_mode = Wire(
        "PUT",
        "/bkt/k",
        "",
        [("Host", "h"), ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")],
        b"",
    )
    with pytest.raises(InvalidRequest):
        env.call(signed_mode)


def test_clock_skew_and_expired_presigned_url(env: Env) -> None:
    wire = capture(env.s3(), "get_object", Bucket="b", Key="k")
    late = make_authenticator(env.store, region="us-east-1", clock=lambda: time.time() + 3600)
    with pytest.raises(RequestTimeTooSkewed):
        env.call(wire, auth=late)
    url = presigned(
        env.s3(signature_version="s3v4"), "get_object", expires=600, Bucket="b", Key="k"
    )
    env.call(url)
    with pytest.raises(AccessDenied, match="expired"):
        env.call(url, auth=late)


def test_payload_hash_mismatch_aborts_before_eof(env: Env) -> None:
    wire = capture(env.s3(), "put_object", Bucket="bkt", Key="k", Body=b"hello")

    async def main() -> list[bytes]:
        caller = await env.auth(mocked(wire.with_body(b"HELLO")))
        seen: list[bytes] = []
        with pytest.raises(XAmzContentSHA256Mismatch) as err:
            async for piece in caller.body:
                seen.append(piece)
        assert err.value.details["ClientComputedContentSHA256"] == wire.header(
            "x-amz-content-sha256"
        )
        return seen

    assert b"".join(run(main())) == b"HELLO"


def test_iam_body_is_read_and_signed(env: Env) -> None:
    wire = capture(env.s3(), "get_object", Bucket="b", Key="k")
    boto = client("iam", key=env.root_key.access_key_id, secret=env.root_key.secret_access_key)
    wire = capture(boto, "create_user", UserName="bob")
    caller, body = env.call(wire)
    assert caller.service == "iam" and b"UserName=bob" in body
    with pytest.raises(SignatureDoesNotMatch):
        env.call(wire.with_body(wire.body.replace(b"bob", b"eve")))


def test_key_last_used_is_recorded(env: Env) -> None:
    key_id = env.alice_key.access_key_id
    assert env.store.root.iam.get_access_key_last_used(key_id).service_name == "N/A"
    env.call(capture(env.s3(env.alice_key), "get_object", Bucket="b", Key="k"))
    used = env.store.root.iam.get_access_key_last_used(key_id)
    assert used.service_name == "s3" and used.last_used_date is not None


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::pub/*",
            "Condition": {"StringLike": {"aws:Referer": "https://ok.example/*"}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::pub/*",
            "Condition": {"StringLike": {"aws:UserAgent": "*BadBot*"}},
        },
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::pub/lan/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        },
    ],
}


def test_policy_conditions_on_user_agent_referer_and_source_ip(env: Env) -> None:
    """aws:UserAgent, aws:Referer and aws:SourceIp come from the request into the policy."""
    env.store.root.create_bucket("pub")
    env.store.root.put_object("pub", "doc", b"public")
    env.store.root.put_object("pub", "lan/doc", b"lan")
    env.store.root.put_bucket_policy("pub", json.dumps(POLICY))

    def identity(path: str, peer: str = "192.0.2.1", **headers: str) -> Identity:
        wire = Wire("GET", path, "", [("Host", "h"), *headers.items()], b"")
        return env.call(wire, peer=peer)[0].identity

    def can_read(who: Identity, key: str) -> bool:
        try:
            env.store.client_for(who).get_object("pub", key).read()
        except AccessDenied:
            return False
        return True

    assert can_read(identity("/pub/doc", Referer="https://ok.example/page"), "doc")
    assert not can_read(identity("/pub/doc"), "doc")
    assert not can_read(identity("/pub/doc", Referer="https://evil.example/"), "doc")
    bot = identity("/pub/doc", Referer="https://ok.example/x", **{"User-Agent": "a BadBot/1"})
    assert not can_read(bot, "doc")
    assert can_read(identity("/pub/lan/doc", peer="10.1.2.3"), "lan/doc")
    assert not can_read(identity("/pub/lan/doc", peer="192.0.2.1"), "lan/doc")


# ------------------------------------------------------------ over real HTTP


@pytest.fixture
def served(env: Env) -> Iterator[tuple[str, list[Caller | Exception], list[bytes]]]:
    """A tiny aiohttp server that authenticates each request and reads its body."""
    callers: list[Caller | Exception] = []
    bodies: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        try:
            caller = await env.auth(request)
            bodies.append(await caller.body.read_all(1 << 20))
            callers.append(caller)
        except objstore.errors.ObjstoreError as exc:
            callers.append(exc)
            xml = f"<Error><Code>{exc.code}</Code><Message>{exc.message}</Message></Error>"
            return web.Response(status=exc.http_status, body=xml, content_type="application/xml")
        return web.Response(status=200)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", callers, bodies
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_boto3_over_http(env: Env, served: Any) -> None:
    url, callers, bodies = served
    key = env.root_key
    boto = client(endpoint=url, key=key.access_key_id, secret=key.secret_access_key)
    boto.put_object(Bucket="bkt", Key="a b/é", Body=b"x" * 100_000)
    assert bodies[-1] == b"x" * 100_000
    last = callers[-1]
    assert isinstance(last, Caller) and last.identity.source_ip == "127.0.0.1"
    bad = client(endpoint=url, key=key.access_key_id, secret="nope" * 10)
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        bad.put_object(Bucket="bkt", Key="k", Body=b"y")
    assert isinstance(callers[-1], SignatureDoesNotMatch)


def test_sigv2_presigned_and_virtual_hosted(env: Env) -> None:
    """boto3's default presigned URLs (SigV2), and SigV2 on a virtual-hosted request."""
    url = presigned(env.s3(), "get_object", Bucket="bkt", Key="a b")
    assert "AWSAccessKeyId=" in url.query
    caller, _ = env.call(url)
    assert caller.identity.kind == "root" and caller.service == "s3"
    key = env.root_key
    virtual = client(
        endpoint="http://s3.localhost:9000",
        key=key.access_key_id,
        secret=key.secret_access_key,
        signature_version="s3",
        s3={"addressing_style": "virtual"},
    )
    wire = capture(virtual, "get_object", Bucket="bkt", Key="k")
    assert wire.header("Host") == "bkt.s3.localhost:9000"
    assert env.call(wire)[0].identity.kind == "root"
    bad = client(key=key.access_key_id, secret="wrong" * 8)
    with pytest.raises(SignatureDoesNotMatch):
        env.call(presigned(bad, "get_object", Bucket="bkt", Key="k"))
