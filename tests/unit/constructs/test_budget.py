"""EnvironmentBudget: a tag-filtered monthly budget notifying an encrypted topic Budgets can use."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from mlops_cdk.constructs.budget import EnvironmentBudget
from mlops_cdk.constructs.encryption import EncryptionKey
from tests.helpers import new_stack


@pytest.fixture(scope="module")
def template() -> Template:
    stack = new_stack()
    key = EncryptionKey(
        stack, "Key", alias="alias/t", description="t", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    EnvironmentBudget(
        stack,
        "Budget",
        limit_usd=1234.567,
        tag_key="Environment",
        tag_value="prod",
        key=key.key,
        emails=["a@example.com", "b@example.com"],
        actual_percent=[50, 90],
        forecast_percent=[100],
        tags={"Project": "p", "Environment": "prod"},
    )
    return Template.from_stack(stack)


def test_the_budget_states_its_tags_sorted(template: Template) -> None:
    budget = only(template, "AWS::Budgets::Budget")
    assert budget["Properties"]["ResourceTags"] == [
        {"Key": "Environment", "Value": "prod"},
        {"Key": "Project", "Value": "p"},
    ]


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return resource


def test_monthly_cost_budget_filtered_to_the_environment_tag(template: Template) -> None:
    budget = only(template, "AWS::Budgets::Budget")["Properties"]
    assert budget["Budget"] == {
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 1234.57, "Unit": "USD"},
        "CostFilters": {"TagKeyValue": ["user:Environment$prod"]},
    }  # no BudgetName: generated, so environments sharing an account never collide
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    notifications = [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    ]
    assert notifications == [("ACTUAL", 50), ("ACTUAL", 90), ("FORECASTED", 100)]
    for n in budget["NotificationsWithSubscribers"]:
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]


def test_topic_is_encrypted_tls_only_and_lets_budgets_of_this_account_publish(
    template: Template,
) -> None:
    topic = only(template, "AWS::SNS::Topic")["Properties"]
    assert "Fn::GetAtt" in topic["KmsMasterKeyId"]
    statements = {
        s["Sid"]: s
        for s in only(template, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"][
            "Statement"
        ]
    }
    assert statements["AllowPublishThroughSSLOnly"]["Effect"] == "Deny"
    publish = statements["BudgetsPublish"]
    assert publish["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert publish["Action"] == "SNS:Publish"
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:budgets::123456789012:*"},
    }
    emails = {
        s["Properties"]["Endpoint"]
        for s in template.find_resources("AWS::SNS::Subscription").values()
    }
    assert emails == {"a@example.com", "b@example.com"}


def test_the_key_lets_budgets_encrypt_for_this_accounts_topics_only(template: Template) -> None:
    key = only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    (statement,) = [s for s in key if s.get("Sid") == "BudgetsToEncryptedTopic"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-1:123456789012:*"
        }
    }


def test_the_budget_waits_for_its_topic_policy(template: Template) -> None:
    budget = only(template, "AWS::Budgets::Budget")
    (policy_id,) = template.find_resources("AWS::SNS::TopicPolicy")
    assert policy_id in budget["DependsOn"]


def test_an_imported_key_is_refused_instead_of_a_silent_missing_grant() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    )
    with pytest.raises(ValueError, match="the key's policy cannot be extended"):
        EnvironmentBudget(
            stack, "Budget", limit_usd=10, tag_key="Environment", tag_value="dev", key=key
        )


def test_a_budget_without_thresholds_is_refused() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError, match="at least one notification threshold"):
        EnvironmentBudget(
            stack,
            "Budget",
            limit_usd=10,
            tag_key="Environment",
            tag_value="dev",
            key=key,
            actual_percent=[],
            forecast_percent=[],
        )
