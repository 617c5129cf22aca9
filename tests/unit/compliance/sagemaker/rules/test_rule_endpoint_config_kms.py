"""EndpointConfigKms: a config without a key is non-compliant, unless its instance types have
local NVMe storage or it is serverless (SageMaker rejects a key for those)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import endpoint_config, rules_for, stack


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, set()),
        ({"kms": False}, {"EndpointConfigKms"}),
        ({"kms": False, "instance_type": "ml.g5.xlarge"}, set()),
        ({"kms": False, "serverless": True, "capture_kms": None}, set()),
    ],
)
def test_endpoint_config_kms(kwargs: dict[str, Any], expected: set[str]) -> None:
    s = stack()
    endpoint_config(s, **kwargs)
    assert rules_for(s, "S/Config") == expected
