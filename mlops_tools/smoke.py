"""Post-deployment smoke test of an environment's SageMaker endpoints, one per service (boto3).

``python -m mlops_tools.smoke --env stage --service churn`` runs four checks on the service's
endpoint (``<env>-<service>``), in order, one line each, prefixed with the service name
(``PASS churn in-service: ...``):

1. ``in-service``: DescribeEndpoint reports ``InService`` (optionally polling while it is
   Creating/Updating/SystemUpdating, ``--timeout-seconds``);
2. ``deployed-config``: the endpoint runs the endpoint configuration the service stack
   (``<env>-<service>``, ``--stack-name``) deployed: its output ``EndpointConfigName``
   (CloudFormation DescribeStacks) equals DescribeEndpoint's ``EndpointConfigName``, and the
   stack's last operation completed. When SageMaker rolled an update back (auto-rollback
   alarm, failed blue/green or rolling deployment) the endpoint is InService with the previous
   configuration, often with the right weights: FAIL, with the endpoint's FailureReason and its
   last deployment (LastDeploymentConfig, PendingDeploymentSummary). A stack without that
   output (deployed before it existed) is a WARN line, not a failure;
3. ``weights``: the endpoint's variants are the service's configured variants and each one's
   share of traffic equals the configured share (within :data:`WEIGHT_TOLERANCE`);
4. ``invocation``: one InvokeEndpoint with ``services.<service>.smoke_test`` returns HTTP 200
   and a body. For an asynchronous service (``services.<service>.async_inference``) the check
   is ``async-invocation`` instead: the payload is uploaded under the service's input prefix
   (the stack output ``AsyncInputLocation``), InvokeEndpointAsync is called, and the check
   waits (``async_inference.smoke_timeout_seconds``) for the output object (PASS) or the
   failure object (FAIL), naming its S3 location.

Then, with ``monitoring.alarm_emails``, ``alarm-subscriptions``: each address is a confirmed
e-mail subscription of the service's alarm topic (the stack output ``AlarmTopicArn``,
ListSubscriptionsByTopic). A missing one FAILs: SNS deletes a subscription left unconfirmed for
48 hours, the stack does not recreate it, and the alarms reach nobody. An unconfirmed one is a
WARN.

A service of inference components (``services.<service>.inference_components``) has no
weighted variants: ``weights`` is left out, and ``invocation <component>`` runs once per
component, with ``InferenceComponentName`` = ``<endpoint>-<component>`` (as the stack names it,
:func:`mlops_cdk.props.inference_components.component_name`). A component scaled to zero copies
answers ``ValidationError`` "Inference Component has no capacity to process this request" (AWS
Machine Learning blog, "Unlock cost savings with the new scale down to zero feature in SageMaker
Inference", https://aws.amazon.com/blogs/machine-learning/unlock-cost-savings-with-the-new-scale-down-to-zero-feature-in-sagemaker-inference/);
that failed request is what wakes it (``NoCapacityInvocationFailures``, "Scale an endpoint to
zero instances",
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html: "the
provisioning process takes several minutes"). Without ``--timeout-seconds`` it is a WARN line;
with it the component is invoked again every :data:`POLL_SECONDS` until a copy answers, and a
component that still has none when the time is up FAILs (the pipeline waits 900 s: a release
that never answered is not proven).

Without ``--service`` every service of the environment is tested in turn (the timeout applies
to each), then one summary line. ``--endpoint-name`` overrides the endpoint of the one service
given with ``--service``. The configuration is read from the repository's ``config/`` (as
``make preflight`` does), from any working directory; ``--config-dir`` overrides it.

Exit codes: 0 all checks of all tested services passed (WARN lines count as passed), or the
environment has no services (nothing to test); 1 a check failed, an AWS call failed, or no AWS
credentials were found (one hint line, nothing is called); 2 bad input (unknown environment or
service, invalid configuration, bad arguments). With ``--role-arn`` the calls use that role's
credentials (STS AssumeRole): the pipeline, in a tooling account, reaches each environment's
account this way (each service's smoke role may describe and invoke only that service's
endpoint and read its own stack's outputs).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)

from mlops_cdk.aws.names import ALARM_TOPIC_OUTPUT, endpoint_name_for
from mlops_cdk.config import ConfigError, EnvConfig, load_environments
from mlops_cdk.config.endpoint import SmokeTestConfig
from mlops_cdk.props.inference_components import component_name
from mlops_tools.arguments import non_empty, non_negative

POLL_SECONDS = 15
WEIGHT_TOLERANCE = 0.001
PREVIEW_CHARS = 200
WAITING_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating"})
IN_SERVICE = "InService"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
# The service stack's output naming the endpoint configuration it deployed (a fixed logical id:
# mlops_cdk.constructs.endpoint.ENDPOINT_CONFIG_OUTPUT; a test keeps the two equal).
ENDPOINT_CONFIG_OUTPUT = "EndpointConfigName"
# Output of an asynchronous service's stack: where requests go (s3://<bucket>/async/<svc>/input/).
ASYNC_INPUT_OUTPUT = "AsyncInputLocation"
# Stack statuses after which the stack's outputs describe what was deployed ("Stack status
# codes", CloudFormation User Guide): the last create/update/import completed. Any other status
# is a rollback, a failure or an operation still running.
COMPLETE_STACK_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "IMPORT_COMPLETE"}
)
# What a component scaled to zero copies answers (see the module docstring), and the WARN line.
NO_CAPACITY_CODE = "ValidationError"
NO_CAPACITY_MESSAGE = "no capacity"
NO_COPIES = "no copies: scaled to zero; the wake-up policy adds one, retry in a few minutes"
NO_CREDENTIALS_HINT = (
    "no AWS credentials found: nothing was checked; configure credentials (aws configure, "
    "AWS_PROFILE=<profile>, aws sso login, or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
    "variables) and run again"
)

# boto3 ships no type information: clients and sessions are ``Any`` here.
SageMakerClient = Any
RuntimeClient = Any
CloudFormationClient = Any
StsClient = Any
Sleep = Callable[[float], None]

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=10,
    read_timeout=70,  # InvokeEndpoint allows the model up to 60 s
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. ``stop``: later checks would be meaningless, skip them.
    ``warning``: passed, but something could not be checked (printed as WARN)."""

    check: str
    passed: bool
    detail: str
    stop: bool = False
    warning: bool = False

    def line(self) -> str:
        verdict = ("WARN" if self.warning else "PASS") if self.passed else "FAIL"
        return f"{verdict} {self.check}: {self.detail}"


def aws_error(operation: str, error: Exception) -> str:
    """``<Operation> failed: <code>: <message>`` for a botocore error, on one line."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code") or "Unknown"
        message = info.get("Message") or str(error)
        original = error.response.get("OriginalStatusCode")
        if original is not None:
            message = f"{message} (model returned HTTP {original})"
    else:
        code = type(error).__name__
        message = str(error)
    return _one_line(f"{operation} failed: {code}: {message}")


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def check_in_service(
    sagemaker: SageMakerClient,
    name: str,
    timeout_seconds: float = 0,
    sleep: Sleep = time.sleep,
) -> CheckResult:
    """Passes when the endpoint is InService; waits up to ``timeout_seconds`` (polling every
    :data:`POLL_SECONDS`) while it is Creating/Updating/SystemUpdating. Any other status
    (Failed, OutOfService, RollingBack, ...) fails at once, with the FailureReason if any.

    Elapsed time is counted as the time slept, so tests can inject a no-op ``sleep``."""
    check = "in-service"
    waited = 0.0
    while True:
        try:
            description = sagemaker.describe_endpoint(EndpointName=name)
        except (ClientError, BotoCoreError) as exc:
            return CheckResult(check, False, aws_error("DescribeEndpoint", exc), stop=True)
        status = str(description.get("EndpointStatus", "unknown"))
        if status == IN_SERVICE:
            after = f" (after waiting {waited:.0f} s)" if waited else ""
            return CheckResult(check, True, f"endpoint {name} is {status}{after}")
        if status not in WAITING_STATUSES:
            reason = description.get("FailureReason")
            detail = f"endpoint {name} is {status}" + (f": {reason}" if reason else "")
            return CheckResult(check, False, _one_line(detail), stop=True)
        if waited >= timeout_seconds:
            detail = (
                f"endpoint {name} is still {status} after {waited:.0f} s"
                if timeout_seconds > 0
                else f"endpoint {name} is {status} (use --timeout-seconds N to wait for it)"
            )
            return CheckResult(check, False, detail, stop=True)
        pause = min(POLL_SECONDS, timeout_seconds - waited)
        sleep(pause)
        waited += pause


# describe_stack's answer: (the description, None), (None, None) or (None, the error).
StackRead = tuple[dict[str, Any] | None, ClientError | BotoCoreError | None]


def describe_stack(cloudformation: CloudFormationClient, stack_name: str) -> StackRead:
    """(the stack's description, None); (None, None) when the stack does not exist; (None,
    the error) when DescribeStacks failed otherwise."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name).get("Stacks", [])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in str(error.get("Message")):
            return None, None
        return None, exc
    except BotoCoreError as exc:
        return None, exc
    return (dict(stacks[0]) if stacks else None), None


def stack_outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """A stack description's outputs: key -> value."""
    return {
        str(output.get("OutputKey")): str(output.get("OutputValue", ""))
        for output in stack.get("Outputs", [])
    }


def last_deployment(description: Mapping[str, Any]) -> str:
    """The endpoint's last deployment as DescribeEndpoint reports it: the deployment still
    pending (PendingDeploymentSummary: its configuration and each variant's status), else the
    policy of the last one (LastDeploymentConfig: blue/green traffic routing or rolling, and its
    auto-rollback alarms). SageMaker API reference: DescribeEndpoint, PendingDeploymentSummary,
    DeploymentConfig."""
    pending = description.get("PendingDeploymentSummary")
    if isinstance(pending, Mapping) and pending.get("EndpointConfigName"):
        statuses = []
        for variant in pending.get("ProductionVariants", []) or []:
            states = [str(s.get("Status")) for s in variant.get("VariantStatus", []) or []]
            statuses.append(f"{variant.get('VariantName')} {'/'.join(states) or 'unknown'}")
        each = f" ({', '.join(statuses)})" if statuses else ""
        return f"deployment of {pending['EndpointConfigName']} pending{each}"
    config = description.get("LastDeploymentConfig")
    if not isinstance(config, Mapping) or not config:
        return "no last deployment reported"
    blue_green = config.get("BlueGreenUpdatePolicy")
    if isinstance(blue_green, Mapping):
        routing = blue_green.get("TrafficRoutingConfiguration", {}).get("Type", "?")
        policy = f"blue/green {routing}"
    elif isinstance(config.get("RollingUpdatePolicy"), Mapping):
        policy = "rolling"
    else:
        policy = "default"
    alarms = [
        str(alarm.get("AlarmName"))
        for alarm in (config.get("AutoRollbackConfiguration") or {}).get("Alarms", []) or []
    ]
    rollback = f", auto-rollback alarms {', '.join(alarms)}" if alarms else ""
    return f"last deployment {policy}{rollback}"


def _deployed_by_stack(
    cloudformation: CloudFormationClient, stack_name: str
) -> tuple[str, dict[str, Any]] | CheckResult:
    """(the endpoint configuration ``stack_name`` deployed, the stack's description), or the
    ``deployed-config`` result when there is nothing to compare with (WARN) or DescribeStacks
    failed (FAIL)."""
    check = "deployed-config"
    stack, error = describe_stack(cloudformation, stack_name)
    if error is not None:
        return CheckResult(check, False, aws_error("DescribeStacks", error))
    if stack is None:
        detail = (
            f"stack {stack_name} does not exist: cannot tell which endpoint configuration was "
            "deployed (--stack-name names the stack that owns the endpoint)"
        )
        return CheckResult(check, True, detail, warning=True)
    expected = stack_outputs_of(stack).get(ENDPOINT_CONFIG_OUTPUT)
    if not expected:
        detail = (
            f"stack {stack_name} ({stack.get('StackStatus', 'unknown')}) has no output "
            f"{ENDPOINT_CONFIG_OUTPUT} (deployed before it existed): cannot tell which endpoint "
            "configuration it deployed; the next deploy adds it"
        )
        return CheckResult(check, True, detail, warning=True)
    return expected, stack


def check_deployed_config(
    cloudformation: CloudFormationClient,
    sagemaker: SageMakerClient,
    name: str,
    stack_name: str,
) -> CheckResult:
    """Passes when endpoint ``name`` runs the endpoint configuration that ``stack_name`` deployed
    (its output :data:`ENDPOINT_CONFIG_OUTPUT` equals DescribeEndpoint's EndpointConfigName) and
    the stack's last operation completed (:data:`COMPLETE_STACK_STATUSES`).

    When SageMaker rolls an update back, the endpoint returns to InService with the previous
    configuration and the update is easily taken for a success (hashicorp/terraform-provider-aws
    PR #49020): this fails then, with the endpoint's FailureReason (possibly empty after a
    rollback) and :func:`last_deployment`. A stack without the output (deployed before it
    existed) or that does not exist gives a WARN line: nothing to compare with."""
    check = "deployed-config"
    found = _deployed_by_stack(cloudformation, stack_name)
    if isinstance(found, CheckResult):
        return found
    expected, stack = found
    status = str(stack.get("StackStatus", "unknown"))
    try:
        description = sagemaker.describe_endpoint(EndpointName=name)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("DescribeEndpoint", exc))
    running = str(description.get("EndpointConfigName", ""))
    reason = description.get("FailureReason") or "none reported"
    if running != expected:
        detail = (
            f"endpoint {name} runs endpoint configuration {running}, not {expected} that stack "
            f"{stack_name} ({status}) deployed: the update did not take effect (rolled back?); "
            f"FailureReason: {reason}; {last_deployment(description)}; "
            f"endpoint {description.get('EndpointStatus', 'unknown')}"
        )
        return CheckResult(check, False, _one_line(detail))
    if status not in COMPLETE_STACK_STATUSES:
        why = stack.get("StackStatusReason")
        detail = (
            f"stack {stack_name} is {status}" + (f" ({why})" if why else "") + ": its last "
            f"operation did not complete; endpoint {name} runs {running}, FailureReason: {reason}"
        )
        return CheckResult(check, False, _one_line(detail))
    return CheckResult(
        check, True, f"endpoint {name} runs {running}, deployed by stack {stack_name} ({status})"
    )


def expected_shares(serving_variants: Mapping[str, float]) -> dict[str, float]:
    """Each variant's share of traffic: its weight over the sum of weights."""
    total = sum(serving_variants.values())
    if total <= 0:
        return dict.fromkeys(serving_variants, 0.0)
    return {name: weight / total for name, weight in serving_variants.items()}


def check_weights(
    sagemaker: SageMakerClient, name: str, expected: Mapping[str, float]
) -> CheckResult:
    """Passes when the endpoint's variant names equal ``expected``'s keys and each variant's
    share of traffic (CurrentWeight, else DesiredWeight, over their sum) equals its share of
    ``expected`` (weights, e.g. the config's initial_weight) within :data:`WEIGHT_TOLERANCE`."""
    check = "weights"
    try:
        description = sagemaker.describe_endpoint(EndpointName=name)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("DescribeEndpoint", exc), stop=True)
    actual: dict[str, float] = {}
    unweighted: list[str] = []
    for variant in description.get("ProductionVariants", []):
        variant_name = str(variant["VariantName"])
        weight = variant.get("CurrentWeight", variant.get("DesiredWeight"))
        if weight is None:
            unweighted.append(variant_name)
        else:
            actual[variant_name] = float(weight)
    found = set(actual) | set(unweighted)
    if found != set(expected):
        missing = sorted(set(expected) - found)
        extra = sorted(found - set(expected))
        parts = [f"config {sorted(expected)}, endpoint {sorted(found)}"]
        if missing:
            parts.append(f"missing on endpoint: {', '.join(missing)}")
        if extra:
            parts.append(f"not in config: {', '.join(extra)}")
        return CheckResult(check, False, "variant names differ: " + "; ".join(parts))
    if unweighted:
        return CheckResult(check, False, f"no weight reported for {', '.join(unweighted)}")
    want = expected_shares(expected)
    if sum(actual.values()) <= 0 or sum(expected.values()) <= 0:
        return CheckResult(
            check, False, f"weights sum to zero (endpoint {actual}, config {dict(expected)})"
        )
    have = expected_shares(actual)
    wrong = [v for v in expected if abs(have[v] - want[v]) > WEIGHT_TOLERANCE]
    if wrong:
        detail = ", ".join(f"{v} {have[v]:.3f} (config {want[v]:.3f})" for v in wrong)
        return CheckResult(check, False, f"traffic shares differ from config: {detail}")
    detail = ", ".join(f"{v} {have[v]:.3f}" for v in expected)
    return CheckResult(check, True, f"traffic shares match config: {detail}")


def is_no_capacity(error: Exception) -> bool:
    """Whether InvokeEndpoint failed because the inference component has no copies."""
    if not isinstance(error, ClientError):
        return False
    info = error.response.get("Error", {})
    message = str(info.get("Message") or "").lower()
    return info.get("Code") == NO_CAPACITY_CODE and NO_CAPACITY_MESSAGE in message


def check_invocation(
    runtime: RuntimeClient,
    name: str,
    smoke: SmokeTestConfig | None,
    service: str | None = None,
    *,
    component: str | None = None,
) -> CheckResult:
    """Passes when one InvokeEndpoint with ``smoke``'s content type, accept and body (and its
    ``target_container``, for a direct-invocation endpoint; ``InferenceComponentName`` =
    ``component`` for a component) returns HTTP 200 and a non-empty body; shows the first
    :data:`PREVIEW_CHARS` characters of it. A component without copies is a WARN
    (:data:`NO_COPIES`).
    ``service`` only names the config section to add when ``smoke`` is missing."""
    check = "invocation"
    if smoke is None:
        return CheckResult(
            check,
            False,
            f"no sample request configured: add services.{service or '<service>'}.smoke_test "
            "(content_type, accept, body) to the environment's config; the pipeline's "
            "post-deployment check relies on it",
        )
    # A direct-invocation endpoint answers only requests naming one container
    # (TargetContainerHostname; "Invoke a multi-container endpoint with direct invocation").
    target = getattr(smoke, "target_container", None)
    container = {"TargetContainerHostname": target} if target else {}
    if component is not None:
        container["InferenceComponentName"] = component
    try:
        response = runtime.invoke_endpoint(
            EndpointName=name,
            ContentType=smoke.content_type,
            Accept=smoke.accept,
            Body=smoke.body.encode("utf-8"),
            **container,
        )
        body = response["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        if component is not None and is_no_capacity(exc):
            return CheckResult(check, True, f"{component}: {NO_COPIES}", warning=True)
        return CheckResult(check, False, aws_error("InvokeEndpoint", exc))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status != 200:
        return CheckResult(check, False, f"InvokeEndpoint returned HTTP {status}")
    if not body:
        return CheckResult(check, False, "InvokeEndpoint returned HTTP 200 with an empty body")
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
    preview = _one_line(text[:PREVIEW_CHARS]) + ("..." if len(text) > PREVIEW_CHARS else "")
    variant = response.get("InvokedProductionVariant")
    served = f", variant {variant}" if variant else ""
    served += f", container {target}" if target else ""
    served += f", component {component}" if component else ""
    return CheckResult(
        check,
        True,
        f"HTTP 200, {len(body)} bytes ({response.get('ContentType', '?')}{served}): {preview}",
    )


def check_component_invocation(
    runtime: RuntimeClient,
    name: str,
    component: tuple[str, str],
    smoke: SmokeTestConfig | None,
    *,
    timeout_seconds: float = 0,
    sleep: Sleep = time.sleep,
    service: str | None = None,
) -> CheckResult:
    """``invocation <component>``: :func:`check_invocation` of one inference component
    (``component``: its config name and the name the stack gave it). While it has no copies
    (a WARN), it is invoked again every :data:`POLL_SECONDS`, up to ``timeout_seconds``: each
    such request is one more ``NoCapacityInvocationFailures`` for the wake-up alarm. Still none
    after a positive ``timeout_seconds``: a failure."""
    label, physical = component
    waited = 0.0
    while True:
        result = check_invocation(runtime, name, smoke, service, component=physical)
        if not result.warning or waited >= timeout_seconds:
            break
        pause = min(POLL_SECONDS, timeout_seconds - waited)
        sleep(pause)
        waited += pause
    if result.warning and timeout_seconds > 0:
        # Waited as asked and no copy came up: the release is unproven and the wake-up path
        # (alarm -> step policy -> a copy in "several minutes") did not work in that time.
        result = CheckResult(
            result.check,
            False,
            f"{physical}: still no copies after {waited:.0f} s of requests (each one a "
            "NoCapacityInvocationFailures for the wake-up alarm): the component did not wake; "
            "see its WakeFromZero alarm and `aws application-autoscaling "
            "describe-scaling-activities --service-namespace sagemaker`",
        )
    return replace(result, check=f"invocation {label}")


@dataclass(frozen=True)
class AsyncSmoke:
    """What the asynchronous check needs: an S3 client, the input prefix's location (None: the
    stack has no ``AsyncInputLocation`` output), and how long to wait for the result."""

    s3: Any
    input_location: str | None
    timeout_seconds: float
    poll_seconds: float = POLL_SECONDS


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _object_exists(s3: Any, uri: str) -> bool:
    bucket, key = _split_s3(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _failure_preview(s3: Any, uri: str) -> str:
    bucket, key = _split_s3(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return aws_error("GetObject", exc)
    text = body.decode("utf-8", errors="replace")
    return _one_line(text[:PREVIEW_CHARS]) + ("..." if len(text) > PREVIEW_CHARS else "")


def check_async_invocation(
    runtime: RuntimeClient,
    name: str,
    smoke: SmokeTestConfig | None,
    settings: AsyncSmoke,
    *,
    sleep: Sleep = time.sleep,
    service: str | None = None,
) -> CheckResult:
    """Uploads ``smoke``'s body under the input location, calls InvokeEndpointAsync, and waits
    (bounded) for the output object (pass) or the failure object (fail)."""
    check = "async-invocation"
    if smoke is None:
        return check_invocation(runtime, name, smoke, service)  # the same missing-config line
    if settings.input_location is None:
        return CheckResult(
            check,
            False,
            f"the service stack has no output {ASYNC_INPUT_OUTPUT}: deploy the service stack "
            "with its async_inference settings first",
        )
    bucket, prefix = _split_s3(settings.input_location)
    key = f"{prefix}smoke-{uuid.uuid4().hex}"
    try:
        settings.s3.put_object(
            Bucket=bucket, Key=key, Body=smoke.body.encode("utf-8"), ContentType=smoke.content_type
        )
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("PutObject", exc))
    try:
        response = runtime.invoke_endpoint_async(
            EndpointName=name,
            ContentType=smoke.content_type,
            Accept=smoke.accept,
            InputLocation=f"s3://{bucket}/{key}",
        )
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("InvokeEndpointAsync", exc))
    return _wait_for_result(
        settings, response.get("OutputLocation"), response.get("FailureLocation"), sleep
    )


def _wait_for_result(
    settings: AsyncSmoke, output: str | None, failure: str | None, sleep: Sleep
) -> CheckResult:
    check, waited = "async-invocation", 0.0
    while True:
        try:
            if output and _object_exists(settings.s3, output):
                return CheckResult(check, True, f"output at {output} after {waited:.0f} s")
            if failure and _object_exists(settings.s3, failure):
                preview = _failure_preview(settings.s3, failure)
                return CheckResult(check, False, f"failure at {failure}: {preview}")
        except (ClientError, BotoCoreError) as exc:
            return CheckResult(check, False, aws_error("HeadObject", exc))
        if waited >= settings.timeout_seconds:
            return CheckResult(
                check,
                False,
                f"no output or failure object within {settings.timeout_seconds:.0f} s "
                f"(output expected at {output})",
            )
        sleep(settings.poll_seconds)
        waited += settings.poll_seconds


def _async_smoke(
    settings: Any, s3: Any, cloudformation: CloudFormationClient, stack_name: str | None
) -> AsyncSmoke | None:
    """The asynchronous check's settings for a service with ``async_inference`` (else None)."""
    if settings is None:
        return None
    location = async_input_location(cloudformation, stack_name) if stack_name else None
    return AsyncSmoke(
        s3=s3, input_location=location, timeout_seconds=settings.smoke_timeout_seconds
    )


def async_input_location(cloudformation: CloudFormationClient, stack_name: str) -> str | None:
    """The stack's ``AsyncInputLocation`` output (None when there is none)."""
    stack, _error = describe_stack(cloudformation, stack_name)
    return stack_outputs_of(stack).get(ASYNC_INPUT_OUTPUT) if stack else None


def assumed_session(sts: StsClient, role_arn: str, session_name: str, region: str) -> Any:
    """A boto3 Session with the credentials of ``role_arn`` (shared by the operator tools)."""
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def assume_role(sts: StsClient, role_arn: str, env: str, region: str) -> Any:
    """A boto3 Session with the credentials of ``role_arn`` (session ``mlops-smoke-<env>``)."""
    return assumed_session(sts, role_arn, f"mlops-smoke-{env}", region)


AssumeRole = Callable[[StsClient, str, str, str], Any]


def open_session(
    role_arn: str | None, env: str, region: str, assume: AssumeRole, config: Config
) -> Any | None:
    """A session, through ``role_arn`` with ``assume`` if given; None after printing the one
    line that says why not (shared by the operator tools): :data:`NO_CREDENTIALS_HINT` on
    stderr when boto3 finds no credentials (rather than the same error from every check), else
    a FAIL line."""
    try:
        session: Any = boto3.Session(region_name=region)
        if session.get_credentials() is None:
            raise NoCredentialsError()
        if role_arn is not None:  # an empty ARN fails AssumeRole: never the caller's identity
            sts = session.client("sts", region_name=region, config=config)
            session = assume(sts, role_arn, env, region)
    except NoCredentialsError:
        print(NO_CREDENTIALS_HINT, file=sys.stderr, flush=True)
        return None
    except (ClientError, BotoCoreError, ValueError) as exc:
        assuming = role_arn is not None
        step, operation = ("assume-role", "AssumeRole") if assuming else ("session", "Session")
        print(CheckResult(step, False, aws_error(operation, exc)).line(), flush=True)
        return None
    return session


def parse_arguments(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    service_only: str | Mapping[str, str],
    why: str = "",
) -> argparse.Namespace | int:
    """The arguments, or the exit code after --help or a usage error (printed by argparse).
    ``service_only`` is the destination of an option that names one service's resource, only
    valid with ``--service``, and ``why`` says so in the error; or a mapping of several such
    destinations to their reasons."""
    reasons = {service_only: why} if isinstance(service_only, str) else dict(service_only)
    try:
        args = parser.parse_args(argv)
        for destination, reason in reasons.items():
            if getattr(args, destination) is not None and args.service is None:
                option = "--" + destination.replace("_", "-")
                parser.error(f"{option} is only valid with --service ({reason})")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return args


def _deployed_step(
    cloudformation: CloudFormationClient, sagemaker: SageMakerClient, name: str, stack: str | None
) -> CheckResult:
    if stack is None:
        detail = (
            f"not checked: endpoint {name} (--endpoint-name) belongs to no known stack; give "
            "--stack-name to compare its endpoint configuration with the stack's"
        )
        return CheckResult("deployed-config", True, detail, warning=True)
    return check_deployed_config(cloudformation, sagemaker, name, stack)


Step = tuple[str, Callable[[], CheckResult]]


def _variant_steps(
    sagemaker: SageMakerClient,
    runtime: RuntimeClient,
    name: str,
    *,
    serving_weights: Mapping[str, float],
    smoke: SmokeTestConfig | None,
    async_smoke: AsyncSmoke | None,
    sleep: Sleep,
    service: str | None,
) -> list[Step]:
    """``weights`` then ``invocation`` (``async-invocation`` for an asynchronous endpoint)."""
    invocation: Step = (
        ("invocation", lambda: check_invocation(runtime, name, smoke, service))
        if async_smoke is None
        else (
            "async-invocation",
            partial(
                check_async_invocation,
                runtime,
                name,
                smoke,
                async_smoke,
                sleep=sleep,
                service=service,
            ),
        )
    )
    return [("weights", lambda: check_weights(sagemaker, name, serving_weights)), invocation]


def _component_steps(
    runtime: RuntimeClient,
    name: str,
    *,
    components: Sequence[tuple[str, str]],
    smoke: SmokeTestConfig | None,
    timeout_seconds: float,
    sleep: Sleep,
    service: str | None,
) -> list[Step]:
    """One ``invocation <component>`` per inference component."""
    return [
        (
            f"invocation {component[0]}",
            partial(
                check_component_invocation,
                runtime,
                name,
                component,
                smoke,
                timeout_seconds=timeout_seconds,
                sleep=sleep,
                service=service,
            ),
        )
        for component in components
    ]


def run_checks(
    sagemaker: SageMakerClient,
    runtime: RuntimeClient,
    name: str,
    *,
    serving_weights: Mapping[str, float],
    smoke: SmokeTestConfig | None,
    timeout_seconds: float = 0,
    sleep: Sleep = time.sleep,
    service: str | None = None,
    cloudformation: CloudFormationClient | None = None,
    stack_name: str | None = None,
    async_smoke: AsyncSmoke | None = None,
    components: Sequence[tuple[str, str]] | None = None,
) -> list[CheckResult]:
    """The checks in order (``deployed-config`` only with ``cloudformation``: a WARN without
    ``stack_name``); stops after a result marked ``stop``. Prints each line, with the check
    named ``<service> <check>`` when ``service`` is given. With ``components`` (config name,
    name the stack gave it), an endpoint of inference components: one ``invocation <component>``
    each instead of ``weights`` and ``invocation``.

    An unexpected exception (say, a malformed AWS_* setting botocore rejects) is reported as
    that check's failure, on one line, rather than as a traceback."""
    steps: list[Step] = [
        ("in-service", lambda: check_in_service(sagemaker, name, timeout_seconds, sleep)),
    ]
    if cloudformation is not None:
        steps.append(
            (
                "deployed-config",
                partial(_deployed_step, cloudformation, sagemaker, name, stack_name),
            )
        )
    if components is not None:
        steps += _component_steps(
            runtime,
            name,
            components=components,
            smoke=smoke,
            timeout_seconds=timeout_seconds,
            sleep=sleep,
            service=service,
        )
    else:
        steps += _variant_steps(
            sagemaker,
            runtime,
            name,
            serving_weights=serving_weights,
            smoke=smoke,
            async_smoke=async_smoke,
            sleep=sleep,
            service=service,
        )
    results: list[CheckResult] = []
    for check, step in steps:
        result = printed_step(service, check, step)
        results.append(result)
        if result.stop:
            break
    return results


# --- e-mail subscriptions (the smoke test's alarm topics, preflight's budget topic) ----------
# Until an address follows the link in SNS's confirmation e-mail nothing reaches it, and "Amazon
# SNS automatically deletes unconfirmed subscriptions after 48 hours" (SNS developer guide,
# "Delete an Amazon SNS subscription and topic"), without CloudFormation noticing: the topic's
# messages then reach nobody. A missing subscription FAILs, a pending one is a WARN.

PENDING = "PendingConfirmation"


def email_subscriptions(
    check: str, sns: Any, topic: str, emails: Sequence[str], *, what: str
) -> CheckResult:
    """``emails`` against ``topic``'s e-mail subscriptions (ListSubscriptionsByTopic);
    ``what`` names what the topic carries (``alarms``, ``budget alerts``)."""
    try:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        found = {
            str(sub.get("Endpoint", "")).lower(): str(sub.get("SubscriptionArn", ""))
            for page in pages
            for sub in page.get("Subscriptions", [])
            if sub.get("Protocol") == "email"
        }
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(check, False, aws_error("ListSubscriptionsByTopic", exc))
    missing = [e for e in emails if e.lower() not in found]
    pending = [e for e in emails if found.get(e.lower()) == PENDING]
    if missing:
        return CheckResult(
            check,
            False,
            f"{what} reach nobody at {', '.join(missing)}: no subscription on {topic} (SNS "
            "deletes one left unconfirmed for 48 hours, and the stack does not recreate it); "
            f"subscribe again: aws sns subscribe --topic-arn {topic} --protocol email "
            "--notification-endpoint <address>, then follow the link in SNS's e-mail",
        )
    if pending:
        return CheckResult(
            check,
            True,
            f"{', '.join(pending)} not confirmed: nothing reaches them until the link in SNS's "
            "e-mail is followed, and SNS deletes an unconfirmed subscription after 48 hours",
            warning=True,
        )
    return CheckResult(check, True, f"{len(emails)} confirmed e-mail subscription(s) on {topic}")


def stack_topic_subscriptions(
    check: str,
    cloudformation: Any,
    sns: Any,
    stack_name: str,
    *,
    output: str,
    emails: Sequence[str],
    what: str,
) -> CheckResult:
    """:func:`email_subscriptions` of the topic ``stack_name`` names in its output ``output``
    (a WARN when the stack has no such output: deployed before it existed)."""
    described = describe_stack(cloudformation, stack_name)
    return described_topic_subscriptions(
        check, sns, stack_name, described, output=output, emails=emails, what=what
    )


def described_topic_subscriptions(
    check: str,
    sns: Any,
    stack_name: str,
    described: StackRead,
    *,
    output: str,
    emails: Sequence[str],
    what: str,
) -> CheckResult:
    """:func:`stack_topic_subscriptions` of a stack already read (``describe_stack``'s
    answer)."""
    topic, unread = read_output(check, stack_name, described, output)
    if unread is not None:
        return unread
    return email_subscriptions(check, sns, topic, emails, what=what)


def read_output(
    check: str, stack_name: str, described: StackRead, output: str
) -> tuple[str, CheckResult | None]:
    """(the value of ``output`` in a stack already read, None), or ("", the line ``check``
    prints instead): FAIL when DescribeStacks failed, WARN when the stack (or that output) is
    not there: deployed before it existed."""
    stack, error = described
    if error is not None:
        return "", CheckResult(check, False, aws_error("DescribeStacks", error))
    value = stack_outputs_of(stack).get(output) if stack is not None else None
    if not value:
        return "", CheckResult(
            check,
            True,
            f"not checked: stack {stack_name} has no output {output} (deployed before it existed)",
            warning=True,
        )
    return value, None


def check_alarm_subscriptions(
    cloudformation: CloudFormationClient, sns: Any, stack_name: str, emails: Sequence[str]
) -> CheckResult:
    """Every address of ``monitoring.alarm_emails`` is a confirmed e-mail subscription of the
    service's alarm topic (the stack output :data:`ALARM_TOPIC_OUTPUT`)."""
    return stack_topic_subscriptions(
        "alarm-subscriptions",
        cloudformation,
        sns,
        stack_name,
        output=ALARM_TOPIC_OUTPUT,
        emails=emails,
        what="alarms",
    )


def _alarm_results(
    service: str,
    emails: Sequence[str],
    stack_name: str | None,
    cloudformation: CloudFormationClient,
    sns: Any,
) -> list[CheckResult]:
    """The ``alarm-subscriptions`` line of a service with alarm e-mails and a known stack."""
    if not emails or stack_name is None:
        return []
    step = partial(check_alarm_subscriptions, cloudformation, sns, stack_name, emails)
    return [printed_step(service, "alarm-subscriptions", step)]


def unexpected_error(check: str, exc: Exception, *, stop: bool = False) -> CheckResult:
    """The one FAIL line of a check that raised what it does not expect (the CLI contract:
    never a traceback)."""
    detail = _one_line(f"unexpected error: {type(exc).__name__}: {exc}")
    return CheckResult(check, False, detail, stop=stop)


def printed_step(service: str | None, check: str, step: Callable[[], CheckResult]) -> CheckResult:
    """``step``'s result, named ``<service> <check>`` when ``service`` is given, printed. An
    unexpected exception (say, a malformed AWS_* setting botocore rejects) is that check's one
    FAIL line, marked ``stop`` (the CLI contract: never a traceback)."""
    try:
        result = step()
    except Exception as exc:
        result = unexpected_error(check, exc, stop=True)
    if service:
        result = replace(result, check=f"{service} {result.check}")
    print(result.line(), flush=True)
    return result


def unknown_service(config: EnvConfig, service: str) -> str | None:
    """Why ``service`` cannot be checked in ``config``'s environment, or None if it can."""
    if service in config.services:
        return None
    known = (
        f"known services: {', '.join(config.services)}"
        if config.services
        else f"environment {config.name!r} has no services"
    )
    return f"unknown service {service!r} in environment {config.name!r}; {known}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_tools.smoke",
        description="Post-deployment smoke test of an environment's SageMaker endpoints: one "
        "service's (--service), or every service's in turn.",
    )
    parser.add_argument("--env", required=True, help="environment name (config/<env>.yaml)")
    parser.add_argument(
        "--service",
        type=non_empty,
        help="service to test (services.<name>; default: every service in turn)",
    )
    parser.add_argument(
        "--endpoint-name",
        type=non_empty,
        help="endpoint to test (only with --service; default: the one deployed for the "
        "service, <env>-<service>)",
    )
    parser.add_argument(
        "--stack-name",
        type=non_empty,
        help="stack whose output EndpointConfigName names the deployed endpoint configuration "
        "(only with --service; default: the service stack, <env>-<service>)",
    )
    parser.add_argument("--role-arn", type=non_empty, help="assume this role for the AWS calls")
    parser.add_argument(
        "--region", type=non_empty, help="AWS region (default: the environment's region)"
    )
    parser.add_argument(
        "--config-dir",
        default=DEFAULT_CONFIG_DIR,
        type=Path,
        help="config directory (default: the repository's config/)",
    )
    parser.add_argument(
        "--timeout-seconds",
        default=0.0,
        type=non_negative,
        help=f"wait up to N s per endpoint (polling every {POLL_SECONDS} s) while it is "
        "Creating/Updating/SystemUpdating (default: 0, no waiting)",
    )
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    return parse_arguments(
        _parser(),
        argv,
        service_only={
            "endpoint_name": "it names one service's endpoint",
            "stack_name": "it names one service's stack",
        },
    )


def _services(count: int) -> str:
    return f"{count} service{'' if count == 1 else 's'}"


def _load(config_dir: Path, env: str) -> EnvConfig:
    [config] = load_environments(config_dir, only=env)
    return config


def _clients(
    args: argparse.Namespace, env: str, region: str
) -> tuple[Any, Any, Any, Any, Any] | None:
    """The SageMaker, runtime, CloudFormation, S3 and SNS clients (through ``--role-arn`` if
    given); None after printing the one line that says why they could not be made."""
    session = open_session(args.role_arn, env, region, assume_role, _CLIENT_CONFIG)
    if session is None:
        return None
    try:
        sagemaker = session.client("sagemaker", region_name=region, config=_CLIENT_CONFIG)
        runtime = session.client("sagemaker-runtime", region_name=region, config=_CLIENT_CONFIG)
        cloudformation = session.client("cloudformation", region_name=region, config=_CLIENT_CONFIG)
        s3 = session.client("s3", region_name=region, config=_CLIENT_CONFIG)
        sns = session.client("sns", region_name=region, config=_CLIENT_CONFIG)
    except (BotoCoreError, ValueError) as exc:
        print(CheckResult("clients", False, aws_error("Creating clients", exc)).line(), flush=True)
        return None
    return sagemaker, runtime, cloudformation, s3, sns


def _serves(config: EnvConfig, service: str) -> bool:
    """Whether ``service`` has an endpoint: weighted variants or inference components."""
    spec = config.services[service]
    return spec.has_endpoint or spec.inference_components is not None


def _with_endpoints(config: EnvConfig, services: list[str]) -> list[str]:
    """The services that have an endpoint; a SKIP line for each of batch jobs only."""
    for name in services:
        if not _serves(config, name):
            print(f"SKIP {name}: batch jobs only, no endpoint (make batch-run)", flush=True)
    return [name for name in services if _serves(config, name)]


def components_of(config: EnvConfig, service: str, endpoint: str) -> list[tuple[str, str]] | None:
    """(config name, name the stack gives it) of each of ``service``'s inference components
    on ``endpoint``; None for a service of weighted variants."""
    spec = config.services[service].inference_components
    if spec is None:
        return None
    return [(c.name, component_name(endpoint, c.name)) for c in spec.components]


def _stack_name(args: argparse.Namespace, config: EnvConfig, service: str) -> str | None:
    """``--stack-name``, else the service stack; None for an endpoint named by
    ``--endpoint-name`` (it is not the service stack's)."""
    if args.stack_name is not None:
        return str(args.stack_name)
    return None if args.endpoint_name is not None else config.endpoint_name(service)


def main(argv: Sequence[str] | None = None, *, sleep: Sleep = time.sleep) -> int:
    args = _parse(argv)
    if isinstance(args, int):
        return args
    try:
        config = _load(args.config_dir, args.env)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    if args.service is not None and (reason := unknown_service(config, args.service)):
        print(reason, file=sys.stderr)
        return EXIT_USAGE
    services = _with_endpoints(
        config, [args.service] if args.service is not None else list(config.services)
    )
    if not services:
        what = "has no services" if not config.services else "has no endpoint in them"
        print(f"environment {config.name!r} {what}: no endpoint to smoke-test", flush=True)
        return EXIT_OK
    region: str = config.region if args.region is None else args.region
    via = f" as {args.role_arn}" if args.role_arn is not None else ""

    def endpoint(service: str) -> str:
        if args.endpoint_name is not None:
            return str(args.endpoint_name)
        return endpoint_name_for(config.endpoint_name(service))

    def header(service: str) -> None:
        print(
            f"smoke test of endpoint {endpoint(service)} (env {config.name}, service {service}, "
            f"region {region}){via}",
            flush=True,
        )

    if args.service is None:
        print(
            f"smoke test of {_services(len(services))} of {config.name}: {', '.join(services)}",
            flush=True,
        )
    else:
        header(args.service)
    clients = _clients(args, config.name, region)
    if clients is None:
        return EXIT_FAILED
    sagemaker, runtime, cloudformation, s3, sns = clients
    emails = config.monitoring.alarm_emails if config.monitoring is not None else []

    failed: list[str] = []
    for service in services:
        spec = config.services[service]
        if args.service is None:
            header(service)
        stack_name = _stack_name(args, config, service)
        async_smoke = _async_smoke(spec.async_inference, s3, cloudformation, stack_name)
        results = run_checks(
            sagemaker,
            runtime,
            endpoint(service),
            serving_weights={variant.name: variant.initial_weight for variant in spec.variants},
            smoke=spec.smoke_test,
            timeout_seconds=args.timeout_seconds,
            sleep=sleep,
            service=service,
            cloudformation=cloudformation,
            # an endpoint named by --endpoint-name is not the service stack's
            stack_name=stack_name,
            async_smoke=async_smoke,
            components=components_of(config, service, endpoint(service)),
        )
        results += _alarm_results(service, emails, stack_name, cloudformation, sns)
        if not results or not all(r.passed for r in results):
            failed.append(service)
    if args.service is None:
        passed = len(services) - len(failed)
        outcome = f"; failed: {', '.join(failed)}" if failed else ""
        print(f"{passed} of {_services(len(services))} passed{outcome}", flush=True)
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
