"""Props of a service's quality check (``services.<name>.quality_check``): a scheduled function
joins the endpoint's captured predictions with ground-truth labels and publishes the configured
metrics to CloudWatch (see docs/concepts/quality.md). Taken by
:class:`mlops_cdk.constructs.quality_check.QualityCheck`; the configuration validates YAML into
the same class.

Pure Python. The metric names are those ``mlops_cdk/functions/quality/quality.py`` publishes
(a test compares them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from mlops_cdk.aws.facts import QUALITY_DIMENSIONS_MAX_BYTES, json_text_bytes
from mlops_cdk.aws.schedules import rate_expression_minutes
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, Check, checked_types, declared_problems

Problem = Literal["binary", "multiclass", "regression"]
QualityMetric = Literal["accuracy", "precision", "recall", "f1", "auc", "rmse", "mae"]
PROBLEM_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("accuracy", "precision", "recall", "f1", "auc"),
    "multiclass": ("accuracy", "precision", "recall", "f1"),
    "regression": ("rmse", "mae"),
}
# The CloudWatch metric name of each configured metric, and the counts every run publishes.
METRIC_NAMES: dict[str, str] = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "auc": "AUC",
    "rmse": "RMSE",
    "mae": "MAE",
}
MATCHED_METRIC = "MatchedLabels"
NEW_MATCHED_METRIC = "NewMatchedLabels"
UNMATCHED_METRIC = "UnmatchedLabels"
MALFORMED_METRIC = "MalformedRecords"
COUNT_METRICS = (MATCHED_METRIC, NEW_MATCHED_METRIC, UNMATCHED_METRIC, MALFORMED_METRIC)
DEFAULT_NAMESPACE = "MlopsCdk/ModelQuality"
SERVICE_DIMENSION = "Service"
# Where the business delivers labels in the environment's bucket: ground-truth/<service>/.
GROUND_TRUTH_PREFIX = "ground-truth/"
MAX_WINDOW_HOURS = 168
MAX_LABEL_DELAY_HOURS = 720
# Heartbeat: hourly periods, and CloudWatch caps Period x EvaluationPeriods at 7 days for periods
# of an hour or more (PutMetricAlarm "Period", CloudWatch API Reference).
MAX_HEARTBEAT_HOURS = 168
MAX_DIMENSIONS = 30  # CloudWatch: at most 30 dimensions per metric


def ground_truth_prefix(service: str) -> str:
    """Where a service's labels are delivered: ``ground-truth/<service>/``."""
    return f"{GROUND_TRUTH_PREFIX}{service}/"


def schedule_problem(value: str) -> str | None:
    minutes = rate_expression_minutes(value)
    if minutes is None or (value.startswith("rate(1 ")) == value.endswith("s)"):
        return (
            f"{value!r} is not an EventBridge Scheduler rate expression such as 'rate(1 hour)' "
            "or 'rate(6 hours)' (singular unit for 1)"
        )
    if minutes % 60 or not 60 <= minutes <= 1440:
        return f"{value!r}: run every whole number of hours, from rate(1 hour) to rate(1 day)"
    return None


def namespace_problem(value: str) -> str | None:
    if value.startswith(("AWS/", "/aws/")):
        return f"{value!r} is reserved for AWS services: use a namespace of your own"
    return None


def dimensions_variable(dimensions: Mapping[str, str]) -> str:
    """The quality function's ``DIMENSIONS`` environment variable: the dimensions as JSON."""
    return json.dumps(dict(dimensions), sort_keys=True)


def dimensions_problem(value: dict[str, str]) -> str | None:
    if not 1 <= len(value) <= MAX_DIMENSIONS:
        return f"1 to {MAX_DIMENSIONS} dimensions (CloudWatch)"
    bad = [k for k, v in value.items() if not (0 < len(k) <= 255 and 0 < len(str(v)) <= 1024)]
    if bad:
        return f"{', '.join(bad)}: names are 1-255 characters, values 1-1024 (CloudWatch)"
    size = json_text_bytes(dimensions_variable(value))
    if size > QUALITY_DIMENSIONS_MAX_BYTES:
        return (
            f"take {size} bytes in the function's environment; at most "
            f"{QUALITY_DIMENSIONS_MAX_BYTES} fit in Lambda's 4 KB of environment variables: "
            "use fewer or shorter dimensions"
        )
    return None


@dataclass(frozen=True, kw_only=True)
@checked_types
class QualityCheckSpec:
    """A scheduled quality check: every ``schedule`` it joins the labels delivered under
    ``ground-truth/<service>/`` in the last ``window_hours`` with the predictions captured in the
    last ``window_hours + label_delay_hours``, and from ``min_labels`` matched labels on publishes
    ``metrics`` to ``namespace`` with ``dimensions`` (default ``Service: <service>``)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    problem: Problem
    """binary (labels 0/1, the prediction is a score), multiclass (class labels) or regression."""
    metrics: Annotated[list[QualityMetric], MinLen(1), MaxLen(7)]
    """accuracy, precision, recall, f1, auc (binary, multiclass without auc), rmse, mae
    (regression)."""
    schedule: Annotated[str, Check(schedule_problem)] = "rate(1 hour)"
    """EventBridge Scheduler rate expression: rate(1 hour) to rate(1 day)."""
    window_hours: Annotated[int, Ge(1), Le(MAX_WINDOW_HOURS), NUMBER] = 24
    """Whole hours of label deliveries each run reads."""
    label_delay_hours: Annotated[int, Ge(0), Le(MAX_LABEL_DELAY_HOURS), NUMBER] = 24
    """How long after its prediction a label may arrive: the capture of this many more hours is
    read."""
    threshold: Annotated[float, Gt(0), Le(1), NUMBER] = 0.5
    """Binary: a score at least this predicts class 1 (accuracy, precision, recall, f1)."""
    min_labels: Annotated[int, Ge(1), Le(10_000_000), NUMBER] = 100
    """Fewer matched labels in the window: only the counts are published."""
    label_heartbeat_hours: Annotated[int, Ge(1), Le(MAX_HEARTBEAT_HOURS), NUMBER] = 48
    """The heartbeat alarm fires when no new label matched a prediction for this long."""
    namespace: Annotated[str, MinLen(1), MaxLen(255), Check(namespace_problem)] = DEFAULT_NAMESPACE
    dimensions: Annotated[dict[str, str], Check(dimensions_problem)] | None = None
    """Metric dimensions (default: Service: <service>)."""
    variants: list[str] = field(default_factory=list)
    """Variants whose predictions are scored (default: every production variant)."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems:
            problems = self._fit_problems()
        if problems:
            raise PropProblems(problems, subject="quality check")

    def _fit_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        allowed = PROBLEM_METRICS[self.problem]
        for index, metric in enumerate(self.metrics):
            if metric not in allowed:
                problems.append(
                    (
                        f"metrics[{index}]",
                        f"{metric} is not a {self.problem} metric ({', '.join(allowed)})",
                    )
                )
        duplicates = sorted({m for m in self.metrics if self.metrics.count(m) > 1})
        if duplicates:
            problems.append(("metrics", f"lists {', '.join(duplicates)} more than once"))
        if self.threshold != 0.5 and self.problem != "binary":
            problems.append(("threshold", "applies to binary problems only: remove it"))
        if self.label_heartbeat_hours * 60 < self.period_minutes:
            problems.append(
                (
                    "label_heartbeat_hours",
                    f"{self.label_heartbeat_hours} hours is shorter than the time between runs "
                    f"({self.schedule}): the heartbeat would fire between two good runs",
                )
            )
        if self.window_hours * 60 < self.period_minutes:
            problems.append(
                (
                    "window_hours",
                    f"{self.window_hours} hours is shorter than the time between runs "
                    f"({self.schedule}): some labels would never be read",
                )
            )
        return problems

    @property
    def period_minutes(self) -> int:
        """Minutes between runs."""
        return rate_expression_minutes(self.schedule) or 60

    @property
    def period_hours(self) -> int:
        return self.period_minutes // 60

    def metric_dimensions(self, service: str) -> dict[str, str]:
        """The dimensions of every metric the check publishes."""
        return dict(self.dimensions) if self.dimensions else {SERVICE_DIMENSION: service}

    @property
    def published_metric_names(self) -> tuple[str, ...]:
        """Every CloudWatch metric name the check publishes."""
        return (*(METRIC_NAMES[m] for m in self.metrics), *COUNT_METRICS)
