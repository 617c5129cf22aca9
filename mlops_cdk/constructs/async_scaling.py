"""Autoscaling and alarms of an asynchronous endpoint's variant.

"Autoscale an asynchronous endpoint" (SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html):

- register the variant (``endpoint/<endpoint>/variant/<variant>``,
  ``sagemaker:variant:DesiredInstanceCount``) with ``MinCapacity`` 0 allowed: requests that
  arrive while no instance runs are queued;
- target tracking on the customized metric ``ApproximateBacklogSizePerInstance`` (namespace
  ``AWS/SageMaker``, dimension ``EndpointName``, statistic Average);
- an additional step scaling policy on ``HasBacklogWithoutCapacity``: without it the endpoint
  scales up from zero only once the backlog exceeds the tracking target.

Metric names: "Alarms and logs for tracking metrics from asynchronous endpoints"
(https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html), kept in
:mod:`mlops_cdk.aws.sagemaker_metrics`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from mlops_cdk.aws.facts import SAGEMAKER_NAMESPACE
from mlops_cdk.aws.sagemaker_metrics import (
    APPROXIMATE_AGE_OF_OLDEST_REQUEST,
    APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
    HAS_BACKLOG_WITHOUT_CAPACITY,
    INVOCATION_FAILURES,
    NOTIFICATION_FAILURES,
)
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.metrics import FIVE_MINUTES, ONE_MINUTE
from mlops_cdk.props.async_inference import AsyncAlarmKind, AsyncAlarms, AsyncScaling
from mlops_cdk.props.fields import checked_arguments

# Application Auto Scaling's service-linked role for SageMaker (created on first use).
_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
# The AWS example's wake-up policy: +1 instance while a backlog waits without capacity.
WAKE_COOLDOWN = FIVE_MINUTES


def endpoint_metric(
    endpoint_name: str,
    metric_name: str,
    statistic: str,
    period: cdk.Duration = ONE_MINUTE,
    variant_name: str | None = None,
) -> cloudwatch.Metric:
    """An ``AWS/SageMaker`` metric of an asynchronous endpoint (``EndpointName``, and
    ``VariantName`` for the per-variant ones)."""
    dimensions = {"EndpointName": endpoint_name}
    if variant_name is not None:
        dimensions["VariantName"] = variant_name
    return cloudwatch.Metric(
        namespace=SAGEMAKER_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period,
    )


class AsyncEndpointScaling(Construct):
    """Scalable target of the variant, target tracking on the backlog per instance, the step
    policy that wakes the endpoint from zero (whenever some bound lets it reach zero), and the
    scheduled bounds of ``spec``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        variant_name: str,
        spec: AsyncScaling,
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
        self.target = appscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=spec.min_capacity,
            max_capacity=spec.max_capacity,
            role=role,
        )
        if depends_on is not None:
            self.target.node.add_dependency(depends_on)
        self.tracking = self.target.scale_to_track_metric(
            "Backlog",
            target_value=spec.target_backlog_per_instance,
            custom_metric=endpoint_metric(
                endpoint_name, APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE, "Average"
            ),
            scale_in_cooldown=cdk.Duration.seconds(spec.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(spec.scale_out_cooldown_seconds),
        )
        self.wake = self._wake(endpoint_name) if spec.scales_to_zero else None
        for action in spec.scheduled:
            self.target.scale_on_schedule(
                action.name,
                schedule=appscaling.Schedule.expression(action.schedule),
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
                time_zone=cdk.TimeZone.of(action.time_zone),
            )

    def _wake(self, endpoint_name: str) -> appscaling.StepScalingPolicy:
        """+1 instance while ``HasBacklogWithoutCapacity`` is 1 (AWS's example policy)."""
        return self.target.scale_on_metric(
            "WakeFromZero",
            metric=endpoint_metric(endpoint_name, HAS_BACKLOG_WITHOUT_CAPACITY, "Maximum"),
            scaling_steps=[
                appscaling.ScalingInterval(lower=0, upper=1, change=0),
                appscaling.ScalingInterval(lower=1, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=WAKE_COOLDOWN,
            evaluation_periods=1,
        )


class AsyncEndpointAlarms(Construct):
    """Alarms of an asynchronous endpoint (``by_kind``): the oldest queued request is older
    than ``oldest_request_age_seconds``; ``failed_invocations`` or more invocations failed in
    5 minutes; a backlog waited without any instance for ``backlog_without_capacity_minutes``
    (the wake-up policy did not add one). With ``notifications`` (the endpoint has a success or
    error topic), ``notification_alarm``: SageMaker could not publish a notification in 5
    minutes (callers waiting for it never learn the result; not an invocation failure). No data
    (no traffic) is not breaching."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        variant_name: str,
        spec: AsyncAlarms,
        notifications: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.by_kind = self._kind_alarms(endpoint_name, variant_name, spec)
        self.notification_alarm = (
            self._notification_alarm(endpoint_name, variant_name) if notifications else None
        )
        self.all_alarms = [
            *self.by_kind.values(),
            *([self.notification_alarm] if self.notification_alarm else []),
        ]

    def _kind_alarms(
        self, endpoint_name: str, variant_name: str, spec: AsyncAlarms
    ) -> dict[AsyncAlarmKind, cloudwatch.Alarm]:
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        minutes = spec.backlog_without_capacity_minutes
        return {
            "oldest_request_age": cloudwatch.Alarm(
                self,
                "OldestRequestAge",
                alarm_description=f"{endpoint_name}: the oldest queued request is older than "
                f"{spec.oldest_request_age_seconds} s",
                metric=endpoint_metric(
                    endpoint_name, APPROXIMATE_AGE_OF_OLDEST_REQUEST, "Maximum", FIVE_MINUTES
                ),
                threshold=spec.oldest_request_age_seconds,
                evaluation_periods=1,
                treat_missing_data=not_breaching,
            ),
            "failed_invocations": cloudwatch.Alarm(
                self,
                "FailedInvocations",
                alarm_description=f"{endpoint_name}: {spec.failed_invocations} or more "
                "asynchronous invocations failed in 5 minutes",
                metric=endpoint_metric(
                    endpoint_name, INVOCATION_FAILURES, "Sum", FIVE_MINUTES, variant_name
                ),
                threshold=spec.failed_invocations,
                comparison_operator=at_least,
                evaluation_periods=1,
                treat_missing_data=not_breaching,
            ),
            "backlog_without_capacity": cloudwatch.Alarm(
                self,
                "BacklogWithoutCapacity",
                alarm_description=f"{endpoint_name}: requests waited {minutes} minutes without "
                "any instance to process them",
                metric=endpoint_metric(endpoint_name, HAS_BACKLOG_WITHOUT_CAPACITY, "Maximum"),
                threshold=1,
                comparison_operator=at_least,
                evaluation_periods=minutes,
                datapoints_to_alarm=minutes,
                treat_missing_data=not_breaching,
            ),
        }

    def _notification_alarm(self, endpoint_name: str, variant_name: str) -> cloudwatch.Alarm:
        # NotificationFailures: "When an issue occurs publishing notifications" (Count, Sum;
        # EndpointName and VariantName), "Alarms and logs for tracking metrics from asynchronous
        # endpoints", https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html.
        return cloudwatch.Alarm(
            self,
            "NotificationFailures",
            alarm_description=f"{endpoint_name}: SageMaker could not publish one or more "
            "success or error notifications in 5 minutes (the topics' key policy or the "
            "execution role's sns:Publish); callers waiting for them never learn the result",
            metric=endpoint_metric(
                endpoint_name, NOTIFICATION_FAILURES, "Sum", FIVE_MINUTES, variant_name
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def for_kinds(self, kinds: tuple[AsyncAlarmKind, ...]) -> list[cloudwatch.Alarm]:
        return [self.by_kind[kind] for kind in kinds]
