"""Conformance cases: policy variables.

Sources: IAM user guide, "IAM policy elements: Variables and tags" (variables in
the resource part of ARNs and in String/Arn condition values; key names are
case-insensitive; ${*} ${?} ${$}; default values "${key, 'default'}"; no
Version or 2008-10-17 means variables are literal text; a variable whose key is
not present makes the statement not match), the principal key table (IAM users
have aws:username, role sessions and root do not) and the house reference.
"""

from __future__ import annotations

from .model import (
    ACCOUNT_A,
    ACCOUNT_B,
    ALICE,
    ALLOW_ALL,
    ALLOWED,
    ANONYMOUS,
    EXPLICIT_DENY,
    FEDERATED,
    IMPLICIT_DENY,
    PATHED_USER,
    ROOT_A,
    SESSION,
    Case,
    allow,
    deny,
    pol,
)

HOME = "arn:aws:s3:::home/${aws:username}/*"
TEAM = "aws:PrincipalTag/team"


def _res(
    id: str,
    why: str,
    pattern: str,
    resource: str,
    expect: str,
    *,
    principal: str = ALICE,
    context: dict[str, object] | None = None,
    version: str | None = "2012-10-17",
) -> Case:
    return Case(
        id=f"var-{id}",
        why=why,
        expect=expect,
        action="s3:GetObject",
        resource=resource,
        principal=principal,
        identity=(pol(allow("s3:GetObject", pattern), version=version),),
        context=context,
    )


def _cond(
    id: str,
    why: str,
    condition: dict[str, dict[str, object]],
    context: dict[str, object] | None,
    expect: str,
    *,
    principal: str = ALICE,
    version: str | None = "2012-10-17",
) -> Case:
    return Case(
        id=f"var-{id}",
        why=why,
        expect=expect,
        action="s3:ListBucket",
        resource="arn:aws:s3:::home",
        principal=principal,
        identity=(
            pol(allow("s3:ListBucket", "arn:aws:s3:::home", condition=condition), version=version),
        ),
        context=context,
    )


CASES: list[Case] = [
    # ${aws:username} in a Resource
    _res(
        "username-own",
        "${aws:username} is the IAM user's friendly name",
        HOME,
        "arn:aws:s3:::home/alice/notes.txt",
        ALLOWED,
    ),
    _res(
        "username-other",
        "another user's home does not match",
        HOME,
        "arn:aws:s3:::home/bob/notes.txt",
        IMPLICIT_DENY,
    ),
    _res(
        "username-path",
        "a user with a path still has just the friendly name",
        HOME,
        "arn:aws:s3:::home/dana/x",
        ALLOWED,
        principal=PATHED_USER,
    ),
    _res(
        "username-path-not-full",
        "the path is not part of aws:username",
        HOME,
        "arn:aws:s3:::home/division/team/dana/x",
        IMPLICIT_DENY,
        principal=PATHED_USER,
    ),
    _res(
        "username-session",
        "a role session has no aws:username: the resource matches nothing",
        HOME,
        "arn:aws:s3:::home/sess1/x",
        IMPLICIT_DENY,
        principal=SESSION,
    ),
    _res(
        "username-session-literal",
        "an unresolved variable does not match its own text either",
        HOME,
        "arn:aws:s3:::home/${aws:username}/x",
        IMPLICIT_DENY,
        principal=SESSION,
    ),
    _res(
        "username-federated",
        "a federated user session has no aws:username",
        HOME,
        "arn:aws:s3:::home/carol/x",
        IMPLICIT_DENY,
        principal=FEDERATED,
    ),
    _res(
        "username-name-case",
        "variable names are case-insensitive",
        "arn:aws:s3:::home/${AWS:UserName}/*",
        "arn:aws:s3:::home/alice/x",
        ALLOWED,
    ),
    _res(
        "username-value-case",
        "the substituted value stays case-sensitive in the resource",
        HOME,
        "arn:aws:s3:::home/Alice/x",
        IMPLICIT_DENY,
    ),
    _res(
        "username-twice",
        "a variable may appear more than once",
        "arn:aws:s3:::${aws:username}-bucket/${aws:username}/*",
        "arn:aws:s3:::alice-bucket/alice/x",
        ALLOWED,
    ),
    _res(
        "username-twice-mixed",
        "every occurrence is substituted",
        "arn:aws:s3:::${aws:username}-bucket/${aws:username}/*",
        "arn:aws:s3:::alice-bucket/bob/x",
        IMPLICIT_DENY,
    ),
    _res(
        "username-exact",
        "a variable with no wildcard around it matches exactly",
        "arn:aws:iam::111122223333:user/${aws:username}",
        "arn:aws:iam::111122223333:user/alice",
        ALLOWED,
    ),
    _res(
        "username-exact-longer",
        "no implicit wildcard after the substituted value",
        "arn:aws:iam::111122223333:user/${aws:username}",
        "arn:aws:iam::111122223333:user/alice2",
        IMPLICIT_DENY,
    ),
    # Tag variables supplied in the context
    _res(
        "tag-resolved",
        "${aws:PrincipalTag/team} takes the tag value",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*",
        "arn:aws:s3:::teams/blue/x",
        ALLOWED,
        context={TEAM: "blue"},
    ),
    _res(
        "tag-other",
        "another team's prefix does not match",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*",
        "arn:aws:s3:::teams/red/x",
        IMPLICIT_DENY,
        context={TEAM: "blue"},
    ),
    _res(
        "tag-absent",
        "an absent tag leaves the variable unresolved: no match",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*",
        "arn:aws:s3:::teams//x",
        IMPLICIT_DENY,
    ),
    _res(
        "tag-absent-star",
        "unresolved does not mean wildcard",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}*",
        "arn:aws:s3:::teams/anything",
        IMPLICIT_DENY,
    ),
    _res(
        "tag-key-case",
        "the variable's key is looked up case-insensitively",
        "arn:aws:s3:::teams/${aws:principaltag/TEAM}/*",
        "arn:aws:s3:::teams/blue/x",
        ALLOWED,
        context={TEAM: "blue"},
    ),
    _res(
        "default-used",
        "a default value stands in for an absent key",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*",
        "arn:aws:s3:::teams/shared/x",
        ALLOWED,
    ),
    _res(
        "default-not-used",
        "the default is ignored when the key is present",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*",
        "arn:aws:s3:::teams/shared/x",
        IMPLICIT_DENY,
        context={TEAM: "blue"},
    ),
    _res(
        "default-present",
        "the key's value wins over the default",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*",
        "arn:aws:s3:::teams/blue/x",
        ALLOWED,
        context={TEAM: "blue"},
    ),
    _res(
        "default-session",
        "a default for aws:username serves a role session",
        "arn:aws:s3:::home/${aws:username, 'nobody'}/*",
        "arn:aws:s3:::home/nobody/x",
        ALLOWED,
        principal=SESSION,
    ),
    # Escapes and literal wildcards
    _res(
        "escape-star", "${*} is a literal '*'", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", ALLOWED
    ),
    _res(
        "escape-star-not-wild",
        "${*} is not a wildcard",
        "arn:aws:s3:::b/${*}",
        "arn:aws:s3:::b/x",
        IMPLICIT_DENY,
    ),
    _res(
        "escape-question",
        "${?} is a literal '?'",
        "arn:aws:s3:::b/what${?}",
        "arn:aws:s3:::b/what?",
        ALLOWED,
    ),
    _res(
        "escape-question-not-wild",
        "${?} is not a wildcard",
        "arn:aws:s3:::b/what${?}",
        "arn:aws:s3:::b/whatx",
        IMPLICIT_DENY,
    ),
    _res(
        "escape-dollar",
        "${$} is a literal '$'",
        "arn:aws:s3:::b/${$}price",
        "arn:aws:s3:::b/$price",
        ALLOWED,
    ),
    _res(
        "escape-with-wild",
        "escapes and real wildcards together",
        "arn:aws:s3:::b/${*}/*",
        "arn:aws:s3:::b/*/anything",
        ALLOWED,
    ),
    _res(
        "escape-with-wild-miss",
        "the escaped '*' still needs a literal '*'",
        "arn:aws:s3:::b/${*}/*",
        "arn:aws:s3:::b/x/anything",
        IMPLICIT_DENY,
    ),
    _res(
        "value-star-literal",
        "a '*' inside a variable's value is literal",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}/x",
        "arn:aws:s3:::teams/blue/x",
        IMPLICIT_DENY,
        context={TEAM: "*"},
    ),
    _res(
        "value-star-self",
        "a '*' value matches a literal '*'",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}/x",
        "arn:aws:s3:::teams/*/x",
        ALLOWED,
        context={TEAM: "*"},
    ),
    _res(
        "value-question-literal",
        "a '?' inside a variable's value is literal",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}",
        "arn:aws:s3:::teams/a",
        IMPLICIT_DENY,
        context={TEAM: "?"},
    ),
    _res(
        "value-regex-literal",
        "regex characters in a value are literal",
        "arn:aws:s3:::teams/${aws:PrincipalTag/team}",
        "arn:aws:s3:::teams/aaa",
        IMPLICIT_DENY,
        context={TEAM: "a.+"},
    ),
    # Version 2008-10-17 and no Version: variables are plain text
    _res(
        "v2008-literal",
        "in 2008-10-17 a variable is literal text",
        HOME,
        "arn:aws:s3:::home/alice/x",
        IMPLICIT_DENY,
        version="2008-10-17",
    ),
    _res(
        "v2008-literal-match",
        "in 2008-10-17 the text '${aws:username}' matches itself",
        HOME,
        "arn:aws:s3:::home/${aws:username}/x",
        ALLOWED,
        version="2008-10-17",
    ),
    _res(
        "noversion-literal",
        "without Version variables are literal text",
        HOME,
        "arn:aws:s3:::home/alice/x",
        IMPLICIT_DENY,
        version=None,
    ),
    _res(
        "v2008-escape-literal",
        "in 2008-10-17 '${*}' is plain text, so it matches itself",
        "arn:aws:s3:::b/${*}",
        "arn:aws:s3:::b/${*}",
        ALLOWED,
        version="2008-10-17",
    ),
    _res(
        "v2008-escape-not-escape",
        "in 2008-10-17 '${*}' is not an escape for '*'",
        "arn:aws:s3:::b/${*}",
        "arn:aws:s3:::b/*",
        IMPLICIT_DENY,
        version="2008-10-17",
    ),
    # Variables in condition values
    _cond(
        "cond-like-own",
        "StringLike with ${aws:username} in the value (doc example)",
        {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}},
        {"s3:prefix": "home/alice/docs"},
        ALLOWED,
    ),
    _cond(
        "cond-like-other",
        "StringLike with ${aws:username}: someone else's prefix",
        {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
        {"s3:prefix": "home/bob/docs"},
        IMPLICIT_DENY,
    ),
    _cond(
        "cond-equals-unresolved",
        "StringEquals with an unresolved variable is false",
        {"StringEquals": {"s3:prefix": "${aws:username}"}},
        {"s3:prefix": "sess1"},
        IMPLICIT_DENY,
        principal=SESSION,
    ),
    _cond(
        "cond-like-unresolved",
        "StringLike with an unresolved variable is false",
        {"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}*"}},
        {"s3:prefix": "x"},
        IMPLICIT_DENY,
    ),
    _cond(
        "cond-like-unresolved-or",
        "an unresolved value does not spoil the other values",
        {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/team}/*", "public/*"]}},
        {"s3:prefix": "public/x"},
        ALLOWED,
    ),
    _cond(
        "cond-equals-tag",
        "StringEquals compares with the tag's value",
        {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team}"}},
        {"s3:prefix": "blue", TEAM: "blue"},
        ALLOWED,
    ),
    _cond(
        "cond-equals-value-star",
        "a '*' from a variable in StringLike is literal",
        {"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}"}},
        {"s3:prefix": "anything", TEAM: "*"},
        IMPLICIT_DENY,
    ),
    _cond(
        "cond-escape",
        "${*} in a StringLike value is a literal '*'",
        {"StringLike": {"s3:prefix": "a${*}"}},
        {"s3:prefix": "ab"},
        IMPLICIT_DENY,
    ),
    _cond(
        "cond-escape-match",
        "${*} in a StringLike value matches '*'",
        {"StringLike": {"s3:prefix": "a${*}"}},
        {"s3:prefix": "a*"},
        ALLOWED,
    ),
    _cond(
        "cond-default",
        "a default value in a condition",
        {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'none'}"}},
        {"s3:prefix": "none"},
        ALLOWED,
    ),
    _cond(
        "cond-v2008",
        "in 2008-10-17 a condition value's variable is literal",
        {"StringEquals": {"s3:prefix": "${aws:username}"}},
        {"s3:prefix": "alice"},
        IMPLICIT_DENY,
        version="2008-10-17",
    ),
    _cond(
        "cond-v2008-literal",
        "in 2008-10-17 the literal text matches",
        {"StringEquals": {"s3:prefix": "${aws:username}"}},
        {"s3:prefix": "${aws:username}"},
        ALLOWED,
        version="2008-10-17",
    ),
    _cond(
        "cond-arn",
        "ArnLike with a variable in the value",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:${aws:PrincipalTag/team}-*"}},
        {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:blue-alerts", TEAM: "blue"},
        ALLOWED,
    ),
    _cond(
        "cond-arn-miss",
        "ArnLike with a variable: another team's topic",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:${aws:PrincipalTag/team}-*"}},
        {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:red-alerts", TEAM: "blue"},
        IMPLICIT_DENY,
    ),
    _cond(
        "cond-ignorecase",
        "StringEqualsIgnoreCase with a variable",
        {"StringEqualsIgnoreCase": {"s3:prefix": "${aws:username}"}},
        {"s3:prefix": "ALICE"},
        ALLOWED,
    ),
    # Deny statements with variables
    Case(
        "var-deny-others-home",
        "Deny NotResource own home denies other homes",
        EXPLICIT_DENY,
        "s3:GetObject",
        "arn:aws:s3:::home/bob/x",
        identity=(
            ALLOW_ALL,
            pol(
                deny(
                    "s3:*",
                    resource=None,
                    not_resource=["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::public/*"],
                )
            ),
        ),
    ),
    Case(
        "var-deny-others-home-own",
        "Deny NotResource own home leaves the own home alone",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::home/alice/x",
        identity=(
            ALLOW_ALL,
            pol(
                deny(
                    "s3:*",
                    resource=None,
                    not_resource=["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::public/*"],
                )
            ),
        ),
    ),
    Case(
        "var-change-password",
        "IAMUserChangePassword-style statement for the caller itself",
        ALLOWED,
        "iam:ChangePassword",
        "arn:aws:iam::111122223333:user/alice",
        identity=(
            pol(
                allow(
                    "iam:ChangePassword",
                    [
                        "arn:aws:iam::*:user/${aws:username}",
                        "arn:aws:iam::*:user/*/${aws:username}",
                    ],
                )
            ),
        ),
    ),
    Case(
        "var-change-password-other",
        "IAMUserChangePassword-style statement: not for another user",
        IMPLICIT_DENY,
        "iam:ChangePassword",
        "arn:aws:iam::111122223333:user/bob",
        identity=(
            pol(
                allow(
                    "iam:ChangePassword",
                    [
                        "arn:aws:iam::*:user/${aws:username}",
                        "arn:aws:iam::*:user/*/${aws:username}",
                    ],
                )
            ),
        ),
    ),
    Case(
        "var-change-password-path",
        "IAMUserChangePassword-style statement: user with a path",
        ALLOWED,
        "iam:ChangePassword",
        PATHED_USER,
        principal=PATHED_USER,
        identity=(
            pol(
                allow(
                    "iam:ChangePassword",
                    [
                        "arn:aws:iam::*:user/${aws:username}",
                        "arn:aws:iam::*:user/*/${aws:username}",
                    ],
                )
            ),
        ),
    ),
    # Keys the engine derives from the principal
    Case(
        "derived-principal-account",
        "aws:PrincipalAccount is the caller's account",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=(
            pol(
                allow(
                    "s3:GetObject",
                    "*",
                    condition={"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
                )
            ),
        ),
    ),
    Case(
        "derived-principal-arn-user",
        "aws:PrincipalArn of an IAM user is its ARN",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=(
            pol(allow("s3:GetObject", "*", condition={"ArnEquals": {"aws:PrincipalArn": ALICE}})),
        ),
    ),
    Case(
        "derived-principal-arn-role",
        "aws:PrincipalArn of a role session is the role's ARN",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=SESSION,
        identity=(
            pol(
                allow(
                    "s3:GetObject",
                    "*",
                    condition={
                        "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Reader"}
                    },
                )
            ),
        ),
    ),
    Case(
        "derived-principal-type-user",
        "aws:PrincipalType of an IAM user is User",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=(
            pol(
                allow(
                    "s3:GetObject", "*", condition={"StringEquals": {"aws:PrincipalType": "User"}}
                )
            ),
        ),
    ),
    Case(
        "derived-principal-type-role",
        "aws:PrincipalType of a role session is AssumedRole",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=SESSION,
        identity=(
            pol(
                allow(
                    "s3:GetObject",
                    "*",
                    condition={"StringEquals": {"aws:PrincipalType": "AssumedRole"}},
                )
            ),
        ),
    ),
    Case(
        "derived-username-cond",
        "aws:username is available to conditions too",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=(
            pol(allow("s3:GetObject", "*", condition={"StringEquals": {"aws:username": "alice"}})),
        ),
    ),
    Case(
        "derived-username-absent-session",
        "a role session has no aws:username key",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=SESSION,
        identity=(pol(allow("s3:GetObject", "*", condition={"Null": {"aws:username": "true"}})),),
    ),
    Case(
        "derived-principal-type-federated",
        "aws:PrincipalType of a federated user session is FederatedUser",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=FEDERATED,
        identity=(ALLOW_ALL,),
        session=pol(
            allow("s3:*", "*", condition={"StringEquals": {"aws:PrincipalType": "FederatedUser"}})
        ),
    ),
    Case(
        "derived-principal-type-root",
        "aws:PrincipalType of the account root is Account",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=ROOT_A,
        resource_account=ACCOUNT_B,
        resource_policy=pol(
            allow(
                "s3:GetObject",
                "*",
                principal="*",
                condition={"StringEquals": {"aws:PrincipalType": "Account"}},
            )
        ),
    ),
    Case(
        "derived-principal-type-anonymous",
        "aws:PrincipalType of an anonymous caller is Anonymous",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=ANONYMOUS,
        resource_account=ACCOUNT_A,
        resource_policy=pol(
            allow(
                "s3:GetObject",
                "*",
                principal="*",
                condition={"StringEquals": {"aws:PrincipalType": "Anonymous"}},
            )
        ),
    ),
    Case(
        "derived-anonymous-no-account",
        "an anonymous caller has no aws:PrincipalAccount",
        ALLOWED,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal=ANONYMOUS,
        resource_account=ACCOUNT_A,
        resource_policy=pol(
            allow(
                "s3:GetObject",
                "*",
                principal="*",
                condition={"Null": {"aws:PrincipalAccount": "true"}},
            )
        ),
    ),
    Case(
        "derived-context-not-overriding-account",
        "a bucket policy limited to the caller's own organisation account: another account's user",
        IMPLICIT_DENY,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        principal="arn:aws:iam::444455556666:user/dave",
        resource_account=ACCOUNT_A,
        identity=(ALLOW_ALL,),
        resource_policy=pol(
            allow(
                "s3:GetObject",
                "*",
                principal="*",
                condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT_A}},
            )
        ),
    ),
]
