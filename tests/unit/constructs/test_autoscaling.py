"""VariantAutoscaling: scalable target, target tracking, schedules, service-linked role."""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk.assertions import Template

from mlops_cdk.constructs.autoscaling import (
    InstanceAutoscaling,
    ProvisionedConcurrencyScaling,
    ScheduledScaling,
    VariantAutoscaling,
)
from tests.helpers import new_stack

HIGH_RESOLUTION = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
SLR = (
    "arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling."
    "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def scaling_template(spec: InstanceAutoscaling | ProvisionedConcurrencyScaling) -> Template:
    stack = new_stack()
    VariantAutoscaling(stack, "Scaling", endpoint_name="ep", variant_name="champion", scaling=spec)
    return Template.from_stack(stack)


def test_instance_count_target_tracking_with_cooldowns_and_schedule() -> None:
    spec = InstanceAutoscaling(
        min_capacity=2,
        max_capacity=6,
        target_value=250,
        scale_in_cooldown_seconds=600,
        scale_out_cooldown_seconds=30,
        scheduled=(
            ScheduledScaling(
                name="Night",
                schedule="cron(0 20 ? * MON-FRI *)",
                min_capacity=2,
                max_capacity=2,
                time_zone="Europe/Dublin",
            ),
        ),
    )
    template = scaling_template(spec)
    (target,) = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert props["ResourceId"] == "endpoint/ep/variant/champion"
    assert props["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert props["ServiceNamespace"] == "sagemaker"
    assert (props["MinCapacity"], props["MaxCapacity"]) == (2, 6)
    assert props["RoleARN"] == SLR
    assert props["ScheduledActions"] == [
        {
            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 2},
            "Schedule": "cron(0 20 ? * MON-FRI *)",
            "ScheduledActionName": "Night",
            "Timezone": "Europe/Dublin",
        }
    ]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "TargetValue": 250,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 30,
            },
        },
    )
    template.resource_count_is("AWS::IAM::Role", 0)


def test_high_resolution_concurrency_metric() -> None:
    spec = InstanceAutoscaling(
        min_capacity=1, max_capacity=3, target_value=5, metric="concurrent_requests_high_resolution"
    )
    scaling_template(spec).has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": HIGH_RESOLUTION},
                "TargetValue": 5,
            }
        },
    )


def test_serverless_provisioned_concurrency() -> None:
    spec = ProvisionedConcurrencyScaling(min_capacity=1, max_capacity=10, target_utilization=0.7)
    template = scaling_template(spec)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency"},
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"
                },
                "TargetValue": 0.7,
            }
        },
    )


def test_the_props_type_selects_dimension_and_metric() -> None:
    """Instance autoscaling never scales provisioned concurrency (and the reverse): the kind is
    the props' type, so a mismatched metric cannot be written."""
    template = scaling_template(InstanceAutoscaling(min_capacity=1, max_capacity=2, target_value=1))
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"ScalableDimension": "sagemaker:variant:DesiredInstanceCount"},
    )
    assert "metric" not in {f.name for f in dataclasses.fields(ProvisionedConcurrencyScaling)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 2, 1.0), "min_capacity: min_capacity is greater than max_capacity"),
        ((1, 2, 0.0), "target_value: Input should be greater than 0"),
    ],
)
def test_invalid_scaling_spec(args: tuple[int, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InstanceAutoscaling(min_capacity=args[0], max_capacity=args[1], target_value=args[2])


def test_invalid_schedule() -> None:
    with pytest.raises(ValueError, match="min_capacity is greater than max_capacity"):
        ScheduledScaling(name="N", schedule="cron(0 1 * * ? *)", min_capacity=3, max_capacity=2)
    with pytest.raises(ValueError, match="schedule: 'cron\\(0 1 \\* \\* \\*\\)': "):
        ScheduledScaling(name="N", schedule="cron(0 1 * * *)", min_capacity=1, max_capacity=2)


def test_scheduled_max_within_the_autoscaling_max() -> None:
    night = ScheduledScaling(
        name="Night", schedule="cron(0 1 * * ? *)", min_capacity=1, max_capacity=5
    )
    with pytest.raises(
        ValueError, match=r"scheduled\[0\].max_capacity: 5 exceeds the autoscaling max_capacity 2"
    ):
        InstanceAutoscaling(min_capacity=1, max_capacity=2, target_value=1, scheduled=(night,))
