"""config/pipeline.yaml: every problem names the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environments, load_pipeline
from mlops_cdk.config.pipeline import step_role_name
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

VALID = yaml_data((CONFIG_DIR / "pipeline.yaml").read_text())


def problems(tmp_path: Path, data: dict[str, Any], drop_smoke: str | None = None) -> list[str]:
    for env in ("dev", "stage", "prod"):
        config = yaml_data((CONFIG_DIR / f"{env}.yaml").read_text())
        if env == drop_smoke:
            del config["services"]["churn"]["smoke_test"]
        (tmp_path / f"{env}.yaml").write_text(yaml_text(config))
    (tmp_path / "pipeline.yaml").write_text(yaml_text(data))
    environments = load_environments(tmp_path)
    with pytest.raises(ConfigError) as excinfo:
        load_pipeline(tmp_path, environments)
    return [p.split("pipeline.yaml: ", 1)[1] for p in excinfo.value.problems]


def changed(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def test_committed_pipeline_config_is_valid() -> None:
    config = load_pipeline(CONFIG_DIR, load_environments(CONFIG_DIR))
    assert config is not None
    assert config.stages == ["dev", "stage", "prod"]
    assert config.manual_approval_before == ["prod"]


def test_pipeline_file_is_not_an_environment() -> None:
    assert "pipeline" not in [c.name for c in load_environments(CONFIG_DIR)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"stages": ["dev", "qa"], "manual_approval_before": []},
            "stages[1]: unknown environment 'qa' (known: dev, stage, prod)",
        ),
        ({"stages": ["dev", "dev"]}, "stages: lists an environment twice"),
        ({"manual_approval_before": []}, "stages[2]: 'prod' is a production environment: add it"),
        (
            {"manual_approval_before": ["prod", "qa"]},
            "manual_approval_before[1]: 'qa' is not one of the stages",
        ),
        ({"connection_arn": "arn:aws:s3:::bucket"}, "connection_arn: String should match pattern"),
        ({"account": 444444444444}, "account: write the account id as a quoted string"),
        ({"region": "mars-1"}, "region: 'mars-1' is not an AWS region name"),
        ({"repository": "no-owner"}, "repository: String should match pattern"),
        ({"alarm_emails": []}, "alarm_emails: List should have at least 1 item"),
        (
            {"alarm_emails": ["not-an-address"]},
            "alarm_emails: 'not-an-address' is not an e-mail address",
        ),
        (
            {"alarm_emails": ["a@example.com", "a@example.com"]},
            "alarm_emails: lists an address twice",
        ),
        (
            {"stage": ["dev"]},
            "stage: unknown field (did you mean 'stages'? allowed: account, alarm_emails, branch",
        ),
    ],
)
def test_pipeline_config_problems(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    found = problems(tmp_path, changed(**changes))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_smoke_tests_need_a_sample_request(tmp_path: Path) -> None:
    assert problems(tmp_path, VALID, drop_smoke="stage") == [
        "stages[1]: 'stage': service 'churn' has no smoke_test for the post-deployment check"
    ]


def test_nobody_told_is_a_problem(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    del data["alarm_emails"]
    assert problems(tmp_path, data) == ["alarm_emails: required field is missing"]


def test_step_role_names_are_readable_unique_and_fit_iam() -> None:
    assert step_role_name("smoke", "prod", "fraud") == "mlops-pipeline-smoke-prod-fraud"
    long_service = "s" * 60
    first = step_role_name("preflight", "production-eu-west", long_service)
    second = step_role_name("preflight", "production-eu-west", long_service + "x")
    assert len(first) == len(second) == 64
    assert first != second
    assert first.startswith("mlops-pipeline-preflight-production-eu-west-sss")
