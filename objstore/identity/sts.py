"""STS: temporary credentials (AssumeRole, GetSessionToken) and GetCallerIdentity.

Every fact a session grants (whose policies apply, session policy, tags, MFA, expiry, whether
it was chained) is sealed into its session token (``sessions.py``), so it cannot be forged or
extended and checking it needs no database read. Whether the caller may assume a role is
decided by the engine before :meth:`StsOps.assume_role` runs: the role's trust policy is the
resource policy of ``sts:AssumeRole`` on the role's ARN (see ``authorizer.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from objstore.authz import Identity
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAuthenticationCode,
    InvalidClientTokenId,
    NoSuchEntity,
    ValidationError,
)
from objstore.iam.evaluate import as_policy
from objstore.identity import callers
from objstore.identity.base import when
from objstore.identity.credentials import CredentialOps
from objstore.identity.names import check_int, check_session_tags, check_str
from objstore.identity.results import CallerIdentity, Credentials
from objstore.identity.session_rules import check_signed
from objstore.identity.sessions import CHAINED_MAX_SECONDS, SessionClaims, SessionSealer

_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
SESSION_POLICY_MAX = 2048


class StsOps(CredentialOps):
    """The STS calls; ``sealer`` mints and opens session tokens."""

    sealer: SessionSealer

    def _now(self) -> int:
        return self.clock() // 1_000_000_000

    def get_caller_identity(self, caller: Identity) -> CallerIdentity:
        """Raises MissingAuthenticationToken (an anonymous caller)."""
        check_signed(caller, "GetCallerIdentity")
        return CallerIdentity(caller.account, caller.arn, caller.user_id or caller.account)

    def verify_mfa(
        self, caller: Identity, serial_number: str | None, token_code: str | None
    ) -> int | None:
        """When a call presents an MFA code: check it against the caller's device (it is then
        used up) and return the time of the check; None when none is presented.

        Only an IAM user or the root has MFA devices: the device must be the calling user's
        own (AWS). A role session, or any other caller, has none, so whatever it presents
        is refused without looking at any device (never the root's: its codes are neither
        used up nor counted toward its lockout). The caller's credentials are re-checked
        first, so expired or orphaned ones touch no device either.

        Raises InvalidAuthenticationCode, ExpiredToken, InvalidClientTokenId.
        """
        if serial_number is None and token_code is None:
            return None
        refused = InvalidAuthenticationCode("The MFA code is not valid (or was already used).")
        if caller.kind not in ("user", "root") or caller.account != self.account:
            raise refused
        if caller.expires_at is not None and self._now() >= caller.expires_at:
            raise ExpiredToken("The security token included in the request is expired")
        with self.repo.meta.begin_write() as txn:
            caller = callers.current(txn, self.account, caller)
            user = self.caller_user(caller, None)
            try:
                holder, _, _ = self._holder(txn, user)
            except NoSuchEntity:  # a long-term key's user deleted since
                raise InvalidClientTokenId(
                    "The security token included in the request is invalid."
                ) from None
            ok = False
            if serial_number in (holder.get("mfa") or []):
                ok = bool(self.check_mfa(txn, {"mfa": [serial_number]}, token_code))
        if not ok:
            raise refused
        return self._now()

    def assume_role(
        self,
        role_arn: str,
        role_session_name: str,
        caller: Identity,
        duration_seconds: int = 3600,
        policy: str | None = None,
        external_id: str | None = None,
        tags: object = None,
        mfa_at: int | None = None,
        mfa_present: bool | None = None,
        mfa_age: int | None = None,
        decided: Mapping[str, str] | None = None,
    ) -> Credentials:
        """A session of the role ``role_arn``; ``decided`` is what the engine's decisions
        read (``Verdict.read``): its ``role_id`` names the role whose trust policy allowed
        the call ("" for none), and a session of any other role of that ARN (deleted and
        created again since) is refused.

        Raises MissingAuthenticationToken (an anonymous caller), AccessDenied (the root,
        another role than the one decided on), InvalidParameterValue (a session tag key
        given twice), NoSuchEntity, ValidationError (duration, name, chaining over an
        hour), MalformedPolicyDocument, LimitExceeded (session policy size)."""
        # Both also when an authorizer other than IAM's allowed the call.
        check_signed(caller, "AssumeRole")
        if caller.kind == "root":
            raise AccessDenied("Roles may not be assumed by root accounts.")
        arn = check_str(role_arn, "role_arn")
        name = check_str(role_session_name, "role_session_name")
        if not _SESSION_NAME.fullmatch(name):
            raise ValidationError("role_session_name must be 2-64 characters of [\\w+=,.@-]")
        # Checked by the trust policy (sts:ExternalId, aws:MultiFactorAuth*) before this runs.
        del external_id, mfa_present, mfa_age
        head = f"arn:aws:iam::{self.account}:role/"
        if not arn.startswith(head):
            raise AccessDenied(f"not authorized to perform sts:AssumeRole on resource {arn}")
        with self.repo.read() as txn:
            role = self.need(txn, "role", arn.rsplit("/", 1)[-1])
        decided_id = None if decided is None else decided.get("role_id")
        if self.entity_arn("role", role) != arn or decided_id not in (None, role["id"]):
            # The second: the role was deleted and created again since the trust policy
            # that allowed this was read (an authorizer that read none says nothing).
            raise AccessDenied(f"not authorized to perform sts:AssumeRole on resource {arn}")
        chained = caller.kind == "assumed-role"
        limit = CHAINED_MAX_SECONDS if chained else role["max_session"]
        duration = check_int(duration_seconds, "duration_seconds", 900, max(limit, 900))
        session_policy = None
        if policy is not None:
            session_policy = check_str(policy, "policy")
            size = as_policy(session_policy, "session", "policy").size
            if size > SESSION_POLICY_MAX:
                raise ValidationError(
                    f"a session policy is at most {SESSION_POLICY_MAX} characters"
                )
        # MFA carries over from the caller's own session (a role chained from an MFA session).
        mfa = mfa_at if mfa_at is not None else caller.mfa_authenticated_at
        now = self._now()
        claims = SessionClaims(
            principal_arn=f"arn:aws:sts::{self.account}:assumed-role/{role['name']}/{name}",
            principal_id=f"{role['id']}:{name}",
            source_arn=arn,
            issued_at=now,
            expires_at=now + duration,
            session_name=name,
            session_policy=session_policy,
            tags=check_session_tags(tags),
            mfa_present=mfa is not None,
            mfa_auth_time=mfa,
            chained=chained,
        )
        return self._credentials(claims)

    def get_session_token(
        self, caller: Identity, duration_seconds: int = 43200, mfa_at: int | None = None
    ) -> Credentials:
        """For IAM users and the root. Raises MissingAuthenticationToken (an anonymous
        caller), AccessDenied (a session caller), ValidationError (duration)."""
        check_signed(caller, "GetSessionToken")
        if caller.kind not in ("user", "root") or caller.token_issued_at is not None:
            raise AccessDenied("GetSessionToken is for long-term credentials only")
        limit = 3600 if caller.kind == "root" else 129_600
        duration = check_int(duration_seconds, "duration_seconds", 900, limit)
        now = self._now()
        claims = SessionClaims(
            principal_arn=caller.arn,
            principal_id=caller.user_id or caller.account,
            source_arn=caller.arn,
            issued_at=now,
            expires_at=now + duration,
            session_name=caller.name,
            tags=dict(caller.tags),
            mfa_present=mfa_at is not None,
            mfa_auth_time=mfa_at,
        )
        return self._credentials(claims)

    def _credentials(self, claims: SessionClaims) -> Credentials:
        minted = self.sealer.mint(claims)
        return Credentials(
            minted.access_key_id,
            minted.secret_access_key,
            minted.session_token,
            when(minted.expiration * 1_000_000_000),
        )

    def session_identity(
        self, access_key_id: str, secret_access_key: str, session_token: str
    ) -> Identity:
        """The caller temporary credentials stand for. Raises InvalidClientTokenId,
        ExpiredToken, SignatureDoesNotMatch."""
        opened = self.sealer.open(
            session_token, access_key_id, self._now(), secret_access_key=secret_access_key
        )
        return self._bound_identity(access_key_id, opened.claims)

    def session_signing_secret(
        self, access_key_id: str, session_token: str
    ) -> tuple[str, Identity]:
        """The secret sealed in a session token and the caller it stands for, for a gateway
        verifying request signatures. Raises InvalidClientTokenId, ExpiredToken."""
        opened = self.sealer.open(session_token, access_key_id, self._now())
        return opened.secret_access_key, self._bound_identity(access_key_id, opened.claims)

    def _bound_identity(self, access_key_id: str, claims: SessionClaims) -> Identity:
        """The session's caller, if the user or role it was issued to still exists (else
        InvalidClientTokenId, as for a deleted access key): a user under its current name
        and path (``callers.current``)."""
        identity = self._session_identity(access_key_id, claims)
        with self.repo.read() as txn:
            return callers.current(txn, self.account, identity)

    def _session_identity(self, access_key_id: str, c: SessionClaims) -> Identity:
        common = {
            "access_key_id": access_key_id,
            "token_issued_at": c.issued_at,
            "expires_at": c.expires_at,
            "mfa_authenticated_at": c.mfa_auth_time,
            "session_policy": c.session_policy,
            "tags": dict(c.tags),
        }
        if ":assumed-role/" in c.principal_arn:
            return Identity(
                c.principal_arn,
                self.account,
                "assumed-role",
                c.session_name,
                c.principal_id,
                role_arn=c.source_arn,
                **common,  # type: ignore[arg-type]
            )
        if c.principal_arn == self.root_arn:
            return Identity(c.principal_arn, self.account, "root", None, self.account, **common)  # type: ignore[arg-type]
        return Identity(
            c.principal_arn,
            self.account,
            "user",
            c.session_name,
            c.principal_id,
            **common,  # type: ignore[arg-type]
        )


__all__ = ["StsOps"]
