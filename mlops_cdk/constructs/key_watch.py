"""Key state: the people who own an environment hear when someone disables the KMS key everything
in it is encrypted with, or schedules the key's deletion, through a topic that does not depend on
that key.

While a key is disabled or pending deletion, nothing can encrypt or decrypt with it: DisableKey
"temporarily prevents use of the KMS key for cryptographic operations" (DisableKey, AWS KMS API
Reference), and the key state table marks every cryptographic operation as failing for
``Disabled`` and ``PendingDeletion`` keys ("Key states of AWS KMS keys", AWS KMS Developer Guide,
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html). For an environment
that means: SageMaker cannot read model archives (SSE-KMS) to create models or scale out, data
capture and the drift, quality and retraining functions cannot write, and **every alarm topic
encrypted with that key stops delivering**: no other alarm reaches anyone. A scheduled deletion
waits 7 to 30 days and can be cancelled in that time ("Schedule key deletion"); "After you
cancel the pending deletion of a KMS key, the key state of the KMS key is Disabled" ("Cancel key
deletion"): it must be enabled again.

So the notification goes to a topic encrypted with a key of its own (:class:`EncryptionKey`, one
more key: 1 USD a month), and its dead-letter queue too. The rule matches CloudTrail's records of
``DisableKey`` and ``ScheduleKeyDeletion`` for the watched keys (``source`` ``aws.kms``, ``detail-
type`` ``AWS API Call via CloudTrail``, "AWS Key Management Service events", EventBridge events
reference); both take the key by key ID or key ARN only (DisableKey, ScheduleKeyDeletion API
reference: "Specify the key ID or key ARN of the KMS key"), so ``requestParameters.keyId`` is
matched against both. A call that returned an error changed nothing and carries ``errorCode``
("CloudTrail record contents"): left out. EventBridge receives these events only while a trail
logs the account's management events ("AWS service events delivered via AWS CloudTrail"): the
owner deploys this where the environment's trail is known (``change_detection``).

Not covered: this watch's own key (a notification about it could not be delivered), and keys
deleted by CloudFormation when their stack is deleted (the rule, which names the key, goes first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.props.fields import checked_arguments

WATCHED_KEY_CALLS = ("DisableKey", "ScheduleKeyDeletion")


def key_state_pattern(keys: Sequence[kms.IKey]) -> dict[str, Any]:
    """CloudTrail's successful ``DisableKey`` and ``ScheduleKeyDeletion`` calls on ``keys``
    (named by key ID or key ARN)."""
    if not keys:
        raise ValueError("KeyStateWatch: keys names no key to watch")
    return {
        "source": ["aws.kms"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": list(WATCHED_KEY_CALLS),
            "errorCode": [{"exists": False}],
            "requestParameters": {
                "keyId": [value for key in keys for value in (key.key_id, key.key_arn)]
            },
        },
    }


def key_state_message(environment: str) -> events.RuleTargetInput:
    """What the topic receives: who did what to which key, what stops, and how to undo it."""
    field = events.EventField.from_path
    key = field("$.detail.requestParameters.keyId")
    return events.RuleTargetInput.from_text(
        f"Environment {environment}: {field('$.detail.eventName')} on KMS key {key} by "
        f"{field('$.detail.userIdentity.arn')} at {field('$.time')}. While the key is disabled "
        "or pending deletion nothing can encrypt or decrypt with it: models cannot be read or "
        "scale out, functions and data capture cannot write, and the environment's alarm "
        "topics cannot deliver any other alarm. Undo it: after a scheduled deletion, aws kms "
        f"cancel-key-deletion --key-id {key}; then aws kms enable-key --key-id {key}."
    )


class KeyStateWatch(Construct):
    """Tells ``emails`` (subscribed to ``topic``, an :class:`AlarmTopic` encrypted with a key of
    this construct, ``encryption``) when someone disables one of ``keys`` or schedules its
    deletion in ``environment``: an :class:`EventToTopic` of :func:`key_state_pattern` and
    :func:`key_state_message`, its dead-letter queue encrypted with the same key of its own,
    its alarms (``FailedInvocations``, the queue's depth) notifying the same topic.

    Exposes ``encryption``, ``topic``, ``notification`` and ``alarms``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        keys: Sequence[kms.IKey],
        environment: str,
        emails: Sequence[str] = (),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        pattern = key_state_pattern(keys)
        super().__init__(scope, construct_id)
        self.encryption = EncryptionKey(
            self,
            "Encryption",
            alias=f"alias/mlops/{environment}-key-watch",
            description=f"Key-state notifications of the {environment} environment",
            removal_policy=removal_policy,
        )
        for service, sid, topics in (
            ("cloudwatch.amazonaws.com", "CloudWatchAlarmsToTopic", True),
            ("events.amazonaws.com", "EventBridgeRuleToTopic", True),
            ("events.amazonaws.com", "EventBridgeDeadLetters", False),
        ):
            self.encryption.grant_service_use(
                service, sid=sid, for_sns_topics=topics, for_sqs_queues=not topics
            )
        self.topic = AlarmTopic(
            self,
            "Topic",
            key=self.encryption.key,
            emails=emails,
            display_name=f"KMS key state ({environment})",
        )
        self.notification = EventToTopic(
            self,
            "Notification",
            topic=self.topic.topic,
            key=self.encryption.key,
            pattern=pattern,
            message=key_state_message(environment),
            description=f"The {environment} environment's key disabled or scheduled for deletion",
            subject=f"Key-state notifications of {environment}",
            sid="EventBridgeKeyState",
            replay="See docs/concepts/monitoring.md (The environment key).",
            removal_policy=removal_policy,
        )
        self.notification.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """The notification's delivery alarms."""
        return self.notification.alarms
