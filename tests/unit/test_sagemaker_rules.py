"""The project's SageMaker rule pack: a compliant and a non-compliant case per rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sm
from constructs import Construct

from mlops_cdk.sagemaker_rules import PACK_NAME, SageMakerChecks
from tests.helpers import TEST_ENV, cdk_context, imported_vpc

ROLE = "arn:aws:iam::123456789012:role/x"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def findings(scope: Construct, production_stages: tuple[str, ...] = ()) -> set[tuple[str, str]]:
    report = SageMakerChecks(production_stages=production_stages).validate_scope(scope)
    return {
        (v.rule_name.removeprefix(f"{PACK_NAME}-"), str(r.construct_path))
        for v in report.violations
        for r in v.violating_resources
    }


def rules_for(scope: Construct, path: str, **kwargs: Any) -> set[str]:
    return {rule for rule, at in findings(scope, **kwargs) if at == path}


def stack(stage: str | None = None) -> cdk.Stack:
    app = cdk.App(context=cdk_context())
    parent: Construct = cdk.Stage(app, stage, env=TEST_ENV) if stage else app
    return cdk.Stack(parent, "S", env=None if stage else TEST_ENV)


def model(scope: Construct, *, vpc: bool, isolation: bool | None) -> None:
    sm.CfnModel(
        scope,
        "Model",
        execution_role_arn=ROLE,
        enable_network_isolation=isolation,
        vpc_config=sm.CfnModel.VpcConfigProperty(security_group_ids=["sg-1"], subnets=["subnet-1"])
        if vpc
        else None,
    )


@pytest.mark.parametrize(
    ("vpc", "isolation", "expected"),
    [
        (True, True, set()),
        (False, True, {"ModelVpc"}),
        (True, False, {"ModelNetworkIsolation"}),
        (True, None, {"ModelNetworkIsolation"}),
        (False, None, {"ModelVpc", "ModelNetworkIsolation"}),
    ],
)
def test_model_rules(vpc: bool, isolation: bool | None, expected: set[str]) -> None:
    s = stack()
    model(s, vpc=vpc, isolation=isolation)
    assert rules_for(s, "S/Model") == expected


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda s: iam.Role(
                s,
                "R",
                assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSageMakerFullAccess")
                ],
            ),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.Role(
                s, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
            ).add_to_policy(iam.PolicyStatement(actions=["sagemaker:*"], resources=["*"])),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.ManagedPolicy(
                s, "R", statements=[iam.PolicyStatement(actions=["*"], resources=["*"])]
            ),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.ManagedPolicy(
                s,
                "R",
                statements=[
                    iam.PolicyStatement(
                        actions=["sagemaker:InvokeEndpoint"],
                        resources=["arn:aws:sagemaker:eu-west-1:123456789012:endpoint/x"],
                    ),
                    iam.PolicyStatement(
                        effect=iam.Effect.DENY, actions=["sagemaker:*"], resources=["*"]
                    ),
                ],
            ),
            set(),
        ),
    ],
)
def test_no_full_access(build: Callable[[cdk.Stack], Any], expected: set[str]) -> None:
    s = stack()
    build(s)
    assert {rule for rule, _ in findings(s)} == expected


def endpoint_config(
    scope: Construct,
    *,
    instance_type: str = "ml.m5.large",
    count: int = 2,
    kms: bool = True,
    capture_kms: bool | None = True,
    serverless: bool = False,
) -> sm.CfnEndpointConfig:
    variant = sm.CfnEndpointConfig.ProductionVariantProperty(
        variant_name="champion",
        model_name="m",
        initial_variant_weight=1,
        instance_type=None if serverless else instance_type,
        initial_instance_count=None if serverless else count,
        serverless_config=sm.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=2048, max_concurrency=5
        )
        if serverless
        else None,
    )
    capture = None
    if capture_kms is not None:
        capture = sm.CfnEndpointConfig.DataCaptureConfigProperty(
            initial_sampling_percentage=10,
            destination_s3_uri="s3://b/capture",
            capture_options=[sm.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input")],
            kms_key_id=KEY if capture_kms else None,
        )
    return sm.CfnEndpointConfig(
        scope,
        "Config",
        production_variants=[variant],
        kms_key_id=KEY if kms else None,
        data_capture_config=capture,
    )


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        # SageMaker refuses VPC config and network isolation for serverless endpoints.
        (("serverless",), set()),
        (("serverless", "serverless"), set()),
        (("serverless", "instance"), {"ModelVpc", "ModelNetworkIsolation"}),
        (("instance",), {"ModelVpc", "ModelNetworkIsolation"}),
        ((), {"ModelVpc", "ModelNetworkIsolation"}),  # served by nothing in the stack
    ],
)
def test_model_rules_do_not_apply_to_a_model_only_serverless_variants_serve(
    kinds: tuple[str, ...], expected: set[str]
) -> None:
    s = stack()
    served = sm.CfnModel(s, "Model", execution_role_arn=ROLE)
    for number, kind in enumerate(kinds):
        sm.CfnEndpointConfig(
            s,
            f"Config{number}",
            production_variants=[
                sm.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="v",
                    model_name=served.attr_model_name,
                    initial_variant_weight=1,
                    instance_type="ml.m5.large" if kind == "instance" else None,
                    initial_instance_count=2 if kind == "instance" else None,
                    serverless_config=sm.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=2048, max_concurrency=5
                    )
                    if kind == "serverless"
                    else None,
                )
            ],
        )
    assert rules_for(s, "S/Model") == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, set()),
        ({"kms": False}, {"EndpointConfigKms"}),
        ({"kms": False, "instance_type": "ml.g5.xlarge"}, set()),
        ({"kms": False, "serverless": True, "capture_kms": None}, set()),
        ({"capture_kms": False}, {"DataCaptureKms"}),
        ({"capture_kms": None}, set()),
    ],
)
def test_endpoint_config_encryption(kwargs: dict[str, Any], expected: set[str]) -> None:
    s = stack()
    endpoint_config(s, **kwargs)
    assert rules_for(s, "S/Config") == expected


@pytest.mark.parametrize(("count", "in_prod", "expected"), [
    (2, True, set()),
    (1, True, {"ProdInstanceCount"}),
    (1, False, set()),
])  # fmt: skip
def test_production_instance_count(count: int, in_prod: bool, expected: set[str]) -> None:
    s = stack("prod")
    endpoint_config(s, count=count)
    production = ("prod",) if in_prod else ()
    assert rules_for(s, "prod/S/Config", production_stages=production) == expected


def test_production_detected_from_the_stage_itself() -> None:
    app = cdk.App(context=cdk_context())

    class ProdStage(cdk.Stage):
        production = True

    s = cdk.Stack(ProdStage(app, "live", env=TEST_ENV), "S")
    endpoint_config(s, count=1)
    assert rules_for(s, "live/S/Config") == {"ProdInstanceCount"}


def endpoint(
    scope: Construct, *, scaled: bool, deployment: bool = True, literal_name: bool = True
) -> sm.CfnEndpoint:
    config = endpoint_config(scope)
    ep = sm.CfnEndpoint(
        scope,
        "Endpoint",
        endpoint_name="ep" if literal_name else None,
        endpoint_config_name=config.attr_endpoint_config_name,
        deployment_config=sm.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sm.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sm.CfnEndpoint.TrafficRoutingConfigProperty(
                    type="ALL_AT_ONCE"
                )
            )
        )
        if deployment
        else None,
    )
    if scaled:
        name = "ep" if literal_name else ep.attr_endpoint_name
        appscaling.CfnScalableTarget(
            scope,
            "Target",
            service_namespace="sagemaker",
            resource_id=f"endpoint/{name}/variant/champion",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=2,
            max_capacity=4,
        )
    return ep


@pytest.mark.parametrize(
    ("scaled", "literal_name", "in_prod", "expected"),
    [
        (True, True, True, set()),
        (True, False, True, set()),
        (False, True, True, {"VariantAutoscaling"}),
        (False, False, True, {"VariantAutoscaling"}),
        # Outside production a fixed fleet is valid (the configuration reference says so).
        (False, True, False, set()),
    ],
)
def test_variant_autoscaling(
    scaled: bool, literal_name: bool, in_prod: bool, expected: set[str]
) -> None:
    s = stack("prod" if in_prod else "dev")
    endpoint(s, scaled=scaled, literal_name=literal_name)
    found = rules_for(s, f"{s.node.path}/Endpoint", production_stages=("prod",))
    assert found == expected


def test_serverless_endpoint_needs_no_scalable_target() -> None:
    s = stack()
    config = endpoint_config(s, serverless=True, kms=False, capture_kms=None)
    sm.CfnEndpoint(s, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
    assert rules_for(s, "S/Endpoint") == set()


@pytest.mark.parametrize(("deployment", "in_prod", "expected"), [
    (True, True, set()),
    (False, True, {"ProdDeploymentConfig"}),
    (False, False, set()),
])  # fmt: skip
def test_production_deployment_config(deployment: bool, in_prod: bool, expected: set[str]) -> None:
    s = stack("prod")
    endpoint(s, scaled=True, deployment=deployment)
    production = ("prod",) if in_prod else ()
    assert rules_for(s, "prod/S/Endpoint", production_stages=production) == expected


def vpc_endpoint(s: cdk.Stack, *, private_dns: bool, peer: ec2.IPeer) -> None:
    vpc = imported_vpc(s)
    group = ec2.SecurityGroup(s, "Group", vpc=vpc, allow_all_outbound=False)
    group.add_ingress_rule(peer, ec2.Port.tcp(443))
    vpc.add_interface_endpoint(
        "Endpoint",
        service=ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
        private_dns_enabled=private_dns,
        security_groups=[group],
        open=False,
    )


@pytest.mark.parametrize(
    ("private_dns", "peer", "expected"),
    [
        (True, ec2.Peer.ipv4("10.0.0.0/16"), set()),
        (False, ec2.Peer.ipv4("10.0.0.0/16"), {"EndpointPrivateDns"}),
        (True, ec2.Peer.any_ipv4(), {"EndpointOpenIngress"}),
        (True, ec2.Peer.any_ipv6(), {"EndpointOpenIngress"}),
    ],
)
def test_interface_endpoint_rules(private_dns: bool, peer: ec2.IPeer, expected: set[str]) -> None:
    s = stack()
    vpc_endpoint(s, private_dns=private_dns, peer=peer)
    assert rules_for(s, "S/Vpc/Endpoint/Resource") == expected


def test_separate_ingress_resource_is_checked_too() -> None:
    s = stack()
    vpc_endpoint(s, private_dns=True, peer=ec2.Peer.ipv4("10.0.0.0/16"))
    group = s.node.find_child("Group").node.default_child
    assert isinstance(group, ec2.CfnSecurityGroup)
    ec2.CfnSecurityGroupIngress(
        s, "Open", group_id=group.attr_group_id, ip_protocol="tcp", cidr_ip="0.0.0.0/0"
    )
    assert rules_for(s, "S/Vpc/Endpoint/Resource") == {"EndpointOpenIngress"}


def test_the_pack_runs_on_every_synth_and_fails_it() -> None:
    """Registered by the project's gates: an isolated-less model fails a gated synth."""
    from mlops_cdk.app_builder import create_app

    app = create_app(context=cdk_context())
    s = cdk.Stack(app, "Gated", env=TEST_ENV)
    model(s, vpc=True, isolation=False)
    with pytest.raises(RuntimeError, match="MlopsSageMaker-ModelNetworkIsolation"):
        app.synth()
