"""Batch jobs in the review report: a line per batch job (a state machine running
sagemaker:createTransformJob) added, removed or changed in a service's section, and a per-job
cost line (instance-hours per run x runs a month) in the cost section. Small hand-built
templates shaped as mlops_cdk.constructs.batch_transform synthesizes them."""

from __future__ import annotations

import copy
import json
from typing import Any

from mlops_tools.review.batch import batch_jobs, batch_section
from mlops_tools.review.changes import diff_stacks
from mlops_tools.review.cost import cost_section
from mlops_tools.review.report import render_report

STACK = "prod-churn"
MACHINE = "BatchnightlyStateMachine"
HOURLY = 0.257  # ml.m5.xlarge hosting in eu-west-1, from the committed price file
DAILY_RUNS = 730 * 60 / (7 * 24 * 60) * 7  # a daily cron in a month of 730 hours


def machine(
    *,
    count: int = 2,
    instance_type: str = "ml.m5.xlarge",
    timeout: int = 7200,
    model: str = "ModelA",
    expected_minutes: int | None = 30,
) -> dict[str, Any]:
    """A state machine as CDK writes it: a definition joined around references."""
    definition = {
        "StartAt": "Transform",
        "States": {
            "Transform": {
                "Type": "Task",
                "Resource": "arn:@PARTITION@:states:::sagemaker:createTransformJob.sync",
                "Arguments": {
                    "ModelName": "@MODEL@",
                    "TransformResources": {"InstanceType": instance_type, "InstanceCount": count},
                },
                "TimeoutSeconds": timeout,
                "End": True,
            }
        },
    }
    head, rest = json.dumps(definition).split("@PARTITION@")
    middle, tail = rest.split("@MODEL@")
    resource: dict[str, Any] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": "prod-churn-nightly",
            "DefinitionString": {
                "Fn::Join": [
                    "",
                    [
                        head,
                        {"Ref": "AWS::Partition"},
                        middle,
                        {"Fn::GetAtt": [model, "ModelName"]},
                        tail,
                    ],
                ]
            },
        },
    }
    if expected_minutes is not None:
        resource["Metadata"] = {"MlopsBatch": {"ExpectedMinutesPerRun": expected_minutes}}
    return resource


def schedule(expression: str = "cron(0 2 * * ? *)", zone: str | None = "Europe/Dublin") -> Any:
    properties: dict[str, Any] = {
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": {"Ref": MACHINE}, "RoleArn": "arn:aws:iam::1:role/r"},
    }
    if zone is not None:
        properties["ScheduleExpressionTimezone"] = zone
    return {"Type": "AWS::Scheduler::Schedule", "Properties": properties}


def model() -> dict[str, Any]:
    return {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {"Image": "i:1"}}}


def stack(*, scheduled: bool = True, **machine_props: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {"ModelA": model(), MACHINE: machine(**machine_props)}
    if scheduled:
        resources["BatchnightlySchedule"] = schedule()
    return {"Resources": resources}


def lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return batch_section(before, after, diff_stacks(before, after), [STACK])


def test_a_state_machine_running_a_transform_job_is_a_batch_job() -> None:
    jobs = batch_jobs({STACK: stack()})
    job = jobs[(STACK, MACHINE)]
    assert job.name == "prod-churn-nightly"
    assert dict(job.fields) == {
        "model": "`ModelA`",
        "instances": "`2 x ml.m5.xlarge`",
        "schedule": "`cron(0 2 * * ? *)` Europe/Dublin",
        "timeout": "120 min",
    }
    other = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"DefinitionString": '{"StartAt":"P","States":{"P":{"Type":"Pass"}}}'},
    }
    assert batch_jobs({STACK: {"Resources": {"Other": other}}}) == {}


def test_an_added_job_is_described_whole() -> None:
    assert lines({}, {STACK: stack()}) == [
        "### Batch jobs",
        "",
        "- batch job `prod-churn-nightly` added: model `ModelA`, `2 x ml.m5.xlarge`, "
        "schedule `cron(0 2 * * ? *)` Europe/Dublin, timeout 120 min.",
        "",
    ]


def test_a_removed_job_says_what_it_was() -> None:
    (line,) = [x for x in lines({STACK: stack(scheduled=False)}, {STACK: {}}) if x.startswith("-")]
    assert line == (
        "- batch job `prod-churn-nightly` removed (was: model `ModelA`, `2 x ml.m5.xlarge`, "
        "schedule none (on demand), timeout 120 min)."
    )


def test_a_changed_job_shows_only_what_changes_before_and_after() -> None:
    before = {STACK: stack(scheduled=False, count=1, timeout=3600)}
    after = {STACK: stack(count=3, timeout=3600)}
    (line,) = [x for x in lines(before, after) if x.startswith("-")]
    assert line == (
        "- batch job `prod-churn-nightly` changed: instances `1 x ml.m5.xlarge` → "
        "`3 x ml.m5.xlarge`; schedule none (on demand) → `cron(0 2 * * ? *)` Europe/Dublin."
    )


def test_schedule_without_time_zone_is_utc_and_model_change_is_shown() -> None:
    before = {STACK: stack()}
    after = {STACK: stack(model="ModelB")}
    after[STACK]["Resources"]["BatchnightlySchedule"] = schedule("rate(6 hours)", zone=None)
    after[STACK]["Resources"]["ModelB"] = model()
    (line,) = [x for x in lines(before, after) if x.startswith("-")]
    assert "model `ModelA` → `ModelB`" in line
    assert "schedule `cron(0 2 * * ? *)` Europe/Dublin → `rate(6 hours)` UTC" in line


def test_a_replaced_model_is_said_to_reach_later_runs() -> None:
    before = {STACK: stack()}
    after = copy.deepcopy(before)
    after[STACK]["Resources"]["ModelA"]["Properties"]["PrimaryContainer"]["Image"] = "i:2"
    (line,) = [x for x in lines(before, after) if x.startswith("-")]
    assert line == (
        "- batch job `prod-churn-nightly` changed: model `ModelA` replaced: later runs use "
        "the new one."
    )


def test_other_changes_are_named_and_unchanged_jobs_give_one_line() -> None:
    before = {STACK: stack()}
    after = copy.deepcopy(before)
    after[STACK]["Resources"][MACHINE]["Properties"]["TracingConfiguration"] = {"Enabled": True}
    (line,) = [x for x in lines(before, after) if x.startswith("-")]
    assert line.endswith("changed: other settings of its state machine or schedule.")
    assert lines(before, before) == ["### Batch jobs", "", "No batch-job changes.", ""]
    assert batch_section(before, after, {}, ["prod-fraud"]) == []  # no job in those stacks


def test_the_service_section_of_the_report_has_the_batch_jobs() -> None:
    report = render_report("prod", "origin/main", {STACK: stack(count=1)}, {STACK: stack()})
    start = report.index("## Service `churn`")
    assert "### Batch jobs" in report[start:]
    assert "instances `1 x ml.m5.xlarge` → `2 x ml.m5.xlarge`" in report[start:]


def cost_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    section = cost_section("prod", before, after, region="eu-west-1")
    return [line for line in section if line.startswith("- ")]


def test_the_cost_section_has_a_line_per_job() -> None:
    after = {STACK: stack()}
    monthly = 2 * HOURLY * 0.5 * DAILY_RUNS
    (line,) = cost_lines({}, after)
    assert line == (
        f"- `churn`, `prod-churn-nightly`: 1 instance-h/run (2 x ml.m5.xlarge, 30 min) x "
        f"{DAILY_RUNS:.1f} runs/month (cron(0 2 * * ? *) Europe/Dublin) = {monthly:,.2f} "
        "(**new**)"
    )


def test_the_cost_line_shows_the_base_figure_when_it_changes() -> None:
    before = {STACK: stack(count=1, expected_minutes=None, scheduled=False)}
    after = {STACK: stack(count=1, expected_minutes=None, scheduled=False)}
    (same,) = cost_lines(before, after)
    assert same == (
        "- `churn`, `prod-churn-nightly`: 2 instance-h/run (1 x ml.m5.xlarge, 120 min "
        f"(timeout)) x 1.0 runs/month (started by hand: 1 run/month assumed) = {2 * HOURLY:,.2f}"
    )
    (changed,) = cost_lines(before, {STACK: stack(count=2, expected_minutes=None)})
    assert changed.endswith(f"= {4 * HOURLY * DAILY_RUNS:,.2f} (**was {2 * HOURLY:,.2f}**)")
    (removed,) = cost_lines(before, {STACK: {"Resources": {"ModelA": model()}}})
    assert removed == f"- `churn`, `prod-churn-nightly`: **removed** (was {2 * HOURLY:,.2f})"


def test_without_batch_jobs_the_cost_section_has_no_batch_lines() -> None:
    plain = {STACK: {"Resources": {"ModelA": model()}}}
    section = cost_section("prod", plain, plain, region="eu-west-1")
    assert not any("Batch jobs" in line for line in section)
