"""RollingUpdateExclusions: a rolling update on an endpoint SageMaker cannot roll, or with a
batch outside 5-50 % of a fleet size the variant can have."""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.aws.guardrails import STEP_TYPES, step_within_limits
from mlops_cdk.compliance.sagemaker.endpoints import endpoint_config_of, scalable_targets, variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)
from mlops_cdk.compliance.sagemaker.rules.deployment_step_size import variant_fleet_sizes


def rolling_update_exclusions(endpoint: Resource, index: StackIndex) -> Compliance:
    policy = (endpoint.properties.get("DeploymentConfig") or {}).get("RollingUpdatePolicy")
    if not isinstance(policy, dict):
        return NOT_APPLICABLE
    batch = policy.get("MaximumBatchSize")
    step_type = batch.get("Type") if isinstance(batch, dict) else None
    value = number(batch.get("Value")) if isinstance(batch, dict) else None
    if step_type not in STEP_TYPES or value is None:
        return NON_COMPLIANT  # MaximumBatchSize is required
    config = endpoint_config_of(endpoint, index)
    if config is None:
        return NOT_APPLICABLE
    found = variants(config.properties)
    if len(found) != 1 or "ServerlessConfig" in found[0]:
        return NON_COMPLIANT  # guardrails "Exclusions": multi-variant and serverless
    target = scalable_targets(endpoint, index).get(str(found[0].get("VariantName")))
    sizes = variant_fleet_sizes(found[0], target)
    if not sizes or any(not step_within_limits("ROLLING", step_type, value, n) for n in sizes):
        return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "RollingUpdateExclusions",
    "A rolling update is set on an endpoint SageMaker cannot roll, or its batch is outside "
    "5-50 % of a fleet size the variant can have.",
    'Deployment guardrails "Exclusions" '
    "(https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html): "
    "no rolling deployment for serverless or multi-variant endpoints (a shadow variant is a "
    "second variant). RollingUpdatePolicy.MaximumBatchSize must be 5-50 % of the variant's "
    "instance count (API reference RollingUpdatePolicy), checked at every count from the "
    "initial count and the scalable target's range, percentages rounded up to instances: a "
    "one-instance variant cannot roll. Use blue/green, or a batch valid over the whole range.",
    rolling_update_exclusions,
    frozenset({ENDPOINT_TYPE}),
)
