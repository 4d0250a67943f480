"""Web identity: OpenID Connect providers and AssumeRoleWithWebIdentity.

A provider is registered with its URL, the client ids (audiences) it may issue tokens for,
and its public keys (JWKS; objstore never fetches them). A token is verified by
``oidc.py`` (signature, issuer, audience, expiry, ``nbf``) before any trust policy sees it;
the caller of the trust decision is then the provider (``Federated`` principal), with the
token's ``HOST:aud`` and ``HOST:sub`` as condition keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import EntityAlreadyExists, InvalidIdentityToken, InvalidInput, NoSuchEntity
from objstore.identity import oidc, repo
from objstore.identity.base import when
from objstore.identity.repo import Record
from objstore.identity.results import Credentials, OpenIDConnectProvider
from objstore.identity.sts import StsOps


class FederationOps(StsOps):
    """OIDC providers and the web-identity half of STS."""

    def provider_arn(self, host: str) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{host}"

    def _provider_result(self, rec: Record) -> OpenIDConnectProvider:
        return OpenIDConnectProvider(
            self.provider_arn(rec["host"]),
            rec["url"],
            tuple(rec["client_ids"]),
            tuple(rec["thumbprints"]),
            when(rec["created"]),
        )

    def _provider(self, provider_arn: object) -> Record:
        head = self.provider_arn("")
        if isinstance(provider_arn, str) and provider_arn.startswith(head):
            with self.repo.read() as txn:
                rec = repo.get(txn, keyspace.IAM_OIDC, provider_arn[len(head) :])
            # Only the provider's own ARN, exactly: the call was authorized on the ARN as
            # given, and the records are found case-insensitively.
            if rec is not None and self.provider_arn(rec["host"]) == provider_arn:
                return rec
        raise NoSuchEntity(f"OpenIDConnect provider {provider_arn!r} not found")

    def create_open_id_connect_provider(
        self,
        url: str,
        client_id_list: Sequence[str],
        jwks: Mapping[str, Any] | None = None,
        thumbprint_list: Sequence[str] | None = None,
    ) -> OpenIDConnectProvider:
        """Raises InvalidInput (URL, client ids, keys), EntityAlreadyExists."""
        host = oidc.provider_host(url)
        if isinstance(client_id_list, str) or not all(
            isinstance(c, str) and 1 <= len(c) <= 255 for c in client_id_list
        ):
            raise InvalidInput("client_id_list must be a list of client ids (1-255 characters)")
        thumbprints = list(thumbprint_list or ())
        if not all(isinstance(t, str) and len(t) == 40 for t in thumbprints):
            raise InvalidInput("thumbprints are 40 hex characters")
        keys = None if jwks is None else oidc.validate_jwks(jwks)
        with self.repo.write() as txn:
            if repo.get(txn, keyspace.IAM_OIDC, host) is not None:
                raise EntityAlreadyExists(f"Provider with url {url} already exists.")
            rec: Record = {
                "host": host,
                "url": url.removesuffix("/"),
                "client_ids": list(client_id_list),
                "thumbprints": thumbprints,
                "jwks": keys,
                "created": self.clock(),
            }
            repo.put(txn, keyspace.IAM_OIDC, host, rec)
        return self._provider_result(rec)

    def get_open_id_connect_provider(self, provider_arn: str) -> OpenIDConnectProvider:
        return self._provider_result(self._provider(provider_arn))

    def list_open_id_connect_providers(self) -> list[OpenIDConnectProvider]:
        with self.repo.read() as txn:
            return [self._provider_result(r) for r in repo.scan(txn, keyspace.IAM_OIDC)]

    def delete_open_id_connect_provider(self, provider_arn: str) -> None:
        rec = self._provider(provider_arn)
        with self.repo.write() as txn:
            repo.delete(txn, keyspace.IAM_OIDC, rec["host"])

    def verify_web_identity(self, web_identity_token: str) -> tuple[Identity, dict[str, str]]:
        """The provider (as a caller) and the claims' condition keys of a valid token.

        The provider is found by the token's issuer. Raises InvalidIdentityToken,
        ExpiredTokenException, ValidationError.
        """
        import jwt  # PyJWT, through oidc.py's rules; only the unverified issuer is read here

        try:
            issuer = jwt.decode(web_identity_token, options={"verify_signature": False}).get("iss")
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
            raise InvalidIdentityToken("the web identity token is malformed") from None
        try:
            host = oidc.provider_host(str(issuer))
        except InvalidInput:
            raise InvalidIdentityToken("the token's issuer is not a registered provider") from None
        with self.repo.read() as txn:
            rec = repo.get(txn, keyspace.IAM_OIDC, host)
        if rec is None or not rec.get("jwks"):
            raise InvalidIdentityToken("the token's issuer is not a registered provider")
        verified = oidc.verify_web_identity_token(
            web_identity_token,
            provider_url=rec["url"],
            client_ids=rec["client_ids"],
            jwks=rec["jwks"],
            now=self.clock() / 1e9,
        )
        caller = Identity(self.provider_arn(host), self.account, "web-identity")
        return caller, verified.condition_keys()

    def assume_role_with_web_identity(
        self,
        role_arn: str,
        role_session_name: str,
        web_identity_token: str,
        caller: Identity,
        duration_seconds: int = 3600,
        policy: str | None = None,
        web_identity_keys: Mapping[str, str] | None = None,
        decided: Mapping[str, str] | None = None,
    ) -> Credentials:
        """``decided``: as for :meth:`assume_role`. Raises what :meth:`verify_web_identity`
        and :meth:`assume_role` raise."""
        verified_caller, _keys = self.verify_web_identity(web_identity_token)
        if verified_caller.arn != caller.arn:
            raise InvalidIdentityToken("the token does not belong to this provider")
        del web_identity_keys  # the trust policy saw them before this runs
        return self.assume_role(
            role_arn,
            role_session_name,
            Identity(caller.arn, self.account, "web-identity"),
            duration_seconds,
            policy,
            decided=decided,
        )
