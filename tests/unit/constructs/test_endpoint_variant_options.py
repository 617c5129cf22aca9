"""Shadow variants, instance pools, rolling updates and the scale-out detection output of
:class:`WeightedEndpoint` / :class:`VariantAutoscaling`, read from the synthesized template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from aws_cdk.assertions import Template

from mlops_cdk.aws.guardrails import step_problem
from mlops_cdk.aws.variant_facts import scale_out_detection_seconds
from mlops_cdk.constructs.autoscaling import VariantAutoscaling
from mlops_cdk.constructs.endpoint import WeightedEndpoint
from mlops_cdk.constructs.shadow import ShadowVariantAlarms
from mlops_cdk.props.alarms import AlarmThresholds
from mlops_cdk.props.endpoint import CapacitySize, DeploymentSpec
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.scaling import InstanceAutoscaling
from mlops_cdk.props.variants import InstanceCapacity, VariantSpec
from tests.helpers import new_stack
from tests.unit.constructs.variant_helpers import models_of, on_instances

ROLLING = DeploymentSpec(
    strategy="rolling",
    rolling_batch_size=CapacitySize("capacity_percent", 50),
    rollback_batch_size=CapacitySize("instance_count", 1),
    wait_seconds=120,
)


def synth(
    variants: list[VariantSpec],
    *,
    shadows: Sequence[VariantSpec] = (),
    deployment: DeploymentSpec | None = None,
) -> tuple[WeightedEndpoint, dict[str, Any]]:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack,
        "Endpoint",
        endpoint_name="ep",
        variants=variants,
        shadow_variants=shadows,
        models=models_of([*variants, *shadows]),
        deployment=deployment,
    )
    return endpoint, dict(Template.from_stack(stack).to_json())


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (props,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]
    return dict(props)


def test_a_shadow_variant_is_a_shadow_production_variant_with_the_same_key() -> None:
    endpoint, template = synth(
        [on_instances("champion", "model-a", 1, "ml.m5.large", 2)],
        shadows=[on_instances("candidate", "model-b", 1, "ml.m5.large", 1)],
    )
    config = _one(template, "AWS::SageMaker::EndpointConfig")
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["champion"]
    (shadow,) = config["ShadowProductionVariants"]
    assert shadow["VariantName"] == "candidate"
    assert shadow["ModelName"] == "model-b"
    assert "KmsKeyId" in config  # one key for production and shadow volumes
    assert endpoint.variant_names == ["champion", "candidate"]
    # The traffic split counts production only; the shadow is its own output.
    outputs = {o["Value"] for o in template["Outputs"].values() if isinstance(o["Value"], str)}
    assert "champion 100%" in outputs
    assert "candidate shadows champion" in outputs
    # Metrics of the shadow are available like any variant's.
    dimensions = endpoint.metric_latency("candidate").dimensions or {}
    assert dimensions["VariantName"] == "candidate"


def test_two_shadows_are_refused_by_the_construct() -> None:
    with pytest.raises(PropProblems, match="2 shadow variants; SageMaker allows 1"):
        synth(
            [on_instances("champion", "m", 1, "ml.m5.large", 2)],
            shadows=[
                on_instances("s1", "m", 1, "ml.m5.large", 1),
                on_instances("s2", "m", 1, "ml.m5.large", 1),
            ],
        )


def test_fallback_instance_types_become_instance_pools_in_priority_order() -> None:
    variant = VariantSpec(
        name="gpu",
        model="llm",
        initial_weight=1,
        instance=InstanceCapacity(
            instance_type="ml.g5.xlarge",
            initial_instance_count=2,
            fallback_instance_types=("ml.g6.xlarge",),
            provision_timeout_seconds=900,
        ),
    )
    _, template = synth([variant])
    config = _one(template, "AWS::SageMaker::EndpointConfig")
    (props,) = config["ProductionVariants"]
    assert "InstanceType" not in props  # pools replace it
    assert props["InstancePools"] == [
        {"InstanceType": "ml.g5.xlarge", "Priority": 1},
        {"InstanceType": "ml.g6.xlarge", "Priority": 2},
    ]
    assert props["VariantInstanceProvisionTimeoutInSeconds"] == 900
    # ml.g5 and ml.g6 have local NVMe: SageMaker rejects a volume key.
    assert "KmsKeyId" not in config


def test_rolling_update_policy() -> None:
    endpoint, template = synth(
        [on_instances("gpu", "llm", 1, "ml.g5.xlarge", 4)], deployment=ROLLING
    )
    deployment = _one(template, "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    assert "BlueGreenUpdatePolicy" not in deployment
    assert deployment["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
        "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 120,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }
    assert endpoint.deployment_steps == ["gpu rolling: 2 of 4 instances = 50 %"]


def test_rolling_a_two_variant_endpoint_is_refused_by_the_construct() -> None:
    with pytest.raises(PropProblems, match="rolling updates exclude multi-variant endpoints"):
        synth(
            [
                on_instances("a", "m", 1, "ml.m5.large", 2),
                on_instances("b", "m", 1, "ml.m5.large", 2),
            ],
            deployment=ROLLING,
        )


def test_rolling_batch_limits() -> None:
    assert step_problem("rolling", "INSTANCE_COUNT", 1, 20) is None  # exactly 5 %
    assert step_problem("rolling", "INSTANCE_COUNT", 1, 21) is not None  # below 5 %
    assert step_problem("rolling", "CAPACITY_PERCENT", 5, 2) is None  # rounds up to 1 of 2
    assert step_problem("rolling", "INSTANCE_COUNT", 1, 1) == (
        "rolling: 1 of 1 instance = 100 %; SageMaker requires a rolling batch of 5-50 % of the "
        "variant's fleet"
    )


@pytest.mark.parametrize(
    ("metric", "seconds"),
    [("invocations_per_instance", 180), ("concurrent_requests_high_resolution", 30)],
)
def test_scale_out_detection_is_a_stack_output(metric: str, seconds: int) -> None:
    stack = new_stack()
    scaling = VariantAutoscaling(
        stack,
        "Scaling",
        endpoint_name="ep",
        variant_name="champion",
        scaling=InstanceAutoscaling(
            min_capacity=1,
            max_capacity=4,
            target_value=5,
            metric=metric,  # type: ignore[arg-type]
        ),
    )
    assert scaling.scale_out_detection_seconds == seconds == scale_out_detection_seconds(metric)
    outputs = Template.from_stack(stack).to_json()["Outputs"]
    (output,) = [o for key, o in outputs.items() if "ScaleOutDetection" in key]
    assert output["Value"].startswith(f"champion: {seconds} s (3 x ")


def test_shadow_alarms_never_roll_back_or_retrain() -> None:
    stack = new_stack()
    shadow = ShadowVariantAlarms(
        stack,
        "Shadow",
        endpoint_name="ep",
        production="champion",
        shadow="candidate",
        instance_type="ml.m5.xlarge",
        thresholds=AlarmThresholds(rollback_on=["latency", "errors_5xx"], retrain_on=["latency"]),
    )
    assert shadow.alarms.rollback_alarms == []
    assert shadow.alarms.retraining_triggers == []
    kinds = {kind for (variant, kind) in shadow.alarms.alarms if variant == "candidate"}
    assert {"latency", "errors_5xx", "cpu"} <= kinds
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    cpu = [a for a in alarms.values() if "CPUUtilization" in a["Properties"]["AlarmDescription"]]
    assert cpu[0]["Properties"]["Threshold"] == 4 * AlarmThresholds().cpu_percent  # 4 vCPUs
    assert len(shadow.widgets) == 2
