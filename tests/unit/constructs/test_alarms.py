"""EndpointAlarms: metrics, thresholds, units, missing-data treatment, selection."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from mlops_cdk.constructs.alarms import AlarmThresholds, EndpointAlarms, QualityAlarmSpec
from mlops_cdk.props.errors import PropProblems
from tests.helpers import new_stack


@pytest.fixture(scope="module")
def built() -> tuple[Template, EndpointAlarms]:
    stack = new_stack()
    alarms = EndpointAlarms(
        stack,
        "Alarms",
        endpoint_name="ep",
        # ml.m5.xlarge: 4 vCPUs; ml.g5.12xlarge: 48 vCPUs and 4 GPUs; serverless: no instances
        variants={"champion": "ml.m5.xlarge", "challenger": "ml.g5.12xlarge", "sls": None},
        thresholds=AlarmThresholds(latency_ms=250, errors_5xx_percent=2, no_invocations_minutes=30),
        quality_alarms=[
            QualityAlarmSpec(
                name="auc",
                namespace="Quality",
                metric_name="AUC",
                dimensions={"Model": "churn"},
                statistic="Minimum",
                threshold=0.8,
                comparison="less_than",
                period_minutes=1440,
                published_by="the weekly evaluation job of the team",
            )
        ],
    )
    return Template.from_stack(stack), alarms


def alarm_with(template: Template, description_start: str) -> dict[str, Any]:
    for resource in template.find_resources("AWS::CloudWatch::Alarm").values():
        if resource["Properties"]["AlarmDescription"].startswith(description_start):
            props: dict[str, Any] = resource["Properties"]
            return props
    raise AssertionError(f"no alarm described {description_start!r}")


def test_alarm_set_per_variant(built: tuple[Template, EndpointAlarms]) -> None:
    _, alarms = built
    traffic = {"latency", "errors_5xx", "errors_4xx", "no_invocations"}
    instance = {"cpu", "memory", "disk"}
    gpu = {"gpu", "gpu_memory"}
    expected = {
        *(("champion", k) for k in traffic | instance),
        *(("challenger", k) for k in traffic | instance | gpu),
        # serverless: no instances, but MemoryUtilization ("Monitor a serverless endpoint")
        *(("sls", k) for k in traffic | {"memory"}),
    }
    assert set(alarms.alarms) == expected
    assert set(alarms.quality) == {"auc"}
    built[0].resource_count_is("AWS::CloudWatch::Alarm", len(expected) + 1)


@pytest.mark.parametrize(
    ("description", "threshold"),
    [
        # CPUUtilization is summed over vCPUs: 90 % of a 4-vCPU instance is 360
        ("champion: CPUUtilization above 90% of the instance (360 summed over 4 vCPUs)", 360),
        ("challenger: CPUUtilization above 90% of the instance (4320 summed over 48", 4320),
        ("challenger: GPUUtilization above 90% of the instance (360 summed over 4 GPUs)", 360),
        ("challenger: GPUMemoryUtilization above 90% of the instance (360 summed", 360),
        ("champion: MemoryUtilization above 85% of the instance", 85),
        ("sls: MemoryUtilization above 85% of the serverless memory size", 85),
    ],
)
def test_utilization_thresholds_are_scaled_to_the_instance(
    built: tuple[Template, EndpointAlarms], description: str, threshold: float
) -> None:
    assert alarm_with(built[0], description)["Threshold"] == threshold


def test_latency_threshold_in_microseconds_not_breaching(
    built: tuple[Template, EndpointAlarms],
) -> None:
    props = alarm_with(built[0], "champion: ModelLatency p99")
    assert props["MetricName"] == "ModelLatency"
    assert props["Namespace"] == "AWS/SageMaker"
    assert props["ExtendedStatistic"] == "p99"
    assert props["Threshold"] == 250_000
    assert props["TreatMissingData"] == "notBreaching"
    assert props["Dimensions"] == [
        {"Name": "EndpointName", "Value": "ep"},
        {"Name": "VariantName", "Value": "champion"},
    ]
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (5, 3)


def test_5xx_is_a_rate_of_invocations(built: tuple[Template, EndpointAlarms]) -> None:
    props = alarm_with(built[0], "champion: Invocation5XXErrors above 2%")
    assert props["Threshold"] == 2
    expression = next(m for m in props["Metrics"] if "Expression" in m)
    assert expression["Expression"] == (
        "IF(inv_champion_invocation5xxerrors > 0, 100 * err_champion_invocation5xxerrors / "
        "inv_champion_invocation5xxerrors, 0)"
    )
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}
    assert names == {"Invocation5XXErrors", "Invocations"}


def test_error_rates_can_skip_quiet_minutes_and_rollback_alarms_are_the_same() -> None:
    """``min_invocations``: a minute with fewer requests reads 0 (one failure in two is 50 %),
    for the 5XX and 4XX alarms alike, and the deployment's rollback alarm is the same alarm."""
    stack = new_stack()
    alarms = EndpointAlarms(
        stack,
        "Alarms",
        endpoint_name="ep",
        variants={"champion": "ml.m5.xlarge"},
        thresholds=AlarmThresholds(min_invocations=20),
    )
    template = Template.from_stack(stack)
    for metric in ("Invocation5XXErrors", "Invocation4XXErrors"):
        props = alarm_with(template, f"champion: {metric} above")
        assert props["AlarmDescription"].endswith(
            "% of invocations (minutes with at least 20 invocations)"
        )
        suffix = f"champion_{metric.lower()}"
        (expression,) = [m["Expression"] for m in props["Metrics"] if "Expression" in m]
        assert expression == f"IF(inv_{suffix} >= 20, 100 * err_{suffix} / inv_{suffix}, 0)"
    assert alarms.alarms[("champion", "errors_5xx")] in alarms.rollback_alarms


@pytest.mark.parametrize("value", [0, -1, 1_000_001, 2.5, True])
def test_a_minimum_request_count_below_one_or_not_whole_is_refused(value: Any) -> None:
    with pytest.raises(PropProblems, match="min_invocations"):
        AlarmThresholds(min_invocations=value)


def test_utilization_keeps_state_on_missing_data(built: tuple[Template, EndpointAlarms]) -> None:
    for start in ("champion: CPUUtilization", "champion: MemoryUtilization", "champion: Disk"):
        props = alarm_with(built[0], start)
        assert props["Namespace"] == "/aws/sagemaker/Endpoints"
        assert props["TreatMissingData"] == "missing"


def test_no_invocations_treats_missing_as_breaching(built: tuple[Template, EndpointAlarms]) -> None:
    props = alarm_with(built[0], "champion: no invocations for 30 minutes")
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["Threshold"] == 1
    assert props["Period"] == 300
    assert props["EvaluationPeriods"] == 6
    assert props["TreatMissingData"] == "breaching"


def test_quality_alarm_from_config(built: tuple[Template, EndpointAlarms]) -> None:
    props = alarm_with(built[0], "AUC less_than 0.8")
    assert props["Namespace"] == "Quality"
    assert props["Statistic"] == "Minimum"
    assert props["Period"] == 86400
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["TreatMissingData"] == "ignore"
    assert props["Dimensions"] == [{"Name": "Model", "Value": "churn"}]


def test_for_kinds_selects_every_variant(built: tuple[Template, EndpointAlarms]) -> None:
    _, alarms = built
    assert len(alarms.for_kinds(["latency", "errors_5xx"])) == 6
    assert alarms.for_kinds([]) == []


def test_needs_a_variant() -> None:
    with pytest.raises(ValueError, match="at least one variant"):
        EndpointAlarms(
            new_stack(),
            "A",
            endpoint_name="ep",
            variants={},
        )


def test_unknown_instance_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not a SageMaker hosting instance type"):
        EndpointAlarms(
            new_stack(),
            "A",
            endpoint_name="ep",
            variants={"a": "ml.c5.huge"},
        )


def test_thresholds_default_to_the_documented_values() -> None:
    alarms = EndpointAlarms(new_stack(), "A", endpoint_name="ep", variants={"a": "ml.m5.large"})
    assert alarms.thresholds == AlarmThresholds()
    template = Template.from_stack(Stack.of(alarms))
    props = alarm_with(template, "a: ModelLatency p99 above 1000 ms")
    assert props["Threshold"] == 1_000_000
    assert alarm_with(template, "a: CPUUtilization above 90%")["Threshold"] == 180  # 2 vCPUs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latency_ms": 0}, "latency_ms: Input should be greater than 0"),
        ({"cpu_percent": 101}, "cpu_percent: Input should be less than or equal to 100"),
        ({"evaluation_periods": 2, "datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        (
            {"no_invocations_minutes": 1},
            "no_invocations_minutes: Input should be greater than or equal to 5",
        ),
    ],
)
def test_invalid_thresholds_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlarmThresholds(**kwargs)


def test_invalid_quality_alarm_is_refused() -> None:
    with pytest.raises(ValueError, match="comparison: Input should be 'greater_than'"):
        QualityAlarmSpec(
            name="q",
            namespace="AWS/X",
            metric_name="M",
            threshold=1,
            comparison="above",  # type: ignore[arg-type]
        )


def test_a_quality_alarm_named_twice_is_one_line() -> None:
    """Its name is its construct id: CDK would say "There is already a Construct with name
    'Quality-auc'"; the configuration's rule, the construct's own."""
    auc = QualityAlarmSpec(
        name="auc",
        namespace="Custom/Quality",
        metric_name="auc",
        threshold=0.7,
        comparison="less_than",
        published_by="the weekly evaluation of the churn model",
    )
    with pytest.raises(PropProblems) as raised:
        EndpointAlarms(
            new_stack(),
            "Alarms",
            endpoint_name="churn",
            variants={"main": "ml.m5.xlarge"},
            quality_alarms=[auc, auc],
        )
    assert str(raised.value) == "EndpointAlarms: quality_alarms[1].name: duplicate alarm 'auc'"


# "Alarms and logs for tracking metrics from asynchronous endpoints": "Any metric not listed
# below is not published if the endpoint is enabled for asynchronous inference. Such metrics
# include (but are not limited to): OverheadLatency, Invocations, InvocationsPerInstance".
NOT_PUBLISHED_FOR_ASYNC = {"Invocations", "InvocationsPerInstance", "OverheadLatency"}


def watched(props: dict[str, Any]) -> set[str]:
    """The metric names an alarm watches: its own, or those of its metric math."""
    if "MetricName" in props:
        return {props["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}


def test_an_asynchronous_endpoints_error_rates_divide_by_invocations_processed() -> None:
    """Its 5XX / 4XX rates divide by InvocationsProcesssed (Invocations never has data there,
    so the rates, the rollback alarm among them, could never fire); the alarms keep the
    construct ids, and so the logical ids, a real-time endpoint's have."""
    templates = {}
    for asynchronous in (False, True):
        stack = new_stack()
        EndpointAlarms(
            stack, "Alarms", endpoint_name="ep", variants={"primary": "ml.m5.large"},
            asynchronous=asynchronous,
        )  # fmt: skip
        templates[asynchronous] = Template.from_stack(stack)
    template = templates[True]
    for errors in ("Invocation5XXErrors", "Invocation4XXErrors"):
        props = alarm_with(template, f"primary: {errors} above")
        assert watched(props) == {errors, "InvocationsProcesssed"}
        suffix = f"primary_{errors.lower()}"
        (expression,) = [m["Expression"] for m in props["Metrics"] if "Expression" in m]
        assert expression == f"IF(inv_{suffix} > 0, 100 * err_{suffix} / inv_{suffix}, 0)"
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert not set().union(*(watched(a["Properties"]) for a in alarms.values())) & (
        NOT_PUBLISHED_FOR_ASYNC
    )
    assert set(alarms) == set(templates[False].find_resources("AWS::CloudWatch::Alarm"))


def test_an_asynchronous_endpoint_refuses_a_no_invocations_alarm() -> None:
    with pytest.raises(PropProblems) as raised:
        EndpointAlarms(
            new_stack(),
            "Alarms",
            endpoint_name="ep",
            variants={"primary": "ml.m5.large"},
            thresholds=AlarmThresholds(no_invocations_minutes=30),
            asynchronous=True,
        )
    assert str(raised.value) == (
        "EndpointAlarms: thresholds.no_invocations_minutes: an asynchronous endpoint publishes "
        "no Invocations metric, so the alarm would be in ALARM for ever: leave it unset (the "
        "asynchronous endpoint's own alarms watch the backlog and the failed invocations)"
    )
