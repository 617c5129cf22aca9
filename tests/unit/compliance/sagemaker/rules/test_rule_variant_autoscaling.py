"""VariantAutoscaling: a production instance variant without a scalable target (named by literal
endpoint name or Fn::GetAtt) is non-compliant; serverless variants and other stages pass."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import (
    endpoint_config,
    guarded_endpoint,
    rules_for,
    stack,
)


@pytest.mark.parametrize(
    ("scaled", "literal_name", "in_prod", "expected"),
    [
        (True, True, True, set()),
        (True, False, True, set()),
        (False, True, True, {"VariantAutoscaling"}),
        (False, False, True, {"VariantAutoscaling"}),
        # Outside production a fixed fleet is valid (the configuration reference says so).
        (False, True, False, set()),
    ],
)
def test_variant_autoscaling(
    scaled: bool, literal_name: bool, in_prod: bool, expected: set[str]
) -> None:
    s = stack("prod" if in_prod else "dev")
    guarded_endpoint(s, scaled=scaled, literal_name=literal_name)
    found = rules_for(s, f"{s.node.path}/Endpoint", production_stages=("prod",))
    assert found == expected


def test_serverless_endpoint_needs_no_scalable_target() -> None:
    s = stack()
    config = endpoint_config(s, serverless=True, kms=False, capture_kms=None)
    sm.CfnEndpoint(s, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
    assert rules_for(s, "S/Endpoint") == set()
