"""Fixtures for the retraining Lambda tests (moto-backed SageMaker, injectable clock)."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import retrain
from moto import mock_aws

REGION = "eu-west-1"
ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
# The service's training role (not the hosting role): the function sets it as RoleArn.
TRAINING_ROLE = "arn:aws:iam::123456789012:role/mlops/dev/churn-training"
PIPELINE_NAME = "mlops-retrain-pipeline"
ENDPOINT_NAME = "mlops-endpoint"
JOB_PREFIX = "mlops-retrain"
COOLDOWN = 3600
EVENT_FILE = (
    Path(__file__).resolve().parents[2]
    / "mlops_cdk"
    / "functions"
    / "retrain"
    / "events"
    / "alarm.json"
)

PIPELINE_DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [
        {"Name": "AlarmName", "Type": "String", "DefaultValue": ""},
        {"Name": "EndpointName", "Type": "String", "DefaultValue": ""},
        {"Name": "Reason", "Type": "String", "DefaultValue": ""},
    ],
    "Steps": [],
}

TRAINING_JOB_TEMPLATE: dict[str, Any] = {
    "AlgorithmSpecification": {
        "TrainingImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:latest",
        "TrainingInputMode": "File",
    },
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://mlops-data/train/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://mlops-artifacts/models/"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "HyperParameters": {"epochs": "5"},
}


@pytest.fixture(scope="session")
def scipy_stats() -> ModuleType:
    """``scipy.stats``, the reference implementation the statistics tests compare against.

    It costs about 0.9 s of CPU to import, so it is imported by the first test that asks, not at
    collection by every xdist worker; such tests are marked ``xdist_group("scipy")`` so that one
    worker imports it."""
    return importlib.import_module("scipy.stats")


class Clock:
    """Mutable clock patched into retrain._now. Starts at real time because moto stamps
    executions and jobs with the real wall clock."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials/region, default function config, fresh client cache."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("RETRAIN_MODE", "pipeline")
    monkeypatch.setenv("PIPELINE_NAME", PIPELINE_NAME)
    monkeypatch.setenv("ENDPOINT_NAME", ENDPOINT_NAME)
    monkeypatch.setenv("COOLDOWN_SECONDS", str(COOLDOWN))
    monkeypatch.delenv("METRICS_NAMESPACE", raising=False)
    monkeypatch.delenv("TRAINING_JOB_TEMPLATE", raising=False)
    monkeypatch.delenv("TRAINING_ROLE_ARN", raising=False)
    monkeypatch.delenv("TRAINING_JOB_PREFIX", raising=False)
    retrain.reset_client()
    yield
    retrain.reset_client()


@pytest.fixture
def training_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch the function to training_job mode."""
    monkeypatch.setenv("RETRAIN_MODE", "training_job")
    monkeypatch.delenv("PIPELINE_NAME", raising=False)
    monkeypatch.setenv("TRAINING_JOB_TEMPLATE", json.dumps(TRAINING_JOB_TEMPLATE))
    monkeypatch.setenv("TRAINING_ROLE_ARN", TRAINING_ROLE)
    monkeypatch.setenv("TRAINING_JOB_PREFIX", JOB_PREFIX)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Injectable clock for cooldown windows."""
    fake = Clock()
    monkeypatch.setattr(retrain, "_now", fake)
    return fake


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    """A moto-backed SageMaker client (the handler creates its own client inside the mock)."""
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def pipeline(sagemaker: Any) -> str:
    """Create the retraining pipeline in moto."""
    sagemaker.create_pipeline(
        PipelineName=PIPELINE_NAME,
        PipelineDefinition=json.dumps(PIPELINE_DEFINITION),
        RoleArn=ACCOUNT_ROLE,
    )
    return PIPELINE_NAME


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """Build an alarm event from the sample file with a given state/name/reason."""
    base = json.loads(EVENT_FILE.read_text())

    def _make(
        state: str = "ALARM", name: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(base)
        event["alarmData"]["state"]["value"] = state
        if name is not None:
            event["alarmData"]["alarmName"] = name
        if reason is not None:
            event["alarmData"]["state"]["reason"] = reason
        return event

    return _make


@pytest.fixture
def read_logs(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """Return the JSON log lines printed since the last call (every line must be JSON)."""

    def _read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    return _read
