"""RollingUpdateExclusions: rolling only on one variant on instances, batch 5-50 % of every
fleet size the variant can have."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import blue_green, endpoint, fires, stack


def rolling(kind: str, value: int) -> sm.CfnEndpoint.DeploymentConfigProperty:
    return sm.CfnEndpoint.DeploymentConfigProperty(
        rolling_update_policy=sm.CfnEndpoint.RollingUpdatePolicyProperty(
            maximum_batch_size=sm.CfnEndpoint.CapacitySizeProperty(type=kind, value=value),
            wait_interval_in_seconds=300,
        )
    )


@pytest.mark.parametrize(
    ("deployment", "count", "scaling", "expected"),
    [
        (rolling("CAPACITY_PERCENT", 50), 2, None, False),
        (rolling("INSTANCE_COUNT", 1), 4, (2, 4), False),  # 1 of 2..4 = 25-50 %
        (rolling("INSTANCE_COUNT", 1), 1, None, True),  # 1 of 1 = 100 %
        (rolling("INSTANCE_COUNT", 1), 2, (2, 30), True),  # 1 of 30 < 5 %
        (rolling("CAPACITY_PERCENT", 60), 4, None, True),
        (blue_green("ALL_AT_ONCE"), 1, None, False),  # not rolling: not applicable
    ],
)
def test_rolling_batch_size(
    deployment: sm.CfnEndpoint.DeploymentConfigProperty,
    count: int,
    scaling: tuple[int, int] | None,
    expected: bool,
) -> None:
    s = stack()
    endpoint(s, count=count, scaling=scaling, deployment=deployment)
    assert fires(s, "S/Endpoint", "RollingUpdateExclusions") is expected


def test_rolling_a_serverless_endpoint_is_non_compliant() -> None:
    s = stack()
    endpoint(s, serverless=True, deployment=rolling("CAPACITY_PERCENT", 50))
    assert fires(s, "S/Endpoint", "RollingUpdateExclusions")


def test_rolling_a_multi_variant_endpoint_is_non_compliant() -> None:
    s = stack()
    variants = [
        sm.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=name,
            model_name="m",
            initial_variant_weight=1,
            instance_type="ml.m5.large",
            initial_instance_count=2,
        )
        for name in ("champion", "challenger")
    ]
    config = sm.CfnEndpointConfig(s, "Config", production_variants=variants)
    sm.CfnEndpoint(
        s,
        "Endpoint",
        endpoint_name="ep",
        endpoint_config_name=config.attr_endpoint_config_name,
        deployment_config=rolling("CAPACITY_PERCENT", 50),
    )
    assert fires(s, "S/Endpoint", "RollingUpdateExclusions")
