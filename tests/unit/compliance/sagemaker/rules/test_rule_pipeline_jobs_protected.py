"""PipelineJobsProtected: training and processing steps (those under a Condition included)
need KMS keys on volumes and outputs and a VPC; an unreadable definition fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import rules_for, stack
from tests.unit.compliance.sagemaker.rules.pipeline_helpers import pipeline

RULE = "PipelineJobsProtected"


def fires(change: Callable[[dict[str, Any]], None] | None = None, **kwargs: Any) -> bool:
    s = stack()
    pipeline(s, change=change, **kwargs)
    return RULE in rules_for(s, "S/Pipeline")


def _pop(step: int, *path: str) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        target = spec["Steps"][step]["Arguments"]
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1])

    return change


def test_encrypted_steps_in_a_vpc_are_compliant() -> None:
    assert not fires()


@pytest.mark.parametrize(
    "change",
    [
        _pop(0, "OutputDataConfig", "KmsKeyId"),
        _pop(0, "ResourceConfig", "VolumeKmsKeyId"),
        _pop(0, "VpcConfig"),
        _pop(1, "ProcessingOutputConfig", "KmsKeyId"),
        _pop(1, "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
        _pop(1, "NetworkConfig", "VpcConfig"),
    ],
)
def test_missing_key_or_vpc_fails(change: Callable[[dict[str, Any]], None]) -> None:
    assert fires(change)


def test_steps_under_a_condition_are_checked() -> None:
    def change(spec: dict[str, Any]) -> None:
        spec["Steps"][2]["Arguments"]["IfSteps"][0]["Arguments"].pop("VpcConfig")

    assert fires(change)


def test_local_nvme_instances_need_no_volume_key() -> None:
    def change(spec: dict[str, Any]) -> None:
        for step in (spec["Steps"][0], spec["Steps"][2]["Arguments"]["IfSteps"][0]):
            resources = step["Arguments"]["ResourceConfig"]
            resources["InstanceType"] = "ml.m5d.xlarge"
            resources.pop("VolumeKmsKeyId")

    assert not fires(change)


def test_definition_in_s3_cannot_be_checked_and_fails() -> None:
    body = {"PipelineDefinitionS3Location": {"Bucket": "b", "Key": "definition.json"}}
    assert fires(body=body)
