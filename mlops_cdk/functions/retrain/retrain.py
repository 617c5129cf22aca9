"""Retraining trigger: a CloudWatch alarm action that starts SageMaker retraining.

Every invocation ends in exactly one decision (started, duplicate, ignored, rejected,
failed), logged as one JSON line on stdout in CloudWatch Embedded Metric Format. A rejected
(malformed) event and a failure are raised after their line, so that Lambda retries them and
sends them to the on-failure destination.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

MODES = ("pipeline", "training_job")
DEFAULT_COOLDOWN_SECONDS = 3600
DEFAULT_NAMESPACE = "MlopsCdk/Retraining"
METRIC_NAME = "RetrainDecision"
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
ACTIVE_PIPELINE_STATUSES = ("Executing", "Stopping")
DUPLICATE_ERROR_CODES = ("ResourceInUse", "ResourceInUseException")

# SageMaker API limits (botocore service model).
PARAMETER_VALUE_MAX = 1024
EXECUTION_DESCRIPTION_MAX = 3072
JOB_NAME_MAX = 63
LIST_EXECUTIONS_MAX_RESULTS = 100
WINDOW_FORMAT = "%Y%m%d%H%M%S"
JOB_PREFIX_MAX = JOB_NAME_MAX - 1 - len("20260101000000")
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# CreateTrainingJob RoleArn (botocore's sagemaker service model).
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")

# Module-level client cache ("sagemaker" -> client), reused across warm invocations.
_clients: dict[str, Any] = {}


class ConfigError(Exception):
    """The function's environment configuration is invalid."""


class MalformedEventError(Exception):
    """The event is not a CloudWatch alarm action event."""


@dataclass(frozen=True)
class Settings:
    """Configuration read from the environment at invocation time."""

    mode: str
    endpoint_name: str
    cooldown_seconds: int
    pipeline_name: str = ""
    job_template: dict[str, Any] | None = None
    job_prefix: str = ""
    training_role_arn: str = ""


@dataclass(frozen=True)
class Alarm:
    """The parts of an alarm event the function uses."""

    name: str
    state: str
    reason: str
    timestamp: str


def _now() -> datetime:
    """Return the current time (UTC); tests monkeypatch this."""
    return datetime.now(UTC)


def _sagemaker() -> Any:
    """Return the module-cached SageMaker client, creating it on first use."""
    client = _clients.get("sagemaker")
    if client is None:
        client = boto3.client(
            "sagemaker", config=Config(retries={"mode": "standard", "max_attempts": 5})
        )
        _clients["sagemaker"] = client
    return client


def set_client(client: Any) -> None:
    """Use this SageMaker client (e.g. a stubbed one in tests)."""
    _clients["sagemaker"] = client


def reset_client() -> None:
    """Forget the cached SageMaker client (for tests)."""
    _clients.clear()


def _load_settings() -> Settings:
    """Read and validate the environment configuration."""
    mode = os.environ.get("RETRAIN_MODE", "").strip()
    if mode not in MODES:
        raise ConfigError(f"RETRAIN_MODE must be one of {MODES}, got {mode!r}")
    raw_cooldown = os.environ.get("COOLDOWN_SECONDS", "").strip() or str(DEFAULT_COOLDOWN_SECONDS)
    try:
        cooldown = int(raw_cooldown)
    except ValueError:
        raise ConfigError(f"COOLDOWN_SECONDS must be an integer, got {raw_cooldown!r}") from None
    if cooldown < 1:
        raise ConfigError(f"COOLDOWN_SECONDS must be >= 1, got {cooldown}")
    endpoint = os.environ.get("ENDPOINT_NAME", "").strip()
    if mode == "pipeline":
        pipeline = os.environ.get("PIPELINE_NAME", "").strip()
        if not pipeline:
            raise ConfigError("PIPELINE_NAME is required in pipeline mode")
        return Settings(mode, endpoint, cooldown, pipeline_name=pipeline)
    try:
        template = json.loads(os.environ.get("TRAINING_JOB_TEMPLATE", ""))
    except json.JSONDecodeError as err:
        raise ConfigError(f"TRAINING_JOB_TEMPLATE is not valid JSON: {err}") from None
    if not isinstance(template, dict):
        raise ConfigError("TRAINING_JOB_TEMPLATE must be a JSON object")
    template.pop("TrainingJobName", None)
    prefix = _sanitize_prefix(os.environ.get("TRAINING_JOB_PREFIX", ""))
    role = os.environ.get("TRAINING_ROLE_ARN", "").strip()
    if not ROLE_ARN_RE.match(role):
        raise ConfigError(f"TRAINING_ROLE_ARN must be an IAM role ARN, got {role!r}")
    if template.get("RoleArn", role) != role:
        raise ConfigError(
            "TRAINING_JOB_TEMPLATE names a RoleArn other than TRAINING_ROLE_ARN (the training "
            "role, the only role this function may pass): remove it from the template"
        )
    return Settings(
        mode,
        endpoint,
        cooldown,
        job_template=template,
        job_prefix=prefix,
        training_role_arn=role,
    )


def _sanitize_prefix(raw: str) -> str:
    """Make a training-job name prefix that fits SageMaker's name rules with a suffix."""
    prefix = re.sub(r"[^a-zA-Z0-9-]", "-", raw.strip()).strip("-")[:JOB_PREFIX_MAX].rstrip("-")
    if not prefix:
        raise ConfigError(f"TRAINING_JOB_PREFIX is empty or invalid: {raw!r}")
    return prefix


def _parse_event(event: Any) -> Alarm:
    """Validate a CloudWatch alarm Lambda-action event."""
    if not isinstance(event, dict):
        raise MalformedEventError(f"event must be an object, got {type(event).__name__}")
    data = event.get("alarmData")
    if not isinstance(data, dict):
        raise MalformedEventError("alarmData missing or not an object")
    name = data.get("alarmName")
    if not isinstance(name, str) or not name:
        raise MalformedEventError("alarmData.alarmName missing or not a non-empty string")
    state = data.get("state")
    if not isinstance(state, dict):
        raise MalformedEventError("alarmData.state missing or not an object")
    value = state.get("value")
    if not isinstance(value, str) or value not in ALARM_STATES:
        raise MalformedEventError(f"alarmData.state.value must be one of {ALARM_STATES}")
    reason = state.get("reason", "")
    timestamp = state.get("timestamp", "")
    if not isinstance(reason, str) or not isinstance(timestamp, str):
        raise MalformedEventError("alarmData.state.reason/timestamp must be strings")
    return Alarm(name=name, state=value, reason=reason, timestamp=timestamp)


def _peek_alarm_name(event: Any) -> str | None:
    """Best-effort alarm name of a possibly malformed event, for logging."""
    data = event.get("alarmData") if isinstance(event, dict) else None
    name = data.get("alarmName") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _window(now: datetime, cooldown: int) -> tuple[int, datetime]:
    """Return the cooldown window index floor(now / cooldown) and its start time."""
    index = int(now.timestamp()) // cooldown
    return index, datetime.fromtimestamp(index * cooldown, UTC)


def request_token(pipeline_name: str, window: int) -> str:
    """Deterministic ClientRequestToken (64 hex chars) for one pipeline and cooldown window.

    Not the alarm's name: two alarms firing together (drift and quality) send the same token,
    so at most one run starts per window."""
    key = "\x1f".join(("retrain-v2", pipeline_name, str(window)))
    return hashlib.sha256(key.encode()).hexdigest()


def job_name(prefix: str, window_start: datetime) -> str:
    """Deterministic training-job name for a cooldown window."""
    name = f"{prefix}-{window_start.strftime(WINDOW_FORMAT)}"
    if len(name) > JOB_NAME_MAX or not NAME_RE.match(name):
        raise ConfigError(f"derived training job name {name!r} is invalid")
    return name


def _error_code(err: Any) -> str:
    """The AWS error code of a ClientError."""
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def _emit(
    decision: str, level: str, reason: str, ctx: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """Print one JSON/EMF log line for a decision and return the handler result."""
    result: dict[str, Any] = {"decision": decision, "reason": reason, **ctx, **extra}
    namespace = os.environ.get("METRICS_NAMESPACE", "").strip() or DEFAULT_NAMESPACE
    record: dict[str, Any] = {
        "level": level,
        **result,
        "Decision": decision,
        METRIC_NAME: 1,
        "_aws": {
            "Timestamp": int(_now().timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["Decision"]],
                    "Metrics": [{"Name": METRIC_NAME, "Unit": "Count"}],
                }
            ],
        },
    }
    print(json.dumps(record, default=str, separators=(",", ":")), flush=True)
    return result


def _blocking_execution(
    client: Any, pipeline: str, now: datetime, cooldown: int
) -> tuple[str, str] | None:
    """Return (arn, why) of a running or recent execution that blocks a new one."""
    response = client.list_pipeline_executions(
        PipelineName=pipeline,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=LIST_EXECUTIONS_MAX_RESULTS,
    )
    for summary in response.get("PipelineExecutionSummaries", []):
        arn = str(summary.get("PipelineExecutionArn", ""))
        status = str(summary.get("PipelineExecutionStatus", ""))
        if status in ACTIVE_PIPELINE_STATUSES:
            return arn, f"pipeline execution is {status}"
        started = summary.get("StartTime")
        if isinstance(started, datetime) and now - started < timedelta(seconds=cooldown):
            age = int((now - started).total_seconds())
            return arn, f"pipeline execution started {age}s ago (cooldown {cooldown}s)"
    return None


def _start_request(
    settings: Settings, alarm: Alarm, window_start: datetime, token: str
) -> dict[str, Any]:
    """The StartPipelineExecution request for this alarm and cooldown window."""
    parameters = [
        {"Name": "AlarmName", "Value": alarm.name[:PARAMETER_VALUE_MAX]},
        {"Name": "Reason", "Value": alarm.reason[:PARAMETER_VALUE_MAX]},
    ]
    if settings.endpoint_name:
        parameters.insert(
            1, {"Name": "EndpointName", "Value": settings.endpoint_name[:PARAMETER_VALUE_MAX]}
        )
    description = (
        f"Retraining triggered by CloudWatch alarm {alarm.name} "
        f"(ALARM at {alarm.timestamp or 'unknown time'}): {alarm.reason}"
    )[:EXECUTION_DESCRIPTION_MAX]
    return {
        "PipelineName": settings.pipeline_name,
        "PipelineExecutionDisplayName": f"retrain-{window_start.strftime(WINDOW_FORMAT)}",
        "PipelineParameters": parameters,
        "PipelineExecutionDescription": description,
        "ClientRequestToken": token,
    }


def _run_pipeline(settings: Settings, alarm: Alarm, ctx: dict[str, Any]) -> dict[str, Any]:
    """Start the retraining pipeline unless a run is active or within the cooldown."""
    client = _sagemaker()
    now = _now()
    pipeline = settings.pipeline_name
    blocking = _blocking_execution(client, pipeline, now, settings.cooldown_seconds)
    if blocking is not None:
        arn, why = blocking
        return _emit("duplicate", "info", why, ctx, pipeline_execution_arn=arn)
    window, window_start = _window(now, settings.cooldown_seconds)
    token = request_token(pipeline, window)
    try:
        response = client.start_pipeline_execution(
            **_start_request(settings, alarm, window_start, token)
        )
    except ClientError as err:
        # A concurrent invocation (another alarm) may have started this window's run with the
        # same token and other parameters. What SageMaker does with a reused token and other
        # parameters is not documented, only "An idempotent operation completes no more than
        # once" (StartPipelineExecution, ClientRequestToken, SageMaker API Reference,
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StartPipelineExecution.html):
        # so an error is a duplicate when a run now blocks this one, and raised otherwise.
        blocking = _blocking_execution(client, pipeline, _now(), settings.cooldown_seconds)
        if blocking is None:
            raise
        arn, why = blocking
        why = f"{why}; StartPipelineExecution failed ({_error_code(err)}): a concurrent start"
        return _emit("duplicate", "info", why, ctx, pipeline_execution_arn=arn)
    return _emit(
        "started",
        "info",
        "alarm in ALARM state",
        ctx,
        pipeline_execution_arn=str(response["PipelineExecutionArn"]),
        client_request_token=token,
    )


def _blocking_job(client: Any, prefix: str, now: datetime, cooldown: int) -> tuple[str, str] | None:
    """Return (name, why) of a recent or in-progress job with this prefix."""
    paginator = client.get_paginator("list_training_jobs")
    queries: tuple[tuple[dict[str, Any], str], ...] = (
        ({"CreationTimeAfter": now - timedelta(seconds=cooldown)}, "created within cooldown"),
        ({"StatusEquals": "InProgress"}, "in progress"),
    )
    for query, why in queries:
        for page in paginator.paginate(NameContains=f"{prefix}-", **query):
            for summary in page.get("TrainingJobSummaries", []):
                name = str(summary.get("TrainingJobName", ""))
                if name.lower().startswith(f"{prefix}-".lower()):
                    return name, f"training job {why} (cooldown {cooldown}s)"
    return None


def _run_training_job(settings: Settings, alarm: Alarm, ctx: dict[str, Any]) -> dict[str, Any]:
    """Create the retraining job unless one is in progress or within the cooldown."""
    client = _sagemaker()
    now = _now()
    prefix = settings.job_prefix
    blocking = _blocking_job(client, prefix, now, settings.cooldown_seconds)
    if blocking is not None:
        name, why = blocking
        return _emit("duplicate", "info", why, ctx, training_job_name=name)
    _, window_start = _window(now, settings.cooldown_seconds)
    name = job_name(prefix, window_start)
    request = {
        **(settings.job_template or {}),
        "TrainingJobName": name,
        "RoleArn": settings.training_role_arn,
    }
    try:
        response = client.create_training_job(**request)
    except ClientError as err:
        if _error_code(err) in DUPLICATE_ERROR_CODES:
            why = "training job for this window already exists (concurrent invocation)"
            return _emit("duplicate", "info", why, ctx, training_job_name=name)
        raise
    return _emit(
        "started",
        "info",
        "alarm in ALARM state",
        ctx,
        training_job_name=name,
        training_job_arn=str(response.get("TrainingJobArn", "")),
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for a CloudWatch alarm action."""
    ctx: dict[str, Any] = {
        "alarm_name": _peek_alarm_name(event),
        "endpoint_name": os.environ.get("ENDPOINT_NAME", "").strip() or None,
        "mode": os.environ.get("RETRAIN_MODE", "").strip() or None,
    }
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str):
        ctx["request_id"] = request_id
    try:
        alarm = _parse_event(event)
    except MalformedEventError as err:
        # Only alarm actions invoke the function, asynchronously: a malformed event means their
        # contract changed. Raised, the invocation is retried and then lands in the on-failure
        # queue, whose depth is alarmed ("Asynchronous invocation", AWS Lambda Developer Guide,
        # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
        _emit("rejected", "error", f"malformed event: {err}", ctx)
        raise
    if alarm.state != "ALARM":
        return _emit("ignored", "info", f"alarm state is {alarm.state}", ctx)
    try:
        settings = _load_settings()
        if settings.mode == "pipeline":
            return _run_pipeline(settings, alarm, ctx)
        return _run_training_job(settings, alarm, ctx)
    except ConfigError as err:
        _emit("failed", "error", f"configuration error: {err}", ctx)
        raise
    except ClientError as err:
        _emit("failed", "error", f"{_error_code(err)}: {err}", ctx, error_code=_error_code(err))
        raise
    except BotoCoreError as err:
        _emit("failed", "error", f"{type(err).__name__}: {err}", ctx)
        raise
