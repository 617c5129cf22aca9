"""Batch jobs (``services.<name>.batch_jobs``): every bad setting is one line naming the file and
the field; a service needs variants or batch jobs; a batch-only service refuses endpoint
settings."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped, unused-ignore]
import pytest

from mlops_cdk.aws.instance_types import TRANSFORM_INSTANCE_TYPES
from mlops_cdk.config import ConfigError, load_environment
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

BASE: dict[str, Any] = yaml_data((CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8"))
JOB = "services.churn.batch_jobs[0]"


def with_job(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    churn = data["services"]["churn"]
    job = {"name": "nightly", "model": churn["variants"][0]["model"],
           "instance_type": "ml.m5.xlarge", **changes}  # fmt: skip
    churn["batch_jobs"] = [job]
    return data


def problems_in(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_environment(path, display="config/dev.yaml")
    return excinfo.value.problems


def test_transform_types_match_installed_botocore() -> None:
    """The committed list is SageMaker's TransformInstanceType enum."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert set(TRANSFORM_INSTANCE_TYPES) == set(model.shape_for("TransformInstanceType").enum)


def test_a_valid_job_loads(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(with_job(schedule="rate(1 day)")), encoding="utf-8")
    (job,) = load_environment(path).services["churn"].batch_jobs
    assert job.schedule == "rate(1 day)"
    assert job.minutes_per_run == 60


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"name": "Nightly"}, "name", "lowercase letters"),
        ({"model": "nope"}, "model", "unknown model 'nope'"),
        ({"instance_type": "ml.m5.xlarg"}, "instance_type", "did you mean ml.m5.xlarge"),
        ({"instance_count": 0}, "instance_count", "at least 1"),
        ({"batch_strategy": "Many"}, "batch_strategy", "MultiRecord"),
        ({"split_type": "Word"}, "split_type", "Line"),
        ({"split_type": "None"}, "split_type", "MultiRecord batches records"),
        ({"assemble_with": "Json"}, "assemble_with", "Line"),
        ({"max_payload_mb": 101}, "max_payload_mb", "0-100"),
        ({"max_concurrent_transforms": 20, "max_payload_mb": 6}, "max_concurrent_transforms",
         "at most 100 MB"),
        ({"content_type": ""}, "content_type", "1-256"),
        ({"data_processing": {"input_filter": "[1:]"}}, "data_processing.input_filter",
         "starting with '$'"),
        ({"data_processing": {"output_filter": "$" + "x" * 63}}, "data_processing.output_filter",
         "at most 63"),
        ({"data_processing": {"join_source": "Output"}}, "data_processing.join_source", "Input"),
        ({"environment": {"1BAD": "x"}}, "environment.1BAD", "not a valid variable name"),
        ({"environment": {f"K{i}": "v" for i in range(17)}}, "environment", "at most 16"),
        ({"timeout_minutes": 0}, "timeout_minutes", "1-10080"),
        ({"expected_minutes": 90}, "expected_minutes", "timeout_minutes"),
        ({"schedule": "cron(0 2 * * *)"}, "schedule", "5 fields"),
        ({"schedule": "rate(2 day)"}, "schedule", "plural"),
        ({"schedule": "cron(0 2 * * ? *)", "time_zone": "Europe/Dublinn"}, "time_zone",
         "did you mean Europe/Dublin"),
        ({"time_zone": "Europe/Dublin"}, "time_zone", "without a schedule"),
        ({"unknown": 1}, "unknown", ""),
    ],
)  # fmt: skip
def test_each_bad_setting_is_one_line_naming_its_field(
    tmp_path: Path, changes: dict[str, Any], field: str, reason: str
) -> None:
    problems = problems_in(tmp_path, with_job(**changes))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"config/dev.yaml: {JOB}.{field}: "), problems[0]
    assert reason in problems[0]


def test_duplicate_job_names_are_refused(tmp_path: Path) -> None:
    data = with_job()
    jobs = data["services"]["churn"]["batch_jobs"]
    jobs.append(dict(jobs[0]))
    (problem,) = problems_in(tmp_path, data)
    assert problem.startswith("config/dev.yaml: services.churn.batch_jobs[1].name: duplicate")


def test_a_job_name_too_long_for_transform_job_names_is_refused(tmp_path: Path) -> None:
    data = with_job(name="a" * 20)
    data["services"]["a" * 40] = data["services"].pop("churn")
    problems = problems_in(tmp_path, data)
    assert any("batch_jobs[0].name: transform jobs are named" in p for p in problems), problems


def batch_only(**extra: Any) -> dict[str, Any]:
    data = with_job()
    churn = data["services"]["churn"]
    model = churn["variants"][0]["model"]
    kept = {"models": [m for m in churn["models"] if m["name"] == model]}
    data["services"]["churn"] = {**kept, "batch_jobs": churn["batch_jobs"], **extra}
    return data


def test_a_service_of_batch_jobs_only_loads(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(batch_only()), encoding="utf-8")
    service = load_environment(path).services["churn"]
    assert not service.has_endpoint
    assert service.variants == []


def test_a_service_needs_variants_or_batch_jobs(tmp_path: Path) -> None:
    data = batch_only()
    del data["services"]["churn"]["batch_jobs"]
    (problem,) = problems_in(tmp_path, data)
    assert problem == (
        "config/dev.yaml: services.churn.variants: a service needs variants (an endpoint), "
        "inference_components or batch_jobs"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("smoke_test", {"body": "1,2,3"}),
        ("data_capture", {"enabled": False}),
        ("drift", {}),
        ("deployment", {"strategy": "all_at_once"}),
    ],
)
def test_endpoint_settings_on_a_batch_only_service_are_refused(
    tmp_path: Path, field: str, value: Any
) -> None:
    problems = problems_in(tmp_path, batch_only(**{field: value}))
    assert (
        f"config/dev.yaml: services.churn.{field}: applies to the service's endpoint"
        in "\n".join(problems)
    ), problems
