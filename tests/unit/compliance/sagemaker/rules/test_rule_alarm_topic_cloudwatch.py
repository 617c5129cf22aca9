"""AlarmTopicCloudWatch: an alarm's topic (or its KMS key) that CloudWatch may not publish to is
non-compliant; keys are followed into the stack of the stage that exports them (as each
service's topic uses the Foundation's environment key); topics of other stacks are not
checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from tests.unit.compliance.sagemaker.pack_helpers import alarm, fires, sibling, stage_stack

CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


def _notify(s: cdk.Stack, topic: sns.ITopic) -> None:
    cloudwatch.Alarm(
        s,
        "A",
        metric=cloudwatch.Metric(namespace="AWS/SQS", metric_name="NumberOfMessagesSent"),
        threshold=1,
        evaluation_periods=1,
    ).add_alarm_action(actions.SnsAction(topic))


def _allow_cloudwatch(topic: sns.Topic, action: str = "sns:Publish") -> None:
    topic.add_to_resource_policy(
        iam.PolicyStatement(principals=[CLOUDWATCH], actions=[action], resources=[topic.topic_arn])
    )


def _topic_cases() -> list[tuple[str, Callable[[cdk.Stack], sns.ITopic], bool]]:
    def plain(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T")

    def ssl_only(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T", enforce_ssl=True)  # a topic policy with only a Deny

    def ssl_and_cloudwatch(action: str) -> Callable[[cdk.Stack], sns.ITopic]:
        def build(s: cdk.Stack) -> sns.ITopic:
            topic = sns.Topic(s, "T", enforce_ssl=True)
            _allow_cloudwatch(topic, action)
            return topic

        return build

    def encrypted(*grant: str) -> Callable[[cdk.Stack], sns.ITopic]:
        def build(s: cdk.Stack) -> sns.ITopic:
            key = kms.Key(s, "Key")
            if grant:
                key.grant(CLOUDWATCH, *grant)
            return sns.Topic(s, "T", master_key=key)

        return build

    def aws_managed_key(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T", master_key=kms.Alias.from_alias_name(s, "K", "alias/aws/sns"))

    def imported(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic.from_topic_arn(s, "T", "arn:aws:sns:eu-west-1:123456789012:other")

    return [
        ("no topic policy", plain, False),
        ("topic policy without cloudwatch", ssl_only, True),
        ("topic policy allows sns:Publish", ssl_and_cloudwatch("sns:Publish"), False),
        ("topic policy allows SNS:*", ssl_and_cloudwatch("SNS:*"), False),
        ("topic policy allows *", ssl_and_cloudwatch("*"), False),
        ("topic policy allows sns:Subscribe only", ssl_and_cloudwatch("sns:Subscribe"), True),
        ("key without cloudwatch", encrypted(), True),
        ("key grants cloudwatch", encrypted("kms:Decrypt", "kms:GenerateDataKey*"), False),
        ("key grants kms:*", encrypted("kms:*"), False),
        ("key grants GenerateDataKey only", encrypted("kms:Decrypt", "kms:GenerateDataKey"), True),
        ("key grants no Decrypt", encrypted("kms:GenerateDataKey*"), True),
        ("AWS managed key", aws_managed_key, True),
        ("topic of another stack", imported, False),
    ]


@pytest.mark.parametrize(
    ("build", "expected"),
    [(build, expected) for _, build, expected in _topic_cases()],
    ids=[case for case, _, _ in _topic_cases()],
)
def test_alarm_topic_cloudwatch(build: Callable[[cdk.Stack], sns.ITopic], expected: bool) -> None:
    s = stage_stack()
    _notify(s, build(s))
    assert fires(s, "prod/S/A/Resource", "AlarmTopicCloudWatch") is expected


@pytest.mark.parametrize("policy_allows", [True, False])
def test_ok_and_insufficient_data_actions_and_inline_policies(policy_allows: bool) -> None:
    s = stage_stack()
    topic = sns.CfnTopic(s, "T")
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {
            "Service": "cloudwatch.amazonaws.com" if policy_allows else "s3.amazonaws.com"
        },
        "Action": "sns:Publish",
        "Resource": topic.ref,
    }
    sns.CfnTopicInlinePolicy(
        s, "P", topic_arn=topic.ref, policy_document={"Statement": [statement]}
    )
    alarm(s, "Ok", ok_actions=[topic.ref])
    alarm(s, "Insufficient", insufficient_data_actions=[topic.ref])
    for path in ("prod/S/Ok", "prod/S/Insufficient"):
        assert fires(s, path, "AlarmTopicCloudWatch") is not policy_allows


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("*", False),
        ({"AWS": "*"}, False),  # like SNS's default policy (conditioned on the owner account)
        ({"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}, False),
        ({"AWS": "arn:aws:iam::123456789012:root"}, True),
    ],
)
def test_topic_policy_principals(principal: Any, expected: bool) -> None:
    s = stage_stack()
    topic = sns.CfnTopic(s, "T")
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["sns:Publish", "sns:Subscribe"],
                "Resource": topic.ref,
                "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}},
            }
        ]
    }
    sns.CfnTopicPolicy(s, "P", topics=[topic.ref], policy_document=document)
    alarm(s, alarm_actions=[topic.ref])
    assert fires(s, "prod/S/Alarm", "AlarmTopicCloudWatch") is expected


def test_topics_named_by_getatt_are_checked_too() -> None:
    s = stage_stack()
    topic = sns.Topic(s, "T", enforce_ssl=True)
    cfn_topic = topic.node.default_child
    assert isinstance(cfn_topic, sns.CfnTopic)
    alarm(s, alarm_actions=[cfn_topic.attr_topic_arn])
    assert fires(s, "prod/S/Alarm", "AlarmTopicCloudWatch")


def test_composite_alarms_are_checked_too() -> None:
    s = stage_stack()
    topic = sns.Topic(s, "T", enforce_ssl=True)
    child = alarm(s)
    cloudwatch.CfnCompositeAlarm(
        s, "Composite", alarm_rule=f"ALARM({child.ref})", alarm_actions=[topic.topic_arn]
    )
    assert fires(s, "prod/S/Composite", "AlarmTopicCloudWatch")


@pytest.mark.parametrize(("grant", "expected"), [(True, False), (False, True)])
def test_a_key_another_stack_exports_is_followed(grant: bool, expected: bool) -> None:
    foundation = stage_stack(stack="Foundation")
    key = kms.Key(foundation, "Key")  # KMS's default policy only, unless granted
    if grant:
        key.grant(CLOUDWATCH, "kms:Decrypt", "kms:GenerateDataKey*")
    service = sibling(foundation, "S")
    topic = sns.Topic(service, "T", master_key=key)  # synthesized as an Fn::ImportValue
    _allow_cloudwatch(topic)
    _notify(service, topic)
    assert fires(service, "prod/S/A/Resource", "AlarmTopicCloudWatch") is expected
