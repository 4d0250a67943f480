"""The IAM authorizer: the store's default answer to "may this caller do this?".

Per request it opens one read transaction for the generation counter and the bucket's
policy, then decides with the policy engine (``objstore.iam``). A caller's policies are
loaded and compiled once and reused until the generation changes: every IAM write bumps
it in LMDB, so a change made by any process applies from the next request on, in every
process. Nothing here is keyed on credentials: entries are keyed by the caller's ARN.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from objstore import keyspace
from objstore.authz import AuthorizationRequest, Identity, Verdict, is_allowed
from objstore.errors import ExpiredToken, InvalidClientTokenId, NoSuchBucket, StoredPolicyUnreadable
from objstore.iam import public
from objstore.iam.evaluate import Decision, context_entries, decide
from objstore.iam.policy import Policy
from objstore.iam.principal import Grant, Principal
from objstore.identity import bindings, gather, repo
from objstore.identity.callers import current
from objstore.identity.gather import PrincipalPolicies
from objstore.meta.base import MetadataStore
from objstore.ns.index import bucket_key
from objstore.ns.records import BucketRecord

_CACHE_LIMIT = 10_000
_OTHER_ACCOUNT = "9" * 12  # stands for "not the caller's account" in trust decisions
_POLICY_REPAIR = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})
_NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken"})
# Callers that have no identity policies of their own: a trust policy must name them
# directly.
_NO_IDENTITY_POLICIES = frozenset({"anonymous", "service", "web-identity", "root"})
# How many renames or moves of the caller's user made while one request is decided it follows.
_MAX_MOVES = 3


class _Moved(Exception):
    """The caller's user was found renamed or moved since its Identity was made: the
    question is asked again for ``identity``, the user as it is now."""

    def __init__(self, identity: Identity) -> None:
        super().__init__(identity.arn)
        self.identity = identity


def bucket_of(resource: str) -> str | None:
    """The bucket an S3 resource ARN names (None for other resources)."""
    if not resource.startswith("arn:aws:s3:::"):
        return None
    return resource[13:].split("/", 1)[0] or None


def request_context(identity: Identity, now_s: float) -> dict[str, object]:
    """The ``aws:*`` keys that come from how the caller authenticated."""
    ctx: dict[str, object] = {"aws:SecureTransport": identity.secure_transport}
    if identity.source_ip:
        ctx["aws:SourceIp"] = identity.source_ip
    # Client-supplied headers, as AWS: usable in conditions, never proof of anything.
    if identity.user_agent is not None:
        ctx["aws:UserAgent"] = identity.user_agent
    if identity.referer is not None:
        ctx["aws:Referer"] = identity.referer
    if identity.token_issued_at is not None:
        # Temporary credentials: MFA present or not (absent for long-term keys, as AWS).
        ctx["aws:TokenIssueTime"] = datetime.fromtimestamp(identity.token_issued_at, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        ctx["aws:MultiFactorAuthPresent"] = identity.mfa_authenticated_at is not None
    if identity.mfa_authenticated_at is not None:
        ctx["aws:MultiFactorAuthAge"] = max(0, int(now_s - identity.mfa_authenticated_at))
    return ctx


class IamAuthorizer:
    """Decides with the caller's IAM policies, boundary, session policy and bucket policy.

    Deferred context keys (``AuthorizationRequest.deferred``: the stored object's tags
    for ``s3:ExistingObjectTag/*``) are loaded only when one of the policies consulted
    reads a key under their prefix: a key no policy reads cannot change the decision."""

    defers_context = True

    def __init__(
        self,
        meta: MetadataStore,
        account: str,
        *,
        bucket_created: Callable[[str], datetime],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.meta = meta
        self.account = account
        self._bucket_created = bucket_created
        self._clock = clock
        self._real_clock = clock is time.time_ns
        # (ARN, user id) -> (generation, the identity's own tags, policies).
        self._principals: dict[
            tuple[str, str], tuple[int, Mapping[str, str], PrincipalPolicies]
        ] = {}
        # bucket -> (policy record, bucket record, the policy, what it is to callers
        # outside the account: itself, or its Deny statements under RestrictPublicBuckets).
        self._bucket_policies: dict[str, tuple[bytes, bytes, Policy | None, Policy | None]] = {}
        # Told of each use of a long-term key (the service records last-used dates).
        self.key_used: Callable[[str, str], None] | None = None

    def policies_for(self, identity: Identity, generation: int) -> PrincipalPolicies:
        """The caller's policies as of ``generation`` (loaded at most once per generation)."""
        cache_key = (identity.arn, identity.user_id or "")
        found = self._principals.get(cache_key)
        # The identity's tags (session tags) are part of the key: the principal tags are
        # built from them and the records of this generation.
        if found is not None and found[0] == generation and found[1] == identity.tags:
            return found[2]
        with self.meta.begin() as txn:
            loaded = gather.load(txn, self.account, identity)
        if len(self._principals) >= _CACHE_LIMIT:
            self._principals.clear()
        self._principals[cache_key] = (generation, dict(identity.tags), loaded)
        return loaded

    def bucket_policy(
        self, bucket: str, raw: bytes | None, bucket_raw: bytes | None, *, outsider: bool = False
    ) -> Policy | None:
        """The bucket's policy from its stored record, if it belongs to this bucket; for
        an ``outsider`` (anonymous, or of another account) only its Deny statements when
        the policy is public and the bucket's RestrictPublicBuckets is on.

        A record left by a deleted bucket of the same name (its creation stamp differs)
        does not apply. Parsed once per (policy record, bucket record) pair: a request
        whose two records are unchanged costs two byte comparisons.
        """
        if raw is None or bucket_raw is None:
            return None
        cached = self._bucket_policies.get(bucket)
        if cached is None or cached[0] != raw or cached[1] != bucket_raw:
            # A policy that cannot be read raises StoredPolicyUnreadable (not cached): never
            # decided as if the bucket had no policy, or its Deny would lapse.
            cached = (raw, bucket_raw, *self._load_bucket_policy(bucket, raw, bucket_raw))
            if len(self._bucket_policies) >= _CACHE_LIMIT:
                self._bucket_policies.clear()
            self._bucket_policies[bucket] = cached
        return cached[3] if outsider else cached[2]

    def _load_bucket_policy(
        self, bucket: str, raw: bytes, bucket_raw: bytes
    ) -> tuple[Policy | None, Policy | None]:
        what = f"BucketPolicy of {bucket!r}"
        try:
            record = json.loads(raw)
            text, created = record["policy"], record["created"]
        except (ValueError, TypeError, KeyError):
            raise gather.unreadable(what, "its record is damaged") from None
        try:
            if self._bucket_created(bucket).isoformat() != created:
                return None, None  # left by a deleted bucket of this name: it does not apply
        except NoSuchBucket:
            return None, None
        principals = bindings.stored_binding(record, "principals", what)

        def load(doc: str) -> Policy:
            parsed = gather.parsed(doc, "BucketPolicy", "resource", what=what)
            return bindings.bound(parsed, self.account, principals, what)

        policy = load(text)
        flags = BucketRecord.decode(bucket, bucket_raw).public_access_block
        if flags is None or not flags[3] or not public.is_public(text):
            return policy, policy
        # RestrictPublicBuckets: a public policy grants nothing outside the account
        # (AWS: only the owner's account and AWS services); its denials still hold.
        denials = public.deny_only(text)
        return policy, None if denials is None else load(json.dumps(denials))

    def decide(self, request: AuthorizationRequest) -> Verdict:
        """The request's action and its optional ones, decided in one pass (one read, the
        policies gathered once); for ``sts:AssumeRole*`` and ``sts:TagSession`` the verdict
        says which role's trust policy decided (``read["role_id"]``, "" for no such role).

        The caller is found by its unique id (``callers.py``): a user renamed or moved
        since its identity was made is decided for as it is now, on the question rebuilt for
        it (``request.rebuild``; without one, the same resource), and the verdict carries
        that question (``Verdict.request``) so the call runs as it.

        Raises InvalidClientTokenId / ExpiredToken for credentials no longer valid (this
        authorizer re-checks them in its own read, sparing the engine a second one): an
        inactive or deleted key, temporary credentials of a user or role deleted since, a
        user renamed more than a few times while the request was decided."""
        asked = request
        for _ in range(_MAX_MOVES + 1):
            try:
                verdict = self._decide(request)
            except _Moved as moved:
                if request.rebuild is not None:
                    request = request.rebuild(moved.identity)
                else:
                    request = replace(request, principal=moved.identity)
                continue
            return verdict if request is asked else replace(verdict, request=request)
        raise InvalidClientTokenId("The security token included in the request is invalid.")

    def _decide(self, request: AuthorizationRequest) -> Verdict:
        """:meth:`decide` for the caller as ``request`` names it. Raises _Moved, and what
        :meth:`decide` raises."""
        identity = request.principal
        action = request.action
        now_ns = self._clock()
        if identity.expires_at is not None and now_ns // 1_000_000_000 >= identity.expires_at:
            raise ExpiredToken("The security token included in the request is expired")
        bucket = bucket_of(request.resource)
        trust = None
        read: dict[str, str] = {}
        with self.meta.begin() as txn:
            # Credentials stand for the user's (role's) unique id, not its name.
            now_as = current(txn, self.account, identity, complete=False)
            if now_as is not identity:
                raise _Moved(now_as)
            key_id = identity.access_key_id
            if key_id is not None and identity.token_issued_at is None and self.key_used:
                self.key_used(key_id, action.split(":", 1)[0])
            if action in _NO_PERMISSION_NEEDED:
                # AWS: "no permissions are required"; the caller is authenticated already.
                return Verdict(identity.account == self.account and identity.kind != "anonymous")
            generation = repo.generation(txn)
            raw = bucket_raw = None
            if bucket is not None:
                raw = txn.get(keyspace.BUCKET_POLICY + bucket.encode())
                if raw is not None:
                    bucket_raw = txn.get(bucket_key(bucket))
            assuming = action.lower().startswith("sts:assumerole")
            if assuming or action.lower() == "sts:tagsession":
                role = gather.role_record(txn, self.account, request.resource)
                # The session is issued for this role only (sts.py checks the id).
                read["role_id"] = "" if role is None else role["id"]
                trust = gather.trust_policy(txn, self.account, role)
        state = self.policies_for(identity, generation)
        if state.arn is not None and state.arn != identity.arn:
            # The user was moved to another path (the record of this generation says so).
            raise _Moved(replace(identity, arn=state.arn))
        outsider = identity.kind == "anonymous" or identity.account != self.account
        resource_policy = trust
        if bucket is not None:
            try:
                resource_policy = self.bucket_policy(bucket, raw, bucket_raw, outsider=outsider)
            except StoredPolicyUnreadable:
                # Fail closed, except that the owner's root may still read, replace or
                # delete the policy: the one way to repair it.
                if not _may_repair(identity, request):
                    raise
                resource_policy = None
        ctx = request_context(identity, now_ns / 1e9)
        ctx.update(request.context)
        sessions: tuple[Policy, ...] = ()
        if identity.session_policy:
            sessions = (gather.parsed(identity.session_policy, "SessionPolicy", "session"),)
        owner = request.resource_account
        if owner is None and bucket is None:
            owner = self.account
        identity_policies = state.identity if state.exists else ()
        if request.deferred:
            consulted = (*identity_policies, *state.boundaries, *sessions)
            if resource_policy is not None:
                consulted = (*consulted, resource_policy)
            for prefix, load in request.deferred:
                if any(p.reads_keys_under(prefix) for p in consulted):
                    ctx.update(load())
        now = None if self._real_clock else datetime.fromtimestamp(now_ns / 1e9, UTC)
        entries = context_entries(ctx)

        def run(
            action: str,
            identity: tuple[Policy, ...],
            account: str | None,
            resource: Policy | None,
        ) -> Decision:
            return decide(
                state.principal,
                action,
                request.resource,
                context=entries,
                identity=identity,
                resource_policy=resource,
                boundaries=state.boundaries,
                sessions=sessions,
                resource_account=account,
                now=now,
            )

        def one(action: str) -> Decision | bool:
            if trust is None:
                return run(action, identity_policies, owner, resource_policy)
            # A role is assumed (and its session tagged: sts:TagSession) only if its trust
            # policy names the caller. Naming it directly (its user or session ARN, unique
            # id, service or provider: Grant.DIRECT) suffices alone; naming its account, "*"
            # or (for a session) its role also needs the caller's own policies to allow the
            # action, as across accounts. Fail closed: a caller without policies of this
            # account (anonymous, a service, a web identity) is let in only by a direct
            # naming, and an anonymous caller never (STS refuses unsigned AssumeRole before
            # this is asked).
            if identity.kind == "anonymous":
                return False
            direct = run(action, (), owner, _naming_directly(trust, state.principal))
            if direct.allowed:
                # An explicit Deny in the caller's own policies (or anywhere in the trust
                # policy) still wins (AWS: a deny in any policy consulted).
                own = run(action, identity_policies, owner, trust)
                return own if own.effect == "explicitDeny" else direct
            if identity.account != self.account or identity.kind in _NO_IDENTITY_POLICIES:
                return direct
            outside = _OTHER_ACCOUNT if self.account != _OTHER_ACCOUNT else "1" * 12
            return run(action, identity_policies, outside, trust)

        first = one(action)
        allowed = is_allowed(first)
        optional: frozenset[str] = frozenset()
        if allowed and request.optional:
            # Only for a caller allowed the action: an optional one never decides the call.
            optional = frozenset(a for a in request.optional if is_allowed(one(a)))
        return Verdict(allowed, optional, read, first)

    def authorize(self, request: AuthorizationRequest) -> Verdict:
        """See :meth:`decide` (and what it raises)."""
        return self.decide(request)


def _may_repair(identity: Identity, request: AuthorizationRequest) -> bool:
    """Whether the call is the bucket owner's root handling the bucket policy itself."""
    return (
        identity.kind == "root"
        and identity.account == request.resource_account
        and request.action.lower() in _POLICY_REPAIR
    )


def _naming_directly(trust: Policy, principal: Principal) -> Policy:
    """``trust`` with only its statements whose Principal names ``principal`` itself
    (Grant.DIRECT): what may let a caller in without any identity policy of its own."""
    kept = tuple(
        s
        for s in trust.statements
        if s.principal is not None
        and not s.not_principal
        and s.principal.grant(principal) is Grant.DIRECT
    )
    if len(kept) == len(trust.statements):
        return trust
    return trust.with_statements(kept)
