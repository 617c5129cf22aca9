"""A CloudWatch dashboard for one endpoint: traffic, latency, errors, instances, alarms."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mlops_cdk.aws.facts import (
    INSTANCE_NAMESPACE,
    RETRAIN_DECISION_METRIC,
    RETRAIN_DECISIONS,
    SAGEMAKER_NAMESPACE,
)
from mlops_cdk.constructs.alarms import error_rate, variant_metric
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.metrics import FIVE_MINUTES, invocation_count
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.props.fields import checked_arguments

WIDTH = 12


class EndpointDashboard(Construct):
    """Graphs per variant plus the state of every alarm given, retraining decisions when
    ``retraining_namespace`` is set (the function's embedded-metric-format namespace), and one
    graph of what every ``watches`` watches (records in failure queues, function errors,
    undelivered events) when there are any.

    ``asynchronous``: the endpoint serves asynchronous inference, which publishes no
    ``Invocations`` ("Alarms and logs for tracking metrics from asynchronous endpoints",
    https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html): traffic is
    graphed as ``InvocationsProcesssed`` and the error rates divide by it."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        variant_names: Sequence[str],
        alarms: Sequence[cloudwatch.IAlarm],
        retraining_namespace: str | None = None,
        watches: Sequence[FailureWatch] = (),
        asynchronous: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        widgets = self._variant_widgets(endpoint_name, variant_names, asynchronous=asynchronous)
        if retraining_namespace is not None:
            widgets.append(self._retraining_widget(retraining_namespace))
        failures = [metric.with_(label=label) for w in watches for label, metric in w.metrics]
        if failures:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Failures: queued records, function errors, undelivered events",
                    left=failures,
                    width=24,
                )
            )
        widgets.append(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24))
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", widgets=[widgets])

    @staticmethod
    def _variant_widgets(
        endpoint_name: str, variant_names: Sequence[str], *, asynchronous: bool
    ) -> list[cloudwatch.IWidget]:
        """Traffic, latency, errors, instances and utilization, one line per variant."""
        invocations = invocation_count(asynchronous=asynchronous)

        def per_variant(
            metric: str, statistic: str, namespace: str = SAGEMAKER_NAMESPACE
        ) -> list[cloudwatch.IMetric]:
            # The label is given to the Metric itself (as `.with_(label=...)` would set it): one
            # jsii object per line instead of two.
            return [
                variant_metric(
                    endpoint_name,
                    v,
                    metric,
                    statistic,
                    namespace=namespace,
                    label=f"{v} {metric} {statistic}",
                )
                for v in variant_names
            ]

        return [
            cloudwatch.GraphWidget(
                title=f"{invocations} per variant",
                left=per_variant(invocations, "Sum"),
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Model latency p50 / p99 (microseconds)",
                left=[*per_variant("ModelLatency", "p50"), *per_variant("ModelLatency", "p99")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Errors (% of invocations)",
                left=[
                    *(
                        error_rate(endpoint_name, v, errors, invocations=invocations)
                        for errors in ("Invocation5XXErrors", "Invocation4XXErrors")
                        for v in variant_names
                    ),
                ],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Instances (CPUUtilization samples per minute)",
                left=per_variant("CPUUtilization", "SampleCount", INSTANCE_NAMESPACE),
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="CPU / memory / disk utilization (%)",
                left=[
                    *per_variant("CPUUtilization", "Average", INSTANCE_NAMESPACE),
                    *per_variant("MemoryUtilization", "Average", INSTANCE_NAMESPACE),
                    *per_variant("DiskUtilization", "Average", INSTANCE_NAMESPACE),
                ],
                width=WIDTH,
            ),
        ]

    @staticmethod
    def _retraining_widget(namespace: str) -> cloudwatch.IWidget:
        """The retraining function's decisions (embedded-metric-format ``namespace``)."""
        return cloudwatch.GraphWidget(
            title="Retraining decisions",
            left=[
                cloudwatch.Metric(
                    namespace=namespace,
                    metric_name=RETRAIN_DECISION_METRIC,
                    dimensions_map={"Decision": decision},
                    statistic="Sum",
                    period=FIVE_MINUTES,
                    label=decision,
                )
                for decision in RETRAIN_DECISIONS
            ],
            width=WIDTH,
        )


class EnvironmentOverview(Construct):
    """One dashboard for every endpoint of an environment, without naming any: CloudWatch
    metric-math SEARCH expressions find the endpoints whose name starts with
    ``endpoint_prefix`` (``<env>-``), so services come and go without changing this template.
    ("Use search expressions in graphs", CloudWatch user guide.)"""

    @checked_arguments
    def __init__(self, scope: Construct, construct_id: str, *, endpoint_prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_prefix = endpoint_prefix

        def search(namespace: str, metric: str, statistic: str, label: str) -> cloudwatch.IMetric:
            schema = f"{{{namespace},EndpointName,VariantName}}"
            return cloudwatch.MathExpression(
                expression=f'SEARCH(\'{schema} MetricName="{metric}" '
                f"EndpointName=\"{endpoint_prefix}\"', '{statistic}', 300)",
                label=label,
                period=FIVE_MINUTES,
                using_metrics={},
            )

        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title=f"Invocations per endpoint variant ({endpoint_prefix}*)",
                left=[search(SAGEMAKER_NAMESPACE, "Invocations", "Sum", "invocations")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="5XX errors per endpoint variant",
                left=[search(SAGEMAKER_NAMESPACE, "Invocation5XXErrors", "Sum", "5xx")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Model latency p99 (microseconds)",
                left=[search(SAGEMAKER_NAMESPACE, "ModelLatency", "p99", "latency p99")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="CPU utilization (summed over vCPUs)",
                left=[search(INSTANCE_NAMESPACE, "CPUUtilization", "Average", "cpu")],
                width=WIDTH,
            ),
        ]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", widgets=[widgets])
