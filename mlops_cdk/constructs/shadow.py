"""A shadow variant's alarms and the dashboard graphs that compare it with production.

SageMaker sends the shadow a copy of the production variant's requests and discards its
answers ("Testing models with shadow variants",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-shadow-deployment.html); its metrics are
published like any variant's, with its own ``VariantName`` dimension. Its alarms notify but
never roll a deployment back or retrain: nobody sees its answers.
"""

from __future__ import annotations

import dataclasses

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mlops_cdk.constructs.alarms import EndpointAlarms, error_rate, variant_metric
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.props.alarms import AlarmThresholds
from mlops_cdk.props.fields import checked_arguments

WIDTH = 12


class ShadowVariantAlarms(Construct):
    """The shadow's operational alarms (``alarms``: :class:`EndpointAlarms` with the service's
    thresholds, none of them a rollback or retraining trigger) and ``widgets``: latency and
    error rate of shadow and production side by side."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        production: str,
        shadow: str,
        instance_type: str,
        thresholds: AlarmThresholds,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=endpoint_name,
            variants={shadow: instance_type},
            thresholds=dataclasses.replace(thresholds, rollback_on=[], retrain_on=[]),
        )
        self.widgets = comparison_widgets(endpoint_name, production=production, shadow=shadow)

    @property
    def all_alarms(self) -> list[cloudwatch.Alarm]:
        return self.alarms.all_alarms


def comparison_widgets(
    endpoint_name: str, *, production: str, shadow: str
) -> list[cloudwatch.IWidget]:
    """Latency (p50, p99) and 5xx / 4xx error rates of ``shadow`` against ``production``."""
    pair = (("production", production), ("shadow", shadow))
    latency = [
        variant_metric(endpoint_name, name, "ModelLatency", stat).with_(
            label=f"{role} {name} {stat}"
        )
        for stat in ("p50", "p99")
        for role, name in pair
    ]
    errors = [
        error_rate(endpoint_name, name, metric).with_(label=f"{role} {name} {metric} %")
        for metric in ("Invocation5XXErrors", "Invocation4XXErrors")
        for role, name in pair
    ]
    return [
        cloudwatch.GraphWidget(
            title=f"Shadow {shadow} vs production {production}: model latency (microseconds)",
            left=latency,
            width=WIDTH,
        ),
        cloudwatch.GraphWidget(
            title=f"Shadow {shadow} vs production {production}: errors (% of invocations)",
            left=errors,
            width=WIDTH,
        ),
    ]
