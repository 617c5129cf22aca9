"""Cost of a fleet of inference components: the fleet variant (no ModelName, with
ManagedInstanceScaling) idles at its managed minimum (0 instances: $0), is expected at its
initial count and peaks at its managed maximum; components cost nothing of their own."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from mlops_cdk.constructs.inference_components import InferenceComponentEndpoint
from mlops_cdk.props.inference_components import (
    CopyAutoscaling,
    FleetSpec,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    ManagedInstanceScalingSpec,
)
from mlops_tools.cost.assumptions import HOURS_PER_MONTH, Assumptions
from mlops_tools.cost.estimate import estimate_environment
from mlops_tools.cost.prices import PriceBook, PriceKey

REGION = "eu-west-1"
BOOK = PriceBook.load()
HOURLY = BOOK.rate(
    PriceKey("sagemaker", "ml.m5.xlarge hosting", REGION),
    "hour",
    resource_type="AWS::SageMaker::Endpoint",
    what="test",
).usd


def fleet_template(minimum: int = 0, initial: int = 1, maximum: int = 2) -> dict[str, Any]:
    """The shape InferenceComponentEndpoint synthesizes: a variant without a model, with
    ManagedInstanceScaling, and one component on it."""
    variant = {
        "VariantName": "AllTraffic",
        "InstanceType": "ml.m5.xlarge",
        "InitialInstanceCount": initial,
        "ManagedInstanceScaling": {
            "Status": "ENABLED",
            "MinInstanceCount": minimum,
            "MaxInstanceCount": maximum,
        },
        "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
    }
    return {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ExecutionRoleArn": "arn:aws:iam::111111111111:role/execution",
                    "ProductionVariants": [variant],
                    "MetricsConfig": {"EnableDetailedObservability": False},
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": "dev-ranking",
                    "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                },
            },
            "Ranker": {
                "Type": "AWS::SageMaker::InferenceComponent",
                "Properties": {
                    "EndpointName": {"Fn::GetAtt": ["Endpoint", "EndpointName"]},
                    "InferenceComponentName": "dev-ranking-ranker",
                    "VariantName": "AllTraffic",
                    "Specification": {
                        "ModelName": "m",
                        "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 2048},
                    },
                    "RuntimeConfig": {"CopyCount": 1},
                },
            },
        }
    }


def fleet_line(templates: dict[str, Any]) -> Any:
    cost = estimate_environment(
        "dev", templates, region=REGION, prices=BOOK, assumptions=Assumptions()
    )
    assert cost.not_estimated == ()  # the component is known, and free of its own
    (line,) = [i for i in cost.part("ranking").items if i.description.startswith("variant")]
    return line


def test_a_fleet_that_scales_to_zero_idles_at_no_cost_and_peaks_at_its_maximum() -> None:
    line = fleet_line({"dev-ranking": fleet_template()})
    assert line.description == "variant AllTraffic: ml.m5.xlarge x 1 (managed scaling 0-2)"
    assert line.idle == 0
    assert line.expected == pytest.approx(HOURLY * HOURS_PER_MONTH)
    assert line.peak == pytest.approx(2 * HOURLY * HOURS_PER_MONTH)


def test_a_fleet_with_a_minimum_idles_at_it() -> None:
    line = fleet_line({"dev-ranking": fleet_template(minimum=1, initial=2, maximum=3)})
    assert (line.idle, line.expected, line.peak) == pytest.approx(
        (HOURLY * HOURS_PER_MONTH, 2 * HOURLY * HOURS_PER_MONTH, 3 * HOURLY * HOURS_PER_MONTH)
    )


def test_managed_scaling_that_is_disabled_is_the_initial_count() -> None:
    template = fleet_template()
    variant = template["Resources"]["Config"]["Properties"]["ProductionVariants"][0]
    variant["ManagedInstanceScaling"]["Status"] = "DISABLED"
    line = fleet_line({"dev-ranking": template})
    assert (line.idle, line.peak) == pytest.approx((HOURLY * HOURS_PER_MONTH,) * 2)
    assert line.description.endswith("x 1 (no autoscaling)")


def test_the_constructs_template_is_priced_as_a_fleet() -> None:
    """What InferenceComponentEndpoint synthesizes (copy autoscaling targets included)."""
    app = cdk.App()
    stack = cdk.Stack(
        app, "dev-ranking", env=cdk.Environment(account="111111111111", region=REGION)
    )
    component = InferenceComponentSpec(
        name="ranker",
        model="ranking-v1",
        cpu_cores=1,
        memory_mb=2048,
        autoscaling=CopyAutoscaling(min_copies=0, max_copies=4),
    )
    InferenceComponentEndpoint(
        stack,
        "Components",
        endpoint_name="dev-ranking",
        spec=InferenceComponentsSpec(
            fleet=FleetSpec(
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                managed_scaling=ManagedInstanceScalingSpec(
                    min_instance_count=0, max_instance_count=2
                ),
            ),
            components=(component,),
        ),
        models={"ranking-v1": "ranking-v1-model"},
        execution_role=iam.Role.from_role_arn(
            stack, "Execution", "arn:aws:iam::111111111111:role/execution"
        ),
    )
    template = app.synth().get_stack_by_name("dev-ranking").template
    line = fleet_line({"dev-ranking": template})
    assert line.description == "variant AllTraffic: ml.m5.xlarge x 1 (managed scaling 0-2)"
    assert (line.idle, line.peak) == (0, pytest.approx(2 * HOURLY * HOURS_PER_MONTH))
