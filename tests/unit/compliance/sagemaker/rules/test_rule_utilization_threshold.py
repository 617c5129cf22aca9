"""UtilizationThreshold: CPU/GPU utilization thresholds must be scaled by the variant's vCPU/GPU
count (or divided in metric math); foreign endpoints, serverless variants and anomaly bands are
left alone."""

from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sm

from mlops_cdk.aws import sagemaker_metrics as metrics
from tests.unit.compliance.sagemaker.pack_helpers import (
    alarm,
    app,
    endpoint,
    findings,
    fires,
    sibling,
    stage_stack,
    variant_dimensions,
)


@pytest.mark.parametrize(
    ("instance_type", "metric", "threshold", "expected"),
    [
        ("ml.m5.xlarge", "CPUUtilization", 90, True),  # 22.5 % of 4 vCPUs
        ("ml.m5.xlarge", "CPUUtilization", 100, True),
        ("ml.m5.xlarge", "CPUUtilization", 101, False),
        ("ml.m5.xlarge", "CPUUtilization", 360, False),
        ("ml.m5.xlarge", "CPUUtilization", 400, False),
        ("ml.m5.xlarge", "CPUUtilization", 401, True),  # never reached
        ("ml.t2.medium", "CPUUtilization", 90, True),  # 2 vCPUs despite "medium"
        ("ml.t2.medium", "CPUUtilization", 180, False),
        ("ml.c8g.medium", "CPUUtilization", 90, False),  # one vCPU: a plain percentage
        ("ml.c8g.medium", "CPUUtilization", 101, True),
        ("ml.g5.12xlarge", "GPUUtilization", 90, True),  # 4 GPUs
        ("ml.g5.12xlarge", "GPUMemoryUtilization", 320, False),
        ("ml.g5.xlarge", "GPUUtilization", 90, False),  # one GPU
        ("ml.m5.xlarge", "GPUUtilization", 50, True),  # no GPUs: never published
        ("ml.g7.2xlarge", "GPUUtilization", 90, True),  # GPU count unknown to the package
        ("ml.m5.xlarge", "MemoryUtilization", 90, False),  # not summed
        ("ml.m5.xlarge", "DiskUtilization", 90, False),
    ],
)
def test_utilization_threshold(
    instance_type: str, metric: str, threshold: float, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, instance_type=instance_type)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric=metric,
        dimensions=variant_dimensions(),
        threshold=threshold,
    )
    assert fires(s, "prod/S/Alarm", "UtilizationThreshold") is expected


def test_utilization_threshold_finds_the_endpoint_in_another_stack_of_the_stage() -> None:
    root = app()
    serving = stage_stack(root)
    endpoint(serving)
    monitoring = sibling(serving, "Monitoring")
    alarm(
        monitoring,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(),
        threshold=90,
    )
    assert fires(root, "prod/Monitoring/Alarm", "UtilizationThreshold")


def test_utilization_threshold_follows_a_literal_endpoint_config_name() -> None:
    root = app()
    configs = stage_stack(root, stack="Configs")
    sm.CfnEndpointConfig(
        configs,
        "Config",
        endpoint_config_name="ep-config",
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="champion",
                model_name="m",
                initial_variant_weight=1,
                instance_type="ml.c5.2xlarge",
                initial_instance_count=2,
            )
        ],
    )
    serving = sibling(configs, "Serving")
    sm.CfnEndpoint(serving, "Endpoint", endpoint_name="ep", endpoint_config_name="ep-config")
    for threshold in (90, 720):
        alarm(
            serving,
            f"Cpu{threshold}",
            namespace=metrics.INSTANCE_NAMESPACE,
            metric="CPUUtilization",
            dimensions=variant_dimensions(),
            threshold=threshold,
        )
    found = findings(root)
    assert ("UtilizationThreshold", "prod/Serving/Cpu90") in found  # 8 vCPUs
    assert ("UtilizationThreshold", "prod/Serving/Cpu720") not in found


def test_utilization_threshold_skips_anomaly_detection_bands() -> None:
    s = stage_stack()
    endpoint(s)
    cpu = cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="cpu",
        return_data=True,
        metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
            metric=cloudwatch.CfnAlarm.MetricProperty(
                namespace=metrics.INSTANCE_NAMESPACE,
                metric_name="CPUUtilization",
                dimensions=[
                    cloudwatch.CfnAlarm.DimensionProperty(name=k, value=v)
                    for k, v in variant_dimensions().items()
                ],
            ),
            period=60,
            stat="Average",
        ),
    )
    band = cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="band", expression="ANOMALY_DETECTION_BAND(cpu, 2)"
    )
    cloudwatch.CfnAlarm(
        s,
        "Alarm",
        comparison_operator="GreaterThanUpperThreshold",
        evaluation_periods=1,
        metrics=[cpu, band],
        threshold_metric_id="band",
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold")


def test_utilization_threshold_follows_a_getatt_endpoint_name() -> None:
    s = stage_stack()
    ep = endpoint(s)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(ep.attr_endpoint_name),
        threshold=90,
    )
    assert fires(s, "prod/S/Alarm", "UtilizationThreshold")


@pytest.mark.parametrize(
    ("case", "dimensions"),
    [
        ("endpoint of no stack in the stage", variant_dimensions("dev-ep")),
        ("unknown variant", {"EndpointName": "ep", "VariantName": "challenger"}),
    ],
)
def test_utilization_threshold_leaves_foreign_endpoints_alone(
    case: str, dimensions: dict[str, str]
) -> None:
    s = stage_stack()
    endpoint(s)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=dimensions,
        threshold=90,
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold"), case


def test_utilization_threshold_skips_serverless_variants() -> None:
    s = stage_stack()
    endpoint(s, serverless=True)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(),
        threshold=90,
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold")


@pytest.mark.parametrize(
    ("instance_type", "expression", "expected"),
    [
        ("ml.m5.xlarge", "cpu / 4", False),
        ("ml.m5.xlarge", "(cpu) / 4.0", False),
        ("ml.m5.xlarge", "cpu", True),
        ("ml.m5.xlarge", "cpu / 2", True),
        ("ml.m5.xlarge", "cpu / 40", True),
        ("ml.m5.xlarge", "100 * cpu / 400", True),
        ("ml.c8g.medium", "cpu", False),  # one vCPU: nothing to divide
        ("ml.g5.2xlarge", "cpu / 8", False),  # CPUUtilization counts vCPUs, not GPUs
        ("ml.g5.2xlarge", "cpu / 1", True),
    ],
)
def test_utilization_threshold_metric_math(
    instance_type: str, expression: str, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, instance_type=instance_type)
    cpu = cloudwatch.Metric(
        namespace=metrics.INSTANCE_NAMESPACE,
        metric_name="CPUUtilization",
        dimensions_map=variant_dimensions(),
    )
    math = cloudwatch.MathExpression(expression=expression, using_metrics={"cpu": cpu})
    math.create_alarm(s, "A", threshold=90, evaluation_periods=1)
    assert fires(s, "prod/S/A/Resource", "UtilizationThreshold") is expected
