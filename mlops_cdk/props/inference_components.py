"""Props of models hosted as inference components on a shared fleet
(``services.<name>.inference_components``), declared once: the construct
:class:`mlops_cdk.constructs.inference_components.InferenceComponentEndpoint` takes them and the
configuration validates YAML into them.

AWS facts relied on (SageMaker developer guide and API reference):

- "CreateInferenceComponent"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceComponent.html):
  one model per component, with its compute requirements and copy count, on an existing endpoint
  and variant; invoked with ``InvokeEndpoint`` and ``InferenceComponentName``.
- "InferenceComponentComputeResourceRequirements"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceComponentComputeResourceRequirements.html):
  ``MinMemoryRequiredInMb`` required, at least 128; ``NumberOfCpuCoresRequired`` at least 0.25;
  ``NumberOfAcceleratorDevicesRequired`` at least 1.
- "InferenceComponentRollingUpdatePolicy"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceComponentRollingUpdatePolicy.html):
  ``MaximumBatchSize`` (``COPY_COUNT`` or ``CAPACITY_PERCENT``, "between 5% to 50% of the copy
  count"), ``WaitIntervalInSeconds`` 0-3600 (the baking period: alarms are monitored for each
  batch), ``MaximumExecutionTimeoutInSeconds`` 600-28800, ``RollbackMaximumBatchSize`` (default:
  all at once).
- "ProductionVariantManagedInstanceScaling"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantManagedInstanceScaling.html):
  ``MinInstanceCount`` at least 0, ``MaxInstanceCount`` at least 1, ``Status`` ENABLED/DISABLED.
- "ProductionVariantRoutingConfig"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantRoutingConfig.html):
  ``LEAST_OUTSTANDING_REQUESTS`` or ``RANDOM``.
- "Scale an endpoint to zero instances"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html):
  only an endpoint hosting inference components scales to zero instances, with
  ``MinInstanceCount`` 0; each component registers ``inference-component/<name>`` /
  ``sagemaker:inference-component:DesiredCopyCount`` with minimum 0, and a step scaling policy on
  an alarm on ``NoCapacityInvocationFailures`` wakes it.
- "Define a scaling policy"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html):
  the predefined ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution`` metric is
  published every 10 seconds; otherwise ``ConcurrentRequestsPerCopy`` (also emitted every 10
  seconds) read at a 60-second period, its maximum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from mlops_cdk.aws.guardrails import step_count
from mlops_cdk.aws.instance_specs import instance_spec
from mlops_cdk.aws.instance_types import UnknownInstanceType
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import (
    NUMBER,
    PROPS_CONFIG,
    Check,
    Pattern,
    checked_types,
    declared_problems,
    indexed,
)
from mlops_cdk.props.model import ModelSpec
from mlops_cdk.props.variants import NAME_PATTERN, instance_type_problem

# Component names are short: the component is named ``<endpoint>-<name>`` (CreateInferenceComponent
# allows 63 characters, like the endpoint name).
COMPONENT_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$"
MAX_COMPONENT_NAME_LENGTH = 63  # InferenceComponentName
MAX_COMPONENTS = 20  # what one service's stack holds here (each has its scaling and alarms)


@dataclass(frozen=True, kw_only=True)
@checked_types
class ManagedInstanceScalingSpec:
    """The fleet's instance range (ManagedInstanceScaling, Status ENABLED): SageMaker adds and
    removes instances as component copies need them; ``min_instance_count`` 0 lets the fleet
    scale to zero instances when every component is at zero copies."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    min_instance_count: Annotated[int, Ge(0), Le(1000), NUMBER] = 0
    max_instance_count: Annotated[int, Ge(1), Le(1000), NUMBER]

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.min_instance_count > self.max_instance_count:
            problems.append(
                ("min_instance_count", "min_instance_count is greater than max_instance_count")
            )
        if problems:
            raise PropProblems(problems, subject="managed scaling")


@dataclass(frozen=True, kw_only=True)
@checked_types
class FleetSpec:
    """The shared fleet: one production variant without a model."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    instance_type: Annotated[str, Check(instance_type_problem)]
    """An ml.* hosting instance type."""
    initial_instance_count: Annotated[int, Ge(1), Le(1000), NUMBER]
    managed_scaling: ManagedInstanceScalingSpec
    routing: Literal["least_outstanding_requests", "random"] = "least_outstanding_requests"
    """RoutingConfig.RoutingStrategy: least_outstanding_requests or random."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        scaling, count = self.managed_scaling, self.initial_instance_count
        if not problems and not scaling.min_instance_count <= count <= scaling.max_instance_count:
            problems.append(
                (
                    "initial_instance_count",
                    f"{count} is outside managed_scaling [{scaling.min_instance_count}, "
                    f"{scaling.max_instance_count}]",
                )
            )
        if problems:
            raise PropProblems(problems, subject="fleet")


@dataclass(frozen=True, kw_only=True)
@checked_types
class CopyAutoscaling:
    """Target tracking on a component's copy count, concurrent requests per copy: the 10-second
    predefined metric (``high_resolution``, default) or ``ConcurrentRequestsPerCopy`` each
    minute. ``min_copies`` 0 scales the component to zero (woken by the step policy on
    ``NoCapacityInvocationFailures``)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    min_copies: Annotated[int, Ge(0), Le(1000), NUMBER] = 0
    max_copies: Annotated[int, Ge(1), Le(1000), NUMBER]
    target_concurrent_requests_per_copy: Annotated[float, Gt(0), NUMBER] = 4.0
    high_resolution: bool = True
    scale_in_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 300
    scale_out_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 60

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.min_copies > self.max_copies:
            problems.append(("min_copies", "min_copies is greater than max_copies"))
        if problems:
            raise PropProblems(problems, subject="copy autoscaling")


@dataclass(frozen=True, kw_only=True)
@checked_types
class BatchSize:
    """One rolling batch: ``value`` copies (``copy_count``) or ``value`` % of the copy count
    (``capacity_percent``, 5-50 as AWS documents)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    type: Literal["copy_count", "capacity_percent"] = "copy_count"
    value: Annotated[int, Ge(1), Le(1000), NUMBER] = 1

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.type == "capacity_percent" and not 5 <= self.value <= 50:
            problems.append(("value", "a capacity_percent batch is 5-50 (% of the copy count)"))
        if problems:
            raise PropProblems(problems, subject="batch size")


@dataclass(frozen=True, kw_only=True)
@checked_types
class RollingDeployment:
    """How a component's update rolls out (RollingUpdatePolicy): batches of ``batch_size``,
    each baked for ``wait_seconds`` while the rollback alarms (the component's error alarm, with
    ``rollback_on_alarms``) are watched; ``rollback_batch_size`` (None: all at once)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    batch_size: BatchSize = field(default_factory=BatchSize)
    rollback_batch_size: BatchSize | None = None
    wait_seconds: Annotated[int, Ge(0), Le(3600), NUMBER] = 300
    maximum_execution_timeout_seconds: Annotated[int, Ge(600), Le(28800), NUMBER] = 1800
    rollback_on_alarms: bool = True

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.rollback_on_alarms and self.wait_seconds == 0:
            problems.append(
                ("wait_seconds", "rollback alarms are watched during the baking period: set it > 0")
            )
        if problems:
            raise PropProblems(problems, subject="rolling deployment")

    def timeout_problem(self, batches: int, copies: int) -> str | None:
        """Why the timeout cannot cover ``batches`` baked batches (at ``copies`` copies):
        "Maximum execution timeout for the deployment", each batch baked ``wait_seconds``
        (InferenceComponentRollingUpdatePolicy)."""
        waits = batches * self.wait_seconds
        if self.maximum_execution_timeout_seconds > waits:
            return None
        return (
            f"at {copies} {'copy' if copies == 1 else 'copies'}: "
            f"{self.maximum_execution_timeout_seconds} s is not more than the update's waits "
            f"({batches} batch{'es' if batches > 1 else ''} baked {self.wait_seconds} s = "
            f"{waits} s): the update would time out and roll back; raise it (at most 28800) "
            "or shorten wait_seconds"
        )


@dataclass(frozen=True, kw_only=True)
@checked_types
class InferenceComponentSpec:
    """One model hosted as a component: what each copy reserves (``cpu_cores``, ``memory_mb``,
    ``accelerators``), the initial ``copies``, copy autoscaling and the rolling deployment."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: Annotated[str, Pattern(COMPONENT_NAME_PATTERN)]
    """1-20 letters, digits and '-': the component is named <endpoint>-<name>."""
    model: Annotated[str, Pattern(NAME_PATTERN)]
    """The service's model the component hosts."""
    cpu_cores: Annotated[float, Ge(0.25), Le(1000), NUMBER] | None = None
    """NumberOfCpuCoresRequired per copy (at least 0.25)."""
    memory_mb: Annotated[int, Ge(128), Le(4_000_000), NUMBER]
    """MinMemoryRequiredInMb per copy (at least 128)."""
    accelerators: Annotated[int, Ge(1), Le(64), NUMBER] | None = None
    """NumberOfAcceleratorDevicesRequired per copy (GPUs or Inferentia devices)."""
    copies: Annotated[int, Ge(1), Le(1000), NUMBER] = 1
    """Initial copy count (RuntimeConfig.CopyCount)."""
    autoscaling: CopyAutoscaling | None = None
    deployment: RollingDeployment = field(default_factory=RollingDeployment)

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        scaling = self.autoscaling
        if not problems and scaling and not scaling.min_copies <= self.copies <= scaling.max_copies:
            problems.append(
                (
                    "copies",
                    f"{self.copies} is outside autoscaling [{scaling.min_copies}, "
                    f"{scaling.max_copies}]",
                )
            )
        problems = problems or self._timeout_problems()
        if problems:
            raise PropProblems(problems, subject=f"inference component {self.name}")

    def _timeout_problems(self) -> list[tuple[str, str]]:
        """The update bakes each batch, at whatever copy count autoscaling has left: the
        timeout must outlast the most batches any count takes (a percentage batch is at least
        one copy, rounded up: 10 % of 4 copies is 4 batches of 1)."""
        low = max(1, self.autoscaling.min_copies) if self.autoscaling else self.copies
        size = self.deployment.batch_size
        # A copy is to a component what an instance is to a variant's fleet.
        step_type = "CAPACITY_PERCENT" if size.type == "capacity_percent" else "INSTANCE_COUNT"
        counted = [
            (step_count(step_type, size.value, copies), copies)
            for copies in range(low, self.max_copies + 1)
        ]
        if not counted:
            return []
        # the fewest copies that take the most batches
        problem = self.deployment.timeout_problem(*max(counted, key=lambda c: c[0]))
        return (
            [] if problem is None else [("deployment.maximum_execution_timeout_seconds", problem)]
        )

    @property
    def max_copies(self) -> int:
        return self.autoscaling.max_copies if self.autoscaling else self.copies

    @property
    def scales_to_zero(self) -> bool:
        return self.autoscaling is not None and self.autoscaling.min_copies == 0


@dataclass(frozen=True, kw_only=True)
@checked_types
class InferenceComponentsSpec:
    """A service's shared fleet and the components on it. The components' reservations at their
    maximum copies must fit the fleet at its maximum size (:func:`fit_problems`)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    fleet: FleetSpec
    components: Annotated[tuple[InferenceComponentSpec, ...], MinLen(1), MaxLen(MAX_COMPONENTS)]

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        names = [c.name for c in self.components]
        for index, name in enumerate(names):
            if names.index(name) != index:
                problems.append((f"components[{index}].name", f"duplicate component {name!r}"))
        if not problems:
            problems += fit_problems(self.fleet, self.components)
        if problems:
            raise PropProblems(problems, subject="inference components")

    @property
    def scales_to_zero(self) -> bool:
        """The fleet may reach zero instances."""
        return self.fleet.managed_scaling.min_instance_count == 0


def _shortfall(unit: str, need: float, have: float, fleet: str) -> str | None:
    if need <= have:
        return None
    return (
        f"needs {_num(need)} {unit} at max copies, the fleet has {_num(have)} at {fleet}: "
        f"short by {_num(need - have)}"
    )


def _num(value: float) -> str:
    return f"{value:g}"


def fit_problems(
    fleet: FleetSpec, components: tuple[InferenceComponentSpec, ...]
) -> list[tuple[str, str]]:
    """(field, message) where the components do not fit the fleet: a copy larger than one
    instance, or every component at its maximum copies more than the fleet at its maximum
    instance count offers (vCPUs, memory, accelerators)."""
    try:
        spec = instance_spec(fleet.instance_type)
    except UnknownInstanceType as exc:
        return [("fleet.instance_type", str(exc))]
    problems: list[tuple[str, str]] = []
    for index, component in enumerate(components):
        one = _copy_problem(component, spec)
        if one is not None:
            problems += indexed(f"components[{index}]", [one])
    if problems:
        return problems
    count = fleet.managed_scaling.max_instance_count
    shown = f"{count} x {fleet.instance_type}"
    totals = {
        "vCPUs": sum((c.cpu_cores or 0) * c.max_copies for c in components),
        "MB of memory": sum(c.memory_mb * c.max_copies for c in components),
        "accelerators": sum((c.accelerators or 0) * c.max_copies for c in components),
    }
    offered = {
        "vCPUs": spec.vcpus * count,
        "MB of memory": spec.memory_mib * count,
        "accelerators": spec.accelerators * count,
    }
    for unit, need in totals.items():
        message = _shortfall(unit, need, offered[unit], shown)
        if message is not None:
            problems.append(("fleet.managed_scaling.max_instance_count", message))
    return problems


def _copy_problem(component: InferenceComponentSpec, spec: Any) -> tuple[str, str] | None:
    if component.accelerators and not spec.accelerators:
        return ("accelerators", f"{spec.instance_type} has no accelerators")
    checks = (
        ("cpu_cores", component.cpu_cores or 0, spec.vcpus, "vCPUs"),
        ("memory_mb", component.memory_mb, spec.memory_mib, "MB of memory"),
        ("accelerators", component.accelerators or 0, spec.accelerators, "accelerators"),
    )
    for name, need, have, unit in checks:
        if need > have:
            return (
                name,
                f"one copy needs {_num(need)} {unit}; one {spec.instance_type} has {_num(have)} "
                "(a copy runs on one instance)",
            )
    return None


def component_name(endpoint_name: str, component: str) -> str:
    """The physical name of a component: ``<endpoint>-<component>``."""
    return f"{endpoint_name}-{component}"


def component_model_problems(
    spec: InferenceComponentsSpec, models: Mapping[str, ModelSpec | None]
) -> list[tuple[str, str]]:
    """Each component's model: one of ``models`` (each name's spec, None where only a name is
    known), with a single container ("CreateInferenceComponent": Specification has one
    ModelName or Container)."""
    problems: list[tuple[str, str]] = []
    for index, component in enumerate(spec.components):
        path = f"components[{index}].model"
        if component.model not in models:
            known = ", ".join(models)
            problems.append((path, f"unknown model {component.model!r} (models: {known})"))
        elif (model := models[component.model]) is not None and model.containers:
            problems.append(
                (
                    path,
                    f"model {component.model!r} has several containers; a component hosts a "
                    "single-container model here",
                )
            )
    return problems
