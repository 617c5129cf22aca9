"""AlarmMetricCount: CloudWatch allows a metric math alarm up to 10 metrics; expressions do not
count, and a single-metric alarm is not checked."""

from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch

from tests.unit.compliance.sagemaker.pack_helpers import alarm, fires, stage_stack

RULE = "AlarmMetricCount"


def errors(variant: int) -> cloudwatch.CfnAlarm.MetricDataQueryProperty:
    return cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id=f"e{variant}",
        return_data=False,
        metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
            metric=cloudwatch.CfnAlarm.MetricProperty(
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions=[
                    cloudwatch.CfnAlarm.DimensionProperty(name="EndpointName", value="prod-ep"),
                    cloudwatch.CfnAlarm.DimensionProperty(name="VariantName", value=f"v{variant}"),
                ],
            ),
            period=60,
            stat="Sum",
        ),
    )


@pytest.mark.parametrize(("metrics", "expected"), [(10, False), (11, True)])
def test_more_than_10_metrics_are_refused_expressions_aside(metrics: int, expected: bool) -> None:
    s = stage_stack()
    total = cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="total", expression="+".join(f"e{i}" for i in range(metrics)), return_data=True
    )
    cloudwatch.CfnAlarm(
        s,
        "Alarm",
        metrics=[*(errors(i) for i in range(metrics)), total],
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=1,
    )
    assert fires(s, "prod/S/Alarm", RULE) is expected


def test_a_single_metric_alarm_is_not_checked() -> None:
    s = stage_stack()
    alarm(s)
    assert not fires(s, "prod/S/Alarm", RULE)
