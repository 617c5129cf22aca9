"""Image scans: the rule's pattern against ECR's documented "ECR Image Scan" event (matched with
moto's EventBridge patterns), the message EventBridge builds from it, the topic policy scoped to
the rule, the dead-letter queue and its alarms."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.scan_notification import ImageScanNotification
from tests.helpers import delivered_message, new_stack, resources_of_type

REPOSITORY = "prod-churn-registry-modelimagesrepository"
DIGEST = "sha256:" + "7f" * 32


def image_scan(status: str = "COMPLETE", **counts: int) -> dict[str, Any]:
    """The event as "Amazon ECR events and EventBridge" shows it ("Event for a completed image
    scan"): a count only for the severities found."""
    return {
        "version": "0",
        "id": "85fc3613-e913-7fc4-a80c-a3753e4aa9ae",
        "detail-type": "ECR Image Scan",
        "source": "aws.ecr",
        "account": "123456789012",
        "time": "2026-12-05T01:54:34Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:ecr:eu-west-1:123456789012:repository/{REPOSITORY}"],
        "detail": {
            "scan-status": status,
            "repository-name": REPOSITORY,
            "finding-severity-counts": counts,
            "image-digest": DIGEST,
            "image-tags": ["1.0.0"],
        },
    }


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], ImageScanNotification]:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Topic", master_key=key)
    notification = ImageScanNotification(
        stack,
        "ImageScans",
        topic=topic,
        key=key,
        repository_names=[REPOSITORY],
        service="churn",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack).to_json(), notification


@pytest.fixture(scope="module")
def pattern(built: tuple[dict[str, Any], ImageScanNotification]) -> EventPattern:
    ((_, rule),) = resources_of_type(built[0], "AWS::Events::Rule").items()
    return EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))


@pytest.mark.parametrize(
    "event",
    [
        image_scan(CRITICAL=2, MEDIUM=9),
        image_scan(HIGH=1),
        image_scan("FAILED"),
        image_scan("UNSUPPORTED_IMAGE"),
    ],
    ids=["critical", "high", "failed", "unsupported"],
)
def test_critical_or_high_findings_and_scans_that_did_not_complete_match(
    pattern: EventPattern, event: dict[str, Any]
) -> None:
    assert pattern.matches_event(event)


@pytest.mark.parametrize(
    "event",
    [image_scan(), image_scan(MEDIUM=3, LOW=12, INFORMATIONAL=1), image_scan(CRITICAL=0)],
    ids=["clean", "medium and below", "zero critical"],
)
def test_clean_or_lesser_scans_do_not_match(pattern: EventPattern, event: dict[str, Any]) -> None:
    assert not pattern.matches_event(event)


def test_another_repositorys_scans_do_not_match(pattern: EventPattern) -> None:
    event = image_scan(CRITICAL=1)
    event["detail"]["repository-name"] = "prod-fraud-registry-modelimagesrepository"
    assert not pattern.matches_event(event)


def test_the_message_names_the_image_and_the_command_that_lists_the_findings(
    built: tuple[dict[str, Any], ImageScanNotification],
) -> None:
    template, notification = built
    ((_, rule),) = resources_of_type(template, "AWS::Events::Rule").items()
    (target,) = rule["Properties"]["Targets"]
    text = delivered_message(target, image_scan(CRITICAL=2))
    assert text.startswith(
        f"Service churn: ECR's scan of image {DIGEST} in {REPOSITORY} ended COMPLETE: it found "
        "CRITICAL or HIGH vulnerabilities, or did not complete"
    )
    assert (
        f"aws ecr describe-image-scan-findings --repository-name {REPOSITORY} --image-id "
        f"imageDigest={DIGEST}."
    ) in text
    # Only scalar fields are placed in the text (a list or object has no documented rendering).
    assert set(target["InputTransformer"]["InputPathsMap"].values()) == {
        "$.detail.repository-name",
        "$.detail.image-digest",
        "$.detail.scan-status",
    }
    assert "DeadLetterConfig" in target
    assert len(notification.alarms) == 2


def test_topic_admits_events_for_this_rule_only(
    built: tuple[dict[str, Any], ImageScanNotification],
) -> None:
    template, _ = built
    ((rule_id, _),) = resources_of_type(template, "AWS::Events::Rule").items()
    policies = resources_of_type(template, "AWS::SNS::TopicPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (publish,) = [s for s in statements if s.get("Sid") == "EventBridgeImageScansPublish"]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_no_repository_is_refused() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError, match="repository_names names no repository"):
        ImageScanNotification(
            stack,
            "ImageScans",
            topic=sns.Topic(stack, "Topic", master_key=key),
            key=key,
            repository_names=[],
            service="churn",
        )
