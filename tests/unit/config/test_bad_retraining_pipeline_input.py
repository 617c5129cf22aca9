"""The managed retraining pipeline (``services.<name>.retraining.managed_pipeline``) and the
model package group (``services.<name>.model_registry``): every bad setting is one line naming
the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.aws import facts
from mlops_cdk.config import ConfigError, load_environment, load_environments
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

BASE: dict[str, Any] = yaml_data((CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8"))
WHERE = "services.churn.retraining.managed_pipeline"


def managed(**changes: Any) -> dict[str, Any]:
    pipeline: dict[str, Any] = {
        "training": {"image_tag": "train-1", "instance_type": "ml.m5.xlarge"},
        "evaluation": {
            "image_tag": "eval-1",
            "instance_type": "ml.m5.large",
            "entrypoint": ["python3", "evaluate.py"],
            "metric": {"name": "auc", "threshold": 0.8},
        },
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = pipeline
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    data = copy.deepcopy(BASE)
    retraining = data["services"]["churn"].setdefault("retraining", {})
    retraining.pop("pipeline", None)
    retraining.pop("training_job", None)
    retraining["managed_pipeline"] = pipeline
    return data


def load(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data, sort_keys=False), encoding="utf-8")
    return load_environment(path, display="config/dev.yaml")


def problems_in(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, data)
    return list(excinfo.value.problems)


def test_a_managed_pipeline_loads_with_the_default_name(tmp_path: Path) -> None:
    config = load(tmp_path, managed())
    retraining = config.services["churn"].retraining
    assert retraining.managed_pipeline.name == "dev-churn-retraining"
    assert retraining.pipeline_name == "dev-churn-retraining"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"training__spot": {"max_wait_seconds": 60}}, "training", "max_wait_seconds"),
        ({"training__image_digest": "sha256:" + "0" * 64}, "training", "exactly one of"),
        ({"training__channels": ["a", "a"]}, "training", "unique"),
        ({"training__instance_type": "m5.large"}, "training.instance_type", "pattern"),
        ({"training__volume_gb": 0}, "training.volume_gb", "greater than or equal to 1"),
        ({"evaluation__metric__comparison": "above"}, "evaluation.metric.comparison", "Input"),
        ({"evaluation__entrypoint": []}, "evaluation", "evaluation.json"),
        ({"serving_model": "nope"}, "serving_model", "unknown model 'nope'"),
        ({"name": "bad name"}, "name", "not a pipeline name"),
    ],
)
def test_bad_setting_is_one_line(
    tmp_path: Path, changes: dict[str, Any], field: str, reason: str
) -> None:
    (problem,) = problems_in(tmp_path, managed(**changes))
    assert problem.startswith(f"config/dev.yaml: {WHERE}.{field}")
    assert reason in problem
    assert "\n" not in problem


PYTORCH = {"framework": "pytorch", "version": "2.6.0", "processor": "gpu", "py_version": "py312"}


def test_a_training_step_on_an_inference_only_aws_image_is_refused(tmp_path: Path) -> None:
    """The committed table holds AWS's inference images; a deep learning framework's training
    image is another repository (pytorch-training), so a training job on pytorch-inference
    would fail at its first run."""
    data = managed(training__aws_image=PYTORCH)
    del data["services"]["churn"]["retraining"]["managed_pipeline"]["training"]["image_tag"]
    (problem,) = problems_in(tmp_path, data)
    assert problem == (
        f"config/dev.yaml: {WHERE}.training.aws_image: pytorch 2.6.0 is AWS's inference image "
        "(pytorch-inference), which cannot run a training job: build the training image into "
        "the service's repository (FROM AWS's training image) and set image_tag or image_digest"
    )


@pytest.mark.parametrize(
    "image",
    [{"framework": "xgboost", "version": "1.7-1"}, {"framework": "sklearn", "version": "1.2-1"}],
)
def test_an_aws_image_that_serves_every_scope_can_train(
    tmp_path: Path, image: dict[str, str]
) -> None:
    data = managed(training__aws_image=image, evaluation__aws_image=PYTORCH)
    pipeline = data["services"]["churn"]["retraining"]["managed_pipeline"]
    del pipeline["training"]["image_tag"], pipeline["evaluation"]["image_tag"]
    training = load(tmp_path, data).services["churn"].retraining.managed_pipeline.training
    assert training.aws_image.repository.startswith("sagemaker-")


def test_the_repository_keeps_every_tag_the_service_names(tmp_path: Path) -> None:
    """Models' containers and the managed pipeline's steps (a digest names no tag)."""
    data = managed(evaluation__image_digest="sha256:" + "1" * 64)
    del data["services"]["churn"]["retraining"]["managed_pipeline"]["evaluation"]["image_tag"]
    spec = load(tmp_path, data).services["churn"]
    models = {c.image_tag for m in spec.models for c in m.container_specs() if c.image_tag}
    assert spec.repository_image_tags() == tuple(sorted(models | {"train-1"}))


def test_a_training_jobs_tag_is_kept_too() -> None:
    (prod,) = load_environments(CONFIG_DIR, only="prod")
    retraining = prod.services["churn"].retraining
    assert retraining is not None
    assert retraining.training_job is not None
    image = retraining.training_job.template["AlgorithmSpecification"]["TrainingImage"]
    assert image == "{image_repository}:train-1.1.0"
    assert "train-1.1.0" in prod.services["churn"].repository_image_tags()


def test_a_lifecycle_policy_too_long_for_ecr_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit itself is tested with the construct; here, that the configuration reports
    it in one line naming the service (the limit lowered to what churn's tags need)."""
    monkeypatch.setattr(facts, "ECR_LIFECYCLE_POLICY_MAX_CHARS", 500)
    (problem,) = problems_in(tmp_path, managed())
    assert problem.startswith(
        "config/dev.yaml: services.churn: keeping 3 image tags makes the repository's lifecycle "
        "policy "
    )
    assert problem.endswith("ECR allows 500: name fewer distinct image tags")


def test_only_one_retraining_target(tmp_path: Path) -> None:
    data = managed()
    data["services"]["churn"]["retraining"]["pipeline"] = {"name": "x"}
    (problem,) = problems_in(tmp_path, data)
    assert "set exactly one of pipeline, training_job or managed_pipeline" in problem


def test_reader_accounts_must_be_quoted_account_ids(tmp_path: Path) -> None:
    data = managed()
    data["services"]["churn"]["model_registry"] = {"reader_accounts": [123456789012]}
    (problem,) = problems_in(tmp_path, data)
    assert problem.startswith("config/dev.yaml: services.churn.model_registry.reader_accounts")
