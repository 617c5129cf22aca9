"""FailureDestinationWatched: a failure queue, a Lambda function or an EventBridge rule with
targets without an alarm (with an alarm action) on its depth, Errors or FailedInvocations in its
stack is non-compliant; queues that are no failure destination, rules without targets and
CloudFormation custom-resource handlers are not applicable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr

from mlops_cdk.constructs.change_detection import EndpointChangeRule, TopicTarget
from mlops_cdk.constructs.drift_check import DriftCheck
from mlops_cdk.constructs.watch import FailureWatch
from tests.helpers import imported_vpc
from tests.unit.compliance.sagemaker.pack_helpers import alarm, findings, stage_stack

RULE = "FailureDestinationWatched"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"


def fired(s: cdk.Stack) -> set[str]:
    """Construct paths the rule fires on."""
    return {path for rule, path in findings(s) if rule == RULE}


def function(s: cdk.Stack, construct_id: str = "Fn", **props: Any) -> lambda_.Function:
    return lambda_.Function(
        s,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        **props,
    )


def watch(s: cdk.Stack, **watched: Any) -> FailureWatch:
    """A FailureWatch notifying a topic (an alarm action)."""
    w = FailureWatch(s, "Watch", subject="test", **watched)
    w.notify(actions.SnsAction(sns.Topic.from_topic_arn(s, "Topic", TOPIC)))
    return w


# --- queues ---------------------------------------------------------------------------------


def _destinations() -> list[tuple[str, Callable[[cdk.Stack, sqs.Queue], None]]]:
    def on_failure(s: cdk.Stack, queue: sqs.Queue) -> None:
        lambda_.CfnEventInvokeConfig(
            s,
            "Async",
            function_name="fn",
            qualifier="$LATEST",
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=queue.queue_arn
                )
            ),
        )

    def lambda_dlq(s: cdk.Stack, queue: sqs.Queue) -> None:
        lambda_.CfnFunction(
            s,
            "Legacy",
            code=lambda_.CfnFunction.CodeProperty(zip_file="x"),
            role="arn:aws:iam::123456789012:role/x",
            dead_letter_config=lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=queue.queue_arn
            ),
        )

    def schedule_dlq(s: cdk.Stack, queue: sqs.Queue) -> None:
        fn = lambda_.Function.from_function_arn(
            s, "Target", "arn:aws:lambda:eu-west-1:123456789012:function:f"
        )
        scheduler.Schedule(
            s,
            "Schedule",
            schedule=scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)),
            target=scheduler_targets.LambdaInvoke(fn, dead_letter_queue=queue),
        )

    def rule_target_dlq(s: cdk.Stack, queue: sqs.Queue) -> None:
        events.CfnRule(
            s,
            "Rule",
            event_pattern={"source": ["aws.sagemaker"]},
            targets=[
                events.CfnRule.TargetProperty(
                    arn=TOPIC,
                    id="Topic",
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=queue.queue_arn),
                )
            ],
        )

    def redrive(s: cdk.Stack, queue: sqs.Queue) -> None:
        sqs.Queue(
            s, "Source", dead_letter_queue=sqs.DeadLetterQueue(queue=queue, max_receive_count=3)
        )

    return [
        ("lambda on-failure destination", on_failure),
        ("lambda dead-letter queue", lambda_dlq),
        ("schedule dead-letter queue", schedule_dlq),
        ("rule target dead-letter queue", rule_target_dlq),
        ("queue redrive target", redrive),
    ]


@pytest.mark.parametrize(
    "name_it", [d for _, d in _destinations()], ids=[n for n, _ in _destinations()]
)
def test_a_failure_destination_needs_a_depth_alarm(
    name_it: Callable[[cdk.Stack, sqs.Queue], None],
) -> None:
    s = stage_stack()
    queue = sqs.Queue(s, "Failures")
    name_it(s, queue)
    assert "prod/S/Failures/Resource" in fired(s)

    s = stage_stack()
    queue = sqs.Queue(s, "Failures")
    name_it(s, queue)
    watch(s, queues=[queue])
    assert "prod/S/Failures/Resource" not in fired(s)


def test_a_queue_that_is_no_failure_destination_is_not_checked() -> None:
    s = stage_stack()
    sqs.Queue(s, "Work")
    assert fired(s) == set()


@pytest.mark.parametrize(
    ("alarm_props", "expected"),
    [
        ({"metric": "ApproximateNumberOfMessagesVisible", "alarm_actions": [TOPIC]}, False),
        ({"metric": "ApproximateAgeOfOldestMessage", "alarm_actions": [TOPIC]}, False),
        ({"metric": "NumberOfMessagesSent", "alarm_actions": [TOPIC]}, False),
        ({"metric": "ApproximateNumberOfMessagesVisible"}, True),  # nobody is told
        ({"metric": "ApproximateNumberOfMessagesVisible", "ok_actions": [TOPIC]}, True),
        (
            {
                "metric": "ApproximateNumberOfMessagesVisible",
                "alarm_actions": [TOPIC],
                "actions_enabled": False,
            },
            True,
        ),
        ({"metric": "NumberOfMessagesDeleted", "alarm_actions": [TOPIC]}, True),
        (
            {
                "metric": "ApproximateNumberOfMessagesVisible",
                "alarm_actions": [TOPIC],
                "namespace": "Custom/SQS",
            },
            True,
        ),
        (
            {"metric": "ApproximateNumberOfMessagesVisible", "alarm_actions": [TOPIC], "other": 1},
            True,
        ),
    ],
)
def test_what_counts_as_a_depth_alarm(alarm_props: dict[str, Any], expected: bool) -> None:
    s = stage_stack()
    queue = sqs.Queue(s, "Failures", queue_name="failures")
    other = sqs.Queue(s, "Other")
    _destinations()[0][1](s, queue)
    props = dict(alarm_props)
    watched = other if props.pop("other", None) else queue
    alarm(
        s,
        namespace=props.pop("namespace", "AWS/SQS"),
        dimensions={"QueueName": watched.queue_name},
        **props,
    )
    assert ("prod/S/Failures/Resource" in fired(s)) is expected


def test_a_literal_queue_name_matches_a_literal_dimension() -> None:
    s = stage_stack()
    queue = sqs.Queue(s, "Failures", queue_name="failures")
    _destinations()[0][1](s, queue)
    alarm(
        s,
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": "failures"},
        alarm_actions=[TOPIC],
    )
    assert fired(s) == set()


# --- functions ------------------------------------------------------------------------------


def test_a_function_needs_an_errors_alarm() -> None:
    s = stage_stack()
    fn = function(s)
    function(s, "Other")
    watch(s, functions=[fn])
    alarm(  # Throttles is no failure of the function's own
        s,
        namespace="AWS/Lambda",
        metric="Throttles",
        dimensions={"FunctionName": fn.function_name},
        alarm_actions=[TOPIC],
    )
    assert fired(s) == {"prod/S/Other/Resource"}


def test_custom_resource_handlers_are_not_applicable() -> None:
    s = stage_stack()
    # CDK's own handlers: S3 auto-delete (a CustomResourceProvider) and a Provider framework
    # around a handler of ours; CloudFormation reports their failures as a failed deploy.
    s3.Bucket(s, "Bucket", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    on_event = function(s, "OnEvent")
    provider = cr.Provider(s, "Provider", on_event_handler=on_event)
    cdk.CustomResource(s, "Custom", service_token=provider.service_token)
    function(s, "Unwatched")
    assert fired(s) == {"prod/S/Unwatched/Resource"}


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "enabled", "watched", "expected"),
    [
        (True, True, False, True),
        (True, True, True, False),
        (False, True, False, False),  # nothing to deliver
        (True, False, False, False),  # disabled: nothing runs
    ],
)
def test_a_rule_with_targets_needs_a_failed_invocations_alarm(
    targets: bool, enabled: bool, watched: bool, expected: bool
) -> None:
    s = stage_stack()
    rule = events.Rule(
        s,
        "Rule",
        enabled=enabled,
        event_pattern=events.EventPattern(source=["aws.sagemaker"]),
    )
    if targets:
        topic = sns.Topic.from_topic_arn(s, "Target", TOPIC)
        rule.add_target(TopicTarget(topic, events.RuleTargetInput.from_text("changed")))
    if watched:
        watch(s, rules=[rule])
    assert ("prod/S/Rule/Resource" in fired(s)) is expected


# --- the project's constructs ---------------------------------------------------------------


def test_drift_check_and_change_rule_pass_once_their_alarms_notify() -> None:
    for notified in (False, True):
        s = stage_stack()
        key = kms.Key.from_key_arn(
            s, "Key", "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
        )
        vpc = imported_vpc(s)
        check = DriftCheck(
            s,
            "Drift",
            key=key,
            vpc=vpc,
            subnets=vpc.isolated_subnets,
            bucket=s3.Bucket.from_bucket_name(s, "Bucket", "artifacts"),
            capture_prefix="data-capture/churn/",
            baseline_key="baselines/churn/baseline.json",
            endpoint_name="prod-churn",
        )
        topic = sns.Topic.from_topic_arn(s, "Topic", TOPIC)
        change = EndpointChangeRule(s, "Changes", topic=topic, key=key, endpoint_name="prod-churn")
        if notified:
            check.watch.notify(actions.SnsAction(topic))
            change.watch.notify(actions.SnsAction(topic))
            assert fired(s) == set()
        else:
            assert fired(s) == {
                # the drift check's function infrastructure (WatchedFunction under "Default")
                "prod/S/Drift/Default/Failures/Resource",
                "prod/S/Drift/Default/Function/Resource",
                "prod/S/Changes/DeadLetters/Resource",
                "prod/S/Changes/Rule/Resource",
            }
