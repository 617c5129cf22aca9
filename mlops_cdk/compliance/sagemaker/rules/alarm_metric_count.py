"""AlarmMetricCount: a metric math alarm reads more metrics than CloudWatch allows one alarm.

"Alarms based on metric math expressions can have up to 10 metrics" (CloudWatch service quotas,
"Alarms"). The CloudFormation resource schema does not bound ``Metrics``, so
cfn-lint passes an alarm that PutMetricAlarm then refuses and the stack rolls back. Alarms that
grow with a configuration reach it: an error rate summed over every variant of an endpoint reads
two metrics per variant. The count is of the ``Metrics`` entries that retrieve a metric
(``MetricStat``); expressions are not metrics.
"""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import as_list
from mlops_cdk.compliance.sagemaker.index import ALARM_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

MAX_ALARM_METRICS = 10


def alarm_metric_count(alarm: Resource, stack: StackIndex) -> Compliance:
    del stack
    queries = as_list(alarm.properties.get("Metrics"))
    if not queries:
        return NOT_APPLICABLE  # a single-metric alarm
    metrics = sum(1 for q in queries if isinstance(q, dict) and "MetricStat" in q)
    return COMPLIANT if metrics <= MAX_ALARM_METRICS else NON_COMPLIANT


RULE = Rule(
    "AlarmMetricCount",
    "The metric math alarm reads more than the 10 metrics CloudWatch allows one alarm: "
    "PutMetricAlarm refuses it.",
    "Alarm on fewer metrics: split it (one alarm per variant or group, joined by a composite "
    "alarm), or watch a metric that is already aggregated.",
    alarm_metric_count,
    frozenset({ALARM_TYPE}),
)
