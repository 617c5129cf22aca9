"""``services.<name>.drift.heartbeat_hours``: two periods by default, at least one period and at
most CloudWatch's 7-day evaluation range; a bad value is one line naming the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_drift_config import WHERE, load, problems, with_drift


@pytest.mark.parametrize(
    ("drift", "hours"),
    [
        ({}, 2),  # rate(1 hour): one missed run is tolerated, two in a row are not
        ({"schedule": "rate(6 hours)", "window_hours": 6}, 12),
        ({"schedule": "rate(1 day)", "window_hours": 24}, 48),
        ({"heartbeat_hours": 1}, 1),
        ({"schedule": "rate(6 hours)", "window_hours": 6, "heartbeat_hours": 6}, 6),
        ({"heartbeat_hours": 168}, 168),
    ],
)
def test_heartbeat_defaults_to_two_periods(
    tmp_path: Path, drift: dict[str, Any], hours: int
) -> None:
    config = load(tmp_path, with_drift(drift)).services["svc"].drift
    assert config is not None
    assert config.heartbeat == hours


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        (
            {"schedule": "rate(6 hours)", "window_hours": 6, "heartbeat_hours": 5},
            "5 hours is shorter than the time between runs (rate(6 hours))",
        ),
        ({"heartbeat_hours": 0}, "greater than or equal to 1"),
        ({"heartbeat_hours": 169}, "less than or equal to 168"),
        ({"heartbeat_hours": "soon"}, "valid integer"),
    ],
)
def test_bad_heartbeat_is_one_line_naming_the_field(
    tmp_path: Path, drift: dict[str, Any], message: str
) -> None:
    (line,) = problems(tmp_path, with_drift(drift))
    assert line.startswith(f"{WHERE}.drift.heartbeat_hours: "), line
    assert message in line, line


def test_window_and_heartbeat_problems_are_reported_together(tmp_path: Path) -> None:
    drift = {"schedule": "rate(6 hours)", "window_hours": 3, "heartbeat_hours": 4}
    lines = problems(tmp_path, with_drift(drift))
    assert sorted(line.split(": ", 2)[1] for line in lines) == [
        "services.svc.drift.heartbeat_hours",
        "services.svc.drift.window_hours",
    ], lines
