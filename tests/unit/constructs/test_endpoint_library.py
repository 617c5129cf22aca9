"""WeightedEndpoint as a library L2: defaults, bring-your-own key, grant_invoke, per-variant
metrics with SageMaker's namespaces, dimensions and statistics."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    CapacitySize,
    DeploymentSpec,
    HostedModel,
    InstanceAutoscaling,
    ServerlessCapacity,
    WeightedEndpoint,
)
from tests.helpers import imported_vpc, new_stack
from tests.unit.constructs.variant_helpers import on_instances, serverless

AB = [
    on_instances("champion", "model-a", 90, "ml.m5.xlarge", 2),
    on_instances("challenger", "model-b", 10, "ml.g5.xlarge", 1),
]
SERVERLESS = [serverless("dev", "model", 1, 2048, 5)]
MODELS = {"model-a": "model-a", "model-b": "model-b", "model": "model", "m": "m"}


def resources(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return list(template.find_resources(resource_type).values())


def test_defaults_create_a_rotating_key_and_let_cloudformation_name_the_endpoint() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", variants=[on_instances("main", "m", 1, "ml.m5.large", 1)], models=MODELS
    )
    template = Template.from_stack(stack)
    (key,) = resources(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    (config,) = resources(template, "AWS::SageMaker::EndpointConfig")
    assert stack.resolve(config["Properties"]["KmsKeyId"]) == {
        "Fn::GetAtt": [stack.get_logical_id(endpoint.key.node.default_child), "Arn"]  # type: ignore[union-attr, arg-type]
    }
    (resource,) = resources(template, "AWS::SageMaker::Endpoint")
    assert "EndpointName" not in resource["Properties"]
    assert stack.resolve(endpoint.endpoint_name) == {
        "Fn::GetAtt": [stack.get_logical_id(endpoint.endpoint), "EndpointName"]
    }
    assert resource["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ] == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}


def test_a_given_key_is_used_and_none_is_created() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    )
    endpoint = WeightedEndpoint(stack, "Endpoint", variants=AB[:1], models=MODELS, key=key)
    assert endpoint.key is key
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 0)
    (config,) = resources(template, "AWS::SageMaker::EndpointConfig")
    assert config["Properties"]["KmsKeyId"] == key.key_arn


def test_serverless_without_capture_needs_no_key() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(stack, "Endpoint", variants=SERVERLESS, models=MODELS)
    assert endpoint.key is None
    Template.from_stack(stack).resource_count_is("AWS::KMS::Key", 0)


@pytest.mark.parametrize(
    "model_props",
    [{"network_isolation": True}, {"network_isolation": False, "vpc": True}],
)
def test_a_serverless_variants_model_has_no_vpc_and_no_isolation(
    model_props: dict[str, Any],
) -> None:
    """Serverless endpoints support neither ("Deploy models with Amazon SageMaker Serverless
    Inference"): a library user gets the line YAML users get, not a failed deploy."""
    stack = new_stack()
    vpc = imported_vpc(stack) if model_props.pop("vpc", False) else None
    model = HostedModel(stack, "Model", image_uri="i", vpc=vpc, **model_props)
    with pytest.raises(
        ValueError,
        match=r"variants\[0\].serverless: model 'model' has a VPC config or network isolation",
    ):
        WeightedEndpoint(stack, "Endpoint", variants=SERVERLESS, models={"model": model})
    plain = HostedModel(stack, "Plain", image_uri="i", network_isolation=False)
    WeightedEndpoint(stack, "Served", variants=SERVERLESS, models={"model": plain})


def test_rollback_alarms_need_an_explicit_endpoint_name() -> None:
    stack = new_stack()
    alarm = cloudwatch.Alarm.from_alarm_name(stack, "A", "latency")
    with pytest.raises(ValueError, match="give endpoint_name"):
        WeightedEndpoint(stack, "Endpoint", variants=AB[:1], models=MODELS, rollback_alarms=[alarm])


@pytest.mark.parametrize("name", ["e" * 64, "", "churn_v1", "churn.v1", "-churn", "churn-"])
def test_endpoint_name_is_checked(name: str) -> None:
    """CreateEndpoint's EndpointName: letters, digits and hyphens between them, 1-63."""
    with pytest.raises(
        ValueError,
        match=r"^WeightedEndpoint: endpoint_name: .* is not an endpoint name: 1-63 letters, ",
    ):
        WeightedEndpoint(
            new_stack(), "Endpoint", variants=AB[:1], models=MODELS, endpoint_name=name
        )


def test_repeated_hyphens_make_an_endpoint_name() -> None:
    endpoint = WeightedEndpoint(
        new_stack(), "Endpoint", variants=AB[:1], models=MODELS, endpoint_name="churn--v1"
    )
    assert endpoint.endpoint.endpoint_name == "churn--v1"


def test_grant_invoke_allows_invoke_endpoint_on_this_endpoint_only() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = endpoint.grant_invoke(role)
    assert grant.success
    template = Template.from_stack(stack)
    # A customer-managed policy: the HIPAA and NIST packs refuse inline ones.
    template.resource_count_is("AWS::IAM::Policy", 0)
    (policy,) = resources(template, "AWS::IAM::ManagedPolicy")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sagemaker:InvokeEndpoint",
            "Effect": "Allow",
            "Resource": {"Ref": stack.get_logical_id(endpoint.endpoint)},
        }
    ]
    assert policy["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]  # type: ignore[arg-type]


def test_grant_invoke_to_an_imported_role_and_a_user() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    endpoint.grant_invoke(
        iam.Role.from_role_arn(stack, "Api", "arn:aws:iam::123456789012:role/api")
    )
    endpoint.grant_invoke(iam.User(stack, "Analyst"))
    template = Template.from_stack(stack)
    (managed,) = resources(template, "AWS::IAM::ManagedPolicy")
    assert managed["Properties"]["Roles"] == ["api"]
    (inline,) = resources(template, "AWS::IAM::Policy")  # users keep CDK's usual grant
    assert inline["Properties"]["PolicyDocument"]["Statement"][0]["Action"] == (
        "sagemaker:InvokeEndpoint"
    )
    assert "Users" in inline["Properties"]


def metric_json(stack: cdk.Stack, metric: cloudwatch.Metric) -> dict[str, Any]:
    config = metric.to_metric_config().metric_stat
    assert config is not None
    return {
        "namespace": config.namespace,
        "name": config.metric_name,
        "dimensions": {d.name: stack.resolve(d.value) for d in config.dimensions or []},
        "statistic": config.statistic,
        "period": config.period.to_seconds(),
    }


@pytest.mark.parametrize(
    ("method", "namespace", "name", "statistic"),
    [
        ("metric_invocations", "AWS/SageMaker", "Invocations", "Sum"),
        ("metric_invocations_per_instance", "AWS/SageMaker", "InvocationsPerInstance", "Sum"),
        ("metric_latency", "AWS/SageMaker", "ModelLatency", "Average"),
        ("metric_overhead_latency", "AWS/SageMaker", "OverheadLatency", "Average"),
        ("metric_errors_5xx", "AWS/SageMaker", "Invocation5XXErrors", "Sum"),
        ("metric_errors_4xx", "AWS/SageMaker", "Invocation4XXErrors", "Sum"),
        ("metric_cpu_utilization", "/aws/sagemaker/Endpoints", "CPUUtilization", "Average"),
        ("metric_memory_utilization", "/aws/sagemaker/Endpoints", "MemoryUtilization", "Average"),
        ("metric_disk_utilization", "/aws/sagemaker/Endpoints", "DiskUtilization", "Average"),
    ],
)
def test_per_variant_metrics(method: str, namespace: str, name: str, statistic: str) -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    metric = getattr(endpoint, method)("challenger")
    assert metric_json(stack, metric) == {
        "namespace": namespace,
        "name": name,
        "dimensions": {"EndpointName": "churn", "VariantName": "challenger"},
        "statistic": statistic,
        "period": 60,
    }
    assert metric.unit is None  # a unit would filter out SageMaker's datapoints


def test_metric_options_and_generated_endpoint_name() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(stack, "Endpoint", variants=AB[:1], models=MODELS)
    metric = endpoint.metric_latency(statistic="p99", period=cdk.Duration.minutes(5))
    assert metric_json(stack, metric) == {
        "namespace": "AWS/SageMaker",
        "name": "ModelLatency",
        "dimensions": {
            "EndpointName": {
                "Fn::GetAtt": [stack.get_logical_id(endpoint.endpoint), "EndpointName"]
            },
            "VariantName": "champion",
        },
        "statistic": "p99",
        "period": 300,
    }


def test_gpu_metrics_only_for_gpu_variants_and_error_rate() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    assert endpoint.metric_gpu_utilization("challenger").metric_name == "GPUUtilization"
    assert endpoint.metric_gpu_memory_utilization("challenger").metric_name == (
        "GPUMemoryUtilization"
    )
    with pytest.raises(ValueError, match=r"champion \(ml.m5.xlarge\) has no GPU"):
        endpoint.metric_gpu_utilization("champion")
    rate = endpoint.metric_error_rate_5xx("champion")
    assert rate.expression.startswith("IF(inv_champion_invocation5xxerrors > 0, 100 *")


def test_serverless_variants_have_memory_but_no_cpu_metrics() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="dev", variants=SERVERLESS, models=MODELS
    )
    assert endpoint.metric_memory_utilization().metric_name == "MemoryUtilization"
    assert endpoint.metric_invocations().metric_name == "Invocations"
    with pytest.raises(ValueError, match="serverless; SageMaker publishes no CPUUtilization"):
        endpoint.metric_cpu_utilization()


def test_variant_must_be_named_when_there_are_several_and_must_exist() -> None:
    endpoint = WeightedEndpoint(
        new_stack(), "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    assert endpoint.variant_names == ["champion", "challenger"]
    with pytest.raises(ValueError, match=r"name a variant \(champion, challenger\)"):
        endpoint.metric_invocations()
    with pytest.raises(ValueError, match="no variant 'shadow'"):
        endpoint.metric_invocations("shadow")


def test_a_metric_makes_a_working_alarm() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=AB, models=MODELS
    )
    endpoint.metric_latency("champion", statistic="p99").create_alarm(
        stack, "Latency", threshold=250_000, evaluation_periods=3
    )
    (alarm,) = resources(Template.from_stack(stack), "AWS::CloudWatch::Alarm")
    assert alarm["Properties"]["ExtendedStatistic"] == "p99"
    assert alarm["Properties"]["Namespace"] == "AWS/SageMaker"
    assert "Unit" not in alarm["Properties"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory_size_mb": 1000, "max_concurrency": 5}, "memory_size_mb: Input should be 1024, "),
        (
            {"memory_size_mb": 2048, "max_concurrency": 0},
            "max_concurrency: Input should be greater than or equal to 1",
        ),
        (
            {"memory_size_mb": 2048, "max_concurrency": 2, "provisioned_concurrency": 3},
            "provisioned_concurrency: must not exceed max_concurrency",
        ),
    ],
)
def test_invalid_serverless_spec(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerlessCapacity(**kwargs)


def test_library_users_get_the_configuration_errors() -> None:
    """A library user of WeightedEndpoint gets the same errors as a YAML user: the canary's
    bounds at every fleet size autoscaling allows, a serverless variant alone, min <= max."""
    scaling = InstanceAutoscaling(min_capacity=1, max_capacity=4, target_value=100)
    canary = DeploymentSpec(strategy="canary", canary_size=CapacitySize("instance_count", 1))
    with pytest.raises(
        ValueError,
        match=r"deployment.canary_size.value: variant 'champion': canary: 1 of 1 instance = 100 %",
    ):
        WeightedEndpoint(
            new_stack(),
            "Endpoint",
            variants=[on_instances("champion", "m", 1, "ml.m5.large", 2, autoscaling=scaling)],
            models=MODELS,
            deployment=canary,
        )
    with pytest.raises(ValueError, match=r"variants\[0\].serverless: SageMaker does not support "):
        WeightedEndpoint(new_stack(), "Endpoint", variants=[*SERVERLESS, AB[0]], models=MODELS)
    with pytest.raises(
        ValueError, match="autoscaling: min_capacity: min_capacity is greater than max_capacity"
    ):
        InstanceAutoscaling(min_capacity=3, max_capacity=2, target_value=100)
