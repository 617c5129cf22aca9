"""ModelNetworkIsolation: compliant with isolation enabled, non-compliant when it is off or unset;
neither model rule applies to a model that only serverless variants serve."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import ROLE, model, rules_for, stack


@pytest.mark.parametrize(
    ("vpc", "isolation", "expected"),
    [
        (True, True, set()),
        (True, False, {"ModelNetworkIsolation"}),
        (True, None, {"ModelNetworkIsolation"}),
    ],
)
def test_model_network_isolation(vpc: bool, isolation: bool | None, expected: set[str]) -> None:
    s = stack()
    model(s, vpc=vpc, isolation=isolation)
    assert rules_for(s, "S/Model") == expected


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        # SageMaker refuses VPC config and network isolation for serverless endpoints.
        (("serverless",), set()),
        (("serverless", "serverless"), set()),
        (("serverless", "instance"), {"ModelVpc", "ModelNetworkIsolation"}),
        (("instance",), {"ModelVpc", "ModelNetworkIsolation"}),
        ((), {"ModelVpc", "ModelNetworkIsolation"}),  # served by nothing in the stack
    ],
)
def test_model_rules_do_not_apply_to_a_model_only_serverless_variants_serve(
    kinds: tuple[str, ...], expected: set[str]
) -> None:
    s = stack()
    served = sm.CfnModel(s, "Model", execution_role_arn=ROLE)
    for number, kind in enumerate(kinds):
        sm.CfnEndpointConfig(
            s,
            f"Config{number}",
            production_variants=[
                sm.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="v",
                    model_name=served.attr_model_name,
                    initial_variant_weight=1,
                    instance_type="ml.m5.large" if kind == "instance" else None,
                    initial_instance_count=2 if kind == "instance" else None,
                    serverless_config=sm.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=2048, max_concurrency=5
                    )
                    if kind == "serverless"
                    else None,
                )
            ],
        )
    assert rules_for(s, "S/Model") == expected
