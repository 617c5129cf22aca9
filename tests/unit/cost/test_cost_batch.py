"""make cost for batch jobs: instances x hourly rate x minutes per run x runs a month of the
schedule that starts the state machine (one run a month when started by hand)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_tools.cost.assumptions import Assumptions
from mlops_tools.cost.batch import runs_per_month
from mlops_tools.cost.estimate import estimate_environment
from mlops_tools.cost.prices import PriceBook

REGION = "eu-west-1"
HOURLY = 0.257  # ml.m5.xlarge hosting, eu-west-1 (prices.csv)


def machine(*, timeout: int = 7200, expected: int | None = 30) -> dict[str, Any]:
    definition = {
        "StartAt": "Transform",
        "States": {
            "Transform": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
                "Arguments": {
                    "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2}
                },
                "TimeoutSeconds": timeout,
                "End": True,
            }
        },
    }
    text = json.dumps(definition)
    middle = len(text) // 2
    resource: dict[str, Any] = {
        "Type": "AWS::StepFunctions::StateMachine",
        # As CDK writes it: a join with a reference inside a string.
        "Properties": {"DefinitionString": {"Fn::Join": ["", [text[:middle], text[middle:]]]}},
    }
    if expected is not None:
        resource["Metadata"] = {"MlopsBatch": {"ExpectedMinutesPerRun": expected}}
    return resource


def schedule(expression: str, zone: str = "UTC") -> dict[str, Any]:
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": zone,
            "Target": {"Arn": {"Ref": "Machine"}},
        },
    }


def batch_line(resources: dict[str, Any]) -> Any:
    cost = estimate_environment(
        "test",
        {"test-svc": {"Resources": resources}},
        region=REGION,
        prices=PriceBook.load(),
        assumptions=Assumptions(),
    )
    (line,) = [i for i in cost.part("svc").items if i.description.startswith("batch transform")]
    return line


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(0 2 * * ? *)", 730 * 60 / (7 * 24 * 60) * 7),  # daily: 30.4 a month
        ("cron(0 2 ? * MON-FRI *)", 730 * 60 / (7 * 24 * 60) * 5),
        ("rate(6 hours)", 730 / 6),
        ("rate(1 day)", 730 / 24),
    ],
)
def test_runs_per_month(expression: str, runs: float) -> None:
    assert runs_per_month(expression, "Europe/Dublin") == pytest.approx(runs)


def test_a_nightly_job_costs_its_instances_for_each_run() -> None:
    line = batch_line({"Machine": machine(), "Schedule": schedule("cron(0 2 * * ? *)")})
    runs = 730 * 60 / (7 * 24 * 60) * 7
    assert line.idle == 0
    assert line.expected == pytest.approx(2 * HOURLY * 0.5 * runs)
    assert line.peak == line.expected
    assert "cron(0 2 * * ? *)" in line.assumption


def test_without_expected_minutes_the_timeout_is_counted() -> None:
    line = batch_line({"Machine": machine(expected=None), "Schedule": schedule("rate(1 day)")})
    assert line.expected == pytest.approx(2 * HOURLY * 2 * 730 / 24)
    assert "timeout minutes" in line.assumption


def test_a_job_started_by_hand_is_one_run_a_month() -> None:
    line = batch_line({"Machine": machine()})
    assert line.expected == pytest.approx(2 * HOURLY * 0.5)
    assert "1 run/month" in line.assumption


def test_every_enabled_schedule_adds_its_runs_and_a_disabled_one_none() -> None:
    weekdays, weekend = schedule("cron(0 2 ? * MON-FRI *)"), schedule("cron(0 2 ? * SAT,SUN *)")
    paused = schedule("rate(1 hour)")
    paused["Properties"]["State"] = "DISABLED"
    line = batch_line(
        {"Machine": machine(), "Weekdays": weekdays, "Weekend": weekend, "Paused": paused}
    )
    runs = 730 * 60 / (7 * 24 * 60) * 7  # five weekdays and two weekend days: every day
    assert line.expected == pytest.approx(2 * HOURLY * 0.5 * runs)
    assert "MON-FRI" in line.assumption
    assert "SAT,SUN" in line.assumption
    assert "rate(1 hour)" not in line.assumption
    only_paused = batch_line({"Machine": machine(), "Paused": paused})
    assert "started by hand" in only_paused.assumption


def test_a_scheduled_function_runs_as_often_as_its_schedule() -> None:
    """The drift and quality checks run every hour: 730 invocations a month, not the
    assumption for functions started by events."""
    function = {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512, "Timeout": 300}}
    hourly = {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "ScheduleExpression": "rate(1 hour)",
            "Target": {"Arn": {"Fn::GetAtt": ["Check", "Arn"]}},
        },
    }
    cost = estimate_environment(
        "test",
        {"test-svc": {"Resources": {"Check": function, "Hourly": hourly}}},
        region=REGION,
        prices=PriceBook.load(),
        assumptions=Assumptions(),
    )
    (line,) = [i for i in cost.part("svc").items if i.resource.endswith("Check")]
    assert line.assumption.startswith("730 invocations/month (rate(1 hour) UTC) x 300 s")
    unscheduled = estimate_environment(
        "test",
        {"test-svc": {"Resources": {"Check": function}}},
        region=REGION,
        prices=PriceBook.load(),
        assumptions=Assumptions(),
    )
    (other,) = [i for i in unscheduled.part("svc").items if i.resource.endswith("Check")]
    assert other.assumption.startswith("100 invocations/month x 300 s")
    assert line.expected == pytest.approx(other.expected * 7.3)
