"""HostedModel from a registered model package: one container with ModelPackageName (and an
optional environment), no image, no inference execution mode; the single-image arguments are
refused with it; grants cover the repository and the model data prefix when given."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.model import HostedModel
from tests.helpers import new_stack, resources_of_type

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/dev-churn/4"


def test_the_model_is_the_package() -> None:
    stack = new_stack()
    HostedModel(stack, "Model", model_package_arn=ARN, environment={"B": "2", "A": "1"})
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    ((_, model),) = resources_of_type(template, "AWS::SageMaker::Model").items()
    props = model["Properties"]
    assert props["Containers"] == [{"ModelPackageName": ARN, "Environment": {"A": "1", "B": "2"}}]
    assert "PrimaryContainer" not in props
    assert "InferenceExecutionConfig" not in props


def test_grants_cover_the_repository_and_the_prefix() -> None:
    stack = new_stack()
    repository = ecr.Repository(stack, "Repo")
    bucket = s3.Bucket(stack, "Bucket")
    HostedModel(
        stack,
        "Model",
        model_package_arn=ARN,
        repository=repository,
        bucket=bucket,
        model_data_prefix="models/churn/",
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    ((_, policy),) = resources_of_type(template, "AWS::IAM::ManagedPolicy").items()
    sids = {s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert {"ReadModelArtifacts", "ListModelArtifacts"} <= sids
    actions = str(policy["Properties"]["PolicyDocument"])
    assert "ecr:BatchGetImage" in actions


@pytest.mark.parametrize(
    "extra",
    [
        {"image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/r:1"},
        {"model_data_url": "s3://b/models/churn/1/model.tar.gz"},
        {"image_tag": "1.0.0"},
    ],
)
def test_image_arguments_are_refused_with_a_package(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="model_package_arn replaces"):
        HostedModel(new_stack(), "Model", model_package_arn=ARN, **extra)
