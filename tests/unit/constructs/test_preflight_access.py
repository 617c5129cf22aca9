"""PreflightAccess: a read-only role for the pre-deploy check, exact statements, no writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk.app.builder import create_app
from mlops_cdk.app.stage import MlopsStage
from mlops_cdk.compliance import record_acknowledgements_only
from mlops_cdk.config import load_environments
from mlops_cdk.constructs.preflight_access import PREFLIGHT_ROLE_PATH, PreflightAccess
from tests.helpers import TEST_ENV, cdk_context, new_app, new_stack, yaml_data, yaml_text

TRUSTED = "999999999999"
RUNNER = "mlops-pipeline-preflight-dev-churn"
READ_ONLY_ACTIONS = {
    "ecr:DescribeImages",
    "s3:ListBucket",
    "lambda:GetAccountSettings",
    "cloudformation:DescribeStacks",
    "servicequotas:ListAWSDefaultServiceQuotas",
    "servicequotas:ListServiceQuotas",
}


def add_preflight(stack: cdk.Stack, *, imported: bool = False) -> PreflightAccess:
    """The construct with a new repository and bucket, or (``imported``) existing ones, so that
    a compliance run sees only the construct's own resources."""
    if imported:
        repository = ecr.Repository.from_repository_name(stack, "Repo", "models")
        bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts")
    else:
        repository, bucket = ecr.Repository(stack, "Repo"), s3.Bucket(stack, "Bucket")
    return PreflightAccess(
        stack,
        "Preflight",
        repository=repository,
        bucket=bucket,
        model_artifacts_prefix="models/",
        trusted_account=TRUSTED,
        trusted_role_name=RUNNER,
    )


@pytest.fixture(scope="module")
def template() -> Template:
    stack = new_stack("Test")
    add_preflight(stack)
    return Template.from_stack(stack)


def statements(template: Template) -> dict[str, dict[str, Any]]:
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def logical_id(template: Template, resource_type: str) -> str:
    (found,) = template.find_resources(resource_type)
    return str(found)


def test_role_path_trust_and_session_length(template: Template) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "Path": PREFLIGHT_ROLE_PATH,
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{TRUSTED}:root"},
                        # only the pipeline's CodeBuild role of this check, not the account
                        "Condition": {
                            "ArnEquals": {
                                "aws:PrincipalArn": f"arn:aws:iam::{TRUSTED}:role/{RUNNER}"
                            }
                        },
                    }
                ]
            },
        },
    )
    assert PREFLIGHT_ROLE_PATH == "/mlops-preflight/"


def test_only_one_customer_managed_policy(template: Template) -> None:
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {"Roles": [{"Ref": logical_id(template, "AWS::IAM::Role")}]},
    )


def test_exact_statements(template: Template) -> None:
    repo = logical_id(template, "AWS::ECR::Repository")
    bucket = logical_id(template, "AWS::S3::Bucket")
    assert statements(template) == {
        "DescribeModelImages": {
            "Sid": "DescribeModelImages",
            "Effect": "Allow",
            "Action": "ecr:DescribeImages",
            "Resource": {"Fn::GetAtt": [repo, "Arn"]},
        },
        "ListModelArtifacts": {
            "Sid": "ListModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": {"Fn::GetAtt": [bucket, "Arn"]},
            "Condition": {"StringLike": {"s3:prefix": ["models/", "models/*"]}},
        },
        "LambdaAccountSettings": {
            "Sid": "LambdaAccountSettings",
            "Effect": "Allow",
            "Action": "lambda:GetAccountSettings",
            "Resource": "*",
        },
        # preflight's SageMaker quotas (mlops_tools.sagemaker_quotas): applied, else default
        "SageMakerInstanceQuotas": {
            "Sid": "SageMakerInstanceQuotas",
            "Effect": "Allow",
            "Action": [
                "servicequotas:ListAWSDefaultServiceQuotas",
                "servicequotas:ListServiceQuotas",
            ],
            "Resource": "*",
        },
        "DescribeOutputStacks": {
            "Sid": "DescribeOutputStacks",
            "Effect": "Allow",
            "Action": "cloudformation:DescribeStacks",
            "Resource": {"Ref": "AWS::StackId"},
        },
    }


def test_no_write_actions_at_all(template: Template) -> None:
    actions: set[str] = set()
    for statement in statements(template).values():
        assert statement["Effect"] == "Allow"
        action = statement["Action"]
        actions.update(action if isinstance(action, list) else [action])
    assert actions == READ_ONLY_ACTIONS
    assert not any("*" in action for action in actions)
    # no object reads either: listing needs no kms:Decrypt on the SSE-KMS bucket
    assert "s3:GetObject" not in actions


def test_role_arn_output(template: Template) -> None:
    role = logical_id(template, "AWS::IAM::Role")
    template.has_output(
        "*",
        {"Value": {"Fn::GetAtt": [role, "Arn"]}, "Description": Match.string_like_regexp("check")},
    )


def test_exposes_role_and_output() -> None:
    stack = new_stack("Exposed")
    access = add_preflight(stack)
    assert access.role.role_arn == access.role_arn_output.value


def test_passes_every_compliance_gate_with_one_acknowledgement(tmp_path: Path) -> None:
    """The packs find nothing unacknowledged (a finding would fail synth) and the one
    acknowledgement (IAM5 for lambda:GetAccountSettings' '*') is not stale."""
    app = create_app(outdir=str(tmp_path / "gated"), context=cdk_context())
    add_preflight(cdk.Stack(app, "Gated", env=TEST_ENV), imported=True)
    app.synth()
    report = json.loads((tmp_path / "gated" / "validation-report.json").read_text())
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin

    with record_acknowledgements_only() as records:
        audit = create_app(
            outdir=str(tmp_path / "audit"), context=cdk_context(), fail_on_findings=False
        )
        add_preflight(cdk.Stack(audit, "Audit", env=TEST_ENV), imported=True)
        audit.synth()
    assert [(r.path, r.finding_id) for r in records] == [
        ("Audit/Preflight/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]")
    ]
    report = json.loads((tmp_path / "audit" / "validation-report.json").read_text())
    fired = {
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert fired == {("Audit/Preflight/Policy/Resource", "AwsSolutions-IAM5[Resource::*]")}


def test_each_service_registry_has_its_own_preflight_role(tmp_path: Path) -> None:
    """In a stage, the role sits in ``<env>-<service>-Registry`` and may list only that service's
    model prefix (every model_data_key the pre-deploy check lists is under it) and describe
    only that service's repository."""

    def service(name: str) -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": f"{name}-v1",
                    "image_tag": "1",
                    "model_data_key": f"models/{name}/m.tar.gz",
                }
            ],
            "variants": [
                {
                    "name": "primary",
                    "model": f"{name}-v1",
                    "initial_weight": 1,
                    "instance": {"instance_type": "ml.m5.large", "initial_instance_count": 1},
                }
            ],
        }

    (tmp_path / "dev.yaml").write_text(
        yaml_text(
            {
                "account": "111111111111",
                "region": "eu-west-1",
                "removal_policy": "destroy",
                "log_retention_days": 14,
                "network": {"new_vpc": {"cidr": "10.10.0.0/16"}},
                "publishers": ["arn:aws:iam::111111111111:role/publisher"],
                # a model registry announces approved versions on the alarm topic
                "monitoring": {"alarm_emails": ["ml-dev@example.com"]},
                "services": {
                    "churn": service("churn"),
                    # a package group of its own: a package's artifact may be the pipeline's
                    "fraud": {**service("fraud"), "model_registry": {}},
                },
            }
        )
    )
    [config] = load_environments(tmp_path, only="dev")
    stage = MlopsStage(new_app(), "dev", config=config, pipeline_account=TRUSTED)
    assert stage.foundation.node.try_find_child("Preflight") is None
    for name, stacks in stage.services.items():
        registry = stacks.registry
        assert registry.stack_name == f"dev-{name}-Registry"
        assert registry.preflight is not None
        template = Template.from_stack(registry)
        found = statements(template)
        listed = [f"models/{name}/", f"models/{name}/*"]
        if name == "fraud":  # where make preflight looks for a registered package's artifact
            listed += ["retraining/fraud/models/", "retraining/fraud/models/*"]
        assert config.package_artifact_prefixes(name) == tuple(listed[::2])
        assert found["ListModelArtifacts"]["Condition"] == {"StringLike": {"s3:prefix": listed}}
        repository = logical_id(template, "AWS::ECR::Repository")
        assert found["DescribeModelImages"]["Resource"] == {"Fn::GetAtt": [repository, "Arn"]}


def preflight_with_pipelines(
    stack: cdk.Stack, pipelines: list[str], trails: tuple[str, ...] = ()
) -> Template:
    PreflightAccess(
        stack,
        "Preflight",
        repository=ecr.Repository(stack, "Repo"),
        bucket=s3.Bucket(stack, "Bucket"),
        model_artifacts_prefix="models/",
        trusted_account=TRUSTED,
        trusted_role_name="pipeline-preflight",
        retraining_pipelines=pipelines,
        trails=trails,
    )
    return Template.from_stack(stack)


def test_describe_pipeline_only_on_the_named_retraining_pipelines() -> None:
    stack = new_stack("Pipelines")
    describe = statements(preflight_with_pipelines(stack, ["Churn-Retraining-dev"]))[
        "DescribeRetrainingPipelines"
    ]
    assert describe["Effect"] == "Allow"
    assert describe["Action"] == "sagemaker:DescribePipeline"  # read-only, one action
    # SageMaker ARNs carry the lower-cased name; exactly this pipeline, no wildcard
    assert describe["Resource"] == (
        f"arn:aws:sagemaker:{stack.region}:{stack.account}:pipeline/churn-retraining-dev"
    )


def test_no_pipeline_statement_without_retraining_pipelines() -> None:
    found = statements(preflight_with_pipelines(new_stack("NoPipelines"), []))
    assert "DescribeRetrainingPipelines" not in found
    assert "DescribeOutputStacks" in found


def test_describe_images_on_the_aws_image_repositories_the_models_use() -> None:
    """A model on an image AWS provides: preflight may describe exactly that repository of
    AWS's registry account (DescribeImages with registryId), and nothing else there."""
    from mlops_cdk.app.stage import aws_image_repositories
    from mlops_cdk.config.service import ServiceConfig

    spec = ServiceConfig.model_validate(
        {
            "models": [
                {
                    "name": "m",
                    "containers": [
                        {"aws_image": {"framework": "xgboost", "version": "1.7-1"}},
                        {"image_tag": "1.0.0", "model_data_key": "models/x/model.tar.gz"},
                    ],
                }
            ],
            "variants": [
                {
                    "name": "v",
                    "model": "m",
                    "initial_weight": 1,
                    "instance": {"instance_type": "ml.m5.large", "initial_instance_count": 1},
                }
            ],
        }
    )
    arns = aws_image_repositories(spec, "eu-west-1")
    # eu-west-1's XGBoost registry (AWS "Docker Registry Paths and Example Code").
    assert arns == ["arn:aws:ecr:eu-west-1:141502667606:repository/sagemaker-xgboost"]
    stack = new_stack("AwsImages")
    PreflightAccess(
        stack,
        "Preflight",
        repository=ecr.Repository(stack, "Repo"),
        bucket=s3.Bucket(stack, "Bucket"),
        model_artifacts_prefix="models/",
        trusted_account=TRUSTED,
        trusted_role_name="pipeline-preflight",
        aws_image_repositories=arns,
    )
    found = statements(Template.from_stack(stack))
    assert found["DescribeAwsImages"]["Action"] == "ecr:DescribeImages"
    assert found["DescribeAwsImages"]["Resource"] == arns[0]
    assert "DescribeAwsImages" not in statements(
        preflight_with_pipelines(new_stack("NoAwsImages"), [])
    )


def test_describe_model_package_on_exactly_the_packages_the_models_use(tmp_path: Path) -> None:
    """A model made from a registered package version: preflight may describe exactly that
    version (approved? image and artifact?), nothing else in the registry."""
    from mlops_cdk.app.stage import model_packages
    from mlops_cdk.config import load_environment

    data = yaml_data((Path("config") / "dev.yaml").read_text())
    service = next(iter(data["services"].values()))
    name = next(iter(data["services"]))
    service["models"].append({"name": "pkg-v3", "model_package": {"version": 3}})
    service["variants"].append(
        {**service["variants"][0], "name": "pkg", "model": "pkg-v3", "initial_weight": 0}
    )
    (tmp_path / "dev.yaml").write_text(yaml_text(data))
    config = load_environment(tmp_path / "dev.yaml")
    arns = model_packages(config, name)
    assert arns == [
        f"arn:aws:sagemaker:{config.region}:{config.account}:model-package/dev-{name}/3"
    ]
    stack = new_stack("Packages")
    PreflightAccess(
        stack,
        "Preflight",
        repository=ecr.Repository(stack, "Repo"),
        bucket=s3.Bucket(stack, "Bucket"),
        model_artifacts_prefix="models/",
        trusted_account=TRUSTED,
        trusted_role_name="pipeline-preflight",
        model_packages=arns,
    )
    found = statements(Template.from_stack(stack))["DescribeModelPackages"]
    assert found["Action"] == "sagemaker:DescribeModelPackage"
    assert found["Resource"] == arns[0]


def test_the_change_trail_is_read_by_its_arn_and_listed_without_one() -> None:
    """With ``trails``: GetTrailStatus and GetEventSelectors on exactly that trail, and
    DescribeTrails (which takes no resource) on '*'; without, neither statement."""
    trail = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-audit"
    found = statements(preflight_with_pipelines(new_stack("Trails"), [], (trail,)))
    assert found["DescribeTrails"]["Action"] == "cloudtrail:DescribeTrails"
    assert found["DescribeTrails"]["Resource"] == "*"
    assert found["ReadChangeTrail"]["Action"] == [
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
    ]
    assert found["ReadChangeTrail"]["Resource"] == trail
    without = statements(preflight_with_pipelines(new_stack("NoTrails"), []))
    assert not {"DescribeTrails", "ReadChangeTrail"} & without.keys()


def test_each_registry_may_read_its_environments_change_trail() -> None:
    """The fixture stage creates its trail (mlops-stage-changes); prod names its
    organization's by name only, so any account and Region (an organization trail is the
    management account's); dev has none."""
    configs = {c.name: c for c in load_environments(Path("tests/fixtures/config"))}
    arns = {
        name: change.trail_arn_of(name, config.account, config.region)
        for name, config in configs.items()
        if (change := config.change_detection) is not None
    }
    assert arns == {
        "stage": "arn:aws:cloudtrail:eu-west-1:222222222222:trail/mlops-stage-changes",
        "prod": "arn:aws:cloudtrail:*:*:trail/org-audit-trail",
    }
    stage = MlopsStage(new_app(), "stage", config=configs["stage"], pipeline_account=TRUSTED)
    for stacks in stage.services.values():
        found = statements(Template.from_stack(stacks.registry))
        assert found["ReadChangeTrail"]["Resource"] == arns["stage"]
