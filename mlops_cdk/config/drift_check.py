"""``services.<name>.drift``: the service's own drift check (see README, "Drift check").

A scheduled function compares the last ``window_hours`` of the endpoint's data capture with the
service's baseline (``make baseline``) and publishes per-feature PSI (and KS for numeric
features), the share of drifted features and the number of records used; the drift alarm is
derived from these settings.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mlops_cdk.aws.facts import BASELINE_FILE, BASELINES_PREFIX, baseline_key
from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import Problems

# BASELINES_PREFIX, BASELINE_FILE and baseline_key: re-exported from mlops_cdk.aws.facts.
__all__ = [
    "BASELINES_PREFIX",
    "BASELINE_FILE",
    "MAX_FEATURES",
    "MAX_HEARTBEAT_HOURS",
    "MAX_RATE_MINUTES",
    "MAX_WINDOW_HOURS",
    "RATE_PATTERN",
    "DriftConfig",
    "baseline_key",
    "rate_minutes",
]

# EventBridge Scheduler rate expressions: ``rate(value unit)``, unit minute(s), hour(s) or
# day(s), singular for 1 and plural otherwise ("Schedule types on EventBridge Scheduler",
# EventBridge Scheduler User Guide).
RATE_PATTERN = re.compile(r"^rate\((?P<value>[1-9]\d{0,5}) (?P<unit>minutes?|hours?|days?)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
MAX_RATE_MINUTES = 1440  # CloudWatch evaluates an alarm over at most one day per period
MAX_WINDOW_HOURS = 168
MAX_FEATURES = 100
# The heartbeat alarm evaluates hourly periods, and CloudWatch caps Period x EvaluationPeriods at
# 7 days for periods of an hour or more (PutMetricAlarm "Period", CloudWatch API Reference).
MAX_HEARTBEAT_HOURS = 168
_FEATURE_NAME = re.compile(r"^[^\s,](?:[^,]{0,253}[^\s,])?$")


def rate_minutes(expression: str) -> int:
    """Minutes between runs of a valid ``rate(...)`` expression."""
    match = RATE_PATTERN.match(expression)
    if match is None:
        raise ValueError(f"{expression!r} is not a rate expression")
    return int(match["value"]) * _UNIT_MINUTES[match["unit"].rstrip("s")]


class DriftConfig(StrictModel):
    """Settings of one service's drift check."""

    schedule: str = Field(
        "rate(1 hour)",
        description="EventBridge Scheduler rate expression: rate(1 hour) to rate(1 day).",
    )
    window_hours: int = Field(
        24, ge=1, le=MAX_WINDOW_HOURS, description="Whole hours of data capture each run reads."
    )
    min_records: int = Field(
        500,
        ge=1,
        le=100_000_000,
        description="Fewer records in the window: only the record count is published.",
    )
    features: list[str] | None = Field(
        None,
        min_length=1,
        max_length=MAX_FEATURES,
        description="Features to check (default: every feature of the baseline).",
    )
    psi_threshold: float = Field(
        0.2, gt=0, le=10, description="A feature drifted when its PSI is at least this."
    )
    drifted_share_threshold: float = Field(
        0.3,
        gt=0,
        le=1,
        description="The drift alarm fires when at least this share of features drifted.",
    )
    retrain: bool = Field(False, description="The drift alarm also invokes retraining.")
    content_type: Literal["text/csv", "application/json"] = Field(
        "text/csv", description="How the endpoint's request payloads are parsed."
    )
    heartbeat_hours: int | None = Field(
        None,
        ge=1,
        le=MAX_HEARTBEAT_HOURS,
        description="The heartbeat alarm fires when no run completed for this many hours "
        "(default: two periods of the schedule; at least one period).",
    )

    @field_validator("schedule")
    @classmethod
    def _rate(cls, value: str) -> str:
        match = RATE_PATTERN.match(value)
        if match is None:
            raise ValueError(
                f"{value!r} is not an EventBridge Scheduler rate expression such as "
                "'rate(1 hour)' or 'rate(6 hours)'"
            )
        if (match["value"] == "1") != (not match["unit"].endswith("s")):
            raise ValueError(
                f"{value!r}: the unit is singular for 1 and plural otherwise "
                "('rate(1 hour)', 'rate(2 hours)')"
            )
        minutes = rate_minutes(value)
        if minutes % 60 or not 60 <= minutes <= MAX_RATE_MINUTES:
            raise ValueError(
                f"{value!r}: run every whole number of hours, from rate(1 hour) to rate(1 day) "
                "(the window is whole hours, and the alarm's period is the schedule's)"
            )
        return value

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for name in value:
            if not _FEATURE_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a feature name (1-255 characters, no comma, no leading or "
                    "trailing space)"
                )
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return value

    @model_validator(mode="after")
    def _cover_the_schedule(self) -> DriftConfig:
        problems = Problems()
        if self.window_hours * 60 < rate_minutes(self.schedule):
            problems.add(
                "window_hours",
                f"{self.window_hours} hours is shorter than the time between runs "
                f"({self.schedule}): some capture would never be checked",
            )
        if self.heartbeat_hours is not None and self.heartbeat_hours * 60 < self.period_minutes:
            problems.add(
                "heartbeat_hours",
                f"{self.heartbeat_hours} hours is shorter than the time between runs "
                f"({self.schedule}): the heartbeat alarm would fire between two good runs",
            )
        problems.raise_any()
        return self

    @property
    def period_minutes(self) -> int:
        """Minutes between runs: the drift alarm's period."""
        return rate_minutes(self.schedule)

    @property
    def heartbeat(self) -> int:
        """Hours without a completed run before the heartbeat alarm fires: ``heartbeat_hours``,
        else two periods (one missed run is tolerated, two in a row are not)."""
        if self.heartbeat_hours is not None:
            return self.heartbeat_hours
        return 2 * self.period_minutes // 60
