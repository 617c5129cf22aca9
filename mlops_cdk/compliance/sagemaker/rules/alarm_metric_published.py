"""AlarmMetricPublished: an alarm watches a metric that nothing publishes.

An asynchronous endpoint (its endpoint config has ``AsyncInferenceConfig``) publishes neither
``Invocations``, ``InvocationsPerInstance`` nor ``OverheadLatency``: "Alarms and logs for tracking
metrics from asynchronous endpoints" (SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html) says "Any metric not
listed below is not published if the endpoint is enabled for asynchronous inference. Such metrics
include (but are not limited to): OverheadLatency, Invocations, InvocationsPerInstance". An alarm
on one of them, or an error rate that divides by ``Invocations``, never fires there: the endpoint
counts its requests in ``InvocationsProcesssed``. The rule tells when the alarm's
``EndpointName`` resolves to an endpoint of the stage (as for every SageMaker metric) whose
endpoint config it can find (a ``Fn::GetAtt`` in the endpoint's stack, or a literal config name
of the stage).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from mlops_cdk.aws.sagemaker_metrics import (
    COMPONENT_INVOCATION_METRICS,
    COMPONENT_UTILIZATION_METRICS,
    ENDPOINT_METRICS,
    INFERENCE_COMPONENT_DIMENSION,
    INFERENCE_COMPONENT_NAMESPACE,
    INSTANCE_METRICS,
    INSTANCE_NAMESPACE,
    NOT_PUBLISHED_FOR_ASYNC_ENDPOINTS,
    SAGEMAKER_NAMESPACE,
    is_aws_published_namespace,
    is_model_monitor_namespace,
)
from mlops_cdk.compliance.sagemaker.alarms import stage_endpoint, watched_metrics
from mlops_cdk.compliance.sagemaker.index import (
    ALARM_TYPE,
    INFERENCE_COMPONENT_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _component_published(index: StackIndex, namespace: str, name: str, component: object) -> bool:
    """An inference component metric (``InferenceComponentName``) of a component this stage
    defines, by its literal name."""
    known = (
        COMPONENT_INVOCATION_METRICS
        if namespace == SAGEMAKER_NAMESPACE
        else COMPONENT_UTILIZATION_METRICS
    )
    defined = {
        resource.properties.get("InferenceComponentName")
        for _, resource in index.stage().of_type(INFERENCE_COMPONENT_TYPE)
    }
    return name in known and isinstance(component, str) and component in defined


def _endpoint_publishes(
    index: StackIndex, namespace: str, name: str, endpoint_name: object
) -> bool:
    """The endpoint ``endpoint_name`` names publishes the metric: a documented one, the
    endpoint is the stage's, and an asynchronous endpoint's metric is not one it lacks."""
    known = ENDPOINT_METRICS if namespace == SAGEMAKER_NAMESPACE else INSTANCE_METRICS
    found = stage_endpoint(index, endpoint_name)
    if name not in known or found is None:
        return False
    if namespace == SAGEMAKER_NAMESPACE and name in NOT_PUBLISHED_FOR_ASYNC_ENDPOINTS:
        stage, stack, endpoint = found
        config = stage.endpoint_config_of(stack, endpoint)
        if config is not None and config.properties.get("AsyncInferenceConfig"):
            return False
    return True


def alarm_metric_published(alarm: Resource, index: StackIndex) -> Compliance:
    metrics = watched_metrics(alarm.properties)
    if not metrics:
        return NOT_APPLICABLE
    for metric in metrics:
        namespace, name = metric.namespace, metric.name
        if not isinstance(namespace, str) or not isinstance(name, str):
            continue  # a token: cannot tell
        component = metric.dimensions.get(INFERENCE_COMPONENT_DIMENSION)
        if namespace in (SAGEMAKER_NAMESPACE, INFERENCE_COMPONENT_NAMESPACE) and component:
            if not _component_published(index, namespace, name, component):
                return NON_COMPLIANT
        elif namespace in (SAGEMAKER_NAMESPACE, INSTANCE_NAMESPACE):
            endpoint_name = metric.dimensions.get("EndpointName")
            if not _endpoint_publishes(index, namespace, name, endpoint_name):
                return NON_COMPLIANT
        elif is_model_monitor_namespace(namespace):
            return NON_COMPLIANT
        elif is_aws_published_namespace(namespace):
            continue
        else:
            exact, patterns = index.stage().put_metric_namespaces()
            if namespace not in exact and not any(fnmatchcase(namespace, p) for p in patterns):
                return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "AlarmMetricPublished",
    "The alarm watches a metric that nothing publishes.",
    "An alarm on a metric that is never published stays in INSUFFICIENT_DATA (or its "
    "missing-data state) and never fires. SageMaker metrics must be documented ones "
    "(AWS/SageMaker endpoint invocation metrics, /aws/sagemaker/Endpoints instance "
    "metrics; see mlops_cdk/aws/sagemaker_metrics.py) with an EndpointName dimension "
    "naming an endpoint this stage defines (a literal EndpointName, or Fn::GetAtt in the same "
    "stack), or an InferenceComponentName naming an inference component this stage defines "
    "(AWS/SageMaker invocation metrics, NoCapacityInvocationFailures, "
    "/aws/sagemaker/InferenceComponents utilization): an alarm of one environment watching "
    "another's endpoint fails here. An asynchronous endpoint (endpoint config with "
    "AsyncInferenceConfig) publishes no Invocations, InvocationsPerInstance or "
    "OverheadLatency: an alarm on one of them (a metric-math alarm's metrics included, such as "
    "an error rate divided by Invocations) fails; divide by InvocationsProcesssed (AWS's "
    "spelling) instead (EndpointAlarms(asynchronous=True) does), see "
    "https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html. "
    "SageMaker Model Monitor namespaces fail: Model Monitor is closed to new customers "
    "and nothing in this app creates a monitoring schedule. Other AWS/ namespaces pass. "
    "A custom namespace passes when an IAM policy of this stage allows "
    "cloudwatch:PutMetricData with a cloudwatch:namespace condition naming it; "
    "otherwise acknowledge the finding with a reason naming the publisher.",
    alarm_metric_published,
    frozenset({ALARM_TYPE}),
)
