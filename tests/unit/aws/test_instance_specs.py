"""mlops_cdk.aws.instance_specs: the committed table covers every hosting instance type the
committed configurations use, and its figures are the EC2 specifications'."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_cdk.aws.instance_specs import covered, instance_spec
from mlops_cdk.aws.instance_types import UnknownInstanceType
from tests.helpers import COMMITTED_CONFIG_DIR, yaml_data


def _hosting_types(node: Any, under_batch: bool = False) -> set[str]:
    """Every ``instance_type`` of a config file outside batch jobs (transform types differ)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "instance_type" and isinstance(value, str) and not under_batch:
                found.add(value)
            found |= _hosting_types(value, under_batch or key == "batch_jobs")
    elif isinstance(node, list):
        for item in node:
            found |= _hosting_types(item, under_batch)
    return found


def test_every_committed_hosting_type_is_covered() -> None:
    used: set[str] = set()
    for path in sorted(COMMITTED_CONFIG_DIR.glob("*.yaml")):
        used |= _hosting_types(yaml_data(path.read_text()))
    assert used, "no instance types found"
    assert sorted(t for t in used if not covered(t)) == []


@pytest.mark.parametrize(
    ("instance_type", "vcpus", "memory_gib", "accelerators"),
    [
        ("ml.m5.large", 2, 8, 0),
        ("ml.m5.xlarge", 4, 16, 0),
        ("ml.c5.xlarge", 4, 8, 0),
        ("ml.r5.2xlarge", 8, 64, 0),
        ("ml.g5.xlarge", 4, 16, 1),
        ("ml.g5.12xlarge", 48, 192, 4),
        ("ml.p3.2xlarge", 8, 61, 1),
    ],
)
def test_specifications(instance_type: str, vcpus: int, memory_gib: int, accelerators: int) -> None:
    spec = instance_spec(instance_type)
    assert (spec.vcpus, spec.memory_mib, spec.accelerators) == (
        vcpus,
        memory_gib * 1024,
        accelerators,
    )


def test_an_uncovered_type_names_the_file() -> None:
    with pytest.raises(UnknownInstanceType, match=r"mlops_cdk/aws/instance_specs\.py"):
        instance_spec("ml.inf1.xlarge")
