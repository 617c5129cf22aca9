"""Scale: a service at SageMaker's limits fits CloudFormation's template quotas.

CloudFormation allows 500 resources and 200 outputs per template. The fixture
``tests/fixtures/scale/scale.yaml`` (independent of ``config/``) has one service with 10
variants (SageMaker's maximum), each autoscaling with scheduled actions, every operational
alarm (GPU alarms on the ml.g5 variants, no-invocations alarms), quality alarms with
``published_by``, retraining, a smoke test and production rules. Its service stack must stay
well below the quotas (under half the resources) with every gate on.

The generated environments of ``make bench`` (``scripts/scale_configs.py``) must validate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from mlops_cdk.app.builder import build_app
from mlops_cdk.app.stage import MlopsStage
from mlops_cdk.aws.instance_types import gpus
from mlops_cdk.config import EnvConfig, load_environment, load_environments, load_pipeline
from mlops_cdk.config.endpoint import MAX_VARIANTS
from scripts.scale_configs import service_name, write_scale_config
from tests.helpers import cdk_context, yaml_data

pytestmark = pytest.mark.xdist_group("scale")

# Not in tests/fixtures/config/: the session synth would pick it up as an environment.
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "scale" / "scale.yaml"
SERVICE = "ranking"
SMOKE_TEST_ACCOUNT = "444444444444"  # the pipeline's tooling account
CFN_MAX_RESOURCES = 500
CFN_MAX_OUTPUTS = 200
SERVICE_MAX_RESOURCES = 250  # half of CloudFormation's quota: room for growth
# Operational alarms per variant: latency, 5XX, 4XX, CPU, memory, disk, no invocations;
# GPU variants add GPU and GPU memory.
ALARMS_PER_VARIANT = 7
GPU_ALARMS_PER_VARIANT = 2


@dataclass(frozen=True)
class ScaleSynth:
    config: EnvConfig
    stage: MlopsStage
    outdir: Path

    def template(self, stack: Any) -> dict[str, Any]:
        path = Path(self.stage.outdir) / stack.template_file
        template: dict[str, Any] = json.loads(path.read_text())
        return template

    @property
    def service(self) -> dict[str, Any]:
        return self.template(self.stage.services[SERVICE].serving)


@pytest.fixture(scope="module")
def scale_config() -> EnvConfig:
    return load_environment(FIXTURE)


@pytest.fixture(scope="module")
def scale_synth(tmp_path_factory: pytest.TempPathFactory, scale_config: EnvConfig) -> ScaleSynth:
    """The fixture environment, every compliance pack enforced (a finding fails synthesis)."""
    outdir = tmp_path_factory.mktemp("scale.out")
    app, stages = build_app(
        [scale_config],
        outdir=str(outdir),
        context=cdk_context(),
        pipeline_account=SMOKE_TEST_ACCOUNT,
    )
    app.synth()
    return ScaleSynth(config=scale_config, stage=stages[scale_config.name], outdir=outdir)


def of_type(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def test_fixture_is_the_worst_case(scale_config: EnvConfig) -> None:
    """Guards the fixture: if it loses variants or features, the quota test proves less."""
    service = scale_config.services[SERVICE]
    thresholds = scale_config.thresholds(SERVICE)
    assert len(service.variants) == MAX_VARIANTS
    instances = [v.instance for v in service.variants]
    assert all(i is not None and i.autoscaling and i.autoscaling.scheduled for i in instances)
    assert any(gpus(i.instance_type) for i in instances if i is not None)
    assert any(not gpus(i.instance_type) for i in instances if i is not None)
    assert thresholds.no_invocations_minutes is not None
    assert len(thresholds.rollback_on) * len(service.variants) == 10  # SageMaker's maximum
    assert service.quality_alarms
    assert all(a.published_by for a in service.quality_alarms)
    assert service.retraining is not None
    assert service.smoke_test is not None
    assert service.deployment.strategy == "all_at_once"
    assert scale_config.production


def test_synthesis_passes_every_gate(scale_synth: ScaleSynth) -> None:
    report = json.loads((scale_synth.outdir / "validation-report.json").read_text())
    names = {plugin["pluginName"] for plugin in report["pluginReports"]}
    assert {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "MlopsSageMaker"} <= names
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin["violations"] == []


def test_service_stack_fits_cloudformation_quotas(scale_synth: ScaleSynth) -> None:
    template = scale_synth.service
    resources, outputs = len(template["Resources"]), len(template.get("Outputs", {}))
    assert resources < SERVICE_MAX_RESOURCES, f"{resources} resources"
    assert outputs < CFN_MAX_OUTPUTS, f"{outputs} outputs"


def test_every_stack_of_the_environment_fits_cloudformation_quotas(
    scale_synth: ScaleSynth,
) -> None:
    stage = scale_synth.stage
    stacks = [
        stage.foundation,
        *(stack for pair in stage.services.values() for stack in (pair.registry, pair.serving)),
    ]
    assert len(stacks) == 3
    for stack in stacks:
        template = scale_synth.template(stack)
        assert len(template["Resources"]) < CFN_MAX_RESOURCES, stack.stack_name
        assert len(template.get("Outputs", {})) < CFN_MAX_OUTPUTS, stack.stack_name


def test_every_alarm_is_built(scale_synth: ScaleSynth) -> None:
    """The quota test counts what the fixture asks for: every operational alarm per variant
    (GPU alarms on GPU variants), the quality alarms, the retraining function's failure
    alarms, 10 rollback alarms."""
    service = scale_synth.config.services[SERVICE]
    expected = sum(
        ALARMS_PER_VARIANT
        + (GPU_ALARMS_PER_VARIANT if v.instance and gpus(v.instance.instance_type) else 0)
        for v in service.variants
    ) + len(service.quality_alarms)
    # The retraining function is watched: its on-failure queue and its errors (issue 20, 5),
    # and the runs it starts: their failure rule and its dead-letter queue.
    expected += 4 if service.retraining is not None else 0
    # The scaled-to-maximum notification of the scaling variants: its rule and dead letters.
    expected += 2 if scale_synth.config.thresholds(SERVICE).scaled_to_max else 0
    # The image-scan notification: its rule and dead letters.
    expected += 2 if scale_synth.config.thresholds(SERVICE).image_scans else 0
    template = scale_synth.service
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == expected
    metrics = {a["Properties"].get("MetricName") for a in alarms}
    assert {"GPUUtilization", "GPUMemoryUtilization", "Invocations"} <= metrics
    (endpoint,) = of_type(template, "AWS::SageMaker::Endpoint")
    rollback = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(rollback) == 10


def test_every_variant_scales_with_its_schedule(scale_synth: ScaleSynth) -> None:
    template = scale_synth.service
    targets = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == MAX_VARIANTS
    for target in targets:
        assert len(target["Properties"]["ScheduledActions"]) == 2
    assert len(of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")) == MAX_VARIANTS
    (config,) = of_type(template, "AWS::SageMaker::EndpointConfig")
    assert len(config["Properties"]["ProductionVariants"]) == MAX_VARIANTS
    # ml.g5 has local NVMe: SageMaker rejects a KMS key for its storage volume.
    assert "KmsKeyId" not in config["Properties"]


def test_retraining_and_smoke_test_are_built(scale_synth: ScaleSynth) -> None:
    serving = scale_synth.stage.services[SERVICE].serving
    assert serving.retraining is not None
    assert serving.smoke_test is not None
    assert of_type(scale_synth.service, "AWS::Lambda::Function")


def test_operational_retraining_triggers_with_many_variants() -> None:
    """Every variant has a ``Latency`` alarm: the invoke permissions must not collide (CDK's
    LambdaAction names them after the alarm's id only)."""
    data = yaml_data(FIXTURE.read_text())
    data["services"][SERVICE]["alarms"]["retrain_on"] = ["latency", "errors_5xx", "errors_4xx"]
    config = EnvConfig.model_validate({"name": FIXTURE.stem, **data})
    _, stages = build_app(
        [config], context=cdk_context(), compliance_gates=False, pipeline_account=None
    )
    template = assertions.Template.from_stack(stages[config.name].services[SERVICE].serving)
    # One invoke permission per triggering alarm: 3 kinds x 10 variants, plus the quality one.
    template.resource_count_is("AWS::Lambda::Permission", 3 * MAX_VARIANTS + 1)


def test_generated_scale_config_validates(tmp_path: Path) -> None:
    """``make bench``'s generated 10-service environment (config/stage.yaml's shared part,
    its 'churn' service replicated) passes the schema and the pipeline check, unsynthesized."""
    count = 10
    path = write_scale_config(tmp_path, count)
    assert path.parent == tmp_path
    (config,) = load_environments(tmp_path)
    names = [service_name(i) for i in range(1, count + 1)]
    assert list(config.services) == names
    for name in names:
        for model in config.services[name].models:
            assert model.model_data_key.startswith(f"models/{name}/")
    pipeline = load_pipeline(tmp_path, [config])
    assert pipeline is not None
    assert pipeline.stages == [config.name]


def test_serving_mode_configs_of_the_bench_validate(tmp_path: Path) -> None:
    """``make bench``'s modes section: the base, and the base with 10 more batch jobs,
    asynchronous services, five-component services or services with the retraining loop, are
    valid environments (with the pipeline's checks: a smoke test per service) that differ
    only so."""
    from scripts.scale_configs import BASE, MODE_COPIES, mode_configs

    configs = {}
    for label, folder in mode_configs(tmp_path).items():
        configs[label] = load_environment(folder / "stage.yaml")
        assert load_pipeline(folder, [configs[label]]) is not None  # its checks pass too
    base = configs[BASE].services
    assert list(base) == [service_name(1)]
    assert not base[service_name(1)].batch_jobs
    jobs = configs["batch job"].services[service_name(1)].batch_jobs
    assert [job.name for job in jobs] == [f"job-{i:02d}" for i in range(1, MODE_COPIES + 1)]
    async_services = configs["async service"].services
    assert len(async_services) == MODE_COPIES + 1
    assert all(
        async_services[f"doc-{i:02d}"].async_inference is not None
        for i in range(1, MODE_COPIES + 1)
    )
    components = configs["5-component service"].services
    assert all(
        len(components[f"ic-{i:02d}"].inference_components.components) == 5
        for i in range(1, MODE_COPIES + 1)
    )
    loops = configs["loop service"].services
    assert all(
        loops[f"loop-{i:02d}"].quality_check is not None
        and loops[f"loop-{i:02d}"].retraining.managed_pipeline is not None
        for i in range(1, MODE_COPIES + 1)
    )
