"""UtilizationThreshold: a CPU/GPU utilization alarm's threshold ignores that SageMaker sums the
metric over the instance's vCPUs/GPUs."""

from __future__ import annotations

import re
from typing import Any

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.aws.instance_types import UnknownInstanceType, gpus, vcpus
from mlops_cdk.aws.sagemaker_metrics import INSTANCE_NAMESPACE, UTILIZATION_SUMMED
from mlops_cdk.aws.variant_facts import instance_types
from mlops_cdk.compliance.sagemaker.alarms import returned_expression, variant_of, watched_metrics
from mlops_cdk.compliance.sagemaker.index import ALARM_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _summed_over(metric_name: str, instance_type: Any) -> int:
    """How many vCPUs / GPUs the metric sums over; raises :class:`UnknownInstanceType`."""
    if not isinstance(instance_type, str):
        raise UnknownInstanceType(f"instance type {instance_type!r} is not a literal")
    if UTILIZATION_SUMMED[metric_name] == "vcpus":
        return vcpus(instance_type)
    return gpus(instance_type)


def _divides(expression: str, metric_id: str, count: int) -> bool:
    """``expression`` divides the metric by ``count``: ``cpu / 4``, ``(cpu) / 4.0``."""
    pattern = rf"(?<![\w.])\(?\s*{re.escape(metric_id)}\s*\)?\s*/\s*{count}(\.0*)?(?![\w.])"
    return re.search(pattern, expression) is not None


def utilization_threshold(alarm: Resource, index: StackIndex) -> Compliance:
    props = alarm.properties
    checked = False
    for metric in watched_metrics(props):
        if metric.namespace != INSTANCE_NAMESPACE or metric.name not in UTILIZATION_SUMMED:
            continue
        variant = variant_of(index, metric.dimensions)
        if variant is None or "ServerlessConfig" in variant:
            continue  # a foreign endpoint (AlarmMetricPublished), or no instances to sum over
        try:
            # With instance pools, one threshold must fit every type of the pool.
            counts = {_summed_over(metric.name, t) for t in instance_types(variant) or [None]}
        except UnknownInstanceType:
            return NON_COMPLIANT
        if len(counts) != 1:
            return NON_COMPLIANT
        count = counts.pop()
        if metric.returned:
            threshold = number(props.get("Threshold"))
            if threshold is None:
                continue  # an anomaly-detection band, not a static threshold
            checked = True
            if not (threshold <= 100 * count and (count == 1 or threshold > 100)):
                return NON_COMPLIANT
        else:
            checked = True
            expression = returned_expression(props) or ""
            if count != 1 and not _divides(expression, metric.metric_id or "", count):
                return NON_COMPLIANT
    return COMPLIANT if checked else NOT_APPLICABLE


RULE = Rule(
    "UtilizationThreshold",
    "The CPU/GPU utilization alarm's threshold does not account for SageMaker summing "
    "the metric over the instance's vCPUs/GPUs.",
    "In /aws/sagemaker/Endpoints, CPUUtilization is the sum of every vCPU's utilization "
    "(0-400 % on 4 vCPUs) and GPUUtilization / GPUMemoryUtilization the sum over the "
    "GPUs. On a multi-vCPU instance a threshold of at most 100 is a per-core figure (90 "
    "on ml.m5.xlarge fires at 22.5 % of the instance), and one above 100 x count never "
    "fires. Set the threshold to the percentage x the variant's vCPU/GPU count "
    "(mlops_cdk.aws.instance_types.vcpus / gpus), or alarm on metric math that divides by "
    "the count ('cpu / 4'). Also fails when the count of the variant's instance type is "
    "not known to mlops_cdk/aws/instance_types.py, or a GPU metric watches an instance type "
    "without GPUs.",
    utilization_threshold,
    frozenset({ALARM_TYPE}),
)
