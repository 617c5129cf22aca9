"""Autoscaling for one production variant: instance count, or serverless provisioned concurrency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

# Application Auto Scaling's service-linked role for SageMaker (created by the service on
# first use): no project-managed role or policy is needed.
_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)

_METRICS: dict[str, appscaling.PredefinedMetric] = {
    "invocations_per_instance": (
        appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE
    ),
    "concurrent_requests_high_resolution": (
        appscaling.PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION
    ),
    "provisioned_concurrency_utilization": (
        appscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION
    ),
}
_DIMENSIONS = {
    "instances": "sagemaker:variant:DesiredInstanceCount",
    "provisioned_concurrency": "sagemaker:variant:DesiredProvisionedConcurrency",
}


@dataclass(frozen=True)
class ScheduledCapacity:
    """Bounds applied on a cron schedule (e.g. scale down outside working hours)."""

    name: str
    cron: str  # cron(min hour day-of-month month day-of-week year)
    min_capacity: int
    max_capacity: int
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"scheduled action {self.name}: min_capacity > max_capacity")


@dataclass(frozen=True)
class ScalingSpec:
    min_capacity: int
    max_capacity: int
    target_value: float
    metric: Literal[
        "invocations_per_instance",
        "concurrent_requests_high_resolution",
        "provisioned_concurrency_utilization",
    ] = "invocations_per_instance"
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    scheduled: Sequence[ScheduledCapacity] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.min_capacity <= self.max_capacity:
            raise ValueError("autoscaling: need 1 <= min_capacity <= max_capacity")
        if self.target_value <= 0:
            raise ValueError("autoscaling: target_value must be > 0")


class VariantAutoscaling(Construct):
    """Scalable target ``endpoint/<endpoint>/variant/<variant>`` with target tracking and
    optional scheduled actions. ``kind`` selects the dimension: instance count, or provisioned
    concurrency of a serverless variant."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_name: str,
        spec: ScalingSpec,
        kind: Literal["instances", "provisioned_concurrency"] = "instances",
        depends_on: IDependable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if (kind == "provisioned_concurrency") != (
            spec.metric == "provisioned_concurrency_utilization"
        ):
            raise ValueError(
                "VariantAutoscaling: provisioned concurrency scales on "
                "provisioned_concurrency_utilization, instances on invocations or concurrency"
            )
        stack = cdk.Stack.of(self)
        role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            stack.format_arn(
                service="iam", region="", resource="role", resource_name=_SERVICE_LINKED_ROLE
            ),
            mutable=False,
        )
        self.target = appscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension=_DIMENSIONS[kind],
            min_capacity=spec.min_capacity,
            max_capacity=spec.max_capacity,
            role=role,
        )
        if depends_on is not None:
            self.target.node.add_dependency(depends_on)
        self.policy = self.target.scale_to_track_metric(
            "Tracking",
            target_value=spec.target_value,
            predefined_metric=_METRICS[spec.metric],
            scale_in_cooldown=cdk.Duration.seconds(spec.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(spec.scale_out_cooldown_seconds),
        )
        for action in spec.scheduled:
            self.target.scale_on_schedule(
                action.name,
                schedule=appscaling.Schedule.expression(action.cron),
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
                time_zone=cdk.TimeZone.of(action.time_zone),
            )
