"""ModelVpc: a SageMaker model has no VPC config."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import serves_only_serverless
from mlops_cdk.compliance.sagemaker.index import MODEL_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def model_in_vpc(model: Resource, index: StackIndex) -> Compliance:
    vpc = model.properties.get("VpcConfig") or {}
    if vpc.get("Subnets") and vpc.get("SecurityGroupIds"):
        return COMPLIANT
    return NOT_APPLICABLE if serves_only_serverless(model, index) else NON_COMPLIANT


RULE = Rule(
    "ModelVpc",
    "The SageMaker model has no VPC config.",
    "Models should run in private subnets behind their own security group.",
    model_in_vpc,
    frozenset({MODEL_TYPE}),
)
