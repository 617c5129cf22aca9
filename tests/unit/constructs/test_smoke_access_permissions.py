"""SmokeTestAccess's permissions: describe and invoke one endpoint, read its own stack's outputs
(the deployed endpoint configuration) and, given one, list its alarm topic's subscriptions;
nothing else."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from mlops_cdk.constructs.smoke_access import SmokeTestAccess
from tests.helpers import new_stack


def statements(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def access(stack: cdk.Stack, **kwargs: Any) -> SmokeTestAccess:
    return SmokeTestAccess(
        stack,
        "SmokeTest",
        endpoint_name="Dev-Churn",
        trusted_account="999999999999",
        trusted_role_name="mlops-pipeline-smoke-dev-churn",
        **kwargs,
    )


def test_reads_only_its_own_stack_and_one_endpoint() -> None:
    stack = new_stack("Serving")
    access(stack)
    found = statements(stack)
    assert set(found) == {"SmokeTestEndpoint", "DescribeOwnStack"}
    own = found["DescribeOwnStack"]
    assert own["Effect"] == "Allow"
    assert own["Action"] == "cloudformation:DescribeStacks"
    assert own["Resource"] == {"Ref": "AWS::StackId"}  # this stack's ARN, no wildcard
    endpoint = found["SmokeTestEndpoint"]
    assert endpoint["Action"] == ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"]
    assert str(endpoint["Resource"]).endswith(":endpoint/dev-churn")


def test_with_an_alarm_topic_it_lists_that_topics_subscriptions_only() -> None:
    stack = new_stack("Serving")
    topic = sns.Topic(stack, "Alarms")
    access(stack, alarm_topic=topic)
    listing = statements(stack)["ListAlarmSubscriptions"]
    assert listing["Action"] == "sns:ListSubscriptionsByTopic"
    assert listing["Resource"] == {"Ref": stack.get_logical_id(topic.node.default_child)}
