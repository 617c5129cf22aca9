"""Behavioural tests of the retraining Lambda against moto (and botocore Stubber where moto
lacks a feature: pipeline token dedup, running executions, ResourceInUse on CreateTrainingJob)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import retrain
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import ANY, Stubber
from conftest import (
    ACCOUNT_ROLE,
    COOLDOWN,
    ENDPOINT_NAME,
    JOB_PREFIX,
    PIPELINE_NAME,
    REGION,
    TRAINING_JOB_TEMPLATE,
    TRAINING_ROLE,
    Clock,
)

Event = Callable[..., dict[str, Any]]
Logs = Callable[[], list[dict[str, Any]]]
PIPELINE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p"
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def executions(sagemaker: Any) -> list[dict[str, Any]]:
    """All pipeline executions moto holds for the test pipeline."""
    summaries = sagemaker.list_pipeline_executions(PipelineName=PIPELINE_NAME)
    return list(summaries["PipelineExecutionSummaries"])


def parameters(sagemaker: Any, arn: str) -> dict[str, str]:
    """Pipeline parameters of an execution as a dict."""
    resp = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for p in resp["PipelineParameters"]}


def capture_params(client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the request parameters of every call to `operation` made by `client`."""
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"provide-client-params.sagemaker.{operation}", hook)
    return calls


def stubbed_client() -> tuple[Any, Stubber]:
    """A real boto3 SageMaker client wrapped in a Stubber, installed as the handler's client."""
    client = boto3.client("sagemaker", region_name=REGION)
    retrain.set_client(client)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def only(logs: list[dict[str, Any]]) -> dict[str, Any]:
    """Assert exactly one log line was printed and return it."""
    assert len(logs) == 1, logs
    return logs[0]


# 1. ALARM starts exactly one execution with the right parameters.
@pytest.mark.usefixtures("pipeline", "clock")
def test_alarm_starts_one_pipeline_execution(
    sagemaker: Any, make_event: Event, read_logs: Logs
) -> None:
    result = retrain.handler(make_event("ALARM"), None)

    assert result["decision"] == "started"
    runs = executions(sagemaker)
    assert len(runs) == 1
    arn = runs[0]["PipelineExecutionArn"]
    assert result["pipeline_execution_arn"] == arn
    params = parameters(sagemaker, arn)
    assert params == {
        "AlarmName": "mlops-endpoint-model-quality",
        "EndpointName": ENDPOINT_NAME,
        "Reason": make_event()["alarmData"]["state"]["reason"],
    }
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert "mlops-endpoint-model-quality" in described["PipelineExecutionDescription"]
    assert NAME_RE.match(described["PipelineExecutionDisplayName"])
    line = only(read_logs())
    assert line["decision"] == "started"
    assert line["level"] == "info"
    assert line["pipeline_execution_arn"] == arn


@pytest.mark.usefixtures("pipeline", "clock")
def test_reason_is_truncated_to_sagemaker_limits(sagemaker: Any, make_event: Event) -> None:
    retrain.handler(make_event("ALARM", reason="x" * 5000), None)

    (run,) = executions(sagemaker)
    assert len(parameters(sagemaker, run["PipelineExecutionArn"])["Reason"]) == 1024
    described = sagemaker.describe_pipeline_execution(
        PipelineExecutionArn=run["PipelineExecutionArn"]
    )
    assert len(described["PipelineExecutionDescription"]) == 3072


# 2. Repeated alarm inside the cooldown is a duplicate; after the cooldown a new run starts.
@pytest.mark.usefixtures("pipeline")
def test_repeat_within_cooldown_is_duplicate_then_starts_after(
    sagemaker: Any, clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    first = retrain.handler(make_event("ALARM"), None)
    clock.advance(COOLDOWN / 2)
    second = retrain.handler(make_event("ALARM"), None)

    assert first["decision"] == "started"
    assert second["decision"] == "duplicate"
    assert second["pipeline_execution_arn"] == first["pipeline_execution_arn"]
    assert len(executions(sagemaker)) == 1
    # moto marks executions "Succeeded" immediately, so only the cooldown blocks here.
    assert {r["PipelineExecutionStatus"] for r in executions(sagemaker)} == {"Succeeded"}

    clock.advance(COOLDOWN)  # now 1.5 cooldowns after the first run
    third = retrain.handler(make_event("ALARM"), None)

    assert third["decision"] == "started"
    assert third["pipeline_execution_arn"] != first["pipeline_execution_arn"]
    assert third["client_request_token"] != first["client_request_token"]
    assert len(executions(sagemaker)) == 2
    assert [line["decision"] for line in read_logs()] == ["started", "duplicate", "started"]


def test_running_execution_blocks_even_after_cooldown(
    clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    # moto cannot hold an execution in "Executing" (and lacks StopPipelineExecution): stub it.
    _, stubber = stubbed_client()
    old = clock.now - timedelta(seconds=5 * COOLDOWN)
    stubber.add_response(
        "list_pipeline_executions",
        {
            "PipelineExecutionSummaries": [
                {
                    "PipelineExecutionArn": "arn:aws:sagemaker:eu-west-1:123456789012:"
                    "pipeline/p/execution/new",
                    "StartTime": clock.now - timedelta(seconds=2 * COOLDOWN),
                    "PipelineExecutionStatus": "Succeeded",
                },
                {
                    "PipelineExecutionArn": "arn:aws:sagemaker:eu-west-1:123456789012:"
                    "pipeline/p/execution/old",
                    "StartTime": old,
                    "PipelineExecutionStatus": "Executing",
                },
            ]
        },
        {
            "PipelineName": PIPELINE_NAME,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        },
    )

    result = retrain.handler(make_event("ALARM"), None)  # no start stubbed: a call would fail

    assert result["decision"] == "duplicate"
    assert result["pipeline_execution_arn"].endswith("/old")
    assert "Executing" in result["reason"]
    stubber.assert_no_pending_responses()
    assert only(read_logs())["decision"] == "duplicate"


# 3. OK and INSUFFICIENT_DATA are ignored.
@pytest.mark.usefixtures("pipeline", "clock")
@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_non_alarm_states_are_ignored(
    state: str, sagemaker: Any, make_event: Event, read_logs: Logs
) -> None:
    result = retrain.handler(make_event(state), None)

    assert result["decision"] == "ignored"
    assert state in result["reason"]
    assert executions(sagemaker) == []
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("ignored", "info")


# 4. Malformed events are rejected with exactly one error line and no SageMaker call, then
# raised: only alarm actions invoke the function, so Lambda's retries and the on-failure queue
# (alarmed) must tell someone that their contract changed.
MALFORMED: list[Any] = [
    None,
    "ALARM",
    ["alarmData"],
    {},
    {"alarmData": "x"},
    {"alarmData": {"state": {"value": "ALARM"}}},
    {"alarmData": {"alarmName": "", "state": {"value": "ALARM"}}},
    {"alarmData": {"alarmName": 42, "state": {"value": "ALARM"}}},
    {"alarmData": {"alarmName": "a"}},
    {"alarmData": {"alarmName": "a", "state": "ALARM"}},
    {"alarmData": {"alarmName": "a", "state": {}}},
    {"alarmData": {"alarmName": "a", "state": {"value": 1}}},
    {"alarmData": {"alarmName": "a", "state": {"value": "alarm"}}},
    {"alarmData": {"alarmName": "a", "state": {"value": "ALARM", "reason": ["r"]}}},
]


@pytest.mark.usefixtures("pipeline", "clock")
@pytest.mark.parametrize("event", MALFORMED)
def test_malformed_events_are_rejected(event: Any, sagemaker: Any, read_logs: Logs) -> None:
    calls = capture_params(retrain._sagemaker(), "StartPipelineExecution")

    with pytest.raises(retrain.MalformedEventError):
        retrain.handler(event, None)

    assert calls == []
    assert executions(sagemaker) == []
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("rejected", "error")
    assert line["reason"].startswith("malformed event")


def test_rejected_does_not_need_configuration(
    monkeypatch: pytest.MonkeyPatch, read_logs: Logs
) -> None:
    monkeypatch.setenv("RETRAIN_MODE", "bogus")
    with pytest.raises(retrain.MalformedEventError, match="alarmName"):
        retrain.handler({"alarmData": {}}, None)
    line = only(read_logs())
    assert (line["decision"], line["mode"]) == ("rejected", "bogus")


# 5. SageMaker errors are logged as "failed" and re-raised (async retry / on-failure dest).
@pytest.mark.usefixtures("sagemaker", "clock")
def test_missing_pipeline_error_is_raised_and_logged(make_event: Event, read_logs: Logs) -> None:
    with pytest.raises(ClientError) as excinfo:
        retrain.handler(make_event("ALARM"), None)  # pipeline was never created

    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("failed", "error")
    assert line["error_code"] == "ValidationException"


@pytest.mark.usefixtures("clock")
def test_throttling_is_raised_and_logged(make_event: Event, read_logs: Logs) -> None:
    _, stubber = stubbed_client()
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
    stubber.add_client_error(
        "start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400
    )
    # After a failed start the function looks again: still no run, so the error is raised.
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})

    with pytest.raises(ClientError) as excinfo:
        retrain.handler(make_event("ALARM"), None)

    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    stubber.assert_no_pending_responses()
    line = only(read_logs())
    assert (line["decision"], line["error_code"]) == ("failed", "ThrottlingException")


def test_configuration_error_is_raised_and_logged(
    monkeypatch: pytest.MonkeyPatch, make_event: Event, read_logs: Logs
) -> None:
    monkeypatch.setenv("RETRAIN_MODE", "pipeline")
    monkeypatch.delenv("PIPELINE_NAME")
    with pytest.raises(retrain.ConfigError):
        retrain.handler(make_event("ALARM"), None)
    line = only(read_logs())
    assert line["decision"] == "failed"
    assert "PIPELINE_NAME" in line["reason"]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"RETRAIN_MODE": "sagemaker"}, "RETRAIN_MODE"),
        ({"COOLDOWN_SECONDS": "1h"}, "COOLDOWN_SECONDS"),
        ({"COOLDOWN_SECONDS": "0"}, "COOLDOWN_SECONDS"),
        ({"RETRAIN_MODE": "training_job", "TRAINING_JOB_TEMPLATE": "{"}, "not valid JSON"),
        ({"RETRAIN_MODE": "training_job", "TRAINING_JOB_TEMPLATE": "[]"}, "JSON object"),
        (
            {
                "RETRAIN_MODE": "training_job",
                "TRAINING_JOB_TEMPLATE": "{}",
                "TRAINING_JOB_PREFIX": "_",
            },
            "TRAINING_JOB_PREFIX",
        ),
    ],
)
def test_invalid_configuration_fails_loudly(
    env: dict[str, str],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    make_event: Event,
    read_logs: Logs,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(retrain.ConfigError, match=needle):
        retrain.handler(make_event("ALARM"), None)
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("failed", "error")
    assert needle in line["reason"]


@pytest.mark.usefixtures("training_env", "clock")
@pytest.mark.parametrize(
    ("role", "template_role", "needle"),
    [
        (None, None, "TRAINING_ROLE_ARN must be an IAM role ARN, got ''"),
        ("not-an-arn", None, "TRAINING_ROLE_ARN must be an IAM role ARN"),
        (TRAINING_ROLE, ACCOUNT_ROLE, "names a RoleArn other than TRAINING_ROLE_ARN"),
    ],
)
def test_training_jobs_run_only_as_the_training_role(  # noqa: PLR0917 - pytest arguments
    role: str | None,
    template_role: str | None,
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    sagemaker: Any,
    make_event: Event,
    read_logs: Logs,
) -> None:
    if role is None:
        monkeypatch.delenv("TRAINING_ROLE_ARN")
    else:
        monkeypatch.setenv("TRAINING_ROLE_ARN", role)
    if template_role is not None:
        template = {**TRAINING_JOB_TEMPLATE, "RoleArn": template_role}
        monkeypatch.setenv("TRAINING_JOB_TEMPLATE", json.dumps(template))
    with pytest.raises(retrain.ConfigError, match=needle):
        retrain.handler(make_event("ALARM"), None)
    assert only(read_logs())["decision"] == "failed"
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


@pytest.mark.usefixtures("clock")
def test_template_job_name_is_replaced(training_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    template = {**TRAINING_JOB_TEMPLATE, "TrainingJobName": "fixed"}
    monkeypatch.setenv("TRAINING_JOB_TEMPLATE", json.dumps(template))
    settings = retrain._load_settings()
    assert settings.job_template is not None
    assert "TrainingJobName" not in settings.job_template


@pytest.mark.usefixtures("clock")
def test_connection_error_is_raised_and_logged(make_event: Event, read_logs: Logs) -> None:
    client = boto3.client("sagemaker", region_name=REGION)
    retrain.set_client(client)

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://api.sagemaker.eu-west-1.amazonaws.com")

    client.meta.events.register("before-send.sagemaker.ListPipelineExecutions", refuse)
    with pytest.raises(EndpointConnectionError):
        retrain.handler(make_event("ALARM"), None)
    line = only(read_logs())
    assert line["decision"] == "failed"
    assert "EndpointConnectionError" in line["reason"]


# 6. Concurrency: same window -> same ClientRequestToken; later calls see the run and skip.
@pytest.mark.usefixtures("pipeline")
def test_concurrent_invocations_send_the_same_token(
    sagemaker: Any, clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    client = retrain._sagemaker()
    tokens = capture_params(client, "StartPipelineExecution")
    barrier = threading.Barrier(2, timeout=10)

    def both_listed(**_: Any) -> None:
        barrier.wait()  # both invocations pass the list check before either starts

    client.meta.events.register("after-call.sagemaker.ListPipelineExecutions", both_listed)
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(retrain.handler(make_event(), None)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    client.meta.events.unregister("after-call.sagemaker.ListPipelineExecutions", both_listed)

    assert [r["decision"] for r in results] == ["started", "started"]
    assert len(tokens) == 2
    token = tokens[0]["ClientRequestToken"]
    assert tokens[1]["ClientRequestToken"] == token
    assert 32 <= len(token) <= 128
    # Same request both times, so SageMaker's idempotency returns one execution. moto does not
    # implement ClientRequestToken dedup (it records two), so that part is asserted on the token.
    assert tokens[0] == tokens[1]

    clock.advance(60)
    late = retrain.handler(make_event(), None)
    assert late["decision"] == "duplicate"
    assert len(tokens) == 2


def test_token_is_deterministic_per_pipeline_and_window() -> None:
    token = retrain.request_token("p", 7)
    assert token == retrain.request_token("p", 7)
    assert 32 <= len(token) <= 128
    others = {retrain.request_token("p", 8), retrain.request_token("q", 7)}
    assert token not in others
    assert len(others) == 2


@pytest.mark.usefixtures("pipeline")
def test_different_alarms_in_one_window_send_the_same_token(
    clock: Clock, make_event: Event
) -> None:
    # Drift and quality alarms firing together: both pass the list check before either starts.
    client = retrain._sagemaker()
    starts = capture_params(client, "StartPipelineExecution")
    barrier = threading.Barrier(2, timeout=10)

    def both_listed(**_: Any) -> None:
        barrier.wait()

    client.meta.events.register("after-call.sagemaker.ListPipelineExecutions", both_listed)
    threads = [
        threading.Thread(target=retrain.handler, args=(make_event(name=name), None))
        for name in ("svc-Drift-Alarm", "svc-Quality-Accuracy")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    client.meta.events.unregister("after-call.sagemaker.ListPipelineExecutions", both_listed)

    assert len(starts) == 2
    alarms = {
        p["Value"] for s in starts for p in s["PipelineParameters"] if p["Name"] == "AlarmName"
    }
    assert alarms == {"svc-Drift-Alarm", "svc-Quality-Accuracy"}
    # moto does not deduplicate tokens: SageMaker's idempotency is asserted on the token.
    assert starts[0]["ClientRequestToken"] == starts[1]["ClientRequestToken"]
    window = int(clock.now.timestamp()) // COOLDOWN
    assert starts[0]["ClientRequestToken"] == retrain.request_token(PIPELINE_NAME, window)


def test_failed_start_is_a_duplicate_when_a_run_now_blocks(
    clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    # The concurrent invocation won: its run shows up when the function looks again.
    _, stubber = stubbed_client()
    arn = f"{PIPELINE_ARN}/execution/concurrent"
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
    stubber.add_client_error("start_pipeline_execution", service_error_code="ValidationException")
    stubber.add_response(
        "list_pipeline_executions",
        {
            "PipelineExecutionSummaries": [
                {
                    "PipelineExecutionArn": arn,
                    "PipelineExecutionStatus": "Executing",
                    "StartTime": clock.now,
                }
            ]
        },
    )

    result = retrain.handler(make_event("ALARM"), None)

    stubber.assert_no_pending_responses()
    assert (result["decision"], result["pipeline_execution_arn"]) == ("duplicate", arn)
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("duplicate", "info")
    assert "ValidationException" in line["reason"]


def test_token_changes_only_at_window_boundary(clock: Clock, make_event: Event) -> None:
    _, stubber = stubbed_client()
    window_start = (int(clock.now.timestamp()) // COOLDOWN) * COOLDOWN
    sent: list[str] = []
    for offset in (0, COOLDOWN - 1, COOLDOWN):
        clock.now = datetime.fromtimestamp(window_start + offset, UTC)
        stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
        stubber.add_response(
            "start_pipeline_execution",
            {"PipelineExecutionArn": f"{PIPELINE_ARN}/execution/{offset}"},
            {
                "PipelineName": PIPELINE_NAME,
                "PipelineExecutionDisplayName": ANY,
                "PipelineParameters": ANY,
                "PipelineExecutionDescription": ANY,
                "ClientRequestToken": ANY,
            },
        )
        sent.append(retrain.handler(make_event(), None)["client_request_token"])
    stubber.assert_no_pending_responses()
    assert sent[0] == sent[1] != sent[2]


# 7. Training-job mode.
@pytest.mark.usefixtures("training_env")
def test_training_job_mode_starts_one_job_then_duplicate(
    sagemaker: Any, clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    first = retrain.handler(make_event("ALARM"), None)

    assert first["decision"] == "started"
    name = first["training_job_name"]
    assert name.startswith(f"{JOB_PREFIX}-")
    assert NAME_RE.match(name)
    assert len(name) <= 63
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["RoleArn"] == TRAINING_ROLE  # the training role, never the hosting role
    assert (
        job["AlgorithmSpecification"]["TrainingImage"]
        == (TRAINING_JOB_TEMPLATE["AlgorithmSpecification"]["TrainingImage"])
    )
    assert job["OutputDataConfig"] == TRAINING_JOB_TEMPLATE["OutputDataConfig"]
    assert job["HyperParameters"] == {"epochs": "5"}

    clock.advance(COOLDOWN / 2)
    second = retrain.handler(make_event("ALARM"), None)
    assert second["decision"] == "duplicate"
    assert second["training_job_name"] == name
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 1

    clock.advance(COOLDOWN)
    third = retrain.handler(make_event("ALARM"), None)
    assert third["decision"] == "started"
    assert third["training_job_name"] != name
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 2
    assert [line["decision"] for line in read_logs()] == ["started", "duplicate", "started"]


@pytest.mark.usefixtures("training_env", "clock")
def test_training_job_ignores_other_prefixes(sagemaker: Any, make_event: Event) -> None:
    other = {
        **TRAINING_JOB_TEMPLATE,
        "RoleArn": ACCOUNT_ROLE,
        "TrainingJobName": f"other-{JOB_PREFIX}-1",
    }
    sagemaker.create_training_job(**other)
    assert retrain.handler(make_event("ALARM"), None)["decision"] == "started"


@pytest.mark.usefixtures("training_env", "clock")
def test_training_job_resource_in_use_is_duplicate(make_event: Event, read_logs: Logs) -> None:
    # moto silently overwrites a same-named job, so the concurrent-create race is stubbed.
    _, stubber = stubbed_client()
    stubber.add_response("list_training_jobs", {"TrainingJobSummaries": []})
    stubber.add_response("list_training_jobs", {"TrainingJobSummaries": []})
    stubber.add_client_error(
        "create_training_job",
        service_error_code="ResourceInUse",
        service_message="Training job names must be unique within an AWS account and region",
    )

    result = retrain.handler(make_event("ALARM"), None)

    assert result["decision"] == "duplicate"
    assert result["training_job_name"].startswith(f"{JOB_PREFIX}-")
    stubber.assert_no_pending_responses()
    line = only(read_logs())
    assert (line["decision"], line["level"]) == ("duplicate", "info")


@pytest.mark.usefixtures("training_env")
def test_training_job_in_progress_blocks(clock: Clock, make_event: Event) -> None:
    _, stubber = stubbed_client()
    stubber.add_response("list_training_jobs", {"TrainingJobSummaries": []})
    old = clock.now - timedelta(days=1)
    stubber.add_response(
        "list_training_jobs",
        {
            "TrainingJobSummaries": [
                {
                    "TrainingJobName": f"{JOB_PREFIX}-20260101000000",
                    "TrainingJobArn": "arn:aws:sagemaker:eu-west-1:1:training-job/x",
                    "CreationTime": old,
                    "TrainingJobStatus": "InProgress",
                }
            ]
        },
        {"NameContains": f"{JOB_PREFIX}-", "StatusEquals": "InProgress"},
    )
    result = retrain.handler(make_event("ALARM"), None)
    assert result["decision"] == "duplicate"
    assert "in progress" in result["reason"]
    stubber.assert_no_pending_responses()


@pytest.mark.usefixtures("training_env", "clock")
def test_training_job_other_error_fails(make_event: Event, read_logs: Logs) -> None:
    _, stubber = stubbed_client()
    stubber.add_response("list_training_jobs", {"TrainingJobSummaries": []})
    stubber.add_response("list_training_jobs", {"TrainingJobSummaries": []})
    stubber.add_client_error("create_training_job", service_error_code="ResourceLimitExceeded")
    with pytest.raises(ClientError):
        retrain.handler(make_event("ALARM"), None)
    assert only(read_logs())["error_code"] == "ResourceLimitExceeded"


@pytest.mark.usefixtures("training_env")
@pytest.mark.parametrize(
    "prefix", ["my_model.v2", "-" + "a" * 80 + "-", "Fraud Detector / retrain", "x"]
)
def test_job_name_always_valid(prefix: str, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("TRAINING_JOB_PREFIX", prefix)
    settings = retrain._load_settings()
    name = retrain.job_name(settings.job_prefix, clock.now)
    assert len(name) <= 63, name
    assert NAME_RE.match(name), name


# 8. Log lines are JSON in Embedded Metric Format.
@pytest.mark.usefixtures("sagemaker")
def test_log_lines_are_emf(
    monkeypatch: pytest.MonkeyPatch, pipeline: str, clock: Clock, make_event: Event, read_logs: Logs
) -> None:
    monkeypatch.setenv("METRICS_NAMESPACE", "Test/Retrain")
    retrain.handler(make_event("ALARM"), None)
    retrain.handler(make_event("ALARM"), None)
    retrain.handler(make_event("OK"), None)
    with pytest.raises(retrain.MalformedEventError):
        retrain.handler({"nope": 1}, None)

    lines = read_logs()
    assert [line["decision"] for line in lines] == ["started", "duplicate", "ignored", "rejected"]
    for line in lines:
        for field in ("level", "decision", "alarm_name", "endpoint_name", "mode", "reason"):
            assert field in line
        assert line["mode"] == "pipeline"
        assert line["endpoint_name"] == ENDPOINT_NAME
        meta = line["_aws"]
        assert meta["Timestamp"] == int(clock.now.timestamp() * 1000)
        (directive,) = meta["CloudWatchMetrics"]
        assert directive["Namespace"] == "Test/Retrain"
        assert directive["Dimensions"] == [["Decision"]]
        assert directive["Metrics"] == [{"Name": "RetrainDecision", "Unit": "Count"}]
        assert line["Decision"] == line["decision"]
        assert line["RetrainDecision"] == 1
    assert lines[0]["alarm_name"] == "mlops-endpoint-model-quality"
    assert lines[3]["alarm_name"] is None


@pytest.mark.usefixtures("sagemaker", "pipeline", "clock")
def test_default_namespace(make_event: Event, read_logs: Logs) -> None:
    retrain.handler(make_event("OK"), None)
    line = only(read_logs())
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MlopsCdk/Retraining"


@pytest.mark.usefixtures("sagemaker")
def test_client_is_created_lazily_and_cached() -> None:
    retrain.reset_client()
    assert retrain._clients == {}
    client = retrain._sagemaker()
    assert retrain._sagemaker() is client
    assert client.meta.region_name == REGION


@pytest.mark.usefixtures("pipeline", "clock")
def test_endpoint_parameter_omitted_when_unset(
    sagemaker: Any, monkeypatch: pytest.MonkeyPatch, make_event: Event
) -> None:
    monkeypatch.delenv("ENDPOINT_NAME")
    retrain.handler(make_event("ALARM"), None)
    (run,) = executions(sagemaker)
    assert set(parameters(sagemaker, run["PipelineExecutionArn"])) == {"AlarmName", "Reason"}


def test_request_id_is_logged(make_event: Event, read_logs: Logs) -> None:
    class Context:
        aws_request_id = "req-123"

    retrain.handler(make_event("OK"), Context())
    assert only(read_logs())["request_id"] == "req-123"
