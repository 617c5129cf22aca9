"""CloudWatch metrics of a SageMaker endpoint variant, as SageMaker publishes them.

"Amazon SageMaker AI metrics in Amazon CloudWatch" (SageMaker developer guide,
``sagemaker/latest/dg/monitoring-cloudwatch``): request metrics of InvokeEndpoint calls are in
``AWS/SageMaker``, instance utilization in ``/aws/sagemaker/Endpoints``, both with the
dimensions ``EndpointName`` and ``VariantName``, at a 1-minute frequency. Units as documented:
``Invocations``, ``InvocationsPerInstance``, ``Invocation4XXErrors`` and ``Invocation5XXErrors``
are counts (unit None; the error metrics send a 1 per error response), ``ModelLatency`` and
``OverheadLatency`` are in microseconds, the utilization metrics in percent, where
``CPUUtilization`` is summed over vCPUs (0-400 % on four vCPUs) and ``GPUUtilization`` /
``GPUMemoryUtilization`` over GPUs.

An asynchronous endpoint publishes neither ``Invocations``, ``InvocationsPerInstance`` nor
``OverheadLatency`` ("Alarms and logs for tracking metrics from asynchronous endpoints",
https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html: "Any metric not
listed below is not published if the endpoint is enabled for asynchronous inference"); it counts
its requests in ``InvocationsProcesssed`` (AWS's spelling; ``EndpointName`` and ``VariantName``,
a count, Sum) and publishes ``Invocation4XXErrors``, ``Invocation5XXErrors`` and
``ModelLatency`` as real-time endpoints do. :func:`invocation_count` names the metric to divide
by.

No ``unit`` is set on these metrics: CloudWatch uses a metric's unit as a filter (datapoints
published with another unit are ignored, and an alarm would see none); pass ``unit=`` to a
method only when you know what SageMaker sends.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

from mlops_cdk.aws.facts import (
    ENDPOINT_DIMENSION,
    INSTANCE_NAMESPACE,
    SAGEMAKER_NAMESPACE,
    VARIANT_DIMENSION,
)
from mlops_cdk.aws.sagemaker_metrics import INVOCATIONS_PROCESSED

# Periods made once and shared: a Duration is an immutable value, and each one made is a jsii
# round trip.
ONE_MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)

INVOCATIONS: Final = "Invocations"
# The metric that counts a variant's requests: Invocations (real-time, serverless), or
# InvocationsProcesssed (asynchronous endpoints, which publish no Invocations).
InvocationCount = Literal["Invocations", "InvocationsProcesssed"]


def invocation_count(*, asynchronous: bool) -> InvocationCount:
    """``InvocationsProcesssed`` for an asynchronous endpoint, else ``Invocations``."""
    return INVOCATIONS_PROCESSED if asynchronous else INVOCATIONS


def variant_metric(
    endpoint_name: str,
    variant: str,
    metric_name: str,
    statistic: str,
    *,
    namespace: str = SAGEMAKER_NAMESPACE,
    period: cdk.Duration = ONE_MINUTE,
    label: str | None = None,
    unit: cloudwatch.Unit | None = None,
) -> cloudwatch.Metric:
    """``metric_name`` of one variant (dimensions ``EndpointName``, ``VariantName``).

    The same metric is the same (immutable) object: a service's alarms, rates and dashboard ask
    for the same metrics, and making one is a jsii round trip."""
    return _metric(
        namespace=namespace,
        metric_name=metric_name,
        endpoint_name=endpoint_name,
        variant=variant,
        statistic=statistic,
        period=period,
        label=label,
        unit=unit,
    )


@lru_cache(maxsize=1024)
def _metric(
    *,
    namespace: str,
    metric_name: str,
    endpoint_name: str,
    variant: str,
    statistic: str,
    period: cdk.Duration,
    label: str | None,
    unit: cloudwatch.Unit | None,
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={ENDPOINT_DIMENSION: endpoint_name, VARIANT_DIMENSION: variant},
        statistic=statistic,
        period=period,
        label=label,
        unit=unit,
    )


def instance_metric(
    endpoint_name: str,
    variant: str,
    metric_name: str,
    statistic: str = "Average",
    *,
    period: cdk.Duration = ONE_MINUTE,
    label: str | None = None,
    unit: cloudwatch.Unit | None = None,
) -> cloudwatch.Metric:
    """An instance metric of one variant (``/aws/sagemaker/Endpoints``)."""
    return variant_metric(
        endpoint_name,
        variant,
        metric_name,
        statistic,
        namespace=INSTANCE_NAMESPACE,
        period=period,
        label=label,
        unit=unit,
    )


def rate_expression(errors: str, count: str, min_count: int = 1) -> str:
    """Metric math: ``errors`` as a percentage of ``count`` in periods where ``count`` reaches
    ``min_count``, else 0 (no traffic, or too little for a rate to mean anything: one failed
    request in two is 50 %)."""
    if min_count < 1:
        raise ValueError(f"rate_expression: min_count {min_count} is below 1")
    condition = f"{count} > 0" if min_count == 1 else f"{count} >= {min_count}"
    return f"IF({condition}, 100 * {errors} / {count}, 0)"


def error_rate(
    endpoint_name: str,
    variant: str,
    errors_metric: str,
    *,
    period: cdk.Duration = ONE_MINUTE,
    invocations: InvocationCount = INVOCATIONS,
    min_invocations: int = 1,
) -> cloudwatch.MathExpression:
    """Errors as a percentage of ``invocations`` (the request count: ``Invocations``, or
    ``InvocationsProcesssed`` for an asynchronous endpoint, see :func:`invocation_count`); 0
    when there is no traffic, or fewer than ``min_invocations`` requests in the period
    (:func:`rate_expression`).

    Metric ids are unique per variant and error kind, so several rates can share a graph. The
    same rate is one (immutable) object, as :func:`variant_metric`: an alarm and the dashboard
    graph ask for the same rates."""
    if invocations not in (INVOCATIONS, INVOCATIONS_PROCESSED):
        raise ValueError(
            f"error_rate: invocations: {invocations!r} is not {INVOCATIONS} or "
            f"{INVOCATIONS_PROCESSED}"
        )
    return _error_rate(
        endpoint_name=endpoint_name,
        variant=variant,
        errors_metric=errors_metric,
        period=period,
        invocations=invocations,
        min_invocations=min_invocations,
    )


@lru_cache(maxsize=1024)
def _error_rate(
    *,
    endpoint_name: str,
    variant: str,
    errors_metric: str,
    period: cdk.Duration,
    invocations: InvocationCount,
    min_invocations: int,
) -> cloudwatch.MathExpression:
    suffix = re.sub(r"[^a-z0-9]", "_", f"{variant}_{errors_metric}".lower())
    # The ids are the same whichever metric counts the requests.
    errors, count = f"err_{suffix}", f"inv_{suffix}"
    return cloudwatch.MathExpression(
        expression=rate_expression(errors, count, min_invocations),
        using_metrics={
            errors: variant_metric(endpoint_name, variant, errors_metric, "Sum", period=period),
            count: variant_metric(endpoint_name, variant, invocations, "Sum", period=period),
        },
        period=period,
        label=f"{variant} {errors_metric} %",
    )
