"""Props of the endpoint constructs that the configuration validates YAML into.

Pure Python (no aws_cdk, pydantic or boto3): :mod:`mlops_cdk.constructs.endpoint` takes them as
typed props and :mod:`mlops_cdk.config` validates ``config/<env>.yaml`` into the same classes, so
each setting (name, type, default, bounds) is declared once and a library user gets the same
errors as a YAML user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from mlops_cdk.aws.facts import (
    DEFAULT_METRIC_PUBLISH_FREQUENCY_SECONDS,
    METRIC_PUBLISH_FREQUENCIES_SECONDS,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, checked_types, declared_problems


@dataclass(frozen=True)
@checked_types
class MetricsSpec:
    """What the endpoint publishes to CloudWatch beyond its standard metrics (the endpoint
    config's ``MetricsConfig``; SageMaker API reference "MetricsConfig",
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricsConfig.html).

    Stated in every instance-backed endpoint config, because AWS's defaults changed under us:
    endpoint configs created after 2026-06-17 turn **detailed observability** on unless it is
    set ("Getting started with detailed observability": container-level Prometheus metrics,
    per-GPU metrics, per-instance host metrics, placement metrics), and those metrics are
    billed. ``enhanced_metrics`` adds ``InstanceId`` (and for GPUs ``AcceleratorId``)
    dimensions to utilization and invocation metrics ("Amazon SageMaker AI enhanced metrics
    for inference endpoints"). ``publish_frequency_seconds`` is one of 10, 30, 60, 120, 180,
    240, 300: it applies to utilization metrics, and with enhanced metrics to invocation metrics
    too. Standard invocation and utilization metrics (what the alarms and autoscaling here watch)
    are published either way."""

    # The configuration validates YAML into this class (pydantic): unknown keys are refused.
    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    detailed_observability: bool = False
    enhanced_metrics: bool = False
    publish_frequency_seconds: Annotated[int, NUMBER] = DEFAULT_METRIC_PUBLISH_FREQUENCY_SECONDS

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject="metrics")
        if self.publish_frequency_seconds not in METRIC_PUBLISH_FREQUENCIES_SECONDS:
            allowed = ", ".join(str(f) for f in METRIC_PUBLISH_FREQUENCIES_SECONDS)
            raise PropProblems(
                [
                    (
                        "publish_frequency_seconds",
                        f"must be one of {allowed} (SageMaker MetricsConfig), "
                        f"got {self.publish_frequency_seconds}",
                    )
                ],
                subject="metrics",
            )

    @property
    def is_default(self) -> bool:
        return self == MetricsSpec()


@dataclass(frozen=True)
@checked_types
class DataCaptureSpec:
    """Data capture of the endpoint's requests and responses (``services.<name>.data_capture``):
    ``sampling_percentage`` of the invocations (1-100), inputs and/or outputs, KMS-encrypted
    under the service's capture prefix. ``enabled=False`` captures nothing; the other fields then
    have no effect and are refused when they differ from their defaults (a setting that does
    nothing is a mistake, not an option)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    sampling_percentage: Annotated[int, NUMBER] = 20
    capture_input: bool = True
    capture_output: bool = True
    enabled: bool = True

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject="data capture")
        problems: list[tuple[str, str]] = []
        if not 1 <= self.sampling_percentage <= 100:
            problems.append(("sampling_percentage", "must be 1-100"))
        if self.enabled and not (self.capture_input or self.capture_output):
            problems.append(("capture_input", "capture at least one of input or output"))
        if not self.enabled:
            defaults = DataCaptureSpec()
            problems += [
                (name, "has no effect while data capture is disabled: remove it")
                for name in ("capture_input", "capture_output", "sampling_percentage")
                if getattr(self, name) != getattr(defaults, name)
            ]
        if problems:
            raise PropProblems(problems, subject="data capture")


# SageMaker API reference "TrafficRoutingConfig" / "BlueGreenUpdatePolicy": the baking period
# (WaitIntervalInSeconds) and the termination wait are 0-3600 s; the whole update may take
# 600-28800 s (MaximumExecutionTimeoutInSeconds).
WAIT_SECONDS = (0, 3600)
MAXIMUM_EXECUTION_TIMEOUT_SECONDS = (600, 28800)


@dataclass(frozen=True)
@checked_types
class CapacitySize:
    """One canary or linear step: ``value`` instances (``instance_count``) or ``value`` % of the
    variant's fleet (``capacity_percent``, below 100: 100 % is all at once). SageMaker API
    reference, "CapacitySize"; what a step may be for a given fleet is checked against the
    variants (``mlops_cdk.aws.guardrails``)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    type: Literal["instance_count", "capacity_percent"]
    value: Annotated[int, NUMBER]

    def __post_init__(self) -> None:
        problems = declared_problems(self)  # the type's members; NUMBER: booleans
        if not problems and self.value < 1:
            problems = [("value", "must be at least 1")]
        elif not problems and self.type == "capacity_percent" and self.value >= 100:
            problems = [("value", "a percentage below 100 (100% is all-at-once)")]
        if problems:
            raise PropProblems(problems, subject="capacity size")


@dataclass(frozen=True)
@checked_types
class DeploymentSpec:
    """How endpoint updates replace the fleet (``services.<name>.deployment``): blue/green
    traffic shifting ``all_at_once``, ``canary`` (``canary_size``) or ``linear``
    (``linear_step_size``), or ``rolling`` (``rolling_batch_size``, optional
    ``rollback_batch_size``: RollingUpdatePolicy, batch by batch without doubling the fleet;
    SageMaker excludes serverless and multi-variant endpoints, see
    :func:`mlops_cdk.props.variants.endpoint_problems`). ``wait_seconds`` is the baking period
    (WaitIntervalInSeconds, required by SageMaker for every strategy: rollback alarms are
    evaluated only during it); ``termination_wait_seconds`` applies to blue/green only."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    strategy: Literal["all_at_once", "canary", "linear", "rolling"] = "all_at_once"
    canary_size: CapacitySize | None = None
    linear_step_size: CapacitySize | None = None
    rolling_batch_size: CapacitySize | None = None
    rollback_batch_size: CapacitySize | None = None
    wait_seconds: Annotated[int, NUMBER] = 300
    termination_wait_seconds: Annotated[int, NUMBER] = 300
    maximum_execution_timeout_seconds: Annotated[int, NUMBER] = 3600

    def __post_init__(self) -> None:
        problems = declared_problems(self)  # strategy's members; NUMBER: booleans
        problems = problems or self._strategy_problems() + self._time_problems()
        problems = problems or self._timeout_problems()
        if problems:
            raise PropProblems(problems, subject="deployment")

    def _strategy_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for name, owner in (
            ("canary_size", "canary"),
            ("linear_step_size", "linear"),
            ("rolling_batch_size", "rolling"),
        ):
            if self.strategy == owner and getattr(self, name) is None:
                problems.append((name, f"required for the {owner} strategy"))
            if self.strategy != owner and getattr(self, name) is not None:
                problems.append((name, f"only used by the {owner} strategy, not {self.strategy}"))
        if self.strategy != "rolling" and self.rollback_batch_size is not None:
            problems.append(
                ("rollback_batch_size", f"only used by the rolling strategy, not {self.strategy}")
            )
        if self.strategy == "rolling" and self.termination_wait_seconds != 300:
            problems.append(
                (
                    "termination_wait_seconds",
                    "applies to blue/green updates; a rolling update has no old fleet to keep: "
                    "remove it",
                )
            )
        return problems

    def _time_problems(self) -> list[tuple[str, str]]:
        bounds = {
            "wait_seconds": WAIT_SECONDS,
            "termination_wait_seconds": WAIT_SECONDS,
            "maximum_execution_timeout_seconds": MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
        }
        return [
            (name, f"must be {low}-{high} seconds")
            for name, (low, high) in bounds.items()
            if not low <= getattr(self, name) <= high
        ]

    @property
    def minimum_bakes(self) -> int:
        """The fewest baking periods an update waits through: one for all at once and canary;
        for linear and rolling one per step ("For each step, there is a baking period") and at
        least two steps, a step being at most half the fleet ("Use linear traffic shifting",
        "Use rolling deployments"). How many steps a fleet takes is checked with the variants
        (:func:`mlops_cdk.props.variants.endpoint_problems`)."""
        return 2 if self.strategy in ("linear", "rolling") else 1

    def waits(self, bakes: int) -> int:
        """Seconds an update of ``bakes`` baking periods waits, termination wait included."""
        termination = 0 if self.strategy == "rolling" else self.termination_wait_seconds
        return bakes * self.wait_seconds + termination

    def timeout_problem(self, bakes: int) -> str | None:
        """Why the timeout cannot cover ``bakes`` baking periods and the termination wait:
        "the timeout value should be larger than the total waiting time specified in
        TerminationWaitInSeconds and WaitIntervalInSeconds" (SageMaker API reference,
        BlueGreenUpdatePolicy; a rolling update's timeout covers "the total deployment")."""
        waits = self.waits(bakes)
        if self.maximum_execution_timeout_seconds > waits:
            return None
        spelled = f"{bakes} baking period{'s' if bakes > 1 else ''} of {self.wait_seconds} s"
        if self.strategy != "rolling" and self.termination_wait_seconds:
            spelled += f" + {self.termination_wait_seconds} s termination wait"
        return (
            f"{self.maximum_execution_timeout_seconds} s is not more than the update's waits "
            f"({spelled} = {waits} s): the update would time out and roll back; raise it "
            f"(at most {MAXIMUM_EXECUTION_TIMEOUT_SECONDS[1]}) or shorten the waits"
        )

    def _timeout_problems(self) -> list[tuple[str, str]]:
        problem = self.timeout_problem(self.minimum_bakes)
        return [] if problem is None else [("maximum_execution_timeout_seconds", problem)]

    @property
    def step_size(self) -> CapacitySize | None:
        """The canary or linear step, or the rolling batch (None for all at once)."""
        return self.canary_size or self.linear_step_size or self.rolling_batch_size

    @property
    def step_type(self) -> Literal["instance_count", "capacity_percent"] | None:
        return self.step_size.type if self.step_size else None

    @property
    def step_value(self) -> int | None:
        return self.step_size.value if self.step_size else None
