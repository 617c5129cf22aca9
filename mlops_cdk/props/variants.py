"""Production variants of an endpoint (``services.<name>.variants``): taken by
:class:`mlops_cdk.constructs.endpoint.WeightedEndpoint`, and the configuration validates YAML
into them. :func:`endpoint_problems` holds the checks that need only the endpoint's own props,
so a library user and a YAML user get the same message.

Serverless limits: ``ProductionVariantServerlessConfig`` (SageMaker API reference,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html):
MemorySizeInMB 1024-6144 in 1 GB steps, MaxConcurrency 1-200, ProvisionedConcurrency 1-200 and
at most MaxConcurrency.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Le

from mlops_cdk.aws.facts import MAX_VARIANTS, has_local_nvme
from mlops_cdk.aws.guardrails import first_step_problem, fleet_sizes, most_steps
from mlops_cdk.aws.instance_types import HOSTING_INSTANCE_TYPES, UnknownInstanceType, gpus, vcpus
from mlops_cdk.aws.variant_facts import (
    MAX_INSTANCE_POOLS,
    MAX_PRODUCTION_VARIANTS_WITH_SHADOW,
    MAX_SHADOW_VARIANTS,
)
from mlops_cdk.props.endpoint import DataCaptureSpec, DeploymentSpec, MetricsSpec
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import (
    NUMBER,
    PROPS_CONFIG,
    Check,
    Pattern,
    checked_types,
    declared_problems,
)
from mlops_cdk.props.model import ModelSpec
from mlops_cdk.props.scaling import InstanceAutoscaling, ProvisionedConcurrencyScaling

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,30}$"  # SageMaker variant/model name characters


def instance_type_problem(value: str) -> str | None:
    """Why ``value`` is not a SageMaker hosting instance type (botocore's
    ProductionVariantInstanceType enum), with the closest names; or None."""
    if not value.startswith("ml."):
        return f"{value!r} is not a SageMaker instance type (they start with 'ml.')"
    if value not in HOSTING_INSTANCE_TYPES:
        close = difflib.get_close_matches(value, sorted(HOSTING_INSTANCE_TYPES), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return f"{value!r} is not a SageMaker hosting instance type{hint}"
    return None


@dataclass(frozen=True, kw_only=True)
@checked_types
class InstanceCapacity:
    """A variant on instances: type, initial count and optional autoscaling."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    instance_type: Annotated[str, Check(instance_type_problem)]
    """An ml.* instance type (with fallback_instance_types: the first instance pool)."""
    initial_instance_count: Annotated[int, Ge(1), Le(1000), NUMBER]
    autoscaling: InstanceAutoscaling | None = None
    fallback_instance_types: tuple[Annotated[str, Check(instance_type_problem)], ...] = ()
    """Instance types SageMaker falls back to, in priority order, when instance_type has no
    capacity (instance pools 2-5; each with instance_type's vCPU and GPU counts, so that the
    utilization alarms hold on every type)."""
    provision_timeout_seconds: Annotated[int, Ge(300), Le(3600), NUMBER] | None = None
    """How long SageMaker tries to provision instances, across the pools, before failing
    (VariantInstanceProvisionTimeoutInSeconds, 300-3600)."""

    def __post_init__(self) -> None:
        problems = declared_problems(self) or self._pool_problems()
        scaling, count = self.autoscaling, self.initial_instance_count
        if not problems and scaling and not scaling.min_capacity <= count <= scaling.max_capacity:
            problems.append(
                (
                    "initial_instance_count",
                    f"{count} is outside autoscaling [{scaling.min_capacity}, "
                    f"{scaling.max_capacity}]",
                )
            )
        if problems:
            raise PropProblems(problems, subject="instance")

    def _pool_problems(self) -> list[tuple[str, str]]:
        """At most five pools ("Deploy to multiple instance types with instance pools"), each
        type once, and one set of alarm thresholds that is right for every type: CPU and GPU
        utilization are summed over the instance's vCPUs / GPUs, so the types must agree."""
        fallbacks = self.fallback_instance_types
        if len(fallbacks) > MAX_INSTANCE_POOLS - 1:
            return [
                (
                    "fallback_instance_types",
                    f"{len(fallbacks)} fallbacks; SageMaker allows {MAX_INSTANCE_POOLS} instance "
                    f"pools, instance_type included (at most {MAX_INSTANCE_POOLS - 1} fallbacks)",
                )
            ]
        problems: list[tuple[str, str]] = []
        seen = [self.instance_type]
        for index, fallback in enumerate(fallbacks):
            path = f"fallback_instance_types[{index}]"
            problem = instance_type_problem(fallback)
            if problem is None and fallback in seen:
                problem = f"{fallback!r} is listed twice (instance_type is the first pool)"
            if problem is None:
                problem = _same_shape_problem(self.instance_type, fallback)
            seen.append(fallback)
            if problem is not None:
                problems.append((path, problem))
        return problems

    @property
    def instance_types(self) -> tuple[str, ...]:
        """Every type the variant may run on, in priority order."""
        return (self.instance_type, *self.fallback_instance_types)

    def fleet_bounds(self) -> list[int]:
        """Every instance count this variant can have: initial, autoscaling and scheduled."""
        scaling = self.autoscaling.capacities if self.autoscaling is not None else []
        return [self.initial_instance_count, *scaling]

    @property
    def local_nvme(self) -> bool:
        """Any of its types has local NVMe storage (SageMaker then rejects a volume key)."""
        return any(has_local_nvme(t) for t in self.instance_types)


def _same_shape_problem(first: str, fallback: str) -> str | None:
    """Why ``fallback`` needs other alarm thresholds than ``first`` (vCPU or GPU count)."""
    try:
        shapes = [(vcpus(t), gpus(t)) for t in (first, fallback)]
    except UnknownInstanceType as error:
        return f"{error}: its vCPU and GPU counts are needed for the utilization alarms"
    (cpu_a, gpu_a), (cpu_b, gpu_b) = shapes
    if (cpu_a, gpu_a) == (cpu_b, gpu_b):
        return None
    return (
        f"{fallback} has {cpu_b} vCPUs and {gpu_b} GPUs, {first} {cpu_a} and {gpu_a}: CPU and "
        "GPU utilization are summed over them, so one alarm threshold cannot fit both; use "
        "types of the same size"
    )


@dataclass(frozen=True, kw_only=True)
@checked_types
class ServerlessCapacity:
    """A serverless variant: memory, concurrency and optional provisioned concurrency (which
    ``autoscaling`` scales)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: Annotated[int, Ge(1), Le(200), NUMBER]
    """Concurrent invocations at most. Every serverless endpoint's is allocated from one account
    quota ("Maximum total concurrency that can be allocated across all serverless endpoints"),
    which new accounts have been given at 10: ``make preflight`` compares them."""
    provisioned_concurrency: Annotated[int, Ge(1), Le(200), NUMBER] | None = None
    autoscaling: ProvisionedConcurrencyScaling | None = None

    def __post_init__(self) -> None:
        problems = declared_problems(self) or self._provisioned_problems()
        if problems:
            raise PropProblems(problems, subject="serverless")

    def _provisioned_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        provisioned, scaling = self.provisioned_concurrency, self.autoscaling
        if provisioned is not None and provisioned > self.max_concurrency:
            problems.append(("provisioned_concurrency", "must not exceed max_concurrency"))
        if scaling is None:
            return problems
        if provisioned is None:
            problems.append(
                ("autoscaling", "scales provisioned concurrency: set provisioned_concurrency")
            )
        elif not scaling.min_capacity <= provisioned <= scaling.max_capacity:
            problems.append(
                ("provisioned_concurrency", "is outside the autoscaling min/max capacity")
            )
        if scaling.max_capacity > self.max_concurrency:
            problems.append(("autoscaling.max_capacity", "must not exceed max_concurrency"))
        return problems


@dataclass(frozen=True, kw_only=True)
@checked_types
class VariantSpec:
    """A production variant: a model, its capacity (instances or serverless) and a weight."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: Annotated[str, Pattern(NAME_PATTERN)]
    model: str
    """Name of a model in serving.models."""
    initial_weight: Annotated[float, Ge(0), NUMBER]
    """Relative traffic weight (>= 0)."""
    instance: InstanceCapacity | None = None
    serverless: ServerlessCapacity | None = None

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if (self.instance is None) == (self.serverless is None):
            problems.append(("instance", "set exactly one of instance or serverless"))
        if problems:
            raise PropProblems(problems, subject=f"variant {self.name}")

    @property
    def is_serverless(self) -> bool:
        return self.serverless is not None

    @property
    def local_nvme(self) -> bool:
        return self.instance is not None and self.instance.local_nvme

    @property
    def scaling(self) -> InstanceAutoscaling | ProvisionedConcurrencyScaling | None:
        """The variant's autoscaling, of either kind (None without)."""
        if self.instance is not None:
            return self.instance.autoscaling
        return self.serverless.autoscaling if self.serverless is not None else None


def endpoint_problems(
    variants: Sequence[VariantSpec],
    *,
    models: Collection[str],
    deployment: DeploymentSpec,
    data_capture: DataCaptureSpec | None,
    metrics: MetricsSpec,
    shadow_variants: Sequence[VariantSpec] = (),
) -> list[tuple[str, str]]:
    """(field path, message) for every way the variants break SageMaker's endpoint rules or
    each other, the deployment step and the shadow variant included; paths as in a service's
    configuration (``variants[0].model``, ``deployment.canary_size.value``)."""
    return [
        *_name_problems(variants, models),
        *_shadow_problems(variants, shadow_variants, models),
        *_serverless_problems(variants, deployment, data_capture, metrics),
        *_rolling_problems(variants, shadow_variants, deployment),
        *_step_size_problems([*variants, *shadow_variants], deployment),
        *_timeout_problems([*variants, *shadow_variants], deployment),
    ]


def async_endpoint_problems(
    variants: Sequence[VariantSpec],
    shadows: Sequence[VariantSpec],
    models: Mapping[str, ModelSpec | None] | None = None,
) -> list[tuple[str, str]]:
    """What an asynchronous endpoint cannot be here: shadowed ("Shadow tests" > "Exclusions":
    asynchronous inference), of several variants (the backlog metrics that scaling and alarms
    watch have the EndpointName dimension only: "Alarms and logs for tracking metrics from
    asynchronous endpoints"), serverless ("Autoscale an asynchronous endpoint" scales
    instances, to zero included), a variant with its own real-time autoscaling (the
    asynchronous scaling replaces it), or serving a model that uses direct invocation
    (``models``: each name's spec, None where only a name is known): an endpoint configured for
    it refuses a request without TargetContainerHostname ("Invoke a multi-container endpoint
    with direct invocation"), and InvokeEndpointAsync has no such parameter (SageMaker Runtime
    API Reference, InvokeEndpointAsync; botocore's InvokeEndpointAsyncInput, which a test
    reads), so every request would fail."""
    problems = _async_model_problems(variants, models or {})
    if shadows:
        problems.append(("shadow_variants", "SageMaker runs no shadow on asynchronous endpoints"))
    if len(variants) > 1:
        problems.append(
            (
                "variants",
                f"{len(variants)} variants; an asynchronous endpoint here has one (its backlog "
                "metrics, scaling and alarms are per endpoint, not per variant)",
            )
        )
    for index, variant in enumerate(variants):
        if variant.serverless is not None:
            problems.append(
                (
                    f"variants[{index}].serverless",
                    "asynchronous endpoints run on instances (they queue requests and scale "
                    "instances, to zero included): use instance",
                )
            )
        elif variant.instance is not None and variant.instance.autoscaling is not None:
            problems.append(
                (
                    f"variants[{index}].instance.autoscaling",
                    "an asynchronous endpoint scales on its backlog: move the bounds to "
                    "async_inference.scaling",
                )
            )
    return problems


def _async_model_problems(
    variants: Sequence[VariantSpec], models: Mapping[str, ModelSpec | None]
) -> list[tuple[str, str]]:
    return [
        (
            f"variants[{index}].model",
            f"model {variant.model!r} uses direct invocation, which needs a target container "
            "in every request; asynchronous requests (InvokeEndpointAsync) cannot name one: "
            "use serial invocation (an inference pipeline) or a real-time endpoint",
        )
        for index, variant in enumerate(variants)
        if (model := models.get(variant.model)) is not None and model.is_direct
    ]


def container_problems(
    variants: Sequence[VariantSpec],
    shadows: Sequence[VariantSpec],
    models: Mapping[str, ModelSpec | None],
) -> list[tuple[str, str]]:
    """What SageMaker refuses of multi-container models on an endpoint (``models``: each name's
    spec, None where only a name is known): none on a serverless variant ("Deploy models with
    Amazon SageMaker Serverless Inference", feature exclusions: inference pipelines), none
    shadowed ("Shadow tests" > "Exclusions": multiple containers), and the variants' models all
    use direct invocation or none does (an endpoint configured for it refuses a request
    without TargetContainerHostname, any other endpoint one with it: "Invoke a multi-container
    endpoint with direct invocation")."""
    problems: list[tuple[str, str]] = []
    served = [(i, v, m) for i, v in enumerate(variants) if (m := models.get(v.model)) is not None]
    for index, variant, model in served:
        if variant.serverless is not None and model.containers:
            problems.append(
                (
                    f"variants[{index}].serverless",
                    f"model {variant.model!r} has several containers; serverless endpoints do "
                    "not support inference pipelines or multi-container models: use instance",
                )
            )
    shadowed = [(f"variants[{i}]", v) for i, v in enumerate(variants)]
    shadowed += [(f"shadow_variants[{i}]", v) for i, v in enumerate(shadows)]
    for path, variant in shadowed if shadows else []:
        shadowed_model = models.get(variant.model)
        if shadowed_model is not None and shadowed_model.containers:
            problems.append(
                (
                    f"{path}.model",
                    f"model {variant.model!r} has several containers; SageMaker runs no shadow "
                    "on multi-container endpoints",
                )
            )
    direct = [model for _, _, model in served if model.is_direct]
    if direct and len(direct) != len(served):
        problems.append(
            (
                "variants",
                "every variant's model must use direct invocation or none: SageMaker refuses "
                "requests without a target container on direct endpoints and with one elsewhere",
            )
        )
    return problems


def _shadow_problems(
    variants: Sequence[VariantSpec], shadows: Sequence[VariantSpec], models: Collection[str]
) -> list[tuple[str, str]]:
    """CreateEndpointConfig: with ShadowProductionVariants, exactly one production and one
    shadow variant; "Shadow tests" > "Exclusions": no serverless endpoint (see
    :mod:`mlops_cdk.aws.variant_facts`). Shadow names differ from the production ones."""
    if not shadows:
        return []
    problems: list[tuple[str, str]] = []
    if len(shadows) > MAX_SHADOW_VARIANTS:
        problems.append(
            (
                "shadow_variants",
                f"{len(shadows)} shadow variants; SageMaker allows {MAX_SHADOW_VARIANTS} per "
                "endpoint",
            )
        )
    if len(variants) != MAX_PRODUCTION_VARIANTS_WITH_SHADOW:
        problems.append(
            (
                "variants",
                f"{len(variants)} production variants; an endpoint with a shadow variant has "
                f"exactly {MAX_PRODUCTION_VARIANTS_WITH_SHADOW} (SageMaker CreateEndpointConfig)",
            )
        )
    names = {v.name for v in variants}
    for index, shadow in enumerate(shadows):
        path = f"shadow_variants[{index}]"
        if shadow.serverless is not None:
            problems.append(
                (
                    f"{path}.serverless",
                    "SageMaker runs no shadow on serverless endpoints: use instance",
                )
            )
        if shadow.name in names:
            problems.append((f"{path}.name", f"duplicate variant name {shadow.name!r}"))
        names.add(shadow.name)
        if shadow.model not in models:
            problems.append(
                (
                    f"{path}.model",
                    f"unknown model {shadow.model!r} (models: {', '.join(models)})",
                )
            )
    problems += [
        (f"variants[{i}].serverless", "SageMaker runs no shadow on serverless endpoints")
        for i, v in enumerate(variants)
        if v.serverless is not None
    ]
    return problems


def _rolling_problems(
    variants: Sequence[VariantSpec], shadows: Sequence[VariantSpec], deployment: DeploymentSpec
) -> list[tuple[str, str]]:
    """Deployment guardrails "Exclusions": no rolling update of a serverless or multi-variant
    endpoint (a shadow variant is a second variant of the endpoint config)."""
    if deployment.strategy != "rolling":
        return []
    problems: list[tuple[str, str]] = []
    count = len(variants) + len(shadows)
    if count > 1:
        problems.append(
            (
                "deployment.strategy",
                f"rolling updates exclude multi-variant endpoints and this one has {count} "
                "variants (shadow included): use all_at_once, canary or linear",
            )
        )
    if any(v.serverless is not None for v in variants):
        problems.append(
            (
                "deployment.strategy",
                "rolling updates exclude serverless endpoints: use all_at_once, canary or linear",
            )
        )
    return problems


def _name_problems(
    variants: Sequence[VariantSpec], models: Collection[str]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if len(variants) > MAX_VARIANTS:
        problems.append(
            ("variants", f"{len(variants)} variants; SageMaker allows at most {MAX_VARIANTS}")
        )
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        if variant.name in seen:
            problems.append((f"variants[{index}].name", f"duplicate variant name {variant.name!r}"))
        seen.add(variant.name)
        if variant.model not in models:
            problems.append(
                (
                    f"variants[{index}].model",
                    f"unknown model {variant.model!r} (models: {', '.join(models)})",
                )
            )
    if variants and sum(v.initial_weight for v in variants) <= 0:
        problems.append(("variants", "all initial weights are 0: no variant would get traffic"))
    return problems


def _serverless_problems(
    variants: Sequence[VariantSpec],
    deployment: DeploymentSpec,
    data_capture: DataCaptureSpec | None,
    metrics: MetricsSpec,
) -> list[tuple[str, str]]:
    serverless = [i for i, v in enumerate(variants) if v.is_serverless]
    if not serverless:
        return []
    problems: list[tuple[str, str]] = []
    if len(variants) > 1:
        problems.append(
            (
                f"variants[{serverless[0]}].serverless",
                "SageMaker does not support multiple production variants on a serverless "
                "endpoint: a serverless variant must be the only variant",
            )
        )
    if data_capture is not None and data_capture.enabled:
        problems.append(
            (
                "data_capture.enabled",
                "SageMaker does not support data capture on serverless endpoints: set it to false",
            )
        )
    if not metrics.is_default:
        problems.append(
            (
                "metrics",
                "detailed observability, enhanced metrics and the publish frequency apply to "
                "endpoints on instances; a serverless endpoint has none: remove the section",
            )
        )
    step = deployment.step_size
    if step is not None and step.type == "instance_count":
        problems.append(
            (
                f"deployment.{_step_field(deployment)}.type",
                "a serverless endpoint has no instances: use capacity_percent",
            )
        )
    return problems


def _timeout_problems(
    variants: Sequence[VariantSpec], deployment: DeploymentSpec
) -> list[tuple[str, str]]:
    """A linear or rolling update bakes once per step, at whatever fleet size autoscaling has
    left the variant: the timeout must outlast the most steps any size takes (percentages round
    up to whole instances, so a smaller fleet can take more: 30 % of 10 instances is 4 steps,
    of 11 is 3) and the termination wait (:meth:`DeploymentSpec.timeout_problem`). Sizes whose
    step is invalid are left to the step check."""
    step = deployment.step_size
    if step is None or deployment.strategy not in ("linear", "rolling"):
        return []
    for variant in variants:
        if variant.instance is None:
            continue
        sizes = fleet_sizes(variant.instance.fleet_bounds())
        most = most_steps(deployment.strategy, step.type, step.value, sizes)
        if most is None:
            continue
        steps, fleet = most
        problem = deployment.timeout_problem(steps)
        if problem is not None:
            where = f"variant {variant.name!r} at {fleet} instances"
            return [("deployment.maximum_execution_timeout_seconds", f"{where}: {problem}")]
    return []


def _step_field(deployment: DeploymentSpec) -> str:
    return {"canary": "canary_size", "rolling": "rolling_batch_size"}.get(
        deployment.strategy, "linear_step_size"
    )


def _step_size_problems(
    variants: Sequence[VariantSpec], deployment: DeploymentSpec
) -> list[tuple[str, str]]:
    """Canary <= 50 %, linear 10-50 % and rolling 5-50 % of every instance variant's fleet, at
    every fleet size autoscaling allows; percentages round up to whole instances
    (guardrails.py)."""
    step = deployment.step_size
    if step is None:
        return []
    problems: list[tuple[str, str]] = []
    for variant in variants:
        if variant.instance is None:
            continue
        problem = first_step_problem(
            deployment.strategy,
            step.type,
            step.value,
            fleet_sizes(variant.instance.fleet_bounds()),
        )
        if problem is not None:
            problems.append(
                (
                    f"deployment.{_step_field(deployment)}.value",
                    f"variant {variant.name!r}: {problem}",
                )
            )
    return problems
