"""Alarm settings of an endpoint: operational thresholds per variant (the environment's
``monitoring.operational`` defaults, a service's ``alarms`` overrides) and quality alarms
(``services.<name>.quality_alarms``). Taken by :class:`mlops_cdk.constructs.alarms.
EndpointAlarms`, and the configuration validates YAML into them."""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import (
    NUMBER,
    PROPS_CONFIG,
    Check,
    Pattern,
    checked_types,
    declared_problems,
)

STATISTIC = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$")
OPERATIONAL_ALARMS = (
    "latency",
    "errors_5xx",
    "errors_4xx",
    "cpu",
    "memory",
    "disk",
    "gpu",
    "gpu_memory",
    "no_invocations",
)
# SageMaker Model Monitor publishes here; it is closed to new customers ("Amazon SageMaker Model
# Monitor availability change") and nothing this app deploys creates a monitoring schedule.
MODEL_MONITOR_NAMESPACE_PREFIXES = ("aws/sagemaker/endpoints/", "aws/sagemaker/modelmonitoring")
# Namespaces AWS services publish to (``AWS/<service>``, SageMaker's ``/aws/sagemaker/...``).
AWS_NAMESPACE_PREFIXES = ("AWS/", "/aws/")
MAX_DIMENSIONS = 30  # CloudWatch: at most 30 dimensions per metric
MissingData = Literal["breaching", "not_breaching", "ignore", "missing"]
RollbackKind = Literal["latency", "errors_5xx"]
RetrainKind = Literal["latency", "errors_5xx", "errors_4xx"]
Comparison = Literal["greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal"]
Percent = Annotated[float, Gt(0), Le(100), NUMBER]


def statistic_problem(value: str) -> str | None:
    if STATISTIC.match(value):
        return None
    return f"{value!r} is not a CloudWatch statistic (e.g. Average, p99)"


def namespace_problem(value: str) -> str | None:
    if value.lower().startswith(MODEL_MONITOR_NAMESPACE_PREFIXES):
        return (
            f"{value!r} is a SageMaker Model Monitor namespace: Model Monitor is closed to new "
            "customers and nothing this app deploys creates a monitoring schedule, so the alarm "
            "would watch a metric nobody publishes"
        )
    return None


def dimensions_problem(value: dict[str, str]) -> str | None:
    if len(value) > MAX_DIMENSIONS:
        return f"CloudWatch allows at most {MAX_DIMENSIONS} dimensions"
    return None


@dataclass(frozen=True, kw_only=True)
@checked_types
class AlarmThresholds:
    """Per-variant alarms on SageMaker endpoint metrics (1-minute periods). Utilization
    thresholds are percentages of the whole instance; :class:`EndpointAlarms` scales them by
    the instance type's vCPU / GPU count."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    latency_ms: Annotated[float, Gt(0), NUMBER] = 1000
    """ModelLatency threshold in milliseconds."""
    latency_statistic: Annotated[str, Check(statistic_problem)] = "p99"
    """Statistic for ModelLatency, e.g. p99."""
    errors_5xx_percent: Percent = 1
    """5XX errors / invocations."""
    errors_4xx_percent: Percent = 5
    """4XX errors / invocations."""
    cpu_percent: Percent = 90
    """Percent of the whole instance. SageMaker's CPUUtilization is summed over vCPUs (0-400 % on
    4 vCPUs): the alarm threshold is this value times the vCPU count."""
    memory_percent: Percent = 85
    disk_percent: Percent = 80
    gpu_percent: Percent = 90
    """GPU variants: percent of all GPUs (scaled by GPU count)."""
    gpu_memory_percent: Percent = 90
    """GPU variants: percent of all GPU memory (scaled likewise)."""
    no_invocations_minutes: Annotated[int, Ge(5), Le(1440), NUMBER] | None = None
    """Alarm when a variant gets no traffic this long."""
    min_invocations: Annotated[int, Ge(1), Le(1_000_000), NUMBER] = 1
    """Error-rate alarms (5XX, 4XX; rollback alarms included) rate only the minutes in which
    the variant or component served at least this many requests; quieter minutes read 0, so
    one failed request in two (50 %) at night pages nobody. 1 rates every minute with traffic.
    Above 1, a fleet that gets fewer requests a minute cannot breach on errors, during a
    canary deployment too."""
    evaluation_periods: Annotated[int, Ge(1), Le(60), NUMBER] = 5
    datapoints_to_alarm: Annotated[int, Ge(1), Le(60), NUMBER] = 3
    rollback_on: list[RollbackKind] = field(default_factory=lambda: ["latency", "errors_5xx"])
    """Endpoint-level alarms the deployment guardrails roll back on."""
    retrain_on: list[RetrainKind] = field(default_factory=list)
    """Operational alarms that also trigger retraining."""
    scaled_to_max: bool = True
    """Tell the service's topic when autoscaling takes a variant or component to its maximum
    (Application Auto Scaling's scaled-to-max event): past it, demand grows unanswered."""
    image_scans: bool = True
    """Tell the service's topic when ECR's scan on push finds CRITICAL or HIGH vulnerabilities
    in an image of the service's repository, or cannot scan it (ECR's image scan event)."""

    @property
    def rate_floor(self) -> str:
        """What an error-rate alarm's description adds when minutes need a request count."""
        if self.min_invocations == 1:
            return ""
        return f" (minutes with at least {self.min_invocations} invocations)"

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.datapoints_to_alarm > self.evaluation_periods:
            problems.append(("datapoints_to_alarm", "must not exceed evaluation_periods"))
        kinds = {"rollback_on": RollbackKind, "retrain_on": RetrainKind}
        for name, kind in kinds.items():
            allowed = typing.get_args(kind)
            problems += [
                (f"{name}[{i}]", f"must be one of {', '.join(allowed)}")
                for i, value in enumerate(getattr(self, name))
                if value not in allowed
            ]
        if problems:
            raise PropProblems(problems, subject="alarm thresholds")


# CloudWatch PutMetricAlarm: Period x EvaluationPeriods at most 604,800 s (7 days).
MAX_ALARM_WINDOW_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, kw_only=True)
@checked_types
class QualityAlarmSpec:
    """A model-quality alarm on a metric that AWS or a named publisher puts to CloudWatch.

    An alarm on a metric nobody publishes never fires (with ``missing_data: ignore`` it stays
    in its state forever), so: SageMaker Model Monitor namespaces are refused, and a custom
    namespace either is published by this app (a
    :class:`~mlops_cdk.constructs.quality_check.QualityCheck`'s namespace; the pack's
    ``AlarmMetricPublished`` rule checks a policy of the stage may publish to it) or needs
    ``published_by`` (who puts the metric outside this app), which becomes the reasoned
    acknowledgement of the ``MlopsSageMaker-AlarmMetricPublished`` finding in the review."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: Annotated[str, Pattern(r"^[a-z][a-z0-9_]{0,31}$")]
    """Short id, used in construct ids."""
    description: str = ""
    namespace: Annotated[str, MinLen(1), MaxLen(255), Check(namespace_problem)]
    metric_name: Annotated[str, MinLen(1), MaxLen(255)]
    dimensions: Annotated[dict[str, str], Check(dimensions_problem)] = field(default_factory=dict)
    statistic: Annotated[str, Check(statistic_problem)] = "Maximum"
    period_minutes: Annotated[int, Ge(1), Le(1440), NUMBER] = 60
    threshold: Annotated[float, NUMBER]
    comparison: Comparison
    evaluation_periods: Annotated[int, Ge(1), Le(24), NUMBER] = 1
    missing_data: MissingData = "ignore"
    """Quality metrics arrive per monitoring run; gaps are normal."""
    retrain: bool = True
    """ALARM invokes the retraining function."""
    published_by: Annotated[str, MinLen(20), MaxLen(500)] | None = None
    """Who publishes a custom-namespace metric outside this app (required for custom namespaces
    that the service's quality_check does not publish)."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems:
            problems = self._publisher_problems() + self._window_problems()
        if problems:
            raise PropProblems(problems, subject=f"quality alarm {self.name}")

    def _window_problems(self) -> list[tuple[str, str]]:
        """ "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For
        alarms with a period of less than one hour (3,600 seconds), the total evaluation period
        can't be longer than one day (86,400 seconds)" (CloudWatch API reference,
        PutMetricAlarm, Period): CloudFormation would refuse the alarm. The declared bounds keep
        periods under an hour within a day (59 x 24 = 1,416 minutes), so the week is checked."""
        window = self.period_minutes * self.evaluation_periods
        if window <= MAX_ALARM_WINDOW_MINUTES:
            return []
        return [
            (
                "evaluation_periods",
                f"{self.evaluation_periods} periods of {self.period_minutes} minutes are "
                f"{window} minutes; CloudWatch evaluates at most {MAX_ALARM_WINDOW_MINUTES} "
                "(7 days)",
            )
        ]

    def _publisher_problems(self) -> list[tuple[str, str]]:
        # A custom namespace without published_by must be published by this app: the pack's
        # AlarmMetricPublished rule fails synthesis unless a policy of the stage may put metrics
        # in it (e.g. a QualityCheck's); the configuration checks the service's own check.
        aws = self.namespace.startswith(AWS_NAMESPACE_PREFIXES)
        if aws and self.published_by is not None:
            return [
                ("published_by", f"{self.namespace!r} is published by AWS: remove published_by")
            ]
        return []


# SageMaker publishes no Invocations metric for an asynchronous endpoint ("Alarms and logs for
# tracking metrics from asynchronous endpoints", SageMaker Developer Guide,
# https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html): a
# no-invocations alarm there (missing data breaching) would never leave ALARM.
NO_INVOCATIONS_ON_ASYNC = (
    "an asynchronous endpoint publishes no Invocations metric, so the alarm would be in ALARM "
    "for ever: leave it unset (the asynchronous endpoint's own alarms watch the backlog and "
    "the failed invocations)"
)


def duplicate_alarm_problems(alarms: Sequence[QualityAlarmSpec]) -> list[tuple[str, str]]:
    """Each quality alarm named again (its name is its construct id and its alarm's)."""
    names = [alarm.name for alarm in alarms]
    return [
        (f"quality_alarms[{index}].name", f"duplicate alarm {name!r}")
        for index, name in enumerate(names)
        if names.index(name) != index
    ]
