"""SageMaker deployment-guardrail arithmetic (pure: used by the schema, the rule pack and the
review report, so all three state the same effective canary / linear step).

SageMaker API reference, ``TrafficRoutingConfig``: ``CanarySize`` "must be less than or equal to
50% of the variant's total instance count"; ``LinearStepSize`` "must be 10-50% of the variant's
total instance count". A ``CAPACITY_PERCENT`` size is rounded up to whole instances (developer
guide, "Blue/Green Deployments": traffic shifting by capacity). ``WaitIntervalInSeconds`` (0-3600)
is required and is the baking period during which auto-rollback alarms are evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

StepType = Literal["instance_count", "capacity_percent"]
Strategy = Literal["all_at_once", "canary", "linear"]

CANARY_MAX_SHARE = 0.5
LINEAR_MIN_SHARE = 0.1
LINEAR_MAX_SHARE = 0.5


def effective_step(step_type: str, value: float, fleet: int) -> int:
    """Instances a canary / linear step turns on for a variant of ``fleet`` instances.

    ``step_type`` is ``instance_count`` / ``capacity_percent`` (CloudFormation's upper-case forms
    are accepted too)."""
    if fleet < 1:
        raise ValueError("a variant's fleet has at least one instance")
    if step_type.lower() == "instance_count":
        return int(value)
    return math.ceil(value * fleet / 100 - 1e-9)


def step_share(step_type: str, value: float, fleet: int) -> float:
    """The share of the variant's fleet (0-1) the step turns on."""
    return effective_step(step_type, value, fleet) / fleet


def describe_step(strategy: str, step_type: str, value: float, fleet: int) -> str:
    """``canary: 1 of 2 instances = 50 %``."""
    instances = effective_step(step_type, value, fleet)
    share = 100 * instances / fleet
    noun = "instance" if fleet == 1 else "instances"
    return f"{strategy.lower()}: {instances} of {fleet} {noun} = {share:.3g} %"


def step_problem(strategy: str, step_type: str, value: float, fleet: int) -> str | None:
    """Why SageMaker would reject this step for a fleet of ``fleet`` instances, or None."""
    share = step_share(step_type, value, fleet)
    described = describe_step(strategy, step_type, value, fleet)
    if strategy.lower() == "canary" and share > CANARY_MAX_SHARE:
        return f"{described}; SageMaker allows a canary of at most 50 % of the variant's fleet"
    if strategy.lower() == "linear" and not LINEAR_MIN_SHARE <= share <= LINEAR_MAX_SHARE:
        return f"{described}; SageMaker requires a linear step of 10-50 % of the variant's fleet"
    return None


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
