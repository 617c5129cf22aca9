"""Autoscaling of one production variant (``instance.autoscaling`` and
``serverless.autoscaling`` of a variant): taken by :class:`mlops_cdk.constructs.autoscaling.
VariantAutoscaling`, and the configuration validates YAML into them.

Application Auto Scaling scales a variant's instance count, or the provisioned concurrency of
a serverless variant, with target tracking and scheduled actions ("Amazon SageMaker AI and
Application Auto Scaling", https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-sagemaker.html;
"Automatically scale Provisioned Concurrency for a serverless endpoint",
https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-autoscale.html): which one
follows from the type, :class:`InstanceAutoscaling` or :class:`ProvisionedConcurrencyScaling`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Gt, Le

from mlops_cdk.aws.schedules import cron_problem, time_zone_problem
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


def _schedule_problem(value: str) -> str | None:
    problem = cron_problem(value)
    return None if problem is None else f"{value!r}: {problem}"


@dataclass(frozen=True, kw_only=True)
@checked_types
class ScheduledScaling:
    """A scheduled change of the autoscaling bounds, e.g. scale down at night in dev."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: Annotated[str, Pattern(r"^[A-Za-z][A-Za-z0-9]{0,31}$")]
    schedule: Annotated[str, Check(_schedule_problem)]
    """cron(...) expression in time_zone."""
    time_zone: Annotated[str, Check(time_zone_problem)] = "UTC"
    """IANA time zone name, e.g. Europe/Dublin."""
    min_capacity: Annotated[int, Ge(1), NUMBER]
    max_capacity: Annotated[int, Ge(1), NUMBER]

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.min_capacity > self.max_capacity:
            problems.append(("min_capacity", "min_capacity is greater than max_capacity"))
        if problems:
            raise PropProblems(problems, subject=f"scheduled action {self.name}")


@dataclass(frozen=True, kw_only=True)
@checked_types
class InstanceAutoscaling:
    """Target tracking on the variant's instance count."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    min_capacity: Annotated[int, Ge(1), NUMBER]
    max_capacity: Annotated[int, Ge(1), Le(1000), NUMBER]
    metric: Literal["invocations_per_instance", "concurrent_requests_high_resolution"] = (
        "invocations_per_instance"
    )
    target_value: Annotated[float, Gt(0), NUMBER]
    """Target per instance (or per model copy)."""
    scale_in_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 300
    scale_out_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 60
    scheduled: tuple[ScheduledScaling, ...] = ()

    def __post_init__(self) -> None:
        problems = declared_problems(self) or self._bounds_problems()
        if problems:
            raise PropProblems(problems, subject="autoscaling")

    def _bounds_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.min_capacity > self.max_capacity:
            problems.append(("min_capacity", "min_capacity is greater than max_capacity"))
        names = [s.name for s in self.scheduled]
        for index, name in enumerate(names):
            if names.index(name) != index:
                problems.append(
                    (f"scheduled[{index}].name", f"duplicate scheduled action {name!r}")
                )
        for index, action in enumerate(self.scheduled):
            if action.max_capacity > self.max_capacity:
                problems += indexed(
                    f"scheduled[{index}]",
                    [
                        (
                            "max_capacity",
                            f"{action.max_capacity} exceeds the autoscaling max_capacity "
                            f"{self.max_capacity}",
                        )
                    ],
                )
        return problems

    @property
    def capacities(self) -> list[int]:
        """Every bound: min, max and each scheduled action's."""
        counts = [self.min_capacity, self.max_capacity]
        for action in self.scheduled:
            counts += [action.min_capacity, action.max_capacity]
        return counts


@dataclass(frozen=True, kw_only=True)
@checked_types
class ProvisionedConcurrencyScaling:
    """Target tracking on a serverless variant's provisioned concurrency (metric
    ``SageMakerVariantProvisionedConcurrencyUtilization``)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    min_capacity: Annotated[int, Ge(1), Le(200), NUMBER]
    max_capacity: Annotated[int, Ge(1), Le(200), NUMBER]
    target_utilization: Annotated[float, Gt(0), Le(1), NUMBER] = 0.7
    scale_in_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 300
    scale_out_cooldown_seconds: Annotated[int, Ge(0), Le(86400), NUMBER] = 60

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems and self.min_capacity > self.max_capacity:
            problems.append(("min_capacity", "min_capacity is greater than max_capacity"))
        if problems:
            raise PropProblems(problems, subject="provisioned concurrency autoscaling")
