"""InstancePoolsValid: 1-5 pools with distinct types and priorities 1-5, no InstanceType beside
them; provisioning timeout 300-3600 s."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import KEY, METRICS, fires, stack

Pool = sm.CfnEndpointConfig.InstancePoolProperty


def _fires(*, instance_type: str | None = None, **variant: Any) -> bool:
    """Whether the rule fires on an endpoint config whose one variant has these fields."""
    s = stack()
    sm.CfnEndpointConfig(
        s,
        "Config",
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="champion",
                model_name="m",
                initial_variant_weight=1,
                initial_instance_count=2,
                instance_type=instance_type,
                **variant,
            )
        ],
        kms_key_id=KEY,
        metrics_config=METRICS,
    )
    return fires(s, "S/Config", "InstancePoolsValid")


TWO = [
    Pool(instance_type="ml.g5.xlarge", priority=1),
    Pool(instance_type="ml.g6.xlarge", priority=2),
]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ({"instance_pools": TWO}, False),
        ({"instance_pools": TWO, "variant_instance_provision_timeout_in_seconds": 900}, False),
        ({"instance_pools": TWO, "instance_type": "ml.g5.xlarge"}, True),
        (
            {
                "instance_pools": [
                    Pool(instance_type=f"ml.m5.{s}", priority=i)
                    for i, s in enumerate(
                        ["large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"], 1
                    )
                ]
            },
            True,
        ),
        (
            {
                "instance_pools": [
                    Pool(instance_type="ml.g5.xlarge", priority=1),
                    Pool(instance_type="ml.g6.xlarge", priority=1),
                ]
            },
            True,
        ),
        ({"instance_pools": [Pool(instance_type="ml.g5.xlarge", priority=6)]}, True),
        (
            {"instance_type": "ml.m5.large", "variant_instance_provision_timeout_in_seconds": 60},
            True,
        ),
    ],
)
def test_instance_pools(variant: dict[str, Any], expected: bool) -> None:
    assert _fires(**variant) is expected


def test_a_variant_without_pools_or_timeout_is_not_applicable() -> None:
    assert not _fires(instance_type="ml.m5.large")
