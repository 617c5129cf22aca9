"""``services.<name>.inference_components``: the committed example (``ranking`` in
config/dev.yaml) loads, and every mistake is one line naming the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import load_environment
from tests.helpers import COMMITTED_CONFIG_DIR, yaml_data, yaml_text
from tests.unit.config.test_bad_input import problems_in

AT = "services.ranking.inference_components"
BASE: dict[str, Any] = yaml_data((COMMITTED_CONFIG_DIR / "dev.yaml").read_text())


def edited(path: str, value: Any) -> dict[str, Any]:
    """The committed dev file with ``ranking.<path>`` (dotted) set to ``value``."""
    data = copy.deepcopy(BASE)
    target: Any = data["services"]["ranking"]
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = value
    return data


def test_the_committed_components_share_a_fleet_that_scales_to_zero() -> None:
    spec = load_environment(COMMITTED_CONFIG_DIR / "dev.yaml").services["ranking"]
    components = spec.inference_components
    assert components is not None
    assert components.scales_to_zero
    assert len(components.components) >= 2
    assert all(c.scales_to_zero for c in components.components)
    assert not spec.variants


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (
            "inference_components.fleet.managed_scaling.max_instance_count",
            1,
            f"{AT}.fleet.managed_scaling.max_instance_count: needs 6 vCPUs at max copies, the "
            "fleet has 4 at 1 x ml.m5.xlarge: short by 2",
        ),
        (
            "inference_components.components.1.memory_mb",
            20000,
            f"{AT}.components[1].memory_mb: one copy needs 20000 MB of memory; one ml.m5.xlarge "
            "has 16384 (a copy runs on one instance)",
        ),
        (
            "inference_components.components.0.accelerators",
            1,
            f"{AT}.components[0].accelerators: ml.m5.xlarge has no accelerators",
        ),
        (
            "inference_components.components.0.copies",
            9,
            f"{AT}.components[0].copies: 9 is outside autoscaling [0, 4]",
        ),
        (
            "inference_components.fleet.initial_instance_count",
            3,
            f"{AT}.fleet.initial_instance_count: 3 is outside managed_scaling [0, 2]",
        ),
        (
            "inference_components.components.1.name",
            "ranker",
            f"{AT}.components[1].name: duplicate component 'ranker'",
        ),
        (
            "inference_components.components.0.model",
            "nope-v1",
            f"{AT}.components[0].model: unknown model 'nope-v1' (models: ranking-v1, reranker-v1)",
        ),
        (
            "inference_components.components.1.deployment.batch_size",
            {"type": "capacity_percent", "value": 80},
            f"{AT}.components[1].deployment.batch_size.value: a capacity_percent batch is 5-50 "
            "(% of the copy count)",
        ),
        (  # ranker scales to 4 copies: 4 batches of 1, each baked 600 s
            "inference_components.components.0.deployment",
            {"batch_size": {"type": "copy_count", "value": 1}, "wait_seconds": 600},
            f"{AT}.components[0].deployment.maximum_execution_timeout_seconds: at 4 copies: 1800 "
            "s is not more than the update's waits (4 batches baked 600 s = 2400 s): the update "
            "would time out and roll back; raise it (at most 28800) or shorten wait_seconds",
        ),
        (  # a percentage batch is at least one copy: 10 % of 4 copies is 4 batches of 1
            "inference_components.components.0.deployment",
            {"batch_size": {"type": "capacity_percent", "value": 10}, "wait_seconds": 450},
            f"{AT}.components[0].deployment.maximum_execution_timeout_seconds: at 4 copies: 1800 "
            "s is not more than the update's waits (4 batches baked 450 s = 1800 s): the update "
            "would time out and roll back; raise it (at most 28800) or shorten wait_seconds",
        ),
        (
            "inference_components.fleet.routing",
            "round_robin",
            f"{AT}.fleet.routing: Input should be 'least_outstanding_requests' or 'random'",
        ),
        (
            "data_capture",
            {"enabled": True},
            "services.ranking.data_capture: applies to an endpoint of weighted variants, not to "
            "inference components: remove it",
        ),
    ],
)
def test_bad_component_settings_are_one_line_each(
    tmp_path: Path, path: str, value: Any, problem: str
) -> None:
    assert problems_in(tmp_path, edited(path, value)) == [f"config/dev.yaml: {problem}"]


def test_a_percentage_batch_counts_the_copies_not_the_percentage(tmp_path: Path) -> None:
    """reranker scales to 2 copies: 10 % batches are 2 batches of 1 (600 s), not 10."""
    deployment = {"batch_size": {"type": "capacity_percent", "value": 10}, "wait_seconds": 300}
    data = edited("inference_components.components.1.deployment", deployment)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data), encoding="utf-8")
    spec = load_environment(path).services["ranking"].inference_components
    assert spec is not None
    assert spec.components[1].deployment.batch_size.value == 10


def test_variants_and_components_are_refused_together(tmp_path: Path) -> None:
    data = edited(
        "variants",
        [
            {
                "name": "primary",
                "model": "ranking-v1",
                "initial_weight": 1,
                "instance": {"instance_type": "ml.m5.large", "initial_instance_count": 1},
            }
        ],
    )
    assert problems_in(tmp_path, data) == [
        f"config/dev.yaml: {AT}: a service hosts its models on weighted variants or as inference "
        "components on a shared fleet, not both: remove variants or inference_components"
    ]


def test_an_unknown_fleet_type_names_the_table(tmp_path: Path) -> None:
    [problem] = problems_in(
        tmp_path, edited("inference_components.fleet.instance_type", "ml.x9.large")
    )
    assert problem.startswith(f"config/dev.yaml: {AT}.fleet.instance_type: 'ml.x9.large' is not")
