"""KeyGrantForAwsResource: kms:CreateGrant allowed to non-service principals without
kms:GrantIsForAWSResource is non-compliant, as are CDK's and KMS's default key policies."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_kms as kms

from tests.unit.compliance.sagemaker.pack_helpers import fires, stage_stack

ROOT = {"AWS": "arn:aws:iam::123456789012:root"}
ROLE = {"AWS": "arn:aws:iam::123456789012:role/app"}
GRANT_FOR_AWS = {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def statement(
    principal: Any, action: Any, condition: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    result = {"Effect": "Allow", "Principal": principal, "Resource": "*", **kwargs}
    if action is not None:
        result["Action"] = action
    if condition is not None:
        result["Condition"] = condition
    return result


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([statement(ROOT, "kms:*")], True),  # CDK's default key policy
        ([statement(ROLE, "kms:CreateGrant")], True),
        ([statement(ROLE, ["kms:Create*"])], True),
        ([statement(ROLE, "KMS:creategrant")], True),
        ([statement(ROLE, "*")], True),
        ([statement("*", "kms:CreateGrant", GRANT_FOR_AWS | {"StringEquals": {"x": "y"}})], False),
        ([statement(ROLE, None, NotAction="kms:Decrypt")], True),  # NotAction admits CreateGrant
        ([statement(ROLE, "kms:CreateGrant", GRANT_FOR_AWS)], False),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": True}})],
            False,
        ),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:grantisforawsresource": "TRUE"}})],
            False,
        ),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": "false"}})],
            True,
        ),
        (
            [
                statement(
                    ROLE, "kms:CreateGrant", {"StringEquals": {"kms:GrantIsForAWSResource": "true"}}
                )
            ],
            True,
        ),
        ([statement({"Service": "logs.amazonaws.com"}, "kms:*")], False),
        ([statement(ROLE, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"])], False),
        ([{**statement(ROLE, "kms:*"), "Effect": "Deny"}], False),
        (
            [statement(ROLE, ["kms:Decrypt"]), statement(ROLE, "kms:CreateGrant", GRANT_FOR_AWS)],
            False,
        ),
    ],
)
def test_key_grant_for_aws_resource(statements: list[dict[str, Any]], expected: bool) -> None:
    s = stage_stack()
    kms.CfnKey(s, "Key", key_policy={"Version": "2012-10-17", "Statement": statements})
    assert fires(s, "prod/S/Key", "KeyGrantForAwsResource") is expected


DENY_GRANTS = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {
        "BoolIfExists": {
            "kms:GrantIsForAWSResource": "false",
            "aws:PrincipalIsAWSService": "false",
        }
    },
}


@pytest.mark.parametrize(
    ("deny", "expected"),
    [
        (DENY_GRANTS, False),  # CT.KMS.PR.3's Deny makes CDK's kms:* harmless
        ({**DENY_GRANTS, "Principal": "*"}, False),
        ({**DENY_GRANTS, "Action": ["kms:Create*"]}, False),
        ({**DENY_GRANTS, "Principal": ROLE}, True),  # only one role is denied
        ({**DENY_GRANTS, "Effect": "Allow"}, True),
        ({**DENY_GRANTS, "Action": "kms:Decrypt"}, True),
        ({**DENY_GRANTS, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "false"}}}, True),
        (
            {**DENY_GRANTS, "Condition": {"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
            True,
        ),
    ],
)
def test_key_grant_deny_to_everyone_unless_for_aws_resource(
    deny: dict[str, Any], expected: bool
) -> None:
    s = stage_stack()
    policy = {"Version": "2012-10-17", "Statement": [statement(ROOT, "kms:*"), deny]}
    kms.CfnKey(s, "Key", key_policy=policy)
    assert fires(s, "prod/S/Key", "KeyGrantForAwsResource") is expected


def test_key_grant_cdk_default_and_kms_default_policies_fire() -> None:
    s = stage_stack()
    kms.Key(s, "Cdk")
    kms.CfnKey(s, "NoPolicy")
    assert fires(s, "prod/S/Cdk/Resource", "KeyGrantForAwsResource")
    assert fires(s, "prod/S/NoPolicy", "KeyGrantForAwsResource")
