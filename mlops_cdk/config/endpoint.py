"""The ``serving`` section: model versions, weighted variants, data capture, deployment policy,
autoscaling. Rules that need the rest of the environment (production, storage prefixes) live in
:class:`mlops_cdk.config.schema.EnvConfig`."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlops_cdk.aws.facts import MAX_VARIANTS, has_local_nvme
from mlops_cdk.aws.guardrails import first_step_problem, fleet_sizes
from mlops_cdk.aws.instance_types import HOSTING_INSTANCE_TYPES
from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem, Problems
from mlops_cdk.config.schedules import cron_problem, time_zone_problem
from mlops_cdk.props.endpoint import CapacitySize, DataCaptureSpec, DeploymentSpec, MetricsSpec

# MAX_VARIANTS and has_local_nvme: re-exported from mlops_cdk.aws.facts (one copy).
__all__ = [
    "MAX_VARIANTS",
    "CapacitySize",
    "DataCaptureSpec",
    "DeploymentSpec",
    "InstanceAutoscaling",
    "InstanceCapacity",
    "ModelConfig",
    "ProvisionedConcurrencyScaling",
    "ScheduledScaling",
    "ServerlessCapacity",
    "ServingConfig",
    "SmokeTestConfig",
    "VariantConfig",
    "has_local_nvme",
]
_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,30}$"  # SageMaker variant/model name characters
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")
_IMAGE_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
_IMAGE_DIGEST = r"^sha256:[0-9a-f]{64}$"
_INSTANCE_TYPE = r"^ml\.[a-z0-9-]+\.[a-z0-9]+$"


class ModelConfig(StrictModel):
    """One model version: an image from this environment's repository plus an artifact."""

    name: str = Field(pattern=_NAME, description="Model name, referenced by variants.")
    image_tag: str | None = Field(None, pattern=_IMAGE_TAG)
    image_digest: str | None = Field(None, pattern=_IMAGE_DIGEST)
    model_data_key: str = Field(description="S3 key of model.tar.gz under the artifacts prefix.")
    environment: dict[str, str] = Field(default_factory=dict)
    network_isolation: bool = Field(True, description="No network access for the container.")

    @field_validator("image_tag")
    @classmethod
    def _not_latest(cls, value: str | None) -> str | None:
        if value == "latest":
            raise ValueError("'latest' does not pin a model version; use a release tag or digest")
        return value

    @field_validator("model_data_key")
    @classmethod
    def _tarball(cls, value: str) -> str:
        if value.startswith("/") or not value.endswith(".tar.gz"):
            raise ValueError(f"{value!r} must be a relative S3 key of a .tar.gz model archive")
        return value

    @field_validator("environment")
    @classmethod
    def _env_vars(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 100:
            raise ValueError("at most 100 container environment variables")
        for key, item in value.items():
            if not _ENV_KEY.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
            if len(item) > 1024:
                raise ValueError(f"value of {key!r} is longer than 1024 characters")
        return value

    @model_validator(mode="after")
    def _one_image_reference(self) -> ModelConfig:
        if (self.image_tag is None) == (self.image_digest is None):
            raise FieldProblem("image_tag", "set exactly one of image_tag or image_digest")
        return self


class ScheduledScaling(StrictModel):
    """A scheduled change of the autoscaling bounds, e.g. scale down at night in dev."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,31}$")
    schedule: str = Field(description="cron(...) expression in time_zone.")
    time_zone: str = Field("UTC", description="IANA time zone name, e.g. Europe/Dublin.")
    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r}: {problem}")
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        problem = time_zone_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _bounds(self) -> ScheduledScaling:
        if self.min_capacity > self.max_capacity:
            raise FieldProblem("min_capacity", "min_capacity is greater than max_capacity")
        return self


class InstanceAutoscaling(StrictModel):
    """Target tracking on the variant's instance count."""

    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1, le=1000)
    metric: Literal["invocations_per_instance", "concurrent_requests_high_resolution"] = (
        "invocations_per_instance"
    )
    target_value: float = Field(gt=0, description="Target per instance (or per model copy).")
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=86400)
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=86400)
    scheduled: list[ScheduledScaling] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bounds(self) -> InstanceAutoscaling:
        problems = Problems()
        if self.min_capacity > self.max_capacity:
            problems.add("min_capacity", "min_capacity is greater than max_capacity")
        names = [s.name for s in self.scheduled]
        for index, name in enumerate(names):
            if names.index(name) != index:
                problems.add(f"scheduled[{index}].name", f"duplicate scheduled action {name!r}")
        for index, action in enumerate(self.scheduled):
            if action.max_capacity > self.max_capacity:
                problems.add(
                    f"scheduled[{index}].max_capacity",
                    f"{action.max_capacity} exceeds the autoscaling max_capacity "
                    f"{self.max_capacity}",
                )
        problems.raise_any()
        return self


class InstanceCapacity(StrictModel):
    instance_type: str = Field(pattern=_INSTANCE_TYPE, description="An ml.* instance type.")
    initial_instance_count: int = Field(ge=1, le=1000)
    autoscaling: InstanceAutoscaling | None = None

    @field_validator("instance_type", mode="before")
    @classmethod
    def _ml_prefix(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith("ml."):
            raise ValueError(f"{value!r} is not a SageMaker instance type (they start with 'ml.')")
        return value

    @field_validator("instance_type")
    @classmethod
    def _hosting_type(cls, value: str) -> str:
        # SageMaker's ProductionVariantInstanceType enum (botocore's service model).
        if value not in HOSTING_INSTANCE_TYPES:
            close = difflib.get_close_matches(value, sorted(HOSTING_INSTANCE_TYPES), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"{value!r} is not a SageMaker hosting instance type{hint}")
        return value

    def fleet_bounds(self) -> list[int]:
        """Every instance count this variant can have: initial, autoscaling and scheduled."""
        counts = [self.initial_instance_count]
        if self.autoscaling is not None:
            counts += [self.autoscaling.min_capacity, self.autoscaling.max_capacity]
            for action in self.autoscaling.scheduled:
                counts += [action.min_capacity, action.max_capacity]
        return counts

    @model_validator(mode="after")
    def _count_within_bounds(self) -> InstanceCapacity:
        scaling = self.autoscaling
        if (
            scaling
            and not scaling.min_capacity <= self.initial_instance_count <= scaling.max_capacity
        ):
            raise FieldProblem(
                "initial_instance_count",
                f"{self.initial_instance_count} is outside autoscaling "
                f"[{scaling.min_capacity}, {scaling.max_capacity}]",
            )
        return self


class ProvisionedConcurrencyScaling(StrictModel):
    min_capacity: int = Field(ge=1, le=200)
    max_capacity: int = Field(ge=1, le=200)
    target_utilization: float = Field(0.7, gt=0, le=1)
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=86400)
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=86400)

    @model_validator(mode="after")
    def _bounds(self) -> ProvisionedConcurrencyScaling:
        if self.min_capacity > self.max_capacity:
            raise FieldProblem("min_capacity", "min_capacity is greater than max_capacity")
        return self


class ServerlessCapacity(StrictModel):
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: int = Field(ge=1, le=200)
    provisioned_concurrency: int | None = Field(None, ge=1, le=200)
    autoscaling: ProvisionedConcurrencyScaling | None = None

    @model_validator(mode="after")
    def _provisioned(self) -> ServerlessCapacity:
        problems = Problems()
        provisioned = self.provisioned_concurrency
        if provisioned is not None and provisioned > self.max_concurrency:
            problems.add("provisioned_concurrency", "must not exceed max_concurrency")
        if self.autoscaling is not None:
            if provisioned is None:
                problems.add(
                    "autoscaling", "scales provisioned concurrency: set provisioned_concurrency"
                )
            elif not self.autoscaling.min_capacity <= provisioned <= self.autoscaling.max_capacity:
                problems.add(
                    "provisioned_concurrency", "is outside the autoscaling min/max capacity"
                )
            if self.autoscaling.max_capacity > self.max_concurrency:
                problems.add("autoscaling.max_capacity", "must not exceed max_concurrency")
        problems.raise_any()
        return self


class VariantConfig(StrictModel):
    """A production variant: a model, its capacity (instances or serverless) and a weight."""

    name: str = Field(pattern=_NAME)
    model: str = Field(description="Name of a model in serving.models.")
    initial_weight: float = Field(ge=0, description="Relative traffic weight (>= 0).")
    instance: InstanceCapacity | None = None
    serverless: ServerlessCapacity | None = None

    @model_validator(mode="after")
    def _one_capacity_kind(self) -> VariantConfig:
        if (self.instance is None) == (self.serverless is None):
            raise FieldProblem("instance", "set exactly one of instance or serverless")
        return self

    @property
    def is_serverless(self) -> bool:
        return self.serverless is not None


class SmokeTestConfig(StrictModel):
    """One invocation the post-deployment smoke test sends to the endpoint."""

    content_type: str = Field("application/json", min_length=1, max_length=1024)
    accept: str = Field("application/json", min_length=1, max_length=1024)
    body: str = Field(min_length=1, max_length=6 * 1024 * 1024, description="Request payload.")


class ServingConfig(StrictModel):
    models: Annotated[list[ModelConfig], Field(min_length=1)]
    variants: Annotated[list[VariantConfig], Field(min_length=1)]
    data_capture: DataCaptureSpec = Field(
        default_factory=DataCaptureSpec,
        description="Data capture of requests and responses: enabled (true), "
        "sampling_percentage (1-100, default 20), capture_input, capture_output (at least one); "
        "with enabled false the other fields are refused (they would have no effect).",
    )
    deployment: DeploymentSpec = Field(
        default_factory=DeploymentSpec,
        description="Blue/green traffic shifting: strategy (all_at_once, canary with "
        "canary_size, linear with linear_step_size), wait_seconds (the baking period, 0-3600), "
        "termination_wait_seconds (0-3600), maximum_execution_timeout_seconds (600-28800).",
    )
    smoke_test: SmokeTestConfig | None = Field(
        None, description="Sample request for the post-deployment smoke test."
    )
    metrics: MetricsSpec = Field(
        default_factory=MetricsSpec,
        description="The endpoint config's MetricsConfig, stated in every template: "
        "detailed_observability (default false; AWS turns it on for configs created after "
        "2026-06-17 unless stated, and bills it), enhanced_metrics (default false) and "
        "publish_frequency_seconds (10, 30, 60, 120, 180, 240 or 300; default 60).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ServingConfig:
        problems = Problems()
        self._check_names(problems)
        self._check_weights(problems)
        self._check_serverless(problems)
        self._check_deployment_size(problems)
        problems.raise_any()
        return self

    def _check_names(self, problems: Problems) -> None:
        models = [m.name for m in self.models]
        for index, name in enumerate(models):
            if models.index(name) != index:
                problems.add(f"models[{index}].name", f"duplicate model name {name!r}")
        if len(self.variants) > MAX_VARIANTS:
            problems.add(
                "variants",
                f"{len(self.variants)} variants; SageMaker allows at most {MAX_VARIANTS}",
            )
        seen: set[str] = set()
        for index, variant in enumerate(self.variants):
            if variant.name in seen:
                problems.add(f"variants[{index}].name", f"duplicate variant name {variant.name!r}")
            seen.add(variant.name)
            if variant.model not in models:
                problems.add(
                    f"variants[{index}].model",
                    f"unknown model {variant.model!r} (models: {', '.join(models)})",
                )
        used = {variant.model for variant in self.variants}
        if not used <= set(models):  # a misspelt reference: its model is not an orphan
            return
        for index, name in enumerate(models):
            if name not in used and models.index(name) == index:
                problems.add(
                    f"models[{index}]",
                    f"model {name!r} is not used by any variant: remove it (it would be "
                    "created and kept in the template, serving nothing)",
                )

    def _check_weights(self, problems: Problems) -> None:
        if sum(v.initial_weight for v in self.variants) <= 0:
            problems.add("variants", "all initial weights are 0: no variant would get traffic")

    def _check_serverless(self, problems: Problems) -> None:
        serverless = [i for i, v in enumerate(self.variants) if v.is_serverless]
        if not serverless:
            return
        index = serverless[0]
        if len(self.variants) > 1:
            problems.add(
                f"variants[{index}].serverless",
                "SageMaker does not support multiple production variants on a serverless "
                "endpoint: a serverless variant must be the only variant",
            )
        if self.data_capture.enabled:
            problems.add(
                "data_capture.enabled",
                "SageMaker does not support data capture on serverless endpoints: set it to false",
            )
        if not self.metrics.is_default:
            problems.add(
                "metrics",
                "detailed observability, enhanced metrics and the publish frequency apply to "
                "endpoints on instances; a serverless endpoint has none: remove the section",
            )
        model = next((m for m in self.models if m.name == self.variants[index].model), None)
        if model is not None and model.network_isolation:
            problems.add(
                f"models[{self.models.index(model)}].network_isolation",
                "serverless endpoints support neither VPC config nor network isolation: "
                "set it to false for a model served by a serverless variant",
            )
        step = self.deployment.step_size
        if step is not None and step.type == "instance_count":
            field = "canary_size" if self.deployment.strategy == "canary" else "linear_step_size"
            problems.add(
                f"deployment.{field}.type",
                "a serverless endpoint has no instances: use capacity_percent",
            )

    def _check_deployment_size(self, problems: Problems) -> None:
        """Canary <= 50 % and linear 10-50 % of every instance variant's fleet, at every fleet
        size autoscaling allows; percentages round up to whole instances (guardrails.py)."""
        step = self.deployment.step_size
        if step is None:
            return
        field = "canary_size" if self.deployment.strategy == "canary" else "linear_step_size"
        for variant in self.variants:
            if variant.instance is None:
                continue
            problem = first_step_problem(
                self.deployment.strategy,
                step.type,
                step.value,
                fleet_sizes(variant.instance.fleet_bounds()),
            )
            if problem is not None:
                problems.add(f"deployment.{field}.value", f"variant {variant.name!r}: {problem}")

    def model(self, name: str) -> ModelConfig:
        return next(m for m in self.models if m.name == name)
