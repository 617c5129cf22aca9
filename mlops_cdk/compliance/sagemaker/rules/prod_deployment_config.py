"""ProdDeploymentConfig: a production endpoint has no blue/green or rolling update policy."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def production_deployment_config(endpoint: Resource, index: StackIndex) -> Compliance:
    if not index.production:
        return NOT_APPLICABLE
    deployment = endpoint.properties.get("DeploymentConfig") or {}
    guarded = deployment.get("BlueGreenUpdatePolicy") or deployment.get("RollingUpdatePolicy")
    return COMPLIANT if guarded else NON_COMPLIANT


RULE = Rule(
    "ProdDeploymentConfig",
    "The production endpoint has no deployment guardrails.",
    "Blue/green or rolling updates with rollback alarms keep a bad model version from taking "
    "all production traffic.",
    production_deployment_config,
    frozenset({ENDPOINT_TYPE}),
)
