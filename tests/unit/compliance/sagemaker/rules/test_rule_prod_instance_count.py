"""ProdInstanceCount: one instance in a production stage is non-compliant; outside production,
or with two instances, it passes. Production is named to the pack or said by the stage."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from tests.helpers import TEST_ENV
from tests.unit.compliance.sagemaker.pack_helpers import app, endpoint_config, rules_for, stack


@pytest.mark.parametrize(("count", "in_prod", "expected"), [
    (2, True, set()),
    (1, True, {"ProdInstanceCount"}),
    (1, False, set()),
])  # fmt: skip
def test_production_instance_count(count: int, in_prod: bool, expected: set[str]) -> None:
    s = stack("prod")
    endpoint_config(s, count=count)
    production = ("prod",) if in_prod else ()
    assert rules_for(s, "prod/S/Config", production_stages=production) == expected


def test_production_detected_from_the_stage_itself() -> None:
    root = app()

    class ProdStage(cdk.Stage):
        production = True

    s = cdk.Stack(ProdStage(root, "live", env=TEST_ENV), "S")
    endpoint_config(s, count=1)
    assert rules_for(s, "live/S/Config") == {"ProdInstanceCount"}
