"""WeightedEndpoint: variants and weights, KMS, data capture, guardrails, retained counts."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from mlops_cdk.app.builder import create_app
from mlops_cdk.constructs.autoscaling import InstanceAutoscaling, VariantAutoscaling
from mlops_cdk.constructs.endpoint import (
    CapacitySize,
    DataCaptureSpec,
    DeploymentSpec,
    MetricsSpec,
    VariantSpec,
    WeightedEndpoint,
)
from tests.helpers import TEST_ENV, cdk_context, new_stack
from tests.unit.constructs.variant_helpers import models_of, on_instances, serverless

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
CANARY = DeploymentSpec(
    strategy="canary",
    canary_size=CapacitySize("capacity_percent", 10),
    wait_seconds=600,
    termination_wait_seconds=120,
    maximum_execution_timeout_seconds=3600,
)


def build(
    stack: cdk.Stack,
    variants: list[VariantSpec],
    *,
    deployment: DeploymentSpec = CANARY,
    capture: DataCaptureSpec | None = None,
    alarms: bool = False,
    metrics: MetricsSpec | None = None,
) -> WeightedEndpoint:
    # Imported: the compliance packs judge only what the endpoint construct creates.
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts-bucket")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    rollback = []
    roles: list[iam.IRole] = []
    if alarms:
        rollback = [
            cloudwatch.Alarm.from_alarm_name(stack, "Errors", "errors-alarm"),
            cloudwatch.Alarm.from_alarm_name(stack, "Latency", "latency-alarm"),
        ]
        roles = [iam.Role.from_role_name(stack, "Execution", "sagemaker-execution")]
    return WeightedEndpoint(
        stack,
        "Endpoint",
        endpoint_name="test-endpoint",
        variants=variants,
        models=models_of(variants),
        key=key,
        deployment=deployment,
        capture_bucket=bucket,
        capture_prefix="data-capture/",
        data_capture=capture,
        rollback_alarms=rollback,
        execution_roles=roles,
        metrics=metrics,
    )


AB = [
    on_instances("champion", "model-a", 90, "ml.m5.large", 2),
    on_instances("challenger", "model-b", 10, "ml.m5.large", 2),
]


@pytest.fixture(scope="module")
def template() -> Template:
    stack = new_stack()
    build(
        stack,
        AB,
        capture=DataCaptureSpec(25, capture_input=True, capture_output=False),
        alarms=True,
    )
    return Template.from_stack(stack)


def config_props(template: Template) -> dict[str, Any]:
    (config,) = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    props: dict[str, Any] = config["Properties"]
    return props


def test_variants_and_weights(template: Template) -> None:
    variants = config_props(template)["ProductionVariants"]
    assert [
        (v["VariantName"], v["InitialVariantWeight"], v["InitialInstanceCount"]) for v in variants
    ] == [
        ("champion", 90, 2),
        ("challenger", 10, 2),
    ]
    assert {v["InstanceType"] for v in variants} == {"ml.m5.large"}


def test_no_physical_name_on_endpoint_config_and_kms_on_volumes(template: Template) -> None:
    props = config_props(template)
    assert "EndpointConfigName" not in props
    assert props["KmsKeyId"] == KEY_ARN


def test_data_capture_to_the_bucket_prefix_with_kms(template: Template) -> None:
    capture = config_props(template)["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 25
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}]
    assert capture["KmsKeyId"] == KEY_ARN
    assert capture["DestinationS3Uri"] == "s3://artifacts-bucket/data-capture"


def test_endpoint_guardrails_and_retained_instance_counts(template: Template) -> None:
    (endpoint,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    props = endpoint["Properties"]
    assert props["EndpointName"] == "test-endpoint"
    assert props["EndpointConfigName"]["Fn::GetAtt"][1] == "EndpointConfigName"
    assert props["RetainAllVariantProperties"] is True
    assert props["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]
    assert props["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 600,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
            "TerminationWaitInSeconds": 120,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [{"AlarmName": "errors-alarm"}, {"AlarmName": "latency-alarm"}]
        },
    }


def test_traffic_shares_are_stack_outputs(template: Template) -> None:
    outputs = template.find_outputs("*")
    values = {o["Value"] for o in outputs.values() if isinstance(o["Value"], str)}
    # The one output that is not a literal: the config this stack deploys (make smoke).
    assert outputs["EndpointConfigName"]["Value"] == {
        "Fn::GetAtt": ["EndpointConfig24AD0A28", "EndpointConfigName"]
    }
    assert values == {
        "champion 90% / challenger 10%",
        "champion 90%",
        "challenger 10%",
        # 10 % of 2 instances rounds up to one instance: half of each variant's fleet
        "champion canary: 1 of 2 instances = 50 %; challenger canary: 1 of 2 instances = 50 %",
    }


def test_linear_and_all_at_once_routing() -> None:
    stack = new_stack()
    build(
        stack,
        AB,
        deployment=DeploymentSpec(
            "linear", linear_step_size=CapacitySize("instance_count", 1), wait_seconds=60
        ),
    )
    (endpoint,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
    routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing == {
        "Type": "LINEAR",
        "WaitIntervalInSeconds": 60,
        "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
    }
    stack = new_stack("AllAtOnce")
    build(stack, AB, deployment=DeploymentSpec())
    (endpoint,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
    policy = endpoint["Properties"]["DeploymentConfig"]
    # WaitIntervalInSeconds is required by the API for every type (the baking period)
    assert policy["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 300,
    }
    assert "AutoRollbackConfiguration" not in policy


@pytest.mark.parametrize(
    ("deployment", "alarms", "message"),
    [
        (
            DeploymentSpec("canary", canary_size=CapacitySize("instance_count", 2)),
            False,
            "variant 'champion': canary: 2 of 2 instances = 100 %",
        ),
        (
            DeploymentSpec("linear", linear_step_size=CapacitySize("capacity_percent", 60)),
            False,
            "variant 'champion': linear: 2 of 2 instances = 100 %",
        ),
        (
            DeploymentSpec("all_at_once", wait_seconds=0),
            True,
            "rollback alarms are only evaluated during the baking period",
        ),
    ],
)
def test_guardrails_sagemaker_would_reject(
    deployment: DeploymentSpec, alarms: bool, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(new_stack(), AB, deployment=deployment, alarms=alarms)


def test_small_percentages_round_up_to_a_valid_step() -> None:
    """5 % of 2 instances is one instance (50 %): within SageMaker's linear bounds."""
    endpoint = build(
        new_stack(),
        AB,
        deployment=DeploymentSpec("linear", linear_step_size=CapacitySize("capacity_percent", 5)),
    )
    assert endpoint.deployment_steps == [
        "champion linear: 1 of 2 instances = 50 %",
        "challenger linear: 1 of 2 instances = 50 %",
    ]


def gated_synth(variants: list[VariantSpec]) -> dict[str, Any]:
    """Synthesize with every compliance pack: raises if the endpoint leaves a finding open."""
    app = create_app(context=cdk_context())
    stack = cdk.Stack(app, "Gated", env=TEST_ENV)
    endpoint = build(stack, variants, deployment=DeploymentSpec())
    for v in variants:  # the project's pack requires a scalable target per instance variant
        if v.instance:
            VariantAutoscaling(
                stack,
                f"Scaling{v.name}",
                endpoint_name=endpoint.endpoint_name,
                variant_name=v.name,
                scaling=InstanceAutoscaling(min_capacity=1, max_capacity=2, target_value=100),
                depends_on=endpoint.endpoint,
            )
    assembly = app.synth()
    template: dict[str, Any] = assembly.get_stack_by_name("Gated").template
    return template


def test_nvme_instance_types_get_no_kms_key_and_a_reasoned_acknowledgement() -> None:
    template = gated_synth(
        [
            on_instances("gpu", "m", 1, "ml.g5.xlarge", 1),
            on_instances("cpu", "m", 1, "ml.m5.large", 1),
        ]
    )
    (config,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"
    ]
    assert "KmsKeyId" not in config["Properties"]


def test_serverless_variant() -> None:
    template = gated_synth([serverless("s", "m", 1, 2048, 10, provisioned_concurrency=2)])
    (config,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"
    ]
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 10,
        "ProvisionedConcurrency": 2,
    }
    assert "InstanceType" not in variant
    assert "KmsKeyId" not in config["Properties"]


def test_an_unacknowledged_config_without_a_key_fails_the_gates() -> None:
    """The same NVMe variant without the construct's acknowledgement is a HIPAA/NIST finding,
    so the passing NVMe test above really depends on that acknowledgement."""
    app = create_app(context=cdk_context())
    stack = cdk.Stack(app, "Raw", env=TEST_ENV)
    sagemaker.CfnEndpointConfig(
        stack,
        "Config",
        production_variants=[
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="gpu",
                model_name="m",
                initial_variant_weight=1,
                instance_type="ml.g5.xlarge",
                initial_instance_count=1,
            )
        ],
    )
    with pytest.raises(RuntimeError, match="SageMakerEndpointConfigurationKMSKeyConfigured"):
        app.synth()


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([], "at least one variant"),
        (
            [on_instances(f"v{i}", "m", 1, "ml.m5.large", 1) for i in range(11)],
            "variants: 11 variants; SageMaker allows at most 10",
        ),
        ([on_instances("a", "m", 1, "ml.m5.large", 1)] * 2, "duplicate variant name 'a'"),
        ([on_instances("a", "m", 0, "ml.m5.large", 1)], "all initial weights are 0"),
        (
            [
                serverless("s", "m", 1, 2048, 5),
                on_instances("a", "m", 1, "ml.m5.large", 1),
            ],
            "serverless variant must be the only variant",
        ),
    ],
)
def test_invalid_endpoint_props(variants: list[VariantSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(new_stack(), variants)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"initial_weight": -1, "instance_type": "ml.m5.large", "initial_instance_count": 1},
            "initial_weight: Input should be greater than or equal to 0",
        ),
        ({"initial_weight": 1, "instance_type": "m5.large", "initial_instance_count": 1}, "'ml.'"),
        (
            {"initial_weight": 1, "instance_type": "ml.m5.large", "initial_instance_count": 0},
            "initial_instance_count: Input should be greater than or equal to 1",
        ),
    ],
)
def test_invalid_variant_spec(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        on_instances(
            "v",
            "m",
            kwargs["initial_weight"],
            kwargs["instance_type"],
            kwargs["initial_instance_count"],
        )


def test_a_variant_has_one_capacity_kind() -> None:
    with pytest.raises(ValueError, match="instance: set exactly one of instance or serverless"):
        VariantSpec(name="v", model="m", initial_weight=1)


def test_a_variant_names_a_model_of_the_endpoint() -> None:
    variants = [on_instances("a", "churn-v2", 1, "ml.m5.large", 1)]
    with pytest.raises(
        ValueError, match=r"variants\[0\]\.model: unknown model 'churn-v2' \(models: churn-v1\)"
    ):
        WeightedEndpoint(new_stack(), "Endpoint", variants=variants, models={"churn-v1": "m"})


def test_invalid_deployment_and_capture_specs() -> None:
    with pytest.raises(ValueError, match="canary_size: required for the canary strategy"):
        DeploymentSpec(strategy="canary")
    with pytest.raises(ValueError, match="linear_step_size: only used by the linear strategy"):
        DeploymentSpec(linear_step_size=CapacitySize("instance_count", 1))
    with pytest.raises(ValueError, match="wait_seconds: must be 0-3600 seconds"):
        DeploymentSpec(wait_seconds=3601)
    with pytest.raises(ValueError, match="maximum_execution_timeout_seconds: must be 600-28800"):
        DeploymentSpec(maximum_execution_timeout_seconds=599)
    with pytest.raises(ValueError, match=r"\(2 baking periods of 600 s = 1200 s\)"):
        DeploymentSpec(
            strategy="rolling",
            rolling_batch_size=CapacitySize("instance_count", 1),
            wait_seconds=600,
            maximum_execution_timeout_seconds=1200,
        )
    with pytest.raises(ValueError, match=r"value: a percentage below 100 \(100% is all-at-once\)"):
        CapacitySize("capacity_percent", 100)
    with pytest.raises(ValueError, match="1-100"):
        DataCaptureSpec(0)
    with pytest.raises(
        ValueError, match="data capture: capture_input: capture at least one of input or output"
    ):
        DataCaptureSpec(10, capture_input=False, capture_output=False)
    with pytest.raises(ValueError, match="sampling_percentage: has no effect while data capture"):
        DataCaptureSpec(50, enabled=False)
    DataCaptureSpec(enabled=False)  # disabled, nothing else said: valid


def test_a_disabled_capture_spec_captures_nothing() -> None:
    stack = new_stack()
    build(stack, AB, capture=DataCaptureSpec(enabled=False))
    assert "DataCaptureConfig" not in config_props(Template.from_stack(stack))


# --- Auto-rollback can act: the execution role may describe the rollback alarms --------------


def test_execution_roles_may_describe_the_rollback_alarms_only(template: Template) -> None:
    (policy,) = template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"Roles": ["sagemaker-execution"]}}
    ).values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "cloudwatch:DescribeAlarms"
    assert statement["Effect"] == "Allow"
    resources = statement["Resource"]
    assert len(resources) == 2
    assert all(":alarm:" in str(r) for r in resources)
    assert any("errors-alarm" in str(r) for r in resources)
    assert any("latency-alarm" in str(r) for r in resources)


def test_endpoint_waits_for_the_rollback_alarm_access(template: Template) -> None:
    (policy_id,) = template.find_resources("AWS::IAM::ManagedPolicy")
    (endpoint,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    assert policy_id in endpoint["DependsOn"]


def test_rollback_alarms_without_execution_roles_are_refused() -> None:
    stack = new_stack()
    alarm = cloudwatch.Alarm.from_alarm_name(stack, "A", "latency")
    with pytest.raises(ValueError, match=r"cloudwatch:DescribeAlarms\); give execution_roles"):
        WeightedEndpoint(
            stack,
            "Endpoint",
            endpoint_name="e",
            variants=AB[:1],
            models=models_of(AB),
            rollback_alarms=[alarm],
        )


def test_no_rollback_alarms_no_describe_policy() -> None:
    stack = new_stack()
    build(stack, AB)
    Template.from_stack(stack).resource_count_is("AWS::IAM::ManagedPolicy", 0)


# --- MetricsConfig is stated, never left to AWS's default ---------------------------------------


def test_metrics_config_is_stated_with_explicit_defaults(template: Template) -> None:
    assert config_props(template)["MetricsConfig"] == {
        "EnableDetailedObservability": False,
        "EnableEnhancedMetrics": False,
        "MetricPublishFrequencyInSeconds": 60,
    }


def test_metrics_config_as_given() -> None:
    stack = new_stack()
    build(stack, AB, metrics=MetricsSpec(True, True, 10))
    assert config_props(Template.from_stack(stack))["MetricsConfig"] == {
        "EnableDetailedObservability": True,
        "EnableEnhancedMetrics": True,
        "MetricPublishFrequencyInSeconds": 10,
    }


@pytest.mark.parametrize("frequency", [0, 5, 15, 59, 301, 600])
def test_publish_frequency_outside_aws_values_is_refused(frequency: int) -> None:
    with pytest.raises(ValueError, match="publish_frequency_seconds: must be one of 10, 30, 60"):
        MetricsSpec(publish_frequency_seconds=frequency)


def test_serverless_config_states_no_metrics_and_refuses_them() -> None:
    only = [serverless("only", "m", 1, 2048, 5)]
    stack = new_stack()
    WeightedEndpoint(stack, "Endpoint", variants=only, models=models_of(only))
    (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
    assert "MetricsConfig" not in config["Properties"]
    with pytest.raises(ValueError, match="a serverless endpoint has none"):
        WeightedEndpoint(
            new_stack(),
            "Endpoint",
            variants=only,
            models=models_of(only),
            metrics=MetricsSpec(enhanced_metrics=True),
        )
