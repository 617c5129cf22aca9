"""DeploymentTimeout: an endpoint's blue/green or rolling update policy gives the update less
time than its own waits (every baking period and the termination wait)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.aws.guardrails import STEP_TYPES, most_steps
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


def _policy(deployment: Mapping[str, Any]) -> tuple[str, Any, Any, float] | None:
    """(kind, step, timeout, waits other than the baking periods) of the update policy."""
    blue_green = deployment.get("BlueGreenUpdatePolicy")
    if isinstance(blue_green, dict):
        routing = blue_green.get("TrafficRoutingConfiguration") or {}
        kind = str(routing.get("Type"))
        step = routing.get("LinearStepSize") if kind == "LINEAR" else None
        termination = number(blue_green.get("TerminationWaitInSeconds", 0))
        timeout = blue_green.get("MaximumExecutionTimeoutInSeconds")
        if termination is None:
            return None
        return kind, step, (timeout, routing.get("WaitIntervalInSeconds")), termination
    rolling = deployment.get("RollingUpdatePolicy")
    if isinstance(rolling, dict):
        timeout = rolling.get("MaximumExecutionTimeoutInSeconds")
        return (
            "ROLLING",
            rolling.get("MaximumBatchSize"),
            (timeout, rolling.get("WaitIntervalInSeconds")),
            0,
        )
    return None


def _most_bakes(kind: str, step: Any, endpoint: Resource, index: StackIndex) -> int | None:
    """Baking periods of the update: one, or one per step at the fleet size that takes the
    most steps (None: unknown)."""
    if kind not in ("LINEAR", "ROLLING"):
        return 1
    step_type = step.get("Type") if isinstance(step, dict) else None
    value = number(step.get("Value")) if isinstance(step, dict) else None
    config = endpoint_config_of(endpoint, index)
    if step_type not in STEP_TYPES or value is None or config is None:
        return None  # DeploymentStepSize and RollingUpdateExclusions judge the step
    targets = scalable_targets(endpoint, index)
    most = [
        most_steps(kind, step_type, value, variant_fleet_sizes(variant, target))
        for variant in variants(config.properties)
        if "ServerlessConfig" not in variant
        for target in [targets.get(str(variant.get("VariantName")))]
    ]
    return max((steps for steps, _ in filter(None, most)), default=None)


def deployment_timeout(endpoint: Resource, index: StackIndex) -> Compliance:
    deployment = endpoint.properties.get("DeploymentConfig")
    policy = _policy(deployment) if isinstance(deployment, dict) else None
    if policy is None:
        return NOT_APPLICABLE
    kind, step, (timeout, wait), termination = policy
    timeout, wait = number(timeout), number(wait)
    bakes = _most_bakes(kind, step, endpoint, index)
    if timeout is None or wait is None or bakes is None:
        return NOT_APPLICABLE  # AWS's default timeout, a token, or a step judged elsewhere
    return COMPLIANT if timeout > bakes * wait + termination else NON_COMPLIANT


RULE = Rule(
    "DeploymentTimeout",
    "An endpoint's update policy gives the update no more time than its own waits.",
    'SageMaker (BlueGreenUpdatePolicy): "the timeout value should be larger than the total '
    'waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds"; a rolling '
    'update\'s MaximumExecutionTimeoutInSeconds is "the time limit for the total deployment". '
    "An update bakes once for ALL_AT_ONCE and CANARY and once per step for LINEAR and rolling "
    'batches ("For each step, there is a baking period"), counted at every fleet size the '
    "variant's scalable target allows (10 % of 20 instances is 10 steps; percentages round up, "
    "so 30 % of 10 instances is 4 steps, of 11 is 3). An update that "
    "cannot finish in time rolls back. Raise MaximumExecutionTimeoutInSeconds (at most 28800) "
    "or shorten the waits.",
    deployment_timeout,
    frozenset({ENDPOINT_TYPE}),
)
