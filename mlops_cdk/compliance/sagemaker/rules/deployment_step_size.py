"""DeploymentStepSize: a canary / linear step breaks SageMaker's 50 % / 10-50 % limits for some
instance count the variant can scale to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.aws.sagemaker_metrics import STEP_TYPES, step_within_limits
from mlops_cdk.compliance.sagemaker.endpoints import endpoint_config_of, scalable_targets, variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def variant_fleet_sizes(variant: Mapping[str, Any], target: Mapping[str, Any] | None) -> range:
    """Every instance count the variant can have: its initial count and its scaling range."""
    counts = [
        int(c)
        for c in (
            variant.get("InitialInstanceCount"),
            *((target.get("MinCapacity"), target.get("MaxCapacity")) if target else ()),
        )
        if number(c) is not None
    ]
    if not counts:
        return range(0)
    return range(max(min(counts), 1), max(counts) + 1)


def deployment_step_size(endpoint: Resource, index: StackIndex) -> Compliance:
    deployment = endpoint.properties.get("DeploymentConfig") or {}
    routing = (deployment.get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration")
    if not isinstance(routing, dict) or routing.get("Type") not in ("CANARY", "LINEAR"):
        return NOT_APPLICABLE
    kind = str(routing["Type"])
    step = routing.get("CanarySize" if kind == "CANARY" else "LinearStepSize")
    step_type = step.get("Type") if isinstance(step, dict) else None
    value = number(step.get("Value")) if isinstance(step, dict) else None
    if step_type not in STEP_TYPES or value is None:
        return NON_COMPLIANT  # SageMaker needs the step of a canary / linear shift
    config = endpoint_config_of(endpoint, index)
    if config is None:
        return NOT_APPLICABLE
    targets = scalable_targets(endpoint, index)
    for variant in variants(config.properties):
        if "ServerlessConfig" in variant:
            if step_type == "INSTANCE_COUNT":
                return NON_COMPLIANT  # a serverless variant has no instances to count
            continue
        target = targets.get(str(variant.get("VariantName")))
        for fleet in variant_fleet_sizes(variant, target):
            if not step_within_limits(kind, step_type, value, fleet):
                return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "DeploymentStepSize",
    "A canary or linear traffic-shifting step is outside SageMaker's limits for a fleet "
    "size the variant can have.",
    "SageMaker (TrafficRoutingConfig) requires CanarySize <= 50 % and LinearStepSize "
    "10-50 % of the variant's instance count at the time of the update, so a step that "
    "fits today's count fails the deployment after autoscaling has changed it. Every "
    "count from min(InitialInstanceCount, MinCapacity) to max(InitialInstanceCount, "
    "MaxCapacity) of the variant's scalable target is checked; CAPACITY_PERCENT is "
    "rounded up to whole instances (10 % of 3 instances moves 1 = 33 %). Choose a step "
    "valid over the whole range (usually CAPACITY_PERCENT) or narrow the range. "
    "Serverless variants accept only CAPACITY_PERCENT.",
    deployment_step_size,
    frozenset({ENDPOINT_TYPE}),
)
