"""The pre-deploy check (mlops_cdk.preflight) against moto-backed ECR, S3 and STS.

Two answers come from botocore Stubbers instead: moto does not implement Lambda
GetAccountSettings, and moto's CloudFormation needs an extra (openapi-spec-validator) this
project does not install. The stubbed DescribeStacks answers have AWS's shapes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk import preflight
from mlops_cdk.config import EnvConfig, load_environments
from mlops_cdk.config.serving import ModelConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
REGION = "eu-west-1"
ACCOUNT = "111111111111"  # config/dev.yaml
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUCKET = "dev-artifacts"
REPOSITORY = "dev-models"
STACK = "dev-Foundation"
TAG_KEY = "models/churn/1.0.0/model.tar.gz"
DIGEST_KEY = "models/churn/2.0.0/model.tar.gz"
OTHER_DIGEST = "sha256:" + "ab" * 32
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlops-preflight/dev-preflight"
LOGIN = (
    f"aws ecr get-login-password --region {REGION} "
    f"| docker login --username AWS --password-stdin {HOST}"
)
DEPLOY = "deploy dev-Foundation first: npx cdk deploy -c env=dev dev/Foundation"
TARGET = preflight.Target("dev", ACCOUNT, REGION, BUCKET, REPOSITORY)
MODEL = ModelConfig(name="churn-v1", image_tag="1.0.0", model_data_key=TAG_KEY)
NO_RESERVATION = (
    "PASS lambda-concurrency: 1000 unreserved concurrent executions (no reservation configured)"
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


@dataclass
class Answers:
    """What the stubs answer on the next run (change before running): the Foundation stack's
    outputs (None: the stack does not exist) and the Lambda account limits. ``calls`` records
    every AWS operation the run's clients make."""

    outputs: dict[str, str] | None = field(
        default_factory=lambda: {
            "ModelArtifactBucketName": BUCKET,
            "ModelImageRepositoryName": REPOSITORY,
        }
    )
    stack_name: str = STACK
    status: str = "CREATE_COMPLETE"
    lambda_limit: dict[str, int] = field(
        default_factory=lambda: {
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000,
        }
    )
    calls: list[str] = field(default_factory=list)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Wraps make_clients: stubs DescribeStacks and GetAccountSettings; ECR, S3 and STS stay
    the real (moto-backed) clients."""
    answers = Answers()
    real = preflight.make_clients

    def make(session: Any, region: str) -> preflight.Clients:
        clients = real(session, region)
        for client in (clients.cloudformation, clients.ecr, clients.s3, clients.lambda_):
            client.meta.events.register(
                "before-parameter-build", lambda model, **_: answers.calls.append(model.name)
            )
        stack = Stubber(clients.cloudformation)
        expected = {"StackName": answers.stack_name}
        if answers.outputs is None:
            stack.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {answers.stack_name} does not exist",
                expected_params=expected,
            )
        else:
            described = {
                "StackName": answers.stack_name,
                "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
                f"{answers.stack_name}/0c7a6cd0-0000-11f0-8000-0a1b2c3d4e5f",
                "CreationTime": datetime.now(UTC),
                "StackStatus": answers.status,
                "Outputs": [
                    {"OutputKey": key, "OutputValue": value}
                    for key, value in answers.outputs.items()
                ],
            }
            stack.add_response("describe_stacks", {"Stacks": [described]}, expected)
        stack.activate()
        settings = Stubber(clients.lambda_)
        settings.add_response("get_account_settings", {"AccountLimit": dict(answers.lambda_limit)})
        settings.activate()
        return clients

    monkeypatch.setattr(preflight, "make_clients", make)
    return answers


def session_for(account: str | None) -> Any:
    """boto3 (moto's default account), or a session in ``account`` via an assumed role
    (moto keeps one backend per account and maps assumed-role credentials to it)."""
    if account is None:
        return boto3
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def create_bucket(session: Any = boto3, name: str = BUCKET) -> None:
    session.client("s3", region_name=REGION).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def push_image(tag: str, session: Any = boto3, layer: str = "a") -> str:
    """An image manifest pushed under ``tag`` (creating the repository); returns its digest."""
    ecr = session.client("ecr", region_name=REGION)
    if not ecr.describe_repositories()["repositories"]:
        ecr.create_repository(repositoryName=REPOSITORY)
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
        repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=tag
    )["image"]
    return str(image["imageId"]["imageDigest"])


def put_model(key: str, session: Any = boto3) -> None:
    session.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=b"tar")


def write_config(
    tmp_path: Path,
    digest: str = OTHER_DIGEST,
    mutate: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A config dir holding dev.yaml as committed, with two models (one by tag, one by
    ``digest``), then changed by ``mutate(data)``."""
    data = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    first = data["serving"]["models"][0]
    data["serving"]["models"] = [
        {**first, "name": "churn-v1", "image_tag": "1.0.0", "model_data_key": TAG_KEY},
        {
            **{k: v for k, v in first.items() if k != "image_tag"},
            "name": "churn-v2",
            "image_digest": digest,
            "model_data_key": DIGEST_KEY,
        },
    ]
    data["serving"]["variants"][0]["model"] = "churn-v1"
    if mutate is not None:
        mutate(data)
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(data))
    return config_dir


def load(config_dir: Path) -> EnvConfig:
    [config] = load_environments(config_dir, only="dev")
    return config


def run_main(config_dir: Path, *args: str) -> int:
    return preflight.main(["--env", "dev", "--config-dir", str(config_dir), *args])


def result_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL "))]


@pytest.fixture
def published(aws: None, tmp_path: Path, answers: Answers) -> Path:
    """Foundation deployed, both images and both model archives published: a config dir."""
    create_bucket()
    push_image("1.0.0")
    digest = push_image("2.0.0", layer="b")
    put_model(TAG_KEY)
    put_model(DIGEST_KEY)
    return write_config(tmp_path, digest)


def digest_of(config_dir: Path) -> str:
    serving = load(config_dir).serving
    assert serving is not None
    return str(serving.models[1].image_digest)


# --- everything published ---------------------------------------------------------------------


def test_everything_published_passes(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(published) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"preflight of dev (account {ACCOUNT}, region {REGION})"
    assert result_lines(out) == [
        f"PASS foundation: stack {STACK}: ModelArtifactBucketName={BUCKET}, "
        f"ModelImageRepositoryName={REPOSITORY}",
        f"PASS image churn-v1: {HOST}/{REPOSITORY}:1.0.0",
        f"PASS model-data churn-v1: s3://{BUCKET}/{TAG_KEY}",
        f"PASS image churn-v2: {HOST}/{REPOSITORY}@{digest_of(published)}",
        f"PASS model-data churn-v2: s3://{BUCKET}/{DIGEST_KEY}",
        NO_RESERVATION,
    ]
    # read-only: Describe*, List*, Get* and nothing else
    assert answers.calls == [
        "DescribeStacks",
        "DescribeImages",
        "ListObjectsV2",
        "DescribeImages",
        "ListObjectsV2",
        "GetAccountSettings",
    ]


# --- missing artifacts: FAIL lines with the publish commands ------------------------------------


@pytest.mark.usefixtures("aws", "answers")
def test_empty_repository_and_bucket_fail_with_publish_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_bucket()
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName=REPOSITORY)
    assert run_main(write_config(tmp_path)) == 1
    tag_uri = f"{HOST}/{REPOSITORY}:1.0.0"
    release = f"{HOST}/{REPOSITORY}:<release tag>"
    assert result_lines(capsys.readouterr().out) == [
        f"PASS foundation: stack {STACK}: ModelArtifactBucketName={BUCKET}, "
        f"ModelImageRepositoryName={REPOSITORY}",
        f"FAIL image churn-v1: {tag_uri} not found; publish with: {LOGIN} && docker tag "
        f"<local image> {tag_uri} && docker push {tag_uri}",
        f"FAIL model-data churn-v1: s3://{BUCKET}/{TAG_KEY} not found; publish with: "
        f"aws s3 cp <local model.tar.gz> s3://{BUCKET}/{TAG_KEY}",
        f"FAIL image churn-v2: {HOST}/{REPOSITORY}@{OTHER_DIGEST} not found; publish with: "
        f"{LOGIN} && docker tag <local image> {release} && docker push {release} (images "
        f"cannot be pushed by digest: push the image whose digest is {OTHER_DIGEST} under any "
        "release tag; docker push prints the digest it pushed)",
        f"FAIL model-data churn-v2: s3://{BUCKET}/{DIGEST_KEY} not found; publish with: "
        f"aws s3 cp <local model.tar.gz> s3://{BUCKET}/{DIGEST_KEY}",
        NO_RESERVATION,
    ]


@pytest.mark.usefixtures("aws", "answers")
def test_only_the_missing_artifacts_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_bucket()
    push_image("1.0.0")
    push_image("0.9.0", layer="c")  # another image: the configured digest is still missing
    put_model(DIGEST_KEY)
    assert run_main(write_config(tmp_path)) == 1
    lines = result_lines(capsys.readouterr().out)
    assert [line.split(":")[0] for line in lines] == [
        "PASS foundation",
        "PASS image churn-v1",
        "FAIL model-data churn-v1",
        "FAIL image churn-v2",
        "PASS model-data churn-v2",
        "PASS lambda-concurrency",
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


@pytest.mark.usefixtures("aws", "answers")
def test_repository_and_bucket_that_do_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(tmp_path), "--bucket", "gone", "--repository", "gone") == 1
    assert result_lines(capsys.readouterr().out)[:2] == [
        f"FAIL image churn-v1: repository gone does not exist in {REGION}; {DEPLOY} "
        "(or check --repository)",
        f"FAIL model-data churn-v1: bucket gone does not exist; {DEPLOY} (or check --bucket)",
    ]


# --- the Foundation stack's outputs ----------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_missing_stack_fails_and_says_to_deploy_foundation(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.outputs = None
    assert run_main(write_config(tmp_path)) == 1
    assert result_lines(capsys.readouterr().out) == [
        f"FAIL foundation: stack {STACK} does not exist; {DEPLOY}",
        NO_RESERVATION,  # independent of the stack: still reported
    ]
    assert answers.calls == ["DescribeStacks", "GetAccountSettings"]


@pytest.mark.usefixtures("aws")
def test_stack_without_the_outputs_fails(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.outputs = {"Other": "x"}
    answers.status = "UPDATE_ROLLBACK_COMPLETE"
    assert run_main(write_config(tmp_path)) == 1
    assert result_lines(capsys.readouterr().out)[0] == (
        f"FAIL foundation: stack {STACK} (UPDATE_ROLLBACK_COMPLETE) has no output "
        f"ModelArtifactBucketName, ModelImageRepositoryName; {DEPLOY}"
    )


def test_overrides_skip_the_stack_lookup(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.outputs = None  # would fail the run if it were asked
    assert run_main(published, "--bucket", BUCKET, "--repository", REPOSITORY) == 0
    lines = result_lines(capsys.readouterr().out)
    assert len(lines) == 5
    assert not any("foundation" in line for line in lines)
    assert "DescribeStacks" not in answers.calls


@pytest.mark.usefixtures("aws")
def test_one_override_reads_the_other_output(
    tmp_path: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.outputs = {"ModelImageRepositoryName": REPOSITORY}
    create_bucket(name="elsewhere")
    boto3.client("s3", region_name=REGION).put_object(Bucket="elsewhere", Key=TAG_KEY, Body=b"")
    push_image("1.0.0")
    assert run_main(write_config(tmp_path), "--bucket", "elsewhere") == 1  # churn-v2 missing
    assert result_lines(capsys.readouterr().out)[:3] == [
        f"PASS foundation: stack {STACK}: ModelImageRepositoryName={REPOSITORY}",
        f"PASS image churn-v1: {HOST}/{REPOSITORY}:1.0.0",
        f"PASS model-data churn-v1: s3://elsewhere/{TAG_KEY}",
    ]


def test_stack_name_option(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.stack_name = "dev-Foundation-blue"  # the stub expects this StackName
    assert run_main(published, "--stack-name", "dev-Foundation-blue") == 0
    assert result_lines(capsys.readouterr().out)[0].startswith(
        "PASS foundation: stack dev-Foundation-blue: "
    )


def test_output_ids_match_the_foundation_stack() -> None:
    from mlops_cdk.stacks import foundation

    assert preflight.BUCKET_OUTPUT == foundation.BUCKET_OUTPUT
    assert preflight.REPOSITORY_OUTPUT == foundation.REPOSITORY_OUTPUT


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
        "FAIL image churn-v1: DescribeImages failed: AccessDeniedException: "
        + DENIED.format("ecr:DescribeImages")
    )


def test_access_denied_on_list_objects() -> None:
    s3 = stubbed("s3", "list_objects_v2", "AccessDenied", "Access Denied")
    assert preflight.check_model_data(s3, TARGET, MODEL).line() == (
        "FAIL model-data churn-v1: ListObjectsV2 failed: AccessDenied: Access Denied"
    )


def test_throttling_on_describe_stacks_is_one_line() -> None:
    cloudformation = stubbed("cloudformation", "describe_stacks", "Throttling", "Rate\nexceeded")
    result, found = preflight.foundation_outputs(
        cloudformation, STACK, "dev", [preflight.BUCKET_OUTPUT]
    )
    assert result.line() == "FAIL foundation: DescribeStacks failed: Throttling: Rate\\nexceeded"
    assert found == {}


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
    assert "FAIL image churn-v1: unexpected error: KeyError: 'imageDetails'" in captured.out
    assert captured.err == ""


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


def test_reservation_that_leaves_enough_passes() -> None:
    result = preflight.check_lambda_concurrency(settings_client(1000), 5, REGION)
    assert result.line() == (
        "PASS lambda-concurrency: 1000 unreserved concurrent executions; the retraining "
        "function's reservation of 5 leaves 995 (Lambda keeps at least 100 unreserved)"
    )
    assert preflight.check_lambda_concurrency(settings_client(105), 5, REGION).passed


def test_reservation_below_the_minimum_fails_with_the_quota_request() -> None:
    result = preflight.check_lambda_concurrency(settings_client(104), 5, REGION)
    assert result.line() == (
        "FAIL lambda-concurrency: 104 unreserved concurrent executions; the retraining "
        "function's reservation of 5 leaves 99, but AWS keeps at least 100 unreserved (100, or "
        "the whole quota of 1000 if lower), so Lambda would reject the reservation; request a "
        "quota increase (aws service-quotas request-service-quota-increase --region eu-west-1 "
        "--service-code lambda --quota-code L-B99A9384 --desired-value 1001) or remove "
        "monitoring.retraining.reserved_concurrency (if the function is already deployed with "
        "this reservation, it is counted twice here)"
    )


@pytest.mark.parametrize(("quota", "reserved"), [(10, 1), (50, 5), (100, 1)])
def test_small_quotas_allow_no_reservation(quota: int, reserved: int) -> None:
    """A new account's quota (10 or 50) is its own minimum: any reservation is rejected
    ("... below its minimum value of [10]")."""
    result = preflight.check_lambda_concurrency(settings_client(quota, quota), reserved, REGION)
    assert not result.passed
    assert f"AWS keeps at least {quota} unreserved" in result.detail
    assert f"--desired-value {reserved + 100}" in result.detail  # then 100 stay unreserved


def test_unknown_quota_uses_the_documented_minimum() -> None:
    result = preflight.check_lambda_concurrency(settings_client(150, None), 60, REGION)
    assert not result.passed
    assert "--desired-value <current quota + needed>" in result.detail
    assert preflight.check_lambda_concurrency(settings_client(160, None), 60, REGION).passed


def test_missing_unreserved_count_fails() -> None:
    result = preflight.check_lambda_concurrency(settings_client(None), None, REGION)
    assert result.line() == (
        "FAIL lambda-concurrency: GetAccountSettings returned no UnreservedConcurrentExecutions"
    )


def test_reservation_comes_from_the_config(
    published: Path, answers: Answers, capsys: pytest.CaptureFixture[str]
) -> None:
    def reserve(data: dict[str, Any]) -> None:
        data["monitoring"]["retraining"]["reserved_concurrency"] = 5

    config_dir = write_config(published.parent, digest_of(published), reserve)
    answers.lambda_limit.update(ConcurrentExecutions=50, UnreservedConcurrentExecutions=50)
    assert run_main(config_dir) == 1
    lines = result_lines(capsys.readouterr().out)
    assert all(line.startswith("PASS ") for line in lines[:-1])
    assert lines[-1].startswith(
        "FAIL lambda-concurrency: 50 unreserved concurrent executions; the retraining "
        "function's reservation of 5 leaves 45, but AWS keeps at least 50 unreserved"
    )
    answers.lambda_limit.update(ConcurrentExecutions=1000, UnreservedConcurrentExecutions=1000)
    assert run_main(config_dir) == 0


def test_environment_without_retraining_still_reports_concurrency(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(
        published.parent, digest_of(published), lambda data: data.pop("monitoring")
    )
    assert load(config_dir).monitoring is None
    assert run_main(config_dir) == 0
    assert result_lines(capsys.readouterr().out)[-1] == NO_RESERVATION


# --- bad input: exit 2, no traceback; nothing to check: exit 0 -----------------------------------


def test_unknown_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = write_config(tmp_path)
    assert preflight.main(["--env", "nope", "--config-dir", str(config_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "configuration error: unknown environment 'nope'; known environments: dev"
    ]
    assert captured.out == ""


def test_default_config_dir_is_the_repositorys(tmp_path: Path) -> None:
    """Run from another directory: the default still finds the repository's config/."""
    done = subprocess.run(
        [sys.executable, "-m", "mlops_cdk.preflight", "--env", "nope"],
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
    assert errors[0].startswith(
        "configuration error: unknown environment 'nope'; known environments: dev"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_invalid_config_lists_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, mutate=lambda data: data.update(region="mars-north-1"))
    assert run_main(config_dir) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines
    assert all(line.startswith("configuration error: ") for line in lines)
    assert "region" in captured.err
    assert "mars-north-1" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_env_without_serving_has_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def drop_serving(data: dict[str, Any]) -> None:
        data.pop("serving")
        data.pop("monitoring")

    # no moto and no stub: any AWS call would fail the run
    assert run_main(write_config(tmp_path, mutate=drop_serving)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "environment 'dev' has no serving section: nothing to check "
        "(no model images or artifacts are referenced)"
    ]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--env", "dev", "--bucket", ""],
        ["--env", "dev", "--repository", " "],
        ["--env", "dev", "--unknown"],
    ],
)
def test_bad_arguments_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert preflight.main(args) == 2
    assert "usage: python -m mlops_cdk.preflight" in capsys.readouterr().err


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
def test_missing_credentials_are_one_line_per_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(tmp_path)) == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == [
        "FAIL foundation: DescribeStacks failed: NoCredentialsError: Unable to locate credentials",
        "FAIL lambda-concurrency: GetAccountSettings failed: NoCredentialsError: Unable to "
        "locate credentials",
    ]
    assert captured.err == ""


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_for_assume_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(write_config(tmp_path), "--role-arn", ROLE_ARN) == 1
    assert result_lines(capsys.readouterr().out) == [
        "FAIL assume-role: AssumeRole failed: NoCredentialsError: Unable to locate credentials"
    ]


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

    assert run_main(config_dir) == 1  # the caller's own account has no such repository
    assert f"FAIL image churn-v1: repository {REPOSITORY} does not exist" in (
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
    assert run_main(config_dir, "--role-arn", ROLE_ARN) == 0
    assert len(calls) == 1
    assert calls[0]["RoleArn"] == ROLE_ARN
    assert calls[0]["RoleSessionName"] == "mlops-preflight-dev"
    assert len(used) == 1
    assert used[0] != "testing"
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(f" as {ROLE_ARN}")
    assert len(result_lines(out)) == 6
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
