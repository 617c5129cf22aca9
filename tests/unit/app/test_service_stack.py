"""Service stacks in every environment: variants from config, guardrails, autoscaling, outputs,
and least privilege between services."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_cdk.aws.names import endpoint_name_for
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.service import ServiceConfig
from tests.helpers import ENVIRONMENTS, SERVICES, Synthesized, resources_of_type

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")


def spec(env_configs: dict[str, EnvConfig], env: str, service: str) -> ServiceConfig:
    return env_configs[env].services[service]


def one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of_type(template, resource_type).values()
    props: dict[str, Any] = resource["Properties"]
    return props


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_variants_match_config(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    config = spec(env_configs, env, service)
    variants = one(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants] == [
        (v.name, v.initial_weight) for v in config.variants
    ]
    for variant, cfg in zip(variants, config.variants, strict=True):
        assert variant["InstanceType"] == cfg.instance.instance_type
        assert variant["InitialInstanceCount"] == cfg.instance.initial_instance_count


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_endpoint_is_named_after_the_service(
    synthesized: Synthesized, env: str, service: str
) -> None:
    endpoint = one(synthesized.template_json(env, service), "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == f"{env}-{service}"
    assert synthesized.stack(env, service).stack_name == f"{env}-{service}"
    assert synthesized.stack(env, f"{service}-registry").stack_name == f"{env}-{service}-Registry"


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_models_in_vpc_with_isolation_and_pinned_images(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    models = resources_of_type(template, "AWS::SageMaker::Model")
    assert len(models) == len(spec(env_configs, env, service).models)
    roles = resources_of_type(template, "AWS::IAM::Role")
    (execution_role,) = [k for k in roles if k.startswith("SageMakerExecution")]
    for model in models.values():
        props = model["Properties"]
        assert "ModelName" not in props
        assert props["EnableNetworkIsolation"] is True
        assert len(props["VpcConfig"]["Subnets"]) >= 2
        image = json.dumps(props["PrimaryContainer"]["Image"])
        assert "Fn::ImportValue" in image  # the service's own repository (registry stack)
        assert f"{env}-{service}-Registry" in image or "Registry" in image
        assert props["ExecutionRoleArn"] == {"Fn::GetAtt": [execution_role, "Arn"]}


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_every_instance_variant_autoscales(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    targets = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    endpoint = endpoint_name_for(f"{env}-{service}")
    assert {t["Properties"]["ResourceId"] for t in targets.values()} == {
        f"endpoint/{endpoint}/variant/{v.name}" for v in spec(env_configs, env, service).variants
    }
    for target in targets.values():
        assert target["DependsOn"], "the target must be registered after the endpoint exists"


def test_prod_runs_two_or_more_instances_with_canary(synthesized: Synthesized) -> None:
    for service in ("churn", "fraud"):
        template = synthesized.template_json("prod", service)
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
        assert routing["CanarySize"] == {"Type": "INSTANCE_COUNT", "Value": 1}


def test_dev_is_small_and_scales_down_on_a_schedule(synthesized: Synthesized) -> None:
    template = synthesized.template_json("dev", "churn")
    (variant,) = one(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert variant["InitialInstanceCount"] == 1
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert [a["ScheduledActionName"] for a in target["ScheduledActions"]] == [
        "EveningDown",
        "MorningUp",
    ]


@pytest.mark.parametrize(
    ("env", "service", "split", "steps"),
    [
        ("dev", "churn", "champion 100%", None),
        (
            "stage",
            "churn",
            "champion 80% / challenger 20%",
            "champion canary: 1 of 2 instances = 50 %; challenger canary: 1 of 2 instances = 50 %",
        ),
        ("stage", "fraud", "primary 100%", "primary canary: 1 of 2 instances = 50 %"),
        (
            "prod",
            "churn",
            "champion 90% / challenger 10%",
            "champion canary: 1 of 2 instances = 50 %; challenger canary: 1 of 2 instances = 50 %",
        ),
    ],
)
def test_traffic_split_and_effective_canary_outputs(
    synthesized: Synthesized, env: str, service: str, split: str, steps: str | None
) -> None:
    outputs = synthesized.template_json(env, service)["Outputs"]
    found = next(o["Value"] for k, o in outputs.items() if k.startswith("EndpointTrafficSplit"))
    assert found == split
    deployment = [o["Value"] for k, o in outputs.items() if k.startswith("EndpointDeployment")]
    assert deployment == ([steps] if steps else [])


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_data_capture_encrypted_to_the_services_capture_prefix(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    capture = one(template, "AWS::SageMaker::EndpointConfig")["DataCaptureConfig"]
    cfg = spec(env_configs, env, service).data_capture
    assert capture["InitialSamplingPercentage"] == cfg.sampling_percentage
    assert "Fn::ImportValue" in str(capture["KmsKeyId"])
    assert json.dumps(capture["DestinationS3Uri"]).endswith(f'/data-capture/{service}"]]}}')


def test_services_depend_on_foundation_and_their_registry_only(synthesized: Synthesized) -> None:
    for env in ENVIRONMENTS:
        stage = synthesized.stages[env]
        for name, stacks in stage.services.items():
            assert set(stacks.registry.dependencies) == {stage.foundation}
            assert set(stacks.serving.dependencies) == {stage.foundation, stacks.registry}, name


# --- least privilege between services ------------------------------------------------------


def execution_policy(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Description"].startswith("SageMaker hosting")
    ]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_a_services_role_reaches_only_its_own_prefixes_and_repository(
    synthesized: Synthesized, env: str
) -> None:
    for service, other in (("churn", "fraud"), ("fraud", "churn")):
        statements = execution_policy(synthesized.template_json(env, service))
        read = json.dumps(statements["ReadModelArtifacts"]["Resource"])
        write = json.dumps(statements["WriteDataCapture"]["Resource"])
        listing = statements["ListModelArtifacts"]["Condition"]["StringLike"]["s3:prefix"]
        assert read.endswith(f'/models/{service}/*"]]}}')
        assert write.endswith(f'/data-capture/{service}/*"]]}}')
        assert listing == [f"models/{service}/", f"models/{service}/*"]
        assert other not in read + write + json.dumps(listing)
        pull = json.dumps(statements["PullModelImages"]["Resource"])
        assert f"{service}-Registry" in pull or f"{service}Registry" in pull.replace("-", "")
        assert other not in pull


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_service_roles_live_under_the_environment_path(
    synthesized: Synthesized, env: str, service: str
) -> None:
    """The key policy admits the path, so no service is listed in the Foundation."""
    roles = resources_of_type(synthesized.template_json(env, service), "AWS::IAM::Role")
    paths = {k: r["Properties"].get("Path") for k, r in roles.items()}
    for logical_id, path in paths.items():
        if logical_id.startswith(("SageMakerExecution", "RetrainingRole")):
            assert path == f"/mlops/{env}/", logical_id
        if logical_id.startswith("SmokeTest"):
            assert path == f"/mlops-smoke/{service}/"  # the pipeline may assume only these


@pytest.mark.parametrize(
    ("stack_name", "expected"),
    [
        ("dev-churn", "dev-churn"),
        ("a_b.c", "a-b-c"),
        ("x" * 80, "x" * 63),
    ],
)
def test_endpoint_name_for(stack_name: str, expected: str) -> None:
    assert endpoint_name_for(stack_name) == expected


# --- issue 20: deploy and run-time truths -------------------------------------------------------


def _policies_of(template: dict[str, Any], role_id: str) -> set[str]:
    return {
        logical_id
        for cfn_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for logical_id, policy in resources_of_type(template, cfn_type).items()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    }


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_models_wait_for_every_policy_of_their_execution_role(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    for model in resources_of_type(template, "AWS::SageMaker::Model").values():
        role_id = model["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        policies = _policies_of(template, role_id)
        assert len(policies) >= 2  # the hosting policy and the rollback-alarm access at least
        assert policies <= set(model["DependsOn"])


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_functions_wait_for_every_policy_of_their_role(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    functions = {
        logical_id: f
        for logical_id, f in resources_of_type(template, "AWS::Lambda::Function").items()
        if "VpcConfig" in f["Properties"]
    }
    for function in functions.values():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert _policies_of(template, role_id) <= set(function.get("DependsOn", []))


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_execution_role_may_describe_exactly_the_rollback_alarms(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    endpoint = one(template, "AWS::SageMaker::Endpoint")
    rollback = [
        a["AlarmName"]["Ref"]
        for a in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    ]
    (role_id,) = {
        m["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        for m in resources_of_type(template, "AWS::SageMaker::Model").values()
    }
    policies = {
        **resources_of_type(template, "AWS::IAM::ManagedPolicy"),
        **resources_of_type(template, "AWS::IAM::Policy"),
    }
    statements = [
        statement
        for logical_id in _policies_of(template, role_id)
        for statement in policies[logical_id]["Properties"]["PolicyDocument"]["Statement"]
        if "cloudwatch:DescribeAlarms" in json.dumps(statement.get("Action"))
    ]
    (statement,) = statements
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    assert sorted(r["Fn::GetAtt"][0] for r in resources) == sorted(rollback)


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_metrics_config_is_stated(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    config = one(synthesized.template_json(env, service), "AWS::SageMaker::EndpointConfig")
    metrics = spec(env_configs, env, service).metrics
    assert config["MetricsConfig"] == {
        "EnableDetailedObservability": metrics.detailed_observability,
        "EnableEnhancedMetrics": metrics.enhanced_metrics,
        "MetricPublishFrequencyInSeconds": metrics.publish_frequency_seconds,
    }
