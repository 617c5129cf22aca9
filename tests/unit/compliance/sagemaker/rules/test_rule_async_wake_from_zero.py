"""AsyncWakeFromZero: an async variant that can reach zero instances has the wake-up policy."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import KEY, METRICS, rules_for, stack


def _endpoint(s: cdk.Stack, *, asynchronous: bool) -> None:
    settings = sm.CfnEndpointConfig.AsyncInferenceConfigProperty(
        output_config=sm.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
            s3_output_path="s3://b/o", kms_key_id=KEY
        )
    )
    config = sm.CfnEndpointConfig(
        s,
        "Config",
        kms_key_id=KEY,
        metrics_config=METRICS,
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="v", model_name="m", instance_type="ml.m5.large",
                initial_instance_count=1,
            )
        ],
        async_inference_config=settings if asynchronous else None,
    )  # fmt: skip
    sm.CfnEndpoint(
        s, "Endpoint", endpoint_name="ep", endpoint_config_name=config.attr_endpoint_config_name
    )


def _target(s: cdk.Stack, *, min_capacity: int, scheduled_zero: bool = False) -> None:
    target = appscaling.ScalableTarget(
        s,
        "Target",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id="endpoint/ep/variant/v",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        min_capacity=min_capacity,
        max_capacity=2,
    )
    if scheduled_zero:
        target.scale_on_schedule(
            "Night", schedule=appscaling.Schedule.cron(hour="20", minute="0"), min_capacity=0
        )
    s.target = target  # type: ignore[attr-defined]


def _wake(s: cdk.Stack, metric_name: str = "HasBacklogWithoutCapacity") -> None:
    target: appscaling.ScalableTarget = s.target  # type: ignore[attr-defined]
    target.scale_on_metric(
        "Wake",
        metric=cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=metric_name,
            dimensions_map={"EndpointName": "ep"},
            statistic="Maximum",
        ),
        scaling_steps=[
            appscaling.ScalingInterval(lower=0, upper=1, change=0),
            appscaling.ScalingInterval(lower=1, change=1),
        ],
        adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    )


@pytest.mark.parametrize(
    ("min_capacity", "scheduled_zero", "wake", "expected"),
    [
        (0, False, True, set()),
        (0, False, False, {"AsyncWakeFromZero"}),
        (1, True, False, {"AsyncWakeFromZero"}),
        (1, False, False, set()),
    ],
)
def test_async_wake_from_zero(
    min_capacity: int, scheduled_zero: bool, wake: bool, expected: set[str]
) -> None:
    s = stack()
    _endpoint(s, asynchronous=True)
    _target(s, min_capacity=min_capacity, scheduled_zero=scheduled_zero)
    if wake:
        _wake(s)
    assert rules_for(s, "S/Target/Resource") == expected


def test_a_step_policy_on_another_metric_does_not_wake() -> None:
    s = stack()
    _endpoint(s, asynchronous=True)
    _target(s, min_capacity=0)
    _wake(s, metric_name="ApproximateBacklogSizePerInstance")
    assert rules_for(s, "S/Target/Resource") == {"AsyncWakeFromZero"}


def test_real_time_endpoints_are_not_applicable() -> None:
    s = stack()
    _endpoint(s, asynchronous=False)
    _target(s, min_capacity=0)
    assert rules_for(s, "S/Target/Resource") == set()
