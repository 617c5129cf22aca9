"""EventTargetKeys: a rule's topic and dead-letter queue must let events.amazonaws.com publish
and use their KMS keys, followed across the stage's stacks (the environment key the Foundation
exports, imported by a service stack)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from tests.unit.compliance.sagemaker.pack_helpers import fires, sibling, stage_stack

RULE = "EventTargetKeys"
EVENTS = iam.ServicePrincipal("events.amazonaws.com")


def key(scope: cdk.Stack, *, events_may_use: bool, name: str = "Key") -> kms.Key:
    created = kms.Key(scope, name)
    if events_may_use:
        created.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[EVENTS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
    return created


def rule_to_topic(
    scope: cdk.Stack,
    *,
    topic_key: kms.IKey | None,
    queue_key: kms.IKey | None,
    publish: bool = True,
) -> None:
    """A rule to a topic (encrypted with ``topic_key``) with a dead-letter queue (with
    ``queue_key``), the topic's policy admitting EventBridge when ``publish``."""
    topic = sns.Topic(scope, "Topic", master_key=topic_key)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[EVENTS if publish else iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
        )
    )
    queue = sqs.Queue(
        scope,
        "DeadLetters",
        encryption=sqs.QueueEncryption.KMS if queue_key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=queue_key,
    )
    events.CfnRule(
        scope,
        "Rule",
        event_pattern={"source": ["aws.application-autoscaling"]},
        targets=[
            events.CfnRule.TargetProperty(
                id="Topic",
                arn=topic.topic_arn,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=queue.queue_arn),
            )
        ],
    )


@pytest.mark.parametrize(
    ("topic_key_ok", "queue_key_ok", "publish", "expected"),
    [
        (True, True, True, False),
        (False, True, True, True),  # the topic's key
        (True, False, True, True),  # the dead-letter queue's key
        (True, True, False, True),  # the topic's policy
    ],
)
def test_keys_followed_into_the_exporting_stack(
    topic_key_ok: bool, queue_key_ok: bool, publish: bool, expected: bool
) -> None:
    foundation = stage_stack(stack="Foundation")
    good = key(foundation, events_may_use=True, name="Good")
    bad = key(foundation, events_may_use=False, name="Bad")  # KMS's default policy only
    topic_key = good if topic_key_ok else bad
    queue_key = good if queue_key_ok else bad
    service = sibling(foundation, "S")
    rule_to_topic(service, topic_key=topic_key, queue_key=queue_key, publish=publish)
    assert fires(service, "prod/S/Rule", RULE) is expected


def test_a_key_of_the_rules_own_stack_is_read_too() -> None:
    s = stage_stack()
    own = key(s, events_may_use=False)
    rule_to_topic(s, topic_key=own, queue_key=None)
    assert fires(s, "prod/S/Rule", RULE)


def test_the_aws_managed_sns_key_cannot_be_granted() -> None:
    s = stage_stack()
    managed = kms.Alias.from_alias_name(s, "Managed", "alias/aws/sns")
    rule_to_topic(s, topic_key=managed, queue_key=None)
    assert fires(s, "prod/S/Rule", RULE)


def test_unencrypted_targets_and_rules_without_targets_pass() -> None:
    s = stage_stack()
    rule_to_topic(s, topic_key=None, queue_key=None)
    events.CfnRule(s, "NoTargets", event_pattern={"source": ["aws.sagemaker"]})
    assert not fires(s, "prod/S/Rule", RULE)
    assert not fires(s, "prod/S/NoTargets", RULE)
