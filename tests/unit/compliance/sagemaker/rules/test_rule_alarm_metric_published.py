"""AlarmMetricPublished: an alarm on a metric nothing publishes (unknown SageMaker metric, an
endpoint of no stack in the stage, a metric an asynchronous endpoint does not publish, Model
Monitor, a custom namespace no policy of the stage may publish to) is non-compliant."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam

from tests.helpers import TEST_ENV
from tests.unit.compliance.sagemaker.pack_helpers import (
    alarm,
    app,
    endpoint,
    findings,
    fires,
    sibling,
    stage_stack,
    variant_dimensions,
)


@pytest.mark.parametrize(
    ("namespace", "metric", "dimensions", "expected"),
    [
        ("AWS/SageMaker", "ModelLatency", variant_dimensions(), False),
        ("AWS/SageMaker", "InvocationModelErrors", variant_dimensions(), False),
        ("AWS/SageMaker", "ModelLatencyMs", variant_dimensions(), True),  # no such metric
        ("AWS/SageMaker", "ModelLatency", variant_dimensions("dev-ep"), True),  # not this stage
        ("AWS/SageMaker", "Invocations", {}, True),  # no endpoint at all
        ("/aws/sagemaker/Endpoints", "CPUUtilization", variant_dimensions(), False),
        ("/aws/sagemaker/Endpoints", "MemoryReservation", variant_dimensions(), False),
        ("/aws/sagemaker/Endpoints", "Invocations", variant_dimensions(), True),  # namespace
        ("aws/sagemaker/Endpoints/data-metrics", "feature_baseline_drift_x", {}, True),
        ("aws/sagemaker/Endpoints/model-metrics", "accuracy", {"Endpoint": "ep"}, True),
        ("aws/sagemaker/ModelMonitoring/bias-metrics", "bias_metric_CI", {}, True),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", {}, False),
        ("/aws/sagemaker/InferenceComponents", "CPUUtilizationNormalized", {}, False),
        ("Mlops/Quality", "accuracy", {}, True),  # nothing may publish it
    ],
)
def test_alarm_metric_published(
    namespace: str, metric: str, dimensions: dict[str, str], expected: bool
) -> None:
    s = stage_stack()
    endpoint(s)
    alarm(s, namespace=namespace, metric=metric, dimensions=dimensions)
    assert fires(s, "prod/S/Alarm", "AlarmMetricPublished") is expected


def test_alarm_metric_published_accepts_a_getatt_endpoint_name() -> None:
    s = stage_stack()
    ep = endpoint(s)
    alarm(
        s,
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions(ep.attr_endpoint_name),
    )
    assert not fires(s, "prod/S/Alarm", "AlarmMetricPublished")


@pytest.mark.parametrize(("typo", "expected"), [(False, False), (True, True)])
def test_alarm_metric_published_checks_every_metric_of_metric_math(
    typo: bool, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s)

    def metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/SageMaker", metric_name=name, dimensions_map=variant_dimensions()
        )

    errors = metric("Invocation5XXError" if typo else "Invocation5XXErrors")
    rate = cloudwatch.MathExpression(
        expression="IF(inv > 0, 100 * err / inv, 0)",
        using_metrics={"err": errors, "inv": metric("Invocations")},
    )
    rate.create_alarm(s, "A", threshold=1, evaluation_periods=1)
    assert fires(s, "prod/S/A/Resource", "AlarmMetricPublished") is expected


@pytest.mark.parametrize(
    ("namespace", "metric", "asynchronous", "expected"),
    [
        # "Any metric not listed below is not published if the endpoint is enabled for
        # asynchronous inference. Such metrics include ... OverheadLatency, Invocations,
        # InvocationsPerInstance" (async-inference-monitor).
        ("AWS/SageMaker", "Invocations", True, True),
        ("AWS/SageMaker", "InvocationsPerInstance", True, True),
        ("AWS/SageMaker", "OverheadLatency", True, True),
        ("AWS/SageMaker", "Invocations", False, False),
        ("AWS/SageMaker", "OverheadLatency", False, False),
        # Listed for asynchronous endpoints: common metrics, async metrics, host metrics.
        ("AWS/SageMaker", "InvocationsProcesssed", True, False),
        ("AWS/SageMaker", "Invocation5XXErrors", True, False),
        ("AWS/SageMaker", "ModelLatency", True, False),
        ("/aws/sagemaker/Endpoints", "CPUUtilization", True, False),
    ],
)
def test_an_asynchronous_endpoint_publishes_no_invocations(
    namespace: str, metric: str, asynchronous: bool, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, asynchronous=asynchronous)
    alarm(s, namespace=namespace, metric=metric, dimensions=variant_dimensions())
    assert fires(s, "prod/S/Alarm", "AlarmMetricPublished") is expected


@pytest.mark.parametrize(
    ("invocations", "expected"), [("Invocations", True), ("InvocationsProcesssed", False)]
)
def test_an_asynchronous_error_rate_divides_by_what_it_publishes(
    invocations: str, expected: bool
) -> None:
    """The metric-math alarm's metrics count: a 5XX rate of Invocations never has data."""
    s = stage_stack()
    ep = endpoint(s, asynchronous=True)

    def metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=name,
            dimensions_map=variant_dimensions(ep.attr_endpoint_name),
        )

    rate = cloudwatch.MathExpression(
        expression="IF(inv > 0, 100 * err / inv, 0)",
        using_metrics={"err": metric("Invocation5XXErrors"), "inv": metric(invocations)},
    )
    rate.create_alarm(s, "A", threshold=1, evaluation_periods=1)
    assert fires(s, "prod/S/A/Resource", "AlarmMetricPublished") is expected


def test_an_asynchronous_endpoint_of_another_stack_of_the_stage_is_told() -> None:
    """The alarm names the endpoint by its literal name; the endpoint's own stack has its
    config (Fn::GetAtt), as the stage's other rules resolve it."""
    root = app()
    serving = stage_stack(root, stack="Serving")
    endpoint(serving, asynchronous=True)
    monitoring = sibling(serving, "Monitoring")
    alarm(monitoring, "Traffic", namespace="AWS/SageMaker", metric="Invocations",
          dimensions=variant_dimensions())  # fmt: skip
    alarm(monitoring, "Processed", namespace="AWS/SageMaker", metric="InvocationsProcesssed",
          dimensions=variant_dimensions())  # fmt: skip
    found = findings(root)
    assert ("AlarmMetricPublished", "prod/Monitoring/Traffic") in found
    assert ("AlarmMetricPublished", "prod/Monitoring/Processed") not in found


def _put_metric_statement(condition: dict[str, Any] | None) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"], conditions=condition
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, False),
        ({"StringEquals": {"cloudwatch:namespace": ["Other", "Mlops/Quality"]}}, False),
        ({"StringLike": {"cloudwatch:namespace": "Mlops/*"}}, False),
        ({"ForAnyValue:StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, False),
        ({"StringEquals": {"cloudwatch:namespace": "Mlops/Other"}}, True),
        ({"StringNotEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, True),
        ({"StringNotLike": {"cloudwatch:namespace": "Mlops/*"}}, True),
        (None, True),  # no namespace condition: not evidence of a publisher
    ],
)
def test_custom_namespace_needs_a_publisher_in_the_stage(
    condition: dict[str, Any] | None, expected: bool
) -> None:
    root = app()
    monitoring = stage_stack(root, stack="Monitoring")
    alarm(monitoring, namespace="Mlops/Quality", metric="accuracy")
    jobs = sibling(monitoring, "Jobs")
    iam.ManagedPolicy(jobs, "Publish", statements=[_put_metric_statement(condition)])
    assert fires(root, "prod/Monitoring/Alarm", "AlarmMetricPublished") is expected


def test_custom_namespace_publisher_in_a_role_inline_policy() -> None:
    s = stage_stack()
    alarm(s, namespace="Mlops/Quality", metric="accuracy")
    role = iam.Role(s, "Job", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    role.add_to_principal_policy(
        _put_metric_statement({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}})
    )
    iam.CfnRole(
        s,
        "Inline",
        assume_role_policy_document={},
        policies=[
            iam.CfnRole.PolicyProperty(
                policy_name="p",
                policy_document={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "cloudwatch:*",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": "Mlops/Inline"}},
                        }
                    ]
                },
            )
        ],
    )
    alarm(s, "Inline-Alarm", namespace="Mlops/Inline", metric="accuracy")
    assert not fires(s, "prod/S/Alarm", "AlarmMetricPublished")
    assert not fires(s, "prod/S/Inline-Alarm", "AlarmMetricPublished")


def test_publishers_and_endpoints_of_other_stages_do_not_count() -> None:
    root = app()
    dev = stage_stack(root, "dev")
    endpoint(dev, name="dev-ep")
    iam.ManagedPolicy(
        dev,
        "Publish",
        statements=[
            _put_metric_statement({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}})
        ],
    )
    prod = stage_stack(root, "prod")
    alarm(
        prod,
        "Latency",
        namespace="AWS/SageMaker",
        metric="ModelLatency",
        dimensions=variant_dimensions("dev-ep"),
    )
    alarm(prod, "Quality", namespace="Mlops/Quality", metric="accuracy")
    found = findings(root)
    assert ("AlarmMetricPublished", "prod/S/Latency") in found
    assert ("AlarmMetricPublished", "prod/S/Quality") in found


def test_stages_nested_in_a_pipeline_stack_are_their_own_stages() -> None:
    root = app()
    pipeline = cdk.Stack(root, "Pipeline", env=TEST_ENV)
    nested = cdk.Stage(pipeline, "Prod")
    serving = cdk.Stack(nested, "Serving")
    endpoint(serving, name="prod-ep")
    alarm(
        serving,
        "Inside",
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions("prod-ep"),
    )
    alarm(
        pipeline,
        "Outside",
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions("prod-ep"),
    )
    found = findings(root)
    assert ("AlarmMetricPublished", "Pipeline/Prod/Serving/Inside") not in found
    assert ("AlarmMetricPublished", "Pipeline/Outside") in found
