"""Variant metrics: SageMaker's namespaces and dimensions; one shared object per metric."""

from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch

from mlops_cdk.constructs.metrics import (
    ONE_MINUTE,
    error_rate,
    instance_metric,
    invocation_count,
    rate_expression,
    variant_metric,
)


def _stat(metric: cloudwatch.IMetric) -> cloudwatch.MetricStatConfig:
    stat = metric.to_metric_config().metric_stat
    assert stat is not None
    return stat


def test_a_variant_metric_names_the_endpoint_and_the_variant() -> None:
    stat = _stat(variant_metric("ep", "champion", "Invocations", "Sum"))
    assert (stat.namespace, stat.metric_name, stat.statistic) == (
        "AWS/SageMaker",
        "Invocations",
        "Sum",
    )
    assert {d.name: d.value for d in stat.dimensions or []} == {
        "EndpointName": "ep",
        "VariantName": "champion",
    }
    assert stat.period.to_seconds() == 60


def test_the_same_metric_is_one_object_and_another_is_not() -> None:
    """Asked for twice (an alarm and a dashboard graph), a metric is made once."""
    first = variant_metric("ep", "champion", "Invocations", "Sum", period=ONE_MINUTE)
    assert variant_metric("ep", "champion", "Invocations", "Sum") is first
    assert variant_metric("ep", "champion", "Invocations", "Average") is not first
    assert variant_metric("ep", "challenger", "Invocations", "Sum") is not first
    assert variant_metric("ep", "champion", "Invocations", "Sum", label="calls") is not first
    utilization = instance_metric("ep", "champion", "CPUUtilization")
    assert _stat(utilization).namespace == "/aws/sagemaker/Endpoints"
    assert instance_metric("ep", "champion", "CPUUtilization") is utilization


def test_an_error_rate_is_errors_over_invocations_and_made_once() -> None:
    rate = error_rate("ep", "champion", "Invocation5XXErrors")
    assert rate.expression == (
        "IF(inv_champion_invocation5xxerrors > 0, "
        "100 * err_champion_invocation5xxerrors / inv_champion_invocation5xxerrors, 0)"
    )
    assert _stat(rate.using_metrics["err_champion_invocation5xxerrors"]).metric_name == (
        "Invocation5XXErrors"
    )
    assert error_rate("ep", "champion", "Invocation5XXErrors") is rate
    assert error_rate("ep", "champion", "Invocation4XXErrors") is not rate


def test_an_asynchronous_error_rate_divides_by_invocations_processed() -> None:
    """An asynchronous endpoint publishes no Invocations ("Alarms and logs for tracking metrics
    from asynchronous endpoints"): its requests are counted in InvocationsProcesssed."""
    assert invocation_count(asynchronous=False) == "Invocations"
    assert invocation_count(asynchronous=True) == "InvocationsProcesssed"
    rate = error_rate("ep", "primary", "Invocation5XXErrors", invocations="InvocationsProcesssed")
    assert rate is not error_rate("ep", "primary", "Invocation5XXErrors")
    assert _stat(rate.using_metrics["inv_primary_invocation5xxerrors"]).metric_name == (
        "InvocationsProcesssed"
    )
    with pytest.raises(ValueError, match="'InvocationsPerInstance' is not Invocations or"):
        error_rate(
            "ep",
            "primary",
            "Invocation5XXErrors",
            invocations="InvocationsPerInstance",  # type: ignore[arg-type]
        )


def test_a_rate_counts_only_minutes_with_enough_requests() -> None:
    assert rate_expression("e", "n") == "IF(n > 0, 100 * e / n, 0)"  # every minute with traffic
    assert rate_expression("e", "n", 10) == "IF(n >= 10, 100 * e / n, 0)"
    quiet = error_rate("ep", "champion", "Invocation5XXErrors", min_invocations=10)
    assert quiet is not error_rate("ep", "champion", "Invocation5XXErrors")
    assert quiet.expression.startswith("IF(inv_champion_invocation5xxerrors >= 10, ")
    with pytest.raises(ValueError, match="min_count 0 is below 1"):
        rate_expression("e", "n", 0)
