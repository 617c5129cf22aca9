"""DataCaptureKms: capture without a key is non-compliant; no capture is not applicable."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import (
    KEY,
    METRICS,
    endpoint_config,
    rules_for,
    stack,
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, set()),
        ({"capture_kms": False}, {"DataCaptureKms"}),
        ({"capture_kms": None}, set()),
    ],
)
def test_data_capture_kms(kwargs: dict[str, Any], expected: set[str]) -> None:
    s = stack()
    endpoint_config(s, **kwargs)
    assert rules_for(s, "S/Config") == expected


def test_disabled_capture_needs_no_key() -> None:
    s = stack()
    sm.CfnEndpointConfig(
        s,
        "Config",
        kms_key_id=KEY,
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="v", model_name="m", instance_type="ml.m5.large",
                initial_instance_count=2,
            )
        ],
        data_capture_config=sm.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=False,
            initial_sampling_percentage=10,
            destination_s3_uri="s3://b/capture",
            capture_options=[sm.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input")],
        ),
        metrics_config=METRICS,
    )  # fmt: skip
    assert rules_for(s, "S/Config") == set()
