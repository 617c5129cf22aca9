"""DeploymentTimeout: an update policy whose MaximumExecutionTimeoutInSeconds does not exceed
its baking periods (one, or one per linear step or rolling batch at the fleet size that takes
the most steps) plus the
termination wait is non-compliant."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import blue_green, endpoint, fires, stage_stack


def rolling(
    batch: tuple[str, int], *, wait: int, timeout: int
) -> sm.CfnEndpoint.DeploymentConfigProperty:
    return sm.CfnEndpoint.DeploymentConfigProperty(
        rolling_update_policy=sm.CfnEndpoint.RollingUpdatePolicyProperty(
            maximum_batch_size=sm.CfnEndpoint.CapacitySizeProperty(type=batch[0], value=batch[1]),
            wait_interval_in_seconds=wait,
            maximum_execution_timeout_in_seconds=timeout,
        )
    )


@pytest.mark.parametrize(
    ("deployment", "count", "scaling", "expected"),
    [
        (blue_green("ALL_AT_ONCE", None, wait=300, termination=300, timeout=601), 2, None, False),
        (blue_green("ALL_AT_ONCE", None, wait=300, termination=300, timeout=600), 2, None, True),
        (
            blue_green("CANARY", ("INSTANCE_COUNT", 1), wait=3000, termination=600, timeout=3600),
            2,
            None,
            True,
        ),
        (
            blue_green("CANARY", ("INSTANCE_COUNT", 1), wait=600, termination=600, timeout=7200),
            2,
            None,
            False,
        ),
        # 10 % of 20 instances: 10 steps of 900 s + 600 s = 9600 s
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 10), wait=900, termination=600, timeout=7200),
            2,
            (2, 20),
            True,
        ),
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 10), wait=900, termination=600, timeout=9601),
            2,
            (2, 20),
            False,
        ),
        # 30 % of 10 instances is 4 steps, of 11 is 3: the most steps are at 10, not at 11
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 30), wait=600, termination=0, timeout=2000),
            2,
            (2, 11),
            True,
        ),
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 30), wait=600, termination=0, timeout=2401),
            2,
            (2, 11),
            False,
        ),
        # the same step on a fleet of 2: 2 steps
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 10), wait=900, termination=600, timeout=2401),
            2,
            None,
            False,
        ),
        (
            blue_green("LINEAR", ("CAPACITY_PERCENT", 10), wait=900, termination=600, timeout=None),
            2,
            None,
            False,
        ),
        (rolling(("INSTANCE_COUNT", 1), wait=600, timeout=1200), 2, None, True),
        (rolling(("INSTANCE_COUNT", 1), wait=600, timeout=2401), 2, (2, 4), False),
        (rolling(("INSTANCE_COUNT", 1), wait=600, timeout=2400), 2, (2, 4), True),
    ],
)
def test_deployment_timeout(
    deployment: sm.CfnEndpoint.DeploymentConfigProperty,
    count: int,
    scaling: tuple[int, int] | None,
    expected: bool,
) -> None:
    s = stage_stack()
    endpoint(s, count=count, scaling=scaling, deployment=deployment)
    assert fires(s, "prod/S/Endpoint", "DeploymentTimeout") is expected
