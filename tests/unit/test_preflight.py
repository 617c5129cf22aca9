"""The pre-deploy check (mlops_tools.preflight) against moto-backed ECR, S3 and STS.

Three answers come from stubs instead: moto implements neither Lambda GetAccountSettings nor
Cost Explorer ListCostAllocationTags (botocore Stubber), and moto's CloudFormation needs an
extra (openapi-spec-validator) this project does not install, so DescribeStacks is answered per
stack name by a ``before-call`` handler, with AWS's shapes and messages. Every test reads its
own config dir (``dev.yaml`` with two services, written under tmp_path), never the committed
environments."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.config import EnvConfig, load_environments
from mlops_cdk.config.endpoint import ModelConfig
from mlops_tools import preflight, smoke
from tests.helpers import yaml_text

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "111111111111"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUCKET = "dev-artifacts"
REPOSITORY = "dev-churn-images"
FRAUD_REPOSITORY = "dev-fraud-images"
STACK = "dev-Foundation"
CHURN_STACK = "dev-churn-Registry"
FRAUD_STACK = "dev-fraud-Registry"
TAG_KEY = "models/churn/1.0.0/model.tar.gz"
DIGEST_KEY = "models/churn/2.0.0/model.tar.gz"
FRAUD_KEY = "models/fraud/3.0.0/model.tar.gz"
OTHER_DIGEST = "sha256:" + "ab" * 32
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlops-preflight/dev-churn-preflight"
LOGIN = (
    f"aws ecr get-login-password --region {REGION} "
    f"| docker login --username AWS --password-stdin {HOST}"
)
DEPLOY = "deploy dev-Foundation first: npx cdk deploy -c env=dev dev/Foundation"
DEPLOY_CHURN = "deploy dev-churn-Registry first: npx cdk deploy -c env=dev dev/churn-Registry"
DEPLOY_FRAUD = "deploy dev-fraud-Registry first: npx cdk deploy -c env=dev dev/fraud-Registry"
TARGET = preflight.Target("dev", ACCOUNT, REGION, BUCKET, REPOSITORY, "churn")
MODEL = ModelConfig(name="churn-v1", image_tag="1.0.0", model_data_key=TAG_KEY)
NO_RESERVATION = (
    "PASS lambda-concurrency: 1000 unreserved concurrent executions (no reservation configured)"
)
FOUNDATION_PASS = f"PASS foundation: stack {STACK}: ModelArtifactBucketName={BUCKET}"
CHURN_PASS = f"PASS churn registry: stack {CHURN_STACK}: ModelImageRepositoryName={REPOSITORY}"
FRAUD_PASS = (
    f"PASS fraud registry: stack {FRAUD_STACK}: ModelImageRepositoryName={FRAUD_REPOSITORY}"
)
VARIANTS = {"churn": ("champion", "challenger"), "fraud": ("primary",)}


def quota_pass(*services: str) -> str:
    """The quota line of ``services``' one-instance ml.m5.large variants (20 in the account)."""
    uses = [f"{s} variant {v}: 1, +1 while an update runs" for s in services for v in VARIANTS[s]]
    return (
        f"PASS quota ml.m5.large for endpoint usage: 20 instances; needed {len(uses)}, up to "
        f"{2 * len(uses)} ({'; '.join(uses)}); other use in the account counts too"
    )


QUOTA_ALL, QUOTA_CHURN, QUOTA_FRAUD = (
    quota_pass("churn", "fraud"),
    quota_pass("churn"),
    quota_pass("fraud"),
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; nothing from the developer's own AWS setup leaks in."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _default_stacks() -> dict[str, dict[str, str] | None]:
    return {
        STACK: {"ModelArtifactBucketName": BUCKET},
        CHURN_STACK: {"ModelImageRepositoryName": REPOSITORY},
        FRAUD_STACK: {"ModelImageRepositoryName": FRAUD_REPOSITORY},
    }


@dataclass
class Answers:
    """What the stubs answer on the next run (change before running): each stack's outputs
    (a stack that is missing or None does not exist) and the Lambda account limits. ``calls``
    records every AWS operation the run's clients make, ``described`` each StackName."""

    stacks: dict[str, dict[str, str] | None] = field(default_factory=_default_stacks)
    status: str = "CREATE_COMPLETE"
    lambda_limit: dict[str, int] = field(
        default_factory=lambda: {
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000,
        }
    )
    denied: set[str] = field(default_factory=set)
    # Whether the run reads the VPC flow log (the tests of other lines leave it out).
    flow_logs: bool = False
    # ListCostAllocationTags' answer (only asked when the config has a budget)
    tags: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"TagKey": "Environment", "Type": "UserDefined", "Status": "Active"}
        ]
    )
    # Service Quotas' applied values (ListServiceQuotas); defaults are the same
    quotas: dict[str, float] = field(
        default_factory=lambda: {"ml.m5.large for endpoint usage": 20.0}
    )
    calls: list[str] = field(default_factory=list)
    described: list[str] = field(default_factory=list)

    def list_quotas(self, **_: Any) -> tuple[AWSResponse, Any]:
        """A ``before-call`` handler: ListServiceQuotas' (and the defaults') one page."""
        quotas = [
            {"QuotaName": name, "Value": value, "QuotaCode": f"L-{index:08X}"}
            for index, (name, value) in enumerate(self.quotas.items())
        ]
        response = {"Quotas": quotas, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("", 200, {}, None), response

    def describe_stacks(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        """A ``before-call`` handler: DescribeStacks' answer for the requested StackName
        (AccessDenied for the ``denied`` ones)."""
        name = params["body"]["StackName"]
        self.described.append(name)
        if name in self.denied:
            message = (
                "User is not authorized to perform: cloudformation:DescribeStacks on resource "
                f"{name}"
            )
            error = {
                "Error": {"Code": "AccessDenied", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
            return AWSResponse("", 403, {}, None), error
        outputs = self.stacks.get(name)
        if outputs is None:
            error = {
                "Error": {
                    "Code": "ValidationError",
                    "Message": f"Stack with id {name} does not exist",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("", 400, {}, None), error
        described = {
            "StackName": name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
            f"{name}/0c7a6cd0-0000-11f0-8000-0a1b2c3d4e5f",
            "CreationTime": datetime.now(UTC),
            "StackStatus": self.status,
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
        }
        response = {"Stacks": [described], "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("", 200, {}, None), response


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Wraps make_clients: answers DescribeStacks and stubs GetAccountSettings; ECR, S3 and STS
    stay the real (moto-backed) clients."""
    answers = Answers()
    real = preflight.make_clients

    def make(session: Any, region: str) -> preflight.Clients:
        clients = real(session, region)
        for client in (
            clients.cloudformation,
            clients.ecr,
            clients.s3,
            clients.lambda_,
            clients.sagemaker,
            clients.ce,
            clients.service_quotas,
            clients.sns,
            clients.cloudtrail,
        ):
            client.meta.events.register(
                "before-parameter-build", lambda model, **_: answers.calls.append(model.name)
            )
        clients.cloudformation.meta.events.register_first(
            "before-call.cloudformation.DescribeStacks", answers.describe_stacks
        )
        for operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
            clients.service_quotas.meta.events.register_first(
                f"before-call.service-quotas.{operation}", answers.list_quotas
            )
        settings = Stubber(clients.lambda_)
        settings.add_response("get_account_settings", {"AccountLimit": dict(answers.lambda_limit)})
        settings.activate()
        tags = Stubber(clients.ce)
        tags.add_response(
            "list_cost_allocation_tags",
            {"CostAllocationTags": list(answers.tags)},
            {"TagKeys": ["Environment"], "Type": "UserDefined"},
        )
        tags.activate()
        clients.ec2.meta.events.register(
            "before-parameter-build", lambda model, **_: answers.calls.append(model.name)
        )
        return clients if answers.flow_logs else dataclasses.replace(clients, ec2=None)

    monkeypatch.setattr(preflight, "make_clients", make)
    return answers


def session_for(account: str | None) -> Any:
    """boto3 (moto's default account), or a session in ``account`` via an assumed role
    (moto keeps one backend per account and maps assumed-role credentials to it)."""
    if account is None:
        return boto3
    credentials = setup_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


@cache
def _setup_client(service: str) -> Any:
    """One default-session client per service for the tests' own setup calls: moto resets its
    backends per test (``aws``), so a client kept across tests sees a fresh account each time,
    and building a client (0.005-0.01 s) was most of these tests' setup time."""
    return boto3.client(service, region_name=REGION)


def setup_client(service: str, session: Any = boto3) -> Any:
    """A client for setting up moto state: the shared one for the default session, else a new
    one of ``session`` (a per-test assumed role)."""
    if session is boto3:
        return _setup_client(service)
    return session.client(service, region_name=REGION)


def create_bucket(session: Any = boto3, name: str = BUCKET) -> None:
    setup_client("s3", session).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def push_image(
    tag: str, session: Any = boto3, layer: str = "a", repository: str = REPOSITORY
) -> str:
    """An image manifest pushed under ``tag`` (creating the repository); returns its digest."""
    ecr = setup_client("ecr", session)
    existing = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    if repository not in existing:
        ecr.create_repository(repositoryName=repository)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + layer * 64,
        },
        "layers": [],
    }
    image = ecr.put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )["image"]
    return str(image["imageId"]["imageDigest"])


def create_pipeline(
    name: str, parameters: tuple[str, ...] = preflight.RETRAINING_PIPELINE_PARAMETERS
) -> None:
    """A SageMaker pipeline in moto whose definition declares these string parameters."""
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": p, "Type": "String", "DefaultValue": "-"} for p in parameters],
        "Steps": [],
    }
    setup_client("sagemaker").create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
        ClientRequestToken="t" * 32,
    )


def put_model(key: str, session: Any = boto3) -> None:
    setup_client("s3", session).put_object(Bucket=BUCKET, Key=key, Body=b"tar")


def instance() -> dict[str, Any]:
    return {"instance_type": "ml.m5.large", "initial_instance_count": 1}


def dev_data(digest: str) -> dict[str, Any]:
    """A small environment ``dev`` with two services: churn (churn-v1 by tag, churn-v2 by
    ``digest``) and fraud (fraud-v1 by tag)."""
    return {
        "account": ACCOUNT,
        "region": REGION,
        "removal_policy": "destroy",
        "log_retention_days": 14,
        "network": {"new_vpc": {"cidr": "10.10.0.0/16"}},
        "publishers": [f"arn:aws:iam::{ACCOUNT}:role/mlops-model-publisher"],
        "services": {
            "churn": {
                "models": [
                    {"name": "churn-v1", "image_tag": "1.0.0", "model_data_key": TAG_KEY},
                    {"name": "churn-v2", "image_digest": digest, "model_data_key": DIGEST_KEY},
                ],
                "variants": [
                    {
                        "name": "champion",
                        "model": "churn-v1",
                        "initial_weight": 9,
                        "instance": instance(),
                    },
                    {
                        "name": "challenger",
                        "model": "churn-v2",
                        "initial_weight": 1,
                        "instance": instance(),
                    },
                ],
            },
            "fraud": {
                "models": [{"name": "fraud-v1", "image_tag": "3.0.0", "model_data_key": FRAUD_KEY}],
                "variants": [
                    {
                        "name": "primary",
                        "model": "fraud-v1",
                        "initial_weight": 1,
                        "instance": instance(),
                    }
                ],
            },
        },
    }


def reserve(service: str, concurrency: int) -> Callable[[dict[str, Any]], None]:
    """A ``mutate`` giving ``service`` a retraining function with this reserved concurrency
    (and what the schema requires with it: monitoring, a quality alarm that retrains)."""

    def mutate(data: dict[str, Any]) -> None:
        data.setdefault("monitoring", {"alarm_emails": ["ml-dev-alerts@example.com"]})
        data["services"][service]["quality_alarms"] = [
            {
                "name": "auc",
                "description": "Evaluation AUC below the agreed floor",
                "namespace": "MlopsCdk/ModelQuality",
                "metric_name": "AUC",
                "dimensions": {"Model": service},
                "statistic": "Minimum",
                "period_minutes": 1440,
                "threshold": 0.7,
                "comparison": "less_than",
                "published_by": "the evaluation step of the retraining pipeline (PutMetricData)",
            }
        ]
        data["services"][service]["retraining"] = {
            "pipeline": {"name": f"{service}-retraining-dev"},
            "reserved_concurrency": concurrency,
        }

    return mutate


def write_config(
    tmp_path: Path,
    digest: str = OTHER_DIGEST,
    *mutations: Callable[[dict[str, Any]], None],
) -> Path:
    """A config dir holding :func:`dev_data`'s dev.yaml, changed by each ``mutate(data)``."""
    data = dev_data(digest)
    for mutate in mutations:
        mutate(data)
    config_dir = tmp_path / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "dev.yaml").write_text(yaml_text(data))
    return config_dir


def load(config_dir: Path) -> EnvConfig:
    [config] = load_environments(config_dir, only="dev")
    return config


def run_main(config_dir: Path, *args: str) -> int:
    return preflight.main(["--env", "dev", "--config-dir", str(config_dir), *args])


def result_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL ", "WARN "))]


@pytest.fixture
def published(aws: None, tmp_path: Path, answers: Answers) -> Path:
    """Foundation and both Registry stacks deployed, every image and model archive
    published: a config dir."""
    create_bucket()
    push_image("1.0.0")
    digest = push_image("2.0.0", layer="b")
    push_image("3.0.0", layer="c", repository=FRAUD_REPOSITORY)
    put_model(TAG_KEY)
    put_model(DIGEST_KEY)
    put_model(FRAUD_KEY)
    return write_config(tmp_path, digest)


def digest_of(config_dir: Path) -> str:
    return str(load(config_dir).services["churn"].models[1].image_digest)


def test_test_config_is_what_the_tests_assume(published: Path) -> None:
    config = load(published)
    assert list(config.services) == ["churn", "fraud"]
    assert config.model_prefix("churn") == "models/churn/"
    assert all(s.retraining is None for s in config.services.values())


# --- everything published ---------------------------------------------------------------------


def test_every_service_published_passes(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(published) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"preflight of dev services churn, fraud (account {ACCOUNT}, region {REGION})"
    )
    assert result_lines(out) == [
        FOUNDATION_PASS,
        CHURN_PASS,
        f"PASS churn image churn-v1: {HOST}/{REPOSITORY}:1.0.0",
        f"PASS churn model-data churn-v1: s3://{BUCKET}/{TAG_KEY}",
        f"PASS churn image churn-v2: {HOST}/{REPOSITORY}@{digest_of(published)}",
        f"PASS churn model-data churn-v2: s3://{BUCKET}/{DIGEST_KEY}",
        FRAUD_PASS,
        f"PASS fraud image fraud-v1: {HOST}/{FRAUD_REPOSITORY}:3.0.0",
        f"PASS fraud model-data fraud-v1: s3://{BUCKET}/{FRAUD_KEY}",
        NO_RESERVATION,
        QUOTA_ALL,
    ]
    # read-only: Describe*, List*, Get* and nothing else
    assert answers.calls == [
        "DescribeStacks",
        "DescribeStacks",
        "DescribeImages",
        "ListObjectsV2",
        "DescribeImages",
        "ListObjectsV2",
        "DescribeStacks",
        "DescribeImages",
        "ListObjectsV2",
        "GetAccountSettings",
        "ListServiceQuotas",
    ]
    assert answers.described == [STACK, CHURN_STACK, FRAUD_STACK]
    assert out.splitlines()[-1] == "11 of 11 checks passed"


def test_one_service_checks_only_its_own(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(published, "--service", "fraud") == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0]
        == f"preflight of dev service fraud (account {ACCOUNT}, region {REGION})"
    )
    assert result_lines(out) == [
        FOUNDATION_PASS,
        FRAUD_PASS,
        f"PASS fraud image fraud-v1: {HOST}/{FRAUD_REPOSITORY}:3.0.0",
        f"PASS fraud model-data fraud-v1: s3://{BUCKET}/{FRAUD_KEY}",
        NO_RESERVATION,
        QUOTA_FRAUD,
    ]
    assert answers.described == [STACK, FRAUD_STACK]


def test_each_service_uses_its_own_repository(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    """fraud's image exists in churn's repository only: the check looks in fraud's."""
    setup_client("ecr").batch_delete_image(
        repositoryName=FRAUD_REPOSITORY, imageIds=[{"imageTag": "3.0.0"}]
    )
    push_image("3.0.0", layer="c")
    assert run_main(published) == 1
    lines = result_lines(capsys.readouterr().out)
    assert [line.split(":")[0] for line in lines if line.startswith("FAIL")] == [
        "FAIL fraud image fraud-v1"
    ]
    assert f"{HOST}/{FRAUD_REPOSITORY}:3.0.0 not found" in "\n".join(lines)


# --- missing artifacts: FAIL lines with the publish commands ------------------------------------


@pytest.mark.usefixtures("aws", "answers")
def test_empty_repository_and_bucket_fail_with_publish_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_bucket()
    setup_client("ecr").create_repository(repositoryName=REPOSITORY)
    assert run_main(write_config(tmp_path), "--service", "churn") == 1
    tag_uri = f"{HOST}/{REPOSITORY}:1.0.0"
    release = f"{HOST}/{REPOSITORY}:<release tag>"
    assert result_lines(capsys.readouterr().out) == [
        FOUNDATION_PASS,
        CHURN_PASS,
        f"FAIL churn image churn-v1: {tag_uri} not found; publish with: {LOGIN} && docker tag "
        f"<local image> {tag_uri} && docker push {tag_uri}",
        f"FAIL churn model-data churn-v1: s3://{BUCKET}/{TAG_KEY} not found; publish it once "
        f"with: aws s3api put-object --if-none-match '*' --bucket {BUCKET} --key {TAG_KEY} "
        "--body <local model.tar.gz>",
        f"FAIL churn image churn-v2: {HOST}/{REPOSITORY}@{OTHER_DIGEST} not found; publish "
        f"with: {LOGIN} && docker tag <local image> {release} && docker push {release} (images "
        f"cannot be pushed by digest: push the image whose digest is {OTHER_DIGEST} under any "
        "release tag; docker push prints the digest it pushed)",
        f"FAIL churn model-data churn-v2: s3://{BUCKET}/{DIGEST_KEY} not found; publish it once "
        f"with: aws s3api put-object --if-none-match '*' --bucket {BUCKET} --key {DIGEST_KEY} "
        "--body <local model.tar.gz>",
        NO_RESERVATION,
        QUOTA_CHURN,
    ]


@pytest.mark.usefixtures("aws", "answers")
def test_only_the_missing_artifacts_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_bucket()
    push_image("1.0.0")
    push_image("0.9.0", layer="c")  # another image: the configured digest is still missing
    push_image("3.0.0", layer="d", repository=FRAUD_REPOSITORY)
    put_model(DIGEST_KEY)
    assert run_main(write_config(tmp_path)) == 1
    lines = result_lines(capsys.readouterr().out)
    assert [line.split(":")[0] for line in lines] == [
        "PASS foundation",
        "PASS churn registry",
        "PASS churn image churn-v1",
        "FAIL churn model-data churn-v1",
        "FAIL churn image churn-v2",
        "PASS churn model-data churn-v2",
        "PASS fraud registry",
        "PASS fraud image fraud-v1",
        "FAIL fraud model-data fraud-v1",
        "PASS lambda-concurrency",
        "PASS quota ml.m5.large for endpoint usage",
    ]


@pytest.mark.usefixtures("aws")
def test_a_longer_key_with_the_same_prefix_is_not_the_archive() -> None:
    create_bucket()
    put_model(TAG_KEY + ".partial")
    put_model(TAG_KEY + "/nested")
    s3 = boto3.client("s3", region_name=REGION)
    assert not preflight.check_model_data(s3, TARGET, MODEL).passed
    put_model(TAG_KEY)
    assert preflight.check_model_data(s3, TARGET, MODEL).passed


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("storage_class", "readable"),
    [("GLACIER", False), ("DEEP_ARCHIVE", False), ("GLACIER_IR", True), ("STANDARD_IA", True)],
)
def test_an_archive_in_an_archival_storage_class_fails(storage_class: str, readable: bool) -> None:
    """Glacier Flexible Retrieval and Deep Archive objects cannot be read without a restore
    ("Restoring an archived object"); Glacier Instant Retrieval can."""
    create_bucket()
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key=TAG_KEY, Body=b"x", StorageClass=storage_class)
    result = preflight.check_model_data(s3, TARGET, MODEL)
    url = f"s3://{BUCKET}/{TAG_KEY}"
    assert result.line() == (
        f"PASS churn model-data churn-v1: {url}"
        if readable
        else f"FAIL churn model-data churn-v1: {url} is in S3's {storage_class} storage class, "
        "which cannot be read without a restore, and SageMaker reads it at every model create "
        "and scale-out: publish it again in STANDARD under a new key (aws s3api put-object "
        "--if-none-match '*' --storage-class STANDARD ...) and point the model at it"
    )


@pytest.mark.usefixtures("aws", "answers")
def test_repository_and_bucket_that_do_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--service", "churn", "--bucket", "gone", "--repository", "gone")
    assert run_main(write_config(tmp_path), *args) == 1
    assert result_lines(capsys.readouterr().out)[:2] == [
        f"FAIL churn image churn-v1: repository gone does not exist in {REGION}; {DEPLOY_CHURN} "
        "(or check --repository)",
        f"FAIL churn model-data churn-v1: bucket gone does not exist; {DEPLOY} (or check --bucket)",
    ]


# --- the stacks' outputs: Foundation (bucket), each service's Registry (repository) ------------


@pytest.mark.usefixtures("aws")
def test_missing_stacks_fail_and_say_what_to_deploy(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks = {}
    assert run_main(write_config(tmp_path)) == 1
    assert result_lines(capsys.readouterr().out) == [
        f"FAIL foundation: stack {STACK} does not exist; {DEPLOY}",
        f"FAIL churn registry: stack {CHURN_STACK} does not exist; {DEPLOY_CHURN}",
        f"FAIL fraud registry: stack {FRAUD_STACK} does not exist; {DEPLOY_FRAUD}",
        NO_RESERVATION,  # independent of the stacks: still reported
        QUOTA_ALL,
    ]
    assert answers.calls == [
        "DescribeStacks",
        "DescribeStacks",
        "DescribeStacks",
        "GetAccountSettings",
        "ListServiceQuotas",
    ]


def test_registry_stack_output_names_the_repository(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    """The repository comes from <env>-<service>-Registry's ModelImageRepositoryName, whatever
    its name; a Registry stack that is not deployed skips only that service's image checks."""
    push_image("1.0.0", layer="e", repository="generated-name-1a2b3c")
    answers.stacks[CHURN_STACK] = {"ModelImageRepositoryName": "generated-name-1a2b3c"}
    answers.stacks[FRAUD_STACK] = None
    assert run_main(published) == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[1:3] == [
        f"PASS churn registry: stack {CHURN_STACK}: ModelImageRepositoryName=generated-name-1a2b3c",
        f"PASS churn image churn-v1: {HOST}/generated-name-1a2b3c:1.0.0",
    ]
    assert [line.split(":")[0] for line in lines[6:]] == [
        "FAIL fraud registry",
        "PASS fraud model-data fraud-v1",  # the bucket is known: still checked
        "PASS lambda-concurrency",
        "PASS quota ml.m5.large for endpoint usage",
    ]
    assert lines[6] == f"FAIL fraud registry: stack {FRAUD_STACK} does not exist; {DEPLOY_FRAUD}"


def test_missing_foundation_skips_only_the_model_data_checks(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks[STACK] = None
    assert run_main(published, "--service", "churn") == 1
    lines = result_lines(capsys.readouterr().out)
    assert [line.split(":")[0] for line in lines] == [
        "FAIL foundation",
        "PASS churn registry",
        "PASS churn image churn-v1",
        "PASS churn image churn-v2",
        "PASS lambda-concurrency",
        "PASS quota ml.m5.large for endpoint usage",
    ]


@pytest.mark.usefixtures("aws")
def test_stacks_without_the_outputs_fail(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks = {STACK: {"Other": "x"}, CHURN_STACK: {"ModelArtifactBucketName": "x"}}
    answers.status = "UPDATE_ROLLBACK_COMPLETE"
    assert run_main(write_config(tmp_path), "--service", "churn") == 1
    assert result_lines(capsys.readouterr().out)[:2] == [
        f"FAIL foundation: stack {STACK} (UPDATE_ROLLBACK_COMPLETE) has no output "
        f"ModelArtifactBucketName; {DEPLOY}",
        f"FAIL churn registry: stack {CHURN_STACK} (UPDATE_ROLLBACK_COMPLETE) has no output "
        f"ModelImageRepositoryName; {DEPLOY_CHURN}",
    ]


def test_overrides_skip_the_stack_lookups(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks = {}  # would fail the run if they were asked
    args = ("--service", "churn", "--bucket", BUCKET, "--repository", REPOSITORY)
    assert run_main(published, *args) == 0
    lines = result_lines(capsys.readouterr().out)
    assert len(lines) == 6
    assert not any("foundation" in line or "registry" in line for line in lines)
    assert "DescribeStacks" not in answers.calls


@pytest.mark.usefixtures("aws")
def test_bucket_override_still_reads_the_registry_stacks(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks[STACK] = None  # not asked
    create_bucket(name="elsewhere")
    setup_client("s3").put_object(Bucket="elsewhere", Key=TAG_KEY, Body=b"")
    push_image("1.0.0")
    assert run_main(write_config(tmp_path), "--bucket", "elsewhere") == 1  # churn-v2 missing
    assert result_lines(capsys.readouterr().out)[:3] == [
        CHURN_PASS,
        f"PASS churn image churn-v1: {HOST}/{REPOSITORY}:1.0.0",
        f"PASS churn model-data churn-v1: s3://elsewhere/{TAG_KEY}",
    ]
    assert answers.described == [CHURN_STACK, FRAUD_STACK]


def test_repository_override_still_reads_the_foundation_stack(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks[CHURN_STACK] = None  # not asked
    assert run_main(published, "--service", "churn", "--repository", REPOSITORY) == 0
    assert result_lines(capsys.readouterr().out)[:2] == [
        FOUNDATION_PASS,
        f"PASS churn image churn-v1: {HOST}/{REPOSITORY}:1.0.0",
    ]
    assert answers.described == [STACK]


def test_stack_name_option(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stacks["dev-Foundation-blue"] = answers.stacks.pop(STACK)
    assert run_main(published, "--stack-name", "dev-Foundation-blue") == 0
    assert result_lines(capsys.readouterr().out)[0].startswith(
        "PASS foundation: stack dev-Foundation-blue: "
    )
    assert answers.described[0] == "dev-Foundation-blue"


def test_stack_name_with_bucket_is_refused_not_ignored(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stack-name only names the stack read for the bucket: with --bucket it would be
    silently unused."""
    assert run_main(published, "--bucket", BUCKET, "--stack-name", "dev-Foundation-blue") == 2
    captured = capsys.readouterr()
    assert "error: argument --stack-name: not allowed with argument --bucket" in captured.err
    assert captured.out == ""
    assert answers.calls == []
    [config] = load_environments(published, only="dev")
    with pytest.raises(ValueError, match="stack_name names the stack read for the bucket"):
        preflight.run(config, clients=None, stack_name="s", bucket="b")  # type: ignore[arg-type]


def test_output_ids_are_the_stacks() -> None:
    from mlops_cdk.app import foundation, registry
    from mlops_cdk.config.schema import REGISTRY_STACK_SUFFIX

    assert preflight.BUCKET_OUTPUT == foundation.BUCKET_OUTPUT == "ModelArtifactBucketName"
    assert preflight.REPOSITORY_OUTPUT == registry.REPOSITORY_OUTPUT == "ModelImageRepositoryName"
    assert preflight.registry_stack_name("dev", "churn") == f"dev-churn{REGISTRY_STACK_SUFFIX}"


def test_registry_stack_name_is_the_stages(tmp_path: Path) -> None:
    """<env>-<service>-Registry is the name MlopsStage gives the service's registry stack."""
    from mlops_cdk.app.stage import MlopsStage
    from tests.helpers import new_app

    config = load(write_config(tmp_path))
    stage = MlopsStage(new_app(), "dev", config=config)
    for service in config.services:
        assert stage.services[service].registry.stack_name == (
            preflight.registry_stack_name("dev", service)
        )


def test_a_missing_stack_is_recognized_by_cloudformations_error() -> None:
    cloudformation = stubbed(
        "cloudformation", "describe_stacks", "ValidationError", "Stack with id x does not exist"
    )
    result, found = preflight.foundation_outputs(cloudformation, "x", "dev", ["A"])
    assert result.line() == f"FAIL foundation: stack x does not exist; {DEPLOY}"
    assert found == {}
    other = stubbed("cloudformation", "describe_stacks", "ValidationError", "1 validation error")
    result, _ = preflight.foundation_outputs(other, "x", "dev", ["A"])
    assert result.line() == (
        "FAIL foundation: DescribeStacks failed: ValidationError: 1 validation error"
    )
    missing = stubbed(
        "cloudformation",
        "describe_stacks",
        "ValidationError",
        f"Stack with id {CHURN_STACK} does not exist",
    )
    result, found = preflight.registry_outputs(missing, "dev", "churn")
    assert result.line() == (
        f"FAIL churn registry: stack {CHURN_STACK} does not exist; {DEPLOY_CHURN}"
    )
    assert found == {}


# --- AWS errors other than "not found": one line each (Stubber) ---------------------------------

DENIED = "User: arn:aws:sts::111111111111:assumed-role/x/y is not authorized to perform: {}"


def stubbed(service: str, method: str, code: str, message: str) -> Any:
    client = boto3.client(service, region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error(method, service_error_code=code, service_message=message)
    stubber.activate()
    return client


def test_access_denied_on_describe_images() -> None:
    ecr = stubbed(
        "ecr", "describe_images", "AccessDeniedException", DENIED.format("ecr:DescribeImages")
    )
    assert preflight.check_image(ecr, TARGET, MODEL).line() == (
        "FAIL churn image churn-v1: DescribeImages failed: AccessDeniedException: "
        + DENIED.format("ecr:DescribeImages")
    )


DIGEST_SHA = "sha256:" + "ab" * 32
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:1.0.0"


def described(**detail: Any) -> Any:
    """An ECR client whose one DescribeImages call finds churn-v1's image with ``detail``."""
    client = boto3.client("ecr", region_name=REGION)
    stubber = Stubber(client)
    found = {"repositoryName": REPOSITORY, "imageDigest": DIGEST_SHA, "imageTags": ["1.0.0"]}
    stubber.add_response("describe_images", {"imageDetails": [found | detail]})
    stubber.activate()
    return client


def test_an_archived_image_fails_with_the_restore_because_ecr_cannot_pull_it() -> None:
    """ECR still describes an archived image but refuses to pull it ("Archiving an image")."""
    ecr = described(imageStatus="ARCHIVED", imageManifestMediaType=DOCKER_V2)
    assert preflight.check_image(ecr, TARGET, MODEL).line() == (
        f"FAIL churn image churn-v1: {URI} is archived, and ECR refuses to pull an archived "
        f"image: restore it (aws ecr update-image-storage-class --region {REGION} "
        f"--repository-name {REPOSITORY} --image-id imageDigest={DIGEST_SHA} "
        "--target-storage-class STANDARD), or push it again"
    )
    restoring = preflight.check_image(described(imageStatus="ACTIVATING"), TARGET, MODEL)
    assert restoring.line() == (
        f"FAIL churn image churn-v1: {URI} is being restored from ECR's archive: pulls fail "
        "until DescribeImages says ACTIVE"
    )


def test_an_oci_manifest_warns_with_the_rebuild_and_a_docker_manifest_passes() -> None:
    oci = described(
        imageStatus="ACTIVE", imageManifestMediaType="application/vnd.oci.image.index.v1+json"
    )
    line = preflight.check_image(oci, TARGET, MODEL).line()
    assert line.startswith(
        f"WARN churn image churn-v1: {URI}: its manifest is application/vnd.oci.image.index.v1+json"
    )
    assert "docker buildx build --provenance=false --output type=docker" in line
    docker = described(imageStatus="ACTIVE", imageManifestMediaType=DOCKER_V2)
    assert (
        preflight.check_image(docker, TARGET, MODEL).line() == f"PASS churn image churn-v1: {URI}"
    )


SCAN_FINDINGS = (
    f"aws ecr describe-image-scan-findings --region {REGION} --repository-name {REPOSITORY} "
    f"--image-id imageDigest={DIGEST_SHA}"
)


def scanned(status: str, description: str = "", **counts: int) -> dict[str, Any]:
    """ImageDetail's scan fields as DescribeImages returns them (botocore's ECR model)."""
    detail: dict[str, Any] = {"imageScanStatus": {"status": status}}
    if description:
        detail["imageScanStatus"]["description"] = description
    if counts:
        detail["imageScanFindingsSummary"] = {"findingSeverityCounts": counts}
    return detail


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        pytest.param(
            scanned("COMPLETE", CRITICAL=2, HIGH=5, MEDIUM=9),
            f"WARN churn image churn-v1: {URI}: its last scan found 2 CRITICAL and 5 HIGH "
            f"vulnerabilities: read them ({SCAN_FINDINGS}) and rebuild on patched packages, or "
            "accept them knowingly",
            id="critical and high",
        ),
        pytest.param(
            scanned("COMPLETE", HIGH=1),
            f"WARN churn image churn-v1: {URI}: its last scan found 1 HIGH vulnerabilities",
            id="high",
        ),
        pytest.param(
            scanned("UNSUPPORTED_IMAGE", "The operating system of this image is not supported"),
            f"WARN churn image churn-v1: {URI}: ECR did not scan it (UNSUPPORTED_IMAGE: The "
            "operating system of this image is not supported): its vulnerabilities are unknown, "
            f"not absent ({SCAN_FINDINGS})",
            id="not scanned",
        ),
        pytest.param(
            scanned("LIMIT_EXCEEDED"),
            f"WARN churn image churn-v1: {URI}: ECR did not scan it (LIMIT_EXCEEDED): ",
            id="daily scan quota",
        ),
        pytest.param(
            scanned("COMPLETE", MEDIUM=3, LOW=10, INFORMATIONAL=4),
            f"PASS churn image churn-v1: {URI}",
            id="medium and below",
        ),
        pytest.param(scanned("IN_PROGRESS"), f"PASS churn image churn-v1: {URI}", id="scanning"),
        pytest.param({}, f"PASS churn image churn-v1: {URI}", id="never scanned on push"),
    ],
)
def test_the_last_scan_of_the_image_warns_of_critical_and_high_findings_or_no_scan(
    scan: dict[str, Any], expected: str
) -> None:
    """ECR scans on push, and DescribeImages, which preflight calls anyway, returns the scan's
    status and counts per severity: nothing else is called."""
    line = preflight.check_image(described(imageStatus="ACTIVE", **scan), TARGET, MODEL).line()
    assert line.startswith(expected)
    assert line == expected or expected.startswith("WARN")


def test_a_scan_warning_joins_the_manifest_warning() -> None:
    ecr = described(
        imageStatus="ACTIVE",
        imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
        **scanned("COMPLETE", CRITICAL=1),
    )
    line = preflight.check_image(ecr, TARGET, MODEL).line()
    assert line.startswith(f"WARN churn image churn-v1: {URI}: its manifest is ")
    assert "; its last scan found 1 CRITICAL vulnerabilities" in line


def test_an_archived_training_image_fails_the_retraining_line() -> None:
    ecr = described(imageStatus="ARCHIVED")
    line = preflight.check_training_image(ecr, TARGET, "{image_repository}:1.0.0").line()
    assert line.startswith(f"FAIL churn training-image: {URI} is archived")


def test_access_denied_on_list_objects() -> None:
    s3 = stubbed("s3", "list_objects_v2", "AccessDenied", "Access Denied")
    assert preflight.check_model_data(s3, TARGET, MODEL).line() == (
        "FAIL churn model-data churn-v1: ListObjectsV2 failed: AccessDenied: Access Denied"
    )


def test_throttling_on_describe_stacks_is_one_line() -> None:
    cloudformation = stubbed("cloudformation", "describe_stacks", "Throttling", "Rate\nexceeded")
    result, found = preflight.foundation_outputs(
        cloudformation, STACK, "dev", [preflight.BUCKET_OUTPUT]
    )
    assert result.line() == "FAIL foundation: DescribeStacks failed: Throttling: Rate\\nexceeded"
    assert found == {}


def test_access_denied_on_the_registry_stack(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.denied.add(CHURN_STACK)
    assert run_main(published) == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[1] == (
        f"FAIL churn registry: DescribeStacks failed: AccessDenied: User is not authorized to "
        f"perform: cloudformation:DescribeStacks on resource {CHURN_STACK}"
    )
    assert [line.split(":")[0] for line in lines[2:]] == [
        "PASS churn model-data churn-v1",  # no image checks without the repository's name
        "PASS churn model-data churn-v2",
        "PASS fraud registry",
        "PASS fraud image fraud-v1",
        "PASS fraud model-data fraud-v1",
        "PASS lambda-concurrency",
        "PASS quota ml.m5.large for endpoint usage",
    ]


def test_access_denied_on_get_account_settings() -> None:
    lambda_ = stubbed("lambda", "get_account_settings", "AccessDeniedException", "no")
    assert preflight.check_lambda_concurrency(lambda_, None, REGION).line() == (
        "FAIL lambda-concurrency: GetAccountSettings failed: AccessDeniedException: no"
    )


@pytest.mark.usefixtures("aws", "answers")
def test_unexpected_error_in_a_check_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    def broken(*_: Any) -> Any:
        raise KeyError("imageDetails")

    monkeypatch.setattr(preflight, "check_image", broken)
    assert run_main(write_config(tmp_path)) == 1
    captured = capsys.readouterr()
    assert "FAIL churn image churn-v1: unexpected error: KeyError: 'imageDetails'" in captured.out
    assert "FAIL fraud image fraud-v1: unexpected error: KeyError: 'imageDetails'" in captured.out
    assert captured.err == ""


@pytest.mark.usefixtures("aws", "answers")
def test_unexpected_error_in_a_lookup_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: Any) -> Any:
        raise TypeError("bad\noutput")

    monkeypatch.setattr(preflight, "registry_outputs", broken)
    assert run_main(write_config(tmp_path), "--service", "churn") == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out)[1:] == [
        "FAIL churn registry: unexpected error: TypeError: bad\\noutput",
        "FAIL churn model-data churn-v1: bucket dev-artifacts does not exist; "
        f"{DEPLOY} (or check --bucket)",
        "FAIL churn model-data churn-v2: bucket dev-artifacts does not exist; "
        f"{DEPLOY} (or check --bucket)",
        NO_RESERVATION,
        QUOTA_CHURN,
    ]


# --- Lambda concurrency ----------------------------------------------------------------------


def settings_client(unreserved: int | None, total: int | None = 1000) -> Any:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    limit = {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}
    stubber.add_response(
        "get_account_settings", {"AccountLimit": {k: v for k, v in limit.items() if v is not None}}
    )
    stubber.activate()
    return client


def test_concurrency_without_a_reservation_reports_the_number() -> None:
    result = preflight.check_lambda_concurrency(settings_client(7, 10), None, REGION)
    assert result.line() == (
        "PASS lambda-concurrency: 7 unreserved concurrent executions (no reservation configured)"
    )
    assert preflight.check_lambda_concurrency(settings_client(7, 10), {}, REGION).passed


def test_reservation_that_leaves_enough_passes() -> None:
    result = preflight.check_lambda_concurrency(settings_client(1000), {"churn": 5}, REGION)
    assert result.line() == (
        "PASS lambda-concurrency: 1000 unreserved concurrent executions; the retraining "
        "function's reservation of 5 (service churn) leaves 995 (Lambda keeps at least 100 "
        "unreserved)"
    )
    assert preflight.check_lambda_concurrency(settings_client(105), {"churn": 5}, REGION).passed


def test_reservation_below_the_minimum_fails_with_the_quota_request() -> None:
    result = preflight.check_lambda_concurrency(settings_client(104), {"churn": 5}, REGION)
    assert result.line() == (
        "FAIL lambda-concurrency: 104 unreserved concurrent executions; the retraining "
        "function's reservation of 5 (service churn) leaves 99, but AWS keeps at least 100 "
        "unreserved (100, or the whole quota of 1000 if lower), so Lambda would reject the "
        "reservation; request a quota increase (aws service-quotas "
        "request-service-quota-increase --region eu-west-1 --service-code lambda --quota-code "
        "L-B99A9384 --desired-value 1001) or remove "
        "services.churn.retraining.reserved_concurrency (if the function is already deployed "
        "with this reservation, it is counted twice here)"
    )


def test_reservations_of_several_services_are_summed() -> None:
    reserved = {"churn": 5, "fraud": 10}
    result = preflight.check_lambda_concurrency(settings_client(1000), reserved, REGION)
    assert result.line() == (
        "PASS lambda-concurrency: 1000 unreserved concurrent executions; the retraining "
        "functions' reservations of 15 (churn 5, fraud 10) leave 985 (Lambda keeps at least "
        "100 unreserved)"
    )
    assert preflight.check_lambda_concurrency(settings_client(115), reserved, REGION).passed
    # each reservation alone would fit in 110; together they leave 95
    result = preflight.check_lambda_concurrency(settings_client(110), reserved, REGION)
    assert result.line() == (
        "FAIL lambda-concurrency: 110 unreserved concurrent executions; the retraining "
        "functions' reservations of 15 (churn 5, fraud 10) leave 95, but AWS keeps at least 100 "
        "unreserved (100, or the whole quota of 1000 if lower), so Lambda would reject the "
        "reservation; request a quota increase (aws service-quotas "
        "request-service-quota-increase --region eu-west-1 --service-code lambda --quota-code "
        "L-B99A9384 --desired-value 1005) or lower "
        "services.<service>.retraining.reserved_concurrency of churn, fraud (a function "
        "already deployed with its reservation is counted twice here)"
    )


@pytest.mark.parametrize(("quota", "reserved"), [(10, 1), (50, 5), (100, 1)])
def test_small_quotas_allow_no_reservation(quota: int, reserved: int) -> None:
    """A new account's quota (10 or 50) is its own minimum: any reservation is rejected
    ("... below its minimum value of [10]")."""
    result = preflight.check_lambda_concurrency(
        settings_client(quota, quota), {"churn": reserved}, REGION
    )
    assert not result.passed
    assert f"AWS keeps at least {quota} unreserved" in result.detail
    assert f"--desired-value {reserved + 100}" in result.detail  # then 100 stay unreserved


def test_unknown_quota_uses_the_documented_minimum() -> None:
    result = preflight.check_lambda_concurrency(settings_client(150, None), {"churn": 60}, REGION)
    assert not result.passed
    assert "--desired-value <current quota + needed>" in result.detail
    assert preflight.check_lambda_concurrency(
        settings_client(160, None), {"churn": 60}, REGION
    ).passed


def test_missing_unreserved_count_fails() -> None:
    result = preflight.check_lambda_concurrency(settings_client(None), None, REGION)
    assert result.line() == (
        "FAIL lambda-concurrency: GetAccountSettings returned no UnreservedConcurrentExecutions"
    )


def test_reservation_comes_from_the_config(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(published.parent, digest_of(published), reserve("churn", 5))
    create_pipeline("churn-retraining-dev")
    answers.lambda_limit.update(ConcurrentExecutions=50, UnreservedConcurrentExecutions=50)
    assert run_main(config_dir) == 1
    lines = result_lines(capsys.readouterr().out)
    assert all(line.startswith("PASS ") for line in lines[:-2])
    assert lines[-2].startswith(
        "FAIL lambda-concurrency: 50 unreserved concurrent executions; the retraining "
        "function's reservation of 5 (service churn) leaves 45, but AWS keeps at least 50 "
        "unreserved"
    )
    answers.lambda_limit.update(ConcurrentExecutions=1000, UnreservedConcurrentExecutions=1000)
    assert run_main(config_dir) == 0


def test_reservations_are_summed_over_the_services(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(
        published.parent, digest_of(published), reserve("churn", 5), reserve("fraud", 10)
    )
    create_pipeline("churn-retraining-dev")
    create_pipeline("fraud-retraining-dev")
    assert preflight.reservations(load(config_dir), ["churn", "fraud"]) == {
        "churn": 5,
        "fraud": 10,
    }
    answers.lambda_limit.update(UnreservedConcurrentExecutions=110)
    assert run_main(config_dir) == 1
    assert result_lines(capsys.readouterr().out)[-2].startswith(
        "FAIL lambda-concurrency: 110 unreserved concurrent executions; the retraining "
        "functions' reservations of 15 (churn 5, fraud 10) leave 95, but AWS keeps at least "
        "100 unreserved"
    )
    # one service: only its own function's reservation
    assert run_main(config_dir, "--service", "churn") == 0
    assert result_lines(capsys.readouterr().out)[-2] == (
        "PASS lambda-concurrency: 110 unreserved concurrent executions; the retraining "
        "function's reservation of 5 (service churn) leaves 105 (Lambda keeps at least 100 "
        "unreserved)"
    )


def test_services_without_a_reservation_are_not_counted(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(published.parent, digest_of(published), reserve("fraud", 10))
    config = load(config_dir)
    assert config.services["churn"].retraining is None
    assert preflight.reservations(config, ["churn", "fraud"]) == {"fraud": 10}
    assert preflight.reservations(config, ["churn"]) == {}
    assert run_main(config_dir, "--service", "churn") == 0
    assert result_lines(capsys.readouterr().out)[-2:] == [NO_RESERVATION, QUOTA_CHURN]


# --- bad input: exit 2, no traceback; nothing to check: exit 0 -----------------------------------


def test_unknown_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = write_config(tmp_path)
    assert preflight.main(["--env", "nope", "--config-dir", str(config_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "configuration error: unknown environment 'nope'; known environments: dev"
    ]
    assert captured.out == ""


@pytest.mark.slow  # a subprocess
def test_default_config_dir_is_the_repositorys(tmp_path: Path) -> None:
    """Run from another directory: the default still finds the repository's config/."""
    done = subprocess.run(
        [sys.executable, "-m", "mlops_tools.preflight", "--env", "nope"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("configuration")]
    assert len(errors) == 1
    known = sorted(p.stem for p in (ROOT / "config").glob("*.yaml") if p.stem != "pipeline")
    assert errors[0].startswith("configuration error: unknown environment 'nope'; known ")
    assert all(name in errors[0] for name in known)
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_invalid_config_lists_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(
        tmp_path, OTHER_DIGEST, lambda data: data.update(region="mars-north-1")
    )
    assert run_main(config_dir) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines
    assert all(line.startswith("configuration error: ") for line in lines)
    assert "region" in captured.err
    assert "mars-north-1" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_env_without_services_has_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, OTHER_DIGEST, lambda data: data.pop("services"))
    # no moto and no stub: any AWS call would fail the run
    assert run_main(config_dir) == 0
    assert capsys.readouterr().out.splitlines() == [
        "environment 'dev' has no services: nothing to check "
        "(no model images or artifacts are referenced)"
    ]


def test_unknown_service_names_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path)
    assert run_main(config_dir, "--service", "frod") == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "unknown service 'frod' in environment 'dev'; known services: churn, fraud"
    ]
    assert captured.out == ""
    empty = write_config(tmp_path / "empty", OTHER_DIGEST, lambda data: data.pop("services"))
    assert run_main(empty, "--service", "churn") == 2
    assert capsys.readouterr().err.splitlines() == [
        "unknown service 'churn' in environment 'dev'; environment 'dev' has no services"
    ]


def test_repository_needs_a_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(write_config(tmp_path), "--repository", REPOSITORY) == 2
    captured = capsys.readouterr()
    assert "usage: python -m mlops_tools.preflight" in captured.err
    assert (
        "error: --repository is only valid with --service (each service has its own repository)"
        in captured.err
    )
    assert captured.out == ""
    with pytest.raises(ValueError, match="give service too"):
        preflight.run(load(write_config(tmp_path)), None, repository=REPOSITORY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--env", "dev", "--bucket", ""],
        ["--env", "dev", "--service", "churn", "--repository", " "],
        ["--env", "dev", "--service", ""],
        ["--env", "dev", "--unknown"],
    ],
)
def test_bad_arguments_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert preflight.main(args) == 2
    assert "usage: python -m mlops_tools.preflight" in capsys.readouterr().err


# --- credentials and --role-arn ----------------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_are_one_hint_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(tmp_path)) == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == []  # not the same error once per check
    assert "checks passed" not in captured.out
    assert captured.err.splitlines() == [
        "no AWS credentials found: nothing was checked; configure credentials (aws configure, "
        "AWS_PROFILE=<profile>, aws sso login, or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
        "variables) and run again"
    ]


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_for_assume_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(tmp_path), "--role-arn", ROLE_ARN) == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == []
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith("no AWS credentials found")


@pytest.mark.usefixtures("aws")
def test_role_arn_is_assumed_and_its_credentials_used(
    tmp_path: Path,
    answers: Answers,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Everything is published in the environment's account only (moto: one backend per account).
    env_account = session_for(ACCOUNT)
    create_bucket(env_account)
    push_image("1.0.0", env_account)
    digest = push_image("2.0.0", env_account, layer="b")
    put_model(TAG_KEY, env_account)
    put_model(DIGEST_KEY, env_account)
    config_dir = write_config(tmp_path, digest)

    assert run_main(config_dir, "--service", "churn") == 1  # the caller's account has none
    assert f"FAIL churn image churn-v1: repository {REPOSITORY} does not exist" in (
        capsys.readouterr().out
    )

    calls: list[dict[str, Any]] = []
    used: list[str] = []
    real_assume, real_make = preflight.assume_role, preflight.make_clients

    def assume(sts: Any, role_arn: str, env: str, region: str) -> Any:
        sts.meta.events.register(
            "before-call.sts.AssumeRole", lambda params, **_: calls.append(params["body"])
        )
        return real_assume(sts, role_arn, env, region)

    def make(session: Any, region: str) -> preflight.Clients:
        used.append(session.get_credentials().access_key)
        return real_make(session, region)

    monkeypatch.setattr(preflight, "assume_role", assume)
    monkeypatch.setattr(preflight, "make_clients", make)
    assert run_main(config_dir, "--service", "churn", "--role-arn", ROLE_ARN) == 0
    assert len(calls) == 1
    assert calls[0]["RoleArn"] == ROLE_ARN
    assert calls[0]["RoleSessionName"] == "mlops-preflight-dev"
    assert len(used) == 1
    assert used[0] != "testing"
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(f" as {ROLE_ARN}")
    assert len(result_lines(out)) == 8
    assert all(line.startswith("PASS ") for line in result_lines(out))


@pytest.mark.usefixtures("aws")
def test_role_arn_failure_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(write_config(tmp_path), "--role-arn", "bad") == 1
    lines = result_lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert lines[0].startswith("FAIL assume-role: AssumeRole failed: ParamValidationError")


# --- image references ----------------------------------------------------------------------------


def test_image_uris_by_tag_digest_and_partition() -> None:
    by_digest = ModelConfig(name="m", image_digest=OTHER_DIGEST, model_data_key=TAG_KEY)
    assert preflight.image_uri(TARGET, MODEL) == f"{HOST}/{REPOSITORY}:1.0.0"
    assert preflight.image_uri(TARGET, by_digest) == f"{HOST}/{REPOSITORY}@{OTHER_DIGEST}"
    assert preflight.registry_host(ACCOUNT, "cn-north-1") == (
        f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"
    )


# --- retraining targets --------------------------------------------------------------------


def load_retrain_function(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The retraining function's module (mlops_cdk/functions/retrain/retrain.py), as Lambda
    loads it: by file, not as a package member (registered for this test only)."""
    path = ROOT / "mlops_cdk" / "functions" / "retrain" / "retrain.py"
    spec = importlib.util.spec_from_file_location("retrain_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def test_required_parameters_are_those_the_retraining_function_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    retrain = load_retrain_function(monkeypatch)
    monkeypatch.setenv("RETRAIN_MODE", "pipeline")
    monkeypatch.setenv("PIPELINE_NAME", "churn-retraining-dev")
    monkeypatch.setenv("ENDPOINT_NAME", "dev-churn")  # the service stack always sets it
    client = boto3.client("sagemaker", region_name=REGION)
    started: list[dict[str, Any]] = []
    with Stubber(client) as stubber:
        stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-retraining-dev/execution/x"
        stubber.add_response("start_pipeline_execution", {"PipelineExecutionArn": arn})
        client.meta.events.register(
            "provide-client-params.sagemaker.StartPipelineExecution",
            lambda params, **_: started.append(params),
        )
        retrain.set_client(client)
        event = {"alarmData": {"alarmName": "dev-churn-auc", "state": {"value": "ALARM"}}}
        assert retrain.handler(event, None)["decision"] == "started"
    capsys.readouterr()  # the function's log line
    [request] = started
    passed = sorted(p["Name"] for p in request["PipelineParameters"])
    assert passed == sorted(preflight.RETRAINING_PIPELINE_PARAMETERS)


@pytest.fixture
def retraining(published: Path) -> Path:
    """``published`` plus a retraining pipeline for churn (churn-retraining-dev): a config dir."""
    return write_config(published.parent, digest_of(published), reserve("churn", 5))


def test_retraining_pipeline_declaring_the_parameters_passes(
    retraining: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    create_pipeline("churn-retraining-dev", ("EndpointName", "AlarmName", "Reason", "Extra"))
    assert run_main(retraining, "--service", "churn") == 0
    lines = result_lines(capsys.readouterr().out)
    assert (
        "PASS churn retraining-pipeline: pipeline churn-retraining-dev (Active) declares "
        "AlarmName, EndpointName, Reason"
    ) in lines
    assert lines.index(CHURN_PASS) < len(lines) - 2  # after the service's models
    assert "DescribePipeline" in answers.calls


def test_retraining_pipeline_missing_a_parameter_fails(
    retraining: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_pipeline("churn-retraining-dev", ("AlarmName", "InputData"))
    assert run_main(retraining, "--service", "churn") == 1
    out = capsys.readouterr().out
    assert (
        "FAIL churn retraining-pipeline: pipeline churn-retraining-dev does not declare "
        "EndpointName, Reason (declared: AlarmName, InputData); the retraining function passes "
        "AlarmName, EndpointName, Reason: add them to the definition as string parameters "
        "(ParameterString)"
    ) in result_lines(out)
    assert out.splitlines()[-1] == "8 of 9 checks passed"


def test_missing_retraining_pipeline_fails(
    retraining: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(retraining, "--service", "churn") == 1
    assert (
        f"FAIL churn retraining-pipeline: pipeline churn-retraining-dev does not exist in "
        f"{REGION}: an alarm would start nothing (StartPipelineExecution fails); create it, or "
        "correct services.churn.retraining.pipeline.name"
    ) in result_lines(capsys.readouterr().out)


def test_pipeline_not_found_as_aws_answers_it() -> None:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_pipeline", service_error_code="ResourceNotFound", http_status_code=400
        )
        result = preflight.check_retraining_pipeline(client, "churn", "p", REGION)
    assert not result.passed
    assert result.detail.startswith(f"pipeline p does not exist in {REGION}")


@pytest.mark.parametrize("definition", ["not json", "[]", '{"Parameters": 3}'])
def test_unreadable_pipeline_definition_fails(definition: str) -> None:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_response("describe_pipeline", {"PipelineDefinition": definition})
        result = preflight.check_retraining_pipeline(client, "churn", "p", REGION)
    assert not result.passed
    assert "no readable definition" in result.detail


def training_job(image: str) -> Callable[[dict[str, Any]], None]:
    """A ``mutate`` giving churn a retraining training job with this training image."""

    def mutate(data: dict[str, Any]) -> None:
        reserve("churn", 5)(data)
        retraining = data["services"]["churn"]["retraining"]
        del retraining["pipeline"]
        retraining["training_job"] = {
            "template": {
                "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
                "OutputDataConfig": {"S3OutputPath": "s3://{bucket}/training-output/{service}/"},
                "ResourceConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            }
        }

    return mutate


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    ("image", "line"),
    [
        pytest.param(
            "{image_repository}:1.0.0",
            f"PASS churn training-image: {HOST}/{REPOSITORY}:1.0.0 (the training role comes with "
            "the service stack)",
            id="published",
        ),
        pytest.param(
            "{image_repository}:train-9",
            f"FAIL churn training-image: {HOST}/{REPOSITORY}:train-9 not found: the retraining "
            f"job would fail to start; push the training image (docker tag <local image> "
            f"{HOST}/{REPOSITORY}:train-9 && docker push {HOST}/{REPOSITORY}:train-9)",
            id="missing",
        ),
        pytest.param(
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3",
            "WARN churn training-image: 763104351884.dkr.ecr.eu-west-1.amazonaws.com/"
            "pytorch-training:2.3 is not an image of the service's repository "
            "({image_repository}:<tag>): not checked",
            id="elsewhere",
        ),
    ],
)
def test_training_job_image(
    image: str, line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, OTHER_DIGEST, training_job(image))
    run_main(config_dir, "--service", "churn")
    assert line in result_lines(capsys.readouterr().out)


def test_training_image_references() -> None:
    assert preflight.repository_image_id("{image_repository}") == {"imageTag": "latest"}
    assert preflight.repository_image_id("{image_repository}:t-1") == {"imageTag": "t-1"}
    assert preflight.repository_image_id("{image_repository}@" + OTHER_DIGEST) == {
        "imageDigest": OTHER_DIGEST
    }
    assert preflight.repository_image_id("{image_repository}x") is None
    assert preflight.repository_image_id("public.ecr.aws/x/y:1") is None


# --- the trail change detection relies on ---------------------------------------------------


def with_change_detection(data: dict[str, Any]) -> None:
    data["monitoring"] = {"alarm_emails": ["ml-dev-alerts@example.com"]}  # where changes go
    data["change_detection"] = {"trail": "create"}


@pytest.mark.parametrize("service", [(), ("--service", "churn")])
def test_the_change_trail_is_checked_for_the_environment_and_each_service(
    service: tuple[str, ...],
    published: Path,
    answers: Answers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each run (the pipeline runs one per service) reads the trail: a stopped trail makes
    every change-detection rule silent."""
    boto3.client("cloudtrail", region_name=REGION).create_trail(
        Name="mlops-dev-changes", S3BucketName=BUCKET
    )
    config_dir = write_config(published.parent, digest_of(published), with_change_detection)
    assert run_main(config_dir, *service) == 1
    (line,) = [x for x in result_lines(capsys.readouterr().out) if "change-trail" in x]
    assert line.startswith("FAIL change-trail: trail arn:aws:cloudtrail:eu-west-1:")
    assert ":trail/mlops-dev-changes is not logging: " in line
    trail_calls = answers.calls[answers.calls.index("DescribeTrails") :][:3]
    assert trail_calls == ["DescribeTrails", "GetTrailStatus", "GetEventSelectors"]
    boto3.client("cloudtrail", region_name=REGION).start_logging(Name="mlops-dev-changes")
    assert run_main(config_dir, *service) == 0
    assert "PASS change-trail: " in capsys.readouterr().out


def test_no_trail_is_read_without_change_detection(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(published.parent, digest_of(published))) == 0
    assert "change-trail" not in capsys.readouterr().out
    assert "DescribeTrails" not in answers.calls


# --- the foundation watch's subscriptions ---------------------------------------------------


def test_foundation_watch_alerts_reach_every_address(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    """The foundation watch's topic (the Foundation's FoundationWatchTopicArn) tells the alarm
    e-mails that the environment key was disabled or the trail stopped: an address SNS dropped
    unconfirmed would hear nothing."""
    boto3.client("cloudtrail", region_name=REGION).create_trail(
        Name="mlops-dev-changes", S3BucketName=BUCKET
    )
    boto3.client("cloudtrail", region_name=REGION).start_logging(Name="mlops-dev-changes")
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="dev-foundation-watch")["TopicArn"]
    foundation = answers.stacks[STACK]
    assert foundation is not None
    foundation["FoundationWatchTopicArn"] = topic
    config_dir = write_config(published.parent, digest_of(published), with_change_detection)
    assert run_main(config_dir) == 1
    (line,) = [x for x in result_lines(capsys.readouterr().out) if "foundation-watch" in x]
    assert line.startswith("FAIL foundation-watch-subscriptions: ")
    assert "ml-dev-alerts@example.com" in line
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-dev-alerts@example.com")
    assert run_main(config_dir) == 0
    (line,) = [x for x in result_lines(capsys.readouterr().out) if "foundation-watch" in x]
    assert (
        line
        == f"PASS foundation-watch-subscriptions: 1 confirmed e-mail subscription(s) on {topic}"
    )


@pytest.mark.parametrize(
    ("watch_foundation", "service"),
    [(False, ()), (True, ("--service", "churn"))],
    ids=["off", "service"],
)
def test_foundation_watch_is_not_checked_when_off_or_for_one_service(
    watch_foundation: bool,
    service: tuple[str, ...],
    published: Path,
    answers: Answers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def config(data: dict[str, Any]) -> None:
        with_change_detection(data)
        data["change_detection"]["watch_foundation"] = watch_foundation

    config_dir = write_config(published.parent, digest_of(published), config)
    run_main(config_dir, *service)
    assert "foundation-watch" not in capsys.readouterr().out
    assert "ListSubscriptionsByTopic" not in answers.calls


# --- the VPC flow log's delivery ------------------------------------------------------------


def flow_log() -> str:
    """A flow log of a (moto) VPC to a log group, as the Foundation creates it (moto answers
    FAILED, Access error, for a log group that does not exist)."""
    setup_client("logs").create_log_group(logGroupName="dev-flow-logs")
    role = setup_client("iam").create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    ec2 = setup_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogGroupName="dev-flow-logs",
        DeliverLogsPermissionArn=role,
    )
    return str(created["FlowLogIds"][0])


def flow_log_line(out: str) -> str:
    (line,) = [x for x in result_lines(out) if x.split(":")[0].endswith("flow-logs")]
    return line


def test_a_delivering_flow_log_passes_and_a_failing_one_fails_with_its_cause(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """A flow log whose delivery FAILED stays ACTIVE and records nothing (DescribeFlowLogs'
    DeliverLogsStatus, DeliverLogsErrorMessage); moto always delivers, so the failure is added
    to its answer."""
    answers.flow_logs = True
    fl = flow_log()
    foundation = answers.stacks[STACK]
    assert foundation is not None
    foundation["FlowLogId"] = fl
    assert run_main(published) == 0
    line = flow_log_line(capsys.readouterr().out)
    assert line.startswith(f"PASS flow-logs: flow log {fl} of vpc-")
    assert line.endswith("is ACTIVE, delivering to dev-flow-logs")
    assert "DescribeFlowLogs" in answers.calls

    def failed(parsed: dict[str, Any], **_: Any) -> None:
        for entry in parsed.get("FlowLogs", []):
            entry["DeliverLogsStatus"] = "FAILED"
            entry["DeliverLogsErrorMessage"] = "Access error"

    real = preflight.make_clients

    def failing(session: Any, region: str) -> preflight.Clients:
        clients = real(session, region)
        clients.ec2.meta.events.register("after-call.ec2.DescribeFlowLogs", failed)
        return clients

    monkeypatch.setattr(preflight, "make_clients", failing)
    assert run_main(published) == 1
    line = flow_log_line(capsys.readouterr().out)
    assert line.startswith(f"FAIL flow-logs: flow log {fl} of vpc-")
    assert "records nothing: delivery FAILED (Access error): the flow log's role or the " in line


def test_a_flow_log_that_is_gone_fails_and_an_older_foundation_warns(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.flow_logs = True
    assert run_main(published) == 0  # the Foundation in the answers has no FlowLogId output
    assert flow_log_line(capsys.readouterr().out) == (
        f"WARN flow-logs: not checked: stack {STACK} has no output FlowLogId (deployed before it "
        "existed)"
    )
    foundation = answers.stacks[STACK]
    assert foundation is not None
    foundation["FlowLogId"] = "fl-0123456789abcdef0"
    assert run_main(published) == 1
    line = flow_log_line(capsys.readouterr().out)
    assert line.startswith(
        f"FAIL flow-logs: flow log fl-0123456789abcdef0 of {STACK} does not exist: the VPC's "
        "traffic is not recorded."
    )


def test_the_flow_log_is_not_read_for_one_service(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.flow_logs = True
    assert run_main(published, "--service", "churn") == 0
    assert "flow-logs" not in capsys.readouterr().out
    assert "DescribeFlowLogs" not in answers.calls


# --- the budget's cost allocation tag ------------------------------------------------------


def with_budget(data: dict[str, Any]) -> None:
    data["monitoring"] = {"alarm_emails": ["ml-dev-alerts@example.com"]}
    data["budget"] = {"monthly_usd": 500}


def test_budget_tag_key_is_the_stacks_environment_tag() -> None:
    from mlops_cdk.app.settings import ENVIRONMENT_TAG  # imports aws_cdk: tests only

    assert preflight.BUDGET_TAG_KEY == ENVIRONMENT_TAG


def test_active_budget_tag_passes(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="dev-budget")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-dev-alerts@example.com")
    foundation = answers.stacks[STACK]
    assert foundation is not None
    foundation["BudgetTopicArn"] = topic
    config_dir = write_config(published.parent, digest_of(published), with_budget)
    assert run_main(config_dir) == 0
    out = capsys.readouterr().out
    assert result_lines(out)[-2:] == [
        "PASS budget-tag: cost allocation tag Environment is Active",
        f"PASS budget-subscriptions: 1 confirmed e-mail subscription(s) on {topic}",
    ]
    assert out.splitlines()[-1] == "13 of 13 checks passed"
    assert answers.calls[-3:] == [
        "ListCostAllocationTags",
        "DescribeStacks",
        "ListSubscriptionsByTopic",
    ]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param(
            [{"TagKey": "Environment", "Type": "UserDefined", "Status": "Inactive"}],
            "FAIL budget-tag: cost allocation tag Environment is Inactive: the budget filters "
            "on it and counts nothing; activate it: aws ce update-cost-allocation-tags-status "
            "--cost-allocation-tags-status TagKey=Environment,Status=Active",
            id="inactive",
        ),
        pytest.param(
            [],
            "FAIL budget-tag: tag Environment is not a cost allocation tag yet (it is listed "
            "once tagged resources have incurred costs), so the budget counts nothing",
            id="unknown",
        ),
    ],
)
def test_inactive_or_unknown_budget_tag_fails(
    tags: list[dict[str, str]],
    expected: str,
    published: Path,
    answers: Answers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers.tags = tags
    config_dir = write_config(published.parent, digest_of(published), with_budget)
    assert run_main(config_dir) == 1
    out = capsys.readouterr().out
    assert result_lines(out)[-2].startswith(expected)
    # a Foundation deployed before the output existed: its topic is not checked
    assert result_lines(out)[-1] == (
        f"WARN budget-subscriptions: not checked: stack {STACK} has no output BudgetTopicArn "
        "(deployed before it existed)"
    )
    assert out.splitlines()[-1] == "12 of 13 checks passed (1 with a warning)"


def test_budget_tag_is_not_checked_for_one_service(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(published.parent, digest_of(published), with_budget)
    assert run_main(config_dir, "--service", "churn") == 0
    out = capsys.readouterr().out
    assert "budget-tag" not in out  # the Foundation's, not the service's
    assert "budget-subscriptions" not in out
    assert "ListCostAllocationTags" not in answers.calls


def test_budget_tag_error_is_one_line() -> None:
    client = boto3.client("ce", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "list_cost_allocation_tags",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: ce:ListCostAllocationTags",
        )
        result = preflight.check_budget_tag(client)
    assert result.line() == (
        "FAIL budget-tag: ListCostAllocationTags failed: AccessDeniedException: not authorized "
        "to perform: ce:ListCostAllocationTags (cost allocation tags are managed by the "
        "organization's management account)"
    )


def test_cost_explorer_is_called_in_us_east_1() -> None:
    clients = preflight.make_clients(boto3.Session(region_name=REGION), REGION)
    assert clients.ce.meta.endpoint_url == "https://ce.us-east-1.amazonaws.com"


def test_summary_counts_warnings_as_passed() -> None:
    results = [
        smoke.CheckResult("a", True, "ok"),
        smoke.CheckResult("b", True, "not checked", warning=True),
        smoke.CheckResult("c", False, "bad"),
    ]
    assert preflight.summary(results) == "2 of 3 checks passed (1 with a warning)"


def managed_pipeline(data: dict[str, Any]) -> None:
    """churn retrains with the managed pipeline: training image 1.0.0 (published), evaluation
    image eval-9 (not published)."""
    reserve("churn", 5)(data)
    retraining = data["services"]["churn"]["retraining"]
    del retraining["pipeline"]
    retraining["managed_pipeline"] = {
        "training": {"image_tag": "1.0.0", "instance_type": "ml.m5.xlarge"},
        "evaluation": {
            "image_tag": "eval-9",
            "instance_type": "ml.m5.large",
            "entrypoint": ["python3", "evaluate.py"],
            "metric": {"name": "auc", "threshold": 0.8},
        },
    }


@pytest.mark.usefixtures("published")
def test_managed_pipeline_images_are_checked_not_the_pipeline(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, OTHER_DIGEST, managed_pipeline)
    assert run_main(config_dir, "--service", "churn") == 1
    lines = result_lines(capsys.readouterr().out)
    assert (
        f"PASS churn training-image: {HOST}/{REPOSITORY}:1.0.0 (the training role comes with "
        "the service stack)"
    ) in lines
    assert any(
        line.startswith(f"FAIL churn training-image: {HOST}/{REPOSITORY}:eval-9 not found")
        for line in lines
    )
    # The pipeline comes with the service stack: preflight does not look for it.
    assert "DescribePipeline" not in answers.calls
