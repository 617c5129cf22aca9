"""A KMS-encrypted, TLS-only SNS topic for the people who own an environment."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from mlops_cdk.aws.facts import email_addresses_problem
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments


class AlarmTopic(Construct):
    """SNS topic encrypted with ``key`` (whose policy must let cloudwatch.amazonaws.com use it,
    see ``EncryptionKey.grant_service_use``), with an e-mail subscription per address.

    ``enforce_ssl`` creates an ``AWS::SNS::TopicPolicy``, which *replaces* the topic's default
    access policy: without an explicit Allow, CloudWatch alarms cannot publish and every
    notification is dropped. The topic policy therefore lets ``cloudwatch.amazonaws.com``
    publish for this account's alarms only (``aws:SourceAccount``, ``aws:SourceArn``), as the
    SNS developer guide's access-policy examples and the CloudWatch guide's confused-deputy
    prevention advise."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        emails: Sequence[str] = (),
        display_name: str = "ML endpoint alarms",
    ) -> None:
        problem = email_addresses_problem(emails)
        if problem is not None:
            raise PropProblems([("emails", problem)], subject=type(self).__name__)
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "Topic", display_name=display_name, master_key=key, enforce_ssl=True
        )
        stack = cdk.Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
