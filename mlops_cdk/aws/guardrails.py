"""SageMaker deployment-guardrail arithmetic (pure: used by the schema, the rule pack and the
review report, so all three state the same effective canary / linear step).

SageMaker API reference, ``TrafficRoutingConfig``: ``CanarySize`` "must be less than or equal to
50% of the variant's total instance count"; ``LinearStepSize`` "must be 10-50% of the variant's
total instance count". A ``CAPACITY_PERCENT`` size is rounded up to whole instances (developer
guide, "Blue/Green Deployments": traffic shifting by capacity). ``WaitIntervalInSeconds`` (0-3600)
is required and is the baking period during which auto-rollback alarms are evaluated.

Rolling updates (API reference "RollingUpdatePolicy",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_RollingUpdatePolicy.html):
``MaximumBatchSize`` "must be between 5% to 50% of the variant's total instance count", rounded
up to whole instances like the blue/green steps (so a one-instance fleet cannot roll).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

Strategy = Literal["all_at_once", "canary", "linear", "rolling"]

StepType = Literal["INSTANCE_COUNT", "CAPACITY_PERCENT"]
STEP_TYPES: frozenset[str] = frozenset({"INSTANCE_COUNT", "CAPACITY_PERCENT"})
# SageMaker API Reference, "TrafficRoutingConfig": CanarySize "must be less than or equal to 50%
# of the variant's total instance count"; LinearStepSize "must be 10-50% of the variant's total
# instance count".
CANARY_MAX_SHARE = Fraction(1, 2)
LINEAR_MIN_SHARE = Fraction(1, 10)
LINEAR_MAX_SHARE = Fraction(1, 2)
# API reference "RollingUpdatePolicy": MaximumBatchSize 5-50 % of the variant's instance count.
ROLLING_MIN_SHARE = Fraction(5, 100)
ROLLING_MAX_SHARE = Fraction(1, 2)


def effective_step(step_type: str, value: float, fleet: int) -> int:
    """Instances one traffic-shifting step moves on a fleet of ``fleet`` instances.

    ``INSTANCE_COUNT`` moves ``value`` instances; ``CAPACITY_PERCENT`` moves ``value`` % of the
    fleet, rounded up to whole instances (SageMaker cannot shift a fraction of an instance):
    10 % of 3 instances is 1 instance. The type is matched case-insensitively (the config's
    ``capacity_percent`` too). Raises ``ValueError`` for another type or an empty fleet.
    """
    if fleet < 1:
        raise ValueError(f"a fleet has at least one instance, got {fleet}")
    if value < 0:
        raise ValueError(f"a step size is not negative, got {value}")
    exact = Fraction(str(value))  # exact decimal: 7 % of 100 is 7 instances, not 8
    kind = step_type.upper()
    if kind == "INSTANCE_COUNT":
        return math.ceil(exact)
    if kind == "CAPACITY_PERCENT":
        return math.ceil(exact * fleet / 100)
    raise ValueError(f"step type must be one of {sorted(STEP_TYPES)}, got {step_type!r}")


def step_share(step_type: str, value: float, fleet: int) -> float:
    """The share of the fleet (0-1) one step moves: ``effective_step / fleet``."""
    return effective_step(step_type, value, fleet) / fleet


def step_within_limits(kind: str, step_type: str, value: float, fleet: int) -> bool:
    """Whether a ``CANARY`` or ``LINEAR`` step, or a ``ROLLING`` batch, of this size is valid on
    a fleet of ``fleet`` (compared exactly: 1 of 10 instances is exactly the 10 % minimum)."""
    share = Fraction(effective_step(step_type, value, fleet), fleet)
    if kind.upper() == "CANARY":
        return 0 < share <= CANARY_MAX_SHARE
    if kind.upper() == "LINEAR":
        return LINEAR_MIN_SHARE <= share <= LINEAR_MAX_SHARE
    if kind.upper() == "ROLLING":
        return ROLLING_MIN_SHARE <= share <= ROLLING_MAX_SHARE
    raise ValueError(f"step kind must be CANARY, LINEAR or ROLLING, got {kind!r}")


def describe_step(strategy: str, step_type: str, value: float, fleet: int) -> str:
    """``canary: 1 of 2 instances = 50 %``."""
    instances = effective_step(step_type, value, fleet)
    share = 100 * instances / fleet
    noun = "instance" if fleet == 1 else "instances"
    return f"{strategy.lower()}: {instances} of {fleet} {noun} = {share:.3g} %"


def step_problem(strategy: str, step_type: str, value: float, fleet: int) -> str | None:
    """Why SageMaker would reject this step for a fleet of ``fleet`` instances, or None."""
    if step_within_limits(strategy, step_type, value, fleet):
        return None
    described = describe_step(strategy, step_type, value, fleet)
    if strategy.lower() == "canary":
        return f"{described}; SageMaker allows a canary of at most 50 % of the variant's fleet"
    if strategy.lower() == "rolling":
        return f"{described}; SageMaker requires a rolling batch of 5-50 % of the variant's fleet"
    return f"{described}; SageMaker requires a linear step of 10-50 % of the variant's fleet"


def step_count(step_type: str, value: float, fleet: int) -> int:
    """How many linear steps or rolling batches move a fleet of ``fleet`` instances, each
    with its baking period ("For each step, there is a baking period": "Use linear traffic
    shifting"; a rolling update bakes each batch): 10 % of 20 instances is 10 steps."""
    return math.ceil(fleet / effective_step(step_type, value, fleet))


def most_steps(
    strategy: str, step_type: str, value: float, sizes: Iterable[int]
) -> tuple[int, int] | None:
    """(steps, fleet size) of the size, among ``sizes``, whose update takes the most steps
    (each baked), the larger size on a tie; sizes where the step is out of SageMaker's
    bounds are left out (the step check reports them); None when none is left. Percentages
    round up, so a smaller fleet can take more: 30 % of 10 instances is 4 steps, of 11 is 3."""
    counted = [
        (step_count(step_type, value, fleet), fleet)
        for fleet in sizes
        if step_within_limits(strategy, step_type, value, fleet)
    ]
    return max(counted, default=None)


def fleet_sizes(counts: Iterable[int]) -> range:
    """Every fleet size between the smallest and largest of ``counts`` (initial count,
    autoscaling and scheduled bounds): the step must be valid whatever the fleet is when a
    deployment starts."""
    values = [c for c in counts if c >= 1]
    if not values:
        raise ValueError("no fleet size given")
    return range(min(values), max(values) + 1)


def first_step_problem(
    strategy: str, step_type: str, value: float, sizes: Iterable[int]
) -> str | None:
    """The first fleet size at which the step is out of SageMaker's bounds, described."""
    for fleet in sizes:
        problem = step_problem(strategy, step_type, value, fleet)
        if problem is not None:
            return problem
    return None
