"""SageMaker pack rules for failures that only show at deploy or run time: alarm delivery,
utilization thresholds, deployment step sizes, rollback baking, KMS grants, watched metrics.

Each rule has compliant and non-compliant cases; ``fires`` looks at one rule on one resource,
so other rules firing on the same test resources do not interfere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sm
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk import sagemaker_metrics as metrics
from mlops_cdk.sagemaker_rules import PACK_NAME, SageMakerChecks, effective_step, step_share
from tests.helpers import TEST_ENV, cdk_context

KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


def findings(scope: Construct) -> set[tuple[str, str]]:
    report = SageMakerChecks().validate_scope(scope)
    return {
        (v.rule_name.removeprefix(f"{PACK_NAME}-"), str(r.construct_path))
        for v in report.violations
        for r in v.violating_resources
    }


def fires(scope: Construct, path: str, rule: str) -> bool:
    return (rule, path) in findings(scope)


def app() -> cdk.App:
    return cdk.App(context=cdk_context())


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
) -> sm.CfnEndpoint:
    """An endpoint ``name`` with one variant ``champion`` (and its scalable target)."""
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
        scope, f"{prefix}Config", production_variants=[variant], kms_key_id=KEY
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


# --- sagemaker_metrics ------------------------------------------------------------------------


def test_documented_namespaces_and_summed_metrics() -> None:
    assert metrics.SAGEMAKER_NAMESPACE == "AWS/SageMaker"
    assert metrics.INSTANCE_NAMESPACE == "/aws/sagemaker/Endpoints"
    assert metrics.UTILIZATION_SUMMED == {
        "CPUUtilization": "vcpus",
        "GPUUtilization": "gpus",
        "GPUMemoryUtilization": "gpus",
    }
    assert set(metrics.UTILIZATION_SUMMED) <= metrics.ENDPOINT_INSTANCE_METRICS
    assert {"Invocations", "InvocationModelErrors", "ModelLatency", "OverheadLatency"} <= (
        metrics.ENDPOINT_INVOCATION_METRICS
    )
    assert {"CPUReservation", "MemoryReservation", "GPUReservation"} <= metrics.INSTANCE_METRICS
    assert not metrics.ENDPOINT_METRICS & metrics.INSTANCE_METRICS


@pytest.mark.parametrize(
    ("namespace", "model_monitor"),
    [
        ("aws/sagemaker/Endpoints/data-metrics", True),
        ("aws/sagemaker/Endpoints/model-metrics", True),
        ("aws/sagemaker/Endpoints/bias-metrics", True),
        ("aws/sagemaker/Endpoints/explainability-metrics", True),
        ("aws/sagemaker/ModelMonitoring/model-metrics", True),
        ("/aws/sagemaker/Endpoints/data-metric", True),
        ("/aws/sagemaker/Endpoint/data-metrics", True),
        ("/aws/sagemaker/Endpoints", False),
        ("AWS/SageMaker", False),
        ("Mlops/Quality", False),
    ],
)
def test_model_monitor_namespaces(namespace: str, model_monitor: bool) -> None:
    assert metrics.is_model_monitor_namespace(namespace) is model_monitor


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "instances"),
    [
        ("INSTANCE_COUNT", 1, 5, 1),
        ("INSTANCE_COUNT", 3, 2, 3),
        ("CAPACITY_PERCENT", 10, 3, 1),  # rounded up to a whole instance
        ("CAPACITY_PERCENT", 50, 3, 2),
        ("CAPACITY_PERCENT", 50, 4, 2),
        ("CAPACITY_PERCENT", 25, 10, 3),
        ("CAPACITY_PERCENT", 10, 10, 1),
        ("CAPACITY_PERCENT", 100, 7, 7),
    ],
)
def test_effective_step(step_type: str, value: int, fleet: int, instances: int) -> None:
    assert effective_step(step_type, value, fleet) == instances
    assert step_share(step_type, value, fleet) == instances / fleet
    assert effective_step(step_type.lower(), value, fleet) == instances  # the config's spelling


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "message"),
    [("PERCENT", 10, 3, "step type"), ("INSTANCE_COUNT", 1, 0, "at least one instance")],
)
def test_effective_step_refuses_nonsense(
    step_type: str, value: int, fleet: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        effective_step(step_type, value, fleet)


@pytest.mark.parametrize(
    ("kind", "step_type", "value", "fleet", "valid"),
    [
        ("CANARY", "INSTANCE_COUNT", 1, 2, True),
        ("CANARY", "INSTANCE_COUNT", 1, 1, False),
        ("CANARY", "CAPACITY_PERCENT", 50, 3, False),  # 2 of 3
        ("LINEAR", "INSTANCE_COUNT", 1, 10, True),
        ("LINEAR", "INSTANCE_COUNT", 1, 11, False),  # 9 %
        ("LINEAR", "CAPACITY_PERCENT", 10, 19, True),  # 2 of 19
        ("LINEAR", "CAPACITY_PERCENT", 10, 30, True),  # exactly 3 of 30 = 10 %
        ("CANARY", "CAPACITY_PERCENT", 50, 100, True),  # exactly 50 of 100
    ],
)
def test_step_within_limits(kind: str, step_type: str, value: int, fleet: int, valid: bool) -> None:
    assert metrics.step_within_limits(kind, step_type, value, fleet) is valid


# --- AlarmTopicCloudWatch ----------------------------------------------------------------------


def _notify(s: cdk.Stack, topic: sns.ITopic) -> None:
    cloudwatch.Alarm(
        s,
        "A",
        metric=cloudwatch.Metric(namespace="AWS/SQS", metric_name="NumberOfMessagesSent"),
        threshold=1,
        evaluation_periods=1,
    ).add_alarm_action(actions.SnsAction(topic))


def _allow_cloudwatch(topic: sns.Topic, action: str = "sns:Publish") -> None:
    topic.add_to_resource_policy(
        iam.PolicyStatement(principals=[CLOUDWATCH], actions=[action], resources=[topic.topic_arn])
    )


def _topic_cases() -> list[tuple[str, Callable[[cdk.Stack], sns.ITopic], bool]]:
    def plain(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T")

    def ssl_only(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T", enforce_ssl=True)  # a topic policy with only a Deny

    def ssl_and_cloudwatch(action: str) -> Callable[[cdk.Stack], sns.ITopic]:
        def build(s: cdk.Stack) -> sns.ITopic:
            topic = sns.Topic(s, "T", enforce_ssl=True)
            _allow_cloudwatch(topic, action)
            return topic

        return build

    def encrypted(*grant: str) -> Callable[[cdk.Stack], sns.ITopic]:
        def build(s: cdk.Stack) -> sns.ITopic:
            key = kms.Key(s, "Key")
            if grant:
                key.grant(CLOUDWATCH, *grant)
            return sns.Topic(s, "T", master_key=key)

        return build

    def aws_managed_key(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic(s, "T", master_key=kms.Alias.from_alias_name(s, "K", "alias/aws/sns"))

    def imported(s: cdk.Stack) -> sns.ITopic:
        return sns.Topic.from_topic_arn(s, "T", "arn:aws:sns:eu-west-1:123456789012:other")

    return [
        ("no topic policy", plain, False),
        ("topic policy without cloudwatch", ssl_only, True),
        ("topic policy allows sns:Publish", ssl_and_cloudwatch("sns:Publish"), False),
        ("topic policy allows SNS:*", ssl_and_cloudwatch("SNS:*"), False),
        ("topic policy allows *", ssl_and_cloudwatch("*"), False),
        ("topic policy allows sns:Subscribe only", ssl_and_cloudwatch("sns:Subscribe"), True),
        ("key without cloudwatch", encrypted(), True),
        ("key grants cloudwatch", encrypted("kms:Decrypt", "kms:GenerateDataKey*"), False),
        ("key grants kms:*", encrypted("kms:*"), False),
        ("key grants GenerateDataKey only", encrypted("kms:Decrypt", "kms:GenerateDataKey"), True),
        ("key grants no Decrypt", encrypted("kms:GenerateDataKey*"), True),
        ("AWS managed key", aws_managed_key, True),
        ("topic of another stack", imported, False),
    ]


@pytest.mark.parametrize(
    ("build", "expected"),
    [(build, expected) for _, build, expected in _topic_cases()],
    ids=[case for case, _, _ in _topic_cases()],
)
def test_alarm_topic_cloudwatch(build: Callable[[cdk.Stack], sns.ITopic], expected: bool) -> None:
    s = stage_stack()
    _notify(s, build(s))
    assert fires(s, "prod/S/A/Resource", "AlarmTopicCloudWatch") is expected


@pytest.mark.parametrize("policy_allows", [True, False])
def test_ok_and_insufficient_data_actions_and_inline_policies(policy_allows: bool) -> None:
    s = stage_stack()
    topic = sns.CfnTopic(s, "T")
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {
            "Service": "cloudwatch.amazonaws.com" if policy_allows else "s3.amazonaws.com"
        },
        "Action": "sns:Publish",
        "Resource": topic.ref,
    }
    sns.CfnTopicInlinePolicy(
        s, "P", topic_arn=topic.ref, policy_document={"Statement": [statement]}
    )
    alarm(s, "Ok", ok_actions=[topic.ref])
    alarm(s, "Insufficient", insufficient_data_actions=[topic.ref])
    for path in ("prod/S/Ok", "prod/S/Insufficient"):
        assert fires(s, path, "AlarmTopicCloudWatch") is not policy_allows


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("*", False),
        ({"AWS": "*"}, False),  # like SNS's default policy (conditioned on the owner account)
        ({"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}, False),
        ({"AWS": "arn:aws:iam::123456789012:root"}, True),
    ],
)
def test_topic_policy_principals(principal: Any, expected: bool) -> None:
    s = stage_stack()
    topic = sns.CfnTopic(s, "T")
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["sns:Publish", "sns:Subscribe"],
                "Resource": topic.ref,
                "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}},
            }
        ]
    }
    sns.CfnTopicPolicy(s, "P", topics=[topic.ref], policy_document=document)
    alarm(s, alarm_actions=[topic.ref])
    assert fires(s, "prod/S/Alarm", "AlarmTopicCloudWatch") is expected


def test_topics_named_by_getatt_are_checked_too() -> None:
    s = stage_stack()
    topic = sns.Topic(s, "T", enforce_ssl=True)
    cfn_topic = topic.node.default_child
    assert isinstance(cfn_topic, sns.CfnTopic)
    alarm(s, alarm_actions=[cfn_topic.attr_topic_arn])
    assert fires(s, "prod/S/Alarm", "AlarmTopicCloudWatch")


def test_composite_alarms_are_checked_too() -> None:
    s = stage_stack()
    topic = sns.Topic(s, "T", enforce_ssl=True)
    child = alarm(s)
    cloudwatch.CfnCompositeAlarm(
        s, "Composite", alarm_rule=f"ALARM({child.ref})", alarm_actions=[topic.topic_arn]
    )
    assert fires(s, "prod/S/Composite", "AlarmTopicCloudWatch")


# --- UtilizationThreshold ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "metric", "threshold", "expected"),
    [
        ("ml.m5.xlarge", "CPUUtilization", 90, True),  # 22.5 % of 4 vCPUs
        ("ml.m5.xlarge", "CPUUtilization", 100, True),
        ("ml.m5.xlarge", "CPUUtilization", 101, False),
        ("ml.m5.xlarge", "CPUUtilization", 360, False),
        ("ml.m5.xlarge", "CPUUtilization", 400, False),
        ("ml.m5.xlarge", "CPUUtilization", 401, True),  # never reached
        ("ml.t2.medium", "CPUUtilization", 90, True),  # 2 vCPUs despite "medium"
        ("ml.t2.medium", "CPUUtilization", 180, False),
        ("ml.c8g.medium", "CPUUtilization", 90, False),  # one vCPU: a plain percentage
        ("ml.c8g.medium", "CPUUtilization", 101, True),
        ("ml.g5.12xlarge", "GPUUtilization", 90, True),  # 4 GPUs
        ("ml.g5.12xlarge", "GPUMemoryUtilization", 320, False),
        ("ml.g5.xlarge", "GPUUtilization", 90, False),  # one GPU
        ("ml.m5.xlarge", "GPUUtilization", 50, True),  # no GPUs: never published
        ("ml.g7.2xlarge", "GPUUtilization", 90, True),  # GPU count unknown to the package
        ("ml.m5.xlarge", "MemoryUtilization", 90, False),  # not summed
        ("ml.m5.xlarge", "DiskUtilization", 90, False),
    ],
)
def test_utilization_threshold(
    instance_type: str, metric: str, threshold: float, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, instance_type=instance_type)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric=metric,
        dimensions=variant_dimensions(),
        threshold=threshold,
    )
    assert fires(s, "prod/S/Alarm", "UtilizationThreshold") is expected


def test_utilization_threshold_finds_the_endpoint_in_another_stack_of_the_stage() -> None:
    root = app()
    serving = stage_stack(root)
    endpoint(serving)
    monitoring = sibling(serving, "Monitoring")
    alarm(
        monitoring,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(),
        threshold=90,
    )
    assert fires(root, "prod/Monitoring/Alarm", "UtilizationThreshold")


def test_utilization_threshold_follows_a_literal_endpoint_config_name() -> None:
    root = app()
    configs = stage_stack(root, stack="Configs")
    sm.CfnEndpointConfig(
        configs,
        "Config",
        endpoint_config_name="ep-config",
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="champion",
                model_name="m",
                initial_variant_weight=1,
                instance_type="ml.c5.2xlarge",
                initial_instance_count=2,
            )
        ],
    )
    serving = sibling(configs, "Serving")
    sm.CfnEndpoint(serving, "Endpoint", endpoint_name="ep", endpoint_config_name="ep-config")
    for threshold in (90, 720):
        alarm(
            serving,
            f"Cpu{threshold}",
            namespace=metrics.INSTANCE_NAMESPACE,
            metric="CPUUtilization",
            dimensions=variant_dimensions(),
            threshold=threshold,
        )
    found = findings(root)
    assert ("UtilizationThreshold", "prod/Serving/Cpu90") in found  # 8 vCPUs
    assert ("UtilizationThreshold", "prod/Serving/Cpu720") not in found


def test_utilization_threshold_skips_anomaly_detection_bands() -> None:
    s = stage_stack()
    endpoint(s)
    cpu = cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="cpu",
        return_data=True,
        metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
            metric=cloudwatch.CfnAlarm.MetricProperty(
                namespace=metrics.INSTANCE_NAMESPACE,
                metric_name="CPUUtilization",
                dimensions=[
                    cloudwatch.CfnAlarm.DimensionProperty(name=k, value=v)
                    for k, v in variant_dimensions().items()
                ],
            ),
            period=60,
            stat="Average",
        ),
    )
    band = cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="band", expression="ANOMALY_DETECTION_BAND(cpu, 2)"
    )
    cloudwatch.CfnAlarm(
        s,
        "Alarm",
        comparison_operator="GreaterThanUpperThreshold",
        evaluation_periods=1,
        metrics=[cpu, band],
        threshold_metric_id="band",
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold")


def test_utilization_threshold_follows_a_getatt_endpoint_name() -> None:
    s = stage_stack()
    ep = endpoint(s)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(ep.attr_endpoint_name),
        threshold=90,
    )
    assert fires(s, "prod/S/Alarm", "UtilizationThreshold")


@pytest.mark.parametrize(
    ("case", "dimensions"),
    [
        ("endpoint of no stack in the stage", variant_dimensions("dev-ep")),
        ("unknown variant", {"EndpointName": "ep", "VariantName": "challenger"}),
    ],
)
def test_utilization_threshold_leaves_foreign_endpoints_alone(
    case: str, dimensions: dict[str, str]
) -> None:
    s = stage_stack()
    endpoint(s)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=dimensions,
        threshold=90,
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold"), case


def test_utilization_threshold_skips_serverless_variants() -> None:
    s = stage_stack()
    endpoint(s, serverless=True)
    alarm(
        s,
        namespace=metrics.INSTANCE_NAMESPACE,
        metric="CPUUtilization",
        dimensions=variant_dimensions(),
        threshold=90,
    )
    assert not fires(s, "prod/S/Alarm", "UtilizationThreshold")


@pytest.mark.parametrize(
    ("instance_type", "expression", "expected"),
    [
        ("ml.m5.xlarge", "cpu / 4", False),
        ("ml.m5.xlarge", "(cpu) / 4.0", False),
        ("ml.m5.xlarge", "cpu", True),
        ("ml.m5.xlarge", "cpu / 2", True),
        ("ml.m5.xlarge", "cpu / 40", True),
        ("ml.m5.xlarge", "100 * cpu / 400", True),
        ("ml.c8g.medium", "cpu", False),  # one vCPU: nothing to divide
        ("ml.g5.2xlarge", "cpu / 8", False),  # CPUUtilization counts vCPUs, not GPUs
        ("ml.g5.2xlarge", "cpu / 1", True),
    ],
)
def test_utilization_threshold_metric_math(
    instance_type: str, expression: str, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, instance_type=instance_type)
    cpu = cloudwatch.Metric(
        namespace=metrics.INSTANCE_NAMESPACE,
        metric_name="CPUUtilization",
        dimensions_map=variant_dimensions(),
    )
    math = cloudwatch.MathExpression(expression=expression, using_metrics={"cpu": cpu})
    math.create_alarm(s, "A", threshold=90, evaluation_periods=1)
    assert fires(s, "prod/S/A/Resource", "UtilizationThreshold") is expected


# --- DeploymentStepSize ------------------------------------------------------------------------


def blue_green(
    kind: str,
    step: tuple[str, int] | None = None,
    *,
    wait: int | None = 300,
    rollback_alarms: tuple[str, ...] = (),
) -> sm.CfnEndpoint.DeploymentConfigProperty:
    size = sm.CfnEndpoint.CapacitySizeProperty(type=step[0], value=step[1]) if step else None
    return sm.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sm.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=sm.CfnEndpoint.TrafficRoutingConfigProperty(
                type=kind,
                wait_interval_in_seconds=wait,
                canary_size=size if kind == "CANARY" else None,
                linear_step_size=size if kind == "LINEAR" else None,
            )
        ),
        auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name=a) for a in rollback_alarms]
        )
        if rollback_alarms
        else None,
    )


@pytest.mark.parametrize(
    ("kind", "step", "count", "scaling", "expected"),
    [
        ("CANARY", ("INSTANCE_COUNT", 1), 2, None, False),  # 1 of 2
        ("CANARY", ("INSTANCE_COUNT", 1), 2, (2, 4), False),
        ("CANARY", ("INSTANCE_COUNT", 1), 2, (1, 4), True),  # 1 of 1 after scaling in
        ("CANARY", ("INSTANCE_COUNT", 2), 3, None, True),  # 2 of 3
        ("CANARY", ("CAPACITY_PERCENT", 50), 2, (2, 6), True),  # 50 % of 3 is 2 instances
        ("CANARY", ("CAPACITY_PERCENT", 25), 2, (2, 6), False),
        ("CANARY", ("INSTANCE_COUNT", 1), 5, (2, 4), False),  # count above the range counts
        ("CANARY", ("INSTANCE_COUNT", 3), 6, (6, 6), False),
        ("CANARY", ("INSTANCE_COUNT", 3), 6, (5, 6), True),
        ("LINEAR", ("INSTANCE_COUNT", 1), 2, None, False),
        ("LINEAR", ("INSTANCE_COUNT", 1), 1, None, True),  # all of a single instance
        ("LINEAR", ("INSTANCE_COUNT", 1), 2, (2, 20), True),  # 1 of 11 is below 10 %
        ("LINEAR", ("CAPACITY_PERCENT", 10), 2, (2, 20), False),
        ("LINEAR", ("CAPACITY_PERCENT", 60), 4, None, True),
        ("CANARY", None, 2, None, True),  # no CanarySize
        ("ALL_AT_ONCE", None, 1, None, False),
    ],
)
def test_deployment_step_size(
    kind: str,
    step: tuple[str, int] | None,
    count: int,
    scaling: tuple[int, int] | None,
    expected: bool,
) -> None:
    s = stage_stack()
    endpoint(s, count=count, scaling=scaling, deployment=blue_green(kind, step))
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize") is expected


@pytest.mark.parametrize(
    ("step", "expected"), [(("INSTANCE_COUNT", 1), True), (("CAPACITY_PERCENT", 20), False)]
)
def test_deployment_step_size_serverless(step: tuple[str, int], expected: bool) -> None:
    s = stage_stack()
    endpoint(s, serverless=True, deployment=blue_green("LINEAR", step))
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize") is expected


def test_deployment_step_size_matches_a_getatt_scalable_target() -> None:
    s = stage_stack()
    deployment = blue_green("CANARY", ("INSTANCE_COUNT", 1))
    endpoint(s, name=None, count=2, scaling=(1, 2), deployment=deployment)
    assert fires(s, "prod/S/Endpoint", "DeploymentStepSize")


# --- RollbackBakingPeriod ----------------------------------------------------------------------


def rolling(wait: int, rollback_alarms: tuple[str, ...]) -> sm.CfnEndpoint.DeploymentConfigProperty:
    return sm.CfnEndpoint.DeploymentConfigProperty(
        rolling_update_policy=sm.CfnEndpoint.RollingUpdatePolicyProperty(
            maximum_batch_size=sm.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT", value=50
            ),
            wait_interval_in_seconds=wait,
        ),
        auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name=a) for a in rollback_alarms]
        ),
    )


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        (blue_green("ALL_AT_ONCE", wait=600, rollback_alarms=("errors",)), False),
        (blue_green("CANARY", ("INSTANCE_COUNT", 1), wait=300, rollback_alarms=("e",)), False),
        (blue_green("ALL_AT_ONCE", wait=0, rollback_alarms=("errors",)), True),
        (blue_green("ALL_AT_ONCE", wait=None, rollback_alarms=("errors",)), True),
        (blue_green("ALL_AT_ONCE", wait=0), False),  # no rollback alarms: nothing to bake
        (rolling(60, ("errors",)), False),
        (rolling(0, ("errors",)), True),
        (
            sm.CfnEndpoint.DeploymentConfigProperty(
                auto_rollback_configuration=sm.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[sm.CfnEndpoint.AlarmProperty(alarm_name="errors")]
                )
            ),
            True,
        ),
        (None, False),
    ],
)
def test_rollback_baking_period(
    deployment: sm.CfnEndpoint.DeploymentConfigProperty | None, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s, deployment=deployment)
    assert fires(s, "prod/S/Endpoint", "RollbackBakingPeriod") is expected


# --- KeyGrantForAwsResource --------------------------------------------------------------------

ROOT = {"AWS": "arn:aws:iam::123456789012:root"}
ROLE = {"AWS": "arn:aws:iam::123456789012:role/app"}
GRANT_FOR_AWS = {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def statement(
    principal: Any, action: Any, condition: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    result = {"Effect": "Allow", "Principal": principal, "Resource": "*", **kwargs}
    if action is not None:
        result["Action"] = action
    if condition is not None:
        result["Condition"] = condition
    return result


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([statement(ROOT, "kms:*")], True),  # CDK's default key policy
        ([statement(ROLE, "kms:CreateGrant")], True),
        ([statement(ROLE, ["kms:Create*"])], True),
        ([statement(ROLE, "KMS:creategrant")], True),
        ([statement(ROLE, "*")], True),
        ([statement("*", "kms:CreateGrant", GRANT_FOR_AWS | {"StringEquals": {"x": "y"}})], False),
        ([statement(ROLE, None, NotAction="kms:Decrypt")], True),  # NotAction admits CreateGrant
        ([statement(ROLE, "kms:CreateGrant", GRANT_FOR_AWS)], False),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": True}})],
            False,
        ),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:grantisforawsresource": "TRUE"}})],
            False,
        ),
        (
            [statement(ROLE, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": "false"}})],
            True,
        ),
        (
            [
                statement(
                    ROLE, "kms:CreateGrant", {"StringEquals": {"kms:GrantIsForAWSResource": "true"}}
                )
            ],
            True,
        ),
        ([statement({"Service": "logs.amazonaws.com"}, "kms:*")], False),
        ([statement(ROLE, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"])], False),
        ([{**statement(ROLE, "kms:*"), "Effect": "Deny"}], False),
        (
            [statement(ROLE, ["kms:Decrypt"]), statement(ROLE, "kms:CreateGrant", GRANT_FOR_AWS)],
            False,
        ),
    ],
)
def test_key_grant_for_aws_resource(statements: list[dict[str, Any]], expected: bool) -> None:
    s = stage_stack()
    kms.CfnKey(s, "Key", key_policy={"Version": "2012-10-17", "Statement": statements})
    assert fires(s, "prod/S/Key", "KeyGrantForAwsResource") is expected


def test_key_grant_cdk_default_and_kms_default_policies_fire() -> None:
    s = stage_stack()
    kms.Key(s, "Cdk")
    kms.CfnKey(s, "NoPolicy")
    assert fires(s, "prod/S/Cdk/Resource", "KeyGrantForAwsResource")
    assert fires(s, "prod/S/NoPolicy", "KeyGrantForAwsResource")


# --- AlarmMetricPublished ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "metric", "dimensions", "expected"),
    [
        ("AWS/SageMaker", "ModelLatency", variant_dimensions(), False),
        ("AWS/SageMaker", "InvocationModelErrors", variant_dimensions(), False),
        ("AWS/SageMaker", "ModelLatencyMs", variant_dimensions(), True),  # no such metric
        ("AWS/SageMaker", "ModelLatency", variant_dimensions("dev-ep"), True),  # not this stage
        ("AWS/SageMaker", "Invocations", {}, True),  # no endpoint at all
        ("/aws/sagemaker/Endpoints", "CPUUtilization", variant_dimensions(), False),
        ("/aws/sagemaker/Endpoints", "MemoryReservation", variant_dimensions(), False),
        ("/aws/sagemaker/Endpoints", "Invocations", variant_dimensions(), True),  # namespace
        ("aws/sagemaker/Endpoints/data-metrics", "feature_baseline_drift_x", {}, True),
        ("aws/sagemaker/Endpoints/model-metrics", "accuracy", {"Endpoint": "ep"}, True),
        ("aws/sagemaker/ModelMonitoring/bias-metrics", "bias_metric_CI", {}, True),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", {}, False),
        ("/aws/sagemaker/InferenceComponents", "CPUUtilizationNormalized", {}, False),
        ("Mlops/Quality", "accuracy", {}, True),  # nothing may publish it
    ],
)
def test_alarm_metric_published(
    namespace: str, metric: str, dimensions: dict[str, str], expected: bool
) -> None:
    s = stage_stack()
    endpoint(s)
    alarm(s, namespace=namespace, metric=metric, dimensions=dimensions)
    assert fires(s, "prod/S/Alarm", "AlarmMetricPublished") is expected


def test_alarm_metric_published_accepts_a_getatt_endpoint_name() -> None:
    s = stage_stack()
    ep = endpoint(s)
    alarm(
        s,
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions(ep.attr_endpoint_name),
    )
    assert not fires(s, "prod/S/Alarm", "AlarmMetricPublished")


@pytest.mark.parametrize(("typo", "expected"), [(False, False), (True, True)])
def test_alarm_metric_published_checks_every_metric_of_metric_math(
    typo: bool, expected: bool
) -> None:
    s = stage_stack()
    endpoint(s)

    def metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/SageMaker", metric_name=name, dimensions_map=variant_dimensions()
        )

    errors = metric("Invocation5XXError" if typo else "Invocation5XXErrors")
    rate = cloudwatch.MathExpression(
        expression="IF(inv > 0, 100 * err / inv, 0)",
        using_metrics={"err": errors, "inv": metric("Invocations")},
    )
    rate.create_alarm(s, "A", threshold=1, evaluation_periods=1)
    assert fires(s, "prod/S/A/Resource", "AlarmMetricPublished") is expected


def _put_metric_statement(condition: dict[str, Any] | None) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"], conditions=condition
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, False),
        ({"StringEquals": {"cloudwatch:namespace": ["Other", "Mlops/Quality"]}}, False),
        ({"StringLike": {"cloudwatch:namespace": "Mlops/*"}}, False),
        ({"ForAnyValue:StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, False),
        ({"StringEquals": {"cloudwatch:namespace": "Mlops/Other"}}, True),
        ({"StringNotEquals": {"cloudwatch:namespace": "Mlops/Quality"}}, True),
        ({"StringNotLike": {"cloudwatch:namespace": "Mlops/*"}}, True),
        (None, True),  # no namespace condition: not evidence of a publisher
    ],
)
def test_custom_namespace_needs_a_publisher_in_the_stage(
    condition: dict[str, Any] | None, expected: bool
) -> None:
    root = app()
    monitoring = stage_stack(root, stack="Monitoring")
    alarm(monitoring, namespace="Mlops/Quality", metric="accuracy")
    jobs = sibling(monitoring, "Jobs")
    iam.ManagedPolicy(jobs, "Publish", statements=[_put_metric_statement(condition)])
    assert fires(root, "prod/Monitoring/Alarm", "AlarmMetricPublished") is expected


def test_custom_namespace_publisher_in_a_role_inline_policy() -> None:
    s = stage_stack()
    alarm(s, namespace="Mlops/Quality", metric="accuracy")
    role = iam.Role(s, "Job", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    role.add_to_principal_policy(
        _put_metric_statement({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}})
    )
    iam.CfnRole(
        s,
        "Inline",
        assume_role_policy_document={},
        policies=[
            iam.CfnRole.PolicyProperty(
                policy_name="p",
                policy_document={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "cloudwatch:*",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": "Mlops/Inline"}},
                        }
                    ]
                },
            )
        ],
    )
    alarm(s, "Inline-Alarm", namespace="Mlops/Inline", metric="accuracy")
    assert not fires(s, "prod/S/Alarm", "AlarmMetricPublished")
    assert not fires(s, "prod/S/Inline-Alarm", "AlarmMetricPublished")


def test_publishers_and_endpoints_of_other_stages_do_not_count() -> None:
    root = app()
    dev = stage_stack(root, "dev")
    endpoint(dev, name="dev-ep")
    iam.ManagedPolicy(
        dev,
        "Publish",
        statements=[
            _put_metric_statement({"StringEquals": {"cloudwatch:namespace": "Mlops/Quality"}})
        ],
    )
    prod = stage_stack(root, "prod")
    alarm(
        prod,
        "Latency",
        namespace="AWS/SageMaker",
        metric="ModelLatency",
        dimensions=variant_dimensions("dev-ep"),
    )
    alarm(prod, "Quality", namespace="Mlops/Quality", metric="accuracy")
    found = findings(root)
    assert ("AlarmMetricPublished", "prod/S/Latency") in found
    assert ("AlarmMetricPublished", "prod/S/Quality") in found


def test_stages_nested_in_a_pipeline_stack_are_their_own_stages() -> None:
    root = app()
    pipeline = cdk.Stack(root, "Pipeline", env=TEST_ENV)
    nested = cdk.Stage(pipeline, "Prod")
    serving = cdk.Stack(nested, "Serving")
    endpoint(serving, name="prod-ep")
    alarm(
        serving,
        "Inside",
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions("prod-ep"),
    )
    alarm(
        pipeline,
        "Outside",
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions=variant_dimensions("prod-ep"),
    )
    found = findings(root)
    assert ("AlarmMetricPublished", "Pipeline/Prod/Serving/Inside") not in found
    assert ("AlarmMetricPublished", "Pipeline/Outside") in found


# --- the pack ----------------------------------------------------------------------------------


def test_stage_index_is_built_lazily_once_per_stage() -> None:
    root = app()
    quiet = stage_stack(root, "dev")
    sm.CfnModel(quiet, "Model", execution_role_arn="arn:aws:iam::123456789012:role/x")
    serving = stage_stack(root, "prod")
    endpoint(serving)
    monitoring = sibling(serving, "Monitoring")
    for i in range(3):
        alarm(
            monitoring,
            f"A{i}",
            namespace="AWS/SageMaker",
            metric="Invocations",
            dimensions=variant_dimensions(),
        )
    pack = SageMakerChecks()
    report = pack.validate_scope(root)
    assert not [v for v in report.violations if v.rule_name.endswith("AlarmMetricPublished")]
    assert list(pack._stages) == ["prod"]  # dev has no alarm: its stage was never walked


def test_new_rules_fail_a_gated_synth() -> None:
    from mlops_cdk.app_builder import create_app

    gated = create_app(context=cdk_context())
    s = cdk.Stack(gated, "Gated", env=TEST_ENV)
    endpoint(s, deployment=blue_green("ALL_AT_ONCE", wait=0, rollback_alarms=("errors",)))
    with pytest.raises(RuntimeError, match="MlopsSageMaker-RollbackBakingPeriod"):
        gated.synth()
