"""The post-deployment smoke test (mlops_tools.smoke) against moto-backed SageMaker and STS.

moto's CloudFormation needs an extra (openapi-spec-validator) this project does not install, so
DescribeStacks is answered per stack name by a ``before-call`` handler (:class:`Stacks`) with
AWS's shapes and messages; DescribeEndpoint fields moto does not produce (FailureReason after a
rollback, LastDeploymentConfig, PendingDeploymentSummary) come from a botocore Stubber. Every
test reads its own config dir (``stage.yaml`` with two services, written under tmp_path), never
the committed environments."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from mlops_cdk.aws.names import endpoint_name_for
from mlops_cdk.config import EnvConfig, load_environments
from mlops_cdk.config.endpoint import SmokeTestConfig
from mlops_tools import smoke
from tests.helpers import yaml_text

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ENDPOINT = "stage-churn"
FRAUD_ENDPOINT = "stage-fraud"
ROLE_ARN = "arn:aws:iam::222222222222:role/mlops-smoke/stage-churn-smoke"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1.0.0"
HTTP_200 = {"ResponseMetadata": {"HTTPStatusCode": 200}}
MOTO_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"
CHURN_BODY = "42,1,0,129.5,3"
FRAUD_BODY = '{"amount": 129.5}'


def instance(instance_type: str = "ml.m5.large") -> dict[str, Any]:
    return {"instance_type": instance_type, "initial_instance_count": 1}


def stage_data() -> dict[str, Any]:
    """A small environment ``stage`` with two services: churn (champion 80 / challenger 20)
    and fraud (one variant)."""
    return {
        "account": "222222222222",
        "region": REGION,
        "removal_policy": "destroy",
        "log_retention_days": 14,
        "network": {"new_vpc": {"cidr": "10.20.0.0/16"}},
        "publishers": ["arn:aws:iam::222222222222:role/publisher"],
        "services": {
            "churn": {
                "models": [
                    {
                        "name": "churn-v1",
                        "image_tag": "1.0.0",
                        "model_data_key": "models/churn/1.0.0/model.tar.gz",
                    },
                    {
                        "name": "churn-v2",
                        "image_tag": "1.1.0",
                        "model_data_key": "models/churn/1.1.0/model.tar.gz",
                    },
                ],
                "variants": [
                    {
                        "name": "champion",
                        "model": "churn-v1",
                        "initial_weight": 80,
                        "instance": instance(),
                    },
                    {
                        "name": "challenger",
                        "model": "churn-v2",
                        "initial_weight": 20,
                        "instance": instance(),
                    },
                ],
                "smoke_test": {
                    "content_type": "text/csv",
                    "accept": "application/json",
                    "body": CHURN_BODY,
                },
            },
            "fraud": {
                "models": [
                    {
                        "name": "fraud-v3",
                        "image_tag": "3.0.0",
                        "model_data_key": "models/fraud/3.0.0/model.tar.gz",
                    }
                ],
                "variants": [
                    {
                        "name": "primary",
                        "model": "fraud-v3",
                        "initial_weight": 1,
                        "instance": instance("ml.c5.xlarge"),
                    }
                ],
                "smoke_test": {"content_type": "application/json", "body": FRAUD_BODY},
            },
        },
    }


def write_config(tmp_path: Path, mutate: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A config dir holding :func:`stage_data`'s stage.yaml, changed by ``mutate(data)``."""
    data = stage_data()
    if mutate is not None:
        mutate(data)
    config_dir = tmp_path / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "stage.yaml").write_text(yaml_text(data))
    return config_dir


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; nothing from the developer's own AWS setup leaks in."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def stage(config_dir: Path) -> EnvConfig:
    [config] = load_environments(config_dir, only="stage")
    return config


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _default_outputs() -> dict[str, dict[str, str] | None]:
    """Each service stack's output: the endpoint config :func:`deploy` creates."""
    return {
        ENDPOINT: {"EndpointConfigName": f"{ENDPOINT}-config"},
        FRAUD_ENDPOINT: {"EndpointConfigName": f"{FRAUD_ENDPOINT}-config"},
    }


@dataclass
class Stacks:
    """DescribeStacks' answers on the next run: each stack's outputs (a stack missing here or
    None does not exist), its status and status reason; ``described`` records each StackName,
    ``denied`` ones get AccessDenied."""

    outputs: dict[str, dict[str, str] | None] = field(default_factory=_default_outputs)
    status: str = "UPDATE_COMPLETE"
    reason: str | None = None
    denied: set[str] = field(default_factory=set)
    described: list[str] = field(default_factory=list)

    def describe_stacks(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        """A ``before-call`` handler answering for the requested StackName."""
        name = params["body"]["StackName"]
        self.described.append(name)
        if name in self.denied:
            message = (
                "User: arn:aws:sts::222222222222:assumed-role/stage-churn-smoke/s is not "
                f"authorized to perform: cloudformation:DescribeStacks on resource: {name}"
            )
            error = {"Error": {"Code": "AccessDenied", "Message": message}}
            return AWSResponse("", 403, {}, None), {**error, "ResponseMetadata": {}}
        outputs = self.outputs.get(name)
        if outputs is None:
            error = {
                "Error": {
                    "Code": "ValidationError",
                    "Message": f"Stack with id {name} does not exist",
                }
            }
            return AWSResponse("", 400, {}, None), {**error, "ResponseMetadata": {}}
        described: dict[str, Any] = {
            "StackName": name,
            "StackId": f"arn:aws:cloudformation:{REGION}:222222222222:stack/{name}/0c7a6cd0",
            "CreationTime": datetime.now(UTC),
            "StackStatus": self.status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        }
        if self.reason:
            described["StackStatusReason"] = self.reason
        return AWSResponse("", 200, {}, None), {
            "Stacks": [described],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


@pytest.fixture(autouse=True)
def stacks(monkeypatch: pytest.MonkeyPatch) -> Stacks:
    """Answers DescribeStacks on the CloudFormation client ``main`` makes (SageMaker, the
    runtime and STS stay moto-backed)."""
    answers = Stacks()
    real = smoke._clients

    def clients(args: Any, env: str, region: str) -> Any:
        made = real(args, env, region)
        if made is not None:
            made[2].meta.events.register_first(
                "before-call.cloudformation.DescribeStacks", answers.describe_stacks
            )
        return made

    monkeypatch.setattr(smoke, "_clients", clients)
    return answers


def deployed_line(service: str = "churn", endpoint: str = ENDPOINT) -> str:
    return (
        f"PASS {service} deployed-config: endpoint {endpoint} runs {endpoint}-config, deployed "
        f"by stack {endpoint} (UPDATE_COMPLETE)"
    )


@cache
def _setup_sagemaker() -> Any:
    """One default-session SageMaker client for the tests' own setup calls: moto resets its
    backends per test (``aws``), so the client kept across tests sees a fresh account each
    time, and building a SageMaker client (about 0.01 s) was a large part of a test's setup."""
    return boto3.client("sagemaker", region_name=REGION)


def deploy(
    variants: Sequence[tuple[str, float]], name: str = ENDPOINT, session: Any = None
) -> None:
    """A model, an endpoint config with these (variant, weight) pairs and an endpoint in moto
    (in the account of ``session``'s credentials; by default moto's default account)."""
    client = session.client("sagemaker", region_name=REGION) if session else _setup_sagemaker()
    client.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn=EXECUTION_ROLE,
        PrimaryContainer={"Image": IMAGE},
    )
    client.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, weight in variants
        ],
    )
    client.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


@pytest.fixture
def endpoint(aws: None) -> str:
    deploy([("champion", 80), ("challenger", 20)])
    return ENDPOINT


@pytest.fixture
def both_endpoints(endpoint: str) -> None:
    deploy([("primary", 1)], FRAUD_ENDPOINT)


def queue_result(body: str, content_type: str = "application/json") -> None:
    """The next InvokeEndpoint answer moto's sagemaker-runtime gives."""
    result = {
        "Body": body,
        "ContentType": content_type,
        "InvokedProductionVariant": "champion",
        "CustomAttributes": "",
    }
    response = requests.post(MOTO_RESULTS, json={"region": REGION, "results": [result]}, timeout=5)
    assert response.status_code == 201


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds})")


def run_in(config_dir: Path, *args: str) -> int:
    return smoke.main(["--env", "stage", "--config-dir", str(config_dir), *args], sleep=no_sleep)


@pytest.fixture
def run_main(config_dir: Path) -> Callable[..., int]:
    """``smoke.main`` for the churn service of the tmp config (extra arguments appended)."""

    def run(*args: str) -> int:
        return run_in(config_dir, "--service", "churn", *args)

    return run


def result_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL ", "WARN "))]


def describe_response(status: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{ENDPOINT}",
        "EndpointStatus": status,
        "CreationTime": now,
        "LastModifiedTime": now,
        **extra,
    }


def stubbed_sagemaker(*statuses: str, **extra: Any) -> tuple[Any, Stubber]:
    client = boto3.client("sagemaker", region_name=REGION)
    stubber = Stubber(client)
    for status in statuses:
        stubber.add_response(
            "describe_endpoint", describe_response(status, **extra), {"EndpointName": ENDPOINT}
        )
    stubber.activate()
    return client, stubber


# --- the configuration the tests rely on ---------------------------------------------------


def test_test_config_is_what_the_tests_assume(stage: EnvConfig) -> None:
    assert stage.region == REGION
    assert list(stage.services) == ["churn", "fraud"]
    # the endpoint the service stack <env>-<service> creates
    assert endpoint_name_for(stage.endpoint_name("churn")) == ENDPOINT
    assert endpoint_name_for(stage.endpoint_name("fraud")) == FRAUD_ENDPOINT
    churn = stage.services["churn"]
    assert {v.name: v.initial_weight for v in churn.variants} == {
        "champion": 80,
        "challenger": 20,
    }
    assert churn.smoke_test is not None
    assert stage.services["fraud"].smoke_test is not None


# --- one service (--service) ----------------------------------------------------------------


@pytest.mark.usefixtures("endpoint")
def test_one_service_all_checks_pass(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    queue_result('{"churn_probability": 0.12}')
    assert run_main() == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == (
        f"smoke test of endpoint {ENDPOINT} (env stage, service churn, region {REGION})"
    )
    lines = result_lines(captured.out)
    assert [line.split(":")[0] for line in lines] == [
        "PASS churn in-service",
        "PASS churn deployed-config",
        "PASS churn weights",
        "PASS churn invocation",
    ]
    assert f"{ENDPOINT} is InService" in lines[0]
    assert lines[1] == deployed_line()
    assert "champion 0.800" in lines[2]
    assert "challenger 0.200" in lines[2]
    assert '{"churn_probability": 0.12}' in lines[3]
    assert "passed" not in captured.out.splitlines()[-1]  # no summary line for one service
    assert captured.err == ""


@pytest.mark.usefixtures("aws")
def test_one_service_tests_only_its_endpoint(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("primary", 1)], FRAUD_ENDPOINT)  # churn's endpoint does not exist
    assert run_main() == 1
    out = capsys.readouterr().out
    lines = result_lines(out)
    assert len(lines) == 1
    assert lines[0].startswith(
        "FAIL churn in-service: DescribeEndpoint failed: ValidationException"
    )
    assert ENDPOINT in lines[0]
    assert FRAUD_ENDPOINT not in out


@pytest.mark.usefixtures("aws")
def test_weights_differ(run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    deploy([("champion", 50), ("challenger", 50)])
    assert run_main() == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[0].startswith("PASS churn in-service")
    assert lines[1] == deployed_line()
    assert lines[2].startswith("FAIL churn weights")
    assert "champion 0.500 (config 0.800)" in lines[2]
    assert "challenger 0.500 (config 0.200)" in lines[2]
    assert lines[3].startswith("PASS churn invocation")  # a weight mismatch does not skip check 4


@pytest.mark.usefixtures("aws")
def test_same_shares_with_scaled_weights_pass(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("champion", 4), ("challenger", 1)])
    assert run_main() == 0
    assert "PASS churn weights" in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        pytest.param(
            [("champion", 80), ("challenger", 20), ("shadow", 1)],
            "not in config: shadow",
            id="extra",
        ),
        pytest.param([("champion", 100)], "missing on endpoint: challenger", id="missing"),
    ],
)
def test_variant_set_differs(
    variants: list[tuple[str, float]],
    expected: str,
    run_main: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy(variants)
    assert run_main() == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[2].startswith("FAIL churn weights: variant names differ")
    assert expected in lines[2]


@pytest.mark.usefixtures("aws")
def test_endpoint_name_overrides_the_services_endpoint(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("champion", 80), ("challenger", 20)], "stage-churn-blue")
    assert run_main("--endpoint-name", "stage-churn-blue") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("smoke test of endpoint stage-churn-blue (")
    assert "PASS churn in-service: endpoint stage-churn-blue is InService" in out
    # the service stack deployed another endpoint: nothing to compare without --stack-name
    assert (
        "WARN churn deployed-config: not checked: endpoint stage-churn-blue (--endpoint-name) "
        "belongs to no known stack; give --stack-name" in out
    )


@pytest.mark.usefixtures("aws")
def test_stack_name_names_the_stack_of_an_endpoint(
    run_main: Callable[..., int], stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("champion", 80), ("challenger", 20)], "stage-churn-blue")
    stacks.outputs["blue-stack"] = {"EndpointConfigName": "stage-churn-blue-config"}
    args = ("--endpoint-name", "stage-churn-blue", "--stack-name", "blue-stack")
    assert run_main(*args) == 0
    assert stacks.described == ["blue-stack"]
    assert (
        "PASS churn deployed-config: endpoint stage-churn-blue runs stage-churn-blue-config, "
        "deployed by stack blue-stack (UPDATE_COMPLETE)" in capsys.readouterr().out
    )


@pytest.mark.usefixtures("endpoint")
def test_endpoint_not_found_is_one_line(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("--endpoint-name", "no-such-endpoint") == 1
    captured = capsys.readouterr()
    lines = result_lines(captured.out)
    assert len(lines) == 1
    assert lines[0].startswith(
        "FAIL churn in-service: DescribeEndpoint failed: ValidationException"
    )
    assert "no-such-endpoint" in lines[0]
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.usefixtures("endpoint")
def test_failed_endpoint_stops_after_check_one(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    moto_endpoint = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].endpoints[ENDPOINT]
    moto_endpoint.endpoint_status = "Failed"
    moto_endpoint.failure_reason = "Image not found"
    assert run_main() == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines == [f"FAIL churn in-service: endpoint {ENDPOINT} is Failed: Image not found"]


# --- every service (no --service) ------------------------------------------------------------


@pytest.mark.usefixtures("both_endpoints")
def test_all_services_in_turn(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[bytes] = []
    real_invocation = smoke.check_invocation

    def invocation(runtime: Any, name: str, sample: Any, service: Any = None) -> Any:
        runtime.meta.events.register(
            "before-call.sagemaker-runtime.InvokeEndpoint",
            lambda params, **_: sent.append(params["body"]),
            unique_id="record-body",
        )
        return real_invocation(runtime, name, sample, service)

    queue_result('{"churn_probability": 0.12}')
    queue_result('{"fraud_score": 0.01}')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smoke, "check_invocation", invocation)
        assert run_in(config_dir) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "smoke test of 2 services of stage: churn, fraud",
        f"smoke test of endpoint {ENDPOINT} (env stage, service churn, region {REGION})",
        f"PASS churn in-service: endpoint {ENDPOINT} is InService",
        deployed_line(),
        "PASS churn weights: traffic shares match config: champion 0.800, challenger 0.200",
        "PASS churn invocation: HTTP 200, 27 bytes (application/json, variant champion): "
        '{"churn_probability": 0.12}',
        f"smoke test of endpoint {FRAUD_ENDPOINT} (env stage, service fraud, region {REGION})",
        f"PASS fraud in-service: endpoint {FRAUD_ENDPOINT} is InService",
        deployed_line("fraud", FRAUD_ENDPOINT),
        "PASS fraud weights: traffic shares match config: primary 1.000",
        "PASS fraud invocation: HTTP 200, 21 bytes (application/json, variant champion): "
        '{"fraud_score": 0.01}',
        "2 of 2 services passed",
    ]
    # each service's own sample request
    assert sent == [CHURN_BODY.encode(), FRAUD_BODY.encode()]
    assert captured.err == ""


@pytest.mark.usefixtures("aws")
def test_all_services_go_on_after_a_failure_and_fail(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("primary", 1)], FRAUD_ENDPOINT)  # churn's endpoint is missing
    assert run_in(config_dir) == 1
    out = capsys.readouterr().out
    lines = result_lines(out)
    assert lines[0].startswith("FAIL churn in-service: DescribeEndpoint failed")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "PASS fraud in-service",
        "PASS fraud deployed-config",
        "PASS fraud weights",
        "PASS fraud invocation",
    ]
    assert out.splitlines()[-1] == "1 of 2 services passed; failed: churn"


@pytest.mark.usefixtures("both_endpoints")
def test_all_services_fail_when_one_check_fails(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moto_endpoint = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].endpoints[FRAUD_ENDPOINT]
    moto_endpoint.endpoint_status = "OutOfService"
    assert run_in(config_dir) == 1
    out = capsys.readouterr().out
    assert f"FAIL fraud in-service: endpoint {FRAUD_ENDPOINT} is OutOfService" in out
    assert out.splitlines()[-1] == "1 of 2 services passed; failed: fraud"


@pytest.mark.usefixtures("no_credentials")
def test_all_services_share_one_session(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_in(config_dir, "--role-arn", ROLE_ARN) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["smoke test of 2 services of stage: churn, fraud"]
    assert captured.err.splitlines() == [smoke.NO_CREDENTIALS_HINT]  # once, not per service


# --- credentials and unexpected errors ---------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_are_one_hint_line(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main() == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == []  # no check ran
    assert captured.err.splitlines() == [smoke.NO_CREDENTIALS_HINT]
    assert smoke.NO_CREDENTIALS_HINT.startswith("no AWS credentials found: nothing was checked")


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_for_assume_role(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("--role-arn", ROLE_ARN) == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == []
    assert captured.err.splitlines() == [smoke.NO_CREDENTIALS_HINT]


@pytest.mark.usefixtures("no_credentials")
def test_rejected_credentials_setting_is_one_line(
    run_main: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # botocore raises a plain ValueError for a container-credentials URI it will not call
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds")
    assert run_main() == 1
    captured = capsys.readouterr()
    lines = result_lines(captured.out)
    assert len(lines) == 1
    assert lines[0].startswith("FAIL session: Session failed: ValueError: ")
    assert captured.err == ""


@pytest.mark.usefixtures("endpoint")
def test_unexpected_error_in_a_check_is_one_line(
    run_main: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*_: Any) -> smoke.CheckResult:
        raise KeyError("ProductionVariants")

    monkeypatch.setattr(smoke, "check_weights", broken)
    assert run_main() == 1
    captured = capsys.readouterr()
    assert result_lines(captured.out) == [
        f"PASS churn in-service: endpoint {ENDPOINT} is InService",
        deployed_line(),
        "FAIL churn weights: unexpected error: KeyError: 'ProductionVariants'",
    ]
    assert captured.err == ""


@pytest.mark.usefixtures("aws")
def test_missing_smoke_test_fails_check_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy([("champion", 80), ("challenger", 20)])
    config_dir = write_config(tmp_path, lambda data: data["services"]["churn"].pop("smoke_test"))
    assert run_in(config_dir, "--service", "churn") == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[0].startswith("PASS churn in-service")
    assert lines[1].startswith("PASS churn deployed-config")
    assert lines[2].startswith("PASS churn weights")
    assert lines[3].startswith("FAIL churn invocation")
    assert "add services.churn.smoke_test" in lines[3]


# --- bad input: exit 2, no traceback; nothing to test: exit 0 -----------------------------------


def test_unknown_env(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--env", "nope", "--config-dir", str(config_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["unknown environment 'nope'; known environments: stage"]
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.slow  # a subprocess
def test_unknown_env_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops_tools.smoke", "--env", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("unknown")]
    assert len(errors) == 1
    assert errors[0].startswith("unknown environment 'nope'; known environments: ")
    assert "Traceback" not in done.stderr


def test_invalid_config_lists_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, lambda data: data.update(region="mars-north-1"))
    assert run_in(config_dir) == 2
    err = capsys.readouterr().err
    assert "region" in err
    assert "mars-north-1" in err
    assert "Traceback" not in err


def test_unknown_service_names_the_known_ones(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no moto: any AWS call would fail differently
    assert run_in(config_dir, "--service", "churm") == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "unknown service 'churm' in environment 'stage'; known services: churn, fraud"
    ]
    assert captured.out == ""


def test_env_without_services_has_nothing_to_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = write_config(tmp_path, lambda data: data.pop("services"))
    assert run_in(config_dir) == 0  # no moto and no stub: an AWS call would fail the run
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "environment 'stage' has no services: no endpoint to smoke-test"
    ]
    assert captured.err == ""
    assert run_in(config_dir, "--service", "churn") == 2
    assert capsys.readouterr().err.splitlines() == [
        "unknown service 'churn' in environment 'stage'; environment 'stage' has no services"
    ]


def test_endpoint_name_needs_a_service(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_in(config_dir, "--endpoint-name", ENDPOINT) == 2
    captured = capsys.readouterr()
    assert "usage: python -m mlops_tools.smoke" in captured.err
    assert (
        "error: --endpoint-name is only valid with --service (it names one service's endpoint)"
        in captured.err
    )
    assert captured.out == ""


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_bad_timeout_is_a_usage_error(
    value: str, run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("--timeout-seconds", value) == 2
    assert "--timeout-seconds" in capsys.readouterr().err


@pytest.mark.usefixtures("endpoint")
@pytest.mark.parametrize("value", ["nan", "inf", "Infinity", "NaN"])
def test_a_timeout_that_is_not_finite_is_a_usage_error(
    value: str, run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    # nan: ``waited >= nan`` is never true, so the wait for a Creating endpoint never ended
    assert run_main("--timeout-seconds", value) == 2
    captured = capsys.readouterr()
    assert (
        f"error: argument --timeout-seconds: {value!r} must be a finite number >= 0" in captured.err
    )
    assert captured.out == ""


@pytest.mark.usefixtures("endpoint")
@pytest.mark.parametrize(
    "option", ["--role-arn", "--endpoint-name", "--stack-name", "--region", "--service"]
)
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_option_is_a_usage_error(
    option: str, value: str, run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the default: an empty --role-arn ran as the caller's own identity, an empty
    --endpoint-name, --stack-name or --region tested the default one."""
    assert run_main(option, value) == 2
    captured = capsys.readouterr()
    assert f"error: argument {option}: must not be empty" in captured.err
    assert captured.out == ""


def test_help_lists_the_service_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--service SERVICE" in out
    assert "--endpoint-name ENDPOINT_NAME" in out


# --- --role-arn ----------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_role_arn_is_assumed_and_its_credentials_used(
    run_main: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # moto keeps one backend per account and maps assumed-role credentials to the role's
    # account: the endpoint exists only in the environment's account (222222222222).
    setup = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn="arn:aws:iam::222222222222:role/deployer", RoleSessionName="setup"
    )["Credentials"]
    deploy(
        [("champion", 80), ("challenger", 20)],
        session=boto3.Session(
            aws_access_key_id=setup["AccessKeyId"],
            aws_secret_access_key=setup["SecretAccessKey"],
            aws_session_token=setup["SessionToken"],
            region_name=REGION,
        ),
    )
    assert run_main() == 1  # the caller's own account has no such endpoint
    assert "Could not find endpoint" in capsys.readouterr().out

    calls: list[dict[str, Any]] = []
    assumed: list[str] = []
    used: list[str] = []
    real_assume, real_run = smoke.assume_role, smoke.run_checks

    def assume(sts: Any, role_arn: str, env: str, region: str) -> Any:
        sts.meta.events.register(
            "before-call.sts.AssumeRole", lambda params, **_: calls.append(params["body"])
        )
        session = real_assume(sts, role_arn, env, region)
        assumed.append(session.get_credentials().access_key)
        return session

    def run(sagemaker: Any, runtime: Any, name: str, **kwargs: Any) -> Any:
        for client in (sagemaker, runtime):
            used.append(client._request_signer._credentials.access_key)
        return real_run(sagemaker, runtime, name, **kwargs)

    monkeypatch.setattr(smoke, "assume_role", assume)
    monkeypatch.setattr(smoke, "run_checks", run)
    assert run_main("--role-arn", ROLE_ARN) == 0
    assert len(calls) == 1
    assert calls[0]["RoleArn"] == ROLE_ARN
    assert calls[0]["RoleSessionName"] == "mlops-smoke-stage"
    assert len(assumed) == 1
    assert assumed[0] != "testing"
    assert used == [assumed[0], assumed[0]]
    assert f"as {ROLE_ARN}" in capsys.readouterr().out


@pytest.mark.usefixtures("endpoint")
def test_role_arn_failure_is_one_line(
    run_main: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main("--role-arn", "bad") == 1
    lines = result_lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert lines[0].startswith("FAIL assume-role: AssumeRole failed: ParamValidationError")


# --- check 1: status and polling (statuses moto does not produce, via Stubber) --------------


def test_polls_while_creating_then_passes() -> None:
    client, stubber = stubbed_sagemaker("Creating", "Creating", "InService")
    slept: list[float] = []
    result = smoke.check_in_service(client, ENDPOINT, 60, slept.append)
    assert result.passed
    assert slept == [15, 15]
    assert "after waiting 30 s" in result.detail
    stubber.assert_no_pending_responses()


def test_gives_up_at_the_timeout() -> None:
    client, stubber = stubbed_sagemaker("Updating", "Updating", "Updating")
    slept: list[float] = []
    result = smoke.check_in_service(client, ENDPOINT, 20, slept.append)
    assert not result.passed
    assert result.stop
    assert slept == [15, 5]
    assert result.detail == f"endpoint {ENDPOINT} is still Updating after 20 s"
    stubber.assert_no_pending_responses()


def test_does_not_wait_without_a_timeout() -> None:
    client, _ = stubbed_sagemaker("SystemUpdating")
    result = smoke.check_in_service(client, ENDPOINT, 0, no_sleep)
    assert not result.passed
    assert "is SystemUpdating (use --timeout-seconds N to wait for it)" in result.detail


@pytest.mark.parametrize("status", ["Failed", "OutOfService", "RollingBack"])
def test_bad_status_fails_at_once(status: str) -> None:
    client, _ = stubbed_sagemaker(status, FailureReason="CannotStartContainerError: boom")
    result = smoke.check_in_service(client, ENDPOINT, 600, no_sleep)
    assert not result.passed
    assert result.stop
    assert result.line() == (
        f"FAIL in-service: endpoint {ENDPOINT} is {status}: CannotStartContainerError: boom"
    )


def test_bad_status_without_a_reason() -> None:
    client, _ = stubbed_sagemaker("OutOfService")
    result = smoke.check_in_service(client, ENDPOINT, 0, no_sleep)
    assert result.detail == f"endpoint {ENDPOINT} is OutOfService"


# --- check 2: weights ------------------------------------------------------------------------


def test_desired_weight_is_used_when_current_weight_is_absent() -> None:
    variants = [
        {"VariantName": "champion", "DesiredWeight": 3.0},
        {"VariantName": "challenger", "DesiredWeight": 1.0},
    ]
    client, _ = stubbed_sagemaker("InService", "InService", ProductionVariants=variants)
    assert smoke.check_weights(client, ENDPOINT, {"champion": 75, "challenger": 25}).passed
    result = smoke.check_weights(client, ENDPOINT, {"champion": 80, "challenger": 20})
    assert not result.passed
    assert "champion 0.750 (config 0.800)" in result.detail


def test_current_weight_wins_over_desired_weight() -> None:
    variants = [
        {"VariantName": "champion", "CurrentWeight": 1.0, "DesiredWeight": 8.0},
        {"VariantName": "challenger", "CurrentWeight": 1.0, "DesiredWeight": 2.0},
    ]
    client, _ = stubbed_sagemaker("InService", ProductionVariants=variants)
    result = smoke.check_weights(client, ENDPOINT, {"champion": 80, "challenger": 20})
    assert not result.passed
    assert "champion 0.500 (config 0.800)" in result.detail


def test_within_tolerance_passes() -> None:
    variants = [
        {"VariantName": "champion", "CurrentWeight": 0.8005},
        {"VariantName": "challenger", "CurrentWeight": 0.1995},
    ]
    client, _ = stubbed_sagemaker("InService", ProductionVariants=variants)
    assert smoke.check_weights(client, ENDPOINT, {"champion": 80, "challenger": 20}).passed


def test_variant_without_weight_fails() -> None:
    variants = [{"VariantName": "champion"}, {"VariantName": "challenger", "CurrentWeight": 1.0}]
    client, _ = stubbed_sagemaker("InService", ProductionVariants=variants)
    result = smoke.check_weights(client, ENDPOINT, {"champion": 80, "challenger": 20})
    assert not result.passed
    assert result.detail == "no weight reported for champion"


# --- check 3: invocation ---------------------------------------------------------------------


@pytest.mark.usefixtures("endpoint")
def test_invocation_sends_the_configured_request(stage: EnvConfig) -> None:
    sample = stage.services["churn"].smoke_test
    assert sample is not None
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    sent: list[dict[str, Any]] = []
    runtime.meta.events.register(
        "before-call.sagemaker-runtime.InvokeEndpoint", lambda params, **_: sent.append(params)
    )
    queue_result("x" * 500)
    result = smoke.check_invocation(runtime, ENDPOINT, sample)
    assert result.passed
    assert len(sent) == 1
    assert sent[0]["headers"]["Content-Type"] == "text/csv"
    assert sent[0]["headers"]["Accept"] == "application/json"
    assert sent[0]["body"] == b"42,1,0,129.5,3"
    assert sent[0]["url_path"] == f"/endpoints/{ENDPOINT}/invocations"
    assert result.detail.endswith(": " + "x" * 200 + "...")  # first 200 characters only
    assert "HTTP 200, 500 bytes" in result.detail


def test_model_error_fails_check_three() -> None:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(runtime) as stubber:
        stubber.add_client_error(
            "invoke_endpoint",
            service_error_code="ModelError",
            service_message="Received client error (400) from primary with message bad row",
            http_status_code=424,
            modeled_fields={"OriginalStatusCode": 400},
        )
        result = smoke.check_invocation(
            runtime, ENDPOINT, SmokeTestConfig(content_type="text/csv", body="1,2")
        )
    assert not result.passed
    assert result.line() == (
        "FAIL invocation: InvokeEndpoint failed: ModelError: Received client error (400) from "
        "primary with message bad row (model returned HTTP 400)"
    )


def test_empty_body_fails_check_three() -> None:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(b""), 0), "ContentType": "x", **HTTP_200},
        )
        result = smoke.check_invocation(runtime, ENDPOINT, SmokeTestConfig(body="1"))
    assert not result.passed
    assert result.detail == "InvokeEndpoint returned HTTP 200 with an empty body"


def test_multiline_body_is_shown_on_one_line() -> None:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(b"a\nb"), 3), "ContentType": "x", **HTTP_200},
        )
        result = smoke.check_invocation(runtime, ENDPOINT, SmokeTestConfig(body="1"))
    assert result.passed
    assert "\n" not in result.line()
    assert result.detail.endswith(": a\\nb")


def test_no_smoke_test_fails_without_calling_aws() -> None:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(runtime):  # any call would raise: no responses are queued
        result = smoke.check_invocation(runtime, ENDPOINT, None)
    assert not result.passed
    assert "add services.<service>.smoke_test" in result.detail
    named = smoke.check_invocation(runtime, ENDPOINT, None, "fraud")
    assert "add services.fraud.smoke_test (content_type, accept, body)" in named.detail


def test_non_200_status_fails_check_three() -> None:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {
                "Body": StreamingBody(io.BytesIO(b"accepted"), 8),
                "ResponseMetadata": {"HTTPStatusCode": 202},
            },
        )
        result = smoke.check_invocation(runtime, ENDPOINT, SmokeTestConfig(body="1"))
    assert not result.passed
    assert result.detail == "InvokeEndpoint returned HTTP 202"


# --- check 2: the deployed endpoint configuration ----------------------------------------------


@pytest.mark.usefixtures("endpoint")
def test_rolled_back_update_fails_although_in_service_with_the_right_weights(
    run_main: Callable[..., int], stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    # the stack deployed a new configuration; SageMaker rolled the endpoint back to the old one
    stacks.outputs[ENDPOINT] = {"EndpointConfigName": f"{ENDPOINT}-config-v2"}
    queue_result('{"churn_probability": 0.12}')
    assert run_main() == 1
    lines = result_lines(capsys.readouterr().out)
    assert [line.split(":")[0] for line in lines] == [
        "PASS churn in-service",
        "FAIL churn deployed-config",
        "PASS churn weights",  # the old configuration has the configured weights
        "PASS churn invocation",
    ]
    assert lines[1] == (
        f"FAIL churn deployed-config: endpoint {ENDPOINT} runs endpoint configuration "
        f"{ENDPOINT}-config, not {ENDPOINT}-config-v2 that stack {ENDPOINT} (UPDATE_COMPLETE) "
        "deployed: the update did not take effect (rolled back?); FailureReason: none reported; "
        "no last deployment reported; endpoint InService"
    )
    assert stacks.described == [ENDPOINT]


def stubbed_cloudformation(stacks: Stacks) -> Any:
    client = boto3.client("cloudformation", region_name=REGION)
    client.meta.events.register_first(
        "before-call.cloudformation.DescribeStacks", stacks.describe_stacks
    )
    return client


BLUE_GREEN = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600}
    },
    "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "stage-churn-latency"}, {"AlarmName": "stage-churn-5xx"}]
    },
}


def test_rollback_reports_the_failure_reason_and_last_deployment() -> None:
    stacks = Stacks(outputs={ENDPOINT: {"EndpointConfigName": "cfg-new"}})
    sagemaker, stubber = stubbed_sagemaker(
        "InService",
        EndpointConfigName="cfg-old",
        FailureReason="Auto-rollback alarm stage-churn-latency\nfired during baking",
        LastDeploymentConfig=BLUE_GREEN,
    )
    result = smoke.check_deployed_config(
        stubbed_cloudformation(stacks), sagemaker, ENDPOINT, ENDPOINT
    )
    assert not result.passed
    assert not result.stop  # weights and invocation still run
    assert result.line() == (
        f"FAIL deployed-config: endpoint {ENDPOINT} runs endpoint configuration cfg-old, not "
        f"cfg-new that stack {ENDPOINT} (UPDATE_COMPLETE) deployed: the update did not take "
        "effect (rolled back?); FailureReason: Auto-rollback alarm stage-churn-latency\\nfired "
        "during baking; last deployment blue/green CANARY, auto-rollback alarms "
        "stage-churn-latency, stage-churn-5xx; endpoint InService"
    )
    stubber.assert_no_pending_responses()


def test_pending_deployment_is_named_with_its_variant_statuses() -> None:
    description = describe_response(
        "InService",
        EndpointConfigName="cfg-old",
        PendingDeploymentSummary={
            "EndpointConfigName": "cfg-new",
            "ProductionVariants": [
                {"VariantName": "champion", "VariantStatus": [{"Status": "Baking"}]},
                {"VariantName": "challenger"},
            ],
        },
        LastDeploymentConfig={"RollingUpdatePolicy": {}},
    )
    assert smoke.last_deployment(description) == (
        "deployment of cfg-new pending (champion Baking, challenger unknown)"
    )
    del description["PendingDeploymentSummary"]
    assert smoke.last_deployment(description) == "last deployment rolling"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("UPDATE_ROLLBACK_COMPLETE", "Resource handler returned message: Endpoint update failed"),
        ("UPDATE_IN_PROGRESS", None),
    ],
)
def test_stack_whose_last_operation_did_not_complete_fails(status: str, reason: str | None) -> None:
    # CloudFormation rolled the stack back: its output names the old configuration again
    stacks = Stacks(outputs={ENDPOINT: {"EndpointConfigName": "cfg-old"}}, status=status)
    stacks.reason = reason
    sagemaker, _ = stubbed_sagemaker("InService", EndpointConfigName="cfg-old")
    result = smoke.check_deployed_config(
        stubbed_cloudformation(stacks), sagemaker, ENDPOINT, ENDPOINT
    )
    assert not result.passed
    why = f" ({reason})" if reason else ""
    assert result.detail == (
        f"stack {ENDPOINT} is {status}{why}: its last operation did not complete; endpoint "
        f"{ENDPOINT} runs cfg-old, FailureReason: none reported"
    )


def test_matching_configuration_passes() -> None:
    stacks = Stacks(outputs={ENDPOINT: {"EndpointConfigName": "cfg-new"}}, status="CREATE_COMPLETE")
    sagemaker, _ = stubbed_sagemaker("InService", EndpointConfigName="cfg-new")
    result = smoke.check_deployed_config(
        stubbed_cloudformation(stacks), sagemaker, ENDPOINT, ENDPOINT
    )
    assert result.line() == (
        f"PASS deployed-config: endpoint {ENDPOINT} runs cfg-new, deployed by stack {ENDPOINT} "
        "(CREATE_COMPLETE)"
    )


@pytest.mark.usefixtures("endpoint")
def test_stack_without_the_output_is_a_warning(
    run_main: Callable[..., int], stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks.outputs[ENDPOINT] = {"SmokeTestRoleArn": "arn:aws:iam::222222222222:role/x"}
    queue_result("{}")
    assert run_main() == 0  # an older stack: nothing to compare with, not a failure
    lines = result_lines(capsys.readouterr().out)
    assert lines[1] == (
        f"WARN churn deployed-config: stack {ENDPOINT} (UPDATE_COMPLETE) has no output "
        "EndpointConfigName (deployed before it existed): cannot tell which endpoint "
        "configuration it deployed; the next deploy adds it"
    )


@pytest.mark.usefixtures("endpoint")
def test_missing_stack_is_a_warning(
    run_main: Callable[..., int], stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks.outputs.clear()
    queue_result("{}")
    assert run_main() == 0
    lines = result_lines(capsys.readouterr().out)
    assert lines[1].startswith(
        f"WARN churn deployed-config: stack {ENDPOINT} does not exist: cannot tell which "
        "endpoint configuration was deployed"
    )


@pytest.mark.usefixtures("endpoint")
def test_describe_stacks_denied_fails(
    run_main: Callable[..., int], stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks.denied.add(ENDPOINT)
    queue_result("{}")
    assert run_main() == 1
    lines = result_lines(capsys.readouterr().out)
    assert lines[1].startswith(
        "FAIL churn deployed-config: DescribeStacks failed: AccessDenied: User: "
    )
    assert len(lines) == 4  # not a stop: weights and invocation still ran


def test_warning_lines_pass() -> None:
    warning = smoke.CheckResult("x", True, "not checked", warning=True)
    assert warning.line() == "WARN x: not checked"
    assert smoke.CheckResult("x", False, "d", warning=True).line() == "FAIL x: d"


def test_stack_name_needs_a_service(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_in(config_dir, "--stack-name", "stage-churn") == 2
    assert (
        "error: --stack-name is only valid with --service (it names one service's stack)"
        in capsys.readouterr().err
    )


@pytest.mark.slow  # a subprocess
def test_finds_the_repository_config_from_any_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops_tools.smoke", "--env", "nope"],
        cwd=tmp_path,  # not the repository root
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("unknown")]
    assert len(errors) == 1
    known = errors[0].removeprefix("unknown environment 'nope'; known environments: ")
    committed = {path.stem for path in (ROOT / "config").glob("*.yaml")} - {"pipeline"}
    assert set(known.split(", ")) == committed  # the repository's config/, not the cwd's
    assert smoke.DEFAULT_CONFIG_DIR == ROOT / "config"
