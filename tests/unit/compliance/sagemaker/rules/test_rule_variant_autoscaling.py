"""VariantAutoscaling: a production instance variant without a scalable target (named by literal
endpoint name or Fn::GetAtt) is non-compliant; serverless variants and other stages pass."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
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


SHADOW = {
    "VariantName": "candidate",
    "ModelName": "m2",
    "InitialVariantWeight": 1,
    "InstanceType": "ml.m5.large",
    "InitialInstanceCount": 2,
}


def with_shadow(s: cdk.Stack) -> None:
    config = s.node.find_child("Config")
    assert isinstance(config, sm.CfnEndpointConfig)
    config.add_property_override("ShadowProductionVariants", [SHADOW])


@pytest.mark.parametrize("shadow_scaled", [False, True])
def test_a_production_shadow_variant_needs_no_scalable_target(shadow_scaled: bool) -> None:
    """AWS documents registering production variants; the configuration does not require a
    shadow to autoscale, so neither does the pack (the rule used to fail synthesis)."""
    s = stack("prod")
    guarded_endpoint(s, scaled=True)
    with_shadow(s)
    if shadow_scaled:
        appscaling.CfnScalableTarget(
            s,
            "ShadowTarget",
            service_namespace="sagemaker",
            resource_id="endpoint/ep/variant/candidate",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=2,
            max_capacity=4,
        )
    found = rules_for(s, f"{s.node.path}/Endpoint", production_stages=("prod",))
    assert "VariantAutoscaling" not in found


def test_an_unscaled_production_variant_beside_a_shadow_still_fires() -> None:
    s = stack("prod")
    guarded_endpoint(s, scaled=False)
    with_shadow(s)
    found = rules_for(s, f"{s.node.path}/Endpoint", production_stages=("prod",))
    assert "VariantAutoscaling" in found
