"""Approval notifications: the rule's pattern against the documented "SageMaker Model Package
State Change" event (matched with moto's EventBridge patterns), the input transformer's
promotion command, the topic policy scoped to the rule, the dead-letter queue and its alarms."""

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

from mlops_cdk.constructs.promotion import (
    ApprovalNotification,
    approval_event_pattern,
    promotion_command,
)
from tests.helpers import new_stack

GROUP = "stage-churn"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/4"


def state_change(**detail: Any) -> dict[str, Any]:
    """The event as the SageMaker developer guide shows it ("Events that Amazon SageMaker AI
    sends to Amazon EventBridge", "Model package state change")."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "844e2571-85d4-695f-b930-0153b71dcb42",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": "eu-west-1",
        "resources": [ARN],
        "detail": {
            "ModelPackageGroupName": GROUP,
            "ModelPackageVersion": 4,
            "ModelPackageArn": ARN,
            "ModelPackageStatus": "Completed",
            "ModelApprovalStatus": "Approved",
        },
    }
    event["detail"].update(detail)
    return event


@pytest.fixture(scope="module")
def pattern() -> EventPattern:
    return EventPattern.load(json.dumps(approval_event_pattern(GROUP)))


def test_an_approval_in_the_group_matches(pattern: EventPattern) -> None:
    assert pattern.matches_event(state_change())


@pytest.mark.parametrize(
    "detail",
    [
        {"ModelApprovalStatus": "PendingManualApproval"},
        {"ModelApprovalStatus": "Rejected"},
        {"ModelPackageGroupName": "stage-fraud"},
        {"ModelPackageGroupName": "prod-churn"},
    ],
)
def test_other_states_and_groups_do_not_match(
    pattern: EventPattern, detail: dict[str, Any]
) -> None:
    assert not pattern.matches_event(state_change(**detail))


def test_other_detail_types_do_not_match(pattern: EventPattern) -> None:
    event = copy.deepcopy(state_change())
    event["detail-type"] = "SageMaker Model State Change"
    assert not pattern.matches_event(event)


def test_promotion_command() -> None:
    assert promotion_command("stage", "churn", "4") == (
        "make promote ENV=stage SERVICE=churn VERSION=4"
    )


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], ApprovalNotification]:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Topic", master_key=key)
    notification = ApprovalNotification(
        stack,
        "Approvals",
        topic=topic,
        key=key,
        group_name=GROUP,
        env="stage",
        service="churn",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack).to_json(), notification


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_rule_sends_the_promotion_command_with_the_event_version(
    synthesized: tuple[dict[str, Any], ApprovalNotification],
) -> None:
    template, notification = synthesized
    ((_, rule),) = _of_type(template, "AWS::Events::Rule").items()
    props = rule["Properties"]
    assert props["EventPattern"] == approval_event_pattern(GROUP)
    (target,) = props["Targets"]
    transformer = target["InputTransformer"]
    paths = transformer["InputPathsMap"]
    version_key = next(k for k, v in paths.items() if v == "$.detail.ModelPackageVersion")
    assert paths[next(k for k, v in paths.items() if v == "$.detail.ModelPackageArn")]
    # What SNS receives once EventBridge fills the placeholders of the template.
    text = json.loads(transformer["InputTemplate"].replace(f"<{version_key}>", "4"))
    assert "make promote ENV=stage SERVICE=churn VERSION=4" in text
    assert "DeadLetterConfig" in target
    assert len(notification.alarms) == 2  # failed invocations, dead letters waiting


def test_topic_admits_events_for_this_rule_only(
    synthesized: tuple[dict[str, Any], ApprovalNotification],
) -> None:
    template, _ = synthesized
    ((rule_id, _),) = _of_type(template, "AWS::Events::Rule").items()
    policies = _of_type(template, "AWS::SNS::TopicPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (publish,) = [s for s in statements if s.get("Sid") == "EventBridgeApprovalRulePublish"]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    queues = _of_type(template, "AWS::SQS::Queue").values()
    (queue,) = queues
    assert "KmsMasterKeyId" in queue["Properties"]
