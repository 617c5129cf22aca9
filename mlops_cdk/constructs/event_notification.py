"""An EventBridge rule that tells a (KMS-encrypted) topic about matching events:
:class:`EventToTopic`, shared by the approval notification
(:class:`~mlops_cdk.constructs.promotion.ApprovalNotification`) and the retraining pipeline's
failure notification (:meth:`~mlops_cdk.constructs.retraining_pipeline.RetrainingPipeline.
notify_failures`).

The rule's target is the topic, bound by ARN (:class:`~mlops_cdk.constructs.change_detection.
TopicTarget`), with a message built by an input transformer. A notification that cannot be
delivered goes to a dead-letter queue encrypted with ``key``; the rule's ``FailedInvocations``
and the queue's depth are alarms (:class:`~mlops_cdk.constructs.watch.FailureWatch`), without
actions: the owner adds them (``watch.notify``).

The topic policy and the queue policy admit events.amazonaws.com for this rule only
(``aws:SourceArn`` the rule, ``aws:SourceAccount`` the stack's account). The topic's key and
``key`` must let events.amazonaws.com use them (the Foundation's ``EventBridgeRulesToTopic`` and
``EventBridgeDeadLetters`` grants).

Logical ids: an owner that builds this under the id ``"Default"`` keeps the logical ids its
resources had when it built them itself (see :mod:`mlops_cdk.constructs.function`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge
from mlops_cdk.constructs.change_detection import TopicTarget
from mlops_cdk.constructs.function import failure_queue
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.props.fields import checked_arguments


class EventToTopic(Construct):
    """Sends ``message`` to ``topic`` for every event matching ``pattern`` (``source``,
    ``detail-type`` and ``detail`` as EventBridge reads them). ``description`` describes the
    rule, ``subject`` names the notification in its alarms, ``replay`` says where the operator
    reads how to replay undelivered events; ``sid`` prefixes the policy statements
    (``<sid>Publish`` on the topic, ``<sid>DeadLetters`` on the queue: unique per topic).

    Exposes ``rule``, ``dead_letters``, ``watch`` and ``alarms``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        pattern: Mapping[str, Any],
        message: events.RuleTargetInput,
        description: str,
        subject: str,
        sid: str,
        replay: str = "",
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = failure_queue(
            self, "DeadLetters", key=key, removal_policy=removal_policy
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=description,
            event_pattern=events.EventPattern(
                source=pattern["source"],
                detail_type=pattern["detail-type"],
                detail=pattern["detail"],
            ),
            targets=[TopicTarget(topic, message, self.dead_letters)],
        )
        self._admit_rule(topic, sid)
        self.watch = FailureWatch(
            self,
            "Watch",
            subject=subject,
            queues=[self.dead_letters],
            rules=[self.rule],
            replay=replay,
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the rule's target (the end of its retry "
            "chain); a dead-letter queue of its own would only move undelivered events again.",
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Failed invocations of the rule, and events waiting in the dead-letter queue."""
        return list(self.watch.alarms)

    def _admit_rule(self, topic: sns.ITopic, sid: str) -> None:
        """The topic and the dead-letter queue admit events.amazonaws.com for this rule only."""
        source = {
            "StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account},
            "ArnEquals": {"aws:SourceArn": self.rule.rule_arn},
        }
        events_principal = iam.ServicePrincipal("events.amazonaws.com")  # one object for both
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}Publish",
                principals=[events_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=source,
            )
        )
        self.dead_letters.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}DeadLetters",
                principals=[events_principal],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letters.queue_arn],
                conditions=source,
            )
        )
