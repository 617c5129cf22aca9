"""ModelImageSource: compliant for images of an ECR repository (this stack's, or exported by
another stack), literal images of the execution role's account or of AWS's registries (the
committed table); non-compliant for any other registry or account, and for more than 15
containers."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import ROLE, TEST_ENV, rules_for, stack

OWN = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1"  # the role's account
XGBOOST = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
FOREIGN = "999999999999.dkr.ecr.eu-west-1.amazonaws.com/repo:1"
DOCKER_HUB = "docker.io/library/python:3.12"


def model_with(images: list[Any], *, containers: bool) -> set[str]:
    s = stack()
    definitions = [sm.CfnModel.ContainerDefinitionProperty(image=i) for i in images]
    sm.CfnModel(
        s,
        "Model",
        execution_role_arn=ROLE,
        enable_network_isolation=True,
        primary_container=None if containers else definitions[0],
        containers=definitions if containers else None,
        vpc_config=sm.CfnModel.VpcConfigProperty(
            security_group_ids=["sg-0123456789abcdef0"], subnets=["subnet-01234567"]
        ),
    )
    return {r for r in rules_for(s, "S/Model") if r == "ModelImageSource"}


@pytest.mark.parametrize(
    ("images", "containers", "expected"),
    [
        ([OWN], False, set()),
        ([XGBOOST], False, set()),
        ([XGBOOST, OWN], True, set()),
        ([FOREIGN], False, {"ModelImageSource"}),
        ([DOCKER_HUB], False, {"ModelImageSource"}),
        ([XGBOOST, FOREIGN], True, {"ModelImageSource"}),
        ([OWN] * 16, True, {"ModelImageSource"}),
        ([OWN] * 15, True, set()),
    ],
)
def test_model_image_source(images: list[str], containers: bool, expected: set[str]) -> None:
    assert model_with(images, containers=containers) == expected


def test_image_of_a_repository_in_the_stack_is_compliant_and_an_unknown_token_is_not() -> None:
    s = stack()
    repository = ecr.Repository(s, "Repo")
    for name, image in (
        ("Model", repository.repository_uri_for_tag("1")),
        ("Other", cdk.Fn.join("", [cdk.CfnParameter(s, "Image").value_as_string, ":1"])),
    ):
        sm.CfnModel(
            s,
            name,
            execution_role_arn=ROLE,
            primary_container=sm.CfnModel.ContainerDefinitionProperty(image=image),
        )
    assert "ModelImageSource" not in rules_for(s, "S/Model")
    assert "ModelImageSource" in rules_for(s, "S/Other")


@pytest.mark.parametrize(
    ("account", "expected"), [(TEST_ENV.account, set()), ("999999999999", {"ModelImageSource"})]
)
def test_imported_repository_of_a_stack_with_a_stated_account(
    account: str, expected: set[str]
) -> None:
    """An imported repository in a stack with a stated environment gives an image that joins a
    literal account with ``AWS::URLSuffix``: the stack's own account is compliant, any other
    account is not (the execution role here is a token: its account is unknown)."""
    s = stack()
    repository = ecr.Repository.from_repository_arn(
        s, "Repo", f"arn:aws:ecr:eu-west-1:{account}:repository/churn"
    )
    sm.CfnModel(
        s,
        "Model",
        execution_role_arn=cdk.Fn.get_att("Role", "Arn").to_string(),
        primary_container=sm.CfnModel.ContainerDefinitionProperty(
            image=repository.repository_uri_for_tag("1")
        ),
    )
    assert {r for r in rules_for(s, "S/Model") if r == "ModelImageSource"} == expected
