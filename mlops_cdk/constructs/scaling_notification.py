"""Scaled to the maximum: a service's topic hears when Application Auto Scaling takes one of its
variants or inference components to the most the scaling allows.

Past that point demand grows unanswered: Application Auto Scaling adds nothing beyond the
scalable target's ``MaxCapacity``, says so in no metric, and the first sign is latency and
errors. AWS's only scaling event is this one ("Monitor Application Auto Scaling events using
Amazon EventBridge", Application Auto Scaling User Guide,
https://docs.aws.amazon.com/autoscaling/application/userguide/monitoring-eventbridge.html):

- "Only events that are specific to scaled to max and API calls via CloudTrail are currently
  available for Application Auto Scaling"; "Events are produced on a best-effort basis";
- ``source`` ``aws.application-autoscaling``, ``detail-type`` ``Application Auto Scaling
  Scaling Activity State Change``; "In the detail object, the values for the resourceId,
  serviceNamespace, and scalableDimension attributes identify the scalable target. The values
  for the newDesiredCapacity and oldDesiredCapacity attributes refer to the new capacity after
  the scale-out event and the original capacity before the scale-out event. The maxCapacity is
  the scalable target's maximum size limit."

The rule matches the scalable targets given (``resource_ids``, as RegisterScalableTarget names
them: ``endpoint/<endpoint>/variant/<variant>``, ``inference-component/<name>``) in the
``sagemaker`` namespace, and its message names the target, the dimension and the capacities.
Delivery and its failures are :class:`~mlops_cdk.constructs.event_notification.EventToTopic`'s:
a dead-letter queue encrypted with ``key``, alarms on the rule's ``FailedInvocations`` and the
queue's depth (``watch``; the owner adds their actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.props.fields import checked_arguments

SOURCE = "aws.application-autoscaling"
DETAIL_TYPE = "Application Auto Scaling Scaling Activity State Change"
SERVICE_NAMESPACE = "sagemaker"


def scaled_to_max_pattern(resource_ids: Sequence[str]) -> dict[str, Any]:
    """The event pattern of ``resource_ids`` (scalable targets of SageMaker) scaled to max."""
    if not resource_ids or len(set(resource_ids)) != len(resource_ids):
        raise ValueError(
            "ScaledToMaxNotification: resource_ids lists no scalable target, or one twice"
        )
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"serviceNamespace": [SERVICE_NAMESPACE], "resourceId": sorted(resource_ids)},
    }


def scaled_to_max_message(service: str) -> events.RuleTargetInput:
    """What the topic receives: the target, its dimension and capacities, what to do."""
    field = events.EventField.from_path
    return events.RuleTargetInput.from_text(
        f"Service {service}: Application Auto Scaling scaled {field('$.detail.resourceId')} "
        f"({field('$.detail.scalableDimension')}) to its maximum, "
        f"{field('$.detail.maxCapacity')} (from {field('$.detail.oldDesiredCapacity')} to "
        f"{field('$.detail.newDesiredCapacity')}). It adds nothing more if demand keeps "
        "growing: raise the scaling maximum (and the account's instance quota, make "
        "preflight), or expect latency and errors to rise."
    )


class ScaledToMaxNotification(EventToTopic):
    """Notifies ``topic`` when Application Auto Scaling scales one of ``resource_ids`` (the
    scalable targets of service ``service``) to its maximum capacity: an
    :class:`~mlops_cdk.constructs.event_notification.EventToTopic` of
    :func:`scaled_to_max_pattern` and :func:`scaled_to_max_message`.

    Exposes ``pattern``, ``message``, ``rule``, ``dead_letters``, ``watch`` and ``alarms``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        resource_ids: Sequence[str],
        service: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        pattern = scaled_to_max_pattern(resource_ids)
        message = scaled_to_max_message(service)
        super().__init__(
            scope,
            construct_id,
            topic=topic,
            key=key,
            pattern=pattern,
            message=message,
            description=f"Scalable targets of service {service} scaled to their maximum",
            subject=f"Scaled-to-maximum notifications of {service}",
            sid="EventBridgeScaledToMax",
            replay="See docs/concepts/monitoring.md (Scaled to the maximum).",
            removal_policy=removal_policy,
        )
        self.pattern, self.message = pattern, message
