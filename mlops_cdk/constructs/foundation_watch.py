"""The foundation watch: the people who own an environment hear when someone disables the KMS key
everything in it is encrypted with, schedules the key's deletion, or stops or deletes the trail
the change-detection rules depend on, through a topic that depends on neither.

**The key.** While a key is disabled or pending deletion, nothing can encrypt or decrypt with it:
DisableKey "temporarily prevents use of the KMS key for cryptographic operations" (DisableKey, AWS
KMS API Reference), and the key state table marks every cryptographic operation as failing for
``Disabled`` and ``PendingDeletion`` keys ("Key states of AWS KMS keys", AWS KMS Developer Guide,
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html). For an environment that
means: SageMaker cannot read model archives (SSE-KMS) to create models or scale out, data capture
and the drift, quality and retraining functions cannot write, and **every alarm topic encrypted
with that key stops delivering**: no other alarm reaches anyone. A scheduled deletion waits 7 to
30 days and can be cancelled in that time ("Schedule key deletion"); "After you cancel the
pending deletion of a KMS key, the key state of the KMS key is Disabled" ("Cancel key
deletion"): it must be enabled again. Both calls take the key by key ID or key ARN only
(DisableKey, ScheduleKeyDeletion API reference: "Specify the key ID or key ARN of the KMS key"),
so ``requestParameters.keyId`` is matched against both.

**The trail.** EventBridge receives "AWS API Call via CloudTrail" events only while a trail logs
the account's management events ("AWS service events delivered via AWS CloudTrail", EventBridge
User Guide): a stopped or deleted trail leaves every change-detection rule (and this watch)
silent, and preflight reads the trail only at deploy time. StopLogging "is the only way to stop
recording"; it and DeleteTrail take the trail's "name or the CloudTrail ARN" (CloudTrail API
reference), matched against both.

So the notifications go to a topic encrypted with a key of its own (:class:`EncryptionKey`, one
more key: 1 USD a month), and their dead-letter queues too. Each rule matches CloudTrail's
records (``source`` ``aws.kms`` or ``aws.cloudtrail``, ``detail-type`` ``AWS API Call via
CloudTrail``); a call that returned an error changed nothing and carries ``errorCode``
("CloudTrail record contents"): left out. The owner deploys this where the trail is known
(``change_detection``).

Not covered: this watch's own key (a notification about it could not be delivered), keys and
trails CloudFormation deletes with their stack (the rules, which name them, go first), a trail of
another account (an organization trail's StopLogging is called in the management account) or of
another home Region (StopLogging of a multi-Region trail "must be called from the Region in
which the trail was created"), and changes that narrow a trail's event selectors (``make
preflight`` reads those).
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
WATCHED_TRAIL_CALLS = ("StopLogging", "DeleteTrail")


def _api_calls(service: str, names: Sequence[str], parameter: str, values: list[str]) -> Any:
    """CloudTrail's successful ``names`` calls to ``service`` whose request ``parameter`` is
    one of ``values``."""
    return {
        "source": [f"aws.{service}"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": [f"{service}.amazonaws.com"],
            "eventName": list(names),
            "errorCode": [{"exists": False}],
            "requestParameters": {parameter: values},
        },
    }


def key_state_pattern(keys: Sequence[kms.IKey]) -> dict[str, Any]:
    """CloudTrail's successful ``DisableKey`` and ``ScheduleKeyDeletion`` calls on ``keys``
    (named by key ID or key ARN)."""
    if not keys:
        raise ValueError("FoundationWatch: keys names no key to watch")
    values = [value for key in keys for value in (key.key_id, key.key_arn)]
    pattern: dict[str, Any] = _api_calls("kms", WATCHED_KEY_CALLS, "keyId", values)
    return pattern


def trail_state_pattern(trail_names: Sequence[str]) -> dict[str, Any]:
    """CloudTrail's successful ``StopLogging`` and ``DeleteTrail`` calls on the trail known by
    ``trail_names`` (its name and ARN)."""
    if not trail_names or len(set(trail_names)) != len(trail_names):
        raise ValueError("FoundationWatch: trail_names names no trail, or one name twice")
    pattern: dict[str, Any] = _api_calls(
        "cloudtrail", WATCHED_TRAIL_CALLS, "name", list(trail_names)
    )
    return pattern


def _who_when(environment: str, what: str, target: str) -> str:
    field = events.EventField.from_path
    return (
        f"Environment {environment}: {field('$.detail.eventName')} on {what} {target} by "
        f"{field('$.detail.userIdentity.arn')} at {field('$.time')}."
    )


def key_state_message(environment: str) -> events.RuleTargetInput:
    """What the topic receives: who did what to which key, what stops, and how to undo it."""
    key = events.EventField.from_path("$.detail.requestParameters.keyId")
    return events.RuleTargetInput.from_text(
        f"{_who_when(environment, 'KMS key', key)} While the key is disabled or pending "
        "deletion nothing can encrypt or decrypt with it: models cannot be read or scale out, "
        "functions and data capture cannot write, and the environment's alarm topics cannot "
        "deliver any other alarm. Undo it: after a scheduled deletion, aws kms "
        f"cancel-key-deletion --key-id {key}; then aws kms enable-key --key-id {key}."
    )


def trail_state_message(environment: str) -> events.RuleTargetInput:
    """What the topic receives: who stopped or deleted the trail, what goes silent, what to do."""
    trail = events.EventField.from_path("$.detail.requestParameters.name")
    return events.RuleTargetInput.from_text(
        f"{_who_when(environment, 'CloudTrail trail', trail)} Without the trail logging, "
        "EventBridge gets no API call events: the services' change-detection rules and this "
        "watch hear nothing. Restart it: aws cloudtrail start-logging --name "
        f"{trail}; a deleted trail must be created again. make preflight ENV={environment} "
        "checks it (change-trail)."
    )


class FoundationWatch(Construct):
    """Tells ``emails`` (subscribed to ``topic``, an :class:`AlarmTopic` encrypted with a key of
    this construct, ``encryption``) when someone disables one of ``keys`` or schedules its
    deletion (``key_notification``), or stops or deletes the trail known by ``trail_names``
    (``trail_notification``, when given) in ``environment``. Each is an :class:`EventToTopic`
    whose dead-letter queue uses the same key of its own and whose alarms notify the same topic.

    Exposes ``encryption``, ``topic``, ``key_notification``, ``trail_notification`` and
    ``alarms``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        keys: Sequence[kms.IKey],
        environment: str,
        emails: Sequence[str] = (),
        trail_names: Sequence[str] = (),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        key_pattern = key_state_pattern(keys)
        trail_pattern = trail_state_pattern(trail_names) if trail_names else None
        super().__init__(scope, construct_id)
        self._removal_policy = removal_policy
        self.encryption = EncryptionKey(
            self,
            "Encryption",
            alias=f"alias/mlops/{environment}-foundation-watch",
            description=f"Foundation-watch notifications of the {environment} environment",
            removal_policy=removal_policy,
        )
        for service, sid, topics in (
            ("cloudwatch.amazonaws.com", "CloudWatchAlarmsToTopic", True),
            ("events.amazonaws.com", "EventBridgeRulesToTopic", True),
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
            display_name=f"Foundation watch ({environment})",
        )
        self.key_notification = self._notification(
            "Keys", "key", key_pattern, key_state_message(environment), environment
        )
        self.trail_notification = (
            None
            if trail_pattern is None
            else self._notification(
                "Trail", "trail", trail_pattern, trail_state_message(environment), environment
            )
        )

    def _notification(
        self,
        construct_id: str,
        what: str,
        pattern: dict[str, Any],
        message: events.RuleTargetInput,
        environment: str,
    ) -> EventToTopic:
        """One rule to the topic (``what``: the key or the trail), its delivery alarms
        notifying the same topic."""
        notification = EventToTopic(
            self,
            construct_id,
            topic=self.topic.topic,
            key=self.encryption.key,
            pattern=pattern,
            message=message,
            description=f"The {environment} environment's {what} disabled, stopped or deleted",
            subject=f"Foundation-watch {what} notifications of {environment}",
            sid=f"EventBridge{what.title()}State",
            replay="See docs/concepts/monitoring.md (The foundation watch).",
            removal_policy=self._removal_policy,
        )
        notification.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return notification

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """The notifications' delivery alarms."""
        notifications = [self.key_notification, self.trail_notification]
        return [alarm for n in notifications if n is not None for alarm in n.alarms]
