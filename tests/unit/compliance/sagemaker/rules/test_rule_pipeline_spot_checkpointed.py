"""PipelineSpotCheckpointed: a managed spot training step waits at least its run time (default
one day) and has a checkpoint location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import rules_for, stack
from tests.unit.compliance.sagemaker.rules.pipeline_helpers import pipeline

RULE = "PipelineSpotCheckpointed"


def fires(change: Callable[[dict[str, Any]], None] | None = None) -> bool:
    s = stack()
    pipeline(s, change=change)
    return RULE in rules_for(s, "S/Pipeline")


def _train(update: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        update(spec["Steps"][0]["Arguments"])

    return change


def test_spot_with_wait_and_checkpoints_is_compliant() -> None:
    assert not fires()


@pytest.mark.parametrize(
    "update",
    [
        lambda a: a["StoppingCondition"].update(MaxWaitTimeInSeconds=1800),
        lambda a: a["StoppingCondition"].pop("MaxWaitTimeInSeconds"),
        # MaxRuntimeInSeconds defaults to one day: a 2-hour wait is too short.
        lambda a: a["StoppingCondition"].pop("MaxRuntimeInSeconds"),
        lambda a: a.pop("CheckpointConfig"),
        lambda a: a["StoppingCondition"].update(MaxWaitTimeInSeconds={"Get": "Parameters.W"}),
    ],
)
def test_short_wait_or_no_checkpoints_fails(update: Callable[[dict[str, Any]], None]) -> None:
    assert fires(_train(update))


def test_steps_without_spot_are_not_checked() -> None:
    def change(spec: dict[str, Any]) -> None:
        for step in (spec["Steps"][0], spec["Steps"][2]["Arguments"]["IfSteps"][0]):
            step["Arguments"]["EnableManagedSpotTraining"] = False
            step["Arguments"].pop("CheckpointConfig")
            step["Arguments"]["StoppingCondition"].pop("MaxWaitTimeInSeconds")

    assert not fires(change)
