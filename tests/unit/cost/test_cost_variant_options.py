"""Cost of shadow variants (priced like production) and instance pools (the range shown,
priced at the first pool)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_tools.cost.assumptions import Assumptions
from mlops_tools.cost.estimate import estimate_environment
from mlops_tools.cost.prices import PriceBook

REGION = "eu-west-1"


def _lines(config: dict[str, Any]) -> dict[str, Any]:
    resources = {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": config},
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": "ep",
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
            },
        },
    }
    cost = estimate_environment(
        "test",
        {"test-svc": {"Resources": resources}},
        region=REGION,
        prices=PriceBook.load(),
        assumptions=Assumptions(),
    )
    return {
        i.description.split(":")[0]: i for i in cost.part("svc").items if "variant" in i.description
    }


def _variant(name: str, **fields: Any) -> dict[str, Any]:
    return {"VariantName": name, "InitialInstanceCount": 2, "InitialVariantWeight": 1, **fields}


def test_a_shadow_variant_is_priced_like_production() -> None:
    lines = _lines(
        {
            "ProductionVariants": [_variant("live", InstanceType="ml.m5.large")],
            "ShadowProductionVariants": [_variant("next", InstanceType="ml.m5.large")],
        }
    )
    assert set(lines) == {"variant live", "variant next"}
    assert lines["variant next"].expected == pytest.approx(lines["variant live"].expected)


def test_instance_pools_show_the_price_range_and_cost_the_first_pool() -> None:
    pools = [
        {"InstanceType": "ml.m5.xlarge", "Priority": 2},
        {"InstanceType": "ml.m5.large", "Priority": 1},
    ]
    pooled = _lines({"ProductionVariants": [_variant("gpu", InstancePools=pools)]})
    single = _lines({"ProductionVariants": [_variant("gpu", InstanceType="ml.m5.large")]})
    line = pooled["variant gpu"]
    assert "ml.m5.large > ml.m5.xlarge (pools; $0.128-$0.257 per instance-hour" in line.description
    assert line.expected == pytest.approx(single["variant gpu"].expected)
