"""ShadowVariantLimits: one production and one shadow variant, on instances, real-time only."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import KEY, METRICS, fires, stack


def _variant(
    name: str, *, serverless: bool = False
) -> sm.CfnEndpointConfig.ProductionVariantProperty:
    return sm.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=name,
        model_name="m",
        initial_variant_weight=1,
        instance_type=None if serverless else "ml.m5.large",
        initial_instance_count=None if serverless else 2,
        serverless_config=sm.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=2048, max_concurrency=5
        )
        if serverless
        else None,
    )


@pytest.mark.parametrize(
    ("production", "shadows", "expected"),
    [
        (["champion"], ["shadow"], False),
        (["champion"], [], False),  # no shadow: not applicable
        (["champion"], ["shadow-a", "shadow-b"], True),
        (["champion", "challenger"], ["shadow"], True),
    ],
)
def test_shadow_variant_counts(production: list[str], shadows: list[str], expected: bool) -> None:
    s = stack()
    sm.CfnEndpointConfig(
        s,
        "Config",
        production_variants=[_variant(n) for n in production],
        shadow_production_variants=[_variant(n) for n in shadows] or None,
        kms_key_id=KEY,
        metrics_config=METRICS,
    )
    assert fires(s, "S/Config", "ShadowVariantLimits") is expected


def test_a_serverless_shadow_is_non_compliant() -> None:
    s = stack()
    sm.CfnEndpointConfig(
        s,
        "Config",
        production_variants=[_variant("champion")],
        shadow_production_variants=[_variant("shadow", serverless=True)],
        kms_key_id=KEY,
        metrics_config=METRICS,
    )
    assert fires(s, "S/Config", "ShadowVariantLimits")


def test_a_shadow_on_an_asynchronous_endpoint_is_non_compliant() -> None:
    s = stack()
    sm.CfnEndpointConfig(
        s,
        "Config",
        production_variants=[_variant("champion")],
        shadow_production_variants=[_variant("shadow")],
        kms_key_id=KEY,
        metrics_config=METRICS,
        async_inference_config=sm.CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=sm.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path="s3://b/out", kms_key_id=KEY
            )
        ),
    )
    assert fires(s, "S/Config", "ShadowVariantLimits")
