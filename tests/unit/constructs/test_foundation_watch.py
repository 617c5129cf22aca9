"""The foundation watch: its rules' patterns against CloudTrail's records of ScheduleKeyDeletion
(the KMS Developer Guide's example), DisableKey, StopLogging and DeleteTrail (matched with moto's
EventBridge patterns), the messages EventBridge builds from them, and the topic, dead-letter
queues and alarms that depend on a key of their own, never the watched one."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.foundation_watch import FoundationWatch, trail_state_pattern
from tests.helpers import delivered_message, new_stack, resources_of_type

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}"


TRAIL = "mlops-prod-changes"
TRAIL_ARN = f"arn:aws:cloudtrail:eu-west-1:123456789012:trail/{TRAIL}"


def kms_call(name: str = "ScheduleKeyDeletion", key_id: str = KEY_ID, **detail: Any) -> Any:
    """A CloudTrail record as EventBridge delivers it, shaped as the KMS Developer Guide's
    ScheduleKeyDeletion example ("ScheduleKeyDeletion", CloudTrail log entries)."""
    parameters = {"pendingWindowInDays": 20, "keyId": key_id}
    return api_call("kms", name, parameters, **detail)


def trail_call(name: str = "StopLogging", trail: str = TRAIL, **detail: Any) -> Any:
    """CloudTrail's record of a call to itself (StopLogging and DeleteTrail take ``Name``)."""
    return api_call("cloudtrail", name, {"name": trail}, **detail)


def api_call(service: str, name: str, parameters: dict[str, Any], **detail: Any) -> Any:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/Alice"},
        "eventTime": "2026-12-05T18:58:30Z",
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "requestParameters": parameters,
        "readOnly": False,
        "eventType": "AwsApiCall",
    }
    record.update(detail)
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": "123456789012",
        "time": "2026-12-05T18:58:31Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": record,
    }


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], FoundationWatch]:
    stack = new_stack()
    watched = kms.Key.from_key_arn(stack, "Watched", KEY_ARN)
    watch = FoundationWatch(
        stack,
        "Watch",
        keys=[watched],
        environment="prod",
        emails=["ml-oncall@example.com"],
        trail_names=[TRAIL, TRAIL_ARN],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack).to_json(), watch


def rule_of(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    ((_, rule),) = [
        (k, r)
        for k, r in resources_of_type(template, "AWS::Events::Rule").items()
        if k.startswith(prefix)
    ]
    return rule


@pytest.fixture(scope="module")
def pattern(built: tuple[dict[str, Any], FoundationWatch]) -> EventPattern:
    rule = rule_of(built[0], "WatchKeys")
    return EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))


@pytest.fixture(scope="module")
def trail_pattern(built: tuple[dict[str, Any], FoundationWatch]) -> EventPattern:
    rule = rule_of(built[0], "WatchTrail")
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
    built: tuple[dict[str, Any], FoundationWatch],
) -> None:
    (target,) = rule_of(built[0], "WatchKeys")["Properties"]["Targets"]
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
    built: tuple[dict[str, Any], FoundationWatch],
) -> None:
    template, watch = built
    ((key_id, key),) = resources_of_type(template, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    queues = resources_of_type(template, "AWS::SQS::Queue").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert len(queues) == 2  # the keys' rule's and the trail's
    for queue in queues:
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    granted = {
        (s["Sid"], s["Principal"].get("Service"))
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(s.get("Principal"), dict)
    }
    assert {
        ("CloudWatchAlarmsToTopic", "cloudwatch.amazonaws.com"),
        ("EventBridgeRulesToTopic", "events.amazonaws.com"),
        ("EventBridgeDeadLetters", "events.amazonaws.com"),
    } <= granted
    ((topic_id, _),) = resources_of_type(template, "AWS::SNS::Topic").items()
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    assert len(watch.alarms) == 4  # per rule: failed invocations, dead letters waiting
    assert [a["Properties"]["AlarmActions"] for a in alarms] == [[{"Ref": topic_id}]] * 4
    (subscription,) = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ml-oncall@example.com"


def test_a_key_of_the_stack_is_matched_by_its_id_and_arn() -> None:
    stack = new_stack()
    watched = kms.Key(stack, "Watched")
    watch = FoundationWatch(stack, "Watch", keys=[watched], environment="stage")
    assert watch.trail_notification is None  # no trail named: no trail rule
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
        FoundationWatch(new_stack(), "Watch", keys=[], environment="prod")


def test_a_bad_address_is_one_line() -> None:
    stack = new_stack()
    watched = kms.Key.from_key_arn(stack, "Watched", KEY_ARN)
    with pytest.raises(ValueError, match="emails"):
        FoundationWatch(stack, "Watch", keys=[watched], environment="prod", emails=["not-mail"])


def test_events_of_another_source_do_not_match(pattern: EventPattern) -> None:
    event = copy.deepcopy(kms_call())
    event["source"] = "aws.cloudtrail"
    assert not pattern.matches_event(event)


@pytest.mark.parametrize("name", ["StopLogging", "DeleteTrail"])
@pytest.mark.parametrize("trail", [TRAIL, TRAIL_ARN])
def test_stopping_or_deleting_the_trail_by_name_or_arn_matches(
    trail_pattern: EventPattern, name: str, trail: str
) -> None:
    assert trail_pattern.matches_event(trail_call(name, trail))


@pytest.mark.parametrize(
    "event",
    [
        trail_call("StartLogging"),
        trail_call(trail="org-audit-trail"),  # another trail
        trail_call(errorCode="InvalidHomeRegionException"),  # refused: still logging
        kms_call(),  # the keys' rule's event
    ],
    ids=["start", "another trail", "refused", "a key call"],
)
def test_other_trail_calls_do_not_match(trail_pattern: EventPattern, event: dict[str, Any]) -> None:
    assert not trail_pattern.matches_event(event)


def test_the_trail_message_says_what_goes_silent_and_how_to_restart(
    built: tuple[dict[str, Any], FoundationWatch],
) -> None:
    (target,) = rule_of(built[0], "WatchTrail")["Properties"]["Targets"]
    text = delivered_message(target, trail_call())
    assert text.startswith(
        f"Environment prod: StopLogging on CloudTrail trail {TRAIL} by "
        "arn:aws:iam::123456789012:user/Alice at 2026-12-05T18:58:31Z."
    )
    assert f"aws cloudtrail start-logging --name {TRAIL};" in text
    assert text.endswith("make preflight ENV=prod checks it (change-trail).")


@pytest.mark.parametrize("names", [[TRAIL, TRAIL], []])
def test_a_trail_named_twice_is_refused(names: list[str]) -> None:
    with pytest.raises(ValueError, match="trail_names names no trail, or one name twice"):
        trail_state_pattern(names)
