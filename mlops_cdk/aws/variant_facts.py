"""AWS facts about production variants beyond the basics: shadow variants, instance pools,
rolling updates and how fast target tracking notices a load increase (pure; no CDK import).

Sources (AWS documentation; each fact below names its page):

- Shadow variants: SageMaker API reference "CreateEndpointConfig", ``ShadowProductionVariants``
  ("If you use this field, you can only specify one variant for ProductionVariants and one
  variant for ShadowProductionVariants",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html; the
  same text is in botocore's SageMaker service model). "Shadow tests" > "Exclusions"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html): serverless
  inference, asynchronous inference, multi-container endpoints (and Marketplace containers,
  multi-model endpoints, Inf1, Elastic Inference) cannot run a shadow.
- Instance pools: "Deploy to multiple instance types with instance pools"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-heterogeneous.html):
  "an ordered list of up to five instance types", priority 1 (highest) to 5; the list
  *replaces* ``InstanceType``; ``VariantInstanceProvisionTimeoutInSeconds`` 300-3600. API
  reference "InstancePool" and "ProductionVariant"; CloudFormation
  ``AWS::SageMaker::EndpointConfig InstancePool`` (aws-cdk-lib 2.273.0 has
  ``CfnEndpointConfig.InstancePoolProperty`` and ``variant_instance_provision_timeout_in_seconds``).
- Rolling updates: API reference "RollingUpdatePolicy"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_RollingUpdatePolicy.html):
  ``MaximumBatchSize`` "must be between 5% to 50% of the variant's total instance count",
  ``WaitIntervalInSeconds`` 0-3600, ``MaximumExecutionTimeoutInSeconds`` 600-28800, without
  ``RollbackMaximumBatchSize`` a rollback brings the whole old fleet back at once. Deployment
  guardrails "Exclusions"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html): no
  rolling deployment for serverless or multi-variant endpoints.
- Scale-out detection: "Define a scaling policy"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html):
  standard metrics such as ``InvocationsPerInstance`` emit data once a minute, the
  high-resolution ``ConcurrentRequestsPerModel`` every 10 seconds, so the policy scales out much
  sooner (scale-in at the standard pace). The number of breaching datapoints the alarm that
  Application Auto Scaling creates for a target-tracking policy needs before it scales out is
  NOT stated on the pages found ("How target tracking scaling for Application Auto Scaling
  works" says only that it creates and manages the alarms); 3 is the value those managed alarms
  are observed with (``DescribeAlarms`` on a deployed policy shows it): see
  docs/concepts/serving-modes.md, "Shadow variants, fast autoscaling, instance pools, rolling
  updates".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from mlops_cdk.aws.cfn_values import number

# --- shadow variants ---------------------------------------------------------------------------

MAX_SHADOW_VARIANTS = 1
MAX_PRODUCTION_VARIANTS_WITH_SHADOW = 1

# --- instance pools ----------------------------------------------------------------------------

MAX_INSTANCE_POOLS = 5
PROVISION_TIMEOUT_SECONDS = (300, 3600)

# Rolling batch sizes: ROLLING_MIN_SHARE / ROLLING_MAX_SHARE in mlops_cdk/aws/guardrails.py.


def instance_types(variant: Mapping[str, Any]) -> list[Any]:
    """A ProductionVariant's instance types, as its template states them: its InstanceType,
    or its InstancePools' types in priority order (pools replace InstanceType). Values as in
    the template (a token is not a string)."""
    pools = variant.get("InstancePools")
    if isinstance(pools, list) and pools:
        ordered = sorted(
            (p for p in pools if isinstance(p, dict)),
            key=lambda p: number(p.get("Priority")) or 0.0,
        )
        return [p.get("InstanceType") for p in ordered]
    return [variant.get("InstanceType")] if "InstanceType" in variant else []


# --- scale-out detection -----------------------------------------------------------------------

ScalingMetric = Literal["invocations_per_instance", "concurrent_requests_high_resolution"]
# Seconds between the datapoints of each predefined metric ("Define a scaling policy").
METRIC_PERIOD_SECONDS: dict[str, int] = {
    "invocations_per_instance": 60,
    "concurrent_requests_high_resolution": 10,
}
# Breaching datapoints the managed scale-out alarm needs (see the module docstring: observed,
# not documented).
SCALE_OUT_DATAPOINTS = 3


def scale_out_detection_seconds(metric: str) -> int:
    """How long a load increase must last before target tracking scales out, as the template
    implies it: the metric's period times the datapoints the scale-out alarm needs (180 s on
    one-minute metrics, 30 s on the 10-second high-resolution metric). Excludes the time new
    instances take to come up."""
    if metric not in METRIC_PERIOD_SECONDS:
        raise ValueError(f"no period known for scaling metric {metric!r}")
    return METRIC_PERIOD_SECONDS[metric] * SCALE_OUT_DATAPOINTS


def describe_detection(metric: str) -> str:
    """``30 s (3 x 10 s datapoints of concurrent_requests_high_resolution)``."""
    seconds = scale_out_detection_seconds(metric)
    period = METRIC_PERIOD_SECONDS[metric]
    return f"{seconds} s ({SCALE_OUT_DATAPOINTS} x {period} s datapoints of {metric})"
