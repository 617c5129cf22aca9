"""services.<name>.models[].model_package: a pinned version (or ARN) instead of image and
artifact; mistakes are one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import load_environment
from tests.helpers import yaml_text
from tests.unit.config.test_bad_input import changed, churn, problems_in

WHERE = "config/dev.yaml: services.churn.models[0]"


def with_package(package: Any, **model: Any) -> dict[str, Any]:
    def edit(data: dict[str, Any]) -> None:
        first = churn(data)["models"][0]
        for key in ("image_tag", "image_digest", "model_data_key", "environment"):
            first.pop(key, None)
        first.update({"model_package": package, **model})

    return changed(edit)


def test_a_pinned_version_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(with_package({"version": 4})))
    model = load_environment(path).services["churn"].models[0]
    assert model.model_package is not None
    assert model.model_package.package_version == 4
    assert model.container_specs() == []


@pytest.mark.parametrize(
    ("package", "extra", "expected"),
    [
        (
            {"version": 0},
            {},
            f"{WHERE}.model_package.version: Input should be greater than or equal to 1",
        ),
        ({"version": "latest"}, {}, f"{WHERE}.model_package.version:"),
        (
            {},
            {},
            f"{WHERE}.model_package.version: set exactly one of version (with optional group)",
        ),
        (
            {"version": 2, "arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/2"},
            {},
            f"{WHERE}.model_package.version: set exactly one of version",
        ),
        (
            {"arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/g"},
            {},
            f"{WHERE}.model_package.arn: String should match pattern",
        ),
        ({"version": 2, "group": "no_underscores"}, {}, f"{WHERE}.model_package.group:"),
        ({"version": 2, "latest": True}, {}, f"{WHERE}.model_package.latest:"),
        (
            {"version": 2},
            {"image_tag": "1.0.0"},
            f"{WHERE}.image_tag: a model_package brings its own image",
        ),
        (
            {"version": 2},
            {"model_data_key": "models/churn/1/model.tar.gz"},
            f"{WHERE}.model_data_key: a model_package brings its own image and model data",
        ),
    ],
)
def test_bad_model_package_is_one_line(
    tmp_path: Path, package: Any, extra: dict[str, Any], expected: str
) -> None:
    problems = problems_in(tmp_path, with_package(package, **extra))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
