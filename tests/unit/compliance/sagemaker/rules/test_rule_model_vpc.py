"""ModelVpc: compliant with subnets and security groups, non-compliant without a VPC config."""

from __future__ import annotations

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import model, rules_for, stack


@pytest.mark.parametrize(
    ("vpc", "isolation", "expected"),
    [
        (True, True, set()),
        (False, True, {"ModelVpc"}),
        (False, None, {"ModelVpc", "ModelNetworkIsolation"}),
    ],
)
def test_model_vpc(vpc: bool, isolation: bool | None, expected: set[str]) -> None:
    s = stack()
    model(s, vpc=vpc, isolation=isolation)
    assert rules_for(s, "S/Model") == expected
