"""Every configuration shape the README documents as valid synthesizes with every gate on.

tests/fixtures/shapes/shapes.yaml holds them (serverless, serverless with provisioned
concurrency, GPU + CPU variants with NVMe, linear rollout, scheduled scaling, input-only
capture, default retraining pipeline name); a finding of any pack fails the synth here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from mlops_cdk.app.builder import build_app
from mlops_cdk.app.stage import MlopsStage
from mlops_cdk.config import EnvConfig, load_environments
from tests.helpers import ROOT, cdk_context

SHAPES = ROOT / "tests" / "fixtures" / "shapes"
pytestmark = pytest.mark.slow  # a whole-environment synth per module


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[EnvConfig, MlopsStage]:
    (config,) = load_environments(SHAPES)
    outdir: Path = tmp_path_factory.mktemp("shapes")
    app, stages = build_app([config], outdir=str(outdir), context=cdk_context())
    app.synth()  # every compliance pack runs: a finding raises here
    return config, stages["shapes"]


def serving(stage: MlopsStage, service: str) -> Template:
    return Template.from_stack(stage.services[service].serving)


def only(template: Template, cfn_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(cfn_type).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


@pytest.mark.parametrize("service", ["serverless", "provisioned"])
def test_serverless_model_has_neither_vpc_nor_isolation(
    shapes: tuple[EnvConfig, MlopsStage], service: str
) -> None:
    template = serving(shapes[1], service)
    model = only(template, "AWS::SageMaker::Model")
    assert "VpcConfig" not in model
    assert model.get("EnableNetworkIsolation") in (None, False)
    (variant,) = only(template, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert "ServerlessConfig" in variant
    assert "InstanceType" not in variant


def test_provisioned_concurrency_scales(shapes: tuple[EnvConfig, MlopsStage]) -> None:
    target = only(serving(shapes[1], "provisioned"), "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 10)


def test_gpu_variant_with_nvme_has_no_volume_key_and_gpu_alarms(
    shapes: tuple[EnvConfig, MlopsStage],
) -> None:
    template = serving(shapes[1], "gpu")
    config = only(template, "AWS::SageMaker::EndpointConfig")
    assert "KmsKeyId" not in config  # SageMaker rejects a key for local-NVMe instance types
    assert config["DataCaptureConfig"]["KmsKeyId"]  # captured data is still encrypted
    metrics = {
        alarm["Properties"].get("MetricName")
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert {"GPUUtilization", "GPUMemoryUtilization"} <= metrics


def test_default_retraining_pipeline_name_is_derived(
    shapes: tuple[EnvConfig, MlopsStage],
) -> None:
    config, _ = shapes
    retraining = config.services["gpu"].retraining
    assert retraining is not None
    assert retraining.pipeline is not None
    assert retraining.pipeline.name == "shapes-gpu-retraining"


def test_metrics_config_is_stated_as_configured(shapes: tuple[EnvConfig, MlopsStage]) -> None:
    config = only(serving(shapes[1], "gpu"), "AWS::SageMaker::EndpointConfig")
    assert config["MetricsConfig"] == {
        "EnableDetailedObservability": True,
        "EnableEnhancedMetrics": True,
        "MetricPublishFrequencyInSeconds": 10,
    }
    serverless = only(serving(shapes[1], "serverless"), "AWS::SageMaker::EndpointConfig")
    assert "MetricsConfig" not in serverless


def test_managed_retraining_pipeline_and_model_package_group(
    shapes: tuple[EnvConfig, MlopsStage],
) -> None:
    """Every managed_pipeline option reaches the definition; the group names its reader."""
    template = serving(shapes[1], "retrained")
    pipeline = only(template, "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == "shapes-retrained-train"
    body = pipeline["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Join"][1]
    text = "".join(part for part in body if isinstance(part, str))
    for expected in (
        '"EnableManagedSpotTraining":true',
        '"MaxWaitTimeInSeconds":7200',
        '"EnableNetworkIsolation":false',
        '"Type":"LessThanOrEqualTo"',
        '"RightValue":4.5',
        '"ContainerArguments":["--metric","rmse"]',
        "/training/retrained/holdout/",
        '"SupportedResponseMIMETypes":["application/json"]',
        "sagemaker-scikit-learn",
    ):
        assert expected in text
    group = only(template, "AWS::SageMaker::ModelPackageGroup")
    assert group["ModelPackageGroupName"] == "shapes-retrained"
    assert "222222222222" in str(group["ModelPackageGroupPolicy"])


def test_quality_checks_publish_what_the_quality_alarms_watch(
    shapes: tuple[EnvConfig, MlopsStage],
) -> None:
    """Every quality_check option synthesizes (gates on, so the AlarmMetricPublished rule
    accepted the alarms without published_by): the function scores the live variant only, and
    the alarm watches the check's namespace, metric and dimensions."""
    template = serving(shapes[1], "shadowed")
    (function,) = [
        f["Properties"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "quality.handler"
    ]
    env = function["Environment"]["Variables"]
    assert (env["VARIANTS"], env["METRICS_NAMESPACE"]) == ("live", "Shapes/Quality")
    assert env["DIMENSIONS"] == '{"Environment": "shapes", "Model": "shadowed"}'
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    recall = next(a for a in alarms if a.get("MetricName") == "Recall")
    assert recall["Namespace"] == "Shapes/Quality"
    assert recall["Dimensions"] == [
        {"Name": "Environment", "Value": "shapes"},
        {"Name": "Model", "Value": "shadowed"},
    ]
    assert any(a.get("MetricName") == "NewMatchedLabels" for a in alarms)


def watched_metrics(alarm: dict[str, Any]) -> set[str]:
    """The metric names an alarm watches: its own, or those of its metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return {props["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}


def test_asynchronous_service_rolls_back_on_a_rate_of_processed_invocations(
    shapes: tuple[EnvConfig, MlopsStage],
) -> None:
    """An asynchronous endpoint publishes no Invocations ("Alarms and logs for tracking metrics
    from asynchronous endpoints"): the service's rollback alarm (rollback_on: errors_5xx) is
    the 5XX rate of InvocationsProcesssed, so a release answering 5XX rolls back; no alarm of the
    service watches a metric the endpoint does not publish, and the dashboard graphs
    InvocationsProcesssed."""
    template = serving(shapes[1], "documents")
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    rollback = endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    (rollback_alarm,) = [alarms[a["AlarmName"]["Ref"]] for a in rollback]
    assert watched_metrics(rollback_alarm) == {"Invocation5XXErrors", "InvocationsProcesssed"}
    not_published = {"Invocations", "InvocationsPerInstance", "OverheadLatency"}
    assert not set().union(*map(watched_metrics, alarms.values())) & not_published
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert '\\"InvocationsProcesssed per variant\\"' in body
    assert '\\"Invocations\\"' not in body
