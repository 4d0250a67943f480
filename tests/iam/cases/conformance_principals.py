"""Conformance cases: resource policies and principal types, NotPrincipal,
permissions boundaries, session policies, cross-account access, the account
root, anonymous callers and service principals.

Sources: IAM user guide, "Policy evaluation logic" (same-account union of
identity and resource policies; the table of resource-based policies against
implicit denies per principal type: IAM user ARN and session ARNs are not
limited, a role ARN is limited by boundary and session policy; federated user
sessions need a session policy; root has full access), "Permissions boundaries"
(intersection with identity policies; the ShirleyRodriguez and XCompany
examples), "Session policies", "Cross-account policy evaluation logic" (both
sides must allow), "AWS JSON policy elements: Principal / NotPrincipal" and the
S3 bucket policy examples (public read, deny over plain HTTP, account grants).
"""

from __future__ import annotations

from typing import Any

from .model import (
    ACCOUNT_A,
    ACCOUNT_B,
    ALICE,
    ALICE_B,
    ALLOW_ALL,
    ALLOWED,
    ANONYMOUS,
    BOB,
    DAVE_B,
    EC2,
    EXPLICIT_DENY,
    FEDERATED,
    IMPLICIT_DENY,
    OBJECT,
    OTHER_ROLE,
    OTHER_SESSION,
    PATHED_USER,
    ROLE,
    ROOT_A,
    ROOT_B,
    SESSION,
    Case,
    Doc,
    allow,
    aws,
    deny,
    pol,
)

GET = "s3:GetObject"
BUCKET_OBJECTS = "arn:aws:s3:::examplebucket/*"
S3_ONLY = pol(allow("s3:*", "*"))
IAM_ONLY = pol(allow("iam:*", "*"))
GET_ONLY = pol(allow(GET, "*"))
PUT_ONLY = pol(allow("s3:PutObject", "*"))


def _rp(*statements: dict[str, Any]) -> dict[str, Any]:
    return pol(*statements)


def _grant(
    principal: object, action: str | list[str] = GET, resource: str = BUCKET_OBJECTS, **kw: Any
) -> dict[str, Any]:
    """A resource-policy Allow statement for the principal."""
    return allow(action, resource, principal=principal, **kw)


def _case(
    id: str,
    why: str,
    expect: str,
    *,
    principal: str = ALICE,
    rp: Doc | None = None,
    identity: tuple[Doc, ...] = (),
    boundary: Doc | None = None,
    session: Doc | None = None,
    account: str | None = None,
    action: str = GET,
    resource: str = OBJECT,
    context: dict[str, object] | None = None,
    boundary_allowed: bool | None = None,
    rp_kind: str = "resource",
) -> Case:
    return Case(
        id=id,
        why=why,
        expect=expect,
        action=action,
        resource=resource,
        principal=principal,
        identity=identity,
        resource_policy=rp,
        resource_policy_kind=rp_kind,
        boundary=boundary,
        session=session,
        context=context,
        resource_account=account,
        boundary_allowed=boundary_allowed,
    )


_SAME_ACCOUNT_RP: list[Case] = [
    _case(
        "rp-user-arn",
        "a bucket policy naming the user ARN grants access without identity policy",
        ALLOWED,
        rp=_rp(_grant(aws(ALICE))),
    ),
    _case(
        "rp-user-arn-list",
        "a Principal list matches if it names the caller",
        ALLOWED,
        rp=_rp(_grant(aws(BOB, ALICE))),
    ),
    _case(
        "rp-user-other",
        "a bucket policy naming another user grants nothing",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(BOB))),
    ),
    _case(
        "rp-user-other-account",
        "the same user name in another account is another principal",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE_B))),
    ),
    _case(
        "rp-user-path",
        "a user ARN with a path matches that user",
        ALLOWED,
        principal=PATHED_USER,
        rp=_rp(_grant(aws(PATHED_USER))),
    ),
    _case("rp-star", "Principal '*' means everyone", ALLOWED, rp=_rp(_grant("*"))),
    _case(
        "rp-aws-star",
        "Principal {'AWS': '*'} means every AWS principal",
        ALLOWED,
        rp=_rp(_grant(aws("*"))),
    ),
    _case(
        "rp-account-id-alone",
        "naming the account delegates to its IAM policies: no identity allow, no access",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ACCOUNT_A))),
    ),
    _case(
        "rp-account-root-alone",
        "naming arn:...:root delegates to the account's IAM policies",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ROOT_A))),
    ),
    _case(
        "rp-account-with-identity",
        "account grant plus identity allow: allowed",
        ALLOWED,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        identity=(GET_ONLY,),
    ),
    _case(
        "identity-only",
        "same account: an identity Allow alone suffices",
        ALLOWED,
        rp=_rp(_grant(aws(BOB))),
        identity=(GET_ONLY,),
    ),
    _case(
        "rp-wrong-action",
        "a bucket policy for another action grants nothing",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE), action="s3:PutObject")),
    ),
    _case(
        "rp-wrong-resource",
        "a bucket policy for another resource grants nothing",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE), resource="arn:aws:s3:::otherbucket/*")),
    ),
    _case(
        "rp-union-rp-allows",
        "union: bucket policy allows, identity allows something else",
        ALLOWED,
        rp=_rp(_grant(aws(ALICE))),
        identity=(PUT_ONLY,),
    ),
    _case(
        "rp-deny-user",
        "a bucket policy Deny naming the user beats the identity Allow",
        EXPLICIT_DENY,
        rp=_rp(deny(GET, BUCKET_OBJECTS, principal=aws(ALICE))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "rp-deny-star",
        "a bucket policy Deny for everyone beats the identity Allow",
        EXPLICIT_DENY,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, principal="*")),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "rp-deny-other-user",
        "a bucket policy Deny naming another user does not apply",
        ALLOWED,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, principal=aws(BOB))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "rp-allow-and-identity-deny",
        "an identity Deny beats a bucket policy Allow",
        EXPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE))),
        identity=(pol(deny(GET, "*")),),
    ),
    _case(
        "rp-deny-tls",
        "bucket policy denying plain HTTP (doc example): HTTP denied",
        EXPLICIT_DENY,
        rp=_rp(
            deny(
                "s3:*",
                ["arn:aws:s3:::examplebucket", BUCKET_OBJECTS],
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            )
        ),
        identity=(ALLOW_ALL,),
        context={"aws:SecureTransport": False},
    ),
    _case(
        "rp-deny-tls-https",
        "bucket policy denying plain HTTP (doc example): HTTPS passes",
        ALLOWED,
        rp=_rp(
            deny(
                "s3:*",
                ["arn:aws:s3:::examplebucket", BUCKET_OBJECTS],
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            )
        ),
        identity=(ALLOW_ALL,),
        context={"aws:SecureTransport": True},
    ),
    _case(
        "rp-condition-false",
        "a bucket policy Allow whose condition is false grants nothing",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE), condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        context={"aws:SourceIp": "192.0.2.1"},
    ),
    _case(
        "rp-condition-true",
        "a bucket policy Allow whose condition is true grants access",
        ALLOWED,
        rp=_rp(_grant(aws(ALICE), condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        context={"aws:SourceIp": "10.1.1.1"},
    ),
    _case(
        "rp-principalarn-cond",
        "a bucket policy with Principal '*' and an aws:PrincipalArn condition",
        ALLOWED,
        rp=_rp(_grant("*", condition={"ArnEquals": {"aws:PrincipalArn": ALICE}})),
    ),
    _case(
        "rp-principalarn-cond-other",
        "the aws:PrincipalArn condition excludes other users",
        IMPLICIT_DENY,
        principal=BOB,
        rp=_rp(_grant("*", condition={"ArnEquals": {"aws:PrincipalArn": ALICE}})),
    ),
    _case(
        "rp-notaction",
        "a bucket policy Allow with NotAction",
        ALLOWED,
        rp=_rp(
            allow(
                action=None, not_action="s3:Delete*", resource=BUCKET_OBJECTS, principal=aws(ALICE)
            )
        ),
    ),
    _case(
        "rp-notaction-excluded",
        "a bucket policy Allow with NotAction excludes the listed action",
        IMPLICIT_DENY,
        action="s3:DeleteObject",
        rp=_rp(
            allow(
                action=None, not_action="s3:Delete*", resource=BUCKET_OBJECTS, principal=aws(ALICE)
            )
        ),
    ),
    _case(
        "rp-notresource",
        "a bucket policy Deny with NotResource",
        EXPLICIT_DENY,
        rp=_rp(
            deny(
                "s3:*",
                resource=None,
                not_resource="arn:aws:s3:::examplebucket/public/*",
                principal="*",
            )
        ),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "rp-service-not-user",
        "a Service principal does not match an IAM user",
        IMPLICIT_DENY,
        rp=_rp(_grant({"Service": EC2})),
    ),
    _case(
        "rp-federated-not-user",
        "a Federated principal does not match an IAM user",
        IMPLICIT_DENY,
        rp=_rp(_grant({"Federated": "cognito-identity.amazonaws.com"})),
    ),
    _case(
        "rp-role-not-user",
        "a role ARN does not match an IAM user",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ROLE))),
    ),
    _case(
        "rp-two-statements",
        "a later statement of the bucket policy may grant",
        ALLOWED,
        rp=_rp(_grant(aws(BOB)), _grant(aws(ALICE))),
    ),
]

_NOT_PRINCIPAL: list[Case] = [
    _case(
        "notprincipal-exempt",
        "Deny NotPrincipal naming the user and its account (doc best practice): the user is exempt",
        ALLOWED,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE, ROOT_A))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "notprincipal-others",
        "Deny NotPrincipal naming a user and the account: another user of the account is denied",
        EXPLICIT_DENY,
        principal=BOB,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE, ROOT_A))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "notprincipal-list",
        "Deny NotPrincipal with a list: each listed user is exempt",
        ALLOWED,
        principal=BOB,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE, BOB, ROOT_A))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "notprincipal-session",
        "Deny NotPrincipal naming session, role and account (doc example): the session is exempt",
        ALLOWED,
        principal=SESSION,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(SESSION, ROLE, ROOT_A))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "notprincipal-other-session",
        "Deny NotPrincipal naming one session: another session of the role is denied",
        EXPLICIT_DENY,
        principal=OTHER_SESSION,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(SESSION, ROLE, ROOT_A))),
        identity=(ALLOW_ALL,),
    ),
    _case(
        "notprincipal-cross-account",
        "Deny NotPrincipal naming a user of another account and that account (doc example)",
        ALLOWED,
        principal=DAVE_B,
        account=ACCOUNT_A,
        rp=_rp(
            _grant(aws(DAVE_B)),
            deny("s3:*", BUCKET_OBJECTS, not_principal=aws(DAVE_B, ROOT_B)),
        ),
        identity=(GET_ONLY,),
    ),
    _case(
        "notprincipal-cross-account-other",
        "Deny NotPrincipal naming a user of another account: its colleague is denied",
        EXPLICIT_DENY,
        principal="arn:aws:iam::444455556666:user/erin",
        account=ACCOUNT_A,
        rp=_rp(
            _grant(aws(ACCOUNT_B)),
            deny("s3:*", BUCKET_OBJECTS, not_principal=aws(DAVE_B, ROOT_B)),
        ),
        identity=(GET_ONLY,),
    ),
    _case(
        "notprincipal-boundary",
        "Deny NotPrincipal always denies an IAM principal that has a permissions boundary (doc)",
        EXPLICIT_DENY,
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE, ROOT_A))),
        identity=(ALLOW_ALL,),
        boundary=ALLOW_ALL,
    ),
    _case(
        "notprincipal-anonymous",
        "Deny NotPrincipal denies an anonymous caller",
        EXPLICIT_DENY,
        principal=ANONYMOUS,
        account=ACCOUNT_A,
        rp=_rp(_grant("*"), deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE))),
    ),
    _case(
        "notprincipal-other-resource",
        "Deny NotPrincipal still needs the resource to match",
        ALLOWED,
        principal=BOB,
        resource="arn:aws:s3:::otherbucket/k",
        rp=_rp(deny("s3:*", BUCKET_OBJECTS, not_principal=aws(ALICE))),
        identity=(ALLOW_ALL,),
    ),
]

_BOUNDARIES: list[Case] = [
    _case(
        "boundary-both-allow",
        "identity and boundary both allow: allowed",
        ALLOWED,
        identity=(GET_ONLY,),
        boundary=S3_ONLY,
        boundary_allowed=True,
    ),
    _case(
        "boundary-excludes",
        "the boundary does not allow IAM: iam:CreateUser is denied (Shirley example)",
        IMPLICIT_DENY,
        action="iam:CreateUser",
        resource="*",
        identity=(pol(allow("iam:CreateUser", "*")),),
        boundary=pol(allow(["s3:*", "cloudwatch:*", "ec2:*"], "*")),
        boundary_allowed=False,
    ),
    _case("boundary-no-grant", "a boundary alone grants nothing", IMPLICIT_DENY, boundary=S3_ONLY),
    _case(
        "boundary-explicit-deny",
        "a Deny in the boundary is an explicit deny",
        EXPLICIT_DENY,
        identity=(ALLOW_ALL,),
        boundary=pol(allow("*", "*"), deny(GET, "*")),
    ),
    _case(
        "boundary-condition-false",
        "a boundary Allow whose condition is false does not allow",
        IMPLICIT_DENY,
        identity=(ALLOW_ALL,),
        boundary=pol(
            allow("*", "*", condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
        ),
        context={"aws:RequestedRegion": "us-east-1"},
    ),
    _case(
        "boundary-notaction",
        "a boundary written with NotAction",
        ALLOWED,
        identity=(ALLOW_ALL,),
        boundary=pol(allow(action=None, not_action="iam:*", resource="*")),
    ),
    _case(
        "boundary-notaction-excluded",
        "a boundary written with NotAction excludes IAM",
        IMPLICIT_DENY,
        action="iam:GetUser",
        resource="*",
        identity=(ALLOW_ALL,),
        boundary=pol(allow(action=None, not_action="iam:*", resource="*")),
    ),
    _case(
        "boundary-xcompany-logs",
        "XCompanyBoundaries denies the logs bucket (doc example)",
        EXPLICIT_DENY,
        resource="arn:aws:s3:::logs/today",
        identity=(S3_ONLY,),
        boundary=pol(
            allow(["s3:*", "cloudwatch:*", "ec2:*", "dynamodb:*"], "*", sid="ServiceBoundaries"),
            deny("s3:*", ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"], sid="DenyS3Logs"),
        ),
    ),
    _case(
        "boundary-xcompany-other",
        "XCompanyBoundaries allows other buckets (doc example)",
        ALLOWED,
        identity=(S3_ONLY,),
        boundary=pol(
            allow(["s3:*", "cloudwatch:*", "ec2:*", "dynamodb:*"], "*", sid="ServiceBoundaries"),
            deny("s3:*", ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"], sid="DenyS3Logs"),
        ),
    ),
    _case(
        "boundary-xcompany-own-keys",
        "XCompanyBoundaries: own access keys via ${aws:username}",
        ALLOWED,
        action="iam:CreateAccessKey",
        resource=ALICE,
        identity=(IAM_ONLY,),
        boundary=pol(
            allow(["iam:*AccessKey*", "iam:ChangePassword"], "arn:aws:iam::*:user/${aws:username}")
        ),
    ),
    _case(
        "boundary-xcompany-other-keys",
        "XCompanyBoundaries: not another user's access keys",
        IMPLICIT_DENY,
        action="iam:CreateAccessKey",
        resource=BOB,
        identity=(IAM_ONLY,),
        boundary=pol(
            allow(["iam:*AccessKey*", "iam:ChangePassword"], "arn:aws:iam::*:user/${aws:username}")
        ),
    ),
    _case(
        "boundary-rp-user-not-limited",
        "a bucket policy naming the user is not limited by the boundary",
        ALLOWED,
        rp=_rp(_grant(aws(ALICE))),
        boundary=IAM_ONLY,
    ),
    _case(
        "boundary-rp-user-deny-wins",
        "an explicit deny in the boundary still beats a bucket policy grant",
        EXPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE))),
        boundary=pol(allow("*", "*"), deny("s3:*", "*")),
    ),
    _case(
        "boundary-rp-account-limited",
        "a bucket policy naming the account does not bypass the boundary",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        identity=(GET_ONLY,),
        boundary=IAM_ONLY,
    ),
    _case(
        "boundary-rp-star-user",
        "a bucket policy with Principal '*' and a boundary: the grant is to everyone",
        ALLOWED,
        rp=_rp(_grant("*")),
        boundary=S3_ONLY,
        identity=(GET_ONLY,),
    ),
    _case(
        "boundary-session-both",
        "role session with boundary, identity allow: allowed",
        ALLOWED,
        principal=SESSION,
        identity=(GET_ONLY,),
        boundary=S3_ONLY,
    ),
    _case(
        "boundary-session-limits",
        "role session: boundary not allowing limits identity",
        IMPLICIT_DENY,
        principal=SESSION,
        identity=(GET_ONLY,),
        boundary=IAM_ONLY,
    ),
]

_SESSIONS: list[Case] = [
    _case(
        "session-no-policy",
        "a role session without a session policy has the role's permissions",
        ALLOWED,
        principal=SESSION,
        identity=(GET_ONLY,),
    ),
    _case(
        "session-policy-allows",
        "role policy and session policy both allow: allowed",
        ALLOWED,
        principal=SESSION,
        identity=(S3_ONLY,),
        session=GET_ONLY,
    ),
    _case(
        "session-policy-limits",
        "a session policy that does not allow limits the role",
        IMPLICIT_DENY,
        principal=SESSION,
        identity=(S3_ONLY,),
        session=PUT_ONLY,
    ),
    _case(
        "session-policy-no-grant",
        "a session policy grants nothing the role lacks",
        IMPLICIT_DENY,
        principal=SESSION,
        identity=(PUT_ONLY,),
        session=S3_ONLY,
    ),
    _case(
        "session-policy-deny",
        "a Deny in the session policy is an explicit deny",
        EXPLICIT_DENY,
        principal=SESSION,
        identity=(S3_ONLY,),
        session=pol(allow("*", "*"), deny(GET, "*")),
    ),
    _case(
        "session-no-identity",
        "a role session with no role policy is implicitly denied",
        IMPLICIT_DENY,
        principal=SESSION,
    ),
    _case(
        "session-three-way",
        "identity, boundary and session policy all allow",
        ALLOWED,
        principal=SESSION,
        identity=(GET_ONLY,),
        boundary=S3_ONLY,
        session=S3_ONLY,
    ),
    _case(
        "session-three-way-boundary",
        "identity and session allow, boundary does not",
        IMPLICIT_DENY,
        principal=SESSION,
        identity=(GET_ONLY,),
        boundary=IAM_ONLY,
        session=S3_ONLY,
    ),
    _case(
        "session-rp-session-arn",
        "a bucket policy naming the session ARN: no identity allow needed",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(SESSION))),
    ),
    _case(
        "session-rp-session-arn-sp",
        "a grant to the session ARN is not limited by the session policy",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(SESSION))),
        identity=(S3_ONLY,),
        session=PUT_ONLY,
    ),
    _case(
        "session-rp-session-arn-boundary",
        "a grant to the session ARN is not limited by the boundary",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(SESSION))),
        boundary=IAM_ONLY,
    ),
    _case(
        "session-rp-session-arn-deny",
        "an explicit Deny in the session policy still wins",
        EXPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(SESSION))),
        session=pol(deny("s3:*", "*")),
    ),
    _case(
        "session-rp-other-session",
        "a grant to another session of the role does not match",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(OTHER_SESSION))),
    ),
    _case(
        "session-rp-role-arn",
        "a bucket policy naming the role ARN grants its sessions",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(ROLE))),
    ),
    _case(
        "session-rp-other-role",
        "a grant to another role does not match",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(OTHER_ROLE))),
    ),
    _case(
        "session-rp-role-arn-sp-limits",
        "a grant to the role ARN is limited by the session policy",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(ROLE))),
        session=PUT_ONLY,
    ),
    _case(
        "session-rp-role-arn-sp-allows",
        "a grant to the role ARN passes a session policy that allows",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(ROLE))),
        session=GET_ONLY,
    ),
    _case(
        "session-rp-role-arn-boundary-limits",
        "a grant to the role ARN is limited by the boundary",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(ROLE))),
        boundary=IAM_ONLY,
    ),
    _case(
        "session-rp-role-arn-boundary-allows",
        "a grant to the role ARN passes a boundary that allows",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(ROLE))),
        boundary=S3_ONLY,
    ),
    _case(
        "session-rp-account",
        "a grant to the account needs the role's own allow",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(ACCOUNT_A))),
    ),
    _case(
        "session-rp-account-identity",
        "a grant to the account plus the role's allow",
        ALLOWED,
        principal=SESSION,
        rp=_rp(_grant(aws(ROOT_A))),
        identity=(GET_ONLY,),
    ),
    _case(
        "session-rp-account-sp",
        "a grant to the account: the session policy still limits",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        identity=(S3_ONLY,),
        session=PUT_ONLY,
    ),
    _case(
        "federated-rp-session-arn",
        "a bucket policy naming the federated user session grants it",
        ALLOWED,
        principal=FEDERATED,
        rp=_rp(_grant(aws(FEDERATED))),
    ),
    _case(
        "federated-session-policy",
        "a federated user: user policy and session policy both allow",
        ALLOWED,
        principal=FEDERATED,
        identity=(S3_ONLY,),
        session=GET_ONLY,
    ),
    _case(
        "federated-session-policy-limits",
        "a federated user: the session policy limits",
        IMPLICIT_DENY,
        principal=FEDERATED,
        identity=(S3_ONLY,),
        session=PUT_ONLY,
    ),
    _case(
        "federated-no-session-policy",
        "a federated user session without a session policy has no permissions",
        IMPLICIT_DENY,
        principal=FEDERATED,
        identity=(S3_ONLY,),
    ),
]

_CROSS_ACCOUNT: list[Case] = [
    _case(
        "xacct-identity-only",
        "cross-account: identity allow alone is not enough",
        IMPLICIT_DENY,
        identity=(GET_ONLY,),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-only",
        "cross-account: bucket policy alone is not enough",
        IMPLICIT_DENY,
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-both",
        "cross-account: identity and bucket policy both allow",
        ALLOWED,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-account-id",
        "cross-account: the bucket policy trusts the caller's account id",
        ALLOWED,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ACCOUNT_A))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-account-root",
        "cross-account: the bucket policy trusts the caller's account root ARN",
        ALLOWED,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ROOT_A))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-star",
        "cross-account: Principal '*' plus identity allow",
        ALLOWED,
        identity=(GET_ONLY,),
        rp=_rp(_grant("*")),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-owner-account",
        "cross-account: trusting the owner's own account does not trust the caller",
        IMPLICIT_DENY,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ACCOUNT_B))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-other-user",
        "cross-account: the bucket policy names someone else",
        IMPLICIT_DENY,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(DAVE_B))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-rp-deny",
        "cross-account: a bucket policy Deny wins",
        EXPLICIT_DENY,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ALICE)), deny(GET, BUCKET_OBJECTS, principal="*")),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-identity-deny",
        "cross-account: an identity Deny wins",
        EXPLICIT_DENY,
        identity=(ALLOW_ALL, pol(deny(GET, "*"))),
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-boundary-limits",
        "cross-account: the boundary limits even a grant to the user ARN",
        IMPLICIT_DENY,
        identity=(GET_ONLY,),
        boundary=IAM_ONLY,
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-boundary-allows",
        "cross-account: boundary, identity and bucket policy all allow",
        ALLOWED,
        identity=(GET_ONLY,),
        boundary=S3_ONLY,
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-session",
        "cross-account: role session allowed by role policy and bucket policy",
        ALLOWED,
        principal=SESSION,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ROLE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-session-no-identity",
        "cross-account: a grant to the session ARN still needs the role's allow",
        IMPLICIT_DENY,
        principal=SESSION,
        rp=_rp(_grant(aws(SESSION))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-session-policy",
        "cross-account: the session policy limits",
        IMPLICIT_DENY,
        principal=SESSION,
        identity=(GET_ONLY,),
        session=PUT_ONLY,
        rp=_rp(_grant(aws(ROLE))),
        account=ACCOUNT_B,
    ),
    _case(
        "xacct-inbound",
        "a user of account B reaching account A's bucket, both sides allow",
        ALLOWED,
        principal=DAVE_B,
        identity=(GET_ONLY,),
        rp=_rp(_grant(aws(ACCOUNT_B))),
        account=ACCOUNT_A,
    ),
    _case(
        "xacct-inbound-no-rp",
        "a user of account B without a bucket policy grant",
        IMPLICIT_DENY,
        principal=DAVE_B,
        identity=(ALLOW_ALL,),
        account=ACCOUNT_A,
    ),
    _case(
        "xacct-condition-principal-account",
        "cross-account: bucket policy conditioned on aws:PrincipalAccount",
        ALLOWED,
        identity=(GET_ONLY,),
        rp=_rp(_grant("*", condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT_A}})),
        account=ACCOUNT_B,
    ),
]

_ROOT_ANON_SERVICE: list[Case] = [
    _case(
        "root-own-no-policy",
        "the account root has full access to its own account",
        ALLOWED,
        principal=ROOT_A,
    ),
    _case(
        "root-own-iam",
        "the account root can do IAM actions without any policy",
        ALLOWED,
        principal=ROOT_A,
        action="iam:CreateUser",
        resource="arn:aws:iam::111122223333:user/new",
    ),
    _case(
        "root-other-account-no-rp",
        "the root of A has no access to B's resources by itself",
        IMPLICIT_DENY,
        principal=ROOT_A,
        account=ACCOUNT_B,
    ),
    _case(
        "root-other-account-rp",
        "the root of A with a bucket policy trusting account A",
        ALLOWED,
        principal=ROOT_A,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        account=ACCOUNT_B,
    ),
    _case(
        "root-other-account-rp-root-arn",
        "the root of A with a bucket policy naming A's root ARN",
        ALLOWED,
        principal=ROOT_A,
        rp=_rp(_grant(aws(ROOT_A))),
        account=ACCOUNT_B,
    ),
    _case(
        "root-b-not-a",
        "the root of B is not trusted by a grant to account A",
        IMPLICIT_DENY,
        principal=ROOT_B,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        account=ACCOUNT_A,
    ),
    _case(
        "anon-public-read",
        "Principal '*' allows anonymous reads (public-read bucket example)",
        ALLOWED,
        principal=ANONYMOUS,
        rp=_rp(_grant("*")),
        account=ACCOUNT_A,
    ),
    _case(
        "anon-no-rp",
        "an anonymous caller without a bucket policy",
        IMPLICIT_DENY,
        principal=ANONYMOUS,
        account=ACCOUNT_A,
    ),
    _case(
        "anon-account-grant",
        "a grant to an account does not cover anonymous callers",
        IMPLICIT_DENY,
        principal=ANONYMOUS,
        rp=_rp(_grant(aws(ACCOUNT_A))),
        account=ACCOUNT_A,
    ),
    _case(
        "anon-user-grant",
        "a grant to a user does not cover anonymous callers",
        IMPLICIT_DENY,
        principal=ANONYMOUS,
        rp=_rp(_grant(aws(ALICE))),
        account=ACCOUNT_A,
    ),
    _case(
        "anon-other-action",
        "public read does not allow anonymous writes",
        IMPLICIT_DENY,
        principal=ANONYMOUS,
        rp=_rp(_grant("*")),
        account=ACCOUNT_A,
        action="s3:PutObject",
    ),
    _case(
        "anon-deny",
        "a Deny for '*' applies to anonymous callers",
        EXPLICIT_DENY,
        principal=ANONYMOUS,
        account=ACCOUNT_A,
        rp=_rp(
            _grant("*"),
            deny(
                "s3:*",
                BUCKET_OBJECTS,
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
        ),
        context={"aws:SecureTransport": False},
    ),
    _case(
        "anon-ip-condition",
        "public read limited to a range: inside",
        ALLOWED,
        principal=ANONYMOUS,
        account=ACCOUNT_A,
        rp=_rp(_grant("*", condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})),
        context={"aws:SourceIp": "192.0.2.10"},
    ),
    _case(
        "anon-ip-condition-out",
        "public read limited to a range: outside",
        IMPLICIT_DENY,
        principal=ANONYMOUS,
        account=ACCOUNT_A,
        rp=_rp(_grant("*", condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})),
        context={"aws:SourceIp": "198.51.100.10"},
    ),
    _case(
        "service-trust",
        "a trust policy lets ec2.amazonaws.com assume the role",
        ALLOWED,
        principal=EC2,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_rp(allow("sts:AssumeRole", principal={"Service": EC2}, resource=None)),
    ),
    _case(
        "service-trust-list",
        "a Service list names several services",
        ALLOWED,
        principal=EC2,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_rp(
            allow(
                "sts:AssumeRole",
                principal={"Service": ["lambda.amazonaws.com", EC2]},
                resource=None,
            )
        ),
    ),
    _case(
        "service-trust-other",
        "a trust policy for another service",
        IMPLICIT_DENY,
        principal=EC2,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_rp(
            allow("sts:AssumeRole", principal={"Service": "lambda.amazonaws.com"}, resource=None)
        ),
    ),
    _case(
        "service-trust-aws-account",
        "a trust policy naming an account does not trust a service",
        IMPLICIT_DENY,
        principal=EC2,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_rp(allow("sts:AssumeRole", principal=aws(ACCOUNT_A), resource=None)),
    ),
    _case(
        "service-bucket",
        "a bucket policy granting a service principal",
        ALLOWED,
        principal="logging.s3.amazonaws.com",
        action="s3:PutObject",
        account=ACCOUNT_A,
        rp=_rp(_grant({"Service": "logging.s3.amazonaws.com"}, action="s3:PutObject")),
    ),
    _case(
        "trust-user-assume",
        "a trust policy naming a user lets it call sts:AssumeRole",
        ALLOWED,
        principal=ALICE,
        action="sts:AssumeRole",
        resource=ROLE,
        rp_kind="trust",
        rp=_rp(allow("sts:AssumeRole", principal=aws(ALICE), resource=None)),
    ),
    _case(
        "trust-user-assume-other",
        "a trust policy naming another user",
        IMPLICIT_DENY,
        principal=BOB,
        action="sts:AssumeRole",
        resource=ROLE,
        rp_kind="trust",
        rp=_rp(allow("sts:AssumeRole", principal=aws(ALICE), resource=None)),
    ),
    _case(
        "trust-external-id",
        "a cross-account trust policy requiring sts:ExternalId: present",
        ALLOWED,
        principal=DAVE_B,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        identity=(pol(allow("sts:AssumeRole", ROLE)),),
        rp_kind="trust",
        rp=_rp(
            allow(
                "sts:AssumeRole",
                principal=aws(ACCOUNT_B),
                resource=None,
                condition={"StringEquals": {"sts:ExternalId": "ext-123"}},
            )
        ),
        context={"sts:ExternalId": "ext-123"},
    ),
    _case(
        "trust-external-id-missing",
        "a cross-account trust policy requiring sts:ExternalId: absent",
        IMPLICIT_DENY,
        principal=DAVE_B,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        identity=(pol(allow("sts:AssumeRole", ROLE)),),
        rp_kind="trust",
        rp=_rp(
            allow(
                "sts:AssumeRole",
                principal=aws(ACCOUNT_B),
                resource=None,
                condition={"StringEquals": {"sts:ExternalId": "ext-123"}},
            )
        ),
    ),
]

OIDC = "arn:aws:iam::111122223333:oidc-provider/token.example.com"
SAML = "arn:aws:iam::111122223333:saml-provider/Corp"


def _web_trust(
    provider: str, action: str, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    return _rp(allow(action, principal={"Federated": provider}, resource=None, condition=condition))


# Web identity and SAML callers are identified by their provider's ARN (the house
# reference: trust policies name Federated: arn:aws:iam::ACCOUNT:oidc-provider/HOST and
# may condition on HOST:aud and HOST:sub).
_FEDERATED_PROVIDERS: list[Case] = [
    _case(
        "oidc-trust",
        "a trust policy naming the OIDC provider, audience matches",
        ALLOWED,
        principal=OIDC,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(
            OIDC,
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {"token.example.com:aud": "my-app"}},
        ),
        context={"token.example.com:aud": "my-app", "token.example.com:sub": "u-1"},
    ),
    _case(
        "oidc-trust-aud",
        "a trust policy naming the OIDC provider, another audience",
        IMPLICIT_DENY,
        principal=OIDC,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(
            OIDC,
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {"token.example.com:aud": "my-app"}},
        ),
        context={"token.example.com:aud": "other-app"},
    ),
    _case(
        "oidc-trust-sub-like",
        "a trust policy limiting the subject with StringLike",
        ALLOWED,
        principal=OIDC,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(
            OIDC,
            "sts:AssumeRoleWithWebIdentity",
            {"StringLike": {"token.example.com:sub": "repo:org/*"}},
        ),
        context={"token.example.com:sub": "repo:org/app:ref:refs/heads/main"},
    ),
    _case(
        "oidc-other-provider",
        "a trust policy naming another provider",
        IMPLICIT_DENY,
        principal=OIDC,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(
            "arn:aws:iam::111122223333:oidc-provider/other.example.com",
            "sts:AssumeRoleWithWebIdentity",
        ),
    ),
    _case(
        "oidc-not-aws-account",
        "an AWS account principal does not trust a web identity",
        IMPLICIT_DENY,
        principal=OIDC,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_rp(allow("sts:AssumeRoleWithWebIdentity", principal=aws(ACCOUNT_A), resource=None)),
    ),
    _case(
        "saml-trust",
        "a trust policy naming the SAML provider",
        ALLOWED,
        principal=SAML,
        action="sts:AssumeRoleWithSAML",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(
            SAML,
            "sts:AssumeRoleWithSAML",
            {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        ),
        context={"SAML:aud": "https://signin.aws.amazon.com/saml"},
    ),
    _case(
        "saml-wrong-action",
        "the SAML trust does not allow plain sts:AssumeRole",
        IMPLICIT_DENY,
        principal=SAML,
        action="sts:AssumeRole",
        resource=ROLE,
        account=ACCOUNT_A,
        rp_kind="trust",
        rp=_web_trust(SAML, "sts:AssumeRoleWithSAML"),
    ),
    _case(
        "federated-element-not-user",
        "a Federated trust does not let an IAM user assume the role",
        IMPLICIT_DENY,
        principal=ALICE,
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        rp_kind="trust",
        rp=_web_trust(OIDC, "sts:AssumeRoleWithWebIdentity"),
    ),
]

_DENY_ALL_S3 = _rp(
    deny("s3:*", ["arn:aws:s3:::examplebucket", BUCKET_OBJECTS], principal="*"),
)

# S3 API reference, DeleteBucketPolicy/PutBucketPolicy/GetBucketPolicy: the bucket owner's
# root can always use them, even when the bucket policy explicitly denies it; other actions
# stay denied.
_ROOT_LOCKOUT: list[Case] = [
    _case(
        "root-bucket-deny-object",
        "a bucket policy Deny for everyone also denies the owner's root",
        EXPLICIT_DENY,
        principal=ROOT_A,
        rp=_DENY_ALL_S3,
    ),
    _case(
        "root-bucket-deny-delete-policy",
        "the owner's root may always delete the bucket policy",
        ALLOWED,
        principal=ROOT_A,
        rp=_DENY_ALL_S3,
        action="s3:DeleteBucketPolicy",
        resource="arn:aws:s3:::examplebucket",
    ),
    _case(
        "root-bucket-deny-put-policy",
        "the owner's root may always replace the bucket policy",
        ALLOWED,
        principal=ROOT_A,
        rp=_DENY_ALL_S3,
        action="s3:PutBucketPolicy",
        resource="arn:aws:s3:::examplebucket",
    ),
    _case(
        "root-bucket-deny-get-policy",
        "the owner's root may always read the bucket policy",
        ALLOWED,
        principal=ROOT_A,
        rp=_DENY_ALL_S3,
        action="s3:GetBucketPolicy",
        resource="arn:aws:s3:::examplebucket",
    ),
    _case(
        "user-bucket-deny-delete-policy",
        "the lockout exception is for the root only",
        EXPLICIT_DENY,
        rp=_DENY_ALL_S3,
        identity=(ALLOW_ALL,),
        action="s3:DeleteBucketPolicy",
        resource="arn:aws:s3:::examplebucket",
    ),
    _case(
        "root-other-bucket-deny-policy",
        "the exception is for the bucket owner's root only",
        EXPLICIT_DENY,
        principal=ROOT_B,
        rp=_rp(
            _grant(aws(ACCOUNT_B), action="s3:*", resource="arn:aws:s3:::examplebucket"),
            deny("s3:*", "arn:aws:s3:::examplebucket", principal="*"),
        ),
        action="s3:PutBucketPolicy",
        resource="arn:aws:s3:::examplebucket",
        account=ACCOUNT_A,
    ),
]

CASES: list[Case] = [*_SAME_ACCOUNT_RP, *_NOT_PRINCIPAL, *_BOUNDARIES, *_SESSIONS, *_CROSS_ACCOUNT,
                     *_FEDERATED_PROVIDERS, *_ROOT_LOCKOUT,
                     *_ROOT_ANON_SERVICE]  # fmt: skip
