"""Builders for the SageMaker pack's tests, and ``findings``: the pack run as every synth runs
it (registered on the app, templates synthesized, findings read from validation-report.json,
construct paths and acknowledgements applied by CDK)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sm
from constructs import Construct

from mlops_cdk.compliance.sagemaker import PACK_NAME, SageMakerChecks
from tests.helpers import TEST_ENV, cdk_context, imported_vpc

ROLE = "arn:aws:iam::123456789012:role/x"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
# Every instance-backed config states its metrics (EndpointConfigMetrics).
METRICS = sm.CfnEndpointConfig.MetricsConfigProperty(
    enable_detailed_observability=False, enable_enhanced_metrics=False
)
# Each test app writes its cloud assembly below this directory, removed when the run ends.
_OUTDIRS = tempfile.TemporaryDirectory(prefix="mlops-sagemaker-pack-")


def app() -> cdk.App:
    """An App whose synth records findings in validation-report.json instead of failing."""
    return cdk.App(
        context=cdk_context(),
        outdir=tempfile.mkdtemp(dir=_OUTDIRS.name),
        post_cli_context={"@aws-cdk/core:failSynthOnValidationErrors": False},
    )


def stack(stage: str | None = None) -> cdk.Stack:
    """Stack ``S`` of a new app, in stage ``stage`` if given."""
    root = app()
    parent: Construct = cdk.Stage(root, stage, env=TEST_ENV) if stage else root
    return cdk.Stack(parent, "S", env=None if stage else TEST_ENV)


def stage_stack(
    parent: Construct | None = None, stage: str = "prod", stack: str = "S"
) -> cdk.Stack:
    scope = cdk.Stage(parent or app(), stage, env=TEST_ENV)
    return cdk.Stack(scope, stack)


def sibling(stack: cdk.Stack, name: str) -> cdk.Stack:
    """Another stack of the same stage."""
    stage = cdk.Stage.of(stack)
    assert stage is not None
    return cdk.Stack(stage, name)


def findings(
    scope: Construct,
    production_stages: tuple[str, ...] = (),
    *,
    pack: SageMakerChecks | None = None,
) -> set[tuple[str, str]]:
    """(rule id, construct path) of every unacknowledged finding at or below ``scope``."""
    root = cast(cdk.App, scope.node.root)
    cdk.Validations.of(root).add_plugins(
        pack or SageMakerChecks(production_stages=production_stages)
    )
    root.synth()
    report = json.loads((Path(root.outdir) / "validation-report.json").read_text())
    within = scope.node.path
    return {
        (violation["ruleName"].removeprefix(f"{PACK_NAME}-"), construct["constructPath"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == PACK_NAME
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if not within
        or construct["constructPath"] == within
        or construct["constructPath"].startswith(f"{within}/")
    }


def rules_for(scope: Construct, path: str, **kwargs: Any) -> set[str]:
    """The rules that fire on the construct at ``path``."""
    return {rule for rule, at in findings(scope, **kwargs) if at == path}


def fires(scope: Construct, path: str, rule: str) -> bool:
    return (rule, path) in findings(scope)


# --- SageMaker resources --------------------------------------------------------------------


def model(scope: Construct, *, vpc: bool, isolation: bool | None) -> None:
    sm.CfnModel(
        scope,
        "Model",
        execution_role_arn=ROLE,
        enable_network_isolation=isolation,
        vpc_config=sm.CfnModel.VpcConfigProperty(
            security_group_ids=["sg-0123456789abcdef0"], subnets=["subnet-01234567"]
        )
        if vpc
        else None,
    )


def endpoint_config(
    scope: Construct,
    *,
    instance_type: str = "ml.m5.large",
    count: int = 2,
    kms: bool = True,
    capture_kms: bool | None = True,
    serverless: bool = False,
) -> sm.CfnEndpointConfig:
    """Endpoint config ``Config`` with one variant ``champion`` serving model ``m``."""
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
        metrics_config=None if serverless else METRICS,
    )


def guarded_endpoint(
    scope: Construct, *, scaled: bool, deployment: bool = True, literal_name: bool = True
) -> sm.CfnEndpoint:
    """Endpoint ``Endpoint`` on :func:`endpoint_config`, blue/green all at once, and a scalable
    target of its variant when ``scaled``."""
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


def endpoint(
    scope: Construct,
    *,
    name: str | None = "ep",
    instance_type: str = "ml.m5.xlarge",
    count: int = 2,
    serverless: bool = False,
    deployment: sm.CfnEndpoint.DeploymentConfigProperty | None = None,
    scaling: tuple[int, int] | None = None,
    prefix: str = "",
    asynchronous: bool = False,
) -> sm.CfnEndpoint:
    """An endpoint ``name`` with one variant ``champion`` (and its scalable target), serving
    asynchronous inference (an encrypted output path) when ``asynchronous``."""
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
    config = sm.CfnEndpointConfig(
        scope,
        f"{prefix}Config",
        production_variants=[variant],
        kms_key_id=KEY,
        metrics_config=None if serverless else METRICS,
        async_inference_config=sm.CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=sm.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path="s3://b/async/output", kms_key_id=KEY
            )
        )
        if asynchronous
        else None,
    )
    ep = sm.CfnEndpoint(
        scope,
        f"{prefix}Endpoint",
        endpoint_name=name,
        endpoint_config_name=config.attr_endpoint_config_name,
        deployment_config=deployment,
    )
    if scaling is not None:
        appscaling.CfnScalableTarget(
            scope,
            f"{prefix}Target",
            service_namespace="sagemaker",
            resource_id=f"endpoint/{name or ep.attr_endpoint_name}/variant/champion",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=scaling[0],
            max_capacity=scaling[1],
        )
    return ep


def blue_green(
    kind: str,
    step: tuple[str, int] | None = None,
    *,
    wait: int | None = 300,
    rollback_alarms: tuple[str, ...] = (),
    termination: int | None = None,
    timeout: int | None = None,
) -> sm.CfnEndpoint.DeploymentConfigProperty:
    size = sm.CfnEndpoint.CapacitySizeProperty(type=step[0], value=step[1]) if step else None
    return sm.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sm.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=sm.CfnEndpoint.TrafficRoutingConfigProperty(
                type=kind,
                wait_interval_in_seconds=wait,
                canary_size=size if kind == "CANARY" else None,
                linear_step_size=size if kind == "LINEAR" else None,
            ),
            termination_wait_in_seconds=termination,
            maximum_execution_timeout_in_seconds=timeout,
        ),
        auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name=a) for a in rollback_alarms]
        )
        if rollback_alarms
        else None,
    )


# --- network --------------------------------------------------------------------------------


def vpc_endpoint(s: cdk.Stack, *, private_dns: bool, peer: ec2.IPeer) -> None:
    """A SageMaker runtime interface endpoint whose security group admits ``peer`` on 443."""
    vpc = imported_vpc(s)
    group = ec2.SecurityGroup(s, "Group", vpc=vpc, allow_all_outbound=False)
    group.add_ingress_rule(peer, ec2.Port.tcp(443))
    endpoint = vpc.add_interface_endpoint(
        "Endpoint",
        service=ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
        private_dns_enabled=private_dns,
        security_groups=[group],
        open=False,
    )
    # A bounded policy (VpcEndpointPolicyBounded): these tests are about the other rules.
    endpoint.add_to_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["sagemaker:InvokeEndpoint"],
            resources=["arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ep"],
        )
    )


# --- alarms ---------------------------------------------------------------------------------


def alarm(
    scope: Construct,
    construct_id: str = "Alarm",
    *,
    namespace: str = "AWS/SQS",
    metric: str = "ApproximateAgeOfOldestMessage",
    dimensions: dict[str, Any] | None = None,
    threshold: float = 1,
    **kwargs: Any,
) -> cloudwatch.CfnAlarm:
    return cloudwatch.CfnAlarm(
        scope,
        construct_id,
        namespace=namespace,
        metric_name=metric,
        dimensions=[
            cloudwatch.CfnAlarm.DimensionProperty(name=k, value=v)
            for k, v in (dimensions or {}).items()
        ],
        statistic="Average",
        period=60,
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        **kwargs,
    )


def variant_dimensions(endpoint_name: Any = "ep") -> dict[str, Any]:
    return {"EndpointName": endpoint_name, "VariantName": "champion"}
