"""A monthly cost budget of one environment, notifying a KMS-encrypted SNS topic.

The budget counts the costs carrying a cost allocation tag (the app tags every resource with
``Environment``). AWS Budgets only sees a user-defined tag after it is activated as a cost
allocation tag in the Billing console, and only for costs incurred after activation
("Activating user-defined cost allocation tags", AWS Billing User Guide).

Budgets publishes to a topic in the same account (cross-account topics are not supported); the
topic policy must allow ``budgets.amazonaws.com`` to ``SNS:Publish``, scoped with
``aws:SourceAccount`` and ``aws:SourceArn`` = ``arn:<partition>:budgets::<account>:*`` (AWS Cost
Management User Guide, "Creating an Amazon SNS topic for budget notifications"). The topic
policy replaces SNS's default policy, so without that statement notifications are refused.
Publishing to a topic encrypted with a customer managed key also needs the publisher's
principal in the key policy (``kms:GenerateDataKey*``, ``kms:Decrypt``), as for every AWS
service that publishes to an encrypted topic (SNS Developer Guide, "Key management"): the
statement is scoped with the encryption context SNS uses, ``aws:sns:topicArn``, to this
account's topics (an exact topic ARN would make the key depend on the topic it encrypts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from mlops_cdk.props.fields import checked_arguments

BUDGETS_PRINCIPAL = "budgets.amazonaws.com"


class EnvironmentBudget(Construct):
    """``AWS::Budgets::Budget`` (monthly, cost, in USD) over the costs tagged
    ``tag_key=tag_value``, with an ACTUAL notification per ``actual_percent`` and a FORECASTED
    one per ``forecast_percent`` (each a percentage of ``limit_usd``), sent to ``topic``: an SNS
    topic created here, encrypted with ``key`` (whose policy this construct extends: the key
    must be defined in this app) and subscribed by ``emails``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        limit_usd: float,
        tag_key: str,
        tag_value: str,
        key: kms.IKey,
        emails: Sequence[str] = (),
        actual_percent: Sequence[float] = (80, 100),
        forecast_percent: Sequence[float] = (100,),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._tags = dict(tags or {})
        if not actual_percent and not forecast_percent:
            raise ValueError("EnvironmentBudget: give at least one notification threshold")
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"Cost budget ({tag_key} {tag_value})",
            master_key=key,
            enforce_ssl=True,
        )
        self._allow_budgets(key)
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.budget = self._budget(limit_usd, tag_key, tag_value, actual_percent, forecast_percent)
        # The topic policy must exist before Budgets validates the subscriber.
        self.budget.node.add_dependency(self.topic)

    def _allow_budgets(self, key: kms.IKey) -> None:
        """Lets AWS Budgets of this account publish to the topic and use its key."""
        stack = cdk.Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsPublish",
                principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                actions=["SNS:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:*"
                    },
                },
            )
        )
        added = key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsToEncryptedTopic",
                principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:sns:topicArn": stack.format_arn(
                            service="sns", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                        )
                    }
                },
            )
        )
        if not added.statement_added:
            raise ValueError(
                "EnvironmentBudget: the key's policy cannot be extended (an imported key): let "
                f"{BUDGETS_PRINCIPAL} use it for this account's SNS topics yourself"
            )

    def _budget(
        self,
        limit_usd: float,
        tag_key: str,
        tag_value: str,
        actual_percent: Sequence[float],
        forecast_percent: Sequence[float],
    ) -> budgets.CfnBudget:
        """The monthly cost budget over the tagged costs, notifying the topic."""
        subscriber = budgets.CfnBudget.SubscriberProperty(
            subscription_type="SNS", address=self.topic.topic_arn
        )
        notifications = [
            budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[subscriber],
            )
            for kind, thresholds in (("ACTUAL", actual_percent), ("FORECASTED", forecast_percent))
            for threshold in thresholds
        ]
        # No BudgetName: AWS Budgets generates one, so two environments in one account never
        # collide.
        return budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=round(limit_usd, 2), unit="USD"
                ),
                # Cost Explorer's tag filter: "user:<key>$<value>" for user-defined tags.
                cost_filters={"TagKeyValue": [f"user:{tag_key}${tag_value}"]},
            ),
            notifications_with_subscribers=notifications,
            # Stated, not left to cdk.Tags: aws-cdk-lib before 2.274 does not tag budgets.
            resource_tags=[
                budgets.CfnBudget.ResourceTagProperty(key=k, value=v)
                for k, v in sorted((self._tags or {}).items())
            ]
            or None,
        )
