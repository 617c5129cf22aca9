"""ComponentFit, ComponentWakeFromZero and RollbackAlarmsReadable on inference components:
InferenceComponentEndpoint is compliant; fleets that are too small, components at zero without
the wake-up policy and rollback alarms the fleet's role may not read are not."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sm

from mlops_cdk.constructs.inference_components import InferenceComponentEndpoint
from mlops_cdk.props.inference_components import (
    CopyAutoscaling,
    FleetSpec,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    ManagedInstanceScalingSpec,
    RollingDeployment,
)
from tests.unit.compliance.sagemaker.pack_helpers import METRICS, findings, stack

COMPONENT_RULES = {"ComponentFit", "ComponentWakeFromZero", "RollbackAlarmsReadable"}


def _spec(*, rollback: bool = True) -> InferenceComponentsSpec:
    return InferenceComponentsSpec(
        fleet=FleetSpec(
            instance_type="ml.m5.xlarge",
            initial_instance_count=1,
            managed_scaling=ManagedInstanceScalingSpec(max_instance_count=2),
        ),
        components=(
            InferenceComponentSpec(
                name="a",
                model="m",
                cpu_cores=2,
                memory_mb=2048,
                autoscaling=CopyAutoscaling(max_copies=4),
                deployment=RollingDeployment(rollback_on_alarms=rollback),
            ),
        ),
    )


def _role(s: cdk.Stack) -> iam.Role:
    return iam.Role(s, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def _ours(s: cdk.Stack) -> set[tuple[str, str]]:
    return {(rule, path) for rule, path in findings(s) if rule in COMPONENT_RULES}


def test_the_construct_is_compliant() -> None:
    s = stack()
    InferenceComponentEndpoint(
        s, "IC", endpoint_name="ep", spec=_spec(), models={"m": "model"}, execution_role=_role(s)
    )
    assert _ours(s) == set()


def _manual(s: cdk.Stack, *, max_instances: int, max_copies: int, wake: bool) -> None:
    config = sm.CfnEndpointConfig(
        s,
        "Config",
        execution_role_arn=_role(s).role_arn,
        metrics_config=METRICS,
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic",
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                managed_instance_scaling=sm.CfnEndpointConfig.ManagedInstanceScalingProperty(
                    status="ENABLED", min_instance_count=0, max_instance_count=max_instances
                ),
            )
        ],
    )
    endpoint = sm.CfnEndpoint(
        s, "Endpoint", endpoint_name="ep", endpoint_config_name=config.attr_endpoint_config_name
    )
    ic = sm.CfnInferenceComponent
    component = ic(
        s,
        "Component",
        endpoint_name=endpoint.attr_endpoint_name,
        inference_component_name="ep-a",
        variant_name="AllTraffic",
        specification=ic.InferenceComponentSpecificationProperty(
            model_name="m",
            compute_resource_requirements=ic.InferenceComponentComputeResourceRequirementsProperty(
                number_of_cpu_cores_required=2, min_memory_required_in_mb=1024
            ),
        ),
        runtime_config=ic.InferenceComponentRuntimeConfigProperty(copy_count=1),
    )
    target = appscaling.ScalableTarget(
        s,
        "Target",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id="inference-component/ep-a",
        scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
        min_capacity=0,
        max_capacity=max_copies,
    )
    target.node.add_dependency(component)
    if wake:
        target.scale_on_metric(
            "Wake",
            metric=cdk.aws_cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="NoCapacityInvocationFailures",
                dimensions_map={"InferenceComponentName": "ep-a"},
                statistic="Sum",
            ),
            scaling_steps=[
                appscaling.ScalingInterval(lower=0, upper=1, change=0),
                appscaling.ScalingInterval(lower=1, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        )


@pytest.mark.parametrize(
    ("max_instances", "max_copies", "wake", "expected"),
    [
        (2, 4, True, set()),  # 8 vCPUs needed, 8 offered
        (1, 4, True, {("ComponentFit", "S/Endpoint")}),  # 8 needed, 4 offered
    ],
)
def test_fit(
    max_instances: int, max_copies: int, wake: bool, expected: set[tuple[str, str]]
) -> None:
    s = stack()
    _manual(s, max_instances=max_instances, max_copies=max_copies, wake=wake)
    assert _ours(s) == expected


def test_rollback_alarms_the_fleet_role_may_not_read() -> None:
    s = stack()
    endpoint = InferenceComponentEndpoint(
        s, "IC", endpoint_name="ep", spec=_spec(), models={"m": "model"}, execution_role=_role(s)
    )
    policy = endpoint.node.find_child("RollbackAlarmsAccess").node.default_child
    assert isinstance(policy, iam.CfnManagedPolicy)
    policy.add_property_override("PolicyDocument.Statement.0.Resource", ["arn:aws:s3:::other"])
    assert _ours(s) == {("RollbackAlarmsReadable", "S/IC/Component-a")}
