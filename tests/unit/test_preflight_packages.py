"""Preflight of models made from registered model packages (moto: SageMaker registry, ECR,
S3): an approved package whose image is in the service's repository and whose artifact is
under the service's model prefix passes; a pending or missing version, an image or artifact
that does not exist, or one the execution role may not read fails with one line."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from mlops_cdk.config import load_environments
from mlops_cdk.props.model import ModelPackageSpec
from mlops_tools import preflight
from mlops_tools.package_check import check_package
from tests.helpers import CONFIG_DIR

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
REPOSITORY = "stage-churn-images"
BUCKET = "stage-artifacts"
PREFIX = "models/churn/"
GROUP = "stage-churn"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        clients = {
            name: boto3.client(name, region_name=REGION) for name in ("sagemaker", "ecr", "s3")
        }
        clients["ecr"].create_repository(repositoryName=REPOSITORY)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "x", "size": 1, "digest": "sha256:" + "a" * 64},
            "layers": [],
        }
        clients["ecr"].put_image(
            repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag="2.0.0"
        )
        clients["s3"].create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        clients["s3"].put_object(Bucket=BUCKET, Key=f"{PREFIX}2.0.0/model.tar.gz", Body=b"x")
        clients["sagemaker"].create_model_package_group(ModelPackageGroupName=GROUP)
        yield clients


IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:2.0.0"
ARTIFACT = f"s3://{BUCKET}/{PREFIX}2.0.0/model.tar.gz"


def register(clients: dict[str, Any], status: str, image: str = IMAGE, data: str = ARTIFACT) -> str:
    return str(
        clients["sagemaker"].create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": image, "ModelDataUrl": data}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def check(clients: dict[str, Any], arn: str) -> tuple[bool, str, bool]:
    return check_package(
        clients["sagemaker"],
        clients["ecr"],
        clients["s3"],
        arn=arn,
        account=ACCOUNT,
        repository=REPOSITORY,
        bucket=BUCKET,
        model_prefix=PREFIX,
    )


def test_an_approved_package_with_its_image_and_artifact_passes(aws: dict[str, Any]) -> None:
    arn = register(aws, "Approved")
    assert check(aws, arn) == (True, f"{arn} is Approved; its image and artifact exist", False)


def test_a_pending_package_fails(aws: dict[str, Any]) -> None:
    arn = register(aws, "PendingManualApproval")
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert "is PendingManualApproval, not Approved" in detail


@pytest.mark.parametrize(
    ("image", "data", "message"),
    [
        (IMAGE.replace("2.0.0", "9.9.9"), ARTIFACT, "not found in ECR"),
        (IMAGE, ARTIFACT.replace("2.0.0", "9.9.9"), "not found"),
        (IMAGE.replace(ACCOUNT, "444444444444"), ARTIFACT, "the execution role cannot pull it"),
        (IMAGE, f"s3://{BUCKET}/training-output/churn/model.tar.gz", "cannot read it"),
    ],
)
def test_image_and_artifact_must_exist_where_the_role_reads(
    aws: dict[str, Any], image: str, data: str, message: str
) -> None:
    arn = register(aws, "Approved", image=image, data=data)
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert message in detail


def test_a_missing_version_fails(aws: dict[str, Any]) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/7"
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert "does not exist" in detail or "failed" in detail


def test_preflight_checks_every_package_model_of_the_service(aws: dict[str, Any]) -> None:
    """The config's package model (version 1 of <env>-<service> in the stage account) is
    checked under its own line."""
    register(aws, "Approved")
    [config] = load_environments(CONFIG_DIR, only="stage")
    churn = config.services["churn"]
    package_model = dataclasses.replace(
        churn.models[0],
        name="churn-pkg-v1",
        image_tag=None,
        model_data_key=None,
        model_package=ModelPackageSpec(version=1),
    )
    services = {**config.services, "churn": churn.model_copy(update={"models": [package_model]})}
    config = config.model_copy(update={"services": services, "account": ACCOUNT})
    clients = preflight.Clients(None, aws["ecr"], aws["s3"], None, aws["sagemaker"], None)
    target = preflight.Target(
        env="stage",
        account=ACCOUNT,
        region=REGION,
        bucket=BUCKET,
        repository=REPOSITORY,
        service="churn",
    )
    (result,) = preflight.package_checks(config, clients, target)
    assert result.check == "churn package churn-pkg-v1"
    assert result.passed, result.detail


# --- each call's errors are its own: S3's and ECR's are never the package's ---------------------


def test_an_archived_image_fails_the_package(aws: dict[str, Any]) -> None:
    """ECR describes an archived image (status ARCHIVED) but refuses to pull it; moto has no
    archive, so the status is added to its answer."""

    def archive(parsed: dict[str, Any], **_: Any) -> None:
        for detail in parsed.get("imageDetails", []):
            detail["imageStatus"] = "ARCHIVED"

    aws["ecr"].meta.events.register("after-call.ecr.DescribeImages", archive)
    arn = register(aws, "Approved")
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert detail.startswith(
        f"{arn} image {IMAGE} is archived, and ECR refuses to pull an archived image: restore it "
        f"(aws ecr update-image-storage-class --region {REGION} --repository-name {REPOSITORY} "
        "--image-id imageDigest=sha256:"
    )


def test_critical_findings_in_the_packages_image_pass_with_a_warning(aws: dict[str, Any]) -> None:
    """The package may still be deployed: the line warns, as an image line does
    (:mod:`mlops_tools.image_scan`); moto does not scan, so the findings are added."""

    def scanned(parsed: dict[str, Any], **_: Any) -> None:
        for detail in parsed.get("imageDetails", []):
            detail["imageScanStatus"] = {"status": "COMPLETE"}
            detail["imageScanFindingsSummary"] = {"findingSeverityCounts": {"CRITICAL": 3}}

    aws["ecr"].meta.events.register("after-call.ecr.DescribeImages", scanned)
    arn = register(aws, "Approved")
    passed, detail, warned = check(aws, arn)
    assert passed
    assert warned
    assert detail.startswith(
        f"{arn} is Approved; its image and artifact exist; image {IMAGE}: its last scan found "
        "3 CRITICAL vulnerabilities: read them (aws ecr describe-image-scan-findings "
    )


def test_an_artifact_in_deep_archive_fails_the_package(aws: dict[str, Any]) -> None:
    key = f"{PREFIX}3.0.0/model.tar.gz"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=b"x", StorageClass="DEEP_ARCHIVE")
    arn = register(aws, "Approved", data=f"s3://{BUCKET}/{key}")
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert detail.startswith(
        f"{arn} artifact s3://{BUCKET}/{key} is in S3's DEEP_ARCHIVE storage class, which cannot "
        "be read without a restore"
    )


def test_a_missing_bucket_is_not_a_missing_package(aws: dict[str, Any]) -> None:
    """S3 answers NoSuchBucket "The specified bucket does not exist": the line names
    ListObjectsV2 and the code, not the (registered) package."""
    missing = "stage-artifacts-gone"
    arn = register(aws, "Approved", data=ARTIFACT.replace(BUCKET, missing))
    passed, detail, _ = check_package(
        aws["sagemaker"],
        aws["ecr"],
        aws["s3"],
        arn=arn,
        account=ACCOUNT,
        repository=REPOSITORY,
        bucket=missing,
        model_prefix=PREFIX,
    )
    assert not passed
    assert detail == (
        f"{arn} artifact {ARTIFACT.replace(BUCKET, missing)}: ListObjectsV2 failed: "
        "NoSuchBucket: The specified bucket does not exist"
    )


def _failing(client: Any, event: str, error: Exception) -> None:
    """``client``'s call ``event`` (moto-backed otherwise) raises ``error``."""

    def fail(**_: Any) -> None:
        raise error

    client.meta.events.register(f"before-call.{event}", fail)


@pytest.mark.parametrize(
    ("client", "event", "error", "expected"),
    [
        (
            "s3",
            "s3.ListObjectsV2",
            ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "L"),
            f"artifact {ARTIFACT}: ListObjectsV2 failed: AccessDenied: Access Denied",
        ),
        (
            "s3",
            "s3.ListObjectsV2",
            EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com"),
            f"artifact {ARTIFACT}: ListObjectsV2 failed: EndpointConnectionError: Could not "
            'connect to the endpoint URL: "https://s3.eu-west-1.amazonaws.com"',
        ),
        (
            "ecr",
            "ecr.DescribeImages",
            EndpointConnectionError(endpoint_url="https://api.ecr.eu-west-1.amazonaws.com"),
            f"image {IMAGE}: DescribeImages failed: EndpointConnectionError: Could not connect "
            'to the endpoint URL: "https://api.ecr.eu-west-1.amazonaws.com"',
        ),
        (
            "ecr",
            "ecr.DescribeImages",
            ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "D"),
            f"image {IMAGE}: DescribeImages failed: AccessDeniedException: no",
        ),
    ],
)
def test_s3_and_ecr_errors_name_their_call_and_code(
    aws: dict[str, Any], client: str, event: str, error: Exception, expected: str
) -> None:
    arn = register(aws, "Approved")
    _failing(aws[client], event, error)
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert detail == f"{arn} {expected}"


def test_a_missing_version_names_describe_model_package_and_the_code(
    aws: dict[str, Any],
) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/7"
    passed, detail, _ = check(aws, arn)
    assert not passed
    assert detail == (
        f"{arn} not found (DescribeModelPackage failed: ValidationException: Model package "
        f"{arn} not found): register it, or correct the model's version"
    )


def test_describe_model_package_errors_are_its_own(aws: dict[str, Any]) -> None:
    arn = register(aws, "Approved")
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "the version does not exist"}},
        "DescribeModelPackage",
    )
    _failing(aws["sagemaker"], "sagemaker.DescribeModelPackage", denied)
    passed, detail, _ = check(aws, arn)
    assert not passed  # matched on the code: not taken for a missing version by its text
    assert detail == (
        f"{arn}: DescribeModelPackage failed: AccessDeniedException: the version does not exist"
    )
