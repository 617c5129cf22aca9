"""What an alarm watches, and which endpoint variant of the stage its dimensions name (shared
by the UtilizationThreshold and AlarmMetricPublished rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id
from mlops_cdk.compliance.sagemaker.endpoints import variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex, StageIndex


@dataclass(frozen=True)
class WatchedMetric:
    """One metric an alarm watches: the alarm's own, or a MetricStat of its metric math."""

    metric_id: str | None  # None for the alarm's top-level metric
    namespace: Any
    name: Any
    dimensions: dict[str, Any]
    returned: bool  # the alarm evaluates this metric itself (not through an expression)


def _dimensions(metric: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(d.get("Name")): d.get("Value")
        for d in as_list(metric.get("Dimensions"))
        if isinstance(d, dict)
    }


def watched_metrics(props: Mapping[str, Any]) -> list[WatchedMetric]:
    """The alarm's metric, or the MetricStats of its metric math (expressions are skipped)."""
    if props.get("MetricName") is not None:
        namespace, name = props.get("Namespace"), props["MetricName"]
        return [WatchedMetric(None, namespace, name, _dimensions(props), returned=True)]
    watched = []
    for query in as_list(props.get("Metrics")):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if not isinstance(metric, dict):
            continue
        namespace, name = metric.get("Namespace"), metric.get("MetricName")
        metric_id = query.get("Id")
        watched.append(
            WatchedMetric(
                metric_id if isinstance(metric_id, str) else None,
                namespace,
                name,
                _dimensions(metric),
                returned=query.get("ReturnData") is not False,
            )
        )
    return watched


def returned_expression(props: Mapping[str, Any]) -> str | None:
    """The metric math expression the alarm evaluates, if it evaluates one."""
    for query in as_list(props.get("Metrics")):
        if (
            isinstance(query, dict)
            and "Expression" in query
            and query.get("ReturnData") is not False
        ):
            expression = query["Expression"]
            return expression if isinstance(expression, str) else None
    return None


def stage_endpoint(index: StackIndex, name: Any) -> tuple[StageIndex, StackIndex, Resource] | None:
    """The endpoint an alarm's EndpointName dimension names: a literal name defined in the
    stage, or a ``Fn::GetAtt`` to an endpoint of the alarm's stack."""
    stage = index.stage()
    if isinstance(name, str):
        found = stage.endpoints_named(name)
        return (stage, *found[0]) if found else None
    logical_id = referenced_logical_id(name)
    if logical_id is not None:
        endpoint = index.by_logical_id(logical_id)
        if endpoint is not None and endpoint.type == ENDPOINT_TYPE:
            return stage, index, endpoint
    return None


def variant_of(index: StackIndex, dimensions: Mapping[str, Any]) -> dict[str, Any] | None:
    """The production variant an alarm's EndpointName/VariantName dimensions name, if the
    stage defines it."""
    found = stage_endpoint(index, dimensions.get("EndpointName"))
    if found is None:
        return None
    stage, stack, endpoint = found
    config = stage.endpoint_config_of(stack, endpoint)
    if config is None:
        return None
    for variant in variants(config.properties):
        if variant.get("VariantName") == dimensions.get("VariantName"):
            return variant
    return None
