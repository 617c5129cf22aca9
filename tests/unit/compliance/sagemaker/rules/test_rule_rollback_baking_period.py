"""RollbackBakingPeriod: rollback alarms without a baking period (WaitIntervalInSeconds) are
non-compliant; no rollback alarms is not applicable."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import blue_green, endpoint, fires, stage_stack


def rolling(wait: int, rollback_alarms: tuple[str, ...]) -> sm.CfnEndpoint.DeploymentConfigProperty:
    return sm.CfnEndpoint.DeploymentConfigProperty(
        rolling_update_policy=sm.CfnEndpoint.RollingUpdatePolicyProperty(
            maximum_batch_size=sm.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT", value=50
            ),
            wait_interval_in_seconds=wait,
        ),
        auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name=a) for a in rollback_alarms]
        ),
    )


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        (blue_green("ALL_AT_ONCE", wait=600, rollback_alarms=("errors",)), False),
        (blue_green("CANARY", ("INSTANCE_COUNT", 1), wait=300, rollback_alarms=("e",)), False),
        (blue_green("ALL_AT_ONCE", wait=0, rollback_alarms=("errors",)), True),
        (blue_green("ALL_AT_ONCE", wait=None, rollback_alarms=("errors",)), True),
        (blue_green("ALL_AT_ONCE", wait=0), False),  # no rollback alarms: nothing to bake
        (rolling(60, ("errors",)), False),
        (rolling(0, ("errors",)), True),
        (
            sm.CfnEndpoint.DeploymentConfigProperty(
                auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name="errors")]
                )
            ),
            True,
        ),
        (None, False),
    ],
)
def test_rollback_baking_period(
    deployment: sm.CfnEndpoint.DeploymentConfigProperty | None, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, deployment=deployment)
    assert fires(s, "prod/S/Endpoint", "RollbackBakingPeriod") is expected
