"""AsyncWakeFromZero: a scalable target that lets an asynchronous endpoint's variant scale to
zero instances has no step scaling policy triggered by ``HasBacklogWithoutCapacity``.

"Autoscale an asynchronous endpoint" (SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html): without the
additional policy the endpoint scales up from zero only once the backlog exceeds the target
tracking value, so a few requests can wait indefinitely.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id, render_resource_value
from mlops_cdk.aws.sagemaker_metrics import HAS_BACKLOG_WITHOUT_CAPACITY
from mlops_cdk.compliance.sagemaker.endpoints import VARIANT_INSTANCE_COUNT, endpoint_config_of
from mlops_cdk.compliance.sagemaker.index import (
    ALARM_TYPE,
    ENDPOINT_TYPE,
    SCALABLE_TARGET_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

SCALING_POLICY_TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"


def reaches_zero(props: Mapping[str, Any]) -> bool:
    """The scalable target's minimum, or a scheduled minimum, is 0."""
    bounds = [props.get("MinCapacity")] + [
        (action.get("ScalableTargetAction") or {}).get("MinCapacity")
        for action in as_list(props.get("ScheduledActions"))
        if isinstance(action, dict)
    ]
    return any(bound == 0 for bound in bounds)


def _is_async_endpoint(resource_id: str, index: StackIndex) -> bool:
    for endpoint in index.of_type(ENDPOINT_TYPE):
        names = {f"<{endpoint.logical_id}.EndpointName>"}
        if isinstance(endpoint.properties.get("EndpointName"), str):
            names.add(endpoint.properties["EndpointName"])
        if any(resource_id.startswith(f"endpoint/{name}/variant/") for name in names):
            config = endpoint_config_of(endpoint, index)
            return config is not None and bool(config.properties.get("AsyncInferenceConfig"))
    return False


def woken_by(target: Resource, index: StackIndex, metric_name: str) -> bool:
    """Some alarm on ``metric_name`` has a step scaling policy of ``target`` as an action."""
    policies = {
        policy.logical_id
        for policy in index.of_type(SCALING_POLICY_TYPE)
        if policy.properties.get("PolicyType") == "StepScaling"
        and referenced_logical_id(policy.properties.get("ScalingTargetId")) == target.logical_id
    }
    return any(
        alarm.properties.get("MetricName") == metric_name
        and {referenced_logical_id(a) for a in as_list(alarm.properties.get("AlarmActions"))}
        & policies
        for alarm in index.of_type(ALARM_TYPE)
    )


def async_wake_from_zero(target: Resource, index: StackIndex) -> Compliance:
    props = target.properties
    if props.get("ScalableDimension") != VARIANT_INSTANCE_COUNT or not reaches_zero(props):
        return NOT_APPLICABLE
    if not _is_async_endpoint(render_resource_value(props.get("ResourceId")), index):
        return NOT_APPLICABLE
    woken = woken_by(target, index, HAS_BACKLOG_WITHOUT_CAPACITY)
    return COMPLIANT if woken else NON_COMPLIANT


RULE = Rule(
    "AsyncWakeFromZero",
    "An asynchronous endpoint can scale to zero instances but nothing wakes it when requests "
    "arrive.",
    "With MinCapacity 0 (or a scheduled minimum of 0) an asynchronous endpoint scales up from "
    'zero only once the backlog exceeds the target tracking value ("Autoscale an '
    'asynchronous endpoint"): add a step scaling policy on the scalable target and an alarm '
    "on HasBacklogWithoutCapacity (AWS/SageMaker, EndpointName) whose action is that policy "
    "(mlops_cdk.constructs.async_scaling.AsyncEndpointScaling does both).",
    async_wake_from_zero,
    frozenset({SCALABLE_TARGET_TYPE}),
)
