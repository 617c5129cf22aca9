"""A config change must be a CloudFormation update of the endpoint, never a name collision.

Update vs replacement is decided from CloudFormation's resource schemas (createOnlyProperties),
as shipped with cfn-lint: changing a create-only property replaces the resource. The classifier
is ``mlops_tools.review.changes`` (shared with ``make review``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.app.builder import build_app
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.endpoint import InstanceCapacity, ServingConfig
from mlops_tools.review.changes import classify
from tests.helpers import cdk_context

SERVICE = "churn"


def serving_template(config: EnvConfig, outdir: Path) -> dict[str, Any]:
    # Gates off: the compliance of these configs is covered elsewhere; this is about updates.
    app, stages = build_app(
        [config], outdir=str(outdir), context=cdk_context(), compliance_gates=False
    )
    assembly = app.synth()
    serving = stages[config.name].services[SERVICE].serving
    template: dict[str, Any] = (
        assembly.get_nested_assembly(f"assembly-{config.name}")
        .get_stack_by_name(serving.stack_name)
        .template
    )
    return template


def of_type(template: dict[str, Any], resource_type: str) -> list[str]:
    return [k for k, r in template["Resources"].items() if r["Type"] == resource_type]


def change_weight(serving: dict[str, Any]) -> None:
    serving["variants"][0]["initial_weight"] = 50


def change_model_version(serving: dict[str, Any]) -> None:
    serving["models"][1]["image_tag"] = "1.2.0"
    serving["models"][1]["model_data_key"] = "models/churn/1.2.0/model.tar.gz"


def change_instance_type(serving: dict[str, Any]) -> None:
    serving["variants"][1]["instance"]["instance_type"] = "ml.c5.xlarge"


@pytest.fixture(scope="module")
def before(
    env_configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return serving_template(env_configs["prod"], tmp_path_factory.mktemp("before"))


@pytest.mark.parametrize("change", [change_weight, change_model_version, change_instance_type])
def test_change_updates_endpoint_and_replaces_config(
    before: dict[str, Any],
    env_configs: dict[str, EnvConfig],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
) -> None:
    data = env_configs["prod"].model_dump(mode="json")
    change(data["services"][SERVICE])
    changed = EnvConfig.model_validate(copy.deepcopy(data))
    after = serving_template(changed, tmp_path)
    actions = classify(before, after)

    (endpoint,) = of_type(after, "AWS::SageMaker::Endpoint")
    assert of_type(before, "AWS::SageMaker::Endpoint") == [endpoint], "endpoint logical ID changed"
    assert actions[endpoint] == "update"
    assert (
        after["Resources"][endpoint]["Properties"]["EndpointName"]
        == (before["Resources"][endpoint]["Properties"]["EndpointName"])
    )

    (config,) = of_type(after, "AWS::SageMaker::EndpointConfig")
    assert actions[config] == "replace"
    # Replacement needs a new physical name: CloudFormation generates one when none is set.
    assert "EndpointConfigName" not in after["Resources"][config]["Properties"]
    for model in of_type(after, "AWS::SageMaker::Model"):
        assert "ModelName" not in after["Resources"][model]["Properties"]
    assert "removed" not in actions.values()


def test_model_version_change_replaces_only_that_model(
    before: dict[str, Any], env_configs: dict[str, EnvConfig], tmp_path: Path
) -> None:
    data = env_configs["prod"].model_dump(mode="json")
    change_model_version(data["services"][SERVICE])
    after = serving_template(EnvConfig.model_validate(data), tmp_path)
    actions = classify(before, after)
    models = sorted(of_type(after, "AWS::SageMaker::Model"))
    assert [actions[m] for m in models] == ["unchanged", "replace"] or [
        actions[m] for m in models
    ] == ["replace", "unchanged"]


def test_instance_capacity_schema_is_what_the_test_changes() -> None:
    # Guards the helpers above against a schema rename silently making them no-ops.
    assert "instance_type" in {f.name for f in dataclasses.fields(InstanceCapacity)}
    assert {"models", "variants"} <= set(ServingConfig.model_fields)
