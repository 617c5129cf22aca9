"""resolve_each: many values resolved in one call, each at its own position."""

from __future__ import annotations

import aws_cdk as cdk

from mlops_cdk.aws.resolve import resolve_each
from tests.helpers import new_stack


def test_each_value_resolves_at_its_position() -> None:
    stack = new_stack()
    topic = cdk.CfnResource(stack, "Topic", type="AWS::SNS::Topic")
    values = ["literal", topic.ref, {"Arn": topic.get_att("TopicArn")}, [stack.account]]
    assert resolve_each(stack, values) == [
        "literal",
        {"Ref": "Topic"},
        {"Arn": {"Fn::GetAtt": ["Topic", "TopicArn"]}},
        [stack.account],
    ]
    assert resolve_each(stack, values) == [stack.resolve(value) for value in values]


def test_no_values_need_no_call() -> None:
    assert resolve_each(new_stack(), []) == []
