"""ModelImageSource for models made from a registered model package: compliant when the one
container names a pinned versioned package ARN (of this or another account) and no image;
non-compliant for a package name, a group ARN, a token or a package container with an image."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import ROLE, rules_for, stack

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/stage-churn/4"
OTHER_ACCOUNT = "arn:aws:sagemaker:eu-west-1:444444444444:model-package/stage-churn/12"
OWN_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1"


def package_model(name: Any, image: str | None = None) -> set[str]:
    s = stack()
    sm.CfnModel(
        s,
        "Model",
        execution_role_arn=ROLE,
        enable_network_isolation=True,
        containers=[sm.CfnModel.ContainerDefinitionProperty(model_package_name=name, image=image)],
        vpc_config=sm.CfnModel.VpcConfigProperty(
            security_group_ids=["sg-0123456789abcdef0"], subnets=["subnet-01234567"]
        ),
    )
    return {r for r in rules_for(s, "S/Model") if r == "ModelImageSource"}


@pytest.mark.parametrize("name", [PACKAGE, OTHER_ACCOUNT])
def test_a_pinned_package_version_is_compliant(name: str) -> None:
    assert package_model(name) == set()


@pytest.mark.parametrize(
    "name",
    [
        "churn-package",  # an unversioned package's name: no pinned version
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/stage-churn",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/stage-churn/latest",
        "import",  # Fn::ImportValue: resolved at deploy time, not a literal pinned ARN
    ],
)
def test_anything_but_a_pinned_package_version_is_not(name: str) -> None:
    value = cdk.Fn.import_value("SomePackage") if name == "import" else name
    assert package_model(value) == {"ModelImageSource"}


def test_a_package_container_with_an_image_of_its_own_is_not() -> None:
    assert package_model(PACKAGE, image=OWN_IMAGE) == {"ModelImageSource"}
