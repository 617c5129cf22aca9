"""EventRulesPerBus: past EventBridge's default quota of rules per event bus (100 in af-south-1
and eu-south-1, 300 elsewhere), counted across the stage's stacks per account, Region and bus,
each later rule is non-compliant."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events

from mlops_cdk.compliance.sagemaker.rules.event_rules_per_bus import rules_per_bus
from tests.unit.compliance.sagemaker.pack_helpers import app, findings

RULE = "EventRulesPerBus"
PATTERN = {"source": ["aws.ecr"]}


def stage_in(region: str) -> cdk.Stage:
    return cdk.Stage(app(), "prod", env=cdk.Environment(account="123456789012", region=region))


def add_rules(stack: cdk.Stack, count: int, bus: str | None = None, start: int = 0) -> None:
    for index in range(start, start + count):
        events.CfnRule(stack, f"R{index}", event_pattern=PATTERN, event_bus_name=bus)


def fired(stage: cdk.Stage) -> set[str]:
    return {path for rule, path in findings(stage) if rule == RULE}


def test_the_default_quota_by_region() -> None:
    assert rules_per_bus("eu-west-1") == 300
    assert rules_per_bus("af-south-1") == rules_per_bus("eu-south-1") == 100
    assert rules_per_bus(None) == 300


@pytest.mark.parametrize(("count", "expected"), [(100, set()), (101, {"prod/B/R100"})])
def test_rules_past_the_quota_across_the_stages_stacks_are_reported(
    count: int, expected: set[str]
) -> None:
    """Two stacks of one stage share the account's default bus: 60 + 41 is 101 rules."""
    stage = stage_in("af-south-1")
    add_rules(cdk.Stack(stage, "A"), 60)
    add_rules(cdk.Stack(stage, "B"), count - 60, start=60)
    assert fired(stage) == expected


def test_rules_on_another_bus_count_against_that_bus() -> None:
    stage = stage_in("af-south-1")
    stack = cdk.Stack(stage, "A")
    add_rules(stack, 100)
    add_rules(stack, 5, bus="ml-events", start=100)
    assert fired(stage) == set()
