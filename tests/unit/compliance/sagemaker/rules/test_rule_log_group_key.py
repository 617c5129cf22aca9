"""LogGroupKey: a log group's KMS key must be symmetric and let the regional CloudWatch Logs
principal use it, followed into the stack that exports it."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from tests.unit.compliance.sagemaker.pack_helpers import fires, sibling, stage_stack

RULE = "LogGroupKey"
LOGS_USE = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def key(
    scope: cdk.Stack, *, logs_may_use: bool, region_token: bool = False, **props: object
) -> kms.Key:
    created = kms.Key(scope, "Key", **props)  # type: ignore[arg-type]
    if logs_may_use:
        service = (
            f"logs.{cdk.Aws.REGION}.amazonaws.com"
            if region_token
            else "logs.eu-west-1.amazonaws.com"
        )
        created.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(service)], actions=LOGS_USE, resources=["*"]
            )
        )
    return created


@pytest.mark.parametrize(("logs_may_use", "expected"), [(True, False), (False, True)])
def test_the_key_policy_must_let_cloudwatch_logs_use_the_key(
    logs_may_use: bool, expected: bool
) -> None:
    foundation = stage_stack(stack="Foundation")
    shared = key(foundation, logs_may_use=logs_may_use)
    service = sibling(foundation, "S")
    logs.LogGroup(service, "Logs", encryption_key=shared)  # imported across the stacks
    assert fires(service, "prod/S/Logs/Resource", RULE) is expected


def test_the_principal_may_name_the_region_by_reference() -> None:
    s = stage_stack()
    logs.LogGroup(s, "Logs", encryption_key=key(s, logs_may_use=True, region_token=True))
    assert not fires(s, "prod/S/Logs/Resource", RULE)


def test_an_asymmetric_key_is_refused_whatever_its_policy() -> None:
    s = stage_stack()
    asymmetric = key(
        s, logs_may_use=True, key_spec=kms.KeySpec.RSA_2048, key_usage=kms.KeyUsage.ENCRYPT_DECRYPT
    )
    logs.LogGroup(s, "Logs", encryption_key=asymmetric)
    assert fires(s, "prod/S/Logs/Resource", RULE)


def test_unencrypted_log_groups_and_keys_elsewhere_are_not_checked() -> None:
    s = stage_stack()
    logs.LogGroup(s, "Plain")
    elsewhere = kms.Key.from_key_arn(
        s,
        "Elsewhere",
        "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555",
    )
    logs.LogGroup(s, "Logs", encryption_key=elsewhere)
    assert not fires(s, "prod/S/Plain/Resource", RULE)
    assert not fires(s, "prod/S/Logs/Resource", RULE)
