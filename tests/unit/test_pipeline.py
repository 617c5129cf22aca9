"""The deployment pipeline: offline synth, every gate, stage order, approval, smoke steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.app_builder import add_pipeline, create_app
from mlops_cdk.compliance import AcknowledgementRecord, record_acknowledgements_only
from mlops_cdk.config import EnvConfig, PipelineConfig, load_pipeline
from mlops_cdk.pipeline import PIPELINE_STACK_ID, SYNTH_COMMANDS
from tests.helpers import CONFIG_DIR, cdk_context, resources_of_type

pytestmark = pytest.mark.xdist_group("pipeline")


@dataclass(frozen=True)
class PipelineSynth:
    template: dict[str, Any]
    records: list[AcknowledgementRecord]
    fired: set[tuple[str, str]]
    config: PipelineConfig


@pytest.fixture(scope="module")
def synth(
    env_configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory
) -> PipelineSynth:
    """One synth with acknowledgements recorded, not applied: what fires must equal what is
    acknowledged (so the gated synth passes and no acknowledgement is stale)."""
    config = load_pipeline(CONFIG_DIR, list(env_configs.values()))
    assert config is not None
    outdir: Path = tmp_path_factory.mktemp("pipeline")
    with record_acknowledgements_only() as records:
        app = create_app(outdir=str(outdir), context=cdk_context(), fail_on_findings=False)
        add_pipeline(app, config, list(env_configs.values()))
        app.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    fired = {
        (c["constructPath"], v["ruleName"])
        for p in report["pluginReports"]
        for v in p["violations"]
        for c in v["violatingConstructs"]
    }
    template = json.loads((outdir / f"{PIPELINE_STACK_ID}.template.json").read_text())
    return PipelineSynth(template, list(records), fired, config)


def covered(path: str, rule: str, records: list[AcknowledgementRecord]) -> bool:
    return any(
        r.finding_id.split("::", 1)[1] == rule and (path == r.path or path.startswith(f"{r.path}/"))
        for r in records
    )


def test_every_finding_is_acknowledged_so_the_gated_synth_passes(synth: PipelineSynth) -> None:
    unacknowledged = sorted(f for f in synth.fired if not covered(*f, synth.records))
    assert unacknowledged == []


def test_no_pipeline_acknowledgement_is_stale(synth: PipelineSynth) -> None:
    stale = [
        r for r in synth.records if not any(covered(path, rule, [r]) for path, rule in synth.fired)
    ]
    assert stale == []
    assert len(synth.records) > 20  # CDK Pipelines' generated policies are really checked


def pipeline_stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    (pipeline,) = resources_of_type(template, "AWS::CodePipeline::Pipeline").values()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def test_stage_order(synth: PipelineSynth) -> None:
    names = [s["Name"] for s in pipeline_stages(synth.template)]
    assert names[:3] == ["Source", "Build", "UpdatePipeline"]
    assert [n for n in names if n in synth.config.stages] == ["dev", "stage", "prod"]
    assert names.index("Assets") < names.index("dev")


def actions(template: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    (found,) = [s for s in pipeline_stages(template) if s["Name"] == stage]
    result: list[dict[str, Any]] = found["Actions"]
    return result


def run_orders(stage_actions: list[dict[str, Any]], stack: str) -> dict[str, int]:
    """``{"Prepare": n, "Deploy": m}`` of one stack's CloudFormation actions."""
    return {
        a["Name"].rsplit(".", 1)[1]: int(a["RunOrder"])
        for a in stage_actions
        if a["ActionTypeId"]["Provider"] == "CloudFormation"
        and a["Configuration"]["StackName"] == stack
    }


@pytest.mark.parametrize("stage", ["dev", "stage", "prod"])
def test_stage_order_foundation_preflight_services_in_parallel_then_smoke(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig], stage: str
) -> None:
    """Foundation, then every service's repository, its pre-deploy check (CreateModel fails on
    a missing image or artifact), its serving stack and its smoke test; services in parallel."""
    stage_actions = actions(synth.template, stage)
    services = list(env_configs[stage].services)
    foundation = run_orders(stage_actions, f"{stage}-Foundation")
    orders: dict[str, dict[str, int]] = {}
    for service in services:
        registry = run_orders(stage_actions, f"{stage}-{service}-Registry")
        serving = run_orders(stage_actions, f"{stage}-{service}")
        (preflight,) = [
            a for a in stage_actions if a["Name"].endswith(f".Preflight-{stage}-{service}")
        ]
        (smoke,) = [a for a in stage_actions if a["Name"].endswith(f".Smoke-{stage}-{service}")]
        assert foundation["Deploy"] < registry["Prepare"] < registry["Deploy"]
        assert registry["Deploy"] < preflight["RunOrder"] < serving["Prepare"]
        assert serving["Deploy"] < smoke["RunOrder"]
        orders[service] = {**serving, "preflight": preflight["RunOrder"]}
    # services run side by side: the same run order for each step
    assert len({json.dumps(o, sort_keys=True) for o in orders.values()}) == 1
    approvals = [a for a in stage_actions if a["ActionTypeId"]["Category"] == "Approval"]
    if stage == "prod":
        assert len(approvals) == 1
        assert approvals[0]["RunOrder"] < foundation["Prepare"]
    else:
        assert approvals == []


def test_deploys_go_to_each_environments_account(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    for stage in ("dev", "stage", "prod"):
        account = env_configs[stage].account
        deploys = [
            a
            for a in actions(synth.template, stage)
            if a["ActionTypeId"]["Provider"] == "CloudFormation"
        ]
        services = env_configs[stage].services
        assert {a["Configuration"]["StackName"] for a in deploys} == {
            f"{stage}-Foundation",
            *(f"{stage}-{s}" for s in services),
            *(f"{stage}-{s}-Registry" for s in services),
        }
        assert all(account in json.dumps(a["RoleArn"]) for a in deploys)


def buildspec(template: dict[str, Any], name_part: str) -> dict[str, Any]:
    for logical_id, project in resources_of_type(template, "AWS::CodeBuild::Project").items():
        if name_part in logical_id:
            spec: dict[str, Any] = json.loads(project["Properties"]["Source"]["BuildSpec"])
            return spec
    raise AssertionError(f"no CodeBuild project like {name_part}")


def test_synth_step_runs_the_tests_and_the_gated_synth(synth: PipelineSynth) -> None:
    commands = buildspec(synth.template, "Synth")["phases"]["build"]["commands"]
    assert commands == list(SYNTH_COMMANDS)
    assert "make test" in commands


def test_self_mutation_is_on(synth: PipelineSynth) -> None:
    assert any(a["Name"] == "SelfMutate" for a in actions(synth.template, "UpdatePipeline"))


def test_smoke_step_assumes_only_the_smoke_role(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    commands = buildspec(synth.template, "Smokeprodfraud")["phases"]["build"]["commands"]
    assert commands == [
        'make smoke ENV=prod SERVICE=fraud ROLE_ARN="$SMOKE_ROLE_ARN" '
        'ENDPOINT_NAME="$ENDPOINT_NAME" TIMEOUT=900'
    ]
    statements = [
        s
        for policy in resources_of_type(synth.template, "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole"
    ]
    resources = {json.dumps(s["Resource"]) for s in statements}
    account = env_configs["prod"].account
    assert json.dumps(f"arn:aws:iam::{account}:role/mlops-smoke/*") in resources


def test_artifacts_are_encrypted_versioned_and_logged(synth: PipelineSynth) -> None:
    buckets = resources_of_type(synth.template, "AWS::S3::Bucket")
    (artifacts,) = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert artifacts["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (key,) = resources_of_type(synth.template, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


def test_target_accounts_deploy_roles_can_read_the_artifacts(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    (key,) = resources_of_type(synth.template, "AWS::KMS::Key").values()
    key_policy = json.dumps(key["Properties"]["KeyPolicy"])
    bucket_policies = json.dumps(resources_of_type(synth.template, "AWS::S3::BucketPolicy"))
    for env in ("dev", "stage", "prod"):
        account = env_configs[env].account
        deploy_role = f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-eu-west-1"
        assert deploy_role in key_policy, env
        assert deploy_role in bucket_policies, env


def test_preflight_step_checks_one_service_with_its_outputs(synth: PipelineSynth) -> None:
    commands = buildspec(synth.template, "Preflightstagefraud")["phases"]["build"]["commands"]
    assert commands == [
        'make preflight ENV=stage SERVICE=fraud ROLE_ARN="$PREFLIGHT_ROLE_ARN" '
        'BUCKET="$MODEL_BUCKET" REPOSITORY="$MODEL_REPOSITORY"'
    ]


def test_preflight_step_assumes_only_the_preflight_role(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    resources = {
        json.dumps(s["Resource"])
        for policy in resources_of_type(synth.template, "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole"
    }
    for stage in ("dev", "stage", "prod"):
        account = env_configs[stage].account
        assert json.dumps(f"arn:aws:iam::{account}:role/mlops-preflight/*") in resources
