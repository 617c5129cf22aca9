"""NoFullAccess: a role or policy grants AmazonSageMakerFullAccess, ``sagemaker:*`` or ``*``."""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import actions, allow_statements, render_resource_value
from mlops_cdk.compliance.sagemaker.index import (
    IAM_TYPES,
    ROLE_TYPE,
    Resource,
    StackIndex,
    policy_documents,
)
from mlops_cdk.compliance.sagemaker.rule import COMPLIANT, NON_COMPLIANT, Compliance, Rule

FULL_ACCESS_POLICY = "AmazonSageMakerFullAccess"


def _grants_sagemaker_wildcard(document: Any) -> bool:
    return any(
        action.lower() in ("*", "sagemaker:*")
        for statement in allow_statements(document)
        for action in actions(statement)
    )


def no_sagemaker_full_access(resource: Resource, index: StackIndex) -> Compliance:
    del index
    if resource.type == ROLE_TYPE:
        managed = [
            render_resource_value(a) for a in resource.properties.get("ManagedPolicyArns") or []
        ]
        if any(arn.endswith(f"/{FULL_ACCESS_POLICY}") for arn in managed):
            return NON_COMPLIANT
    documents = policy_documents(resource)
    return NON_COMPLIANT if any(_grants_sagemaker_wildcard(d) for d in documents) else COMPLIANT


RULE = Rule(
    "NoFullAccess",
    "The role or policy grants AmazonSageMakerFullAccess, sagemaker:* or *.",
    "Execution roles should list the SageMaker actions and resources they need.",
    no_sagemaker_full_access,
    IAM_TYPES,
)
