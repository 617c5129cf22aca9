"""One model service of an environment (``services.<name>`` in ``config/<env>.yaml``).

A service is what one team releases on its own cadence: its models and weighted variants
(everything :class:`ServingConfig` holds), its alarm thresholds (overriding the environment's
``monitoring.operational`` defaults field by field), quality alarms, retraining target and,
optionally, a narrower list of publishers. Each service becomes its own stacks
(``<env>-<service>-Registry`` and ``<env>-<service>``) with its own endpoint ``<env>-<service>``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any, Optional

from pydantic import Field, create_model, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.drift_check import DriftConfig
from mlops_cdk.config.endpoint import ServingConfig
from mlops_cdk.config.errors import FieldProblem
from mlops_cdk.config.monitoring import MetricAlarmConfig, OperationalThresholds
from mlops_cdk.config.retraining import RetrainingConfig

# Lowercase letters, digits and single '-' between them; starts with a letter. Derived names
# (endpoint ``<env>-<service>``, stacks, roles) are checked against AWS limits by EnvConfig.
SERVICE_NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
RESERVED_SERVICE_NAMES = frozenset({"foundation", "overview", "pipeline"})

# Every threshold of the environment's defaults, optional: a service overrides some of them.
OperationalOverrides: type[StrictModel] = create_model(  # type: ignore[call-overload]
    "OperationalOverrides",
    __base__=StrictModel,
    __doc__="Overrides of monitoring.operational for one service (validated after merging).",
    **{
        name: (Optional[field.annotation], None)  # noqa: UP045 - a runtime type expression
        for name, field in OperationalThresholds.model_fields.items()
    },
)


class ServiceConfig(ServingConfig):
    """Models, variants, data capture, deployment, smoke test (from :class:`ServingConfig`),
    plus the service's monitoring and publishers."""

    alarms: OperationalOverrides = Field(
        default_factory=OperationalOverrides,
        description="Overrides of the environment's monitoring.operational thresholds.",
    )
    quality_alarms: list[MetricAlarmConfig] = Field(default_factory=list)
    retraining: RetrainingConfig | None = None
    drift: DriftConfig | None = Field(
        None, description="The service's drift check of its data capture (see README)."
    )
    publishers: list[str] | None = Field(
        None,
        description="Roles that may push this service's images: a subset of the environment's "
        "publishers (default: all of them).",
    )

    @model_validator(mode="after")
    def _unique_alarms(self) -> ServiceConfig:
        names = [a.name for a in self.quality_alarms]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise FieldProblem(f"quality_alarms[{index}].name", f"duplicate alarm {name!r}")
        return self

    @model_validator(mode="after")
    def _drift_has_its_inputs(self) -> ServiceConfig:
        if self.drift is None:
            return self
        capture = self.data_capture
        if not (capture.enabled and capture.capture_input):
            raise FieldProblem(
                "drift",
                "the drift check reads the endpoint's captured requests: set data_capture.enabled "
                "and data_capture.capture_input to true",
            )
        return self

    def thresholds(self, defaults: OperationalThresholds) -> OperationalThresholds:
        """The environment's defaults with this service's overrides applied."""
        overrides: dict[str, Any] = self.alarms.model_dump(exclude_unset=True, exclude_none=True)
        return OperationalThresholds.model_validate(
            {**defaults.model_dump(exclude_unset=True), **overrides}
        )


# Placeholders for names derived from the environment and the service.
PLACEHOLDERS = ("{env}", "{service}", "{endpoint}")


def default_pipeline_name(env: str, service: str) -> str:
    """The retraining SageMaker Pipeline a service starts unless ``pipeline.name`` says."""
    return f"{env}-{service}-retraining"


def _fill(value: Any, env: str, service: str) -> Any:
    if not isinstance(value, str):
        return value
    return (
        value.replace("{env}", env)
        .replace("{service}", service)
        .replace("{endpoint}", f"{env}-{service}")
    )


def derive_service_names(spec: Any, *, env: str, service: str) -> Any:
    """A service's raw settings with derived names filled in (placeholders, defaults).

    Runs before validation, so anything that is not the expected shape is left for the
    schema to report."""
    if not isinstance(spec, dict):
        return spec
    spec = copy.deepcopy(spec)
    retraining = spec.get("retraining")
    if isinstance(retraining, dict):
        pipeline = retraining.get("pipeline")
        if isinstance(pipeline, dict):
            pipeline.setdefault("name", default_pipeline_name(env, service))
            pipeline["name"] = _fill(pipeline["name"], env, service)
        job = retraining.get("training_job")
        if isinstance(job, dict):
            job.setdefault("job_prefix", f"{env}-{service}")
            job["job_prefix"] = _fill(job["job_prefix"], env, service)
    alarms = spec.get("quality_alarms")
    if isinstance(alarms, list):
        for alarm in alarms:
            dimensions = alarm.get("dimensions") if isinstance(alarm, dict) else None
            if isinstance(dimensions, dict):
                alarm["dimensions"] = {k: _fill(v, env, service) for k, v in dimensions.items()}
    return spec


def named_fields(spec: ServiceConfig, where: str) -> Iterator[tuple[str, str]]:
    """(field path, value) of every name a service's file may type that identifies an
    environment's resources: retraining pipeline or job prefix, quality alarm dimensions."""
    retraining = spec.retraining
    if retraining is not None and retraining.pipeline is not None:
        yield f"{where}.retraining.pipeline.name", retraining.pipeline.name
    if retraining is not None and retraining.training_job is not None:
        yield f"{where}.retraining.training_job.job_prefix", retraining.training_job.job_prefix
    for index, alarm in enumerate(spec.quality_alarms):
        for key, value in alarm.dimensions.items():
            yield f"{where}.quality_alarms[{index}].dimensions.{key}", value
