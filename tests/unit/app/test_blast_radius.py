"""Blast radius: adding, changing or removing one service leaves every other stack's template
byte-identical, the Foundation included (the key and bucket policies never list services)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.app.builder import build_app
from mlops_cdk.config import EnvConfig
from tests.helpers import cdk_context

pytestmark = pytest.mark.xdist_group("blast-radius")


def templates(config: EnvConfig, outdir: Path) -> dict[str, str]:
    """Every stack of the environment, as the exact JSON text CloudFormation receives."""
    # Gates off: they never change a template; this test is about template contents only.
    app, _ = build_app([config], outdir=str(outdir), context=cdk_context(), compliance_gates=False)
    assembly = app.synth().get_nested_assembly(f"assembly-{config.name}")
    return {
        stack.stack_name: Path(stack.template_full_path).read_text() for stack in assembly.stacks
    }


def add_service(data: dict[str, Any]) -> set[str]:
    recs = copy.deepcopy(data["services"]["fraud"])
    for model in recs["models"]:
        model["model_data_key"] = model["model_data_key"].replace("/fraud/", "/recs/")
    data["services"]["recs"] = recs
    return {"prod-recs", "prod-recs-Registry"}


def add_service_with_drift_check(data: dict[str, Any]) -> set[str]:
    """A drift check (its schedule, role and queue) stays in the service's own stack."""
    touched = add_service(data)
    data["services"]["recs"]["drift"] = {"window_hours": 6, "retrain": True}
    return touched


def add_quality_check(data: dict[str, Any]) -> set[str]:
    """A quality check (function, schedule, heartbeat) lives in its service's stack only: the
    other services' stacks do not change when one service gets one (or loses it)."""
    fraud = data["services"]["fraud"]
    fraud["quality_check"] = {
        "problem": "binary",
        "metrics": ["auc"],
        "dimensions": {"Service": "fraud"},
    }
    alarm = fraud["quality_alarms"][0]
    alarm.update(metric_name="AUC", dimensions={"Service": "fraud"}, published_by=None)
    return {"prod-fraud"}


def add_retraining_loop(data: dict[str, Any]) -> set[str]:
    """The whole retraining loop for fraud: its quality check, and a retraining pipeline this app
    deploys (roles, pipeline, model package group, approval rule) instead of its own pipeline.
    Only fraud's stacks change: its registry keeps the pipeline's training and evaluation
    images from expiring; no other service's function, group or rule."""
    add_quality_check(data)
    fraud = data["services"]["fraud"]
    fraud["retraining"] = {
        "cooldown_minutes": 360,
        "managed_pipeline": {
            "training": {
                "image_tag": "train-3.1.0",
                "instance_type": "ml.m5.xlarge",
                "channels": ["train", "validation"],
                "max_runtime_seconds": 7200,
                "spot": {"max_wait_seconds": 14400},
            },
            "evaluation": {
                "image_tag": "eval-3.1.0",
                "instance_type": "ml.m5.large",
                "entrypoint": ["python3", "/opt/ml/code/evaluate.py"],
                "channel": "test",
                "metric": {"name": "auc", "threshold": 0.9, "comparison": "greater_than"},
            },
        },
    }
    return {"prod-fraud", "prod-fraud-Registry"}


def change_service(data: dict[str, Any]) -> set[str]:
    data["services"]["churn"]["variants"][0]["initial_weight"] = 50
    data["services"]["churn"]["alarms"] = {"latency_ms": 300}
    return {"prod-churn"}


def remove_service(data: dict[str, Any]) -> set[str]:
    del data["services"]["fraud"]
    return {"prod-fraud", "prod-fraud-Registry"}


@pytest.fixture(scope="module")
def before(
    env_configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    return templates(env_configs["prod"], tmp_path_factory.mktemp("before"))


@pytest.mark.parametrize(
    "change",
    [
        add_service,
        add_service_with_drift_check,
        add_quality_check,
        add_retraining_loop,
        change_service,
        remove_service,
    ],
)
def test_other_stacks_are_byte_identical(
    before: dict[str, str],
    env_configs: dict[str, EnvConfig],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], set[str]],
) -> None:
    data = json.loads(json.dumps(env_configs["prod"].model_dump(mode="json")))
    touched = change(data)
    after = templates(EnvConfig.model_validate(data), tmp_path)
    assert "prod-Foundation" in after
    untouched = (set(before) | set(after)) - touched
    for stack in sorted(untouched):
        assert after.get(stack) == before.get(stack), f"{stack} changed"
    # and the change really changed something (the test cannot pass vacuously)
    assert any(after.get(stack) != before.get(stack) for stack in touched)
    for stack, types in ADDS.get(change, {}).items():
        resources = json.loads(after[stack])["Resources"].values()
        assert types <= {r["Type"] for r in resources}, stack


# What a change must add where it lands (it is not enough that the stack changed).
ADDS: dict[Callable[[dict[str, Any]], set[str]], dict[str, set[str]]] = {
    add_retraining_loop: {
        "prod-fraud": {
            "AWS::SageMaker::Pipeline",
            "AWS::SageMaker::ModelPackageGroup",
            "AWS::Events::Rule",
            "AWS::Lambda::Function",
        }
    },
}
