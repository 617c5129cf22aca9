"""FailureWatch: one alarm per failure queue (depth), function (Errors) and rule
(FailedInvocations), with the documented metric, dimension, statistic, threshold and
missing-data treatment; notify() adds ALARM and OK actions to all of them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk.constructs.watch import FailureWatch
from tests.helpers import new_stack


def _function(stack: cdk.Stack, construct_id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


def _rule(stack: cdk.Stack) -> events.Rule:
    return events.Rule(
        stack,
        "Rule",
        event_pattern=events.EventPattern(source=["aws.sagemaker"]),
        targets=[],
    )


def _logical_id(stack: cdk.Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


def _alarms(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    """Alarm properties by the alarm's metric name."""
    found = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    return {a["Properties"]["MetricName"]: a["Properties"] for a in found.values()}


@pytest.fixture(scope="module")
def watched() -> tuple[cdk.Stack, FailureWatch, dict[str, dict[str, Any]]]:
    stack = new_stack()
    queue, function, rule = sqs.Queue(stack, "Failures"), _function(stack), _rule(stack)
    watch = FailureWatch(
        stack,
        "Watch",
        subject="Drift check of dev-churn",
        queues=[queue],
        functions=[function],
        rules=[rule],
        replay="See the README.",
    )
    ids = {"queue": _logical_id(stack, queue), "function": _logical_id(stack, function)}
    ids["rule"] = _logical_id(stack, rule)
    return stack, watch, {"ids": ids, **_alarms(stack)}


def test_queue_depth_alarm(watched: tuple[cdk.Stack, FailureWatch, dict[str, Any]]) -> None:
    _, _, alarms = watched
    depth = alarms["ApproximateNumberOfMessagesVisible"]
    assert depth["Namespace"] == "AWS/SQS"
    assert depth["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [alarms["ids"]["queue"], "QueueName"]}}
    ]
    assert (depth["Statistic"], depth["Period"], depth["EvaluationPeriods"]) == ("Maximum", 300, 1)
    assert (depth["ComparisonOperator"], depth["Threshold"]) == ("GreaterThanThreshold", 0)
    assert depth["TreatMissingData"] == "notBreaching"
    assert "Drift check of dev-churn: failed invocations wait in queue" in str(
        depth["AlarmDescription"]
    )
    assert "See the README." in str(depth["AlarmDescription"])


def test_function_errors_alarm(watched: tuple[cdk.Stack, FailureWatch, dict[str, Any]]) -> None:
    _, _, alarms = watched
    errors = alarms["Errors"]
    assert errors["Namespace"] == "AWS/Lambda"
    assert errors["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": alarms["ids"]["function"]}}
    ]
    assert (errors["Statistic"], errors["Period"], errors["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert errors["Threshold"] == 1
    assert errors["TreatMissingData"] == "notBreaching"


def test_rule_failed_invocations_alarm(
    watched: tuple[cdk.Stack, FailureWatch, dict[str, Any]],
) -> None:
    _, _, alarms = watched
    failed = alarms["FailedInvocations"]
    assert failed["Namespace"] == "AWS/Events"
    assert failed["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": alarms["ids"]["rule"]}}]
    assert (failed["Statistic"], failed["Period"]) == ("Sum", 300)
    assert failed["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert failed["Threshold"] == 1
    # EventBridge sends FailedInvocations only when it is not zero
    assert failed["TreatMissingData"] == "notBreaching"


def test_alarms_and_metrics_are_exposed_in_order(
    watched: tuple[cdk.Stack, FailureWatch, dict[str, Any]],
) -> None:
    _, watch, _ = watched
    assert [a.node.id for a in watch.alarms] == [
        "FailuresWaiting",
        "FnErrors",
        "RuleFailedInvocations",
    ]
    assert [label for label, _ in watch.metrics] == [
        "Drift check of dev-churn: failed invocations waiting",
        "Drift check of dev-churn: function errors",
        "Drift check of dev-churn: undelivered events",
    ]


def test_notify_adds_alarm_and_ok_actions_to_every_alarm() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Topic")
    watch = FailureWatch(
        stack,
        "Watch",
        subject="Retraining",
        queues=[sqs.Queue(stack, "Q")],
        functions=[_function(stack)],
    )
    watch.notify(actions.SnsAction(topic))
    topic_ref = {"Ref": _logical_id(stack, topic)}
    alarms = _alarms(stack).values()
    assert len(alarms) == 2
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic_ref]
        assert alarm["OKActions"] == [topic_ref]


def test_several_of_a_kind_get_distinct_ids_and_labels() -> None:
    stack = new_stack()
    first, second = _function(stack, "A"), _function(stack, "B")
    watch = FailureWatch(stack, "Watch", subject="Jobs", functions=[first, second])
    assert [a.node.id for a in watch.alarms] == ["AErrors", "BErrors"]
    assert [label for label, _ in watch.metrics] == [
        "Jobs: function errors (A)",
        "Jobs: function errors (B)",
    ]
    # queues with the same construct id under different parents: one alarm each
    queues = [sqs.Queue(parent, "Q") for parent in (Construct(stack, "P1"), Construct(stack, "P2"))]
    watch = FailureWatch(stack, "Queues", subject="Jobs", queues=queues)
    assert [a.node.id for a in watch.alarms] == ["QWaiting", "QWaiting2"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"subject": "x"}, "at least one queue, function or rule"),
        ({"subject": " ", "queues": "queue"}, "subject must name"),
    ],
)
def test_invalid_props(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    if props.get("queues") == "queue":
        props["queues"] = [sqs.Queue(stack, "Q")]
    with pytest.raises(ValueError, match=message):
        FailureWatch(stack, "Watch", **props)
