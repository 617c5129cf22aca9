"""A customer-managed KMS key whose key policy names every user of the key explicitly.

Two deploy-time facts shape the policy (AWS KMS Developer Guide, "Key policies in AWS KMS" and
the CreateKey / PutKeyPolicy API reference):
- Each principal named in a key policy must exist and be visible to KMS when the policy is set;
  a role created in the same deployment may not be visible yet, and KMS answers
  MalformedPolicyDocumentException (CloudFormation does not retry it). So roles are never
  principals here: the account root is, with an ``aws:PrincipalArn`` condition naming the
  role. With the root as principal, the role also needs the permission in an IAM policy
  (:meth:`EncryptionKey.grant_use` adds both).
- ``kms:CreateGrant`` lets the caller grant any principal use of the key. Administrators keep
  it only for grants to AWS resources (``kms:GrantIsForAWSResource``: EBS, ECR, SageMaker
  create grants on the caller's behalf), never as a way to grant themselves use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk.props.fields import checked_arguments

# Administrative actions the account (through IAM) keeps, so the key can never become
# unmanageable. Cryptographic use is deliberately not among them: IAM policies alone cannot
# grant encrypt/decrypt; only the principals this construct names in the key policy can.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
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
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
GRANT_FOR_AWS_RESOURCE = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
DENY_GRANTS_SID = "DenyGrantsNotForAwsResources"


def key_administration_statement() -> iam.PolicyStatement:
    """The account administers the key (:data:`KEY_ADMIN_ACTIONS`), never uses it by this
    statement."""
    return iam.PolicyStatement(
        sid="KeyAdministrationByAccount",
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_ADMIN_ACTIONS),
        resources=["*"],
    )


def deny_grants_not_for_aws_resources() -> iam.PolicyStatement:
    """An explicit Deny of ``kms:CreateGrant`` to everyone, unless an AWS service integrated
    with KMS asks on the caller's behalf (``kms:GrantIsForAWSResource``) or the caller is an
    AWS service principal (``aws:PrincipalIsAWSService``). ``BoolIfExists``: a request without
    the key counts as false, so it is denied. A Deny wins over any Allow, so even an Allow of
    ``kms:*`` cannot hand out grants.

    It is what AWS Control Tower's proactive control CT.KMS.PR.3 requires of every key policy
    ("Require an AWS KMS key policy to have a statement that limits creation of AWS KMS grants
    to AWS services", https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html;
    rule ``keymanagementservice/ct-kms-pr-3.guard`` of ``@cdklabs/cdk-validator-cfnguard``):
    Effect Deny, Principal ``*``, Action ``kms:CreateGrant``, Resource ``*``, and only
    ``BoolIfExists`` with both keys ``"false"``. The condition keys: "AWS KMS condition keys"
    and "Controlling access to grants", AWS KMS Developer Guide
    (https://docs.aws.amazon.com/kms/latest/developerguide/grant-authorization.html)."""
    return iam.PolicyStatement(
        sid=DENY_GRANTS_SID,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    )


def key_use_statements(key: kms.IKey) -> list[iam.PolicyStatement]:
    """The IAM half of key use (the key policy must admit the principal too)."""
    key_arn = key.key_arn  # read once: each read is a jsii round trip
    return [
        iam.PolicyStatement(sid="UseKey", actions=list(KEY_USE_ACTIONS), resources=[key_arn]),
        iam.PolicyStatement(
            sid="KeyGrantsForAwsResources",
            actions=["kms:CreateGrant"],
            resources=[key_arn],
            conditions=GRANT_FOR_AWS_RESOURCE,
        ),
    ]


def iam_delegated_key_policy() -> iam.PolicyDocument:
    """A key policy for a key that only this account's IAM policies grant use of (what KMS's
    default policy does), except that grants are only for AWS resources
    (``kms:GrantIsForAWSResource``): SageMaker, EBS and ECR create grants on the caller's
    behalf, nobody can grant themselves use."""
    root = iam.AccountRootPrincipal()
    return iam.PolicyDocument(
        statements=[
            key_administration_statement(),
            iam.PolicyStatement(
                sid="KeyUseThroughIam",
                principals=[root],
                actions=list(KEY_USE_ACTIONS),
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="GrantsOnlyForAwsResources",
                principals=[root],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions=GRANT_FOR_AWS_RESOURCE,
            ),
            deny_grants_not_for_aws_resources(),
        ]
    )


# The encryption context key SNS sends to KMS for an encrypted topic.
SNS_TOPIC_CONTEXT = "kms:EncryptionContext:aws:sns:topicArn"
SQS_QUEUE_CONTEXT = "kms:EncryptionContext:aws:sqs:arn"


def sqs_queues_of(stack: cdk.Stack) -> str:
    """``arn:<partition>:sqs:<region>:<account>:*``: every queue of the stack's account and
    region."""
    return stack.format_arn(service="sqs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)


def sns_topics_of(stack: cdk.Stack) -> str:
    """``arn:<partition>:sns:<region>:<account>:*``: every topic of the stack's account and
    region (not one topic: the key would then depend on the topic it encrypts)."""
    return stack.format_arn(service="sns", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)


def _via_services(stack: cdk.Stack, services: Sequence[str] | None) -> dict[str, Any] | None:
    if not services:
        return None
    via = [f"{service}.{stack.region}.amazonaws.com" for service in services]
    return {"StringEquals": {"kms:ViaService": via if len(via) > 1 else via[0]}}


# What a publisher needs to write SSE-KMS objects (multipart uploads decrypt the data key).
PUBLISH_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class EncryptionKey(Construct):
    """A rotating customer-managed key with an alias and a least-privilege key policy.

    The key policy allows:
    - the account root: key administration only (no cryptographic use), and grants only for
      AWS resources;
    - CloudWatch Logs in this region, only for log groups of this account;
    - the roles passed to :meth:`grant_use` (by ``aws:PrincipalArn``), publishers and operators
      (:meth:`grant_publishers`, :meth:`grant_operators`: through one AWS service only), and
      the AWS services passed to :meth:`grant_service_use`.

    and denies ``kms:CreateGrant`` to everyone unless for AWS resources or by an AWS service
    (:func:`deny_grants_not_for_aws_resources`, Control Tower's CT.KMS.PR.3).
    """

    @checked_arguments
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
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            policy=self._base_policy(),
            removal_policy=removal_policy,
            pending_window=pending_window or cdk.Duration.days(30),
        )
        self.alias = self.key.add_alias(alias)
        self._allow_cloudwatch_logs()

    @staticmethod
    def _base_policy() -> iam.PolicyDocument:
        """Administration by the account, grants only for AWS resources, and the deny."""
        return iam.PolicyDocument(
            statements=[
                key_administration_statement(),
                iam.PolicyStatement(
                    sid="GrantsOnlyForAwsResources",
                    principals=[iam.AccountRootPrincipal()],
                    actions=["kms:CreateGrant"],
                    resources=["*"],
                    conditions=GRANT_FOR_AWS_RESOURCE,
                ),
                deny_grants_not_for_aws_resources(),
            ]
        )

    def _allow_cloudwatch_logs(self) -> None:
        """CloudWatch Logs of this region may use the key for this account's log groups."""
        self.key.add_to_resource_policy(cloudwatch_logs_key_statement(cdk.Stack.of(self)))

    def grant_use(self, role: iam.IRole, *, sid: str) -> None:
        """Let ``role`` encrypt, decrypt and make data keys, and create grants for AWS resources
        (SageMaker and ECR create grants on the caller's behalf).

        The key policy names the account root with an ``aws:PrincipalArn`` condition (no
        propagation race for a role created in the same deployment) and the role's own policy
        grants the same actions on this key: both are needed when the root is the principal."""
        self._allow_root_use({"ArnEquals": {"aws:PrincipalArn": role.role_arn}}, sid=sid)
        # A customer-managed policy next to the key (not an inline policy on the role).
        iam.ManagedPolicy(
            self,
            f"{sid}Policy",
            description=f"Use of the {self.node.id} key ({sid})",
            roles=[role],
            statements=key_use_statements(self.key),
        )

    def grant_role_path(
        self,
        path: str,
        *,
        sid: str,
        via_services: Sequence[str] | None = None,
        actions: Sequence[str] = KEY_USE_ACTIONS,
        grants: bool = True,
    ) -> None:
        """Admit every role of this account under IAM ``path`` (e.g. ``/mlops/dev/``): the key
        policy names the path once, so roles added later (one per model service) need only
        their own IAM policies, and the key policy never lists them one by one. Creating a
        role under the path needs iam:CreateRole, which only administrators have.

        ``via_services`` (e.g. ``["s3", "sqs"]``) limits their key use to requests those AWS
        services make on their behalf in this region (``kms:ViaService``): no direct
        Encrypt/Decrypt calls. ``actions`` narrows the key use (default: every use action);
        ``grants=False`` leaves out ``kms:CreateGrant``, which only roles that start SageMaker
        jobs or create AWS resources need. Grants stay limited to AWS resources either way."""
        stack = cdk.Stack.of(self)
        role_pattern = stack.format_arn(
            service="iam", region="", resource="role", resource_name=f"{path.strip('/')}/*"
        )
        self._allow_root_use(
            {"ArnLike": {"aws:PrincipalArn": role_pattern}},
            sid=sid,
            use_conditions=_via_services(stack, via_services),
            actions=actions,
            grants=grants,
        )

    def _allow_root_use(
        self,
        principal_condition: dict[str, Any],
        *,
        sid: str,
        use_conditions: dict[str, Any] | None = None,
        actions: Sequence[str] = KEY_USE_ACTIONS,
        grants: bool = True,
    ) -> None:
        """Key use (``actions``, further bounded by ``use_conditions``), and grants for AWS
        resources only (unless ``grants`` is false), for the principals the condition selects
        (the account root is the principal: IAM must allow the same)."""
        root = iam.AccountRootPrincipal()
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[root],
                actions=list(actions),
                resources=["*"],
                conditions={**principal_condition, **(use_conditions or {})},
            )
        )
        if not grants:
            return
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}Grants",
                principals=[root],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={**principal_condition, **GRANT_FOR_AWS_RESOURCE},
            )
        )

    def grant_publishers(self, role_arns: Sequence[str], *, via_service: str, sid: str) -> None:
        """Let existing roles (any account) write objects encrypted with the key through
        ``via_service`` (e.g. ``s3``) only. Their own IAM policies must allow the same actions
        on this key (a key policy that names an account delegates to its IAM)."""
        self._grant_roles(role_arns, PUBLISH_ACTIONS, via_service=via_service, sid=sid)

    def grant_operators(self, role_arns: Sequence[str], *, via_service: str, sid: str) -> None:
        """Let operators decrypt through ``via_service`` only (e.g. ``sqs``: read a queue)."""
        self._grant_roles(role_arns, ("kms:Decrypt",), via_service=via_service, sid=sid)

    def _grant_roles(
        self, role_arns: Sequence[str], actions: Sequence[str], *, via_service: str, sid: str
    ) -> None:
        if not role_arns:
            return
        stack = cdk.Stack.of(self)
        accounts = sorted({arn.split(":")[4] for arn in role_arns})
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AccountPrincipal(account) for account in accounts],
                actions=list(actions),
                resources=["*"],
                conditions={
                    "ArnEquals": {"aws:PrincipalArn": sorted(role_arns)},
                    "StringEquals": {
                        "kms:ViaService": f"{via_service}.{stack.region}.amazonaws.com"
                    },
                },
            )
        )

    def grant_service_use(
        self,
        service: str,
        *,
        sid: str,
        same_account_only: bool = True,
        for_sns_topics: bool = False,
        for_sqs_queues: bool = False,
    ) -> None:
        """Let an AWS service principal use the key for data keys and decryption.

        ``same_account_only`` adds an ``aws:SourceAccount`` condition. A service that publishes
        to an encrypted SNS topic (CloudWatch alarms, EventBridge rules) is bounded instead by
        ``for_sns_topics``: the encryption context SNS uses, ``aws:sns:topicArn``, must be a
        topic of this account and region (SNS Developer Guide, "Key management",
        https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html; the same bound as
        the budget's statement, EnvironmentBudget). Source keys (aws:SourceAccount/SourceArn)
        are not relied on there: the SNS guide's key policy for AWS event sources names none,
        and whether each service sends them to KMS is not documented for both.
        ``for_sqs_queues`` bounds a service that writes to encrypted queues (EventBridge
        dead-letter queues) the same way: SQS's encryption context ``aws:sqs:arn`` must be a
        queue of this account and region (SQS Developer Guide, "Amazon SQS key management")."""
        stack = cdk.Stack.of(self)
        conditions: dict[str, Any] | None = None
        if for_sns_topics:
            conditions = {"ArnLike": {SNS_TOPIC_CONTEXT: sns_topics_of(stack)}}
        elif for_sqs_queues:
            conditions = {"ArnLike": {SQS_QUEUE_CONTEXT: sqs_queues_of(stack)}}
        elif same_account_only:
            conditions = {"StringEquals": {"aws:SourceAccount": stack.account}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )


def cloudwatch_logs_key_statement(stack: cdk.Stack) -> iam.PolicyStatement:
    """A key policy statement: CloudWatch Logs of ``stack``'s region may use the key for the log
    groups of ``stack``'s account ("Encrypt log data in CloudWatch Logs using AWS Key
    Management Service", CloudWatch Logs User Guide: the ``kms:EncryptionContext:aws:logs:arn``
    condition)."""
    return iam.PolicyStatement(
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
