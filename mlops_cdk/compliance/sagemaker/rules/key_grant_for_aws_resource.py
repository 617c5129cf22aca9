"""KeyGrantForAwsResource: a key policy allows kms:CreateGrant to principals other than AWS
services without ``kms:GrantIsForAWSResource``."""

from __future__ import annotations

from typing import Any

from mlops_cdk.cfn_values import allow_statements, condition_values, covers_action
from mlops_cdk.compliance.sagemaker.index import KEY_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import COMPLIANT, NON_COMPLIANT, Compliance, Rule


def _grant_is_for_aws_resource(statement: dict[str, Any]) -> bool:
    for operator, values in condition_values(statement, "kms:GrantIsForAWSResource"):
        if (
            operator.lower() == "bool"
            and values
            and all(v is True or (isinstance(v, str) and v.lower() == "true") for v in values)
        ):
            return True
    return False


def _only_service_principals(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return isinstance(principal, dict) and set(principal) == {"Service"}


def key_grant_for_aws_resource(key: Resource, index: StackIndex) -> Compliance:
    del index
    policy = key.properties.get("KeyPolicy")
    if policy is None:
        return NON_COMPLIANT  # KMS's default key policy: the account root may call kms:*
    for statement in allow_statements(policy):
        if (
            covers_action(statement, "kms:CreateGrant")
            and not _only_service_principals(statement)
            and not _grant_is_for_aws_resource(statement)
        ):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "KeyGrantForAwsResource",
    "The KMS key policy allows kms:CreateGrant to principals other than AWS services "
    "without the kms:GrantIsForAWSResource condition.",
    "A principal that may call kms:CreateGrant can grant itself or anyone else use of "
    "the key, outside the key policy and IAM. With Condition Bool "
    "kms:GrantIsForAWSResource 'true' only AWS services integrated with KMS (SageMaker, "
    "EBS, ...) can create grants on the principal's behalf. Add the condition, or move "
    "kms:CreateGrant out of the kms:* statement into a conditioned one. CDK's default "
    "key policy (account root, kms:*) and a key without KeyPolicy (KMS's default) "
    "fail this rule: acknowledge it on the key with the reason that is acceptable.",
    key_grant_for_aws_resource,
    frozenset({KEY_TYPE}),
)
