"""make pipeline-check: the pipeline's notification rule is enabled with an ACTIVE target, and
each of pipeline.yaml's alarm_emails is a confirmed subscription of its topic (stubbed clients:
moto has no CodeStar Notifications)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber

from mlops_cdk.config import load_environments, load_pipeline
from mlops_tools import pipeline_check
from tests.helpers import CONFIG_DIR, stubbed_client

REGION = "eu-west-1"
RULE = "arn:aws:codestar-notifications:eu-west-1:999999999999:notificationrule/abc"
TOPIC = "arn:aws:sns:eu-west-1:999999999999:MlopsPipeline-NotificationTopic"
PIPELINE = load_pipeline(CONFIG_DIR, load_environments(CONFIG_DIR))


def stack_outputs(**outputs: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "MlopsPipeline",
                "StackStatus": "UPDATE_COMPLETE",
                "CreationTime": "2026-12-01T00:00:00Z",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def clients(
    rule: dict[str, Any] | Exception | None,
    subscribed: list[tuple[str, str]],
    outputs: dict[str, str] | None = None,
) -> tuple[Any, Any, Any]:
    """CloudFormation (the stack, read once for both checks: a second DescribeStacks finds no
    answer left in the stub and fails), CodeStar Notifications answering
    ``rule`` (None: not called) and SNS listing ``subscribed`` (address, subscription ARN)."""
    if outputs is None:
        outputs = {"NotificationRuleArn": RULE, "NotificationTopicArn": TOPIC}
    cloudformation = stubbed_client("cloudformation", REGION)
    stub = Stubber(cloudformation)
    stub.add_response("describe_stacks", stack_outputs(**outputs))
    stub.activate()
    notifications = stubbed_client("codestar-notifications", REGION)
    stub = Stubber(notifications)
    if isinstance(rule, Exception):
        stub.add_client_error("describe_notification_rule", "AccessDeniedException", str(rule))
    elif rule is not None:
        stub.add_response("describe_notification_rule", {"Arn": RULE, **rule}, {"Arn": RULE})
    stub.activate()
    sns = stubbed_client("sns", REGION)
    stub = Stubber(sns)
    if "NotificationTopicArn" in outputs:
        subscriptions = [
            {"Endpoint": address, "Protocol": "email", "SubscriptionArn": arn, "TopicArn": TOPIC}
            for address, arn in subscribed
        ]
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": subscriptions})
    stub.activate()
    return cloudformation, notifications, sns


def target(status: str) -> dict[str, Any]:
    return {
        "Status": "ENABLED",
        "Targets": [{"TargetAddress": TOPIC, "TargetType": "SNS", "TargetStatus": status}],
    }


def confirmed() -> list[tuple[str, str]]:
    assert PIPELINE is not None
    return [(address, f"{TOPIC}:{i}") for i, address in enumerate(PIPELINE.alarm_emails)]


def lines(*aws: Any) -> list[str]:
    assert PIPELINE is not None
    return [r.line() for r in pipeline_check.run(PIPELINE, *aws)]


def test_an_active_target_and_confirmed_addresses_pass() -> None:
    found = lines(*clients(target("ACTIVE"), confirmed()))
    assert found == [
        f"PASS pipeline-notifications: rule {RULE} is ENABLED: {TOPIC} ACTIVE",
        f"PASS pipeline-subscriptions: {len(confirmed())} confirmed e-mail subscription(s) on "
        f"{TOPIC}",
    ]


@pytest.mark.parametrize("status", ["UNREACHABLE", "INACTIVE", "DEACTIVATED"])
def test_a_target_codestar_cannot_publish_to_fails(status: str) -> None:
    (line, _) = lines(*clients(target(status), confirmed()))
    assert line == (
        f"FAIL pipeline-notifications: rule {RULE}: {TOPIC} {status}: failures and approvals "
        "reach nobody (check the topic's and its key's policies: CodeStar Notifications must "
        "be allowed to publish)"
    )


def test_a_pending_target_warns_and_a_disabled_rule_fails() -> None:
    (pending, _) = lines(*clients(target("PENDING"), confirmed()))
    assert pending.startswith("WARN pipeline-notifications: ")
    disabled = {"Status": "DISABLED", "Targets": []}
    (line, _) = lines(*clients(disabled, confirmed()))
    assert line == (
        f"FAIL pipeline-notifications: rule {RULE} is DISABLED: failures and approvals are not sent"
    )


def test_an_unconfirmed_address_is_reported() -> None:
    pending = [(address, "PendingConfirmation") for address, _ in confirmed()]
    (_, line) = lines(*clients(target("ACTIVE"), pending))
    assert line.startswith("WARN pipeline-subscriptions: ")
    assert "not confirmed" in line


def test_a_stack_without_the_outputs_warns_and_a_refusal_fails() -> None:
    (rule, topic) = lines(*clients(None, [], outputs={}))
    assert rule == (
        "WARN pipeline-notifications: not checked: stack MlopsPipeline has no output "
        "NotificationRuleArn"
    )
    assert topic.startswith("WARN pipeline-subscriptions: not checked: stack MlopsPipeline ")
    (line, _) = lines(*clients(RuntimeError("no"), confirmed()))
    assert line == (
        "FAIL pipeline-notifications: DescribeNotificationRule failed: AccessDeniedException: no"
    )


def test_main_reads_the_pipeline_config_and_exits_1_on_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = dict(
        zip(
            ("cloudformation", "codestar-notifications", "sns"),
            clients(target("UNREACHABLE"), confirmed()),
            strict=True,
        )
    )
    session = SimpleNamespace(client=lambda name, **_: aws[name])
    monkeypatch.setattr(pipeline_check, "open_session", lambda *_: session)
    assert pipeline_check.main(["--config-dir", str(CONFIG_DIR)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pipeline check of MlopsPipeline (account ")
    assert out[-1] == "1 of 2 checks passed"


def test_without_pipeline_yaml_there_is_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    (folder / "pipeline.yaml").unlink()
    assert pipeline_check.main(["--config-dir", str(folder)]) == 2
    assert "pipeline.yaml does not exist: there is no pipeline to check" in capsys.readouterr().err


def test_an_unexpected_error_is_one_fail_line_not_a_traceback() -> None:
    """A client that raises something botocore never does (say, a malformed setting) still
    gives both lines."""
    broken = SimpleNamespace()  # no describe_stacks at all
    found = lines(broken, broken, broken)
    assert [line.split(":")[0] for line in found] == [
        "FAIL pipeline-notifications",
        "FAIL pipeline-subscriptions",
    ]
    assert "unexpected error: AttributeError" in found[0]
