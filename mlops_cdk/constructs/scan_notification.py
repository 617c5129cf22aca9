"""Image scans: a service's topic hears when ECR's scan on push finds critical or high
vulnerabilities in an image pushed to the service's repository, or could not scan it.

Every repository this app creates scans on push, and until now nobody read the result. ECR sends
"ECR Image Scan" to EventBridge "when each image scan is completed", best effort ("Amazon ECR
events and EventBridge", Amazon ECR User Guide,
https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html): ``source``
``aws.ecr``; ``detail`` holds ``scan-status``, ``repository-name``, ``image-digest``,
``image-tags`` and ``finding-severity-counts``, which "will only return a value for a severity
level if one exists". The rule matches the service's repositories when a count of one of
:data:`~mlops_cdk.aws.facts.REPORTED_SCAN_SEVERITIES` is above zero (EventBridge's numeric
matching), or when the scan's status is not ``COMPLETE`` (a scan that did not happen is not a
clean one). Those are the basic scanning events; a registry with enhanced scanning (Amazon
Inspector) sends Inspector's events instead, which this rule does not match.

The message names the repository, the image's digest, the scan's status and the command that
lists the findings: only scalar fields, since ``image-tags`` (a list) and
``finding-severity-counts`` (an object, missing the severities not found) have no documented
rendering inside a text template. Delivery and its failures are
:class:`~mlops_cdk.constructs.event_notification.EventToTopic`'s: a dead-letter queue encrypted
with ``key``, alarms on the rule's ``FailedInvocations`` and the queue's depth (``watch``; the
owner adds their actions). Preflight warns of the same findings before a deploy
(:mod:`mlops_tools.image_scan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.facts import REPORTED_SCAN_SEVERITIES
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.props.fields import checked_arguments

SOURCE = "aws.ecr"
DETAIL_TYPE = "ECR Image Scan"


def image_scan_pattern(repository_names: Sequence[str]) -> dict[str, Any]:
    """Scans of ``repository_names`` that found a reported severity, or did not complete."""
    if not repository_names:
        raise ValueError("ImageScanNotification: repository_names names no repository")
    above_zero = [{"numeric": [">", 0]}]
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "repository-name": list(repository_names),
            "$or": [
                *(
                    {"finding-severity-counts": {severity: above_zero}}
                    for severity in REPORTED_SCAN_SEVERITIES
                ),
                {"scan-status": [{"anything-but": "COMPLETE"}]},
            ],
        },
    }


def image_scan_message(service: str) -> events.RuleTargetInput:
    """What the topic receives: the image, what the scan found, where to read the findings."""
    field = events.EventField.from_path
    repository = field("$.detail.repository-name")
    digest = field("$.detail.image-digest")
    severities = " or ".join(REPORTED_SCAN_SEVERITIES)
    return events.RuleTargetInput.from_text(
        f"Service {service}: ECR's scan of image {digest} in {repository} ended "
        f"{field('$.detail.scan-status')}: it found {severities} vulnerabilities, or did not "
        "complete (its vulnerabilities are then unknown, not absent). Read them: aws ecr "
        f"describe-image-scan-findings --repository-name {repository} --image-id "
        f"imageDigest={digest}. Rebuild on patched packages before a model serves it, or "
        "accept them knowingly; make preflight warns of the same."
    )


class ImageScanNotification(EventToTopic):
    """Notifies ``topic`` when ECR's scan of an image in one of ``repository_names`` (the
    repositories of service ``service``) finds critical or high vulnerabilities or does not
    complete: an :class:`~mlops_cdk.constructs.event_notification.EventToTopic` of
    :func:`image_scan_pattern` and :func:`image_scan_message`.

    Exposes ``pattern``, ``message``, ``rule``, ``dead_letters``, ``watch`` and ``alarms``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        repository_names: Sequence[str],
        service: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        pattern = image_scan_pattern(repository_names)
        message = image_scan_message(service)
        super().__init__(
            scope,
            construct_id,
            topic=topic,
            key=key,
            pattern=pattern,
            message=message,
            description=f"Image scans of service {service} with critical or high findings",
            subject=f"Image-scan notifications of {service}",
            sid="EventBridgeImageScans",
            replay="See docs/concepts/monitoring.md (Image scans).",
            removal_policy=removal_policy,
        )
        self.pattern, self.message = pattern, message
