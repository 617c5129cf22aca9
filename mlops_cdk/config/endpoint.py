"""The ``serving`` section: model versions, weighted variants, data capture, deployment policy,
autoscaling. Rules that need the rest of the environment (production, storage prefixes) live in
:class:`mlops_cdk.config.schema.EnvConfig`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from mlops_cdk.aws.facts import MAX_VARIANTS, has_local_nvme
from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import Problems
from mlops_cdk.config.extended_props import extended_props_config
from mlops_cdk.props.endpoint import CapacitySize, DataCaptureSpec, DeploymentSpec, MetricsSpec
from mlops_cdk.props.fields import Pattern
from mlops_cdk.props.model import ModelSpec
from mlops_cdk.props.scaling import (
    InstanceAutoscaling,
    ProvisionedConcurrencyScaling,
    ScheduledScaling,
)
from mlops_cdk.props.variants import (
    NAME_PATTERN,
    InstanceCapacity,
    ServerlessCapacity,
    VariantSpec,
    endpoint_problems,
)

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
    "VariantSpec",
    "has_local_nvme",
]


@dataclass(frozen=True, kw_only=True)
class ModelConfig(ModelSpec):
    """One model version: an image (this environment's repository, or ``aws_image``) plus an
    artifact; or ``containers`` (2-15: an inference pipeline, or directly invocable containers,
    see :mod:`mlops_cdk.props.model`); or a registered ``model_package``."""

    # The settings are HostedModel's props (ModelSpec: declared once, with their checks); the
    # file adds the name that variants, inference components and batch jobs reference.

    __pydantic_config__: ClassVar[Any] = extended_props_config(ModelSpec)

    name: Annotated[str, Pattern(NAME_PATTERN)]
    """Model name, referenced by variants."""


class SmokeTestConfig(StrictModel):
    """One invocation the post-deployment smoke test sends to the endpoint."""

    content_type: str = Field("application/json", min_length=1, max_length=1024)
    accept: str = Field("application/json", min_length=1, max_length=1024)
    body: str = Field(min_length=1, max_length=6 * 1024 * 1024, description="Request payload.")
    target_container: str | None = Field(
        None,
        description="Hostname of the container to invoke (TargetContainerHostname): required "
        "when the endpoint serves a model with inference_execution direct.",
    )


class ServingConfig(StrictModel):
    models: Annotated[list[ModelConfig], Field(min_length=1)]
    variants: list[VariantSpec] = Field(
        default_factory=list,
        description="The endpoint's production variants (none: a service without an endpoint, "
        "e.g. batch jobs only).",
    )
    shadow_variants: list[VariantSpec] = Field(
        default_factory=list,
        description="At most one shadow variant (same shape as a variant, on instances): gets a "
        "copy of live requests and answers nobody; the endpoint then has exactly one production "
        "variant. Promote it by moving it to variants (the review report says "
        "'shadow -> production').",
    )
    data_capture: DataCaptureSpec = Field(
        default_factory=DataCaptureSpec,
        description="Data capture of requests and responses: enabled (true), "
        "sampling_percentage (1-100, default 20), capture_input, capture_output (at least one); "
        "with enabled false the other fields are refused (they would have no effect).",
    )
    deployment: DeploymentSpec = Field(
        default_factory=DeploymentSpec,
        description="Blue/green traffic shifting: strategy (all_at_once, canary with "
        "canary_size, linear with linear_step_size), or rolling (rolling_batch_size, optional "
        "rollback_batch_size; one variant on instances), wait_seconds (the baking period, "
        "0-3600), termination_wait_seconds (0-3600, blue/green only), "
        "maximum_execution_timeout_seconds (600-28800).",
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
        self._check_serverless_model(problems)
        problems.raise_any()
        return self

    def _check_names(self, problems: Problems) -> None:
        models = [m.name for m in self.models]
        for index, name in enumerate(models):
            if models.index(name) != index:
                problems.add(f"models[{index}].name", f"duplicate model name {name!r}")
        # The endpoint's own rules (WeightedEndpoint checks the same for a library user).
        for path, message in endpoint_problems(
            self.variants,
            models=models,
            deployment=self.deployment,
            data_capture=self.data_capture,
            metrics=self.metrics,
            shadow_variants=self.shadow_variants,
        ):
            problems.add(path, message)
        used = {v.model for v in (*self.variants, *self.shadow_variants)}
        used |= self._models_used_elsewhere()
        if not used:  # reported as "a service needs variants or batch_jobs"
            return
        if not used <= set(models):  # a misspelt reference: its model is not an orphan
            return
        for index, name in enumerate(models):
            if name not in used and models.index(name) == index:
                problems.add(
                    f"models[{index}]",
                    f"model {name!r} is not used by any variant: remove it (it would be "
                    "created and kept in the template, serving nothing)",
                )

    def _models_used_elsewhere(self) -> set[str]:
        """Models something other than a variant uses (a service's batch jobs)."""
        return set()

    def _check_serverless_model(self, problems: Problems) -> None:
        serverless = [v for v in self.variants if v.is_serverless]
        if not serverless:
            return
        model = next((m for m in self.models if m.name == serverless[0].model), None)
        if model is not None and model.network_isolation:
            problems.add(
                f"models[{self.models.index(model)}].network_isolation",
                "serverless endpoints support neither VPC config nor network isolation: "
                "set it to false for a model served by a serverless variant",
            )

    def model(self, name: str) -> ModelConfig:
        return next(m for m in self.models if m.name == name)
