"""HostedModel from a registered model package: one container with ModelPackageName (and an
optional environment), no image, no inference execution mode; the single-image arguments are
refused with it (the props); grants cover the repository and the model data prefix when given."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.model import ContainerSpec, ModelPackageSpec, ModelSpec
from tests.helpers import new_stack, resources_of_type

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/dev-churn/4"
PACKAGE = ModelPackageSpec(arn=ARN)


def test_the_model_is_the_package() -> None:
    stack = new_stack()
    HostedModel(
        stack, "Model", spec=ModelSpec(model_package=PACKAGE, environment={"B": "2", "A": "1"})
    )
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
        spec=ModelSpec(model_package=PACKAGE),
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
    ("extra", "message"),
    [
        ({"image_tag": "1.0.0"}, "image_tag: a model_package brings its own image"),
        ({"model_data_key": "m/1.tar.gz"}, "model_data_key: a model_package brings its own"),
        (
            {"containers": [ContainerSpec(image_tag="1"), ContainerSpec(image_tag="2")]},
            "containers: a model_package brings its own containers",
        ),
        ({"inference_execution": "serial"}, "inference_execution: applies to a model with"),
    ],
)
def test_image_settings_are_refused_with_a_package(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(PropProblems, match=message):
        ModelSpec(model_package=PACKAGE, **extra)


def test_a_version_is_in_the_given_group_of_the_stacks_account_and_region() -> None:
    stack = new_stack()
    version = ModelSpec(model_package=ModelPackageSpec(version=4))
    HostedModel(stack, "Model", spec=version, model_package_group="dev-churn")
    HostedModel(
        stack, "Other", spec=ModelSpec(model_package=ModelPackageSpec(version=2, group="shared"))
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    names = sorted(
        model["Properties"]["Containers"][0]["ModelPackageName"]
        for model in resources_of_type(template, "AWS::SageMaker::Model").values()
    )
    assert names == [
        ARN,
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/shared/2",
    ]
    with pytest.raises(ValueError, match="model_package version needs its group"):
        HostedModel(new_stack(), "Model", spec=version)
