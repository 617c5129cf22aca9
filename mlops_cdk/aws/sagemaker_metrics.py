"""AWS facts about SageMaker AI hosting that templates are checked against (offline, pure).

Sources (AWS documentation page titles):

- "Amazon SageMaker AI metrics in Amazon CloudWatch" (``sagemaker/latest/dg/monitoring-cloudwatch``,
  earlier titled "Monitor Amazon SageMaker with Amazon CloudWatch"): sections "SageMaker AI
  endpoint metrics", "SageMaker AI endpoint invocation metrics", "SageMaker AI inference component
  metrics", "SageMaker AI multi-model endpoint metrics", "SageMaker AI job metrics".
- Model Monitor namespaces: "CloudWatch Metrics" (Model Monitor, data quality), "CloudWatch Metrics
  for Bring Your Own Containers", "Model quality metrics and Amazon CloudWatch monitoring",
  "CloudWatch Metrics for Bias Drift Analysis", "CloudWatch Metrics for Feature Attribution Drift
  Analysis"; availability: "Amazon SageMaker Model Monitor availability change" (Model Monitor is
  no longer open to new customers).
- Deployment step sizes: SageMaker API Reference "TrafficRoutingConfig" and "CapacitySize" (the
  CloudFormation page "AWS::SageMaker::Endpoint TrafficRoutingConfig" says the same).

The rules of :mod:`mlops_cdk.compliance.sagemaker` use these facts; nothing here imports CDK.
"""

from __future__ import annotations

from typing import Final, Literal

from mlops_cdk.aws.facts import INSTANCE_NAMESPACE, SAGEMAKER_NAMESPACE

# Deployment guardrails: one implementation, in mlops_cdk/aws/guardrails.py (re-exported here for
# the rules).
from mlops_cdk.aws.guardrails import (
    CANARY_MAX_SHARE,
    LINEAR_MAX_SHARE,
    LINEAR_MIN_SHARE,
    STEP_TYPES,
    StepType,
    effective_step,
    step_share,
    step_within_limits,
)

__all__ = [
    "CANARY_MAX_SHARE",
    "INSTANCE_NAMESPACE",
    "LINEAR_MAX_SHARE",
    "LINEAR_MIN_SHARE",
    "SAGEMAKER_NAMESPACE",
    "STEP_TYPES",
    "StepType",
    "effective_step",
    "step_share",
    "step_within_limits",
]

# --- CloudWatch namespaces -------------------------------------------------------------------

# SAGEMAKER_NAMESPACE (AWS/SageMaker, "SageMaker AI endpoint invocation metrics": request metrics
# from InvokeEndpoint calls) and INSTANCE_NAMESPACE (/aws/sagemaker/Endpoints, "SageMaker AI
# endpoint metrics": per-instance utilization) are kept once, in mlops_cdk/aws/facts.py.
# "SageMaker AI inference component metrics".
INFERENCE_COMPONENT_NAMESPACE = "/aws/sagemaker/InferenceComponents"
# "SageMaker AI job metrics": processing, training and batch transform instances.
JOB_NAMESPACES: frozenset[str] = frozenset(
    {"/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs", "/aws/sagemaker/TransformJobs"}
)
# Every namespace SageMaker AI itself publishes to besides AWS/SageMaker (which starts "AWS/").
SAGEMAKER_PUBLISHED_NAMESPACES: frozenset[str] = frozenset(
    {INSTANCE_NAMESPACE, INFERENCE_COMPONENT_NAMESPACE, *JOB_NAMESPACES}
)

# --- AWS/SageMaker: endpoint metrics (dimensions EndpointName, VariantName) ----------------------

# "SageMaker AI endpoint invocation metrics" table.
ENDPOINT_INVOCATION_METRICS: frozenset[str] = frozenset(
    {
        "ConcurrentRequestsPerCopy",  # inference components, per copy
        "ConcurrentRequestsPerModel",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationModelErrors",
        "Invocations",
        "InvocationsPerCopy",  # inference components, per copy
        "InvocationsPerInstance",
        "ModelLatency",  # microseconds
        "ModelSetupTime",  # serverless endpoints, microseconds
        "OverheadLatency",  # microseconds
    }
)
# "SageMaker AI multi-model endpoint metrics": model loading metrics, also in AWS/SageMaker.
MULTI_MODEL_LOADING_METRICS: frozenset[str] = frozenset(
    {
        "ModelCacheHit",
        "ModelDownloadingTime",
        "ModelLoadingTime",
        "ModelLoadingWaitTime",
        "ModelUnloadingTime",
    }
)
# "Alarms and logs for tracking metrics from asynchronous endpoints"
# (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html), AWS/SageMaker:
# with EndpointName only: the backlog and the oldest request's age; with EndpointName and
# VariantName: the rest (note AWS's spelling "InvocationsProcesssed"). HasBacklogWithoutCapacity
# (EndpointName) is the metric "Autoscale an asynchronous endpoint" scales up from zero on.
APPROXIMATE_BACKLOG_SIZE = "ApproximateBacklogSize"
APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE = "ApproximateBacklogSizePerInstance"
APPROXIMATE_AGE_OF_OLDEST_REQUEST = "ApproximateAgeOfOldestRequest"
HAS_BACKLOG_WITHOUT_CAPACITY = "HasBacklogWithoutCapacity"
INVOCATION_FAILURES = "InvocationFailures"
NOTIFICATION_FAILURES = "NotificationFailures"
# "Number of async invocations processed by the endpoint" (Count, Sum; EndpointName and
# VariantName): what counts an asynchronous variant's requests, as Invocations does a real-time
# one's.
INVOCATIONS_PROCESSED: Final = "InvocationsProcesssed"
ASYNC_ENDPOINT_METRICS: frozenset[str] = frozenset(
    {
        APPROXIMATE_BACKLOG_SIZE,
        APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
        APPROXIMATE_AGE_OF_OLDEST_REQUEST,
        HAS_BACKLOG_WITHOUT_CAPACITY,
        INVOCATION_FAILURES,
        "ExpiredRequests",
        INVOCATIONS_PROCESSED,
        NOTIFICATION_FAILURES,
        "RequestDownloadFailures",
        "RequestDownloadLatency",  # microseconds
        "ResponseUploadFailures",
        "ResponseUploadLatency",  # microseconds
        "TimeInBacklog",  # microseconds
        "TotalProcessingTime",  # milliseconds
    }
)
ENDPOINT_METRICS: frozenset[str] = (
    ENDPOINT_INVOCATION_METRICS | MULTI_MODEL_LOADING_METRICS | ASYNC_ENDPOINT_METRICS
)
# The same page: "Any metric not listed below is not published if the endpoint is enabled for
# asynchronous inference. Such metrics include (but are not limited to): OverheadLatency,
# Invocations, InvocationsPerInstance". Of the real-time invocation metrics it lists only
# Invocation4XXErrors, Invocation5XXErrors and ModelLatency.
NOT_PUBLISHED_FOR_ASYNC_ENDPOINTS: frozenset[str] = frozenset(
    {"Invocations", "InvocationsPerInstance", "OverheadLatency"}
)

# --- Inference components (dimension InferenceComponentName) -------------------------------------

# "Amazon SageMaker AI metrics in Amazon CloudWatch": the AWS/SageMaker invocation metrics are also
# published per inference component ("Dimensions for endpoint invocation metrics":
# InferenceComponentName), and /aws/sagemaker/InferenceComponents holds each component's
# normalized utilization. "Scale an endpoint to zero instances"
# (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html):
# SageMaker emits NoCapacityInvocationFailures (AWS/SageMaker, InferenceComponentName) when a
# request reaches an endpoint with no instance to serve it.
INFERENCE_COMPONENT_DIMENSION = "InferenceComponentName"
NO_CAPACITY_INVOCATION_FAILURES = "NoCapacityInvocationFailures"
COMPONENT_INVOCATION_METRICS: frozenset[str] = ENDPOINT_INVOCATION_METRICS | {
    NO_CAPACITY_INVOCATION_FAILURES
}
COMPONENT_UTILIZATION_METRICS: frozenset[str] = frozenset(
    {
        "CPUUtilizationNormalized",
        "GPUMemoryUtilizationNormalized",
        "GPUUtilizationNormalized",
        "MemoryUtilizationNormalized",
    }
)

# --- /aws/sagemaker/Endpoints: instance metrics (dimensions EndpointName, VariantName) ----------

# "SageMaker AI endpoint metrics" table. CPUUtilization is the sum over vCPUs (0-400 % on four
# vCPUs), GPUUtilization and GPUMemoryUtilization the sum over GPUs; Memory/DiskUtilization are
# 0-100 %. The *Normalized and *Reservation metrics exist only for endpoints that host inference
# components.
ENDPOINT_INSTANCE_METRICS: frozenset[str] = frozenset(
    {
        "CPUReservation",
        "CPUUtilization",
        "CPUUtilizationNormalized",
        "DiskUtilization",
        "GPUMemoryUtilization",
        "GPUMemoryUtilizationNormalized",
        "GPUReservation",
        "GPUUtilization",
        "GPUUtilizationNormalized",
        "MemoryReservation",
        "MemoryUtilization",
    }
)
# "SageMaker AI multi-model endpoint metrics": model instance metrics in /aws/sagemaker/Endpoints.
MULTI_MODEL_INSTANCE_METRICS: frozenset[str] = frozenset({"LoadedModelCount"})
INSTANCE_METRICS: frozenset[str] = ENDPOINT_INSTANCE_METRICS | MULTI_MODEL_INSTANCE_METRICS

# Instance metrics summed over the instance's vCPUs or GPUs (range 0 to 100 * count), and which
# count (``mlops_cdk.aws.instance_types.vcpus`` / ``gpus``) scales them.
UTILIZATION_SUMMED: dict[str, Literal["vcpus", "gpus"]] = {
    "CPUUtilization": "vcpus",
    "GPUUtilization": "gpus",
    "GPUMemoryUtilization": "gpus",
}

# --- SageMaker Model Monitor (closed to new customers) -----------------------------------------

# As documented, including the pages' inconsistent spellings: "CloudWatch Metrics" (data quality,
# ".../data-metric"), "CloudWatch Metrics for Bring Your Own Containers" ("/aws/sagemaker/
# Endpoint/data-metrics"), "Model quality metrics and Amazon CloudWatch monitoring"
# (model-metrics), "CloudWatch Metrics for Bias Drift Analysis" (bias-metrics), "CloudWatch
# Metrics for Feature Attribution Drift Analysis" (explainability-metrics). Real-time endpoints
# use aws/sagemaker/Endpoints/..., batch transform jobs aws/sagemaker/ModelMonitoring/....
MODEL_MONITOR_NAMESPACES: frozenset[str] = frozenset(
    {
        "aws/sagemaker/Endpoints/data-metrics",
        "aws/sagemaker/Endpoints/model-metrics",
        "aws/sagemaker/Endpoints/bias-metrics",
        "aws/sagemaker/Endpoints/explainability-metrics",
        "aws/sagemaker/ModelMonitoring/data-metrics",
        "aws/sagemaker/ModelMonitoring/model-metrics",
        "aws/sagemaker/ModelMonitoring/bias-metrics",
        "aws/sagemaker/ModelMonitoring/explainability-metrics",
        "/aws/sagemaker/Endpoints/data-metric",
        "/aws/sagemaker/ModelMonitoring/data-metric",
        "/aws/sagemaker/Endpoint/data-metrics",
        "/aws/sagemaker/ModelMonitoring/data-metrics",
    }
)
_MODEL_MONITOR_PREFIXES = (
    "aws/sagemaker/endpoints/",
    "aws/sagemaker/endpoint/",
    "aws/sagemaker/modelmonitoring",
)


def is_model_monitor_namespace(namespace: str) -> bool:
    """A documented Model Monitor namespace, in any of its spellings (with or without the
    leading slash, ``Endpoint`` or ``Endpoints``, ``...-metric`` or ``...-metrics``)."""
    if namespace in MODEL_MONITOR_NAMESPACES:
        return True
    return namespace.lstrip("/").lower().startswith(_MODEL_MONITOR_PREFIXES)


def is_aws_published_namespace(namespace: str) -> bool:
    """``AWS/<service>`` namespaces, and the ``/aws/sagemaker/...`` ones SageMaker AI publishes."""
    return namespace.startswith("AWS/") or namespace in SAGEMAKER_PUBLISHED_NAMESPACES
