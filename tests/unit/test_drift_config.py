"""``services.<name>.drift`` and ``change_detection``: valid settings and one clear line naming
the file and the field for every bad input."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, EnvConfig, load_environment
from mlops_cdk.config.drift_check import baseline_key, rate_minutes
from tests.helpers import yaml_text
from tests.unit.config.test_serving_validation import SERVING, config_with

MONITORING: dict[str, Any] = {"alarm_emails": ["team@example.com"]}
RETRAINING = {"pipeline": {"name": "retrain"}}
WHERE = "config/dev.yaml: services.svc"


def load(tmp_path: Path, data: dict[str, Any]) -> EnvConfig:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data))
    return load_environment(path, display="config/dev.yaml")


def problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, data)
    return excinfo.value.problems


def with_drift(drift: dict[str, Any] | None = None, **service: Any) -> dict[str, Any]:
    serving = {**copy.deepcopy(SERVING), **service}
    if drift is not None:
        serving["drift"] = drift
    return config_with(serving, monitoring=copy.deepcopy(MONITORING))


def test_defaults(tmp_path: Path) -> None:
    drift = load(tmp_path, with_drift({})).services["svc"].drift
    assert drift is not None
    assert (drift.schedule, drift.window_hours, drift.min_records) == ("rate(1 hour)", 24, 500)
    assert (drift.psi_threshold, drift.drifted_share_threshold) == (0.2, 0.3)
    assert (drift.features, drift.retrain, drift.content_type) == (None, False, "text/csv")
    assert drift.period_minutes == 60
    assert baseline_key("svc") == "baselines/svc/baseline.json"


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("rate(1 hour)", 60),
        ("rate(6 hours)", 360),
        ("rate(1 day)", 1440),
        ("rate(120 minutes)", 120),
    ],
)
def test_valid_schedules(tmp_path: Path, expression: str, minutes: int) -> None:
    drift = load(tmp_path, with_drift({"schedule": expression})).services["svc"].drift
    assert drift is not None
    assert drift.period_minutes == rate_minutes(expression) == minutes


def test_full_settings(tmp_path: Path) -> None:
    data = with_drift(
        {
            "schedule": "rate(2 hours)",
            "window_hours": 48,
            "min_records": 10,
            "features": ["tenure", "plan type"],
            "psi_threshold": 0.1,
            "drifted_share_threshold": 1,
            "retrain": True,
            "content_type": "application/json",
        },
        retraining=RETRAINING,
    )
    drift = load(tmp_path, data).services["svc"].drift
    assert drift is not None
    assert drift.features == ["tenure", "plan type"]
    assert drift.retrain


def test_drift_alone_may_trigger_retraining(tmp_path: Path) -> None:
    data = with_drift({"retrain": True}, retraining=RETRAINING)
    assert load(tmp_path, data).services["svc"].retraining is not None


@pytest.mark.parametrize(
    ("drift", "field", "message"),
    [
        ({"schedule": "cron(0 * * * ? *)"}, "schedule", "not an EventBridge Scheduler rate"),
        ({"schedule": "rate(1 hours)"}, "schedule", "singular for 1"),
        ({"schedule": "rate(2 hour)"}, "schedule", "singular for 1"),
        ({"schedule": "rate(30 minutes)"}, "schedule", "whole number of hours"),
        ({"schedule": "rate(2 days)"}, "schedule", "rate(1 day)"),
        ({"schedule": "rate(0 hours)"}, "schedule", "not an EventBridge Scheduler rate"),
        ({"window_hours": 0}, "window_hours", "greater than or equal to 1"),
        ({"window_hours": 169}, "window_hours", "less than or equal to 168"),
        ({"schedule": "rate(6 hours)", "window_hours": 3}, "window_hours", "shorter than"),
        ({"min_records": 0}, "min_records", "greater than or equal to 1"),
        ({"features": []}, "features", "at least 1 item"),
        ({"features": ["a", "a"]}, "features", "lists a more than once"),
        ({"features": ["a,b"]}, "features", "not a feature name"),
        ({"features": [" a"]}, "features", "not a feature name"),
        # 100 names of 30 characters and 99 commas: 3,099 bytes in the environment, over 3,072
        (
            {"features": [f"f{i:02d}" + "x" * 27 for i in range(100)]},
            "features",
            "100 names take 3099 bytes in the function's environment; at most 3072 fit",
        ),
        # bytes, not characters: 1,699 characters, but each "é" takes 2 bytes in UTF-8
        (
            {"features": [f"{i:02d}" + "é" * 14 for i in range(100)]},
            "features",
            "100 names take 3099 bytes",
        ),
        ({"psi_threshold": 0}, "psi_threshold", "greater than 0"),
        ({"drifted_share_threshold": 1.5}, "drifted_share_threshold", "less than or equal to 1"),
        ({"drifted_share_threshold": 0}, "drifted_share_threshold", "greater than 0"),
        ({"content_type": "text/xml"}, "content_type", "'text/csv' or 'application/json'"),
        ({"retrain": "often"}, "retrain", "valid boolean"),
        ({"window": 3}, "window", "unknown field (did you mean 'window_hours'?"),
    ],
)
def test_bad_drift_settings(
    tmp_path: Path, drift: dict[str, Any], field: str, message: str
) -> None:
    (line,) = problems(tmp_path, with_drift(drift))
    assert line.startswith(f"{WHERE}.drift.{field}: "), line
    assert message in line, line


def test_drift_needs_data_capture(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, with_drift({}, data_capture={"enabled": False}))
    assert line.startswith(f"{WHERE}.drift: "), line
    assert "data_capture.enabled" in line


def test_drift_needs_captured_input(tmp_path: Path) -> None:
    capture = {"capture_input": False, "capture_output": True}
    (line,) = problems(tmp_path, with_drift({}, data_capture=capture))
    assert "data_capture.capture_input" in line, line


def test_retraining_drift_needs_retraining(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, with_drift({"retrain": True}))
    assert line.startswith(f"{WHERE}.retraining: "), line
    assert "retraining triggers: configure retraining" in line


def test_drift_needs_monitoring(tmp_path: Path) -> None:
    data = with_drift({})
    del data["monitoring"]
    (line,) = problems(tmp_path, data)
    assert line.startswith("config/dev.yaml: monitoring: "), line


# --- change_detection ------------------------------------------------------------------------


def with_change_detection(change: Any, *, monitoring: bool = True) -> dict[str, Any]:
    data = config_with(copy.deepcopy(SERVING), monitoring=copy.deepcopy(MONITORING))
    if not monitoring:
        del data["monitoring"]
    data["change_detection"] = change
    return data


def test_change_detection_create_and_existing(tmp_path: Path) -> None:
    created = load(tmp_path, with_change_detection({"trail": "create"})).change_detection
    assert created is not None
    assert (created.creates_trail, created.log_retention_days) == (True, 365)
    existing = load(
        tmp_path, with_change_detection({"trail": "existing", "existing_trail_name": "org-trail"})
    ).change_detection
    assert existing is not None
    assert not existing.creates_trail
    arn = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org.audit_trail"
    data = with_change_detection({"trail": "existing", "existing_trail_name": arn})
    assert load(tmp_path, data).change_detection is not None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"trail": "maybe"}, "trail", "'create' or 'existing'"),
        ({}, "trail", "required field is missing"),
        ({"trail": "existing"}, "existing_trail_name", "name the trail"),
        ({"trail": "existing", "existing_trail_name": "ab"}, "existing_trail_name", "not a"),
        ({"trail": "existing", "existing_trail_name": "a..b"}, "existing_trail_name", "not a"),
        ({"trail": "existing", "existing_trail_name": "-trail"}, "existing_trail_name", "not a"),
        ({"trail": "create", "existing_trail_name": "org"}, "existing_trail_name", "only with"),
        ({"trail": "create", "log_retention_days": 0}, "log_retention_days", "greater than"),
        ({"trail": "create", "bucket": "b"}, "bucket", "unknown field"),
    ],
)
def test_bad_change_detection(tmp_path: Path, change: Any, field: str, message: str) -> None:
    (line,) = problems(tmp_path, with_change_detection(change))
    assert line.startswith(f"config/dev.yaml: change_detection.{field}: "), line
    assert message in line, line


def test_change_detection_needs_monitoring(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, with_change_detection({"trail": "create"}, monitoring=False))
    assert line.startswith("config/dev.yaml: change_detection: "), line
    assert "configure monitoring" in line
