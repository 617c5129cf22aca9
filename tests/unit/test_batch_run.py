"""make batch-run against moto's Step Functions: the state machine found by name, the input
passed (or the job's default), the job name and output location printed, --wait, bad input."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import boto3  # type: ignore[import-untyped, unused-ignore]
import pytest
from moto import mock_aws

from mlops_cdk.config import load_environments
from mlops_cdk.props.batch import MAX_JOB_NAME_PREFIX
from mlops_tools import batch_run
from tests.helpers import yaml_data, yaml_text

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
STAGE = load_environments(CONFIG_DIR, only="stage")[0]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": STAGE.region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "MOTO_ACCOUNT_ID": STAGE.account,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def machine() -> Iterator[str]:
    """The stage churn/nightly state machine (a trivial definition: moto does not run it)."""
    with mock_aws():
        client = boto3.client("stepfunctions", region_name=STAGE.region)
        created = client.create_state_machine(
            name="stage-churn-nightly",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
            roleArn=f"arn:aws:iam::{STAGE.account}:role/sfn",
        )
        yield str(created["stateMachineArn"])


def run(*extra: str) -> int:
    return batch_run.main(["--env", "stage", "--service", "churn", "--job", "nightly", *extra])


def test_starts_the_jobs_state_machine_and_says_where_output_lands(
    machine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert machine == batch_run.state_machine_arn(STAGE, "churn", "nightly")
    assert run("--name", "run-1", "--bucket", "artifacts") == 0
    out = capsys.readouterr().out.splitlines()
    execution = out[0].removeprefix("execution: ")
    assert execution.endswith(":stage-churn-nightly:run-1")
    assert (
        out[1] == f"transform job: {batch_run.transform_job_name('stage-churn-nightly', execution)}"
    )
    assert len(out[1].removeprefix("transform job: ")) <= 63
    assert out[2] == "input: batch/churn/nightly/input/"
    assert out[3] == "output: s3://artifacts/batch/churn/nightly/output/run-1/"
    sfn = boto3.client("stepfunctions", region_name=STAGE.region)
    described = sfn.describe_execution(executionArn=execution)
    assert json.loads(described["input"]) == {}  # the state machine's default input


def test_an_input_override_is_passed_to_the_execution(machine: str) -> None:
    assert run("--name", "run-2", "--input", "batch/churn/backfill/2026-11/", "--bucket", "b") == 0
    sfn = boto3.client("stepfunctions", region_name=STAGE.region)
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"input": "batch/churn/backfill/2026-11/"}


def test_without_a_bucket_the_key_prefix_is_printed(
    machine: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto's CloudFormation needs extras not installed here: the lookup is tested below.
    monkeypatch.setattr(batch_run, "bucket_name", lambda cloudformation, env: None)
    assert run("--name", "run-3") == 0
    assert (
        "output: batch/churn/nightly/output/run-3/ (environment bucket)" in capsys.readouterr().out
    )


def test_wait_reports_the_final_status(
    machine: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def failed(sfn: object, arn: str, timeout: int, sleep: object) -> dict[str, str]:
        seen.append(arn)
        return {
            "status": "FAILED",
            "error": "SageMaker.AmazonSageMakerException",
            "cause": "ClientError: model not found",
        }

    monkeypatch.setattr(batch_run, "wait_for", failed)
    assert run("--name", "run-4", "--bucket", "b", "--wait") == 1
    out = capsys.readouterr().out
    assert seen[0].endswith(":run-4")
    assert "status: FAILED" in out
    assert "model not found" in out


def test_wait_polls_until_the_run_leaves_running() -> None:
    answers = iter([{"status": "RUNNING"}, {"status": "RUNNING"}, {"status": "SUCCEEDED"}])
    sleeps: list[float] = []

    class Sfn:
        def describe_execution(self, executionArn: str) -> dict[str, str]:  # noqa: N803
            return next(answers)

    assert batch_run.wait_for(Sfn(), "arn", 3600, sleeps.append) == {"status": "SUCCEEDED"}
    assert sleeps == [batch_run.POLL_SECONDS, batch_run.POLL_SECONDS]


def test_a_missing_state_machine_is_a_failure_line(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert run("--name", "x", "--bucket", "b") == 1
    assert "FAIL StartExecution failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--input", "batch/fraud/nightly/input/"), "must be a key prefix under batch/churn/"),
        (("--input", "batch/churn/../fraud/"), "must be a key prefix under batch/churn/"),
        (("--input", "s3://b/batch/churn/x/"), "is a key prefix"),
    ],
)
def test_input_outside_the_service_prefix_is_refused(
    extra: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*extra) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "nope", "--service", "churn", "--job", "nightly"], "unknown environment"),
        (["--env", "stage", "--service", "nope", "--job", "nightly"], "unknown service 'nope'"),
        (["--env", "stage", "--service", "churn", "--job", "nope"], "no batch job 'nope'"),
        (["--env", "stage", "--service", "fraud", "--job", "nightly"], "(jobs: none)"),
    ],
)
def test_unknown_names_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert batch_run.main(argv) == 2
    assert message in capsys.readouterr().err


def test_the_bucket_comes_from_the_foundation_stack_output() -> None:
    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, object]:  # noqa: N803
            assert StackName == "stage-Foundation"
            outputs = [{"OutputKey": batch_run.BUCKET_OUTPUT, "OutputValue": "stage-artifacts"}]
            return {"Stacks": [{"Outputs": outputs}]}

    assert batch_run.bucket_name(CloudFormation(), "stage") == "stage-artifacts"


def test_smoke_skips_a_service_of_batch_jobs_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    from mlops_tools import smoke

    data = yaml_data((CONFIG_DIR / "stage.yaml").read_text())
    churn = data["services"]["churn"]
    data["services"] = {
        "scoring": {
            "models": [
                {**m, "model_data_key": m["model_data_key"].replace("/churn/", "/scoring/")}
                for m in churn["models"]
                if m["name"] == "churn-v1"
            ],
            "batch_jobs": churn["batch_jobs"],
        }
    }
    (tmp_path / "stage.yaml").write_text(yaml_text(data))
    assert smoke.main(["--env", "stage", "--config-dir", str(tmp_path)]) == 0
    assert "SKIP scoring: batch jobs only" in capsys.readouterr().out


# --- bad settings and options: one line, nothing started ---------------------------------------


def executions(machine: str) -> list[dict[str, object]]:
    sfn = boto3.client("stepfunctions", region_name=STAGE.region)
    return list(sfn.list_executions(stateMachineArn=machine)["executions"])


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ("AWS_ENDPOINT_URL=not-a-url", "ValueError: Invalid endpoint: not-a-url"),
        ("AWS_DEFAULTS_MODE=bogus", "InvalidDefaultsMode: Client configured with invalid"),
    ],
)
def test_a_malformed_aws_setting_is_one_line_as_smoke_says_it(
    setting: str,
    error: str,
    machine: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    variable, _, value = setting.partition("=")
    monkeypatch.setenv(variable, value)
    assert run("--name", "bad-setting", "--bucket", "b") == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"FAIL clients: Creating clients failed: {error}")
    assert len(captured.out.splitlines()) == 1
    assert captured.err == ""
    monkeypatch.delenv(variable)
    assert executions(machine) == []


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what the state machine hashes


def test_a_redriven_run_names_a_new_job_and_the_first_attempt_keeps_its_name() -> None:
    arn = f"arn:aws:states:{STAGE.region}:{STAGE.account}:execution:stage-churn-nightly:run-1"
    prefix = "stage-churn-nightly"
    first = batch_run.transform_job_name(prefix, arn)
    # The first attempt: the MD5 of the execution ARN, as before redrives were counted.
    assert first == batch_run.transform_job_name(prefix, arn, 0) == f"{prefix}-{md5(arn)}"
    # A redrive keeps the ARN; its job is named after "<ARN>:<redrive count>".
    redriven = [batch_run.transform_job_name(prefix, arn, n) for n in (1, 2)]
    assert redriven == [f"{prefix}-{md5(f'{arn}:1')}", f"{prefix}-{md5(f'{arn}:2')}"]
    assert len({first, *redriven}) == 3
    # CreateTransformJob TransformJobName: 1-63 characters of this pattern (botocore).
    pattern = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
    longest = "p" * MAX_JOB_NAME_PREFIX
    for n in (0, 1, 12):
        name = batch_run.transform_job_name(longest, arn, n)
        assert len(name) == 63
        assert pattern.fullmatch(name)


def test_the_state_machine_arn_is_in_the_regions_partition() -> None:
    china = STAGE.model_copy(update={"region": "cn-north-1"})
    assert batch_run.state_machine_arn(china, "churn", "nightly") == (
        f"arn:aws-cn:states:cn-north-1:{STAGE.account}:stateMachine:stage-churn-nightly"
    )
    assert batch_run.state_machine_arn(STAGE, "churn", "nightly").startswith("arn:aws:states:")


@pytest.mark.parametrize("option", ["--role-arn", "--name", "--bucket"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_option_is_a_usage_error(
    option: str, value: str, machine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = {"--name": ["--bucket", "b"], "--bucket": ["--name", "n"]}.get(option, [])
    assert run(*extra, option, value) == 2
    captured = capsys.readouterr()
    assert f"error: argument {option}: must not be empty" in captured.err
    assert captured.out == ""
    assert executions(machine) == []


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "soon"])
def test_a_bad_timeout_is_a_usage_error_before_anything_starts(
    value: str, machine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--name", "t", "--bucket", "b", "--wait", "--timeout-seconds", value) == 2
    captured = capsys.readouterr()
    assert f"error: argument --timeout-seconds: {value!r} " in captured.err
    assert captured.out == ""
    assert executions(machine) == []


@pytest.mark.parametrize("status", ["FAILED", "ABORTED", "TIMED_OUT"])
def test_a_run_that_ends_without_error_or_cause_says_its_status_and_execution(
    status: str, machine: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(batch_run, "wait_for", lambda *_: {"status": status})
    assert run("--name", "run-5", "--bucket", "b", "--wait") == 1
    out = capsys.readouterr().out.splitlines()
    execution = out[0].removeprefix("execution: ")
    assert out[-1] == (
        f"FAIL execution {execution} ended {status} with no error or cause reported; its "
        f"events: aws stepfunctions get-execution-history --execution-arn {execution}"
    )
