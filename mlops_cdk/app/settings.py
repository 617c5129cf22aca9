"""Per-environment settings translated from configuration into CDK values."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from mlops_cdk.config import EnvConfig

# The cost allocation tag every resource carries (with the environment's name unless the
# configuration's tags override it); the environment's budget filters on it.
ENVIRONMENT_TAG = "Environment"


def resource_tags(config: EnvConfig) -> dict[str, str]:
    """Tags applied to every resource of the environment (the stage applies them)."""
    return {ENVIRONMENT_TAG: config.name, "ManagedBy": "mlops-cdk", **config.tags}


def removal_policy(config: EnvConfig) -> cdk.RemovalPolicy:
    """RETAIN or DESTROY for this environment's stateful resources."""
    return (
        cdk.RemovalPolicy.RETAIN if config.removal_policy == "retain" else cdk.RemovalPolicy.DESTROY
    )


_RETENTION_BY_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def log_retention(config: EnvConfig) -> logs.RetentionDays:
    """The RetentionDays member for the configured number of days (validated by the schema)."""
    return _RETENTION_BY_DAYS[config.log_retention_days]
