"""EventInputPlaceholders: every <...> of an input template is an input path or a predefined
variable (EventBridge refuses the target otherwise)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events

from mlops_cdk.compliance.sagemaker.rules.event_input_placeholders import unknown_placeholders
from tests.unit.compliance.sagemaker.pack_helpers import fires, stack

TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"


def _rule(s: cdk.Stack, template: Any, paths: dict[str, str] | None) -> None:
    events.CfnRule(
        s,
        "Rule",
        event_pattern={"source": ["aws.sagemaker"]},
        targets=[
            events.CfnRule.TargetProperty(
                id="Topic",
                arn=TOPIC,
                input_transformer=events.CfnRule.InputTransformerProperty(
                    input_template=template, input_paths_map=paths
                ),
            )
        ],
    )


@pytest.mark.parametrize(
    ("template", "paths", "expected"),
    [
        ('"execution <arn> ended <status>"', {"arn": "$.detail.a", "status": "$.detail.s"}, False),
        ('"<aws.events.rule-name> at <aws.events.event.ingestion-time>"', None, False),
        ('{"event": <aws.events.event.json>, "rule": <aws.events.rule-arn>}', None, False),
        ('"the report is under s3://b/r/<execution id>/"', {"arn": "$.detail.a"}, True),
        ('"execution <arn> by <who>"', {"arn": "$.detail.a"}, True),  # <who> never defined
        ('"<aws.events.rule>"', None, True),  # not one of the predefined variables
    ],
)
def test_placeholders_are_input_paths_or_predefined_variables(
    template: str, paths: dict[str, str] | None, expected: bool
) -> None:
    s = stack()
    _rule(s, template, paths)
    assert fires(s, "S/Rule", "EventInputPlaceholders") is expected


def test_a_joined_template_is_read_through_its_literal_parts() -> None:
    """What CDK writes when the message holds a token (a bucket name): an Fn::Join."""
    s = stack()
    bucket = cdk.Fn.import_value("Bucket")
    _rule(s, cdk.Fn.join("", ['"report under s3://', bucket, '/<execution id>/"']), None)
    assert fires(s, "S/Rule", "EventInputPlaceholders")
    joined = {"Fn::Join": ["", ['"<a> in s3://', {"Ref": "B"}, '/x"']]}
    assert unknown_placeholders({"InputTemplate": joined, "InputPathsMap": {"a": "$.a"}}) == []


def test_a_rule_without_a_transformer_is_not_judged() -> None:
    s = stack()
    events.CfnRule(
        s,
        "Rule",
        event_pattern={"source": ["aws.sagemaker"]},
        targets=[events.CfnRule.TargetProperty(id="Topic", arn=TOPIC, input='"<literal>"')],
    )
    assert not fires(s, "S/Rule", "EventInputPlaceholders")
