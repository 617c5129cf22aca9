"""The ``monitoring`` section: alarm thresholds, notification e-mails, and retraining."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

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


class PipelineRetraining(StrictModel):
    name: str = Field(
        pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$",
        description="SageMaker Pipeline name; default <env>-<service>-retraining; {env} and "
        "{service} are replaced.",
    )


# Placeholders a training job template may use in S3 URIs and its image; the service stack
# replaces them (the bucket and repository names are generated by CloudFormation).
BUCKET_PLACEHOLDER = "{bucket}"
IMAGE_PLACEHOLDER = "{image_repository}"
SERVICE_PLACEHOLDER = "{service}"  # the service's name, so a copied service keeps working
TEMPLATE_PLACEHOLDERS = (BUCKET_PLACEHOLDER, IMAGE_PLACEHOLDER, SERVICE_PLACEHOLDER)
_TEMPLATE_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_ROOT_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$")
# CreateTrainingJob: MaxRuntimeInSeconds defaults to one day (API reference, StoppingCondition).
DEFAULT_MAX_RUNTIME_SECONDS = 86_400


class TrainingJobRetraining(StrictModel):
    """A CreateTrainingJob request the retraining function sends, run by the service's own
    training role. S3 URIs name the environment's bucket as ``s3://{bucket}/`` (``{service}``
    is the service's name, ``{image_repository}`` starts an image of its repository): training data
    under ``training_data_prefix`` + ``<service>/`` (read), model output under ``output_prefix``
    + ``<service>/`` and spot checkpoints under ``checkpoint_prefix`` + ``<service>/`` (read and
    write): the only prefixes the training role may use."""

    job_prefix: str = Field(
        pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,47}$",
        description="Training job name prefix; default <env>-<service>; {env} and {service} "
        "are replaced.",
    )
    template: dict[str, Any] = Field(
        description="CreateTrainingJob request without TrainingJobName and RoleArn."
    )
    training_data_prefix: str = Field(
        "training-data/", description="Root of the read-only training data prefixes."
    )
    output_prefix: str = Field("training-output/", description="Root of model output prefixes.")
    checkpoint_prefix: str = Field("checkpoints/", description="Root of checkpoint prefixes.")

    @field_validator("training_data_prefix", "output_prefix", "checkpoint_prefix")
    @classmethod
    def _root_prefix(cls, value: str) -> str:
        if not _ROOT_PREFIX.match(value):
            raise ValueError(
                f"{value!r} must be a relative S3 key prefix ending in '/' "
                "(letters, digits, !_.*'()- and '/' between parts)"
            )
        return value

    @field_validator("template")
    @classmethod
    def _template(cls, value: dict[str, Any]) -> dict[str, Any]:
        for forbidden in ("TrainingJobName", "RoleArn"):
            if forbidden in value:
                raise ValueError(
                    f"{forbidden} is set by the function (job name per cooldown window) "
                    "and the stack (the service's training role): remove it"
                )
        missing = [
            k
            for k in (
                "AlgorithmSpecification",
                "OutputDataConfig",
                "ResourceConfig",
                "StoppingCondition",
            )
            if k not in value
        ]
        if missing:
            raise ValueError(f"missing CreateTrainingJob fields: {', '.join(missing)}")
        return value

    @model_validator(mode="after")
    def _spot(self) -> TrainingJobRetraining:
        """Managed spot training as CreateTrainingJob takes it (SageMaker API reference,
        CreateTrainingJob and StoppingCondition; developer guide "Managed Spot Training in
        Amazon SageMaker AI"): ``MaxWaitTimeInSeconds`` (spot capacity wait plus run time) is
        required and at least ``MaxRuntimeInSeconds`` (default one day); a checkpoint location
        lets an interrupted job resume instead of starting over (built-in algorithms without
        checkpoints are limited to a one-hour wait), so it is required here."""
        spot = self.template.get("EnableManagedSpotTraining", False)
        if not isinstance(spot, bool):
            raise FieldProblem("template.EnableManagedSpotTraining", "must be true or false")
        if not spot:
            return self
        stopping = self.template.get("StoppingCondition")
        stopping = stopping if isinstance(stopping, dict) else {}
        runtime = stopping.get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)
        wait = stopping.get("MaxWaitTimeInSeconds")
        where = "template.StoppingCondition.MaxWaitTimeInSeconds"
        if not _seconds(wait):
            raise FieldProblem(
                where,
                "managed spot training needs MaxWaitTimeInSeconds (seconds to wait for spot "
                "capacity plus run time), at least MaxRuntimeInSeconds",
            )
        if not _seconds(runtime):
            raise FieldProblem(
                "template.StoppingCondition.MaxRuntimeInSeconds", "must be a number of seconds >= 1"
            )
        if wait < runtime:
            raise FieldProblem(
                where,
                f"{wait} is less than MaxRuntimeInSeconds ({runtime}); SageMaker requires the "
                "wait to be at least the run time",
            )
        checkpoint = self.template.get("CheckpointConfig")
        if not isinstance(checkpoint, dict) or not checkpoint.get("S3Uri"):
            raise FieldProblem(
                "template.CheckpointConfig.S3Uri",
                "managed spot training needs a checkpoint location so an interrupted job "
                f"resumes: s3://{BUCKET_PLACEHOLDER}/{self.checkpoint_prefix}<service>/",
            )
        return self

    @property
    def uses_image_repository(self) -> bool:
        """Whether the training image is the service's repository (``{image_repository}``)."""
        image = (self.template.get("AlgorithmSpecification") or {}).get("TrainingImage")
        return isinstance(image, str) and image.startswith(IMAGE_PLACEHOLDER)

    @property
    def uses_vpc(self) -> bool:
        return "VpcConfig" in self.template

    def prefixes(self, service: str) -> tuple[str, str, str]:
        """(training data, model output, checkpoints) key prefixes of ``service``."""
        return (
            f"{self.training_data_prefix}{service}/",
            f"{self.output_prefix}{service}/",
            f"{self.checkpoint_prefix}{service}/",
        )


def _seconds(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _s3_uris(template: dict[str, Any]) -> list[tuple[str, Any, int]]:
    """(path, value, which prefix: 0 data, 1 output, 2 checkpoints) of every S3 URI."""
    uris: list[tuple[str, Any, int]] = []
    for index, channel in enumerate(template.get("InputDataConfig") or []):
        source = ((channel or {}).get("DataSource") or {}).get("S3DataSource")
        if isinstance(source, dict):
            path = f"template.InputDataConfig[{index}].DataSource.S3DataSource.S3Uri"
            uris.append((path, source.get("S3Uri"), 0))
    for key in ("OutputDataConfig", "DebugHookConfig", "TensorBoardOutputConfig", "ProfilerConfig"):
        section = template.get(key)
        if isinstance(section, dict) and "S3OutputPath" in section:
            uris.append((f"template.{key}.S3OutputPath", section["S3OutputPath"], 1))
    checkpoint = template.get("CheckpointConfig")
    if isinstance(checkpoint, dict) and "S3Uri" in checkpoint:
        uris.append(("template.CheckpointConfig.S3Uri", checkpoint["S3Uri"], 2))
    return uris


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


def training_job_problems(
    job: TrainingJobRetraining, *, service: str, reserved_prefixes: Sequence[str]
) -> list[tuple[str, str]]:
    """(path under ``training_job``, message) of every rule that needs the service name or
    the environment's storage prefixes (``reserved_prefixes``: model artifacts, data capture):
    each S3 URI under the service's own prefix of the environment's bucket, placeholders known,
    and prefixes that do not overlap (the bucket lets only publishers write model artifacts)."""
    problems: list[tuple[str, str]] = []
    roots = {
        "training_data_prefix": job.training_data_prefix,
        "output_prefix": job.output_prefix,
        "checkpoint_prefix": job.checkpoint_prefix,
    }
    names = list(roots)
    for index, (field, root) in enumerate(roots.items()):
        for other in [*names[index + 1 :], *reserved_prefixes]:
            other_root = roots.get(other, other)
            if root.startswith(other_root) or other_root.startswith(root):
                problems.append(
                    (field, f"{root!r} overlaps {other_root!r}: each prefix has one purpose")
                )
    for path, text in _strings(job.template, "template"):
        for placeholder in _TEMPLATE_PLACEHOLDER.findall(text):
            if placeholder not in TEMPLATE_PLACEHOLDERS:
                problems.append(
                    (
                        path,
                        f"unknown placeholder {placeholder} (use "
                        f"{', '.join(TEMPLATE_PLACEHOLDERS)})",
                    )
                )
        if IMAGE_PLACEHOLDER in text and not (
            path == "template.AlgorithmSpecification.TrainingImage"
            and text.startswith(IMAGE_PLACEHOLDER)
        ):
            problems.append(
                (path, f"{IMAGE_PLACEHOLDER} may only start AlgorithmSpecification.TrainingImage")
            )
    prefixes = job.prefixes(service)
    for path, value, which in _s3_uris(job.template):
        expected = f"s3://{BUCKET_PLACEHOLDER}/{prefixes[which]}"
        uri = value.replace(SERVICE_PLACEHOLDER, service) if isinstance(value, str) else None
        if uri is None or not uri.startswith(expected):
            purpose = ("training data", "output", "checkpoints")[which]
            problems.append(
                (
                    path,
                    f"must be under {expected} ({purpose} of service {service!r}: the only "
                    "place its training role may use)",
                )
            )
    return problems


class RetrainingConfig(StrictModel):
    cooldown_minutes: int = Field(60, ge=5, le=10080, description="At most one run per window.")
    reserved_concurrency: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Reserved concurrency of the retraining function. Off by default: Lambda "
        "refuses a reservation that leaves fewer than 100 unreserved executions (or the whole "
        "quota where it is lower, as in new accounts); idempotency comes from SageMaker state "
        "and the request token.",
    )
    pipeline: PipelineRetraining | None = None
    training_job: TrainingJobRetraining | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RetrainingConfig:
        if (self.pipeline is None) == (self.training_job is None):
            raise FieldProblem("pipeline", "set exactly one of pipeline or training_job")
        return self


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
