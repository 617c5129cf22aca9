"""Approval -> promotion: when a version of a service's model package group is approved, its
alarm topic receives the exact command that writes the reviewed configuration change.

Facts this relies on (SageMaker developer guide, "Events that Amazon SageMaker AI sends to
Amazon EventBridge", section "Model package state change",
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package):

- SageMaker sends ``source`` ``aws.sagemaker``, ``detail-type`` ``SageMaker Model Package
  State Change`` to the default event bus, with ``detail.ModelPackageGroupName``,
  ``detail.ModelPackageVersion`` (a number), ``detail.ModelPackageArn`` and
  ``detail.ModelApprovalStatus`` (``Approved`` | ``Rejected`` | ``PendingManualApproval``, API
  reference ModelPackageSummary). "Get event notifications for ModelLifeCycle"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct-event-bridge.html)
  uses the same source and detail-type.
- "SageMaker AI may send multiple events to EventBridge for each state change": a version may
  be announced twice; promoting it twice is refused by ``make promote`` (the model exists).

Nothing here promotes anything: the notification carries the command
``make promote ENV=<env> SERVICE=<service> VERSION=<version>``, which writes the configuration
change for a pull request (review report, gates, pipeline). A notification that cannot be
delivered goes to a dead-letter queue (encrypted with the environment key), and the rule's
``FailedInvocations`` and the queue's depth are alarms, as for
:class:`~mlops_cdk.constructs.change_detection.EndpointChangeRule` (the rule, queue and alarms:
:class:`~mlops_cdk.constructs.event_notification.EventToTopic`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.model_package_events import approval_event_pattern, promotion_command
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.props.fields import checked_arguments

__all__ = ["ApprovalNotification", "approval_event_pattern", "promotion_command"]


class ApprovalNotification(Construct):
    """Notifies ``topic`` when a version of ``group_name`` is approved, with the promotion
    command of environment ``env`` and service ``service`` (the version from the event).

    The topic policy lets events.amazonaws.com publish for this rule only; an encrypted topic's
    key, and ``key`` (which encrypts the dead-letter queue ``dead_letters``), must let
    events.amazonaws.com use them. ``watch`` holds the alarms (failed invocations, events
    waiting in the dead-letter queue), without actions: ``alarms`` lists them for the owner."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        group_name: str,
        env: str,
        service: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pattern = approval_event_pattern(group_name)
        detail = events.EventField.from_path
        version = detail("$.detail.ModelPackageVersion")
        self.message = events.RuleTargetInput.from_text(
            f"Model package {detail('$.detail.ModelPackageArn')} (version {version} of "
            f"{group_name}) was approved. Promote it to {env}/{service} through a reviewed "
            f"change: {promotion_command(env, service, version)} (adds a model pinned to the "
            "package and a canary, or points the shadow variant at it), then open a pull "
            "request."
        )
        # "Default": the rule, queue and alarms keep the logical ids they had when this
        # construct built them itself.
        self.notification = EventToTopic(
            self,
            "Default",
            topic=topic,
            key=key,
            pattern=self.pattern,
            message=self.message,
            description=f"Approved versions of model package group {group_name}",
            subject=f"Approval notifications of {group_name}",
            sid="EventBridgeApprovalRule",
            replay="See docs/concepts/model-packages.md (Approval notification).",
            removal_policy=removal_policy,
        )
        self.rule, self.dead_letters = self.notification.rule, self.notification.dead_letters
        self.watch = self.notification.watch

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Failed invocations of the rule, and events waiting in the dead-letter queue."""
        return list(self.watch.alarms)
