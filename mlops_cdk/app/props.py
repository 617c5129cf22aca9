"""Validated configuration models translated into the constructs' plain props.

The constructs take frozen dataclasses and CDK types (they work without the YAML
configuration); the stacks convert the pydantic models here, in one place."""

from __future__ import annotations

import dataclasses

from mlops_cdk.config.monitoring import MetricAlarmConfig, OperationalThresholds
from mlops_cdk.constructs.alarms import AlarmThresholds, QualityAlarmSpec


def alarm_thresholds(thresholds: OperationalThresholds) -> AlarmThresholds:
    """The construct's thresholds from the service's (environment defaults + overrides)."""
    names = [f.name for f in dataclasses.fields(AlarmThresholds)]
    return AlarmThresholds(**{name: getattr(thresholds, name) for name in names})


def quality_alarm(config: MetricAlarmConfig) -> QualityAlarmSpec:
    """One quality alarm of the configuration as the construct's spec."""
    return QualityAlarmSpec(
        name=config.name,
        namespace=config.namespace,
        metric_name=config.metric_name,
        threshold=config.threshold,
        comparison=config.comparison,
        dimensions=dict(config.dimensions),
        statistic=config.statistic,
        period_minutes=config.period_minutes,
        evaluation_periods=config.evaluation_periods,
        missing_data=config.missing_data,
        description=config.description,
        published_by=config.published_by,
    )
