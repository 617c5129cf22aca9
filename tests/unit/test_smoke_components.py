"""The smoke test of a service hosting its models as inference components: one invocation per
component, each naming it (``InferenceComponentName`` = ``<endpoint>-<component>``).

moto 5.2.5's sagemaker-runtime accepts InvokeEndpoint with ``InferenceComponentName`` (it
passes the header through without knowing components): the passing invocations run against
moto, and the request's header is read with a ``before-send`` hook. moto never answers "no
capacity", so a component scaled to zero copies is a botocore Stubber answering AWS's
``ValidationError`` (its message as the AWS Machine Learning blog quotes it, "Unlock cost savings
with the new scale down to zero feature in SageMaker Inference"). moto's SageMaker cannot create
an endpoint configuration without a ModelName (the fleet variant has none): the endpoint for
``main`` is a moto endpoint of one ``AllTraffic`` variant, which DescribeEndpoint reports alike;
DescribeStacks is answered by a ``before-call`` handler, as in test_smoke.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.config import load_environments
from mlops_cdk.config.endpoint import SmokeTestConfig
from mlops_tools import smoke
from tests.helpers import yaml_text

REGION = "eu-west-1"
ENDPOINT = "dev-ranking"
BODY = '{"user_id": "smoke-test"}'
SAMPLE = SmokeTestConfig(content_type="application/json", accept="application/json", body=BODY)
MOTO_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be "
    "in-progress (if configured) or try to increase the capacity by invoking "
    "UpdateInferenceComponentRuntimeConfig API."
)
COMPONENT_HEADER = "X-Amzn-SageMaker-Inference-Component"


def ranking_data() -> dict[str, Any]:
    """Environment ``dev`` with one service, ranking: two models as components on a shared
    fleet that scales to zero."""
    component = {"cpu_cores": 1, "memory_mb": 2048, "autoscaling": {"max_copies": 2}}
    return {
        "account": "111111111111",
        "region": REGION,
        "removal_policy": "destroy",
        "log_retention_days": 14,
        "network": {"new_vpc": {"cidr": "10.20.0.0/16"}},
        "publishers": ["arn:aws:iam::111111111111:role/publisher"],
        "monitoring": {"alarm_emails": ["ml-alerts@example.com"]},  # components alarm
        "services": {
            "ranking": {
                "models": [
                    {
                        "name": name,
                        "image_tag": "1.0.0",
                        "model_data_key": f"models/ranking/1.0.0/{name}.tar.gz",
                    }
                    for name in ("ranking-v1", "reranker-v1")
                ],
                "inference_components": {
                    "fleet": {
                        "instance_type": "ml.m5.xlarge",
                        "initial_instance_count": 1,
                        "managed_scaling": {"min_instance_count": 0, "max_instance_count": 2},
                    },
                    "components": [
                        {"name": "ranker", "model": "ranking-v1", **component},
                        {"name": "reranker", "model": "reranker-v1", **component},
                    ],
                },
                "smoke_test": {"content_type": "application/json", "body": BODY},
            }
        },
    }


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def runtime_client() -> Any:
    return boto3.client("sagemaker-runtime", region_name=REGION)


def record_components(client: Any) -> list[str | None]:
    """The InferenceComponentName header of each request ``client`` sends."""
    sent: list[str | None] = []
    client.meta.events.register(
        "before-send.sagemaker-runtime.InvokeEndpoint",
        lambda request, **_: sent.append(_header(request)),
    )
    return sent


def _header(request: Any) -> str | None:
    value = request.headers.get(COMPONENT_HEADER)
    return value.decode() if isinstance(value, bytes) else value


def queue_result(body: str) -> None:
    result = {"Body": body, "ContentType": "application/json", "InvokedProductionVariant": ""}
    response = requests.post(MOTO_RESULTS, json={"region": REGION, "results": [result]}, timeout=5)
    assert response.status_code == 201


def no_capacity(stub: Stubber, component: str) -> None:
    stub.add_client_error(
        "invoke_endpoint",
        service_error_code="ValidationError",
        service_message=NO_CAPACITY,
        http_status_code=400,
        expected_params={
            "EndpointName": ENDPOINT,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": BODY.encode(),
            "InferenceComponentName": component,
        },
    )


def answer(stub: Stubber, component: str) -> None:
    stub.add_response(
        "invoke_endpoint",
        {
            "Body": StreamingBody(io.BytesIO(b'{"scores": [1]}'), 15),
            "ContentType": "application/json",
            "ResponseMetadata": {"HTTPStatusCode": 200},
        },
        {
            "EndpointName": ENDPOINT,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": BODY.encode(),
            "InferenceComponentName": component,
        },
    )


@pytest.mark.usefixtures("aws")
def test_component_invocation_names_the_component_and_passes() -> None:
    runtime = runtime_client()
    sent = record_components(runtime)
    queue_result('{"scores": [0.9, 0.1]}')
    result = smoke.check_component_invocation(
        runtime, ENDPOINT, ("ranker", "dev-ranking-ranker"), SAMPLE
    )
    assert sent == ["dev-ranking-ranker"]
    assert result.line().startswith(
        "PASS invocation ranker: HTTP 200, 22 bytes (application/json, component "
        'dev-ranking-ranker): {"scores"'
    )


def test_a_component_without_copies_is_a_warning_that_says_why() -> None:
    runtime = runtime_client()
    with Stubber(runtime) as stub:
        no_capacity(stub, "dev-ranking-reranker")
        result = smoke.check_component_invocation(
            runtime, ENDPOINT, ("reranker", "dev-ranking-reranker"), SAMPLE
        )
        stub.assert_no_pending_responses()
    assert result.passed
    assert result.warning
    assert result.line() == (
        "WARN invocation reranker: dev-ranking-reranker: no copies: scaled to zero; the wake-up "
        "policy adds one, retry in a few minutes"
    )


def test_with_a_timeout_the_component_is_invoked_again_until_a_copy_answers() -> None:
    runtime = runtime_client()
    slept: list[float] = []
    with Stubber(runtime) as stub:
        no_capacity(stub, "dev-ranking-ranker")
        no_capacity(stub, "dev-ranking-ranker")
        answer(stub, "dev-ranking-ranker")
        result = smoke.check_component_invocation(
            runtime,
            ENDPOINT,
            ("ranker", "dev-ranking-ranker"),
            SAMPLE,
            timeout_seconds=600,
            sleep=slept.append,
        )
        stub.assert_no_pending_responses()
    assert result.passed, result.line()
    assert not result.warning
    assert slept == [smoke.POLL_SECONDS, smoke.POLL_SECONDS]


def test_the_retries_are_bounded_by_the_timeout_and_a_component_still_cold_fails() -> None:
    runtime = runtime_client()
    slept: list[float] = []
    with Stubber(runtime) as stub:
        for _ in range(3):
            no_capacity(stub, "dev-ranking-ranker")
        result = smoke.check_component_invocation(
            runtime,
            ENDPOINT,
            ("ranker", "dev-ranking-ranker"),
            SAMPLE,
            timeout_seconds=20,
            sleep=slept.append,
        )
        stub.assert_no_pending_responses()
    assert slept == [15, 5]
    assert not result.passed  # waited as asked: the release never answered
    assert not result.warning
    assert result.line().startswith(
        "FAIL invocation ranker: dev-ranking-ranker: still no copies after 20 s of requests"
    )
    assert "the component did not wake" in result.line()


def test_another_validation_error_is_a_failure() -> None:
    runtime = runtime_client()
    with Stubber(runtime) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationError",
            service_message="Inference component dev-ranking-ranker not found.",
            http_status_code=400,
        )
        result = smoke.check_component_invocation(
            runtime, ENDPOINT, ("ranker", "dev-ranking-ranker"), SAMPLE
        )
    assert not result.passed
    assert result.line() == (
        "FAIL invocation ranker: InvokeEndpoint failed: ValidationError: Inference component "
        "dev-ranking-ranker not found."
    )


def test_the_component_names_are_the_stacks(tmp_path: Path) -> None:
    """<endpoint>-<component>, as InferenceComponentEndpoint names them."""
    config_dir = write_config(tmp_path)
    [config] = load_environments(config_dir, only="dev")
    assert smoke.components_of(config, "ranking", ENDPOINT) == [
        ("ranker", "dev-ranking-ranker"),
        ("reranker", "dev-ranking-reranker"),
    ]


def write_config(tmp_path: Path) -> Path:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.yaml").write_text(yaml_text(ranking_data()))
    return config_dir


def describe_stacks(
    params: dict[str, Any], topic: str | None = None, **_: Any
) -> tuple[AWSResponse, Any]:
    """The service stack: its endpoint configuration, and ``topic`` as its alarm topic."""
    name = params["body"]["StackName"]
    outputs = [{"OutputKey": "EndpointConfigName", "OutputValue": f"{name}-config"}]
    if topic is not None:
        outputs.append({"OutputKey": "AlarmTopicArn", "OutputValue": topic})
    return AWSResponse("", 200, {}, None), {
        "Stacks": [
            {
                "StackName": name,
                "CreationTime": datetime.now(UTC),
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": outputs,
            }
        ],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def deploy_fleet() -> None:
    """An endpoint ``dev-ranking`` whose one variant is ``AllTraffic`` (moto needs a model)."""
    client = boto3.client("sagemaker", region_name=REGION)
    client.create_model(
        ModelName="placeholder",
        ExecutionRoleArn="arn:aws:iam::111111111111:role/execution",
        PrimaryContainer={"Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/r:1.0.0"},
    )
    client.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "placeholder",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
    )
    client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-config")


@pytest.mark.usefixtures("aws")
def test_main_invokes_each_component_and_checks_no_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_fleet()
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="dev-ranking-alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-alerts@example.com")
    recorded: list[str | None] = []
    real = smoke._clients

    def clients(args: Any, env: str, region: str) -> Any:
        made = real(args, env, region)
        assert made is not None
        made[2].meta.events.register_first(
            "before-call.cloudformation.DescribeStacks", partial(describe_stacks, topic=topic)
        )
        made[1].meta.events.register(
            "before-send.sagemaker-runtime.InvokeEndpoint",
            lambda request, **_: recorded.append(_header(request)),
        )
        return made

    monkeypatch.setattr(smoke, "_clients", clients)
    queue_result('{"scores": [1]}')
    code = smoke.main(["--env", "dev", "--config-dir", str(write_config(tmp_path))])
    lines = capsys.readouterr().out.splitlines()
    assert code == smoke.EXIT_OK, lines
    assert [line.split(":")[0] for line in lines] == [
        "smoke test of 1 service of dev",
        "smoke test of endpoint dev-ranking (env dev, service ranking, region eu-west-1)",
        "PASS ranking in-service",
        "PASS ranking deployed-config",
        "PASS ranking invocation ranker",
        "PASS ranking invocation reranker",
        "PASS ranking alarm-subscriptions",  # moto confirms e-mail subscriptions at once
        "1 of 1 service passed",
    ]
    assert recorded == ["dev-ranking-ranker", "dev-ranking-reranker"]
    assert not any(line.startswith("SKIP") for line in lines)
