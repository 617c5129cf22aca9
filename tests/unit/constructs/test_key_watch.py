"""The key watch: its rule's pattern against CloudTrail's documented ScheduleKeyDeletion record
(matched with moto's EventBridge patterns), the message EventBridge builds from it, and the
topic, dead-letter queue and alarms that depend on a key of their own, never the watched one."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.key_watch import KeyStateWatch
from tests.helpers import delivered_message, new_stack, resources_of_type

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}"


def kms_call(name: str = "ScheduleKeyDeletion", key_id: str = KEY_ID, **detail: Any) -> Any:
    """A CloudTrail record as EventBridge delivers it, shaped as the KMS Developer Guide's
    ScheduleKeyDeletion example ("ScheduleKeyDeletion", CloudTrail log entries)."""
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/Alice"},
        "eventTime": "2026-12-05T18:58:30Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "requestParameters": {"pendingWindowInDays": 20, "keyId": key_id},
        "readOnly": False,
        "eventType": "AwsApiCall",
    }
    record.update(detail)
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": "123456789012",
        "time": "2026-12-05T18:58:31Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": record,
    }


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], KeyStateWatch]:
    stack = new_stack()
    watched = kms.Key.from_key_arn(stack, "Watched", KEY_ARN)
    watch = KeyStateWatch(
        stack,
        "KeyWatch",
        keys=[watched],
        environment="prod",
        emails=["ml-oncall@example.com"],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack).to_json(), watch


@pytest.fixture(scope="module")
def pattern(built: tuple[dict[str, Any], KeyStateWatch]) -> EventPattern:
    ((_, rule),) = resources_of_type(built[0], "AWS::Events::Rule").items()
    return EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))


@pytest.mark.parametrize("name", ["ScheduleKeyDeletion", "DisableKey"])
@pytest.mark.parametrize("key_id", [KEY_ID, KEY_ARN])
def test_disabling_or_deleting_the_key_by_id_or_arn_matches(
    pattern: EventPattern, name: str, key_id: str
) -> None:
    assert pattern.matches_event(kms_call(name, key_id))


@pytest.mark.parametrize(
    "event",
    [
        kms_call("EnableKey"),
        kms_call("CancelKeyDeletion"),
        kms_call(key_id="99999999-12ab-34cd-56ef-1234567890ab"),  # another key
        kms_call(errorCode="AccessDeniedException"),  # refused: nothing changed
    ],
    ids=["enable", "cancel", "another key", "refused"],
)
def test_other_calls_keys_and_refused_calls_do_not_match(
    pattern: EventPattern, event: dict[str, Any]
) -> None:
    assert not pattern.matches_event(event)


def test_the_message_says_who_did_what_and_how_to_undo_it(
    built: tuple[dict[str, Any], KeyStateWatch],
) -> None:
    ((_, rule),) = resources_of_type(built[0], "AWS::Events::Rule").items()
    (target,) = rule["Properties"]["Targets"]
    text = delivered_message(target, kms_call())
    assert text.startswith(
        f"Environment prod: ScheduleKeyDeletion on KMS key {KEY_ID} by "
        "arn:aws:iam::123456789012:user/Alice at 2026-12-05T18:58:31Z."
    )
    assert text.endswith(
        f"aws kms cancel-key-deletion --key-id {KEY_ID}; then aws kms enable-key --key-id {KEY_ID}."
    )
    assert "DeadLetterConfig" in target


def test_topic_queue_and_alarms_use_the_watchs_own_key(
    built: tuple[dict[str, Any], KeyStateWatch],
) -> None:
    template, watch = built
    ((key_id, key),) = resources_of_type(template, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    (queue,) = resources_of_type(template, "AWS::SQS::Queue").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    granted = {
        (s["Sid"], s["Principal"].get("Service"))
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(s.get("Principal"), dict)
    }
    assert {
        ("CloudWatchAlarmsToTopic", "cloudwatch.amazonaws.com"),
        ("EventBridgeRuleToTopic", "events.amazonaws.com"),
        ("EventBridgeDeadLetters", "events.amazonaws.com"),
    } <= granted
    ((topic_id, _),) = resources_of_type(template, "AWS::SNS::Topic").items()
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    assert len(watch.alarms) == 2
    assert [a["Properties"]["AlarmActions"] for a in alarms] == [[{"Ref": topic_id}]] * 2
    (subscription,) = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ml-oncall@example.com"


def test_a_key_of_the_stack_is_matched_by_its_id_and_arn() -> None:
    stack = new_stack()
    watched = kms.Key(stack, "Watched")
    KeyStateWatch(stack, "KeyWatch", keys=[watched], environment="stage")
    template = Template.from_stack(stack).to_json()
    ((watched_id, _),) = [
        (k, r)
        for k, r in resources_of_type(template, "AWS::KMS::Key").items()
        if k.startswith("Watched")
    ]
    ((_, rule),) = resources_of_type(template, "AWS::Events::Rule").items()
    assert rule["Properties"]["EventPattern"]["detail"]["requestParameters"]["keyId"] == [
        {"Ref": watched_id},
        {"Fn::GetAtt": [watched_id, "Arn"]},
    ]


def test_no_key_to_watch_is_refused() -> None:
    with pytest.raises(ValueError, match="keys names no key to watch"):
        KeyStateWatch(new_stack(), "KeyWatch", keys=[], environment="prod")


def test_a_bad_address_is_one_line() -> None:
    stack = new_stack()
    watched = kms.Key.from_key_arn(stack, "Watched", KEY_ARN)
    with pytest.raises(ValueError, match="emails"):
        KeyStateWatch(stack, "KeyWatch", keys=[watched], environment="prod", emails=["not-mail"])


def test_events_of_another_source_do_not_match(pattern: EventPattern) -> None:
    event = copy.deepcopy(kms_call())
    event["source"] = "aws.cloudtrail"
    assert not pattern.matches_event(event)
