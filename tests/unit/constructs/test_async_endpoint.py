"""Asynchronous endpoints: WeightedEndpoint's AsyncInferenceConfig, the execution role's and
submitters' access, backlog scaling with the wake-from-zero policy, and the async alarms."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.async_access import (
    AsyncExecutionAccess,
    AsyncNotificationTopics,
    AsyncOutput,
    AsyncSubmitters,
)
from mlops_cdk.constructs.async_scaling import AsyncEndpointAlarms, AsyncEndpointScaling
from mlops_cdk.constructs.endpoint import WeightedEndpoint
from mlops_cdk.props.async_inference import (
    AsyncAlarms,
    AsyncNotifications,
    AsyncScaling,
    async_prefixes,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.scaling import InstanceAutoscaling
from mlops_cdk.props.variants import VariantSpec
from tests.helpers import new_stack, resources_of_type
from tests.unit.constructs.variant_helpers import models_of, on_instances, serverless

INPUT, OUTPUT, FAILURES = async_prefixes("documents")
VARIANT = on_instances("primary", "m", 1, "ml.m5.large", 1)


def _endpoint(notifications: AsyncNotifications | None = None) -> dict[str, Any]:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    topics = AsyncNotificationTopics(
        stack, "Topics", key=key, spec=notifications or AsyncNotifications()
    )
    access = AsyncExecutionAccess(
        stack, "Access", role=role, bucket=bucket, input_prefix=INPUT, output_prefix=OUTPUT,
        failure_prefix=FAILURES, topics=topics.topics,
    )  # fmt: skip
    WeightedEndpoint(
        stack,
        "Endpoint",
        endpoint_name="dev-documents",
        variants=[VARIANT],
        models=models_of([VARIANT]),
        key=key,
        async_output=AsyncOutput(
            bucket=bucket, output_prefix=OUTPUT, failure_prefix=FAILURES, topics=topics,
            max_concurrent_invocations_per_instance=4, policies=[access.policy],
        ),
    )  # fmt: skip
    return Template.from_stack(stack).to_json()


def test_async_config_writes_under_the_service_prefixes_with_the_key() -> None:
    template = _endpoint()
    [config] = resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
    settings = config["Properties"]["AsyncInferenceConfig"]
    assert settings["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    output = settings["OutputConfig"]
    assert output["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    assert output["S3OutputPath"]["Fn::Join"][1][-1] == "/async/documents/output"
    assert output["S3FailurePath"]["Fn::Join"][1][-1] == "/async/documents/failures"
    assert set(output["NotificationConfig"]) == {"SuccessTopic", "ErrorTopic"}


def test_the_endpoint_waits_for_the_execution_access() -> None:
    template = _endpoint()
    [endpoint] = resources_of_type(template, "AWS::SageMaker::Endpoint").values()
    [(policy_id, policy)] = [
        (k, v)
        for k, v in resources_of_type(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("Access")
    ]
    assert policy_id in endpoint["DependsOn"]
    sids = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(sids) == {"ReadAsyncRequests", "WriteAsyncResults", "PublishAsyncNotifications"}
    assert sids["ReadAsyncRequests"]["Action"] == "s3:GetObject"


def test_only_the_asked_topics_and_responses() -> None:
    template = _endpoint(AsyncNotifications(success=False, include_response=True))
    [config] = resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
    notification = config["Properties"]["AsyncInferenceConfig"]["OutputConfig"][
        "NotificationConfig"
    ]
    assert set(notification) == {"ErrorTopic", "IncludeInferenceResponseIn"}
    assert notification["IncludeInferenceResponseIn"] == ["ERROR_NOTIFICATION_TOPIC"]
    assert len(resources_of_type(template, "AWS::SNS::Topic")) == 1


@pytest.mark.parametrize(
    ("variants", "shadows", "line"),
    [
        (
            [VARIANT],
            [on_instances("shadow", "m", 1, "ml.m5.large", 1)],
            "shadow_variants: SageMaker runs no shadow on asynchronous endpoints",
        ),
        (
            [serverless("primary", "m", 1, 2048, 5)],
            [],
            "variants[0].serverless: asynchronous endpoints run on instances",
        ),
        (
            [
                on_instances(
                    "primary",
                    "m",
                    1,
                    "ml.m5.large",
                    1,
                    autoscaling=InstanceAutoscaling(
                        min_capacity=1, max_capacity=2, target_value=100
                    ),
                )
            ],
            [],
            "variants[0].instance.autoscaling: an asynchronous endpoint scales on its backlog",
        ),
    ],
)
def test_an_async_endpoint_refuses_what_the_configuration_refuses(
    variants: list[VariantSpec], shadows: list[VariantSpec], line: str
) -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(PropProblems) as raised:
        WeightedEndpoint(
            stack,
            "Endpoint",
            variants=variants,
            shadow_variants=shadows,
            models={"m": "m"},
            async_output=AsyncOutput(bucket=bucket, output_prefix=OUTPUT, failure_prefix=FAILURES),
        )
    assert str(raised.value).startswith(f"WeightedEndpoint: {line}")


def test_an_async_endpoint_has_one_instance_variant() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError, match=r"^WeightedEndpoint: variants: 2 variants; an asynch"):
        WeightedEndpoint(
            stack,
            "Endpoint",
            variants=[VARIANT, on_instances("b", "m", 1, "ml.m5.large", 1)],
            models={"m": "m"},
            async_output=AsyncOutput(bucket=bucket, output_prefix=OUTPUT, failure_prefix=FAILURES),
        )


@pytest.mark.parametrize(("minimum", "wakes"), [(0, True), (1, False)])
def test_scale_to_zero_comes_with_the_wake_up_policy(minimum: int, wakes: bool) -> None:
    stack = new_stack()
    AsyncEndpointScaling(
        stack,
        "Scaling",
        endpoint_name="dev-documents",
        variant_name="primary",
        spec=AsyncScaling(min_capacity=minimum, max_capacity=2),
    )
    t = Template.from_stack(stack)
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": minimum, "ResourceId": "endpoint/dev-documents/variant/primary"},
    )
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "CustomizedMetricSpecification": Match.object_like(
                        {"MetricName": "ApproximateBacklogSizePerInstance"}
                    )
                }
            ),
        },
    )
    wake = [
        a
        for a in resources_of_type(t.to_json(), "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "HasBacklogWithoutCapacity"
    ]
    assert bool(wake) == wakes
    steps = [
        p
        for p in resources_of_type(
            t.to_json(), "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).values()
        if p["Properties"]["PolicyType"] == "StepScaling"
    ]
    assert bool(steps) == wakes


def test_alarms_watch_the_async_metrics() -> None:
    stack = new_stack()
    alarms = AsyncEndpointAlarms(
        stack, "Alarms", endpoint_name="ep", variant_name="primary",
        spec=AsyncAlarms(backlog_without_capacity_minutes=10, retrain_on=("failed_invocations",)),
    )  # fmt: skip
    template = Template.from_stack(stack).to_json()
    metrics = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    }
    assert set(metrics) == {
        "ApproximateAgeOfOldestRequest",
        "InvocationFailures",
        "HasBacklogWithoutCapacity",
    }
    assert metrics["HasBacklogWithoutCapacity"]["EvaluationPeriods"] == 10
    assert alarms.for_kinds(("failed_invocations",)) == [alarms.by_kind["failed_invocations"]]


@pytest.mark.parametrize("notifications", [True, False])
def test_failed_notifications_are_an_alarm_when_there_are_topics(notifications: bool) -> None:
    """NotificationFailures is not an invocation failure: without this alarm nobody is told
    that callers waiting for a notification never get it."""
    stack = new_stack()
    alarms = AsyncEndpointAlarms(
        stack, "Alarms", endpoint_name="ep", variant_name="primary", spec=AsyncAlarms(),
        notifications=notifications,
    )  # fmt: skip
    found = [
        a["Properties"]
        for a in resources_of_type(
            Template.from_stack(stack).to_json(), "AWS::CloudWatch::Alarm"
        ).values()
        if a["Properties"]["MetricName"] == "NotificationFailures"
    ]
    assert (alarms.notification_alarm is not None) == notifications
    assert len(alarms.all_alarms) == 3 + notifications
    if notifications:
        [alarm] = found
        assert alarm["Dimensions"] == [
            {"Name": "EndpointName", "Value": "ep"},
            {"Name": "VariantName", "Value": "primary"},
        ]
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
    else:
        assert found == []


def test_submitters_may_submit_to_this_endpoint_only() -> None:
    stack = new_stack()
    AsyncSubmitters(
        stack, "Submitters", endpoint_arn="arn:aws:sagemaker:eu-west-1:111111111111:endpoint/ep",
        bucket=s3.Bucket(stack, "Bucket"), key=kms.Key(stack, "Key"), input_prefix=INPUT,
        output_prefix=OUTPUT, failure_prefix=FAILURES,
        role_arns=["arn:aws:iam::111111111111:role/caller"],
    )  # fmt: skip
    template = Template.from_stack(stack).to_json()
    [policy] = resources_of_type(template, "AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["InvokeEndpointAsync"]["Resource"] == (
        "arn:aws:sagemaker:eu-west-1:111111111111:endpoint/ep"
    )
    assert statements["InvokeEndpointAsync"]["Action"] == "sagemaker:InvokeEndpointAsync"
    assert "kms:ViaService" in statements["UseKeyThroughS3"]["Condition"]["StringEquals"]
    assert policy["Properties"]["Roles"] == ["caller"]
    # a result not written yet must be a 404, not a 403: listing under the result prefixes only
    listing = statements["ListResults"]
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": [OUTPUT, f"{OUTPUT}*", FAILURES, f"{FAILURES}*"]}
    }
    assert "Fn::GetAtt" in listing["Resource"]  # the bucket, not its objects


def _async_endpoint() -> WeightedEndpoint:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    return WeightedEndpoint(
        stack,
        "Endpoint",
        endpoint_name="dev-documents",
        variants=[VARIANT],
        models={"m": "m"},
        async_output=AsyncOutput(bucket=bucket, output_prefix=OUTPUT, failure_prefix=FAILURES),
    )


@pytest.mark.parametrize(
    "accessor", ["metric_invocations", "metric_invocations_per_instance", "metric_overhead_latency"]
)
def test_an_async_endpoint_refuses_the_metrics_it_does_not_publish(accessor: str) -> None:
    """A graph or alarm on them would show nothing ("Alarms and logs for tracking metrics from
    asynchronous endpoints": "Any metric not listed below is not published")."""
    endpoint = _async_endpoint()
    with pytest.raises(
        ValueError, match=r"^WeightedEndpoint dev-documents: SageMaker publishes no"
    ):
        getattr(endpoint, accessor)()
    assert endpoint.metric_latency().metric_name == "ModelLatency"  # published for both


def test_an_async_endpoints_error_rate_is_of_processed_invocations() -> None:
    rate = _async_endpoint().metric_error_rate_5xx()
    assert {m.metric_name for m in rate.using_metrics.values()} == {  # type: ignore[attr-defined]
        "Invocation5XXErrors",
        "InvocationsProcesssed",
    }
