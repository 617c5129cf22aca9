"""AlarmTopic (KMS, TLS-only, e-mail) and EndpointDashboard (widgets, alarm states, failures)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from mlops_cdk.constructs.dashboard import EndpointDashboard
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.watch import FailureWatch
from tests.helpers import new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def test_topic_is_encrypted_tls_only_with_email_subscriptions() -> None:
    stack = new_stack()
    AlarmTopic(
        stack, "Topic", key=kms.Key.from_key_arn(stack, "K", KEY_ARN), emails=["a@x.io", "b@x.io"]
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": KEY_ARN})
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    (deny,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == [
        "a@x.io",
        "b@x.io",
    ]
    assert {s["Properties"]["Protocol"] for s in subscriptions.values()} == {"email"}


def test_cloudwatch_alarms_of_this_account_may_publish() -> None:
    """The topic policy replaces SNS's default policy: without this Allow, CloudWatch's
    notifications are refused."""
    stack = new_stack()
    AlarmTopic(stack, "Topic", key=kms.Key.from_key_arn(stack, "K", KEY_ARN))
    (policy,) = Template.from_stack(stack).find_resources("AWS::SNS::TopicPolicy").values()
    (allow,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*"},
    }


def test_dashboard_widgets() -> None:
    stack = new_stack()
    alarm = cloudwatch.Alarm.from_alarm_arn(
        stack, "A", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x"
    )
    EndpointDashboard(
        stack,
        "Dashboard",
        endpoint_name="ep",
        variant_names=["champion", "challenger"],
        alarms=[alarm],
        retraining_namespace="MlopsCdk/Retraining",
    )
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    assert "DashboardName" not in dashboard["Properties"]
    body = dashboard["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    for title in (
        "Invocations per variant",
        "Model latency p50 / p99",
        "Errors (% of invocations)",
        "Instances (CPUUtilization samples per minute)",
        "Retraining decisions",
        "Alarms",
    ):
        assert title in text, title
    assert "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x" in text
    assert text.count("challenger") >= 4


def test_dashboard_graphs_what_the_watches_watch() -> None:
    stack = new_stack()
    queue = sqs.Queue(stack, "Failures")
    watch = FailureWatch(stack, "Watch", subject="Drift check of ep", queues=[queue])
    EndpointDashboard(
        stack,
        "Dashboard",
        endpoint_name="ep",
        variant_names=["champion"],
        alarms=watch.alarms,
        watches=[watch],
    )
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    text = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Failures: queued records, function errors, undelivered events" in text
    assert "ApproximateNumberOfMessagesVisible" in text
    assert "Drift check of ep: failed invocations waiting" in text
    queue_id = stack.get_logical_id(queue.node.default_child)  # type: ignore[arg-type]
    assert queue_id in text  # the queue's name, resolved at deploy time


def test_dashboard_without_watches_has_no_failure_graph() -> None:
    stack = new_stack()
    EndpointDashboard(stack, "Dashboard", endpoint_name="ep", variant_names=["v"], alarms=[])
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    assert "Failures:" not in json.dumps(dashboard["Properties"]["DashboardBody"])


def dashboard_widgets(stack: Stack) -> dict[str, set[str]]:
    """Each metric graph's title and the metric names it graphs (metric math's included)."""
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    widgets = json.loads("".join(p if isinstance(p, str) else "token" for p in parts))["widgets"]
    graphs = [w["properties"] for w in widgets if "metrics" in w["properties"]]
    # A metric line is [namespace, name, dimension, value, ..., options]; an expression [options].
    return {g["title"]: {m[1] for m in g["metrics"] if isinstance(m[0], str)} for g in graphs}


@pytest.mark.parametrize(
    ("asynchronous", "invocations"), [(False, "Invocations"), (True, "InvocationsProcesssed")]
)
def test_dashboard_graphs_the_invocations_the_endpoint_publishes(
    asynchronous: bool, invocations: str
) -> None:
    """An asynchronous endpoint publishes no Invocations ("Alarms and logs for tracking metrics
    from asynchronous endpoints"): its traffic is InvocationsProcesssed, and the error rates
    divide by it."""
    stack = new_stack()
    EndpointDashboard(
        stack, "Dashboard", endpoint_name="ep", variant_names=["primary"], alarms=[],
        asynchronous=asynchronous,
    )  # fmt: skip
    widgets = dashboard_widgets(stack)
    assert widgets[f"{invocations} per variant"] == {invocations}
    assert widgets["Errors (% of invocations)"] == {
        "Invocation5XXErrors",
        "Invocation4XXErrors",
        invocations,
    }
    if asynchronous:
        graphed = set().union(*widgets.values())
        assert not graphed & {"Invocations", "InvocationsPerInstance", "OverheadLatency"}
