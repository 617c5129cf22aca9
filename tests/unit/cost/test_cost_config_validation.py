"""``budget`` and spot retraining in the configuration: each bad input is one line naming the
file and the field (starting from the fixture prod environment, which is valid)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environment
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

PROD: dict[str, Any] = yaml_data((CONFIG_DIR / "prod.yaml").read_text())
JOB = "services.churn.retraining.training_job"


def load(tmp_path: Path, data: dict[str, Any], name: str = "prod") -> Any:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml_text(data, sort_keys=False))
    return load_environment(path, display=f"config/{name}.yaml")


def problems(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> list[str]:
    data = copy.deepcopy(PROD)
    edit(data)
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, data)
    return excinfo.value.problems


def job(data: dict[str, Any]) -> dict[str, Any]:
    training: dict[str, Any] = data["services"]["churn"]["retraining"]["training_job"]
    return training


def template(data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = job(data)["template"]
    return body


# -- budget ---------------------------------------------------------------------------------


def test_budget_defaults_and_sorted_thresholds(tmp_path: Path) -> None:
    config = load(
        tmp_path, {**PROD, "budget": {"monthly_usd": 900, "thresholds_percent": [100, 50]}}
    )
    assert config.budget.monthly_usd == 900
    assert config.budget.thresholds_percent == [50, 100]
    assert config.budget.forecast_percent == [100]
    assert config.budget.limit == "900.00"


@pytest.mark.parametrize(
    ("budget", "field", "reason"),
    [
        ({"monthly_usd": 0}, "budget.monthly_usd", "greater than 0"),
        ({"monthly_usd": 10, "thresholds_percent": [0]}, "budget.thresholds_percent", "(0, 1000]"),
        ({"monthly_usd": 10, "thresholds_percent": [80, 80]}, "budget.thresholds_percent", "twice"),
        (
            {"monthly_usd": 10, "thresholds_percent": [], "forecast_percent": []},
            "budget.thresholds_percent",
            "give at least one threshold",
        ),
        (
            {"monthly_usd": 10, "thresholds_percent": list(range(10, 110, 10))},
            "budget.thresholds_percent",
            "11 notifications (thresholds_percent + forecast_percent); AWS Budgets allows 10",
        ),
        ({"monthly_usd": 10, "emails": ["x@example.com"]}, "budget.emails", ""),
    ],
)
def test_budget_problems_name_the_field(
    tmp_path: Path, budget: dict[str, Any], field: str, reason: str
) -> None:
    (line,) = problems(tmp_path, lambda data: data.update(budget=budget))
    assert line.startswith(f"config/prod.yaml: {field}: ")
    assert reason in line


def test_a_budget_needs_alarm_emails_to_notify(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"] = {"monthly_usd": 100}
        data["monitoring"]["alarm_emails"] = []

    assert problems(tmp_path, edit) == [
        "config/prod.yaml: budget: a budget notifies monitoring.alarm_emails through the "
        "environment's budget topic: configure at least one address"
    ]


# -- spot retraining ------------------------------------------------------------------------


def test_the_fixture_spot_job_is_valid_and_knows_its_prefixes(tmp_path: Path) -> None:
    training = load(tmp_path, PROD).services["churn"].retraining.training_job
    assert training.template["EnableManagedSpotTraining"] is True
    assert training.prefixes("churn") == (
        "training-data/churn/",
        "training-output/churn/",
        "checkpoints/churn/",
    )
    assert training.uses_image_repository
    assert not training.uses_vpc


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (
            lambda t: t["StoppingCondition"].pop("MaxWaitTimeInSeconds"),
            "template.StoppingCondition.MaxWaitTimeInSeconds",
            "managed spot training needs MaxWaitTimeInSeconds",
        ),
        (
            lambda t: t["StoppingCondition"].update(MaxWaitTimeInSeconds=1800),
            "template.StoppingCondition.MaxWaitTimeInSeconds",
            "1800 is less than MaxRuntimeInSeconds (3600)",
        ),
        (
            # MaxRuntimeInSeconds defaults to one day
            lambda t: t["StoppingCondition"].pop("MaxRuntimeInSeconds"),
            "template.StoppingCondition.MaxWaitTimeInSeconds",
            "7200 is less than MaxRuntimeInSeconds (86400)",
        ),
        (
            lambda t: t.pop("CheckpointConfig"),
            "template.CheckpointConfig.S3Uri",
            "managed spot training needs a checkpoint location so an interrupted job resumes: "
            "s3://{bucket}/checkpoints/<service>/",
        ),
        (
            lambda t: t.update(EnableManagedSpotTraining="yes"),
            "template.EnableManagedSpotTraining",
            "must be true or false",
        ),
    ],
)
def test_spot_rules(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any], field: str, reason: str
) -> None:
    (line,) = problems(tmp_path, lambda data: edit(template(data)))
    assert line.startswith(f"config/prod.yaml: {JOB}.{field}: {reason}")


def test_service_placeholder_names_the_service_so_a_copy_keeps_working(tmp_path: Path) -> None:
    data = copy.deepcopy(PROD)
    data["services"]["recs"] = copy.deepcopy(data["services"]["churn"])
    for model in data["services"]["recs"]["models"]:
        model["model_data_key"] = model["model_data_key"].replace("/churn/", "/recs/")
    config = load(tmp_path, data)
    assert config.services["recs"].retraining.training_job.template["CheckpointConfig"] == {
        "S3Uri": "s3://{bucket}/checkpoints/{service}/"
    }


def test_spot_checks_are_off_without_spot(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        body = template(data)
        body["EnableManagedSpotTraining"] = False
        body["StoppingCondition"].pop("MaxWaitTimeInSeconds")
        body.pop("CheckpointConfig")

    data = copy.deepcopy(PROD)
    edit(data)
    assert load(tmp_path, data).services["churn"].retraining.training_job is not None


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (
            lambda t: t["CheckpointConfig"].update(S3Uri="s3://{bucket}/checkpoints/fraud/"),
            "template.CheckpointConfig.S3Uri",
            "must be under s3://{bucket}/checkpoints/churn/ (checkpoints of service 'churn'",
        ),
        (
            lambda t: t["CheckpointConfig"].update(S3Uri="s3://other-bucket/checkpoints/churn/"),
            "template.CheckpointConfig.S3Uri",
            "must be under s3://{bucket}/checkpoints/churn/",
        ),
        (
            lambda t: t["OutputDataConfig"].update(S3OutputPath="s3://{bucket}/models/churn/"),
            "template.OutputDataConfig.S3OutputPath",
            "must be under s3://{bucket}/training-output/churn/ (output of service 'churn'",
        ),
        (
            lambda t: t["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
                S3Uri="s3://{bucket}/data-capture/churn/"
            ),
            "template.InputDataConfig[0].DataSource.S3DataSource.S3Uri",
            "must be under s3://{bucket}/training-data/churn/ (training data of service",
        ),
        (
            lambda t: t["AlgorithmSpecification"].update(TrainingImage="{image_repo}:1"),
            "template.AlgorithmSpecification.TrainingImage",
            "unknown placeholder {image_repo} (use {bucket}, {image_repository}, {service})",
        ),
        (
            lambda t: t.update(HyperParameters={"image": "{image_repository}"}),
            "template.HyperParameters.image",
            "{image_repository} may only start AlgorithmSpecification.TrainingImage",
        ),
    ],
)
def test_every_s3_uri_is_under_the_services_own_prefix(
    tmp_path: Path, edit: Callable[[dict[str, Any]], Any], field: str, reason: str
) -> None:
    (line,) = problems(tmp_path, lambda data: edit(template(data)))
    assert line.startswith(f"config/prod.yaml: {JOB}.{field}: {reason}")


@pytest.mark.parametrize(
    ("prefixes", "field", "reason"),
    [
        ({"output_prefix": "models/"}, "output_prefix", "'models/' overlaps 'models/'"),
        (
            {"checkpoint_prefix": "training-output/checkpoints/"},
            "output_prefix",
            "'training-output/' overlaps 'training-output/checkpoints/'",
        ),
        ({"training_data_prefix": "/abs/"}, "training_data_prefix", "relative S3 key prefix"),
    ],
)
def test_training_prefixes_have_one_purpose_each(
    tmp_path: Path, prefixes: dict[str, str], field: str, reason: str
) -> None:
    def edit(data: dict[str, Any]) -> None:
        job(data).update(prefixes)
        # keep the URIs consistent with the new prefixes, so only the overlap is reported
        for key, value in prefixes.items():
            old = {"output_prefix": "training-output/", "checkpoint_prefix": "checkpoints/"}.get(
                key
            )
            if old and value.endswith("/") and not value.startswith("/"):
                body = template(data)
                uri_key = "OutputDataConfig" if key == "output_prefix" else "CheckpointConfig"
                path = "S3OutputPath" if key == "output_prefix" else "S3Uri"
                body[uri_key][path] = body[uri_key][path].replace(old, value)

    lines = problems(tmp_path, edit)
    assert any(
        line.startswith(f"config/prod.yaml: {JOB}.{field}: ") and reason in line for line in lines
    ), lines
