"""The stacks' translation of validated configuration into the constructs' plain props."""

from __future__ import annotations

import dataclasses

from mlops_cdk.app.props import alarm_thresholds, quality_alarm
from mlops_cdk.config.monitoring import MetricAlarmConfig, OperationalThresholds
from mlops_cdk.constructs.alarms import AlarmThresholds, QualityAlarmSpec


def test_config_and_construct_share_their_alarm_defaults() -> None:
    assert alarm_thresholds(OperationalThresholds()) == AlarmThresholds()


def test_every_threshold_is_carried_over() -> None:
    config = OperationalThresholds(
        latency_ms=250,
        latency_statistic="p90",
        errors_5xx_percent=2,
        errors_4xx_percent=7,
        cpu_percent=70,
        memory_percent=60,
        disk_percent=50,
        gpu_percent=40,
        gpu_memory_percent=30,
        no_invocations_minutes=45,
        evaluation_periods=9,
        datapoints_to_alarm=4,
    )
    props = alarm_thresholds(config)
    for field in dataclasses.fields(AlarmThresholds):
        assert getattr(props, field.name) == getattr(config, field.name), field.name


def test_quality_alarm_is_carried_over() -> None:
    config = MetricAlarmConfig(
        name="auc",
        namespace="Quality",
        metric_name="AUC",
        dimensions={"Model": "churn"},
        statistic="Minimum",
        threshold=0.8,
        comparison="less_than",
        period_minutes=1440,
        evaluation_periods=2,
        missing_data="breaching",
        description="AUC dropped",
        published_by="the weekly evaluation job of the team",
    )
    assert quality_alarm(config) == QualityAlarmSpec(
        name="auc",
        namespace="Quality",
        metric_name="AUC",
        threshold=0.8,
        comparison="less_than",
        dimensions={"Model": "churn"},
        statistic="Minimum",
        period_minutes=1440,
        evaluation_periods=2,
        missing_data="breaching",
        description="AUC dropped",
        published_by="the weekly evaluation job of the team",
    )
