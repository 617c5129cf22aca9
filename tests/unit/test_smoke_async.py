"""The smoke test's asynchronous check against moto: moto 5.2.5 implements InvokeEndpointAsync
(it writes the queued result, or failure, to an S3 object of its own), so only the "never
finishes" case needs a botocore Stubber (for that one call)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.config.endpoint import SmokeTestConfig
from mlops_tools import smoke

REGION = "eu-west-1"
BUCKET = "dev-artifacts"
INPUT = f"s3://{BUCKET}/async/documents/input/"
SMOKE = SmokeTestConfig(content_type="application/json", accept="application/json", body="{}")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield boto3.client("sagemaker-runtime", region_name=REGION), s3


def queue_results(*results: dict[str, Any]) -> None:
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/async-endpoint-results",
        json={"region": REGION, "results": list(results)},
        timeout=5,
    )


def settings(s3: Any, location: str | None = INPUT, timeout: float = 60) -> smoke.AsyncSmoke:
    return smoke.AsyncSmoke(s3=s3, input_location=location, timeout_seconds=timeout)


def test_output_object_passes_with_its_location(aws: tuple[Any, Any]) -> None:
    runtime, s3 = aws
    queue_results({"data": '{"score": 0.9}'})
    result = smoke.check_async_invocation(runtime, "dev-documents", SMOKE, settings(s3))
    assert result.passed, result.detail
    assert result.detail.startswith("output at s3://")
    uploaded = s3.list_objects_v2(Bucket=BUCKET, Prefix="async/documents/input/smoke-")
    assert uploaded["KeyCount"] == 1  # the payload went to the service's input prefix


def test_failure_object_fails_with_its_location_and_content(aws: tuple[Any, Any]) -> None:
    runtime, s3 = aws
    queue_results({"is_failure": True, "data": "model raised ValueError"})
    result = smoke.check_async_invocation(runtime, "dev-documents", SMOKE, settings(s3))
    assert not result.passed
    assert result.detail.startswith("failure at s3://")
    assert result.detail.endswith(": model raised ValueError")


def test_no_result_within_the_timeout_fails(aws: tuple[Any, Any]) -> None:
    runtime, s3 = aws
    stubber = Stubber(runtime)
    stubber.add_response(
        "invoke_endpoint_async",
        {
            "InferenceId": "x",
            "OutputLocation": f"s3://{BUCKET}/async/documents/output/x.out",
            "FailureLocation": f"s3://{BUCKET}/async/documents/failures/x-error.out",
        },
    )
    slept: list[float] = []
    with stubber:
        result = smoke.check_async_invocation(
            runtime, "dev-documents", SMOKE, settings(s3, timeout=30), sleep=slept.append
        )
    assert not result.passed
    assert result.detail == (
        "no output or failure object within 30 s "
        f"(output expected at s3://{BUCKET}/async/documents/output/x.out)"
    )
    assert slept == [smoke.POLL_SECONDS, smoke.POLL_SECONDS]


def test_missing_input_location_names_the_stack_output(aws: tuple[Any, Any]) -> None:
    runtime, s3 = aws
    result = smoke.check_async_invocation(runtime, "ep", SMOKE, settings(s3, location=None))
    assert not result.passed
    assert "AsyncInputLocation" in result.detail


def test_upload_refused_is_one_line(aws: tuple[Any, Any]) -> None:
    runtime, s3 = aws
    result = smoke.check_async_invocation(
        runtime, "ep", SMOKE, settings(s3, location="s3://no-such-bucket/async/x/input/")
    )
    assert not result.passed
    assert result.detail.startswith("PutObject failed: NoSuchBucket")
