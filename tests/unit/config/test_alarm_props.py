"""The alarm settings are declared once (mlops_cdk.props.alarms): the configuration validates
YAML into the construct's own props, so nothing is carried over by hand (this replaces the
tests of the former mapping in app/props.py)."""

from __future__ import annotations

import dataclasses

from pydantic import TypeAdapter

from mlops_cdk.config.monitoring import MonitoringConfig
from mlops_cdk.config.service import OperationalOverrides, ServiceConfig
from mlops_cdk.constructs.alarms import AlarmThresholds, QualityAlarmSpec

SERVICE = {
    "models": [{"name": "m1", "image_tag": "1.0.0", "model_data_key": "m1/model.tar.gz"}],
    "variants": [
        {
            "name": "a",
            "model": "m1",
            "initial_weight": 1,
            "instance": {"instance_type": "ml.m5.large", "initial_instance_count": 1},
        }
    ],
}


def test_config_and_construct_share_their_alarm_defaults() -> None:
    assert MonitoringConfig().operational == AlarmThresholds()
    assert set(OperationalOverrides.model_fields) == {
        f.name for f in dataclasses.fields(AlarmThresholds)
    }


def test_every_threshold_is_carried_over() -> None:
    overrides = {
        "latency_ms": 250,
        "latency_statistic": "p90",
        "errors_5xx_percent": 2,
        "errors_4xx_percent": 7,
        "cpu_percent": 70,
        "memory_percent": 60,
        "disk_percent": 50,
        "gpu_percent": 40,
        "gpu_memory_percent": 30,
        "no_invocations_minutes": 45,
        "min_invocations": 10,
        "evaluation_periods": 9,
        "datapoints_to_alarm": 4,
        "rollback_on": ["errors_5xx"],
        "retrain_on": ["errors_4xx"],
        "scaled_to_max": False,
        "image_scans": False,
    }
    service = ServiceConfig.model_validate({**SERVICE, "alarms": overrides})
    thresholds = service.thresholds(AlarmThresholds())
    assert isinstance(thresholds, AlarmThresholds)  # what EndpointAlarms takes, as it is
    for field in dataclasses.fields(AlarmThresholds):
        assert getattr(thresholds, field.name) == overrides[field.name], field.name


def test_quality_alarm_is_carried_over() -> None:
    yaml_alarm = {
        "name": "auc",
        "namespace": "Quality",
        "metric_name": "AUC",
        "dimensions": {"Model": "churn"},
        "statistic": "Minimum",
        "threshold": 0.8,
        "comparison": "less_than",
        "period_minutes": 1440,
        "evaluation_periods": 2,
        "missing_data": "breaching",
        "description": "AUC dropped",
        "published_by": "the weekly evaluation job of the team",
    }
    service = ServiceConfig.model_validate({**SERVICE, "quality_alarms": [yaml_alarm]})
    (alarm,) = service.quality_alarms
    assert alarm == QualityAlarmSpec(
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
    assert alarm == TypeAdapter(QualityAlarmSpec).validate_python(yaml_alarm)
