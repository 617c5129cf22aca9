"""DeploymentStepSize: a canary / linear step outside SageMaker's limits for any fleet size the
variant can scale to is non-compliant; serverless variants accept only CAPACITY_PERCENT."""

from __future__ import annotations

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import blue_green, endpoint, fires, stage_stack


@pytest.mark.parametrize(
    ("kind", "step", "count", "scaling", "expected"),
    [
        ("CANARY", ("INSTANCE_COUNT", 1), 2, None, False),  # 1 of 2
        ("CANARY", ("INSTANCE_COUNT", 1), 2, (2, 4), False),
        ("CANARY", ("INSTANCE_COUNT", 1), 2, (1, 4), True),  # 1 of 1 after scaling in
        ("CANARY", ("INSTANCE_COUNT", 2), 3, None, True),  # 2 of 3
        ("CANARY", ("CAPACITY_PERCENT", 50), 2, (2, 6), True),  # 50 % of 3 is 2 instances
        ("CANARY", ("CAPACITY_PERCENT", 25), 2, (2, 6), False),
        ("CANARY", ("INSTANCE_COUNT", 1), 5, (2, 4), False),  # count above the range counts
        ("CANARY", ("INSTANCE_COUNT", 3), 6, (6, 6), False),
        ("CANARY", ("INSTANCE_COUNT", 3), 6, (5, 6), True),
        ("LINEAR", ("INSTANCE_COUNT", 1), 2, None, False),
        ("LINEAR", ("INSTANCE_COUNT", 1), 1, None, True),  # all of a single instance
        ("LINEAR", ("INSTANCE_COUNT", 1), 2, (2, 20), True),  # 1 of 11 is below 10 %
        ("LINEAR", ("CAPACITY_PERCENT", 10), 2, (2, 20), False),
        ("LINEAR", ("CAPACITY_PERCENT", 60), 4, None, True),
        ("CANARY", None, 2, None, True),  # no CanarySize
        ("ALL_AT_ONCE", None, 1, None, False),
    ],
)
def test_deployment_step_size(
    kind: str,
    step: tuple[str, int] | None,
    count: int,
    scaling: tuple[int, int] | None,
    expected: bool,
) -> None:
    s = stage_stack()
    endpoint(s, count=count, scaling=scaling, deployment=blue_green(kind, step))
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize") is expected


@pytest.mark.parametrize(
    ("step", "expected"), [(("INSTANCE_COUNT", 1), True), (("CAPACITY_PERCENT", 20), False)]
)
def test_deployment_step_size_serverless(step: tuple[str, int], expected: bool) -> None:
    s = stage_stack()
    endpoint(s, serverless=True, deployment=blue_green("LINEAR", step))
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize") is expected


def test_deployment_step_size_matches_a_getatt_scalable_target() -> None:
    s = stage_stack()
    deployment = blue_green("CANARY", ("INSTANCE_COUNT", 1))
    endpoint(s, name=None, count=2, scaling=(1, 2), deployment=deployment)
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize")
