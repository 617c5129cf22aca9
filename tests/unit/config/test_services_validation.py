"""``services``: names and derived AWS names, per-service storage and publishers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.unit.config.test_monitoring_validation import load, problem
from tests.unit.config.test_serving_validation import PUBLISHER, SERVING, config_with


def with_service(name: str, **changes: Any) -> dict[str, Any]:
    service = {**copy.deepcopy(SERVING), **changes}
    for model in service["models"]:
        model["model_data_key"] = model["model_data_key"].replace("/svc/", f"/{name}/")
    data = config_with(service)
    data["services"] = {name: data["services"]["svc"]}
    return data


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Churn", "'Churn': service names are lowercase letters, digits and single '-'"),
        ("churn-", "'churn-': service names are lowercase letters"),
        ("a--b", "'a--b': service names are lowercase letters"),
        ("1churn", "'1churn': service names are lowercase letters"),
        (
            "foundation",
            "'foundation': service names are lowercase letters, digits and single "
            "'-' between them, starting with a letter; 'foundation' is reserved",
        ),
    ],
)
def test_service_names(tmp_path: Path, name: str, expected: str) -> None:
    found = problem(tmp_path, with_service(name))
    assert found.startswith(f"config/dev.yaml: services.{name}: {expected}"), found


def test_endpoint_name_limit(tmp_path: Path) -> None:
    assert load(tmp_path, with_service("s" * 59)).endpoint_name("s" * 59) == f"dev-{'s' * 59}"
    found = problem(tmp_path, with_service("s" * 60))
    assert found == (
        f"config/dev.yaml: services.{'s' * 60}: the endpoint name 'dev-{'s' * 60}' has 64 "
        "characters; SageMaker allows 63: shorten the service name to at most 59 characters"
    )


def test_model_data_must_be_under_the_services_prefix(tmp_path: Path) -> None:
    data = with_service("churn")
    data["services"]["churn"]["models"][0]["model_data_key"] = "models/fraud/m1/model.tar.gz"
    assert problem(tmp_path, data).startswith(
        "config/dev.yaml: services.churn.models[0].model_data_key: must be under 'models/churn/'"
    )


def test_service_publishers_narrow_the_environment_list(tmp_path: Path) -> None:
    data = with_service("churn", publishers=[PUBLISHER])
    assert load(tmp_path, data).services["churn"].publishers == [PUBLISHER]
    other = "arn:aws:iam::123456789012:role/someone-else"
    data = with_service("churn", publishers=[other])
    assert problem(tmp_path, data).startswith(
        f"config/dev.yaml: services.churn.publishers[0]: '{other}' is not one of the "
        "environment's publishers"
    )


def test_two_services_each_with_own_derived_names(tmp_path: Path) -> None:
    data = with_service("churn")
    fraud = copy.deepcopy(data["services"]["churn"])
    for model in fraud["models"]:
        model["model_data_key"] = model["model_data_key"].replace("/churn/", "/fraud/")
    data["services"]["fraud"] = fraud
    config = load(tmp_path, data)
    assert list(config.services) == ["churn", "fraud"]
    assert [config.endpoint_name(s) for s in config.services] == ["dev-churn", "dev-fraud"]
    assert config.model_prefix("fraud") == "models/fraud/"
    assert config.capture_prefix("fraud") == "data-capture/fraud/"
