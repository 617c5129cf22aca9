"""``services.<name>.quality_check``: validated into the construct's props, its default
dimensions derived from the service, and quality alarms that must watch what it (or a named
external publisher) publishes. Every mistake is one line naming the file and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, EnvConfig, load_environment
from mlops_cdk.props.quality import QualityCheckSpec
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

BASE: dict[str, Any] = yaml_data((CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8"))
CHECK = {"problem": "binary", "metrics": ["auc", "accuracy"], "label_heartbeat_hours": 24}
ALARM = {
    "name": "auc",
    "namespace": "MlopsCdk/ModelQuality",
    "metric_name": "AUC",
    "dimensions": {"Service": "churn"},
    "statistic": "Minimum",
    "period_minutes": 1440,
    "threshold": 0.7,
    "comparison": "less_than",
}


def with_check(edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """dev.yaml where churn has a quality check and its AUC alarm watches it."""
    data = copy.deepcopy(BASE)
    churn = data["services"]["churn"]
    churn["quality_check"] = copy.deepcopy(CHECK)
    churn["quality_alarms"] = [copy.deepcopy(ALARM)]
    if edit is not None:
        edit(churn)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data, sort_keys=False), encoding="utf-8")
    return path


def load(tmp_path: Path, data: dict[str, Any]) -> EnvConfig:
    return load_environment(write(tmp_path, data), display="config/dev.yaml")


def problem(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, data)
    (line,) = excinfo.value.problems
    assert "\n" not in line
    return line


def test_valid_check_and_alarm(tmp_path: Path) -> None:
    churn = load(tmp_path, with_check()).services["churn"]
    assert churn.quality_check == QualityCheckSpec(
        problem="binary",
        metrics=["auc", "accuracy"],
        label_heartbeat_hours=24,
        dimensions={"Service": "churn"},  # derived from the service's name
    )
    assert churn.quality_alarms[0].published_by is None


def test_dimension_placeholders_are_filled(tmp_path: Path) -> None:
    def edit(churn: dict[str, Any]) -> None:
        churn["quality_check"]["dimensions"] = {"Model": "{service}", "Env": "{env}"}
        churn["quality_alarms"][0]["dimensions"] = {"Model": "{service}", "Env": "{env}"}

    churn = load(tmp_path, with_check(edit)).services["churn"]
    assert churn.quality_check is not None
    assert churn.quality_check.dimensions == {"Model": "churn", "Env": "dev"}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(churn: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target: Any = churn
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value

    return edit


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "quality_alarms.0.metric_name",
            "Precision",
            "quality_alarms[0].metric_name: 'Precision' is not published by this service's "
            "quality_check (it publishes AUC, Accuracy, MatchedLabels",
        ),
        (
            "quality_alarms.0.dimensions",
            {"Model": "churn"},
            "quality_alarms[0].dimensions: the quality_check publishes with dimensions "
            "{'Service': 'churn'}",
        ),
        (
            "quality_alarms.0.published_by",
            "the evaluation step of the retraining pipeline",
            "quality_alarms[0].published_by: MlopsCdk/ModelQuality/AUC is published by this "
            "service's quality_check: remove published_by",
        ),
        (
            "quality_check",
            None,
            "quality_alarms[0].published_by: namespace 'MlopsCdk/ModelQuality' is not published "
            "by AWS: say who puts this metric",
        ),
        (
            "quality_check.metrics",
            ["auc", "rmse"],
            "quality_check.metrics[1]: rmse is not a binary metric (accuracy, precision, recall, "
            "f1, auc)",
        ),
        (
            "quality_check.schedule",
            "rate(90 minutes)",
            "quality_check.schedule: 'rate(90 minutes)': run every whole number of hours",
        ),
        (
            "quality_check.label_heartbeat_hours",
            200,
            "quality_check.label_heartbeat_hours: Input should be less than or equal to 168",
        ),
        (
            "quality_check.variants",
            ["champion", "ghost"],
            "quality_check.variants[1]: unknown variant 'ghost'",
        ),
        (
            "quality_check.window",
            24,
            "quality_check.window: unknown field (did you mean 'window_hours'?",
        ),
        ("quality_check.problem", "ranking", "quality_check.problem: Input should be 'binary'"),
        (
            # 30 dimensions of 60-character values: JSON inside the environment's JSON (each
            # quote escaped) takes 2,250 bytes, over the 2,048 the check leaves them
            "quality_check.dimensions",
            {f"D{i:02d}": "v" * 60 for i in range(30)},
            "quality_check.dimensions: take 2250 bytes in the function's environment; at most "
            "2048 fit in Lambda's 4 KB of environment variables",
        ),
        (
            "data_capture",
            {"enabled": True, "capture_output": False},
            "quality_check: the quality check joins labels with the endpoint's captured "
            "predictions: set data_capture.enabled and data_capture.capture_output to true",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_field(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    if path == "quality_check.variants":
        variants = [v["name"] for v in BASE["services"]["churn"]["variants"]]
        value = [variants[0], "ghost"]
    found = problem(tmp_path, with_check(_set(path, value)))
    assert found.startswith(f"config/dev.yaml: services.churn.{expected}"), found


def test_alarm_of_an_external_publisher_stays_accepted(tmp_path: Path) -> None:
    def edit(churn: dict[str, Any]) -> None:
        churn["quality_alarms"].append(
            {
                **ALARM,
                "name": "clicks",
                "namespace": "Team/Clicks",
                "metric_name": "CTR",
                "published_by": "the ranking service's click logger, every minute",
            }
        )

    churn = load(tmp_path, with_check(edit)).services["churn"]
    assert [a.name for a in churn.quality_alarms] == ["auc", "clicks"]
