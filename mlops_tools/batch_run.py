"""Start one run of a service's batch transform job (boto3).

``python -m mlops_tools.batch_run --env stage --service churn --job nightly [--input KEY]``
starts the job's state machine, named ``<env>-<service>-<job>`` in the environment's account
and region (:mod:`mlops_cdk.constructs.batch_transform`), and prints, one line each:

- the execution ARN;
- the transform job's name: ``<env>-<service>-<job>-`` plus the start of the MD5 of the
  execution ARN (what the state machine computes, so the job can be found before it exists; a
  redrive of the run names its job after ``<ARN>:<redrive count>``, see
  :func:`transform_job_name`, and writes to the same output);
- where the output lands: ``s3://<bucket>/batch/<service>/<job>/output/<execution name>/``
  (the bucket from ``--bucket`` or the Foundation stack's output ``ModelArtifactBucketName``;
  without either, the key prefix in the environment's bucket).

``--input`` is an S3 key prefix under ``batch/<service>/`` of the environment's bucket (default:
the job's ``batch/<service>/<job>/input/``); anything else is refused here, as the state machine
would refuse it. ``--name`` sets the execution name (default ``manual-<UTC time>-<random>``).
With ``--wait`` the tool polls the execution (up to ``--timeout-seconds``) and prints its
status; the exit code is then 0 only when it succeeded.

Exit codes: 0 started (or succeeded with ``--wait``); 1 an AWS call failed, no credentials, or
the run failed / did not finish in time; 2 bad input (unknown environment, service or job,
input outside the service's prefix, invalid configuration, an empty ``--name``, ``--bucket`` or
``--role-arn``, a ``--timeout-seconds`` that is not a finite number >= 0), before anything
starts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.images import partition_of
from mlops_cdk.config import ConfigError, EnvConfig, load_environments
from mlops_cdk.props.batch import (
    input_prefix,
    job_name_hash_input,
    job_name_prefix,
    job_name_suffix_length,
    output_prefix,
    service_batch_prefix,
)
from mlops_tools.arguments import non_empty, non_negative
from mlops_tools.smoke import (
    CheckResult,
    assumed_session,
    aws_error,
    open_session,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
POLL_SECONDS = 30
DEFAULT_TIMEOUT_SECONDS = 6 * 3600
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
BUCKET_OUTPUT = "ModelArtifactBucketName"  # the Foundation stack's output
RUNNING = "RUNNING"
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30
)


class UsageError(ValueError):
    """Bad input: exit code 2."""


def state_machine_arn(config: EnvConfig, service: str, job: str) -> str:
    name = job_name_prefix(config.name, service, job)
    partition = partition_of(config.region)  # arn:aws-cn:... in China
    return f"arn:{partition}:states:{config.region}:{config.account}:stateMachine:{name}"


def transform_job_name(prefix: str, execution_arn: str, redrive_count: int = 0) -> str:
    """The name the state machine gives the run's transform job; ``redrive_count`` is the
    execution's (DescribeExecution ``redriveCount``): each redrive of a run starts a job of its
    own (:func:`mlops_cdk.constructs.batch_transform.job_name_expression`)."""
    digest = hashlib.md5(job_name_hash_input(execution_arn, redrive_count).encode()).hexdigest()  # noqa: S324 - a name, not security
    return f"{prefix}-{digest[: job_name_suffix_length(prefix)]}"


def checked_input(service: str, value: str | None, default: str) -> str:
    """The run's input prefix; refuses what the state machine would refuse."""
    if value is None:
        return default
    allowed = service_batch_prefix(service)
    if value.startswith("s3://"):
        raise UsageError(f"--input is a key prefix in the environment's bucket ({allowed}...)")
    if not value.startswith(allowed) or ".." in value:
        raise UsageError(f"--input {value!r} must be a key prefix under {allowed}")
    return value


def default_execution_name(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"manual-{moment}-{uuid.uuid4().hex[:8]}"


def select(
    config_dir: Path, env: str, service: str, job: str
) -> tuple[EnvConfig, str]:  # the environment and the job's default input
    try:
        (config,) = load_environments(config_dir, only=env)
    except ConfigError as exc:  # an unknown environment, or an invalid file
        raise UsageError(str(exc)) from exc
    spec = config.services.get(service)
    if spec is None:
        known = ", ".join(sorted(config.services)) or "none"
        raise UsageError(f"unknown service {service!r} in {env} (services: {known})")
    jobs = [j.name for j in spec.batch_jobs]
    if job not in jobs:
        raise UsageError(
            f"service {service!r} of {env} has no batch job {job!r} (jobs: "
            f"{', '.join(jobs) or 'none'})"
        )
    return config, input_prefix(service, job)


def bucket_name(cloudformation: Any, env: str) -> str | None:
    """The environment bucket from the Foundation stack's output, None when it cannot be read."""
    try:
        stacks = cloudformation.describe_stacks(StackName=f"{env}-Foundation")["Stacks"]
    except (ClientError, BotoCoreError):
        return None
    for output in stacks[0].get("Outputs", []) if stacks else []:
        if output.get("OutputKey") == BUCKET_OUTPUT:
            return str(output["OutputValue"])
    return None


def wait_for(
    sfn: Any, execution_arn: str, timeout_seconds: float, sleep: Callable[[float], None]
) -> dict[str, Any]:
    """DescribeExecution until the run leaves RUNNING or the timeout passes."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != RUNNING or time.monotonic() >= deadline:
            return described
        sleep(POLL_SECONDS)


def _clients(role_arn: str | None, env: str, region: str) -> tuple[Any, Any] | None:
    """The Step Functions and CloudFormation clients (through ``role_arn`` if given), made
    before anything starts; None after printing the one line that says why not (a malformed
    AWS_* setting botocore rejects, as smoke and preflight report it)."""
    session = open_session(
        role_arn,
        env,
        region,
        lambda sts, arn, env, region: assumed_session(sts, arn, f"mlops-batch-{env}", region),
        _CLIENT_CONFIG,
    )
    if session is None:
        return None
    try:
        sfn = session.client("stepfunctions", region_name=region, config=_CLIENT_CONFIG)
        cloudformation = session.client("cloudformation", region_name=region, config=_CLIENT_CONFIG)
    except (BotoCoreError, ValueError) as exc:
        print(CheckResult("clients", False, aws_error("Creating clients", exc)).line(), flush=True)
        return None
    return sfn, cloudformation


def run(args: argparse.Namespace, sleep: Callable[[float], None] = time.sleep) -> int:
    config, default_input = select(Path(args.config_dir), args.env, args.service, args.job)
    source = checked_input(args.service, args.input, default_input)
    name = default_execution_name() if args.name is None else args.name
    clients = _clients(args.role_arn, config.name, config.region)
    if clients is None:
        return EXIT_FAILED
    sfn, cloudformation = clients
    machine = state_machine_arn(config, args.service, args.job)
    try:
        started = sfn.start_execution(
            stateMachineArn=machine,
            name=name,
            input=json.dumps({"input": source} if args.input is not None else {}),
        )
    except (ClientError, BotoCoreError) as exc:
        print(f"FAIL {aws_error('StartExecution', exc)}", flush=True)
        return EXIT_FAILED
    execution = str(started["executionArn"])
    bucket = bucket_name(cloudformation, config.name) if args.bucket is None else args.bucket
    key = f"{output_prefix(args.service, args.job)}{name}/"
    prefix = job_name_prefix(config.name, args.service, args.job)
    print(f"execution: {execution}")
    print(f"transform job: {transform_job_name(prefix, execution)}")
    print(f"input: {source}")
    print(f"output: {f's3://{bucket}/{key}' if bucket else f'{key} (environment bucket)'}")
    if not args.wait:
        return EXIT_OK
    try:
        described = wait_for(sfn, execution, args.timeout_seconds, sleep)
    except (ClientError, BotoCoreError) as exc:
        print(f"FAIL {aws_error('DescribeExecution', exc)}", flush=True)
        return EXIT_FAILED
    status = described["status"]
    print(f"status: {status}")
    if status == "SUCCEEDED":
        return EXIT_OK
    if status == RUNNING:
        print(f"FAIL still running after {args.timeout_seconds:g} s (the run goes on)")
    else:
        print(f"FAIL {failure(described, execution)}")
    return EXIT_FAILED


def failure(described: dict[str, Any], execution: str) -> str:
    """Why a run ended: its error and cause; without either (an ABORTED or TIMED_OUT run has
    none: DescribeExecution's ``error`` and ``cause`` are optional, AWS Step Functions API
    Reference, DescribeExecution,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html),
    its final status and the execution, and where its events are."""
    parts = (described.get("error"), described.get("cause"))
    reason = ": ".join(str(part) for part in parts if part)
    if reason:
        return reason
    return (
        f"execution {execution} ended {described['status']} with no error or cause reported; "
        f"its events: aws stepfunctions get-execution-history --execution-arn {execution}"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="batch-run", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--job", required=True)
    p.add_argument("--input", help="S3 key prefix under batch/<service>/ (default: the job's)")
    p.add_argument(
        "--name", type=non_empty, help="execution name (default: manual-<UTC time>-<random>)"
    )
    p.add_argument(
        "--bucket",
        type=non_empty,
        help=f"environment bucket (default: the Foundation's {BUCKET_OUTPUT})",
    )
    p.add_argument("--wait", action="store_true", help="wait for the run to end")
    p.add_argument(
        "--timeout-seconds",
        type=non_negative,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"with --wait, wait up to N s (default: {DEFAULT_TIMEOUT_SECONDS})",
    )
    p.add_argument("--role-arn", type=non_empty, help="assume this role for the calls")
    p.add_argument("--config-dir", default=str(DEFAULT_CONFIG_DIR))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return run(args)
    except UsageError as exc:
        print(f"batch-run: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
