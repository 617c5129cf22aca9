"""Read-only pre-deploy check of one environment: are its model images and artifacts published?

CreateModel fails when the image tag/digest is not in ECR ("Requested image ... not found") or
the model archive is not in S3. A new environment's repository and bucket (made by the
``<env>-Foundation`` stack) start empty, so ``python -m mlops_cdk.preflight --env dev`` proves,
before the Serving stack is deployed, that everything it references exists. One line each:

- ``foundation``: the bucket and repository names, from the Foundation stack's outputs
  (CloudFormation DescribeStacks; skipped when ``--bucket`` and ``--repository`` name both);
- ``image <model>``: ECR DescribeImages finds the model's tag or digest;
- ``model-data <model>``: S3 ListObjectsV2 returns the exact ``model_data_key`` (a listing, not
  HeadObject/GetObject: the read-only role needs no kms:Decrypt on the SSE-KMS bucket);
- ``lambda-concurrency``: Lambda GetAccountSettings' unreserved concurrency leaves room for the
  retraining function's reservation (``monitoring.retraining.reserved_concurrency``), if any.

A FAIL line says how to fix it (publish commands, deploy command, quota request). Nothing is
changed. Exit codes: 0 every line PASS; 1 a FAIL (including AWS errors such as AccessDenied);
2 bad input (unknown environment, invalid configuration, bad arguments). An environment
without a serving section has nothing to check (exit 0). With ``--role-arn`` the calls use
that role's credentials (STS AssumeRole), e.g. the ``/mlops-preflight/`` role that
:class:`mlops_cdk.constructs.preflight_access.PreflightAccess` creates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.config import ConfigError, EnvConfig, load_environments
from mlops_cdk.config.serving import ModelConfig
from mlops_cdk.smoke import CheckResult, aws_error

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Output logical ids of the Foundation stack (mlops_cdk/stacks/foundation.py).
BUCKET_OUTPUT = "ModelArtifactBucketName"
REPOSITORY_OUTPUT = "ModelImageRepositoryName"

# Lambda keeps part of the account's concurrency unreserved: "You can reserve up to the
# Unreserved account concurrency value minus 100" (Lambda developer guide, "Configuring reserved
# concurrency"); accounts whose quota is below 100 cannot reserve any ("... below its minimum
# value of [10]" with a quota of 10, "[50]" with 50).
UNRESERVED_MINIMUM = 100
LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

# boto3 ships no type information: clients and sessions are ``Any`` here.
CloudFormationClient = Any
EcrClient = Any
S3Client = Any
LambdaClient = Any
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


@dataclass(frozen=True)
class Target:
    """Where one environment's artifacts live."""

    env: str
    account: str
    region: str
    bucket: str
    repository: str


def make_clients(session: Any, region: str) -> Clients:
    def client(service: str) -> Any:
        return session.client(service, region_name=region, config=_CLIENT_CONFIG)

    return Clients(client("cloudformation"), client("ecr"), client("s3"), client("lambda"))


def deploy_hint(env: str) -> str:
    """How to deploy only ``<env>``'s Foundation stack (the Serving stack needs the artifacts)."""
    return f"deploy {env}-Foundation first: npx cdk deploy -c env={env} {env}/Foundation"


def registry_host(account: str, region: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com`` (``.amazonaws.com.cn`` in China)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def image_uri(target: Target, model: ModelConfig) -> str:
    """The image the model references: ``<registry>/<repo>:<tag>`` or ``...@sha256:...``."""
    reference = f":{model.image_tag}" if model.image_tag is not None else f"@{model.image_digest}"
    return f"{registry_host(target.account, target.region)}/{target.repository}{reference}"


def image_publish_commands(target: Target, model: ModelConfig) -> str:
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


def check_image(ecr: EcrClient, target: Target, model: ModelConfig) -> CheckResult:
    """Passes when ECR DescribeImages finds the model's tag or digest in the repository."""
    check = f"image {model.name}"
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
                f"{deploy_hint(target.env)} (or check --repository)",
            )
        if code != "ImageNotFoundException":
            return CheckResult(check, False, aws_error("DescribeImages", exc))
        response = {}
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribeImages", exc))
    if response.get("imageDetails"):
        return CheckResult(check, True, uri)
    return CheckResult(
        check,
        False,
        f"{uri} not found; publish with: {image_publish_commands(target, model)}",
    )


def check_model_data(s3: S3Client, target: Target, model: ModelConfig) -> CheckResult:
    """Passes when S3 ListObjectsV2 (prefix = the key, one result) returns exactly the key."""
    check = f"model-data {model.name}"
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
    if any(item.get("Key") == key for item in response.get("Contents", [])):
        return CheckResult(check, True, url)
    return CheckResult(
        check, False, f"{url} not found; publish with: aws s3 cp <local model.tar.gz> {url}"
    )


def unreserved_minimum(account_limit: int | None) -> int:
    """Unreserved concurrency Lambda keeps: 100, or the whole quota when it is lower."""
    if account_limit is None:
        return UNRESERVED_MINIMUM
    return min(UNRESERVED_MINIMUM, account_limit)


def check_lambda_concurrency(
    lambda_: LambdaClient, reserved: int | None, region: str
) -> CheckResult:
    """Reports the account's unreserved concurrent executions N (GetAccountSettings). With a
    reservation r for the retraining function, passes when N - r is at least the unreserved
    minimum Lambda keeps (:func:`unreserved_minimum`); otherwise Lambda would reject it and the
    Serving stack would roll back.

    N already excludes reservations that exist: if the retraining function is deployed with
    its reservation, that reservation is counted twice here."""
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
    if reserved is None:
        return CheckResult(
            check,
            True,
            f"{unreserved} unreserved concurrent executions (no reservation configured)",
        )
    minimum = unreserved_minimum(total)
    left = unreserved - reserved
    summary = (
        f"{unreserved} unreserved concurrent executions; the retraining function's reservation "
        f"of {reserved} leaves {left}"
    )
    if left >= minimum:
        return CheckResult(check, True, f"{summary} (Lambda keeps at least {minimum} unreserved)")
    quota = f" of {total}" if total is not None else ""
    desired = (
        str(total + reserved + UNRESERVED_MINIMUM - unreserved)
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
        f"{desired}) or remove monitoring.retraining.reserved_concurrency (if the function is "
        "already deployed with this reservation, it is counted twice here)",
    )


def foundation_outputs(
    cloudformation: CloudFormationClient, stack_name: str, env: str, wanted: Sequence[str]
) -> tuple[CheckResult, dict[str, str]]:
    """The ``wanted`` outputs of ``stack_name`` (DescribeStacks). Fails, saying to deploy the
    Foundation stack, when the stack or one of the outputs does not exist."""
    check = "foundation"
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name).get("Stacks", [])
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message") or "")
        if _error_code(exc) == "ValidationError" and "does not exist" in message:
            stacks = []
        else:
            return CheckResult(check, False, aws_error("DescribeStacks", exc)), {}
    except BotoCoreError as exc:
        return CheckResult(check, False, aws_error("DescribeStacks", exc)), {}
    if not stacks:
        detail = f"stack {stack_name} does not exist; {deploy_hint(env)}"
        return CheckResult(check, False, detail), {}
    stack = stacks[0]
    outputs = {
        str(output.get("OutputKey")): str(output.get("OutputValue", ""))
        for output in stack.get("Outputs", [])
    }
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        status = stack.get("StackStatus", "unknown status")
        detail = (
            f"stack {stack_name} ({status}) has no output {', '.join(missing)}; {deploy_hint(env)}"
        )
        return CheckResult(check, False, detail), {}
    found = {key: outputs[key] for key in wanted}
    detail = f"stack {stack_name}: " + ", ".join(f"{key}={value}" for key, value in found.items())
    return CheckResult(check, True, detail), found


def _reserved_concurrency(config: EnvConfig) -> int | None:
    retraining = getattr(config.monitoring, "retraining", None)
    value = getattr(retraining, "reserved_concurrency", None)
    return value if isinstance(value, int) else None


def _safely(check: str, step: Callable[[], CheckResult]) -> CheckResult:
    """The CLI contract: an unexpected error is that check's FAIL line, never a traceback."""
    try:
        return step()
    except Exception as exc:
        detail = f"unexpected error: {type(exc).__name__}: {exc}"
        return CheckResult(check, False, detail.replace("\r", "\\r").replace("\n", "\\n"))


def run(
    config: EnvConfig,
    clients: Clients,
    *,
    stack_name: str | None = None,
    bucket: str | None = None,
    repository: str | None = None,
) -> list[CheckResult]:
    """Every check of ``config``'s environment, in order; prints each line as it completes.

    ``bucket``/``repository`` override the Foundation stack's outputs (``stack_name``, default
    ``<env>-Foundation``), which are read only for what is not given. Without them the image
    and model-data checks are skipped (the foundation line says why)."""
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        print(result.line(), flush=True)
        results.append(result)

    wanted = [
        key
        for key, given in ((BUCKET_OUTPUT, bucket), (REPOSITORY_OUTPUT, repository))
        if not given
    ]
    names: dict[str, str] = {}
    if wanted:
        name = stack_name or f"{config.name}-Foundation"
        outcome: list[dict[str, str]] = []

        def lookup() -> CheckResult:
            result, found = foundation_outputs(clients.cloudformation, name, config.name, wanted)
            outcome.append(found)
            return result

        record(_safely("foundation", lookup))
        names = outcome[0] if outcome else {}
    models = config.serving.models if config.serving is not None else []
    if not wanted or names:
        target = Target(
            env=config.name,
            account=config.account,
            region=config.region,
            bucket=bucket or names[BUCKET_OUTPUT],
            repository=repository or names[REPOSITORY_OUTPUT],
        )
        for model in models:
            record(_safely(f"image {model.name}", partial(check_image, clients.ecr, target, model)))
            record(
                _safely(
                    f"model-data {model.name}",
                    partial(check_model_data, clients.s3, target, model),
                )
            )
    reserved = _reserved_concurrency(config)
    record(
        _safely(
            "lambda-concurrency",
            lambda: check_lambda_concurrency(clients.lambda_, reserved, config.region),
        )
    )
    return results


def assume_role(sts: StsClient, role_arn: str, env: str, region: str) -> Any:
    """A boto3 Session with the credentials of ``role_arn`` (session ``mlops-preflight-<env>``)."""
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"mlops-preflight-{env}")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _name(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_cdk.preflight",
        description="Read-only pre-deploy check: the environment's model images and model "
        "artifacts exist, and Lambda concurrency allows the retraining reservation.",
    )
    parser.add_argument("--env", required=True, help="environment name (config/<env>.yaml)")
    parser.add_argument(
        "--config-dir",
        default=DEFAULT_CONFIG_DIR,
        type=Path,
        help="config directory (default: the repository's config/)",
    )
    parser.add_argument("--role-arn", type=_name, help="assume this role for the AWS calls")
    parser.add_argument(
        "--bucket", type=_name, help=f"artifact bucket (default: the stack's {BUCKET_OUTPUT})"
    )
    parser.add_argument(
        "--repository",
        type=_name,
        help=f"ECR repository (default: the stack's {REPOSITORY_OUTPUT})",
    )
    parser.add_argument(
        "--stack-name", type=_name, help="Foundation stack (default: <env>-Foundation)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        [config] = load_environments(args.config_dir, only=args.env)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if config.serving is None:
        print(
            f"environment {config.name!r} has no serving section: nothing to check "
            "(no model images or artifacts are referenced)",
            flush=True,
        )
        return EXIT_OK
    region = config.region
    via = f" as {args.role_arn}" if args.role_arn else ""
    print(
        f"preflight of {config.name} (account {config.account}, region {region}){via}",
        flush=True,
    )
    try:
        session: Any = boto3.Session(region_name=region)
        if args.role_arn:
            sts = session.client("sts", region_name=region, config=_CLIENT_CONFIG)
            session = assume_role(sts, args.role_arn, config.name, region)
    except (ClientError, BotoCoreError, ValueError) as exc:
        step, operation = ("assume-role", "AssumeRole") if args.role_arn else ("session", "Session")
        print(CheckResult(step, False, aws_error(operation, exc)).line(), flush=True)
        return EXIT_FAILED
    try:
        clients = make_clients(session, region)
    except (BotoCoreError, ValueError) as exc:
        print(CheckResult("clients", False, aws_error("Creating clients", exc)).line(), flush=True)
        return EXIT_FAILED
    results = run(
        config,
        clients,
        stack_name=args.stack_name,
        bucket=args.bucket,
        repository=args.repository,
    )
    return EXIT_OK if results and all(r.passed for r in results) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
