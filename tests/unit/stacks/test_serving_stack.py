"""ServingStack in every environment: variants from config, guardrails, autoscaling, outputs."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_cdk.config import EnvConfig
from mlops_cdk.stacks.serving import endpoint_name_for
from tests.helpers import ENVIRONMENTS, Synthesized, resources_of_type

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")


def serving_config(env_configs: dict[str, EnvConfig], env: str) -> Any:
    serving = env_configs[env].serving
    assert serving is not None
    return serving


def one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of_type(template, resource_type).values()
    props: dict[str, Any] = resource["Properties"]
    return props


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_variants_match_config(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "serving")
    config = serving_config(env_configs, env)
    variants = one(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants] == [
        (v.name, v.initial_weight) for v in config.variants
    ]
    for variant, cfg in zip(variants, config.variants, strict=True):
        assert variant["InstanceType"] == cfg.instance.instance_type
        assert variant["InitialInstanceCount"] == cfg.instance.initial_instance_count


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_models_in_vpc_with_isolation_and_pinned_images(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "serving")
    models = resources_of_type(template, "AWS::SageMaker::Model")
    assert len(models) == len(serving_config(env_configs, env).models)
    for model in models.values():
        props = model["Properties"]
        assert "ModelName" not in props
        assert props["EnableNetworkIsolation"] is True
        assert len(props["VpcConfig"]["Subnets"]) >= 2
        image = props["PrimaryContainer"]["Image"]["Fn::Join"][1]
        assert image[-1].startswith(":")  # an explicit tag from the config
        assert "Fn::ImportValue" in str(props["ExecutionRoleArn"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_instance_variant_autoscales(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "serving")
    targets = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    endpoint = endpoint_name_for(f"{env}-Serving")
    assert {t["Properties"]["ResourceId"] for t in targets.values()} == {
        f"endpoint/{endpoint}/variant/{v.name}" for v in serving_config(env_configs, env).variants
    }
    for target in targets.values():
        assert target["DependsOn"], "the target must be registered after the endpoint exists"


def test_prod_runs_two_or_more_instances_with_canary(synthesized: Synthesized) -> None:
    template = synthesized.template_json("prod", "serving")
    for variant in one(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]:
        assert variant["InitialInstanceCount"] >= 2
    for target in resources_of_type(
        template, "AWS::ApplicationAutoScaling::ScalableTarget"
    ).values():
        assert target["Properties"]["MinCapacity"] >= 2
    routing = one(template, "AWS::SageMaker::Endpoint")["DeploymentConfig"][
        "BlueGreenUpdatePolicy"
    ]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"


def test_dev_is_small_and_scales_down_on_a_schedule(synthesized: Synthesized) -> None:
    template = synthesized.template_json("dev", "serving")
    (variant,) = one(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert variant["InitialInstanceCount"] == 1
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert [a["ScheduledActionName"] for a in target["ScheduledActions"]] == [
        "EveningDown",
        "MorningUp",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_traffic_split_output(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    outputs = synthesized.template_json(env, "serving")["Outputs"]
    split = next(o["Value"] for k, o in outputs.items() if k.startswith("EndpointTrafficSplit"))
    expected = {"dev": "champion 100%", "stage": "champion 80% / challenger 20%"}
    expected["prod"] = "champion 90% / challenger 10%"
    assert split == expected[env]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_data_capture_encrypted_to_the_capture_prefix(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "serving")
    capture = one(template, "AWS::SageMaker::EndpointConfig")["DataCaptureConfig"]
    cfg = serving_config(env_configs, env).data_capture
    assert capture["InitialSamplingPercentage"] == cfg.sampling_percentage
    assert "Fn::ImportValue" in str(capture["KmsKeyId"])
    assert str(capture["DestinationS3Uri"]).endswith("/data-capture']]}")


def test_serving_depends_on_foundation(synthesized: Synthesized) -> None:
    for env in ENVIRONMENTS:
        stage = synthesized.stages[env]
        assert stage.serving is not None
        assert stage.foundation in stage.serving.dependencies


@pytest.mark.parametrize(
    ("stack_name", "expected"),
    [
        ("dev-Serving", "dev-Serving"),
        ("a_b.c", "a-b-c"),
        ("x" * 80, "x" * 63),
    ],
)
def test_endpoint_name_for(stack_name: str, expected: str) -> None:
    assert endpoint_name_for(stack_name) == expected
