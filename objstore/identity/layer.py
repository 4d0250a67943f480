"""Wires the identity layer of one store: key, records, IAM service, authorizer, audit log."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from objstore.authz import Identity
from objstore.engine import AuditSink
from objstore.identity import bindings
from objstore.identity.audit import AuditLog
from objstore.identity.authorizer import IamAuthorizer
from objstore.identity.crypto import SecretBox
from objstore.identity.repo import Repo
from objstore.identity.service import IamService
from objstore.meta.base import MetadataStore
from objstore.ns.namespace import Namespace


class IdentityLayer:
    """Everything the store needs for IAM, built from its metadata store."""

    def __init__(
        self,
        meta: MetadataStore,
        namespace: Namespace,
        account: str,
        *,
        secret_key: bytes,
        clock: Callable[[], int] = time.time_ns,
        audit: AuditSink | None = None,
    ) -> None:
        self.box = SecretBox(secret_key)

        self.repo = Repo(meta)
        bindings.bind_legacy(self.repo, account)
        self.audit = AuditLog(meta, audit)
        self.service = IamService(
            self.repo,
            account,
            self.box,
            bucket_created=lambda b: namespace.head_bucket(b).creation_date,
            audit=self.audit,
            clock=clock,
        )
        self.authorizer = IamAuthorizer(
            meta,
            account,
            bucket_created=lambda b: namespace.head_bucket(b).creation_date,
            clock=clock,
        )
        self.authorizer.key_used = self.service.note_used

    def authenticate(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None,
        *,
        source_ip: str | None,
        secure_transport: bool,
    ) -> Identity:
        """The caller these credentials stand for. Raises InvalidClientTokenId,
        SignatureDoesNotMatch, ExpiredToken."""
        if session_token is not None:
            identity = self.service.session_identity(
                access_key_id, secret_access_key, session_token
            )
        else:
            identity = self.service.authenticate(access_key_id, secret_access_key)
        return replace(identity, source_ip=source_ip, secure_transport=bool(secure_transport))

    def signing_credentials(
        self, access_key_id: str, session_token: str | None
    ) -> tuple[str, Identity]:
        """The secret a request signed with ``access_key_id`` must have used, and the
        caller it stands for (a long-term key, or temporary credentials with their
        session token). For a gateway that verifies signatures; it records the key's
        use (``service.note_used``) once the signature checks out.

        Raises InvalidClientTokenId (unknown, deleted or inactive key; a token that is
        not this store's or not this key's), ExpiredToken.
        """
        if session_token is not None:
            return self.service.session_signing_secret(access_key_id, session_token)
        return self.service.signing_secret(access_key_id)

    def sign_in(
        self,
        user_name: str,
        password: str,
        mfa_code: str | None,
        new_password: str | None,
        *,
        source_ip: str | None,
        secure_transport: bool,
    ) -> Identity:
        """See :meth:`objstore.Store.sign_in`."""
        identity = self.service.sign_in(user_name, password, mfa_code, new_password)
        return replace(identity, source_ip=source_ip, secure_transport=bool(secure_transport))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.audit.flush()
        self.audit.closed = True
