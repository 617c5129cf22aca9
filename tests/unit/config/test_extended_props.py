"""Sections that are a construct's props plus configuration-only fields (``drift``,
``retraining``): YAML validates into the props the stack passes on, the props' bounds and
checks apply, and the JSON Schema keeps every field's description."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from mlops_cdk.config.drift_check import DriftConfig
from mlops_cdk.config.retraining import RetrainingConfig
from mlops_cdk.props.drift import DriftSpec
from mlops_cdk.props.retraining import RetrainingSpec
from tests.unit.test_drift_config import RETRAINING, load, problems, with_drift


def test_drift_settings_are_the_checks_props(tmp_path: Path) -> None:
    data = with_drift({"schedule": "rate(6 hours)", "retrain": True}, retraining=RETRAINING)
    service = load(tmp_path, data).services["svc"]
    assert isinstance(service.drift, DriftSpec)
    assert service.drift.period_minutes == 360
    assert service.drift.heartbeat == 12  # two periods
    assert isinstance(service.retraining, RetrainingSpec)
    assert service.retraining.cooldown_seconds == 3600


@pytest.mark.parametrize(
    ("retraining", "field", "message"),
    [
        ({"cooldown_minutes": 4}, "cooldown_minutes", "greater than or equal to 5"),
        ({"cooldown_minutes": True}, "cooldown_minutes", "got the boolean true"),
        ({"reserved_concurrency": 1001}, "reserved_concurrency", "less than or equal to 1000"),
        ({"cooldown": 60}, "cooldown", "unknown field (did you mean 'cooldown_minutes'?"),
    ],
)
def test_retraining_settings_name_the_field(
    tmp_path: Path, retraining: dict[str, Any], field: str, message: str
) -> None:
    data = with_drift(None, retraining={**RETRAINING, **retraining}, quality_alarms=[])
    data["services"]["svc"]["alarms"] = {"retrain_on": ["latency"]}  # retraining has a trigger
    (line,) = problems(tmp_path, data)
    assert line.startswith(f"config/dev.yaml: services.svc.retraining.{field}: "), line
    assert message in line, line


@pytest.mark.parametrize(
    ("section", "props"), [(DriftConfig, DriftSpec), (RetrainingConfig, RetrainingSpec)]
)
def test_the_schema_keeps_the_props_descriptions(section: type[Any], props: type[Any]) -> None:
    schema = TypeAdapter(section).json_schema()["properties"]
    declared = TypeAdapter(props).json_schema()["properties"]
    for field in dataclasses.fields(props):
        assert declared[field.name]["description"], field.name
        assert schema[field.name]["description"] == declared[field.name]["description"]
