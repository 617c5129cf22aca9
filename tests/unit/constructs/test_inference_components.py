"""InferenceComponentEndpoint: the fleet's endpoint config, one component per model, copy
scaling (woken from zero) and the rollback alarms the execution role may read."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.alarms import AlarmThresholds
from mlops_cdk.constructs.inference_components import InferenceComponentEndpoint
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.inference_components import (
    CopyAutoscaling,
    FleetSpec,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    ManagedInstanceScalingSpec,
)
from mlops_cdk.props.model import ContainerSpec, ModelSpec
from tests.helpers import TEST_ENV


def _spec(min_copies: int = 0) -> InferenceComponentsSpec:
    return InferenceComponentsSpec(
        fleet=FleetSpec(
            instance_type="ml.m5.xlarge",
            initial_instance_count=1,
            managed_scaling=ManagedInstanceScalingSpec(min_instance_count=0, max_instance_count=2),
        ),
        components=(
            InferenceComponentSpec(
                name="a",
                model="m1",
                cpu_cores=1,
                memory_mb=1024,
                autoscaling=CopyAutoscaling(min_copies=min_copies, max_copies=4),
            ),
            InferenceComponentSpec(name="b", model="m2", memory_mb=2048, copies=2),
        ),
    )


def _template(spec: InferenceComponentsSpec, thresholds: AlarmThresholds | None = None) -> Template:
    stack = cdk.Stack(cdk.App(), "S", env=TEST_ENV)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    InferenceComponentEndpoint(
        stack,
        "IC",
        endpoint_name="dev-ranking",
        spec=spec,
        models={"m1": "model-one", "m2": "model-two"},
        execution_role=role,
        thresholds=thresholds,
    )
    return Template.from_stack(stack)


def test_the_fleet_config_carries_no_model_and_the_role() -> None:
    template = _template(_spec())
    [config] = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    [variant] = config["Properties"]["ProductionVariants"]
    assert "ModelName" not in variant
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": 2,
    }
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert "ExecutionRoleArn" in config["Properties"]
    # The config waits for the role's policies (CreateEndpointConfig validates the role).
    policies = template.find_resources("AWS::IAM::Policy")
    assert set(policies) <= set(config["DependsOn"])


def test_one_component_per_model_with_its_requirements() -> None:
    template = _template(_spec())
    template.resource_count_is("AWS::SageMaker::InferenceComponent", 2)
    template.has_resource_properties(
        "AWS::SageMaker::InferenceComponent",
        {
            "InferenceComponentName": "dev-ranking-a",
            "VariantName": "AllTraffic",
            "Specification": {
                "ModelName": "model-one",
                "ComputeResourceRequirements": {
                    "NumberOfCpuCoresRequired": 1,
                    "MinMemoryRequiredInMb": 1024,
                },
            },
            "RuntimeConfig": {"CopyCount": 1},
            "DeploymentConfig": {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1},
                    "WaitIntervalInSeconds": 300,
                },
                "AutoRollbackConfiguration": {"Alarms": Match.any_value()},
            },
        },
    )


def _policies(template: Template) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]


def test_a_component_at_zero_copies_is_woken_on_no_capacity_failures() -> None:
    template = _template(_spec(min_copies=0))
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ResourceId": "inference-component/dev-ranking-a",
            "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
            "MinCapacity": 0,
            "MaxCapacity": 4,
        },
    )
    kinds = sorted(p["PolicyType"] for p in _policies(template))
    assert kinds == ["StepScaling", "TargetTrackingScaling"]
    tracking = next(p for p in _policies(template) if p["PolicyType"] == "TargetTrackingScaling")
    assert tracking["TargetTrackingScalingPolicyConfiguration"][
        "PredefinedMetricSpecification"
    ] == {
        "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
    }
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "NoCapacityInvocationFailures",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": "dev-ranking-a"}],
            "AlarmActions": [{"Ref": Match.string_like_regexp("WakeFromZero")}],
        },
    )


def test_no_wake_up_policy_without_a_zero_minimum() -> None:
    kinds = [p["PolicyType"] for p in _policies(_template(_spec(min_copies=1)))]
    assert kinds == ["TargetTrackingScaling"]


def test_the_execution_role_may_read_the_rollback_alarms() -> None:
    template = _template(_spec())
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": [Match.object_like({"Action": "cloudwatch:DescribeAlarms"})]
            }
        },
    )


def test_a_library_user_gets_the_same_fit_message() -> None:
    with pytest.raises(PropProblems, match="needs 8 vCPUs at max copies, the fleet has 4 at 1 x"):
        InferenceComponentsSpec(
            fleet=FleetSpec(
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                managed_scaling=ManagedInstanceScalingSpec(max_instance_count=1),
            ),
            components=(
                InferenceComponentSpec(name="a", model="m", cpu_cores=2, memory_mb=128, copies=4),
            ),
        )


def test_the_endpoint_name_is_checked() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=TEST_ENV)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(PropProblems, match=r"endpoint_name: 'dev_ranking' is not an endpoint name"):
        InferenceComponentEndpoint(
            stack,
            "IC",
            endpoint_name="dev_ranking",
            spec=_spec(),
            models={"m1": "model-one", "m2": "model-two"},
            execution_role=role,
        )


def test_an_unknown_model_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=TEST_ENV)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(PropProblems, match=r"components\[1\]\.model: unknown model 'm2'"):
        InferenceComponentEndpoint(
            stack,
            "IC",
            endpoint_name="ep",
            spec=_spec(),
            models={"m1": "model-one"},
            execution_role=role,
        )


def test_a_component_hosts_a_single_container_model() -> None:
    """CreateInferenceComponent's Specification has one ModelName or Container: the
    configuration's rule, the construct's own, for a HostedModel of several containers."""
    stack = cdk.Stack(cdk.App(), "S", env=TEST_ENV)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    pipeline = HostedModel(
        stack,
        "Pipeline",
        repository=ecr.Repository.from_repository_name(stack, "Repo", "models"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        spec=ModelSpec(
            containers=[
                ContainerSpec(image_tag="1.0.0", model_data_key="models/a.tar.gz"),
                ContainerSpec(image_tag="2.0.0", model_data_key="models/b.tar.gz"),
            ]
        ),
    )
    with pytest.raises(PropProblems) as raised:
        InferenceComponentEndpoint(
            stack,
            "IC",
            endpoint_name="ep",
            spec=_spec(),
            models={"m1": pipeline, "m2": "model-two"},
            execution_role=role,
        )
    assert str(raised.value) == (
        "InferenceComponentEndpoint: components[0].model: model 'm1' has several containers; "
        "a component hosts a single-container model here"
    )


@pytest.mark.parametrize(
    ("minimum", "condition", "floor"),
    [(1, "invocations > 0", ""), (15, "invocations >= 15", " (minutes with at least 15 ")],
)
def test_a_components_error_rate_counts_minutes_with_enough_requests(
    minimum: int, condition: str, floor: str
) -> None:
    template = _template(_spec(), AlarmThresholds(min_invocations=minimum))
    alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "5XX errors above" in a["Properties"]["AlarmDescription"]
    ]
    assert len(alarms) == 2  # one per component
    for props in alarms:
        (expression,) = [m["Expression"] for m in props["Metrics"] if "Expression" in m]
        assert expression == f"IF({condition}, 100 * errors / invocations, 0)"
        assert floor in props["AlarmDescription"]
