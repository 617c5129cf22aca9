"""KeyUseBounded: service principals on a key need a bounding condition; roles admitted by a
wildcard ARN need kms:ViaService for cryptographic use."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms

from mlops_cdk.constructs.encryption import EncryptionKey
from tests.unit.compliance.sagemaker.pack_helpers import fires, rules_for, stage_stack

RULE = "KeyUseBounded"
TOPICS = {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-1:1:*"}}
ROOT = {"AWS": "arn:aws:iam::123456789012:root"}
CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}
USE = ["kms:Decrypt", "kms:GenerateDataKey*"]
PATH = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/mlops/dev/*"}}
VIA_S3 = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def statement(
    principal: Any, action: Any, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if condition is not None:
        result["Condition"] = condition
    return result


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([statement(CLOUDWATCH, USE)], True),  # issue 21: no condition at all
        ([statement({"Service": ["events.amazonaws.com"]}, USE)], True),
        (
            [statement(CLOUDWATCH, USE, TOPICS)],
            False,
        ),
        (
            [statement(CLOUDWATCH, USE, {"StringEquals": {"aws:SourceAccount": "123456789012"}})],
            False,
        ),
        (
            [statement(CLOUDWATCH, USE, {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*"}})],
            False,
        ),
        ([statement(CLOUDWATCH, USE, VIA_S3)], False),
        # a condition that does not tie the service to this account's resources
        ([statement(CLOUDWATCH, USE, {"Bool": {"aws:SecureTransport": "true"}})], True),
        ([statement(ROOT, USE, PATH)], True),  # roles by path, direct use
        ([statement(ROOT, USE, {**PATH, **VIA_S3})], False),
        (
            [
                statement(
                    ROOT, "kms:*", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/*"}}
                )
            ],
            True,
        ),
        # one named role, grants for AWS resources: not this rule's matter
        (
            [statement(ROOT, USE, {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/r"}})],
            False,
        ),
        (
            [
                statement(
                    ROOT, "kms:CreateGrant", {**PATH, "Bool": {"kms:GrantIsForAWSResource": "true"}}
                )
            ],
            False,
        ),
        ([{**statement(CLOUDWATCH, USE), "Effect": "Deny"}], False),
    ],
)
def test_key_use_bounded(statements: list[dict[str, Any]], expected: bool) -> None:
    s = stage_stack()
    kms.CfnKey(s, "Key", key_policy={"Version": "2012-10-17", "Statement": statements})
    assert fires(s, "prod/S/Key", RULE) is expected


def test_encryption_key_as_the_foundation_configures_it_is_compliant() -> None:
    s = stage_stack()
    key = EncryptionKey(
        s, "Encryption", alias="alias/x", description="x", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    key.grant_role_path("/mlops/prod/", sid="Roles", via_services=["s3", "sqs"])
    key.grant_service_use("cloudwatch.amazonaws.com", sid="Alarms", for_sns_topics=True)
    key.grant_service_use("events.amazonaws.com", sid="Events", for_sns_topics=True)
    assert RULE not in rules_for(s, "prod/S/Encryption/Key/Resource")


def test_encryption_key_without_bounds_fires() -> None:
    s = stage_stack()
    key = EncryptionKey(
        s, "Encryption", alias="alias/x", description="x", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    key.grant_role_path("/mlops/prod/", sid="Roles")
    assert RULE in rules_for(s, "prod/S/Encryption/Key/Resource")
