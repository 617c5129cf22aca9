"""A KMS-encrypted, TLS-only SNS topic for the people who own an environment."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlarmTopic(Construct):
    """SNS topic encrypted with ``key`` (whose policy must let cloudwatch.amazonaws.com use it,
    see ``EncryptionKey.grant_service_use``), with an e-mail subscription per address."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        emails: Sequence[str] = (),
        display_name: str = "ML endpoint alarms",
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "Topic", display_name=display_name, master_key=key, enforce_ssl=True
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
