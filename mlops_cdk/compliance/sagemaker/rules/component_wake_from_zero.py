"""ComponentWakeFromZero: an inference component whose copy count may scale to zero has no step
scaling policy triggered by an alarm on ``NoCapacityInvocationFailures``.

"Scale an endpoint to zero instances" (SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html): after
scaling in to zero the component "can't respond to any incoming inference requests" until a step
scaling policy, assigned to a CloudWatch alarm on ``NoCapacityInvocationFailures``
(``AWS/SageMaker``, dimension ``InferenceComponentName``), provisions a copy. Target tracking
alone never leaves zero.
"""

from __future__ import annotations

from mlops_cdk.aws.sagemaker_metrics import NO_CAPACITY_INVOCATION_FAILURES
from mlops_cdk.compliance.sagemaker.index import SCALABLE_TARGET_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)
from mlops_cdk.compliance.sagemaker.rules.async_wake_from_zero import reaches_zero, woken_by

COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


def component_wake_from_zero(target: Resource, index: StackIndex) -> Compliance:
    props = target.properties
    if props.get("ScalableDimension") != COPY_COUNT_DIMENSION or not reaches_zero(props):
        return NOT_APPLICABLE
    woken = woken_by(target, index, NO_CAPACITY_INVOCATION_FAILURES)
    return COMPLIANT if woken else NON_COMPLIANT


RULE = Rule(
    "ComponentWakeFromZero",
    "An inference component can scale to zero copies but nothing wakes it when requests arrive.",
    "With MinCapacity 0 (or a scheduled minimum of 0) on sagemaker:inference-component:"
    "DesiredCopyCount, the component answers no request until a step scaling policy adds a "
    'copy ("Scale an endpoint to zero instances"): add a StepScaling policy on the scalable '
    "target and an alarm on NoCapacityInvocationFailures (AWS/SageMaker, "
    "InferenceComponentName) whose action is that policy "
    "(mlops_cdk.constructs.inference_components.InferenceComponentEndpoint does both).",
    component_wake_from_zero,
    frozenset({SCALABLE_TARGET_TYPE}),
)
