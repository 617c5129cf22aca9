"""Scaled to the maximum: the rule's pattern against Application Auto Scaling's documented
"scaled to max" event (matched with moto's EventBridge patterns), the message EventBridge builds
from it, the topic policy scoped to the rule, the dead-letter queue and its alarms."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.scaling_notification import ScaledToMaxNotification
from tests.helpers import delivered_message, new_stack

CHAMPION = "endpoint/prod-churn/variant/champion"
RANKER = "inference-component/prod-ranking-ranker"


def scaled_to_max(**detail: Any) -> dict[str, Any]:
    """The event as "Monitor Application Auto Scaling events using Amazon EventBridge" shows it
    (its detail's documented attributes)."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "11112222-3333-4444-5555-666677778888",
        "detail-type": "Application Auto Scaling Scaling Activity State Change",
        "source": "aws.application-autoscaling",
        "account": "123456789012",
        "time": "2026-12-05T10:23:40Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "startTime": "2026-12-05T10:20:43Z",
            "endTime": "2026-12-05T10:23:40Z",
            "newDesiredCapacity": 8,
            "oldDesiredCapacity": 5,
            "minCapacity": 2,
            "maxCapacity": 8,
            "resourceId": CHAMPION,
            "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "serviceNamespace": "sagemaker",
        },
    }
    event["detail"].update(detail)
    return event


def build(resource_ids: list[str]) -> tuple[dict[str, Any], ScaledToMaxNotification]:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Topic", master_key=key)
    notification = ScaledToMaxNotification(
        stack,
        "ScaledToMax",
        topic=topic,
        key=key,
        resource_ids=resource_ids,
        service="churn",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack).to_json(), notification


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], ScaledToMaxNotification]:
    return build([RANKER, CHAMPION])


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def pattern(synthesized: tuple[dict[str, Any], ScaledToMaxNotification]) -> EventPattern:
    template, _ = synthesized
    ((_, rule),) = of_type(template, "AWS::Events::Rule").items()
    return EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {
            "resourceId": RANKER,
            "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
        },
    ],
)
def test_its_targets_scaled_to_max_match(pattern: EventPattern, detail: dict[str, Any]) -> None:
    assert pattern.matches_event(scaled_to_max(**detail))


@pytest.mark.parametrize(
    "detail",
    [
        {"resourceId": "endpoint/prod-fraud/variant/primary"},  # another service's
        {"resourceId": "endpoint/prod-churn/variant/champion-2"},  # a prefix is not the target
        {"serviceNamespace": "ecs", "resourceId": CHAMPION},
    ],
)
def test_other_targets_do_not_match(pattern: EventPattern, detail: dict[str, Any]) -> None:
    assert not pattern.matches_event(scaled_to_max(**detail))


def test_other_sources_do_not_match(pattern: EventPattern) -> None:
    event = copy.deepcopy(scaled_to_max())
    event["source"] = "aws.autoscaling"
    assert not pattern.matches_event(event)


def test_the_message_names_the_target_and_its_capacities(
    synthesized: tuple[dict[str, Any], ScaledToMaxNotification],
) -> None:
    template, notification = synthesized
    ((_, rule),) = of_type(template, "AWS::Events::Rule").items()
    (target,) = rule["Properties"]["Targets"]
    text = delivered_message(target, scaled_to_max())
    assert text == (
        f"Service churn: Application Auto Scaling scaled {CHAMPION} "
        "(sagemaker:variant:DesiredInstanceCount) to its maximum, 8 (from 5 to 8). It adds "
        "nothing more if demand keeps growing: raise the scaling maximum (and the account's "
        "instance quota, make preflight), or expect latency and errors to rise."
    )
    assert "DeadLetterConfig" in target
    assert len(notification.alarms) == 2  # failed invocations, dead letters waiting


def test_topic_admits_events_for_this_rule_only(
    synthesized: tuple[dict[str, Any], ScaledToMaxNotification],
) -> None:
    template, _ = synthesized
    ((rule_id, _),) = of_type(template, "AWS::Events::Rule").items()
    policies = of_type(template, "AWS::SNS::TopicPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (publish,) = [s for s in statements if s.get("Sid") == "EventBridgeScaledToMaxPublish"]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    (queue,) = of_type(template, "AWS::SQS::Queue").values()
    assert "KmsMasterKeyId" in queue["Properties"]


@pytest.mark.parametrize("resource_ids", [[], [CHAMPION, CHAMPION]])
def test_no_target_or_one_twice_is_refused(resource_ids: list[str]) -> None:
    with pytest.raises(ValueError, match="resource_ids lists no scalable target, or one twice"):
        build(resource_ids)
