"""Read-only pre-deploy check of an environment's services: are their model images and
artifacts published?

CreateModel fails when the image tag/digest is not in ECR ("Requested image ... not found") or
the model archive is not in S3. A new environment's bucket (made by the ``<env>-Foundation``
stack) and a new service's repository (made by its ``<env>-<service>-Registry`` stack) start
empty, so ``python -m mlops_tools.preflight --env dev --service churn`` proves, before the
service's stack ``<env>-<service>`` is deployed, that everything it references exists; without
``--service`` every service of the environment is checked. One line each:

- ``foundation``: the bucket name, from the Foundation stack's output ``ModelArtifactBucketName``
  (CloudFormation DescribeStacks of ``<env>-Foundation``, or of ``--stack-name``; skipped when
  ``--bucket`` names it, which ``--stack-name`` cannot go with);
- ``<service> registry``: the service's repository name, from its Registry stack's output
  ``ModelImageRepositoryName`` (skipped when ``--repository`` names it, with ``--service``);
- ``<service> image <model>``: ECR DescribeImages finds the model's tag or digest (each
  container's, ``<model>/<hostname>``, for a multi-container model) and it is not archived (ECR
  refuses to pull an archived image), with a WARN for an OCI manifest, which SageMaker has
  refused (:mod:`mlops_tools.retrievable`; the training image too), and for critical or high
  vulnerabilities, or no scan, in ECR's last scan (:mod:`mlops_tools.image_scan`); an image
  AWS provides (``aws_image``) is looked up in AWS's registry account (``registryId``) from the
  committed table (:mod:`mlops_cdk.aws.images`);
- for a service of inference components (``inference_components``), the lines of a model that
  components host name them: ``<service> image <model> (component <name>)``; every component
  is one model on the shared fleet, so these are the checks of each component's image and data;
- ``<service> model-data <model>``: S3 ListObjectsV2 returns the exact ``model_data_key`` (each
  container's that has one), not in an archival storage class (Glacier Flexible Retrieval, Deep
  Archive: SageMaker could not read it; :mod:`mlops_tools.retrievable`). A listing, not
  HeadObject/GetObject: the read-only role needs no kms:Decrypt on the SSE-KMS bucket;
- ``<service> package <model>``: a model made from a registered model package
  (``model_package``) is Approved and its image and artifact exist where the execution role
  may read them (:mod:`mlops_tools.package_check`), with the image lines' scan warning;
- ``<service> retraining-pipeline``: with ``retraining.pipeline``, SageMaker DescribePipeline
  finds the pipeline and its definition declares every parameter the retraining function
  passes to StartPipelineExecution (:data:`RETRAINING_PIPELINE_PARAMETERS`);
- ``<service> training-image``: with ``retraining.training_job`` whose image is in the
  service's repository (``{image_repository}:<tag>`` or ``@<digest>``), ECR DescribeImages
  finds it (an image elsewhere is a WARN line: not checked). The training role is not checked:
  the service stack creates it, with the function;
- ``lambda-concurrency``: Lambda GetAccountSettings' unreserved concurrency leaves room for the
  checked services' retraining functions' reservations
  (``services.<service>.retraining.reserved_concurrency``, summed), if any;
- ``quota <type> for <use>``: each SageMaker instance quota the checked services use
  (endpoints, batch jobs, retraining), and the serverless endpoints' count and concurrency
  quotas, read with Service Quotas: FAIL below what a deploy or one run needs, WARN below the
  most they can use at once, or below what the environment's other services add to it
  (:mod:`mlops_tools.sagemaker_quotas`);
- ``change-trail`` (with ``change_detection``): the trail the services' change-detection rules
  rely on applies to this region, is logging and keeps write management events
  (:mod:`mlops_tools.trail_check`);
- ``flow-logs`` (without ``--service``): the Foundation's VPC flow log (its output
  ``FlowLogId``) exists and its delivery has not FAILED (``Access error``, ``Rate limited``):
  a failing flow log stays ACTIVE and records nothing (:mod:`mlops_tools.flow_logs`);
- ``budget-tag`` (without ``--service``: the budget belongs to the Foundation stack): with a
  ``budget``, Cost Explorer ListCostAllocationTags reports the tag the budget filters on
  (``Environment``) as ``Active``; an inactive tag makes the budget count nothing.
- ``budget-subscriptions`` (the same, with ``monitoring.alarm_emails``): each address is a
  confirmed e-mail subscription of the budget's topic (the Foundation's output
  ``BudgetTopicArn``); SNS deletes one left unconfirmed for 48 hours, and the budget's alerts
  then reach nobody.
- ``foundation-watch-subscriptions`` (without ``--service``, with
  ``change_detection.watch_foundation`` and ``monitoring.alarm_emails``): the same for the
  foundation watch's topic (the Foundation's output ``FoundationWatchTopicArn``), which says
  that the environment key was disabled or scheduled for deletion, or the change trail stopped
  or deleted (:mod:`mlops_cdk.constructs.foundation_watch`).

Image checks need the repository name and model-data checks the bucket name: when a lookup
fails, the checks that need its name are skipped (the lookup's FAIL line says why). The last
line is the summary ``N of M checks passed`` (WARN lines count as passed).

A FAIL line says how to fix it (publish commands, deploy command, quota request). Nothing is
changed. Exit codes: 0 every line PASS (or WARN); 1 a FAIL (including AWS errors such as
AccessDenied), or no AWS credentials found (one hint line on stderr, nothing is called); 2 bad
input (unknown environment or service, invalid configuration, bad arguments). An environment
without services has nothing to check (exit 0). With ``--role-arn`` the calls use that role's
credentials (STS AssumeRole), e.g. the ``/mlops-preflight/`` role that
:class:`mlops_cdk.constructs.preflight_access.PreflightAccess` creates in each Registry stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.names import (
    BUCKET_OUTPUT,
    BUDGET_TOPIC_OUTPUT,
    FOUNDATION_WATCH_TOPIC_OUTPUT,
    REPOSITORY_OUTPUT,
)
from mlops_cdk.config import ConfigError, EnvConfig, load_environments
from mlops_cdk.config.endpoint import ModelConfig
from mlops_cdk.config.retraining import IMAGE_PLACEHOLDER, repository_image_id
from mlops_cdk.config.schema import REGISTRY_STACK_SUFFIX
from mlops_cdk.config.service import ServiceConfig
from mlops_cdk.props.model import AwsImageSpec
from mlops_cdk.props.retraining_pipeline import (
    RETRAINING_PARAMETERS,
    ManagedPipelineSpec,
)
from mlops_tools.arguments import non_empty
from mlops_tools.flow_logs import CHECK as FLOW_LOG_CHECK
from mlops_tools.flow_logs import check_flow_log
from mlops_tools.image_scan import scan_warning
from mlops_tools.package_check import check_package, package_arn
from mlops_tools.retrievable import archived_object, manifest_warning, unpullable
from mlops_tools.sagemaker_quotas import check_sagemaker_quotas
from mlops_tools.smoke import (
    CheckResult,
    assumed_session,
    aws_error,
    describe_stack,
    open_session,
    parse_arguments,
    stack_outputs_of,
    stack_topic_subscriptions,
    unexpected_error,
    unknown_service,
)
from mlops_tools.trail_check import CHECK as CHANGE_TRAIL
from mlops_tools.trail_check import check_change_trail

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Lambda keeps part of the account's concurrency unreserved: "You can reserve up to the
# Unreserved account concurrency value minus 100" (Lambda developer guide, "Configuring reserved
# concurrency"); accounts whose quota is below 100 cannot reserve any ("... below its minimum
# value of [10]" with a quota of 10, "[50]" with 50).
UNRESERVED_MINIMUM = 100
LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

# The parameters the retraining function (mlops_cdk/functions/retrain/retrain.py, pipeline mode)
# passes to StartPipelineExecution; a test runs the function to keep this list true. "Parameters
# have a default value, which you can override by specifying parameter values when starting a
# pipeline execution" and "All parameters used in step definitions must be defined in your
# pipeline definition" (SageMaker developer guide, "Pipeline parameters",
# https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-parameters.html): a
# parameter the definition does not declare never reaches a step. DescribePipeline returns the
# definition as a JSON string whose "Parameters" list names them (API reference,
# DescribePipeline; pipeline definition JSON schema).
# Declared once beside the managed pipeline, which declares the same parameters.
RETRAINING_PIPELINE_PARAMETERS = RETRAINING_PARAMETERS
# The cost allocation tag the environment's budget filters on (``user:Environment$<env>``):
# mlops_cdk.app.settings.ENVIRONMENT_TAG (a test keeps the two equal; the stacks module
# imports aws_cdk, which the tools do not).
BUDGET_TAG_KEY = "Environment"
# ListCostAllocationTags: Status "Active" | "Inactive" (Billing and Cost Management API
# reference, ListCostAllocationTags / CostAllocationTag,
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ListCostAllocationTags.html).
# Cost Explorer is a global API: botocore sends every region's call to us-east-1
# (cn-northwest-1 in China).
ACTIVE_TAG = "Active"

# boto3 ships no type information: clients and sessions are ``Any`` here.
CloudFormationClient = Any
EcrClient = Any
S3Client = Any
LambdaClient = Any
SageMakerClient = Any
CostExplorerClient = Any
StsClient = Any

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30
)


@dataclass(frozen=True)
class Clients:
    """The AWS clients the checks use (tests pass moto-backed or stubbed ones)."""

    cloudformation: CloudFormationClient
    ecr: EcrClient
    s3: S3Client
    lambda_: LambdaClient
    sagemaker: SageMakerClient
    ce: CostExplorerClient
    service_quotas: Any = None  # None: the SageMaker quotas are not checked
    sns: Any = None  # None: the budget topic's subscriptions are not checked
    cloudtrail: Any = None  # None: the change-detection trail is not checked
    ec2: Any = None  # None: the VPC flow log's delivery is not checked


@dataclass(frozen=True)
class Target:
    """Where one service's artifacts live: the environment's bucket, the service's repository."""

    env: str
    account: str
    region: str
    bucket: str
    repository: str
    service: str


@dataclass(frozen=True)
class ModelPart:
    """What one container of a model references: a single-container model is one part named
    like the model; a multi-container model's parts are ``<model>/<hostname>`` (or
    ``<model>/<index>`` without a hostname)."""

    name: str
    image_tag: str | None = None
    image_digest: str | None = None
    aws_image: AwsImageSpec | None = None
    model_data_key: str | None = None


def model_parts(models: Sequence[ModelConfig]) -> list[ModelPart]:
    """Every container of ``models`` whose image or model data preflight checks."""
    parts: list[ModelPart] = []
    for model in models:
        containers = model.container_specs()
        for index, container in enumerate(containers):
            label = container.hostname or str(index)
            parts.append(
                ModelPart(
                    name=model.name if not model.containers else f"{model.name}/{label}",
                    image_tag=container.image_tag,
                    image_digest=container.image_digest,
                    aws_image=container.aws_image,
                    model_data_key=container.model_data_key,
                )
            )
    return parts


def hosted_parts(service: ServiceConfig) -> list[ModelPart]:
    """:func:`model_parts` of ``service``'s models, each named with the inference components
    that host it (``ranking-v1 (component ranker)``), if any."""
    spec = service.inference_components
    hosts: dict[str, list[str]] = {}
    for component in spec.components if spec is not None else ():
        hosts.setdefault(component.model, []).append(component.name)
    parts = []
    for model in service.models:
        names = hosts.get(model.name, [])
        suffix = f" (component{'s' if len(names) > 1 else ''} {', '.join(names)})"
        parts += [
            replace(part, name=part.name + suffix) if names else part
            for part in model_parts([model])
        ]
    return parts


def make_clients(session: Any, region: str) -> Clients:
    def client(service: str) -> Any:
        return session.client(service, region_name=region, config=_CLIENT_CONFIG)

    return Clients(
        client("cloudformation"),
        client("ecr"),
        client("s3"),
        client("lambda"),
        client("sagemaker"),
        client("ce"),  # botocore resolves Cost Explorer's global endpoint from any region
        client("service-quotas"),
        client("sns"),
        client("cloudtrail"),
        client("ec2"),
    )


def deploy_hint(env: str) -> str:
    """How to deploy only ``<env>``'s Foundation stack (the service stacks need the artifacts)."""
    return f"deploy {env}-Foundation first: npx cdk deploy -c env={env} {env}/Foundation"


def registry_stack_name(env: str, service: str) -> str:
    """``<env>-<service>-Registry``, the stack that owns the service's repository."""
    return f"{env}-{service}{REGISTRY_STACK_SUFFIX}"


def registry_deploy_hint(env: str, service: str) -> str:
    """How to deploy only the service's Registry stack (and the Foundation it depends on)."""
    stack = f"{service}{REGISTRY_STACK_SUFFIX}"
    return (
        f"deploy {registry_stack_name(env, service)} first: "
        f"npx cdk deploy -c env={env} {env}/{stack}"
    )


def registry_host(account: str, region: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com`` (``.amazonaws.com.cn`` in China)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def image_uri(target: Target, model: ModelConfig | ModelPart) -> str:
    """The image the model references: ``<registry>/<repo>:<tag>`` or ``...@sha256:...``."""
    reference = f":{model.image_tag}" if model.image_tag is not None else f"@{model.image_digest}"
    return f"{registry_host(target.account, target.region)}/{target.repository}{reference}"


def image_publish_commands(target: Target, model: ModelConfig | ModelPart) -> str:
    """Shell commands that push a local image so that ``model``'s reference exists."""
    host = registry_host(target.account, target.region)
    login = (
        f"aws ecr get-login-password --region {target.region} "
        f"| docker login --username AWS --password-stdin {host}"
    )
    if model.image_tag is not None:
        remote = f"{host}/{target.repository}:{model.image_tag}"
        return f"{login} && docker tag <local image> {remote} && docker push {remote}"
    remote = f"{host}/{target.repository}:<release tag>"
    return (
        f"{login} && docker tag <local image> {remote} && docker push {remote} "
        f"(images cannot be pushed by digest: push the image whose digest is "
        f"{model.image_digest} under any release tag; docker push prints the digest it pushed)"
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def check_image(ecr: EcrClient, target: Target, model: ModelConfig | ModelPart) -> CheckResult:
    """Passes when ECR DescribeImages finds the model's tag or digest in the repository."""
    check = f"{target.service} image {model.name}"
    uri = image_uri(target, model)
    image_id = (
        {"imageTag": model.image_tag}
        if model.image_tag is not None
        else {"imageDigest": model.image_digest}
    )
    try:
        response = ecr.describe_images(repositoryName=target.repository, imageIds=[image_id])
    except ClientError as exc:
        code = _error_code(exc)
        if code == "RepositoryNotFoundException":
            return CheckResult(
                check,
                False,
                f"repository {target.repository} does not exist in {target.region}; "
                f"{registry_deploy_hint(target.env, target.service)} (or check --repository)",
            )
        if code != "ImageNotFoundException":
            return CheckResult(check, False, aws_error("DescribeImages", exc))
        response = {}
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribeImages", exc))
    details = response.get("imageDetails") or []
    if details:
        return found_image_result(check, uri, details[0], target)
    return CheckResult(
        check,
        False,
        f"{uri} not found; publish with: {image_publish_commands(target, model)}",
    )


def found_image_result(
    check: str, uri: str, detail: Mapping[str, Any], target: Target, note: str = ""
) -> CheckResult:
    """The line of an image DescribeImages found in the service's repository: FAIL when ECR
    cannot pull it (archived), WARN when SageMaker has refused its manifest (OCI) or ECR's scan
    found critical or high vulnerabilities or could not scan it (:mod:`mlops_tools.image_scan`)."""
    problem = unpullable(detail, target.repository, target.region)
    if problem is not None:
        return CheckResult(check, False, f"{uri} {problem}")
    warnings = [
        warning
        for warning in (
            manifest_warning(detail),
            scan_warning(detail, target.repository, target.region),
        )
        if warning is not None
    ]
    if warnings:
        return CheckResult(check, True, f"{uri}{note}: {'; '.join(warnings)}", warning=True)
    return CheckResult(check, True, f"{uri}{note}")


def check_aws_image(ecr: EcrClient, target: Target, part: ModelPart) -> CheckResult:
    """Passes when ECR DescribeImages, in the registry account AWS publishes the image from
    (``registryId``, from the committed table :mod:`mlops_cdk.aws.images`), finds its tag."""
    check = f"{target.service} image {part.name}"
    assert part.aws_image is not None  # noqa: S101 - only AWS images are checked here
    try:
        image = part.aws_image.resolve(target.region)
    except ValueError as exc:
        return CheckResult(check, False, str(exc))
    try:
        response = ecr.describe_images(
            registryId=image.account,
            repositoryName=image.repository,
            imageIds=[{"imageTag": image.tag}],
        )
    except ClientError as exc:
        if _error_code(exc) not in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return CheckResult(check, False, aws_error("DescribeImages", exc))
        response = {}
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribeImages", exc))
    if response.get("imageDetails"):
        return CheckResult(check, True, image.uri)
    return CheckResult(
        check,
        False,
        f"{image.uri} not found in AWS's registry {image.account}: choose another aws_image "
        "version, or regenerate the table from a newer SageMaker SDK "
        "(python -m mlops_cdk.aws.images.derive)",
    )


def check_model_data(s3: S3Client, target: Target, model: ModelConfig | ModelPart) -> CheckResult:
    """Passes when S3 ListObjectsV2 (prefix = the key, one result) returns exactly the key."""
    check = f"{target.service} model-data {model.name}"
    key = model.model_data_key
    url = f"s3://{target.bucket}/{key}"
    try:
        # The key itself sorts before every longer key it prefixes: one result is enough.
        response = s3.list_objects_v2(Bucket=target.bucket, Prefix=key, MaxKeys=1)
    except ClientError as exc:
        if _error_code(exc) == "NoSuchBucket":
            return CheckResult(
                check,
                False,
                f"bucket {target.bucket} does not exist; {deploy_hint(target.env)} "
                "(or check --bucket)",
            )
        return CheckResult(check, False, aws_error("ListObjectsV2", exc))
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("ListObjectsV2", exc))
    found = [item for item in response.get("Contents", []) if item.get("Key") == key]
    if found:
        problem = archived_object(found[0])
        return (
            CheckResult(check, True, url)
            if problem is None
            else CheckResult(check, False, f"{url} {problem}")
        )
    # The bucket refuses writes under models/ without If-None-Match (write-once artifacts).
    return CheckResult(
        check,
        False,
        f"{url} not found; publish it once with: aws s3api put-object --if-none-match '*' "
        f"--bucket {target.bucket} --key {key} --body <local model.tar.gz>",
    )


def declared_parameters(definition: str) -> list[str] | None:
    """The parameter names a pipeline definition (DescribePipeline's JSON string) declares in its
    ``Parameters`` list, or None when it is not such a JSON object."""
    try:
        parsed = json.loads(definition)
    except (TypeError, ValueError):
        return None
    if not isinstance(parsed, dict):
        return None
    parameters = parsed.get("Parameters", [])
    if not isinstance(parameters, list):
        return None
    return [str(p["Name"]) for p in parameters if isinstance(p, dict) and "Name" in p]


def check_retraining_pipeline(
    sagemaker: SageMakerClient, service: str, pipeline: str, region: str
) -> CheckResult:
    """Passes when DescribePipeline finds ``pipeline`` and its definition declares every
    parameter the retraining function passes (:data:`RETRAINING_PIPELINE_PARAMETERS`)."""
    check = f"{service} retraining-pipeline"
    try:
        response = sagemaker.describe_pipeline(PipelineName=pipeline)
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message") or "")
        # ResourceNotFound (botocore's service model); SageMaker's Describe* calls also answer
        # ValidationException "Could not find ..." (DescribeEndpoint does; so does moto).
        if _error_code(exc) == "ResourceNotFound" or "Could not find pipeline" in message:
            return CheckResult(
                check,
                False,
                f"pipeline {pipeline} does not exist in {region}: an alarm would start nothing "
                "(StartPipelineExecution fails); create it, or correct "
                f"services.{service}.retraining.pipeline.name",
            )
        return CheckResult(check, False, aws_error("DescribePipeline", exc))
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribePipeline", exc))
    declared = declared_parameters(response.get("PipelineDefinition"))
    if declared is None:
        return CheckResult(
            check,
            False,
            f"pipeline {pipeline}: DescribePipeline returned no readable definition, so its "
            "parameters cannot be checked",
        )
    missing = [name for name in RETRAINING_PIPELINE_PARAMETERS if name not in declared]
    if missing:
        return CheckResult(
            check,
            False,
            f"pipeline {pipeline} does not declare {', '.join(missing)} (declared: "
            f"{', '.join(declared) or 'none'}); the retraining function passes "
            f"{', '.join(RETRAINING_PIPELINE_PARAMETERS)}: add them to the definition as "
            "string parameters (ParameterString)",
        )
    status = response.get("PipelineStatus")
    state = f" ({status})" if status else ""
    return CheckResult(
        check,
        True,
        f"pipeline {pipeline}{state} declares {', '.join(RETRAINING_PIPELINE_PARAMETERS)}",
    )


def check_training_image(ecr: EcrClient, target: Target, image: str) -> CheckResult:
    """Passes when ECR DescribeImages finds the retraining job's image in the service's
    repository; an image elsewhere (another registry or account) is a WARN line."""
    check = f"{target.service} training-image"
    image_id = repository_image_id(image)
    if image_id is None:
        return CheckResult(
            check,
            True,
            f"{image} is not an image of the service's repository ({IMAGE_PLACEHOLDER}:<tag>): "
            "not checked",
            warning=True,
        )
    host = registry_host(target.account, target.region)
    uri = f"{host}/{target.repository}{image[len(IMAGE_PLACEHOLDER) :]}"
    try:
        response = ecr.describe_images(repositoryName=target.repository, imageIds=[image_id])
    except ClientError as exc:
        if _error_code(exc) == "RepositoryNotFoundException":
            return CheckResult(
                check,
                False,
                f"repository {target.repository} does not exist in {target.region}; "
                f"{registry_deploy_hint(target.env, target.service)}",
            )
        if _error_code(exc) != "ImageNotFoundException":
            return CheckResult(check, False, aws_error("DescribeImages", exc))
        response = {}
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribeImages", exc))
    details = response.get("imageDetails") or []
    if details:
        note = " (the training role comes with the service stack)"
        return found_image_result(check, uri, details[0], target, note)
    return CheckResult(
        check,
        False,
        f"{uri} not found: the retraining job would fail to start; push the training image "
        f"(docker tag <local image> {uri} && docker push {uri})",
    )


def check_budget_tag(ce: CostExplorerClient, tag_key: str = BUDGET_TAG_KEY) -> CheckResult:
    """Passes when Cost Explorer ListCostAllocationTags reports the user-defined tag the budget
    filters on as Active. AWS Budgets counts only costs tagged with an activated cost allocation
    tag, incurred after activation ("Using user-defined cost allocation tags", AWS Billing User
    Guide, https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html)."""
    check = "budget-tag"
    try:
        response = ce.list_cost_allocation_tags(TagKeys=[tag_key], Type="UserDefined")
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(
            check,
            False,
            aws_error("ListCostAllocationTags", exc)
            + " (cost allocation tags are managed by the organization's management account)",
        )
    found = [t for t in response.get("CostAllocationTags", []) if t.get("TagKey") == tag_key]
    activate = (
        "aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
        f"TagKey={tag_key},Status={ACTIVE_TAG} (in the management account, if the account is "
        "in an organization)"
    )
    if not found:
        return CheckResult(
            check,
            False,
            f"tag {tag_key} is not a cost allocation tag yet (it is listed once tagged resources "
            f"have incurred costs), so the budget counts nothing; then activate it: {activate}",
        )
    status = str(found[0].get("Status"))
    if status != ACTIVE_TAG:
        return CheckResult(
            check,
            False,
            f"cost allocation tag {tag_key} is {status}: the budget filters on it and counts "
            f"nothing; activate it: {activate}",
        )
    return CheckResult(check, True, f"cost allocation tag {tag_key} is {status}")


def unreserved_minimum(account_limit: int | None) -> int:
    """Unreserved concurrency Lambda keeps: 100, or the whole quota when it is lower."""
    if account_limit is None:
        return UNRESERVED_MINIMUM
    return min(UNRESERVED_MINIMUM, account_limit)


def _reservation_summary(reserved: Mapping[str, int], total: int, left: int) -> str:
    if len(reserved) == 1:
        [(service, value)] = reserved.items()
        return f"the retraining function's reservation of {value} (service {service}) leaves {left}"
    each = ", ".join(f"{service} {value}" for service, value in reserved.items())
    return f"the retraining functions' reservations of {total} ({each}) leave {left}"


def _reservation_setting(reserved: Mapping[str, int]) -> str:
    if len(reserved) == 1:
        [service] = reserved
        return (
            f"remove services.{service}.retraining.reserved_concurrency (if the function is "
            "already deployed with this reservation, it is counted twice here)"
        )
    return (
        f"lower services.<service>.retraining.reserved_concurrency of {', '.join(reserved)} "
        "(a function already deployed with its reservation is counted twice here)"
    )


def check_lambda_concurrency(
    lambda_: LambdaClient, reserved: Mapping[str, int] | None, region: str
) -> CheckResult:
    """Reports the account's unreserved concurrent executions N (GetAccountSettings). With
    reservations for retraining functions (``reserved``: service -> reserved concurrency, each
    service has its own function), passes when N minus their sum is at least the unreserved
    minimum Lambda keeps (:func:`unreserved_minimum`); otherwise Lambda would reject one of
    them and that service's stack would roll back.

    N already excludes reservations that exist: a retraining function deployed with its
    reservation has it counted twice here."""
    check = "lambda-concurrency"
    try:
        settings = lambda_.get_account_settings()
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("GetAccountSettings", exc))
    account_limit = settings.get("AccountLimit", {})
    unreserved = account_limit.get("UnreservedConcurrentExecutions")
    if not isinstance(unreserved, int):
        return CheckResult(
            check, False, "GetAccountSettings returned no UnreservedConcurrentExecutions"
        )
    total = account_limit.get("ConcurrentExecutions")
    total = total if isinstance(total, int) else None
    if not reserved:
        return CheckResult(
            check,
            True,
            f"{unreserved} unreserved concurrent executions (no reservation configured)",
        )
    reservation = sum(reserved.values())
    minimum = unreserved_minimum(total)
    left = unreserved - reservation
    summary = (
        f"{unreserved} unreserved concurrent executions; "
        f"{_reservation_summary(reserved, reservation, left)}"
    )
    if left >= minimum:
        return CheckResult(check, True, f"{summary} (Lambda keeps at least {minimum} unreserved)")
    quota = f" of {total}" if total is not None else ""
    desired = (
        str(total + reservation + UNRESERVED_MINIMUM - unreserved)
        if total is not None
        else "<current quota + needed>"
    )
    return CheckResult(
        check,
        False,
        f"{summary}, but AWS keeps at least {minimum} unreserved ({UNRESERVED_MINIMUM}, or the "
        f"whole quota{quota} if lower), so Lambda would reject the reservation; request a "
        f"quota increase (aws service-quotas request-service-quota-increase --region {region} "
        f"--service-code lambda --quota-code {LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value "
        f"{desired}) or {_reservation_setting(reserved)}",
    )


def stack_outputs(
    cloudformation: CloudFormationClient,
    stack_name: str,
    wanted: Sequence[str],
    *,
    check: str,
    hint: str,
) -> tuple[CheckResult, dict[str, str]]:
    """The ``wanted`` outputs of ``stack_name`` (DescribeStacks), as check ``check``. Fails,
    with ``hint`` (how to deploy the stack), when the stack or one of the outputs does not
    exist."""
    stack, error = describe_stack(cloudformation, stack_name)
    if error is not None:
        return CheckResult(check, False, aws_error("DescribeStacks", error)), {}
    if stack is None:
        detail = f"stack {stack_name} does not exist; {hint}"
        return CheckResult(check, False, detail), {}
    outputs = stack_outputs_of(stack)
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        status = stack.get("StackStatus", "unknown status")
        detail = f"stack {stack_name} ({status}) has no output {', '.join(missing)}; {hint}"
        return CheckResult(check, False, detail), {}
    found = {key: outputs[key] for key in wanted}
    detail = f"stack {stack_name}: " + ", ".join(f"{key}={value}" for key, value in found.items())
    return CheckResult(check, True, detail), found


def foundation_outputs(
    cloudformation: CloudFormationClient, stack_name: str, env: str, wanted: Sequence[str]
) -> tuple[CheckResult, dict[str, str]]:
    """The ``wanted`` outputs of the Foundation stack ``stack_name`` (check ``foundation``)."""
    return stack_outputs(
        cloudformation, stack_name, wanted, check="foundation", hint=deploy_hint(env)
    )


def registry_outputs(
    cloudformation: CloudFormationClient, env: str, service: str
) -> tuple[CheckResult, dict[str, str]]:
    """The repository output of the service's ``<env>-<service>-Registry`` stack (check
    ``<service> registry``)."""
    return stack_outputs(
        cloudformation,
        registry_stack_name(env, service),
        [REPOSITORY_OUTPUT],
        check=f"{service} registry",
        hint=registry_deploy_hint(env, service),
    )


def reservations(config: EnvConfig, services: Sequence[str]) -> dict[str, int]:
    """``service -> retraining.reserved_concurrency`` of those ``services`` that set one."""
    found: dict[str, int] = {}
    for service in services:
        retraining = config.services[service].retraining
        value = retraining.reserved_concurrency if retraining is not None else None
        if value is not None:
            found[service] = value
    return found


def _safely(check: str, step: Callable[[], CheckResult]) -> CheckResult:
    """The CLI contract: an unexpected error is that check's FAIL line, never a traceback."""
    try:
        return step()
    except Exception as exc:
        return unexpected_error(check, exc)


def _lookup(
    record: Callable[[CheckResult], None],
    check: str,
    step: Callable[[], tuple[CheckResult, dict[str, str]]],
    key: str,
) -> str | None:
    """Records the lookup's line; returns the output ``key`` it found, or None."""
    found: list[dict[str, str]] = []

    def lookup() -> CheckResult:
        result, outputs = step()
        found.append(outputs)
        return result

    record(_safely(check, lookup))
    return found[0].get(key) if found else None


def run(
    config: EnvConfig,
    clients: Clients,
    *,
    stack_name: str | None = None,
    bucket: str | None = None,
    repository: str | None = None,
    service: str | None = None,
) -> list[CheckResult]:
    """Every check of ``service`` (default: of every service of ``config``'s environment, in
    order); prints each line as it completes.

    ``bucket`` overrides the Foundation stack's output (``stack_name``, default
    ``<env>-Foundation``) and ``repository`` (only with ``service``) the service's Registry
    stack output; stacks are read only for what is not given. A check whose bucket or
    repository is unknown is skipped (the failed lookup's line says why)."""
    if repository is not None and service is None:
        raise ValueError("repository names one service's repository: give service too")
    if stack_name is not None and bucket is not None:
        raise ValueError("stack_name names the stack read for the bucket: not with bucket")
    services = [service] if service is not None else list(config.services)
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        print(result.line(), flush=True)
        results.append(result)

    if bucket is None:
        foundation = stack_name or f"{config.name}-Foundation"
        bucket = _lookup(
            record,
            "foundation",
            lambda: foundation_outputs(
                clients.cloudformation, foundation, config.name, [BUCKET_OUTPUT]
            ),
            BUCKET_OUTPUT,
        )
    for name in services:
        found = repository
        if found is None:
            found = _lookup(
                record,
                f"{name} registry",
                partial(registry_outputs, clients.cloudformation, config.name, name),
                REPOSITORY_OUTPUT,
            )
        target = Target(
            env=config.name,
            account=config.account,
            region=config.region,
            bucket=bucket or "",
            repository=found or "",
            service=name,
        )
        for part in hosted_parts(config.services[name]):
            if part.aws_image is not None:
                record(
                    _safely(
                        f"{name} image {part.name}",
                        partial(check_aws_image, clients.ecr, target, part),
                    )
                )
            elif found:
                record(
                    _safely(
                        f"{name} image {part.name}",
                        partial(check_image, clients.ecr, target, part),
                    )
                )
            if bucket and part.model_data_key is not None:
                record(
                    _safely(
                        f"{name} model-data {part.name}",
                        partial(check_model_data, clients.s3, target, part),
                    )
                )
        for result in package_checks(config, clients, target):
            record(result)
        for result in retraining_checks(config, clients, target):
            record(result)
    for result in account_checks(config, clients, services, whole=service is None):
        record(result)
    return results


def account_checks(
    config: EnvConfig, clients: Clients, services: Sequence[str], *, whole: bool
) -> list[CheckResult]:
    """What the account must allow the ``services``: Lambda concurrency for their retraining
    functions, SageMaker quotas (with a Service Quotas client), the change-detection trail
    (with ``change_detection``), and (``whole`` environment, with a budget) the budget's cost
    allocation tag."""
    reserved = reservations(config, services)
    results = [
        _safely(
            "lambda-concurrency",
            lambda: check_lambda_concurrency(clients.lambda_, reserved, config.region),
        )
    ]
    if clients.service_quotas is not None:
        results += _quota_results(clients.service_quotas, config, services)
    change = config.change_detection
    if change is not None and clients.cloudtrail is not None:
        step = partial(
            check_change_trail,
            clients.cloudtrail,
            change.trail_of(config.name),
            config.region,
            created=change.creates_trail,
        )
        results.append(_safely(CHANGE_TRAIL, step))
    if whole and clients.ec2 is not None:
        stack = f"{config.name}-Foundation"
        step = partial(check_flow_log, clients.ec2, clients.cloudformation, stack)
        results.append(_safely(FLOW_LOG_CHECK, step))
    if config.budget is not None and whole:
        results.append(_safely("budget-tag", partial(check_budget_tag, clients.ce)))
        results += _foundation_subscriptions(
            config, clients, "budget-subscriptions", BUDGET_TOPIC_OUTPUT, "budget alerts"
        )
    if change is not None and change.watch_foundation and whole:
        results += _foundation_subscriptions(
            config,
            clients,
            "foundation-watch-subscriptions",
            FOUNDATION_WATCH_TOPIC_OUTPUT,
            "foundation-watch alerts",
        )
    return results


def _foundation_subscriptions(
    config: EnvConfig, clients: Clients, check: str, output: str, what: str
) -> list[CheckResult]:
    """``check``: the alerts (``what``) of the Foundation's topic ``output`` (the budget's,
    :data:`BUDGET_TOPIC_OUTPUT`; the foundation watch's,
    :data:`FOUNDATION_WATCH_TOPIC_OUTPUT`) reach every ``monitoring.alarm_emails`` address."""
    emails = config.monitoring.alarm_emails if config.monitoring is not None else []
    if clients.sns is None or not emails:
        return []
    step = partial(
        stack_topic_subscriptions,
        check,
        clients.cloudformation,
        clients.sns,
        f"{config.name}-Foundation",
        output=output,
        emails=emails,
        what=what,
    )
    return [_safely(check, step)]


def _quota_results(client: Any, config: EnvConfig, services: Sequence[str]) -> list[CheckResult]:
    """:func:`check_sagemaker_quotas`, an unexpected error as one FAIL line (as ``_safely``)."""
    try:
        return check_sagemaker_quotas(client, config, services)
    except Exception as exc:
        return [unexpected_error("quotas", exc)]


def package_checks(config: EnvConfig, clients: Clients, target: Target) -> list[CheckResult]:
    """``<service> package <model>`` of every model made from a registered package: Approved,
    image and artifact exist where the execution role may read them
    (:mod:`mlops_tools.package_check`). Skipped when the repository or bucket is unknown (the
    lookup's line says why)."""
    results = []
    for model in config.services[target.service].models:
        if model.model_package is None or not (target.repository and target.bucket):
            continue
        arn = package_arn(
            model,
            env=config.name,
            service=target.service,
            account=target.account,
            region=target.region,
        )
        check = f"{target.service} package {model.name}"

        def step(arn: str = arn, check: str = check) -> CheckResult:
            passed, detail, warned = check_package(
                clients.sagemaker,
                clients.ecr,
                clients.s3,
                arn=arn,
                account=target.account,
                repository=target.repository,
                bucket=target.bucket,
                model_prefix=config.package_artifact_prefixes(target.service),
            )
            return CheckResult(check, passed, detail, warning=warned)

        results.append(_safely(check, step))
    return results


def retraining_checks(config: EnvConfig, clients: Clients, target: Target) -> list[CheckResult]:
    """The checks of ``target.service``'s retraining target: its pipeline, or its training job's
    image (skipped when the repository is unknown: the registry lookup's line says why)."""
    retraining = config.services[target.service].retraining
    if retraining is None:
        return []
    if retraining.pipeline is not None:
        pipeline = retraining.pipeline.name
        return [
            _safely(
                f"{target.service} retraining-pipeline",
                partial(
                    check_retraining_pipeline,
                    clients.sagemaker,
                    target.service,
                    pipeline,
                    config.region,
                ),
            )
        ]
    if retraining.managed_pipeline is not None:
        return managed_pipeline_checks(retraining.managed_pipeline, clients, target)
    job = retraining.training_job
    image = ((job.template.get("AlgorithmSpecification") or {}) if job else {}).get("TrainingImage")
    if not isinstance(image, str) or not target.repository:
        return []
    return [
        _safely(
            f"{target.service} training-image",
            partial(check_training_image, clients.ecr, target, image),
        )
    ]


def managed_pipeline_checks(
    managed: ManagedPipelineSpec, clients: Clients, target: Target
) -> list[CheckResult]:
    """The managed pipeline's training and evaluation images of the service's repository (the
    pipeline itself comes with the service stack; an ``aws_image`` is AWS's to keep)."""
    if not target.repository:
        return []
    results = []
    for step in (managed.training, managed.evaluation):
        if step.aws_image is not None:
            continue
        reference = f"@{step.image_digest}" if step.image_digest else f":{step.image_tag}"
        results.append(
            _safely(
                f"{target.service} training-image",
                partial(check_training_image, clients.ecr, target, IMAGE_PLACEHOLDER + reference),
            )
        )
    return results


def assume_role(sts: StsClient, role_arn: str, env: str, region: str) -> Any:
    """A boto3 Session with the credentials of ``role_arn`` (session ``mlops-preflight-<env>``)."""
    return assumed_session(sts, role_arn, f"mlops-preflight-{env}", region)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_tools.preflight",
        description="Read-only pre-deploy check: the model images and model artifacts of one "
        "service (--service) or of every service of the environment exist, and Lambda "
        "concurrency allows the retraining reservations.",
    )
    parser.add_argument("--env", required=True, help="environment name (config/<env>.yaml)")
    parser.add_argument(
        "--service",
        type=non_empty,
        help="service to check (services.<name>; default: every service of the environment)",
    )
    parser.add_argument(
        "--config-dir",
        default=DEFAULT_CONFIG_DIR,
        type=Path,
        help="config directory (default: the repository's config/)",
    )
    parser.add_argument("--role-arn", type=non_empty, help="assume this role for the AWS calls")
    # --stack-name only names the stack whose output gives the bucket: with --bucket it would
    # be read for nothing, so argparse refuses the pair ("not allowed with argument").
    foundation = parser.add_mutually_exclusive_group()
    foundation.add_argument(
        "--bucket",
        type=non_empty,
        help=f"artifact bucket (default: the Foundation stack's {BUCKET_OUTPUT})",
    )
    parser.add_argument(
        "--repository",
        type=non_empty,
        help="the service's ECR repository, only with --service (default: the "
        f"<env>-<service>{REGISTRY_STACK_SUFFIX} stack's {REPOSITORY_OUTPUT})",
    )
    foundation.add_argument(
        "--stack-name",
        type=non_empty,
        help="Foundation stack whose output names the bucket (default: <env>-Foundation; not "
        "with --bucket)",
    )
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    return parse_arguments(
        _parser(), argv, service_only="repository", why="each service has its own repository"
    )


def _clients(args: argparse.Namespace, env: str, region: str) -> Clients | None:
    """The clients (through ``--role-arn`` if given); None after printing why not."""
    session = open_session(args.role_arn, env, region, assume_role, _CLIENT_CONFIG)
    if session is None:
        return None
    try:
        return make_clients(session, region)
    except (BotoCoreError, ValueError) as exc:
        print(CheckResult("clients", False, aws_error("Creating clients", exc)).line(), flush=True)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if isinstance(args, int):
        return args
    try:
        [config] = load_environments(args.config_dir, only=args.env)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.service is not None and (reason := unknown_service(config, args.service)):
        print(reason, file=sys.stderr)
        return EXIT_USAGE
    if not config.services:
        print(
            f"environment {config.name!r} has no services: nothing to check "
            "(no model images or artifacts are referenced)",
            flush=True,
        )
        return EXIT_OK
    services = [args.service] if args.service is not None else list(config.services)
    region = config.region
    via = f" as {args.role_arn}" if args.role_arn else ""
    print(
        f"preflight of {config.name} {'service' if len(services) == 1 else 'services'} "
        f"{', '.join(services)} (account {config.account}, region {region}){via}",
        flush=True,
    )
    clients = _clients(args, config.name, region)
    if clients is None:
        return EXIT_FAILED
    results = run(
        config,
        clients,
        stack_name=args.stack_name,
        bucket=args.bucket,
        repository=args.repository,
        service=args.service,
    )
    print(summary(results), flush=True)
    return EXIT_OK if results and all(r.passed for r in results) else EXIT_FAILED


def summary(results: Sequence[CheckResult]) -> str:
    """``N of M checks passed`` (WARN lines count as passed), naming any warnings."""
    passed = sum(1 for r in results if r.passed)
    warned = sum(1 for r in results if r.passed and r.warning)
    warnings = f" ({warned} with a warning)" if warned else ""
    return f"{passed} of {len(results)} checks passed{warnings}"


if __name__ == "__main__":
    sys.exit(main())
