"""EndpointConfigMetrics: an instance-backed endpoint config must state detailed observability
and enhanced metrics (AWS turns detailed observability on for configs created after 2026-06-17
unless stated) and a publish frequency AWS accepts; serverless configs are not judged."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import endpoint_config, fires, stage_stack

RULE = "EndpointConfigMetrics"


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        ({"EnableDetailedObservability": False, "EnableEnhancedMetrics": False}, False),
        (
            {
                "EnableDetailedObservability": True,
                "EnableEnhancedMetrics": True,
                "MetricPublishFrequencyInSeconds": 10,
            },
            False,
        ),
        (None, True),  # AWS's default: detailed observability on, billed
        ({"EnableEnhancedMetrics": False}, True),
        ({"EnableDetailedObservability": False}, True),
        (
            {
                "EnableDetailedObservability": False,
                "EnableEnhancedMetrics": False,
                "MetricPublishFrequencyInSeconds": 15,
            },
            True,
        ),
    ],
)
def test_metrics_config_must_be_stated(metrics: dict[str, object] | None, expected: bool) -> None:
    s = stage_stack()
    config = endpoint_config(s)
    config.metrics_config = None  # the helper's stated metrics, replaced by these
    if metrics is not None:
        config.add_property_override("MetricsConfig", metrics)
    assert fires(s, "prod/S/Config", RULE) is expected


def test_serverless_config_is_not_judged() -> None:
    s = stage_stack()
    config: sm.CfnEndpointConfig = endpoint_config(s, serverless=True, kms=False, capture_kms=None)
    assert config.metrics_config is None
    assert fires(s, "prod/S/Config", RULE) is False
