"""Asynchronous endpoints in the review report: concurrency per instance, output and failure
locations, notifications, and the scaling (min / max with scale to zero, target backlog per
instance, the wake-from-zero policy), before → after like the variants table. Small hand-built
templates shaped as mlops_cdk.constructs.async_scaling synthesizes them."""

from __future__ import annotations

import copy
from typing import Any

from mlops_tools.review.async_endpoints import async_section
from mlops_tools.review.deployment import Side
from mlops_tools.review.report import render_report

STACK = "dev-documents"
NAME = "dev-documents"
TARGET = "AsyncScalingTarget"
WAKE = "AsyncScalingWakePolicy"


def endpoint_config(*, concurrency: int | None = 4, notifications: bool = True) -> Any:
    output: dict[str, Any] = {
        "S3OutputPath": "s3://bucket/async/documents/output",
        "S3FailurePath": "s3://bucket/async/documents/failures",
        "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
    }
    if notifications:
        output["NotificationConfig"] = {
            "SuccessTopic": {"Ref": "Success"},
            "ErrorTopic": {"Ref": "Error"},
        }
    config: dict[str, Any] = {"OutputConfig": output}
    if concurrency is not None:
        config["ClientConfig"] = {"MaxConcurrentInvocationsPerInstance": concurrency}
    return {
        "Type": "AWS::SageMaker::EndpointConfig",
        "Properties": {
            "AsyncInferenceConfig": config,
            "ProductionVariants": [
                {
                    "VariantName": "primary",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                }
            ],
        },
    }


def scaling(
    *, minimum: int = 0, maximum: int = 2, backlog: float = 5, wake: bool = True
) -> dict[str, Any]:
    resources: dict[str, Any] = {
        TARGET: {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ResourceId": f"endpoint/{NAME}/variant/primary",
                "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                "ServiceNamespace": "sagemaker",
                "MinCapacity": minimum,
                "MaxCapacity": maximum,
            },
        },
        "AsyncScalingBacklog": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": TARGET},
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": backlog,
                    "CustomizedMetricSpecification": {
                        "MetricName": "ApproximateBacklogSizePerInstance",
                        "Namespace": "AWS/SageMaker",
                        "Statistic": "Average",
                        "Dimensions": [{"Name": "EndpointName", "Value": NAME}],
                    },
                },
            },
        },
    }
    if wake:
        resources[WAKE] = {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyType": "StepScaling",
                "ScalingTargetId": {"Ref": TARGET},
                "StepScalingPolicyConfiguration": {
                    "AdjustmentType": "ChangeInCapacity",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
                },
            },
        }
        resources["AsyncScalingWakeAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "MetricName": "HasBacklogWithoutCapacity",
                "Namespace": "AWS/SageMaker",
                "Dimensions": [{"Name": "EndpointName", "Value": NAME}],
                "AlarmActions": [{"Ref": WAKE}],
                "Threshold": 1,
            },
        }
    return resources


def template(config: Any = None, **scaling_props: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "EndpointConfig": config or endpoint_config(),
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": NAME,
                    "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
                },
            },
            **scaling(**scaling_props),
        }
    }


def rows(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """setting -> the cell of the (only) endpoint column."""
    lines = async_section(Side(before), Side(after))
    found = {}
    for line in lines[4:]:  # heading, blank, table header, separator
        if line.startswith("| "):
            setting, cell = line.strip("| ").split(" | ")
            found[setting] = cell
    return found


def test_a_new_asynchronous_endpoint_shows_every_setting() -> None:
    lines = async_section(Side({}), Side({STACK: template()}))
    assert lines[:4] == [
        "### Asynchronous endpoints",
        "",
        "| setting | `dev-documents` (new) |",
        "| --- | --- |",
    ]
    assert rows({}, {STACK: template()}) == {
        "mode": "**— → asynchronous**",
        "concurrency per instance": "**— → 4**",
        "output": "**— → `s3://bucket/async/documents/output`**",
        "failures": "**— → `s3://bucket/async/documents/failures`**",
        "output key": "**— → `${Key.Arn}`**",
        "notifications": "**— → success, error**",
        "instances (min / max)": "**— → 0 (scales to zero) / 2**",
        "target backlog per instance": "**— → 5**",
        "wake from zero": "**— → yes**",
    }


def test_changes_are_before_and_after_and_the_rest_as_is() -> None:
    before = {STACK: template(endpoint_config(concurrency=None), minimum=1, wake=False)}
    after = {STACK: template(endpoint_config(notifications=False), backlog=2)}
    found = rows(before, after)
    assert found["concurrency per instance"] == "**SageMaker's choice → 4**"
    assert found["notifications"] == "**success, error → off**"
    assert found["instances (min / max)"] == "**1 / 2 → 0 (scales to zero) / 2**"
    assert found["target backlog per instance"] == "**5 → 2**"
    assert found["wake from zero"] == "**no → yes**"
    assert found["output"] == "`s3://bucket/async/documents/output`"
    assert found["mode"] == "asynchronous"


def test_a_wake_policy_without_its_alarm_does_not_wake() -> None:
    after = template()
    del after["Resources"]["AsyncScalingWakeAlarm"]
    assert rows({STACK: template()}, {STACK: after})["wake from zero"] == "**yes → no**"


def test_scheduled_bounds_that_reach_zero_are_shown() -> None:
    after = template(minimum=1)
    after["Resources"][TARGET]["Properties"]["ScheduledActions"] = [
        {
            "ScheduledActionName": "Nights",
            "Schedule": "cron(0 20 * * ? *)",
            "Timezone": "Europe/Dublin",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 1},
        },
        {
            "ScheduledActionName": "Days",
            "Schedule": "cron(0 6 * * ? *)",
            "ScalableTargetAction": {"MinCapacity": 1},
        },
    ]
    cell = rows({STACK: template(minimum=1)}, {STACK: after})["scheduled bounds"]
    assert cell == (
        "**— → Nights: min 0 (scales to zero), max 1 at `cron(0 20 * * ? *)` Europe/Dublin<br>"
        "Days: min 1 at `cron(0 6 * * ? *)` UTC**"
    )


def test_a_real_time_endpoint_that_becomes_asynchronous() -> None:
    config = endpoint_config()
    real_time = copy.deepcopy(config)
    del real_time["Properties"]["AsyncInferenceConfig"]
    found = rows({STACK: template(real_time)}, {STACK: template(config)})
    assert found["mode"] == "**real-time → asynchronous**"
    assert found["output"] == "**— → `s3://bucket/async/documents/output`**"


def test_unchanged_or_absent_asynchronous_endpoints() -> None:
    same = {STACK: template()}
    assert async_section(Side(same), Side(same)) == [
        "### Asynchronous endpoints",
        "",
        "No asynchronous-endpoint changes.",
        "",
    ]
    assert async_section(Side(same), Side(same), stacks=["dev-churn"]) == []
    real_time = endpoint_config()
    del real_time["Properties"]["AsyncInferenceConfig"]
    assert async_section(Side({}), Side({STACK: template(real_time)})) == []


def test_the_service_section_of_the_report_has_the_asynchronous_endpoints() -> None:
    report = render_report("dev", "origin/main", {STACK: template()}, {STACK: template(backlog=3)})
    start = report.index("## Service `documents`")
    section = report[start:]
    assert "### Asynchronous endpoints" in section
    assert "| target backlog per instance | **5 → 3** |" in section
