"""KeyGrantForAwsResource: a key policy allows kms:CreateGrant to principals other than AWS
services without ``kms:GrantIsForAWSResource``."""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import allow_statements, condition_values, covers_action, statements
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


def _denies_grants_not_for_aws_resources(statement: dict[str, Any]) -> bool:
    """The Deny that AWS Control Tower's CT.KMS.PR.3 asks for (and
    ``mlops_cdk.constructs.encryption.deny_grants_not_for_aws_resources`` writes): everyone is
    denied kms:CreateGrant when ``BoolIfExists`` finds ``kms:GrantIsForAWSResource`` false (an
    extra ``aws:PrincipalIsAWSService`` false key only narrows it to non-services). It makes
    every Allow of kms:CreateGrant in the policy one for AWS resources only."""
    principal = statement.get("Principal")
    if statement.get("Effect") != "Deny" or principal not in ("*", {"AWS": "*"}):
        return False
    if not covers_action(statement, "kms:CreateGrant"):
        return False
    if set(statement.get("Condition") or {}) != {"BoolIfExists"}:
        return False
    values = dict(condition_values(statement, "kms:GrantIsForAWSResource"))
    grant = values.get("BoolIfExists", [])
    return bool(grant) and all(str(v).lower() == "false" for v in grant)


def key_grant_for_aws_resource(key: Resource, index: StackIndex) -> Compliance:
    del index
    policy = key.properties.get("KeyPolicy")
    if policy is None:
        return NON_COMPLIANT  # KMS's default key policy: the account root may call kms:*
    if any(_denies_grants_not_for_aws_resources(s) for s in statements(policy)):
        return COMPLIANT
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
    "kms:CreateGrant out of the kms:* statement into a conditioned one, or deny it to "
    "everyone with BoolIfExists kms:GrantIsForAWSResource 'false' (AWS Control Tower's "
    "CT.KMS.PR.3 statement). CDK's default "
    "key policy (account root, kms:*) and a key without KeyPolicy (KMS's default) "
    "fail this rule: acknowledge it on the key with the reason that is acceptable.",
    key_grant_for_aws_resource,
    frozenset({KEY_TYPE}),
)
