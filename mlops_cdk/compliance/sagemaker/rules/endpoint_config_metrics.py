"""EndpointConfigMetrics: an instance-backed endpoint config leaves its CloudWatch metrics to
AWS's default.

Endpoint configurations created after 2026-06-17 turn detailed observability on unless
``MetricsConfig.EnableDetailedObservability`` says otherwise ("Getting started with detailed
observability", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-detailed-observability-getting-started.html;
SageMaker API reference "MetricsConfig"), and the extra metrics are billed: every config must
state ``EnableDetailedObservability`` and ``EnableEnhancedMetrics``, and a publish frequency AWS
accepts (10, 30, 60, 120, 180, 240 or 300 s) when it gives one. Serverless configs have no
instances and are not judged.
"""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import as_list, number
from mlops_cdk.aws.facts import METRIC_PUBLISH_FREQUENCIES_SECONDS
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

STATED = ("EnableDetailedObservability", "EnableEnhancedMetrics")


def endpoint_config_metrics(config: Resource, index: StackIndex) -> Compliance:
    del index
    variants = [v for v in as_list(config.properties.get("ProductionVariants")) if v]
    if variants and all(isinstance(v, dict) and v.get("ServerlessConfig") for v in variants):
        return NOT_APPLICABLE
    metrics = config.properties.get("MetricsConfig")
    if not isinstance(metrics, dict) or any(key not in metrics for key in STATED):
        return NON_COMPLIANT
    if "MetricPublishFrequencyInSeconds" in metrics:
        frequency = number(metrics["MetricPublishFrequencyInSeconds"])
        if frequency is not None and frequency not in METRIC_PUBLISH_FREQUENCIES_SECONDS:
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "EndpointConfigMetrics",
    "The endpoint config does not state its MetricsConfig (detailed observability, enhanced "
    "metrics) or gives a publish frequency AWS rejects.",
    "Endpoint configs created after 2026-06-17 enable detailed observability unless "
    "MetricsConfig.EnableDetailedObservability is set, and its metrics are billed ('Getting "
    "started with detailed observability'). State EnableDetailedObservability and "
    "EnableEnhancedMetrics explicitly (WeightedEndpoint's metrics=MetricsSpec(...), or "
    "services.<name>.metrics in the configuration); MetricPublishFrequencyInSeconds must be "
    "10, 30, 60, 120, 180, 240 or 300.",
    endpoint_config_metrics,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
