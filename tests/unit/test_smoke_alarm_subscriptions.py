"""The smoke test's alarm-subscriptions line: every address of monitoring.alarm_emails is a
confirmed e-mail subscription of the service's alarm topic (SNS deletes one left unconfirmed
for 48 hours, and the stack does not notice)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from mlops_tools import smoke
from tests.helpers import stubbed_client

REGION = "eu-west-1"
TOPIC = "arn:aws:sns:eu-west-1:111111111111:dev-churn-AlarmTopic"
STACK = "dev-churn"
EMAILS = ["ml-alerts@example.com", "oncall@example.com"]


def client(service: str) -> Any:
    return stubbed_client(service, REGION)


def stack(outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "CreationTime": "2026-12-05T00:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def subscription(endpoint: str, arn: str = f"{TOPIC}:0c7a6cd0") -> dict[str, str]:
    return {"Protocol": "email", "Endpoint": endpoint, "SubscriptionArn": arn, "TopicArn": TOPIC}


def line(subscriptions: list[dict[str, str]], outputs: dict[str, str] | None = None) -> str:
    cloudformation, sns = client("cloudformation"), client("sns")
    with Stubber(cloudformation) as stacks, Stubber(sns) as topics:
        stacks.add_response(
            "describe_stacks",
            stack({"AlarmTopicArn": TOPIC} if outputs is None else outputs),
            {"StackName": STACK},
        )
        if outputs is None:
            topics.add_response(
                "list_subscriptions_by_topic", {"Subscriptions": subscriptions}, {"TopicArn": TOPIC}
            )
        result = smoke.check_alarm_subscriptions(cloudformation, sns, STACK, EMAILS)
    return result.line()


def test_every_address_confirmed_passes() -> None:
    confirmed = [subscription("ML-Alerts@example.com"), subscription("oncall@example.com")]
    assert line(confirmed) == (
        f"PASS alarm-subscriptions: 2 confirmed e-mail subscription(s) on {TOPIC}"
    )


def test_an_unconfirmed_address_warns() -> None:
    subscriptions = [
        subscription("ml-alerts@example.com"),
        subscription("oncall@example.com", "PendingConfirmation"),
    ]
    assert line(subscriptions) == (
        "WARN alarm-subscriptions: oncall@example.com not confirmed: nothing reaches them until "
        "the link in SNS's e-mail is followed, and SNS deletes an unconfirmed subscription "
        "after 48 hours"
    )


@pytest.mark.parametrize(
    "subscriptions",
    [
        [subscription("ml-alerts@example.com")],
        # the same address over another protocol delivers no e-mail
        [
            subscription("ml-alerts@example.com"),
            {**subscription("oncall@example.com"), "Protocol": "email-json"},
        ],
    ],
)
def test_a_missing_subscription_fails_with_how_to_restore_it(
    subscriptions: list[dict[str, str]],
) -> None:
    assert line(subscriptions) == (
        "FAIL alarm-subscriptions: alarms reach nobody at oncall@example.com: no subscription "
        f"on {TOPIC} (SNS deletes one left unconfirmed for 48 hours, and the stack does not "
        f"recreate it); subscribe again: aws sns subscribe --topic-arn {TOPIC} --protocol "
        "email --notification-endpoint <address>, then follow the link in SNS's e-mail"
    )


def test_a_stack_without_the_output_is_not_checked() -> None:
    assert line([], outputs={"EndpointConfigName": "x"}) == (
        f"WARN alarm-subscriptions: not checked: stack {STACK} has no output AlarmTopicArn "
        "(deployed before it existed)"
    )


def test_sns_refusing_is_one_fail_line() -> None:
    cloudformation, sns = client("cloudformation"), client("sns")
    with Stubber(cloudformation) as stacks, Stubber(sns) as topics:
        stacks.add_response("describe_stacks", stack({"AlarmTopicArn": TOPIC}))
        topics.add_client_error("list_subscriptions_by_topic", "AuthorizationError", "denied")
        result = smoke.check_alarm_subscriptions(cloudformation, sns, STACK, EMAILS)
    assert result.line() == (
        "FAIL alarm-subscriptions: ListSubscriptionsByTopic failed: AuthorizationError: denied"
    )
