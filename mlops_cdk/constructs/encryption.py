"""A customer-managed KMS key whose key policy names every user of the key explicitly."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# Administrative actions the account (through IAM) keeps, so the key can never become
# unmanageable. Cryptographic use is deliberately not among them: IAM policies alone cannot
# grant encrypt/decrypt; only the principals this construct names in the key policy can.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)

KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)


class EncryptionKey(Construct):
    """A rotating customer-managed key with an alias and a least-privilege key policy.

    The key policy allows:
    - the account root: key administration only (no cryptographic use);
    - CloudWatch Logs in this region, only for log groups of this account;
    - the roles passed to :meth:`grant_use`, and the AWS services passed to
      :meth:`grant_service_use`, by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        removal_policy: cdk.RemovalPolicy,
        pending_window: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="KeyAdministrationByAccount",
                    principals=[iam.AccountRootPrincipal()],
                    actions=list(KEY_ADMIN_ACTIONS),
                    resources=["*"],
                )
            ]
        )
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            policy=policy,
            removal_policy=removal_policy,
            pending_window=pending_window or cdk.Duration.days(30),
        )
        self.alias = self.key.add_alias(alias)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsForThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Decrypt",
                    "kms:Describe*",
                    "kms:Encrypt",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def grant_use(self, role: iam.IRole, *, sid: str) -> None:
        """Name ``role`` in the key policy for encrypt/decrypt/data keys, and grants for AWS
        resources (SageMaker and ECR create grants on behalf of the caller)."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[role],
                actions=list(KEY_USE_ACTIONS),
                resources=["*"],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}Grants",
                principals=[role],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

    def grant_service_use(self, service: str, *, sid: str, same_account_only: bool = True) -> None:
        """Let an AWS service principal use the key for data keys and decryption.

        ``same_account_only`` adds an ``aws:SourceAccount`` condition; turn it off only for
        services that do not send source context to KMS (CloudWatch alarms publishing to an
        encrypted SNS topic: AWS's documented key policy for that has no condition)."""
        stack = cdk.Stack.of(self)
        conditions = (
            {"StringEquals": {"aws:SourceAccount": stack.account}} if same_account_only else None
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )
