"""The review report lists the containers of a multi-container model that change: hostname,
image and model data, before → after, with the execution mode."""

from __future__ import annotations

from typing import Any

from mlops_tools.review.deployment import Side, container_change_lines


def template(images: list[str], mode: str = "Serial") -> dict[str, Any]:
    return {
        "Resources": {
            "ModelA": {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "InferenceExecutionConfig": {"Mode": mode},
                    "Containers": [
                        {"ContainerHostname": f"c{i}", "Image": image, "ModelDataUrl": "s3://b/k"}
                        for i, image in enumerate(images)
                    ],
                },
            }
        }
    }


def test_changed_containers_are_one_line_before_and_after() -> None:
    before = Side({"dev-churn": template(["repo:1", "xgb:1.7-1"])})
    after = Side({"dev-churn": template(["repo:2", "xgb:1.7-1"])})
    assert container_change_lines(before, after) == [
        "- model containers: `ModelA` (stack `dev-churn`, Serial): "
        "c0: repo:1 (s3://b/k); c1: xgb:1.7-1 (s3://b/k) → "
        "c0: repo:2 (s3://b/k); c1: xgb:1.7-1 (s3://b/k)"
    ]


def test_unchanged_or_single_container_models_add_no_line() -> None:
    same = Side({"dev-churn": template(["repo:1", "xgb:1.7-1"])})
    assert container_change_lines(same, same) == []
    single = {
        "Resources": {
            "M": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {}}}
        }
    }
    assert container_change_lines(Side({"s": single}), Side({"s": single})) == []
    assert container_change_lines(same, same, stacks=["other"]) == []
