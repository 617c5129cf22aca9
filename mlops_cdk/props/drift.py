"""Props of a service's drift check (``services.<name>.drift``): a scheduled function compares
the last ``window_hours`` of the endpoint's data capture with the service's baseline
(``make baseline``) and publishes per-feature PSI (and KS for numeric features), the share of
drifted features and the number of records used; the drift alarm and the heartbeat alarm are
derived from the same settings. Taken by :class:`mlops_cdk.constructs.drift_check.DriftCheck`;
the configuration validates YAML into the same class (adding only ``retrain``, a wiring decision
of the stack).

Pure Python: no aws_cdk, pydantic or boto3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from mlops_cdk.aws.facts import DRIFT_FEATURES_MAX_BYTES, json_text_bytes
from mlops_cdk.aws.schedules import SCHEDULER_RATE, rate_expression_minutes
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, Check, checked_types, declared_problems

# EventBridge Scheduler rate expressions: ``rate(value unit)``, a positive value and a unit of
# minutes, hours or days ("Schedule types in EventBridge Scheduler", EventBridge Scheduler User
# Guide, https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html), singular
# for 1 and plural otherwise ("Rate expressions reference", EventBridge User Guide,
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html).
RATE_PATTERN = SCHEDULER_RATE
MAX_RATE_MINUTES = 1440  # CloudWatch evaluates an alarm over at most one day per period
MAX_WINDOW_HOURS = 168
MAX_FEATURES = 100
# The heartbeat alarm evaluates hourly periods, and CloudWatch caps Period x EvaluationPeriods at
# 7 days for periods of an hour or more (PutMetricAlarm "Period", CloudWatch API Reference).
MAX_HEARTBEAT_HOURS = 168
_FEATURE_NAME = re.compile(r"^[^\s,](?:[^,]{0,253}[^\s,])?$")


def rate_minutes(expression: str) -> int:
    """Minutes between runs of a valid ``rate(...)`` expression."""
    minutes = rate_expression_minutes(expression)
    if minutes is None:
        raise ValueError(f"{expression!r} is not a rate expression")
    return minutes


def schedule_problem(value: str) -> str | None:
    """Why ``value`` is not a drift check's schedule (whole hours, 1 hour to 1 day), or None."""
    match = RATE_PATTERN.match(value)
    if match is None:
        return (
            f"{value!r} is not an EventBridge Scheduler rate expression such as "
            "'rate(1 hour)' or 'rate(6 hours)'"
        )
    if (match["value"] == "1") != (not match["unit"].endswith("s")):
        return (
            f"{value!r}: the unit is singular for 1 and plural otherwise "
            "('rate(1 hour)', 'rate(2 hours)')"
        )
    minutes = rate_minutes(value)
    if minutes % 60 or not 60 <= minutes <= MAX_RATE_MINUTES:
        return (
            f"{value!r}: run every whole number of hours, from rate(1 hour) to rate(1 day) "
            "(the window is whole hours, and the alarm's period is the schedule's)"
        )
    return None


def features_variable(features: Sequence[str]) -> str:
    """The drift function's ``FEATURES`` environment variable: the names, comma-separated (the
    function splits them on commas)."""
    return ",".join(features)


def features_problem(value: list[str]) -> str | None:
    """Why ``value`` is not a list of feature names (the function splits them on commas)."""
    for name in value:
        if not isinstance(name, str) or not _FEATURE_NAME.match(name):
            return (
                f"{name!r} is not a feature name (1-255 characters, no comma, no leading or "
                "trailing space)"
            )
    duplicates = sorted({n for n in value if value.count(n) > 1})
    if duplicates:
        return f"lists {', '.join(duplicates)} more than once"
    size = json_text_bytes(features_variable(value))
    if size > DRIFT_FEATURES_MAX_BYTES:
        return (
            f"{len(value)} names take {size} bytes in the function's environment; at most "
            f"{DRIFT_FEATURES_MAX_BYTES} fit in Lambda's 4 KB of environment variables: check "
            "fewer features (or leave features out: every feature of the baseline is checked)"
        )
    return None


@dataclass(frozen=True, kw_only=True)
@checked_types
class DriftSpec:
    """A scheduled drift check: every ``schedule`` it reads the last ``window_hours`` of data
    capture and, from ``min_records`` records on, publishes per-feature PSI/KS and the share of
    drifted features; the drift alarm fires at ``drifted_share_threshold``, the heartbeat alarm
    when no run completed for ``heartbeat_hours``."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    schedule: Annotated[str, Check(schedule_problem)] = "rate(1 hour)"
    """EventBridge Scheduler rate expression: rate(1 hour) to rate(1 day)."""
    window_hours: Annotated[int, Ge(1), Le(MAX_WINDOW_HOURS), NUMBER] = 24
    """Whole hours of data capture each run reads."""
    min_records: Annotated[int, Ge(1), Le(100_000_000), NUMBER] = 500
    """Fewer records in the window: only the record count is published."""
    features: (
        Annotated[list[str], MinLen(1), MaxLen(MAX_FEATURES), Check(features_problem)] | None
    ) = None
    """Features to check (default: every feature of the baseline)."""
    psi_threshold: Annotated[float, Gt(0), Le(10), NUMBER] = 0.2
    """A feature drifted when its PSI is at least this."""
    drifted_share_threshold: Annotated[float, Gt(0), Le(1), NUMBER] = 0.3
    """The drift alarm fires when at least this share of features drifted."""
    content_type: Literal["text/csv", "application/json"] = "text/csv"
    """How request payloads captured as BASE64 (a content type other than text/csv and
    application/json) are parsed; a request captured as CSV or JSON is parsed as such."""
    heartbeat_hours: Annotated[int, Ge(1), Le(MAX_HEARTBEAT_HOURS), NUMBER] | None = None
    """The heartbeat alarm fires when no run completed for this many hours (default: two
    periods of the schedule; at least one period)."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems:
            problems = self._schedule_problems()
        if problems:
            raise PropProblems(problems, subject="drift check")

    def _schedule_problems(self) -> list[tuple[str, str]]:
        """The window and the heartbeat cover the time between runs."""
        problems: list[tuple[str, str]] = []
        if self.window_hours * 60 < self.period_minutes:
            problems.append(
                (
                    "window_hours",
                    f"{self.window_hours} hours is shorter than the time between runs "
                    f"({self.schedule}): some capture would never be checked",
                )
            )
        if self.heartbeat_hours is not None and self.heartbeat_hours * 60 < self.period_minutes:
            problems.append(
                (
                    "heartbeat_hours",
                    f"{self.heartbeat_hours} hours is shorter than the time between runs "
                    f"({self.schedule}): the heartbeat alarm would fire between two good runs",
                )
            )
        return problems

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
