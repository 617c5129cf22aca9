"""The smoke test of a direct-invocation endpoint names its container (TargetContainerHostname);
without ``target_container`` the request carries none."""

from __future__ import annotations

import io

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

from mlops_cdk.config.endpoint import SmokeTestConfig
from mlops_tools import smoke


def invoke(sample: SmokeTestConfig, expected: dict[str, object]) -> smoke.CheckResult:
    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a stub needs no credentials
    )
    with Stubber(runtime) as stub:
        stub.add_response(
            "invoke_endpoint",
            {
                "Body": StreamingBody(io.BytesIO(b"0.9"), 3),
                "ContentType": "text/csv",
                "ResponseMetadata": {"HTTPStatusCode": 200},
            },
            {
                "EndpointName": "dev-churn",
                "ContentType": sample.content_type,
                "Accept": sample.accept,
                "Body": sample.body.encode(),
                **expected,
            },
        )
        return smoke.check_invocation(runtime, "dev-churn", sample)


def test_direct_invocation_targets_the_configured_container() -> None:
    result = invoke(
        SmokeTestConfig(body="1,2", target_container="rank"), {"TargetContainerHostname": "rank"}
    )
    assert result.passed
    assert "container rank" in result.line()


def test_without_target_container_no_hostname_is_sent() -> None:
    result = invoke(SmokeTestConfig(body="1,2"), {})
    assert result.passed
    assert "container" not in result.line()
