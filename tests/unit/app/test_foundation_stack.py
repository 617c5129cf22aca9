"""FoundationStack in every environment: composition, per-environment policy, stable IDs."""

from __future__ import annotations

import pytest

from mlops_cdk.config import EnvConfig
from tests.helpers import ENVIRONMENTS, SERVICES, Synthesized, resources_of_type

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")

# Stateful resources: a changed logical ID means CloudFormation replaces (and with RETAIN,
# orphans) the resource. These IDs must never change without a migration plan.
PINNED_LOGICAL_IDS = {
    "AWS::KMS::Key": "EncryptionKey3A692D6E",
    "AWS::EC2::VPC": "NetworkVpc7FB7348F",
}
PINNED_REPOSITORY = "ModelImagesRepository9F779EF6"  # in each <env>-<service>-Registry stack
PINNED_BUCKETS = {"ArtifactsBucket88671897", "ArtifactsAccessLogs4D97777C"}
PINNED_TRAIL_BUCKET = "ChangeTrailBucket00C950F5"  # with change_detection.trail: create
PINNED_FOUNDATION_WATCH_KEY = (
    "FoundationWatchEncryptionKey4DC126EC"  # with change_detection.watch_foundation
)


def creates_trail(config: EnvConfig) -> bool:
    return config.change_detection is not None and config.change_detection.creates_trail


def watches_foundation(config: EnvConfig) -> bool:
    change = config.change_detection
    return change is not None and change.watch_foundation and config.monitoring is not None


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stateful_logical_ids_are_pinned(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    key_watch = {PINNED_FOUNDATION_WATCH_KEY} if watches_foundation(env_configs[env]) else set()
    for resource_type, logical_id in PINNED_LOGICAL_IDS.items():
        extra = key_watch if resource_type == "AWS::KMS::Key" else set()
        assert set(resources_of_type(template, resource_type)) == {logical_id} | extra
    trail_bucket = {PINNED_TRAIL_BUCKET} if creates_trail(env_configs[env]) else set()
    assert set(resources_of_type(template, "AWS::S3::Bucket")) == PINNED_BUCKETS | trail_bucket
    assert resources_of_type(template, "AWS::ECR::Repository") == {}  # one per service


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_each_service_has_its_own_pinned_repository(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, f"{service}-registry")
    (repository,) = resources_of_type(template, "AWS::ECR::Repository").items()
    logical_id, resource = repository
    assert logical_id == PINNED_REPOSITORY
    props = resource["Properties"]
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    assert props["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert "LifecyclePolicy" in props
    expected = "Retain" if env_configs[env].removal_policy == "retain" else "Delete"
    assert resource["DeletionPolicy"] == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_removal_policy_follows_config(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    expected = "Retain" if env_configs[env].removal_policy == "retain" else "Delete"
    stateful = [
        *resources_of_type(template, "AWS::KMS::Key").values(),
        *resources_of_type(template, "AWS::S3::Bucket").values(),
        *resources_of_type(template, "AWS::Logs::LogGroup").values(),
    ]
    trail = creates_trail(env_configs[env])
    # key, two buckets, flow-log group (, trail bucket) (, the foundation watch's key)
    assert len(stateful) == 4 + trail + watches_foundation(env_configs[env])
    for resource in stateful:
        assert resource["DeletionPolicy"] == expected
        assert resource["UpdateReplacePolicy"] == expected
    auto_delete = resources_of_type(template, "Custom::S3AutoDeleteObjects")
    assert len(auto_delete) == ((2 + trail) if expected == "Delete" else 0)


def test_dev_is_destroyable_and_stage_prod_retain(env_configs: dict[str, EnvConfig]) -> None:
    assert env_configs["dev"].removal_policy == "destroy"
    assert env_configs["stage"].removal_policy == "retain"
    assert env_configs["prod"].removal_policy == "retain"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_termination_protection_and_environment(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    stack = synthesized.stages[env].foundation
    config = env_configs[env]
    assert stack.termination_protection is config.termination_protection
    assert stack.account == config.account
    assert stack.region == config.region
    assert stack.stack_name == f"{env}-Foundation"
    assert env != "prod" or stack.termination_protection


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_retention_follows_config(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template(env, "foundation")
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": env_configs[env].log_retention_days}
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tags_on_every_taggable_resource(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    expected = {"Environment": env, "ManagedBy": "mlops-cdk", **env_configs[env].tags}
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        for resource in resources_of_type(template, resource_type).values():
            tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            assert expected.items() <= tags.items(), (resource_type, tags)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_subnets_span_the_configured_azs(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    subnets = resources_of_type(template, "AWS::EC2::Subnet").values()
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets}
    new_vpc = env_configs[env].network.new_vpc
    assert new_vpc is not None
    assert len(zones) == new_vpc.max_azs


def test_no_aws_managed_policies_anywhere(synthesized: Synthesized) -> None:
    for env in ENVIRONMENTS:
        template = synthesized.template_json(env, "foundation")
        for role in resources_of_type(template, "AWS::IAM::Role").values():
            arns = str(role["Properties"].get("ManagedPolicyArns", ""))
            assert "AmazonSageMakerFullAccess" not in arns
            assert "AdministratorAccess" not in arns


def test_no_physical_names_on_replaceable_resources(synthesized: Synthesized) -> None:
    name_props = {
        "AWS::S3::Bucket": "BucketName",
        "AWS::ECR::Repository": "RepositoryName",
        "AWS::IAM::Role": "RoleName",
        "AWS::Logs::LogGroup": "LogGroupName",
    }
    for env in ENVIRONMENTS:
        template = synthesized.template_json(env, "foundation")
        for resource_type, prop in name_props.items():
            for resource in resources_of_type(template, resource_type).values():
                assert prop not in resource["Properties"], (env, resource_type)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_flow_log_is_an_output_for_preflight(synthesized: Synthesized, env: str) -> None:
    """Preflight reads the flow log's delivery status by the output ``FlowLogId``."""
    template = synthesized.template_json(env, "foundation")
    (flow_log,) = resources_of_type(template, "AWS::EC2::FlowLog")
    assert template["Outputs"]["FlowLogId"]["Value"] == {"Ref": flow_log}
