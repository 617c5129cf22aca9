"""CloudWatch alarms for a SageMaker endpoint: operational alarms per variant, quality alarms.

Missing-data treatment is chosen per alarm:
- latency and error rates: NOT_BREACHING (no traffic is no evidence of a fault);
- CPU / memory / disk / GPU: MISSING (keep the last state while instances come and go);
- no invocations: BREACHING (absent data is exactly the condition);
- quality / drift: from the config (default IGNORE: monitoring runs publish hourly or daily).

An asynchronous endpoint (``asynchronous=True``) publishes no ``Invocations`` ("Alarms and logs
for tracking metrics from asynchronous endpoints", SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html: "Any metric not
listed below is not published if the endpoint is enabled for asynchronous inference. Such
metrics include (but are not limited to): OverheadLatency, Invocations,
InvocationsPerInstance"): its error rates divide by ``InvocationsProcesssed``, and a
no-invocations alarm is refused (it would be in ALARM for ever). ``ModelLatency``,
``Invocation4XXErrors`` and ``Invocation5XXErrors`` are published for it as for a real-time
endpoint, and the instance metrics too ("Amazon SageMaker Asynchronous Inference also includes
host-level metrics").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge
from mlops_cdk.aws.facts import INSTANCE_NAMESPACE, SAGEMAKER_NAMESPACE
from mlops_cdk.aws.instance_types import gpus, vcpus
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.metrics import (
    FIVE_MINUTES,
    INVOCATIONS,
    ONE_MINUTE,
    error_rate,
    invocation_count,
    variant_metric,
)
from mlops_cdk.props.alarms import (
    NO_INVOCATIONS_ON_ASYNC,
    AlarmThresholds,
    QualityAlarmSpec,
    duplicate_alarm_problems,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments

__all__ = [
    "INSTANCE_NAMESPACE",
    "ONE_MINUTE",
    "SAGEMAKER_NAMESPACE",
    "AlarmThresholds",
    "EndpointAlarms",
    "QualityAlarmSpec",
    "error_rate",
    "utilization_threshold",
    "variant_metric",
]

_MISSING: dict[str, cloudwatch.TreatMissingData] = {
    "breaching": cloudwatch.TreatMissingData.BREACHING,
    "not_breaching": cloudwatch.TreatMissingData.NOT_BREACHING,
    "ignore": cloudwatch.TreatMissingData.IGNORE,
    "missing": cloudwatch.TreatMissingData.MISSING,
}
_COMPARISON: dict[str, cloudwatch.ComparisonOperator] = {
    "greater_than": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "greater_than_or_equal": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "less_than": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    "less_than_or_equal": cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
}


def utilization_threshold(percent_of_instance: float, units: int) -> float:
    """SageMaker sums CPUUtilization over vCPUs and GPU metrics over GPUs ("Monitor Amazon
    SageMaker AI with Amazon CloudWatch": 0-400 % on 4 vCPUs), so a percentage of the whole
    instance is ``percent * units`` in the metric's scale."""
    return percent_of_instance * units


class EndpointAlarms(Construct):
    """Per-variant operational alarms, and quality alarms.

    ``variants`` maps each variant name to its instance type (None for a serverless variant,
    which gets no instance-utilization alarms). ``thresholds`` defaults to
    :class:`AlarmThresholds`'s values. Utilization thresholds are percentages of the whole
    instance and are scaled by the type's vCPU / GPU count; an unknown type raises.
    ``asynchronous``: the endpoint serves asynchronous inference, so its 5XX / 4XX rates divide
    by ``InvocationsProcesssed`` (it publishes no ``Invocations``) and ``thresholds`` may not
    ask for a no-invocations alarm.

    ``alarms[(variant, kind)]`` holds the operational alarms, ``quality[name]`` the quality
    ones; :meth:`for_kinds` selects operational alarms by kind, :attr:`rollback_alarms` and
    :attr:`retraining_triggers` those the thresholds and quality alarms name.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        variants: Mapping[str, str | None],
        thresholds: AlarmThresholds | None = None,
        quality_alarms: Sequence[QualityAlarmSpec] = (),
        asynchronous: bool = False,
    ) -> None:
        if not variants:
            raise ValueError("EndpointAlarms: at least one variant")
        problems = duplicate_alarm_problems(quality_alarms)
        if asynchronous and thresholds and thresholds.no_invocations_minutes is not None:
            problems.append(("thresholds.no_invocations_minutes", NO_INVOCATIONS_ON_ASYNC))
        if problems:
            raise PropProblems(problems, subject="EndpointAlarms")
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self.asynchronous = asynchronous
        self.thresholds = thresholds or AlarmThresholds()
        self.alarms: dict[tuple[str, str], cloudwatch.Alarm] = {}
        for variant, instance_type in variants.items():
            self._variant_alarms(variant, instance_type)
        self.quality_alarms = tuple(quality_alarms)
        self.quality: dict[str, cloudwatch.Alarm] = {}
        for spec in quality_alarms:
            self.quality[spec.name] = self._quality_alarm(spec)

    def _variant_alarms(self, variant: str, instance_type: str | None) -> None:
        """The operational alarms of one variant, into ``self.alarms[(variant, kind)]``."""
        endpoint_name, t = self.endpoint_name, self.thresholds
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        invocations = invocation_count(asynchronous=self.asynchronous)
        scope_v = Construct(self, f"Variant-{variant}")
        # (kind, construct id, metric, description, threshold, missing-data treatment)
        above: list[
            tuple[str, str, cloudwatch.IMetric, str, float, cloudwatch.TreatMissingData]
        ] = [
            (
                "latency",
                "Latency",
                variant_metric(endpoint_name, variant, "ModelLatency", t.latency_statistic),
                f"ModelLatency {t.latency_statistic} above {t.latency_ms:g} ms",
                t.latency_ms * 1000,  # ModelLatency is in microseconds
                not_breaching,
            ),
            *(
                (
                    kind,
                    kind.title().replace("_", ""),
                    error_rate(
                        endpoint_name,
                        variant,
                        metric,
                        invocations=invocations,
                        min_invocations=t.min_invocations,
                    ),
                    f"{metric} above {limit:g}% of invocations{t.rate_floor}",
                    limit,
                    not_breaching,
                )
                for kind, metric, limit in (
                    ("errors_5xx", "Invocation5XXErrors", t.errors_5xx_percent),
                    ("errors_4xx", "Invocation4XXErrors", t.errors_4xx_percent),
                )
            ),
            *self._utilization(endpoint_name, variant, instance_type, t),
        ]
        for kind, alarm_id, metric, description, threshold, missing in above:
            self.alarms[(variant, kind)] = cloudwatch.Alarm(
                scope_v,
                alarm_id,
                metric=metric,
                alarm_description=f"{variant}: {description}",
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=missing,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints_to_alarm,
            )
        if t.no_invocations_minutes is not None:
            self.alarms[(variant, "no_invocations")] = self._no_invocations_alarm(
                scope_v, variant, t.no_invocations_minutes
            )

    def _no_invocations_alarm(
        self, scope_v: Construct, variant: str, minutes: int
    ) -> cloudwatch.Alarm:
        """Alarms when a variant gets no invocation for ``minutes`` (5-minute sums)."""
        return variant_metric(
            self.endpoint_name,
            variant,
            INVOCATIONS,
            "Sum",
            period=FIVE_MINUTES,
        ).create_alarm(
            scope_v,
            "NoInvocations",
            alarm_description=f"{variant}: no invocations for {minutes} minutes",
            threshold=1,
            evaluation_periods=math.ceil(minutes / 5),
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )

    def _quality_alarm(self, spec: QualityAlarmSpec) -> cloudwatch.Alarm:
        """One quality alarm; acknowledged when its metric is published outside this app."""
        quality_metric = cloudwatch.Metric(
            namespace=spec.namespace,
            metric_name=spec.metric_name,
            dimensions_map=dict(sorted(spec.dimensions.items())) or None,
            statistic=spec.statistic,
            period=cdk.Duration.minutes(spec.period_minutes),
        )
        alarm = quality_metric.create_alarm(
            self,
            f"Quality-{spec.name}",
            alarm_description=spec.description
            or f"{spec.metric_name} {spec.comparison} {spec.threshold:g}",
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            comparison_operator=_COMPARISON[spec.comparison],
            treat_missing_data=_MISSING[spec.missing_data],
        )
        if spec.published_by is not None:
            # A custom namespace nothing in this app publishes: the configured publisher is
            # the reason, visible in the review report and the acknowledgement audit.
            acknowledge(
                alarm,
                "MlopsSageMaker-AlarmMetricPublished",
                f"{spec.namespace}/{spec.metric_name} is published outside this app, by "
                f"{spec.published_by}",
            )
        return alarm

    @staticmethod
    def _utilization(
        endpoint_name: str, variant: str, instance_type: str | None, t: AlarmThresholds
    ) -> list[tuple[str, str, cloudwatch.IMetric, str, float, cloudwatch.TreatMissingData]]:
        """(kind, id, metric, description, threshold, missing) for the instance metrics."""
        memory: tuple[str, str, float, int, str] = (
            "memory", "MemoryUtilization", t.memory_percent, 1, ""
        )  # fmt: skip
        if instance_type is None:
            # Serverless: no instances, but "Monitor a serverless endpoint" lists
            # MemoryUtilization among the metrics serverless endpoints publish (in
            # /aws/sagemaker/Endpoints): the only utilization alarm, and the one that tells a
            # too-small memory_size_mb.
            specs = [memory]
            gpu_count = 0
        else:
            cpus, gpu_count = vcpus(instance_type), gpus(instance_type)
            specs = [
                ("cpu", "CPUUtilization", t.cpu_percent, cpus, "vCPU"),
                memory,
                ("disk", "DiskUtilization", t.disk_percent, 1, ""),
            ]
        host = "instance" if instance_type is not None else "serverless memory size"
        if gpu_count:
            specs += [
                ("gpu", "GPUUtilization", t.gpu_percent, gpu_count, "GPU"),
                ("gpu_memory", "GPUMemoryUtilization", t.gpu_memory_percent, gpu_count, "GPU"),
            ]
        alarms: list[
            tuple[str, str, cloudwatch.IMetric, str, float, cloudwatch.TreatMissingData]
        ] = []
        for kind, metric, percent, units, unit in specs:
            threshold = utilization_threshold(percent, units)
            scaled = f" ({threshold:g} summed over {units} {unit}s)" if unit else ""
            alarms.append(
                (
                    kind,
                    "".join(part.title() for part in kind.split("_")),
                    variant_metric(
                        endpoint_name, variant, metric, "Average", namespace=INSTANCE_NAMESPACE
                    ),
                    f"{metric} above {percent:g}% of the {host}{scaled}",
                    threshold,
                    cloudwatch.TreatMissingData.MISSING,
                )
            )
        return alarms

    def for_kinds(self, kinds: Sequence[str]) -> list[cloudwatch.Alarm]:
        """Operational alarms of these kinds, every variant, in a stable order."""
        return [alarm for (_, kind), alarm in self.alarms.items() if kind in kinds]

    @property
    def rollback_alarms(self) -> list[cloudwatch.Alarm]:
        """The alarms deployment guardrails roll back on (``thresholds.rollback_on``)."""
        return self.for_kinds(self.thresholds.rollback_on)

    @property
    def retraining_triggers(self) -> list[cloudwatch.Alarm]:
        """Quality alarms marked ``retrain``, then the operational kinds in
        ``thresholds.retrain_on``."""
        return [
            *(self.quality[spec.name] for spec in self.quality_alarms if spec.retrain),
            *self.for_kinds(self.thresholds.retrain_on),
        ]

    @property
    def all_alarms(self) -> list[cloudwatch.Alarm]:
        return [*self.alarms.values(), *self.quality.values()]
