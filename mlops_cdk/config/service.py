"""One model service of an environment (``services.<name>`` in ``config/<env>.yaml``).

A service is what one team releases on its own cadence: its models and weighted variants
(everything :class:`ServingConfig` holds), its alarm thresholds (overriding the environment's
``monitoring.operational`` defaults field by field), quality alarms, retraining target and,
optionally, a narrower list of publishers. Each service becomes its own stacks
(``<env>-<service>-Registry`` and ``<env>-<service>``) with its own endpoint ``<env>-<service>``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterator
from typing import Any, Optional

from pydantic import Field, TypeAdapter, create_model, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.drift_check import DriftConfig
from mlops_cdk.config.endpoint import ServingConfig
from mlops_cdk.config.errors import FieldProblem, Problems
from mlops_cdk.config.monitoring import (
    AlarmThresholds,
    QualityAlarmSpec,
    dimension_placeholder_problem,
)
from mlops_cdk.config.retraining import RetrainingConfig, repository_image_id
from mlops_cdk.props.alarms import (
    AWS_NAMESPACE_PREFIXES,
    NO_INVOCATIONS_ON_ASYNC,
    duplicate_alarm_problems,
)
from mlops_cdk.props.async_inference import AsyncInferenceSpec
from mlops_cdk.props.batch import BatchJobSpec
from mlops_cdk.props.inference_components import (
    InferenceComponentsSpec,
    component_model_problems,
)
from mlops_cdk.props.quality import SERVICE_DIMENSION, QualityCheckSpec
from mlops_cdk.props.retraining_pipeline import ModelRegistrySpec
from mlops_cdk.props.variants import async_endpoint_problems, container_problems

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
        # The bare types: the bounds are checked after merging, at the override's path.
        field.name: (Optional[typing.get_type_hints(AlarmThresholds)[field.name]], None)  # noqa: UP045 - a runtime type expression
        for field in dataclasses.fields(AlarmThresholds)
    },
)


class ServiceConfig(ServingConfig):
    """Models, variants, data capture, deployment, smoke test (from :class:`ServingConfig`),
    plus the service's monitoring and publishers."""

    alarms: OperationalOverrides = Field(
        default_factory=OperationalOverrides,
        description="Overrides of the environment's monitoring.operational thresholds.",
    )
    quality_alarms: list[QualityAlarmSpec] = Field(default_factory=list)
    retraining: RetrainingConfig | None = None
    drift: DriftConfig | None = Field(
        None,
        description="The service's drift check of its data capture (see docs/concepts/drift.md).",
    )
    quality_check: QualityCheckSpec | None = Field(
        None,
        description="The service's quality check: captured predictions joined with labels "
        "under ground-truth/<service>/, metrics published to CloudWatch (see "
        "docs/concepts/quality.md).",
    )
    publishers: list[str] | None = Field(
        None,
        description="Roles that may push this service's images: a subset of the environment's "
        "publishers (default: all of them).",
    )
    model_registry: ModelRegistrySpec | None = Field(
        None,
        description="The service's model package group <env>-<service> (created whenever "
        "retraining.managed_pipeline is set): reader_accounts may describe and list its "
        'versions (see docs/concepts/retraining-pipeline.md, "Model package group").',
    )

    @model_validator(mode="after")
    def _managed_pipeline_serves_a_model(self) -> ServiceConfig:
        """The managed pipeline registers packages served by ``serving_model``'s image (default:
        the first variant's model), a single-container model with an image of its own."""
        managed = self.retraining.managed_pipeline if self.retraining else None
        if managed is None:
            return self
        path = "retraining.managed_pipeline.serving_model"
        name = managed.serving_model or (self.variants[0].model if self.variants else None)
        models = {model.name: model for model in self.models}
        model = models.get(name) if name else None
        if model is None:
            raise FieldProblem(
                path,
                f"unknown model {name!r} (models: {', '.join(models)})"
                if name
                else "name the model whose image serves registered versions",
            )
        if model.containers or model.model_package is not None:
            raise FieldProblem(
                path,
                f"model {model.name!r} has no single image of its own (several containers or a "
                "model package): name a model with image_tag, image_digest or aws_image",
            )
        return self

    async_inference: AsyncInferenceSpec | None = Field(
        None,
        description="Makes the service's endpoint asynchronous (see "
        'docs/concepts/serving-modes.md, "Asynchronous endpoints"): '
        "max_concurrent_invocations_per_instance (1-1000), submitters (role ARNs of this "
        "account that may submit requests), notifications (success, error, "
        "include_response), scaling (min_capacity 0-, max_capacity, target_backlog_per_instance, "
        "cooldowns, scheduled), alarms (oldest_request_age_seconds, failed_invocations, "
        "backlog_without_capacity_minutes, retrain_on), smoke_timeout_seconds.",
    )

    @model_validator(mode="after")
    def _unique_alarms(self) -> ServiceConfig:
        for path, message in duplicate_alarm_problems(self.quality_alarms)[:1]:
            raise FieldProblem(path, message)  # EndpointAlarms' own check
        return self

    @model_validator(mode="after")
    def _placeholders_filled(self) -> ServiceConfig:
        for index, alarm in enumerate(self.quality_alarms):
            problem = dimension_placeholder_problem(alarm.dimensions)
            if problem is not None:
                raise FieldProblem(f"quality_alarms[{index}].dimensions", problem)
        return self

    @model_validator(mode="after")
    def _quality_alarms_watch_published_metrics(self) -> ServiceConfig:
        """A quality alarm on a custom namespace watches what this service's quality check
        publishes (namespace, metric name, dimensions), or names its external publisher in
        ``published_by``: an alarm on a metric nobody publishes never fires."""
        check = self.quality_check
        for index, alarm in enumerate(self.quality_alarms):
            if alarm.namespace.startswith(AWS_NAMESPACE_PREFIXES):
                continue
            ours = check is not None and alarm.namespace == check.namespace
            if alarm.published_by is not None:
                if ours and check is not None and alarm.metric_name in check.published_metric_names:
                    raise FieldProblem(
                        f"quality_alarms[{index}].published_by",
                        f"{alarm.namespace}/{alarm.metric_name} is published by this service's "
                        "quality_check: remove published_by",
                    )
                continue
            if not ours or check is None:
                published = f" (its quality_check publishes {check.namespace})" if check else ""
                raise FieldProblem(
                    f"quality_alarms[{index}].published_by",
                    f"namespace {alarm.namespace!r} is not published by AWS: say who puts this "
                    "metric (e.g. 'the weekly evaluation step of the churn-retraining pipeline'), "
                    f"or watch a metric of this service's quality_check{published}; otherwise "
                    "the alarm watches a metric nobody publishes",
                )
            if alarm.metric_name not in check.published_metric_names:
                raise FieldProblem(
                    f"quality_alarms[{index}].metric_name",
                    f"{alarm.metric_name!r} is not published by this service's quality_check "
                    f"(it publishes {', '.join(check.published_metric_names)})",
                )
            expected = check.dimensions or {}
            if dict(alarm.dimensions) != dict(expected):
                raise FieldProblem(
                    f"quality_alarms[{index}].dimensions",
                    f"the quality_check publishes with dimensions {dict(expected)}: a metric with "
                    "other dimensions is another metric, which nobody publishes",
                )
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

    @model_validator(mode="after")
    def _quality_check_has_its_inputs(self) -> ServiceConfig:
        """The quality check reads the captured responses (the predictions) of the variants it
        scores."""
        check = self.quality_check
        if check is None:
            return self
        capture = self.data_capture
        if not (capture.enabled and capture.capture_output):
            raise FieldProblem(
                "quality_check",
                "the quality check joins labels with the endpoint's captured predictions: set "
                "data_capture.enabled and data_capture.capture_output to true",
            )
        names = [v.name for v in self.variants]
        for index, variant in enumerate(check.variants):
            if variant not in names:
                raise FieldProblem(
                    f"quality_check.variants[{index}]",
                    f"unknown variant {variant!r} (variants: {', '.join(names)})",
                )
        return self

    @model_validator(mode="after")
    def _async_fits(self) -> ServiceConfig:
        """What an asynchronous endpoint cannot be (WeightedEndpoint's own check,
        :func:`mlops_cdk.props.variants.async_endpoint_problems`)."""
        if self.async_inference is None:
            return self
        problems = Problems()
        models = {model.name: model for model in self.models}
        for path, message in async_endpoint_problems(self.variants, self.shadow_variants, models):
            problems.add(path, message)
        overrides = self.alarms.model_dump(exclude_none=True)
        if "no_invocations_minutes" in overrides:  # EndpointAlarms refuses it too
            problems.add("alarms.no_invocations_minutes", NO_INVOCATIONS_ON_ASYNC)
        problems.raise_any()
        return self

    @model_validator(mode="after")
    def _containers_fit(self) -> ServiceConfig:
        """What SageMaker refuses of multi-container models (WeightedEndpoint's own check,
        :func:`mlops_cdk.props.variants.container_problems`), and a smoke test that names a
        container every direct model has."""
        models = {model.name: model for model in self.models}
        problems = Problems()
        for path, message in container_problems(self.variants, self.shadow_variants, models):
            problems.add(path, message)
        served = [models[v.model] for v in self.variants if v.model in models]
        direct = [model for model in served if model.is_direct]
        target = self.smoke_test.target_container if self.smoke_test else None
        if self.smoke_test is not None and direct and target is None:
            problems.add(
                "smoke_test.target_container", "required: the endpoint uses direct invocation"
            )
        if target is not None and not direct:
            problems.add(
                "smoke_test.target_container",
                "only for an endpoint whose models use inference_execution direct",
            )
        for model in direct if target is not None else []:
            hostnames = [c.hostname for c in model.containers]
            if target not in hostnames:
                problems.add(
                    "smoke_test.target_container",
                    f"{target!r} is not a container of model {model.name!r} "
                    f"({', '.join(str(h) for h in hostnames)})",
                )
        problems.raise_any()
        return self

    batch_jobs: list[BatchJobSpec] = Field(
        default_factory=list,
        description="Batch transform jobs (see docs/concepts/serving-modes.md, "
        '"Batch jobs"): name, model, instance_type, instance_count, batch_strategy, '
        "split_type, content_type, accept, "
        "assemble_with, max_payload_mb (0-100), max_concurrent_transforms, data_processing "
        "(input_filter, output_filter, join_source), environment, timeout_minutes, "
        "expected_minutes, schedule (EventBridge Scheduler cron() or rate()), time_zone.",
    )

    def _models_used_elsewhere(self) -> set[str]:
        components = self.inference_components.components if self.inference_components else ()
        return {job.model for job in self.batch_jobs} | {c.model for c in components}

    @property
    def has_endpoint(self) -> bool:
        """False for a service of batch jobs only."""
        return bool(self.variants)

    def repository_image_tags(self) -> tuple[str, ...]:
        """The tags of the service's repository this configuration names (its models'
        containers, the managed pipeline's steps, a retraining training job's image), sorted:
        the repository's lifecycle never expires them."""
        tags = {c.image_tag for m in self.models for c in m.container_specs() if c.image_tag}
        managed = self.retraining.managed_pipeline if self.retraining else None
        if managed is not None:
            tags |= {s.image_tag for s in (managed.training, managed.evaluation) if s.image_tag}
        job = self.retraining.training_job if self.retraining else None
        image_id = repository_image_id(job.image) if job is not None and job.image else None
        if image_id is not None and "imageTag" in image_id:
            tags.add(image_id["imageTag"])
        return tuple(sorted(tags))

    @model_validator(mode="after")
    def _batch_jobs_fit(self) -> ServiceConfig:
        """Unique job names, known models; a service without variants has batch jobs and
        nothing that needs an endpoint."""
        problems = Problems()
        models = [m.name for m in self.models]
        seen: set[str] = set()
        for index, job in enumerate(self.batch_jobs):
            if job.name in seen:
                problems.add(f"batch_jobs[{index}].name", f"duplicate batch job {job.name!r}")
            seen.add(job.name)
            if job.model not in models:
                problems.add(
                    f"batch_jobs[{index}].model",
                    f"unknown model {job.model!r} (models: {', '.join(models)})",
                )
        if not self.variants and self.inference_components is None:
            if not self.batch_jobs:
                problems.add(
                    "variants",
                    "a service needs variants (an endpoint), inference_components or batch_jobs",
                )
            for name in ENDPOINT_ONLY_FIELDS:
                if name in self.model_fields_set:
                    problems.add(
                        name,
                        "applies to the service's endpoint, and this service has none (no "
                        "variants, batch jobs only): remove it",
                    )
        problems.raise_any()
        return self

    inference_components: InferenceComponentsSpec | None = Field(
        None,
        description="Models hosted as inference components on one shared fleet instead of "
        'weighted variants (see docs/concepts/serving-modes.md, "Inference components"): '
        "fleet (instance_type, "
        "initial_instance_count, managed_scaling {min_instance_count (0 allowed), "
        "max_instance_count}, routing least_outstanding_requests | random) and components "
        "(name, model, cpu_cores, memory_mb, accelerators, copies, autoscaling {min_copies (0 "
        "allowed), max_copies, target_concurrent_requests_per_copy, high_resolution, cooldowns}, "
        "deployment {batch_size, rollback_batch_size, wait_seconds, "
        "maximum_execution_timeout_seconds, rollback_on_alarms}).",
    )

    @model_validator(mode="after")
    def _components_fit(self) -> ServiceConfig:
        """A service has weighted variants or inference components, not both; the settings of
        a weighted endpoint do not apply to the fleet endpoint (async requests, data capture
        and blue/green deployment are variant features here: components deploy rolling, each
        on its own); a component hosts a single-container model of the service
        ("CreateInferenceComponent": Specification has one ModelName or Container)."""
        spec = self.inference_components
        if spec is None:
            return self
        problems = Problems()
        if self.variants:
            problems.add(
                "inference_components",
                "a service hosts its models on weighted variants or as inference components on "
                "a shared fleet, not both: remove variants or inference_components",
            )
        for name in COMPONENT_EXCLUDED_FIELDS:
            if name in self.model_fields_set:
                problems.add(
                    name,
                    "applies to an endpoint of weighted variants, not to inference components: "
                    "remove it",
                )
        models = {model.name: model for model in self.models}
        for path, message in component_model_problems(spec, models):  # the construct's check
            problems.add(f"inference_components.{path}", message)
        problems.raise_any()
        return self

    def thresholds(self, defaults: AlarmThresholds) -> AlarmThresholds:
        """The environment's defaults with this service's overrides applied (validated as the
        defaults are: a ValidationError names the overridden fields)."""
        overrides: dict[str, Any] = self.alarms.model_dump(exclude_unset=True, exclude_none=True)
        return validated_thresholds({**dataclasses.asdict(defaults), **overrides})


# Settings of an endpoint of weighted variants that a fleet of inference components does not
# have (ServiceConfig._components_fit).
COMPONENT_EXCLUDED_FIELDS = (
    "data_capture",
    "deployment",
    "quality_alarms",
    "retraining",
    "drift",
    "quality_check",
    "async_inference",
)

# Settings that only an endpoint has: refused on a service of batch jobs only.
ENDPOINT_ONLY_FIELDS = (
    "shadow_variants",
    "data_capture",
    "deployment",
    "smoke_test",
    "metrics",
    "alarms",
    "quality_alarms",
    "retraining",
    "drift",
    "quality_check",
    "async_inference",
)

_THRESHOLDS = TypeAdapter(AlarmThresholds)


def validated_thresholds(values: dict[str, Any]) -> AlarmThresholds:
    """``values`` validated as alarm thresholds (pydantic's ValidationError when invalid)."""
    return _THRESHOLDS.validate_python(values)


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
    schema to report. ``spec`` is not changed: the mappings on the paths it fills are copied
    (not the whole spec: this runs on every validation of an environment, and a partial
    validation of a file with problems runs it once per field)."""
    if not isinstance(spec, dict):
        return spec
    spec = dict(spec)
    retraining = spec.get("retraining")
    if isinstance(retraining, dict):
        retraining = spec["retraining"] = dict(retraining)
        pipeline_name = default_pipeline_name(env, service)
        for section, field, default in (
            ("pipeline", "name", pipeline_name),
            ("training_job", "job_prefix", f"{env}-{service}"),
            ("managed_pipeline", "name", pipeline_name),
        ):
            settings = retraining.get(section)
            if isinstance(settings, dict):
                settings = retraining[section] = dict(settings)
                settings[field] = _fill(settings.get(field, default), env, service)
    check = spec.get("quality_check")
    if isinstance(check, dict):
        defaulted = {**check, "dimensions": check.get("dimensions", {SERVICE_DIMENSION: service})}
        spec["quality_check"] = _dimensions_filled(defaulted, env, service)
    alarms = spec.get("quality_alarms")
    if isinstance(alarms, list):
        spec["quality_alarms"] = [_dimensions_filled(alarm, env, service) for alarm in alarms]
    return spec


def _dimensions_filled(settings: Any, env: str, service: str) -> Any:
    """``settings`` (a quality check or alarm) with placeholders in its dimensions filled."""
    dimensions = settings.get("dimensions") if isinstance(settings, dict) else None
    if not isinstance(dimensions, dict):
        return settings
    return {**settings, "dimensions": {k: _fill(v, env, service) for k, v in dimensions.items()}}


def named_fields(spec: ServiceConfig, where: str) -> Iterator[tuple[str, str]]:
    """(field path, value) of every name a service's file may type that identifies an
    environment's resources: retraining pipeline or job prefix, quality alarm dimensions."""
    retraining = spec.retraining
    if retraining is not None and retraining.pipeline is not None:
        yield f"{where}.retraining.pipeline.name", retraining.pipeline.name
    if retraining is not None and retraining.training_job is not None:
        yield f"{where}.retraining.training_job.job_prefix", retraining.training_job.job_prefix
    if retraining is not None and retraining.managed_pipeline is not None:
        name = str(retraining.managed_pipeline.name)
        yield f"{where}.retraining.managed_pipeline.name", name
    for index, alarm in enumerate(spec.quality_alarms):
        for key, value in alarm.dimensions.items():
            yield f"{where}.quality_alarms[{index}].dimensions.{key}", value


def announces_approvals(spec: ServiceConfig) -> bool:
    """Whether the service has a model package group of its own (``model_registry``, or the
    managed retraining pipeline that registers into it): its alarm topic then hears of every
    approved version, with the ``make promote`` command (mlops_cdk.constructs.promotion)."""
    retraining = spec.retraining
    return spec.model_registry is not None or (
        retraining is not None and retraining.managed_pipeline is not None
    )
