"""Preflight of a model made from a registered model package (``model_package``).

CreateModel with a container's ``ModelPackageName`` takes the image and the model data from
the package's inference specification ("Deploy a Model in the Registry",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy.html), and SageMaker
checks them with the model's execution role when it creates the model. One line per package
model, ``<service> package <model>``; it passes when:

- SageMaker DescribeModelPackage finds the version and its ``ModelApprovalStatus`` is
  ``Approved`` (``Approved`` | ``Rejected`` | ``PendingManualApproval``, API reference
  DescribeModelPackage / ModelPackageSummary) and ``ModelPackageStatus`` is ``Completed``;
- every container's image is in the service's repository and ECR DescribeImages finds it (by
  the digest the package records, else the tag) and it is not archived
  (:mod:`mlops_tools.retrievable`), and every ``ModelDataUrl`` is under the
  service's model prefix of the environment's bucket and S3 ListObjectsV2 returns it: the
  execution role may pull only from that repository and read only that prefix, so a package
  whose image or artifact is elsewhere (another account included) fails at CreateModel.

Read-only; the review report says "approved at preflight" because approval is checked here,
not offline.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.names import model_package_group_name
from mlops_cdk.config.endpoint import ModelConfig
from mlops_tools.image_scan import scan_warning
from mlops_tools.retrievable import archived_object, unpullable
from mlops_tools.smoke import aws_error

APPROVED = "Approved"
COMPLETED = "Completed"
# DescribeModelPackage declares no errors of its own (SageMaker API Reference,
# "DescribeModelPackage",
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackage.html): a
# version that is not registered is answered with the common ValidationException ("Common
# Errors", https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html; moto
# does the same), ResourceNotFound by the Describe calls that declare it. Matched by code only:
# S3's and ECR's errors are reported by their own calls, never as a missing package.
PACKAGE_NOT_FOUND_CODES = frozenset({"ValidationException", "ResourceNotFound"})
# ECR DescribeImages: the image (or its repository) is not there (API reference, Errors).
IMAGE_NOT_FOUND_CODES = frozenset({"ImageNotFoundException", "RepositoryNotFoundException"})
_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[^:@]+)(:(?P<tag>[^@]+))?(@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_S3 = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


def package_arn(model: ModelConfig, *, env: str, service: str, account: str, region: str) -> str:
    """The ARN CreateModel receives for ``model`` (as the service stack builds it)."""
    package = model.model_package
    if package is None:
        raise ValueError(f"model {model.name!r} has no model_package")
    return package.package_arn(
        region=region, account=account, default_group=model_package_group_name(env, service)
    )


def package_problems(
    description: dict[str, Any],
    *,
    account: str,
    repository: str,
    bucket: str,
    model_prefix: str | tuple[str, ...],
    ecr: Any,
    s3: Any,
    warnings: list[str] | None = None,
) -> list[str]:
    """What keeps the described package from becoming the service's model (none: it can).
    ``warnings``, when given, receives what does not: ECR's last scan of a container's image
    found critical or high vulnerabilities, or could not scan it (:mod:`mlops_tools.image_scan`)."""
    status = description.get("ModelApprovalStatus") or "no approval status"
    if status != APPROVED:
        return [f"is {status}, not {APPROVED}: approve it before it is deployed"]
    if description.get("ModelPackageStatus", COMPLETED) != COMPLETED:
        return [f"is {description.get('ModelPackageStatus')}, not {COMPLETED}"]
    containers = (description.get("InferenceSpecification") or {}).get("Containers") or []
    if not containers:
        return ["has no inference specification containers"]
    problems: list[str] = []
    for container in containers:
        problems += _image_problems(container, account, repository, ecr, warnings)
        url = container.get("ModelDataUrl")
        if url:
            problems += _artifact_problems(str(url), bucket, model_prefix, s3)
    return problems


def _image_problems(
    container: dict[str, Any],
    account: str,
    repository: str,
    ecr: Any,
    warnings: list[str] | None = None,
) -> list[str]:
    image = str(container.get("Image") or "")
    match = _IMAGE.match(image)
    if match is None or match["account"] != account or match["repository"] != repository:
        return [
            f"image {image or '(none)'} is not in the service's repository {repository} of "
            f"account {account}: the execution role cannot pull it"
        ]
    digest = container.get("ImageDigest") or match["digest"]
    image_id = {"imageDigest": digest} if digest else {"imageTag": match["tag"] or "latest"}
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[image_id])
    except ClientError as exc:
        if _code(exc) not in IMAGE_NOT_FOUND_CODES:
            return [f"image {image}: {aws_error('DescribeImages', exc)}"]
        found = {}
    except BotoCoreError as exc:
        return [f"image {image}: {aws_error('DescribeImages', exc)}"]
    details = found.get("imageDetails") or []
    if not details:
        return [f"image {image} not found in ECR"]
    problem = unpullable(details[0], repository, match["region"])
    warning = scan_warning(details[0], repository, match["region"])
    if warning is not None and warnings is not None:
        warnings.append(f"image {image}: {warning}")
    return [] if problem is None else [f"image {image} {problem}"]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def _artifact_problems(
    url: str, bucket: str, model_prefix: str | tuple[str, ...], s3: Any
) -> list[str]:
    prefixes = (model_prefix,) if isinstance(model_prefix, str) else model_prefix
    match = _S3.match(url)
    if match is None or match["bucket"] != bucket or not match["key"].startswith(prefixes):
        where = " or ".join(f"s3://{bucket}/{prefix}" for prefix in prefixes)
        return [f"artifact {url} is not under {where}: the execution role cannot read it"]
    key = match["key"]
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except (ClientError, BotoCoreError) as exc:  # NoSuchBucket included: the bucket's fault
        return [f"artifact {url}: {aws_error('ListObjectsV2', exc)}"]
    found = [item for item in listed.get("Contents", []) if item.get("Key") == key]
    if not found:
        return [f"artifact {url} not found"]
    problem = archived_object(found[0])
    return [] if problem is None else [f"artifact {url} {problem}"]


def check_package(
    sagemaker: Any,
    ecr: Any,
    s3: Any,
    *,
    arn: str,
    account: str,
    repository: str,
    bucket: str,
    model_prefix: str | tuple[str, ...],
) -> tuple[bool, str, bool]:
    """(passed, detail, warned) of one package model: warned when it passes with a warning
    (:func:`package_problems`' ``warnings``). Each call's error names that call
    (DescribeModelPackage, DescribeImages, ListObjectsV2) and its error code."""
    try:
        description = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        if _code(exc) in PACKAGE_NOT_FOUND_CODES:
            return (
                False,
                (
                    f"{arn} not found ({aws_error('DescribeModelPackage', exc)}): register it, or "
                    "correct the model's version"
                ),
                False,
            )
        return False, f"{arn}: {aws_error('DescribeModelPackage', exc)}", False
    except BotoCoreError as exc:
        return False, f"{arn}: {aws_error('DescribeModelPackage', exc)}", False
    warnings: list[str] = []
    problems = package_problems(
        description,
        account=account,
        repository=repository,
        bucket=bucket,
        model_prefix=model_prefix,
        ecr=ecr,
        s3=s3,
        warnings=warnings,
    )
    if problems:
        return False, f"{arn} " + "; ".join(problems), False
    found = f"{arn} is {APPROVED}; its image and artifact exist"
    return True, "; ".join([found, *warnings]), bool(warnings)
