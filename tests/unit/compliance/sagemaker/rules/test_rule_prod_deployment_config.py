"""ProdDeploymentConfig: a production endpoint without blue/green or rolling updates is
non-compliant; elsewhere it is not applicable."""

from __future__ import annotations

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import guarded_endpoint, rules_for, stack


@pytest.mark.parametrize(("deployment", "in_prod", "expected"), [
    (True, True, set()),
    (False, True, {"ProdDeploymentConfig"}),
    (False, False, set()),
])  # fmt: skip
def test_production_deployment_config(deployment: bool, in_prod: bool, expected: set[str]) -> None:
    s = stack("prod")
    guarded_endpoint(s, scaled=True, deployment=deployment)
    production = ("prod",) if in_prod else ()
    assert rules_for(s, "prod/S/Endpoint", production_stages=production) == expected
