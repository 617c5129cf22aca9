"""Multi-container models and images AWS provides in the configuration: every mistake is one
line naming the file and the field; what SageMaker refuses (serverless pipelines, direct and
non-direct variants together, a direct endpoint smoke-tested without a container) is refused."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environment
from tests.helpers import COMMITTED_CONFIG_DIR, yaml_data, yaml_text

BASE: dict[str, Any] = yaml_data((COMMITTED_CONFIG_DIR / "dev.yaml").read_text())
MODEL = "config/dev.yaml: services.churn.models[0]"
# AWS's scikit-learn image serves the script its environment names (props.model, script mode).
SCRIPT = {"SAGEMAKER_PROGRAM": "pre.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
SKLEARN = {"framework": "sklearn", "version": "1.2-1"}
PRE = {"hostname": "pre", "aws_image": SKLEARN, "environment": SCRIPT}
MAIN = {"hostname": "main", "image_tag": "1.0.0", "model_data_key": "models/churn/1/m.tar.gz"}


def problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_environment(path, display="config/dev.yaml")
    assert all("\n" not in line for line in excinfo.value.problems)
    return excinfo.value.problems


def with_model(model: dict[str, Any], **service: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["services"]["churn"]["models"][0] = {"name": "churn-v1", **model}
    data["services"]["churn"].update(service)
    return data


def test_committed_dev_churn_is_a_two_container_serial_pipeline() -> None:
    config = load_environment(COMMITTED_CONFIG_DIR / "dev.yaml")
    (model,) = config.services["churn"].models
    assert model.inference_execution == "serial"
    assert [c.hostname for c in model.containers] == ["preprocess", "model"]
    assert model.containers[0].aws_image is not None
    image = model.containers[0].aws_image.resolve(config.region)
    assert image.uri == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )


@pytest.mark.parametrize(
    ("model", "line"),
    [
        (
            {"containers": [MAIN]},
            f"{MODEL}.containers: 1 containers; a multi-container model has 2-15",
        ),
        (
            {"containers": [PRE, MAIN], "image_tag": "1.0.0"},
            f"{MODEL}.image_tag: a model with containers sets it in each container",
        ),
        (
            {"containers": [PRE, {**MAIN, "hostname": None}], "inference_execution": "direct"},
            f"{MODEL}.containers[1].hostname: required for direct invocation",
        ),
        (
            {"containers": [PRE, {**MAIN, "hostname": "pre"}]},
            f"{MODEL}.containers[1].hostname: duplicate hostname 'pre'",
        ),
        (  # a serial pipeline names every hostname or none (ContainerDefinition)
            {"containers": [PRE, {**MAIN, "hostname": None}]},
            f"{MODEL}.containers[1].hostname: another container of the pipeline names its "
            "hostname: SageMaker then requires one for every container",
        ),
        (  # 1024 bytes per value: 600 two-byte characters are 1200 bytes
            {"containers": [PRE, {**MAIN, "environment": {"LABEL": "é" * 600}}]},
            f"{MODEL}.containers[1].environment: value of 'LABEL' is 1200 bytes (UTF-8); "
            "SageMaker allows 1024",
        ),
        (  # 32 KB for all of a model's containers
            {
                "containers": [
                    {**PRE, "environment": SCRIPT | {f"A{i}": "x" * 1000 for i in range(20)}},
                    {**MAIN, "environment": {f"B{i}": "x" * 1000 for i in range(20)}},
                ]
            },
            f"{MODEL}.containers: the containers' environments are 40167 bytes (UTF-8) together; "
            "SageMaker allows 32768 (32 KB) for all of a model's containers",
        ),
        (  # 32 KB for one container's map
            {
                "image_tag": "1.0.0",
                "model_data_key": "models/churn/m.tar.gz",
                "environment": {f"K{i:02d}": "x" * 1000 for i in range(40)},
            },
            f"{MODEL}.environment: keys and values are 40120 bytes (UTF-8) together; SageMaker "
            "allows 32768 (32 KB) per model",
        ),
        (
            {"containers": [PRE, {**MAIN, "image_tag": "latest"}]},
            f"{MODEL}.containers[1].image_tag: 'latest' does not pin",
        ),
        (
            {"containers": [PRE, {**MAIN, "model_data_key": "models/fraud/m.tar.gz"}]},
            f"{MODEL}.containers[1].model_data_key: must be under 'models/churn/'",
        ),
        (  # the scikit-learn image has no script, nor a directory with one, by default
            {"containers": [{**PRE, "environment": {}}, MAIN]},
            f"{MODEL}.containers[0].environment: AWS's sklearn image serves the script "
            "SAGEMAKER_PROGRAM names (with its model_fn) from the directory "
            "SAGEMAKER_SUBMIT_DIRECTORY names, and has no default for either (its directory "
            "would be the empty /opt/ml/code): set SAGEMAKER_PROGRAM and "
            "SAGEMAKER_SUBMIT_DIRECTORY (the script packed in the model archive's code/ folder: "
            "SAGEMAKER_SUBMIT_DIRECTORY: /opt/ml/model/code)",
        ),
        (
            {"containers": [{**PRE, "environment": {"SAGEMAKER_PROGRAM": "pre.py"}}, MAIN]},
            f"{MODEL}.containers[0].environment: AWS's sklearn image serves the script",
        ),
        (  # a single-container model too
            {
                "aws_image": SKLEARN,
                "model_data_key": "models/churn/m.tar.gz",
                "environment": {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
            },
            f"{MODEL}.environment: AWS's sklearn image serves the script SAGEMAKER_PROGRAM names "
            "(with its model_fn) from the directory SAGEMAKER_SUBMIT_DIRECTORY names, and has no "
            "default for either (its directory would be the empty /opt/ml/code): set "
            "SAGEMAKER_PROGRAM (",
        ),
        (
            {"containers": [{**PRE, "aws_image": {"framework": "xgbost", "version": "1"}}, MAIN]},
            f"{MODEL}.containers[0].aws_image.framework: 'xgbost' is not an image AWS provides "
            "(did you mean xgboost?)",
        ),
        (
            {
                "image_tag": "1.0.0",
                "model_data_key": "models/churn/m.tar.gz",
                "inference_execution": "serial",
            },
            f"{MODEL}.inference_execution: applies to a model with containers",
        ),
        (
            {
                "aws_image": {"framework": "pytorch", "version": "2.6"},
                "model_data_key": "models/churn/m.tar.gz",
            },
            f"{MODEL}.aws_image.version: '2.6' is an alias of pytorch 2.6.0: pin the version "
            "'2.6.0'",
        ),
        (
            {"aws_image": {"framework": "xgboost", "version": "1.7-1"}},
            f"{MODEL}.model_data_key: required: the model archive's S3 key",
        ),
    ],
)
def test_bad_model_is_one_line_naming_the_field(
    tmp_path: Path, model: dict[str, Any], line: str
) -> None:
    found = problems(tmp_path, with_model(model))
    assert any(problem.startswith(line) for problem in found), found


def test_aws_image_missing_in_the_region_names_the_field(tmp_path: Path) -> None:
    data = with_model(
        {
            "aws_image": {"framework": "xgboost", "version": "1.7-1"},
            "model_data_key": "models/churn/m.tar.gz",
        }
    )
    data["region"] = "eusc-de-east-1"
    data["account"] = BASE["account"]
    found = problems(tmp_path, data)
    assert any(
        p.startswith(f"{MODEL}.aws_image: xgboost 1.7-1 is not published in eusc-de-east-1")
        for p in found
    ), found


def test_serverless_refuses_a_pipeline(tmp_path: Path) -> None:
    data = with_model({"containers": [PRE, MAIN], "network_isolation": False})
    data["services"]["churn"]["variants"] = [
        {
            "name": "main",
            "model": "churn-v1",
            "initial_weight": 1,
            "serverless": {"memory_size_mb": 2048, "max_concurrency": 5},
        }
    ]
    data["services"]["churn"]["data_capture"] = {"enabled": False}
    data["services"]["churn"].pop("drift")
    data["services"]["churn"].pop("quality_check", None)  # both read the captured data
    for alarm in data["services"]["churn"].get("quality_alarms", []):
        alarm["published_by"] = "the team's evaluation job"  # no quality check to watch
    found = problems(tmp_path, data)
    assert any(
        p.startswith(
            "config/dev.yaml: services.churn.variants[0].serverless: model 'churn-v1' "
            "has several containers"
        )
        for p in found
    ), found


def test_direct_endpoint_needs_the_smoke_tests_target_container(tmp_path: Path) -> None:
    direct = {"containers": [PRE, MAIN], "inference_execution": "direct"}
    found = problems(tmp_path, with_model(direct))
    assert (
        "config/dev.yaml: services.churn.smoke_test.target_container: required: the endpoint "
        "uses direct invocation"
    ) in found
    smoke = {**BASE["services"]["churn"]["smoke_test"], "target_container": "nope"}
    found = problems(tmp_path, with_model(direct, smoke_test=smoke))
    assert found == [
        "config/dev.yaml: services.churn.smoke_test.target_container: 'nope' is not a container "
        "of model 'churn-v1' (pre, main)"
    ]
    smoke["target_container"] = "main"
    path = tmp_path / "ok.yaml"
    path.write_text(yaml_text(with_model(direct, smoke_test=smoke)), encoding="utf-8")
    assert load_environment(path).services["churn"].models[0].is_direct


def test_target_container_without_direct_invocation_is_refused(tmp_path: Path) -> None:
    smoke = {**BASE["services"]["churn"]["smoke_test"], "target_container": "model"}
    data = copy.deepcopy(BASE)
    data["services"]["churn"]["smoke_test"] = smoke
    assert problems(tmp_path, data) == [
        "config/dev.yaml: services.churn.smoke_test.target_container: only for an endpoint whose "
        "models use inference_execution direct"
    ]


def test_direct_and_other_models_do_not_share_an_endpoint(tmp_path: Path) -> None:
    data = with_model({"containers": [PRE, MAIN], "inference_execution": "direct"})
    service = data["services"]["churn"]
    service["models"].append(
        {"name": "churn-v2", "image_tag": "2.0.0", "model_data_key": "models/churn/2/m.tar.gz"}
    )
    variant = copy.deepcopy(service["variants"][0])
    variant.update(name="challenger", model="churn-v2", initial_weight=0)
    variant["instance"].pop("autoscaling")
    service["variants"].append(variant)
    service["smoke_test"]["target_container"] = "main"
    found = problems(tmp_path, data)
    assert any(
        p.startswith(
            "config/dev.yaml: services.churn.variants: every variant's model must use "
            "direct invocation or none"
        )
        for p in found
    ), found
