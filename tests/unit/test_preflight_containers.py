"""Preflight of multi-container models and images AWS provides: each container's image and model
data is a check of its own (``<model>/<hostname>``), and an AWS image is looked up with ECR
DescribeImages in AWS's registry account (``registryId``) from the committed table (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.config.endpoint import ModelConfig
from mlops_cdk.props.model import AwsImageSpec, ContainerSpec
from mlops_tools import preflight

REGION = "eu-west-1"
TARGET = preflight.Target("dev", "123456789012", REGION, "bucket", "models", "churn")
XGBOOST = AwsImageSpec(framework="xgboost", version="1.7-1")
URI = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def ecr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)


def test_parts_of_a_pipeline_are_named_by_hostname() -> None:
    single = ModelConfig(name="m1", image_tag="1", model_data_key="models/churn/m.tar.gz")
    pipeline = ModelConfig(
        name="m2",
        containers=[
            ContainerSpec(aws_image=XGBOOST, model_data_key="models/churn/x.tar.gz", hostname="x"),
            ContainerSpec(image_digest="sha256:" + "a" * 64, hostname="y"),
        ],
    )
    unnamed = ModelConfig(  # a serial pipeline names every hostname or none
        name="m3",
        containers=[ContainerSpec(image_tag="2"), ContainerSpec(image_tag="3")],
    )
    parts = preflight.model_parts([single, pipeline, unnamed])
    assert [(p.name, p.image_tag, p.model_data_key) for p in parts] == [
        ("m1", "1", "models/churn/m.tar.gz"),
        ("m2/x", None, "models/churn/x.tar.gz"),
        ("m2/y", None, None),
        ("m3/0", "2", None),
        ("m3/1", "3", None),
    ]
    assert parts[1].aws_image == XGBOOST


def test_aws_image_is_looked_up_in_the_registry_account(ecr: Any) -> None:
    part = preflight.ModelPart(name="m2/x", aws_image=XGBOOST)
    with Stubber(ecr) as stub:
        stub.add_response(
            "describe_images",
            {"imageDetails": [{"imageTags": ["1.7-1"]}]},
            {
                "registryId": "141502667606",
                "repositoryName": "sagemaker-xgboost",
                "imageIds": [{"imageTag": "1.7-1"}],
            },
        )
        result = preflight.check_aws_image(ecr, TARGET, part)
    assert result.passed
    assert result.line() == f"PASS churn image m2/x: {URI}"


def test_missing_aws_image_fails_with_what_to_do(ecr: Any) -> None:
    """moto has no repository of AWS's account: ECR answers RepositoryNotFoundException."""
    result = preflight.check_aws_image(ecr, TARGET, preflight.ModelPart("m", aws_image=XGBOOST))
    assert not result.passed
    assert result.line().startswith(
        f"FAIL churn image m: {URI} not found in AWS's registry 141502667606: choose another "
        "aws_image version"
    )


def test_access_denied_is_reported_as_the_aws_error(ecr: Any) -> None:
    with Stubber(ecr) as stub:
        stub.add_client_error("describe_images", "AccessDeniedException", "no")
        result = preflight.check_aws_image(ecr, TARGET, preflight.ModelPart("m", aws_image=XGBOOST))
    assert not result.passed
    assert "AccessDeniedException" in result.line()


def test_region_without_the_image_fails_without_calling_aws(ecr: Any) -> None:
    target = preflight.Target("dev", "123456789012", "eusc-de-east-1", "b", "r", "churn")
    with Stubber(ecr):  # any call would raise: none is stubbed
        result = preflight.check_aws_image(ecr, target, preflight.ModelPart("m", aws_image=XGBOOST))
    assert not result.passed
    assert "is not published in eusc-de-east-1" in result.line()
