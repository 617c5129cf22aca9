"""VariantAutoscaling: scalable target, target tracking, schedules, service-linked role."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from mlops_cdk.constructs.autoscaling import ScalingSpec, ScheduledCapacity, VariantAutoscaling
from tests.helpers import new_stack

HIGH_RESOLUTION = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
SLR = (
    "arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling."
    "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def scaling_template(spec: ScalingSpec, kind: str = "instances") -> Template:
    stack = new_stack()
    VariantAutoscaling(
        stack,
        "Scaling",
        endpoint_name="ep",
        variant_name="champion",
        spec=spec,
        kind=kind,  # type: ignore[arg-type]
    )
    return Template.from_stack(stack)


def test_instance_count_target_tracking_with_cooldowns_and_schedule() -> None:
    spec = ScalingSpec(
        min_capacity=2,
        max_capacity=6,
        target_value=250,
        scale_in_cooldown_seconds=600,
        scale_out_cooldown_seconds=30,
        scheduled=[ScheduledCapacity("Night", "cron(0 20 ? * MON-FRI *)", 2, 2, "Europe/Dublin")],
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
    spec = ScalingSpec(1, 3, 5, metric="concurrent_requests_high_resolution")
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
    spec = ScalingSpec(1, 10, 0.7, metric="provisioned_concurrency_utilization")
    template = scaling_template(spec, kind="provisioned_concurrency")
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


def test_metric_must_match_kind() -> None:
    with pytest.raises(ValueError, match="provisioned concurrency scales on"):
        scaling_template(ScalingSpec(1, 2, 1), kind="provisioned_concurrency")


@pytest.mark.parametrize(
    ("args", "message"), [((3, 2, 1.0), "min_capacity <= max_capacity"), ((1, 2, 0.0), "> 0")]
)
def test_invalid_scaling_spec(args: tuple[int, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScalingSpec(*args)


def test_invalid_schedule() -> None:
    with pytest.raises(ValueError, match="min_capacity > max_capacity"):
        ScheduledCapacity("N", "cron(0 1 * * ? *)", 3, 2)
