"""Autoscaling for one production variant: instance count, or serverless provisioned concurrency."""

from __future__ import annotations

from functools import cache

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from mlops_cdk.aws.variant_facts import describe_detection, scale_out_detection_seconds
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.scaling import (
    InstanceAutoscaling,
    ProvisionedConcurrencyScaling,
    ScheduledScaling,
)

__all__ = [
    "InstanceAutoscaling",
    "ProvisionedConcurrencyScaling",
    "ScheduledScaling",
    "VariantAutoscaling",
]

# Application Auto Scaling's service-linked role for SageMaker (created by the service on
# first use): no project-managed role or policy is needed.
_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)

_INSTANCE_METRICS: dict[str, appscaling.PredefinedMetric] = {
    "invocations_per_instance": (
        appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE
    ),
    "concurrent_requests_high_resolution": (
        appscaling.PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION
    ),
}
# A Duration is an immutable value: one per number of seconds, shared by every policy (making
# one is a jsii round trip; services mostly use the same cooldowns).
_seconds = cache(cdk.Duration.seconds)

_INSTANCES = "sagemaker:variant:DesiredInstanceCount"
_PROVISIONED_CONCURRENCY = "sagemaker:variant:DesiredProvisionedConcurrency"


class VariantAutoscaling(Construct):
    """Scalable target ``endpoint/<endpoint>/variant/<variant>`` with target tracking and
    optional scheduled actions. The type of ``scaling`` selects the dimension and metric:
    :class:`InstanceAutoscaling` scales the instance count on its ``metric``,
    :class:`ProvisionedConcurrencyScaling` a serverless variant's provisioned concurrency on
    its utilization (``target_utilization``).

    On instances, ``scale_out_detection_seconds`` is how long a load increase must last before
    the policy scales out, as the template implies it (the metric's period times the datapoints
    the scale-out alarm needs: :mod:`mlops_cdk.aws.variant_facts`), also a stack output
    ``ScaleOutDetection``; None for provisioned concurrency."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        variant_name: str,
        scaling: InstanceAutoscaling | ProvisionedConcurrencyScaling,
        depends_on: IDependable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            stack.format_arn(
                service="iam", region="", resource="role", resource_name=_SERVICE_LINKED_ROLE
            ),
            mutable=False,
        )
        on_instances = isinstance(scaling, InstanceAutoscaling)
        self.target = appscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension=_INSTANCES if on_instances else _PROVISIONED_CONCURRENCY,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            role=role,
        )
        if depends_on is not None:
            self.target.node.add_dependency(depends_on)
        self.policy = self._tracking(scaling)
        self.scale_out_detection_seconds: int | None = None
        if isinstance(scaling, InstanceAutoscaling):
            self.scale_out_detection_seconds = scale_out_detection_seconds(scaling.metric)
            cdk.CfnOutput(
                self,
                "ScaleOutDetection",
                value=f"{variant_name}: {describe_detection(scaling.metric)}",
                description=f"How long a load increase on variant {variant_name} lasts before "
                "target tracking scales out (excludes instance start-up)",
            )
        for action in scaling.scheduled if isinstance(scaling, InstanceAutoscaling) else ():
            self._scheduled(action)

    def _tracking(
        self, scaling: InstanceAutoscaling | ProvisionedConcurrencyScaling
    ) -> appscaling.TargetTrackingScalingPolicy:
        if isinstance(scaling, InstanceAutoscaling):
            target, metric = scaling.target_value, _INSTANCE_METRICS[scaling.metric]
        else:
            target = scaling.target_utilization
            metric = (
                appscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION
            )
        return self.target.scale_to_track_metric(
            "Tracking",
            target_value=target,
            predefined_metric=metric,
            scale_in_cooldown=_seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=_seconds(scaling.scale_out_cooldown_seconds),
        )

    def _scheduled(self, action: ScheduledScaling) -> None:
        self.target.scale_on_schedule(
            action.name,
            schedule=appscaling.Schedule.expression(action.schedule),
            min_capacity=action.min_capacity,
            max_capacity=action.max_capacity,
            time_zone=cdk.TimeZone.of(action.time_zone),
        )
