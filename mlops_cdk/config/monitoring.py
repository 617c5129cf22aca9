"""The ``monitoring`` section: alarm thresholds and notification e-mails, and the alarm shapes
services use (operational thresholds, quality alarms). Retraining is :mod:`.retraining`."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATISTIC = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$")
_ALARM_KEY = r"^[a-z][a-z0-9_]{0,31}$"
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
ENDPOINT_DIMENSIONS = ("EndpointName", "Endpoint")
MissingData = Literal["breaching", "not_breaching", "ignore", "missing"]
RollbackKind = Literal["latency", "errors_5xx"]
Comparison = Literal["greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal"]


class OperationalThresholds(StrictModel):
    """Per-variant alarms on SageMaker endpoint metrics (1-minute periods)."""

    latency_ms: float = Field(1000, gt=0, description="ModelLatency threshold in milliseconds.")
    latency_statistic: str = Field("p99", description="Statistic for ModelLatency, e.g. p99.")
    errors_5xx_percent: float = Field(1, gt=0, le=100, description="5XX errors / invocations.")
    errors_4xx_percent: float = Field(5, gt=0, le=100, description="4XX errors / invocations.")
    cpu_percent: float = Field(
        90,
        gt=0,
        le=100,
        description="Percent of the whole instance. SageMaker's CPUUtilization is summed over "
        "vCPUs (0-400 % on 4 vCPUs): the alarm threshold is this value times the vCPU count.",
    )
    memory_percent: float = Field(85, gt=0, le=100)
    disk_percent: float = Field(80, gt=0, le=100)
    gpu_percent: float = Field(
        90, gt=0, le=100, description="GPU variants: percent of all GPUs (scaled by GPU count)."
    )
    gpu_memory_percent: float = Field(
        90, gt=0, le=100, description="GPU variants: percent of all GPU memory (scaled likewise)."
    )
    no_invocations_minutes: int | None = Field(
        None, ge=5, le=1440, description="Alarm when a variant gets no traffic this long."
    )
    evaluation_periods: int = Field(5, ge=1, le=60)
    datapoints_to_alarm: int = Field(3, ge=1, le=60)
    rollback_on: list[RollbackKind] = Field(
        default_factory=lambda: list[RollbackKind](["latency", "errors_5xx"]),
        description="Endpoint-level alarms the deployment guardrails roll back on.",
    )
    retrain_on: list[Literal["latency", "errors_5xx", "errors_4xx"]] = Field(
        default_factory=list, description="Operational alarms that also trigger retraining."
    )

    @field_validator("latency_statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if not _STATISTIC.match(value):
            raise ValueError(f"{value!r} is not a CloudWatch statistic (e.g. Average, p99)")
        return value

    @model_validator(mode="after")
    def _datapoints(self) -> OperationalThresholds:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise FieldProblem("datapoints_to_alarm", "must not exceed evaluation_periods")
        return self


class MetricAlarmConfig(StrictModel):
    """A model-quality alarm on a metric that AWS or a named publisher puts to CloudWatch.

    An alarm on a metric nobody publishes never fires (with ``missing_data: ignore`` it stays
    in its state forever), so: SageMaker Model Monitor namespaces are refused, and a custom
    namespace needs ``published_by`` (who puts the metric), which becomes the reasoned
    acknowledgement of the ``MlopsSageMaker-AlarmMetricPublished`` finding in the review."""

    name: str = Field(pattern=_ALARM_KEY, description="Short id, used in construct ids.")
    description: str = ""
    namespace: str = Field(min_length=1, max_length=255)
    metric_name: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str = "Maximum"
    period_minutes: int = Field(60, ge=1, le=1440)
    threshold: float
    comparison: Comparison
    evaluation_periods: int = Field(1, ge=1, le=24)
    missing_data: MissingData = Field(
        "ignore", description="Quality metrics arrive per monitoring run; gaps are normal."
    )
    retrain: bool = Field(True, description="ALARM invokes the retraining function.")
    published_by: str | None = Field(
        None,
        min_length=20,
        max_length=500,
        description="Who publishes a custom-namespace metric (required for custom namespaces).",
    )

    @field_validator("namespace")
    @classmethod
    def _published_namespace(cls, value: str) -> str:
        if value.lower().startswith(MODEL_MONITOR_NAMESPACE_PREFIXES):
            raise ValueError(
                f"{value!r} is a SageMaker Model Monitor namespace: Model Monitor is closed to "
                "new customers and nothing this app deploys creates a monitoring schedule, so "
                "the alarm would watch a metric nobody publishes"
            )
        return value

    @model_validator(mode="after")
    def _publisher_named(self) -> MetricAlarmConfig:
        aws = self.namespace.startswith(AWS_NAMESPACE_PREFIXES)
        if not aws and self.published_by is None:
            raise FieldProblem(
                "published_by",
                f"namespace {self.namespace!r} is not published by AWS: say who puts this "
                "metric (e.g. 'the weekly evaluation step of the churn-retraining pipeline'), "
                "or the alarm watches a metric nobody publishes",
            )
        if aws and self.published_by is not None:
            raise FieldProblem(
                "published_by", f"{self.namespace!r} is published by AWS: remove published_by"
            )
        return self

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if not _STATISTIC.match(value):
            raise ValueError(f"{value!r} is not a CloudWatch statistic (e.g. Average, p99)")
        return value

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 30:
            raise ValueError("CloudWatch allows at most 30 dimensions")
        for key, item in value.items():
            unknown = re.search(r"\{[^{}]*\}", item)
            if unknown:
                raise ValueError(
                    f"{key}: unknown placeholder {unknown.group(0)} (use {{env}}, {{service}} "
                    "or {endpoint})"
                )
        return value


class MonitoringConfig(StrictModel):
    """Environment-wide monitoring: who is notified, and the default alarm thresholds every
    service starts from (``services.<name>.alarms`` overrides them field by field)."""

    alarm_emails: list[str] = Field(default_factory=list)
    operational: OperationalThresholds = Field(default_factory=OperationalThresholds)

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not _EMAIL.match(email):
                raise ValueError(f"{email!r} is not an e-mail address")
        if len(set(value)) != len(value):
            raise ValueError("lists an address twice")
        return value
