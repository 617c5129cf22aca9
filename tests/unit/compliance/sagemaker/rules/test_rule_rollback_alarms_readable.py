"""RollbackAlarmsReadable: an endpoint's rollback alarms must be describable
(cloudwatch:DescribeAlarms) by the execution role of every model it serves."""

from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import METRICS, blue_green, fires, stage_stack

RULE = "RollbackAlarmsReadable"


def build(grant: str | None, *, rollback: bool = True) -> bool:
    """An endpoint on a model whose role is granted DescribeAlarms on ``grant`` (``"alarm"``:
    the rollback alarm's ARN, ``"other"``: another alarm, ``"*"``, or None)."""
    s = stage_stack()
    role = iam.Role(s, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    alarm = cloudwatch.CfnAlarm(
        s,
        "Errors",
        namespace="AWS/SageMaker",
        metric_name="Invocation5XXErrors",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=1,
    )
    other = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:someone-else"
    resource = {"alarm": alarm.attr_arn, "other": other, "*": "*"}.get(grant or "")
    if resource is not None:
        iam.ManagedPolicy(
            s,
            "Describe",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[resource])
            ],
        )
    model = sm.CfnModel(s, "Model", execution_role_arn=role.role_arn)
    config = sm.CfnEndpointConfig(
        s,
        "Config",
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="champion",
                model_name=model.attr_model_name,
                initial_variant_weight=1,
                instance_type="ml.m5.large",
                initial_instance_count=2,
            )
        ],
        metrics_config=METRICS,
    )
    sm.CfnEndpoint(
        s,
        "Endpoint",
        endpoint_config_name=config.attr_endpoint_config_name,
        deployment_config=blue_green(
            "ALL_AT_ONCE", rollback_alarms=(alarm.ref,) if rollback else ()
        ),
    )
    return fires(s, "prod/S/Endpoint", RULE)


@pytest.mark.parametrize(
    ("grant", "expected"), [("alarm", False), ("*", False), ("other", True), (None, True)]
)
def test_execution_role_must_describe_the_rollback_alarms(
    grant: str | None, expected: bool
) -> None:
    assert build(grant) is expected


def test_no_rollback_alarms_is_not_judged() -> None:
    assert build(None, rollback=False) is False
