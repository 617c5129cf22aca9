"""The infrastructure every function of a service shares: :class:`WatchedFunction`.

A function here (the drift check, the retraining function, the next scheduled checks) runs in the
VPC's isolated subnets behind a security group of its own (no ingress, HTTPS out to the VPC
endpoints only), writes JSON logs to a KMS-encrypted log group with a retention, sends the
invocations that failed every attempt to a KMS-encrypted, TLS-only queue, and has alarms on that
queue's depth and on its errors (:class:`~mlops_cdk.constructs.watch.FailureWatch`). Its
permissions are one customer-managed policy attached to its role (the role is never edited), and
the function waits for every policy of its role (:func:`wait_for_role_policies`): Lambda refuses
a function in a VPC whose role may not manage network interfaces ("CreateFunction", AWS Lambda
API Reference).

Asynchronous invocations ("Configuring error handling settings for Lambda asynchronous
invocations", AWS Lambda Developer Guide,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html): Lambda retries
a failed event 0 to 2 times and keeps it at most 6 hours; an on-failure destination receives the
invocation record of an event that failed every attempt or expired (AWS::Lambda::EventInvokeConfig,
CloudFormation User Guide).

Logical ids: a construct that wraps :class:`WatchedFunction` under the id ``"Default"`` keeps the
logical ids its resources had when it built them itself. CDK leaves a ``Default`` id out of the
logical id entirely, name and hash ("Framework: introducing 'Default' construct id",
https://github.com/aws/aws-cdk/pull/496: "useful when, during refactoring, wrapping one construct
in another, to make sure logical IDs of already deployed resources don't change"; the rule is
``HIDDEN_ID`` in aws-cdk-lib ``core/lib/private/uniqueid``). The drift check and the retraining
function do, so their deployed queues and log groups are not replaced (only construct paths, as
findings show them, gain ``/Default``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk.aws.acknowledgements import (
    acknowledge,
    acknowledge_each,
    acknowledge_wildcard_resource,
)
from mlops_cdk.aws.facts import LAMBDA_PYTHON_RUNTIME, MAX_ASYNC_EVENT_AGE_SECONDS
from mlops_cdk.constructs.network import https_egress_only_group, lambda_vpc_statement
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.props.fields import checked_arguments, checked_types

RUNTIME = lambda_.Runtime(LAMBDA_PYTHON_RUNTIME, lambda_.RuntimeFamily.PYTHON)
MAX_ASYNC_EVENT_AGE = cdk.Duration.seconds(MAX_ASYNC_EVENT_AGE_SECONDS)
# Durations made once: each cdk.Duration.<unit>() call is a round trip to jsii (immutable).
FAILURE_RETENTION = cdk.Duration.days(14)  # SQS's maximum message retention
DEFAULT_TIMEOUT = cdk.Duration.seconds(60)
# Where invocations that failed every attempt go: a queue (asynchronous invocations), or nowhere
# (a function only invoked synchronously: its caller gets the error).
FailureDestination = Literal["queue", "none"]
DEFAULT_EGRESS = "HTTPS to VPC interface endpoints (isolated subnets: no internet route)"


def failure_queue(
    scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: cdk.RemovalPolicy
) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue that keeps failed invocations for 14 days (SQS's
    maximum retention) for an operator to inspect."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=FAILURE_RETENTION,
        removal_policy=removal_policy,
    )


@jsii.implements(lambda_.IDestination)
class QueueDestination:
    """An SQS on-failure destination bound by ARN only.

    ``aws_lambda_destinations.SqsDestination`` also grants the function's role on the queue and
    its key; with an immutable role from another stack CDK would put that grant into the
    foundation's key policy behind the reader's back. The permissions are explicit instead:
    ``sqs:SendMessage`` in the function's policy, and the role is named in the key policy.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self,
        scope: Construct,
        fn: lambda_.IFunction,
        *,
        type: lambda_.DestinationType | None = None,
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)


def via_service(stack: cdk.Stack, service: str) -> str:
    """The ``kms:ViaService`` value of ``service`` in ``stack``'s region."""
    return f"{service}.{stack.region}.amazonaws.com"


def send_to_queue_statements(
    stack: cdk.Stack, queue: sqs.IQueue, key: kms.IKey, *, sid: str
) -> list[iam.PolicyStatement]:
    """Send to a KMS-encrypted queue: the message and the data key SQS makes for it (through
    SQS only)."""
    return [
        iam.PolicyStatement(sid=sid, actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
        iam.PolicyStatement(
            sid=f"{sid}Encrypt",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": via_service(stack, "sqs")}},
        ),
    ]


@dataclass(frozen=True)
@checked_types
class FunctionPolicy:
    """The function's permissions: one customer-managed policy named ``description``, holding
    ``statements`` and then what the shared infrastructure needs (write its own log group, send
    to its failure queue, and with a VPC the network-interface actions).

    ``wildcard_actions`` names the resource-less actions among ``statements`` that use ``*``
    (they join the acknowledgement of ``AwsSolutions-IAM5[Resource::*]``, e.g.
    "cloudwatch:PutMetricData, limited to ... by the cloudwatch:namespace condition").
    ``key_use_granted``: the role may already use the key (e.g. through
    :class:`~mlops_cdk.constructs.roles.FunctionRole`), so no statement for the failure queue's
    data keys is added."""

    description: str
    statements: Sequence[iam.PolicyStatement] = ()
    wildcard_actions: str = ""
    key_use_granted: bool = False


@dataclass(frozen=True)
@checked_types
class VpcPlacement:
    """Where the function runs: ``subnets`` of ``vpc`` (default: its isolated subnets, else its
    private ones), behind a security group of its own with no ingress and HTTPS egress only
    (``description`` and ``egress`` describe the group and its rule)."""

    vpc: ec2.IVpc
    description: str
    subnets: Sequence[ec2.ISubnet] | None = None
    egress: str = DEFAULT_EGRESS

    def chosen_subnets(self) -> list[ec2.ISubnet]:
        subnets = list(self.subnets or self.vpc.isolated_subnets or self.vpc.private_subnets)
        if not subnets:
            raise ValueError("WatchedFunction: the VPC has no private or isolated subnets")
        return subnets


@dataclass(frozen=True)
@checked_types
class AsyncInvocation:
    """How asynchronous invocations are handled: ``retry_attempts`` (0 to 2) retries of an
    event that failed, kept at most ``max_event_age`` (60 s to 6 h), then ``on_failure``."""

    retry_attempts: int = 2
    max_event_age: cdk.Duration = field(default_factory=lambda: MAX_ASYNC_EVENT_AGE)
    on_failure: FailureDestination = "queue"


class WatchedFunction(Construct):
    """One Python function and its infrastructure: ``log_group`` (encrypted with ``key``, kept
    ``log_retention``), ``failure_queue`` (with ``invocation.on_failure == "queue"``; construct id
    ``failure_queue_id``), ``security_group`` (with ``vpc``), ``function``, ``policy`` (see
    :class:`FunctionPolicy`) and ``watch`` (alarms on the queue's depth and on the function's
    errors, described as ``subject``; ``replay`` says where the operator reads how to replay).
    ``alarms`` lists the watch's alarms: the owner adds their actions.

    ``role`` must trust lambda.amazonaws.com and, for the encrypted queue and logs, be allowed
    to use ``key`` by the key policy. It is never edited (the function sees an immutable view,
    ``policy`` attaches to it), so it may live in another stack. ``invoked_by`` says who invokes
    the function: the reason it needs no reserved concurrency unless ``reserved_concurrency`` is
    set."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subject: str,
        code: lambda_.Code,
        handler: str,
        role: iam.IRole,
        key: kms.IKey,
        policy: FunctionPolicy,
        invoked_by: str,
        vpc: VpcPlacement | None = None,
        runtime: lambda_.Runtime = RUNTIME,
        description: str | None = None,
        environment: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        memory_size: int = 256,
        reserved_concurrency: int | None = None,
        invocation: AsyncInvocation | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        failure_queue_id: str = "Failures",
        replay: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        invocation = invocation or AsyncInvocation()
        self.role = role
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=log_retention, removal_policy=removal_policy
        )
        self.failure_queue = (
            failure_queue(self, failure_queue_id, key=key, removal_policy=removal_policy)
            if invocation.on_failure == "queue"
            else None
        )
        self.security_group = self._security_group(vpc)
        self.function = self._function(
            code=code,
            handler=handler,
            runtime=runtime,
            description=description,
            environment=environment,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrency=reserved_concurrency,
            vpc=vpc,
            invocation=invocation,
        )
        self.policy = self._policy(policy, key, vpc is not None)
        self._wait_for_permissions()
        self.watch = FailureWatch(
            self,
            "Watch",
            subject=subject,
            queues=[self.failure_queue] if self.failure_queue is not None else [],
            functions=[self.function],
            replay=replay,
        )
        self._acknowledge(policy, vpc is not None, reserved_concurrency, invoked_by)

    def _security_group(self, vpc: VpcPlacement | None) -> ec2.SecurityGroup | None:
        """No ingress, HTTPS out only (isolated subnets: the VPC's endpoints only)."""
        if vpc is None:
            return None
        return https_egress_only_group(
            self, "SecurityGroup", vpc=vpc.vpc, description=vpc.description, egress=vpc.egress
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Records in the failure queue (if any), and the function's errors."""
        return list(self.watch.alarms)

    def _function(
        self,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime,
        description: str | None,
        environment: Mapping[str, str] | None,
        timeout: cdk.Duration | None,
        memory_size: int,
        reserved_concurrency: int | None,
        vpc: VpcPlacement | None,
        invocation: AsyncInvocation,
    ) -> lambda_.Function:
        """The function: JSON logs to its log group, in the VPC if placed, its failed
        asynchronous invocations to the failure queue, no tracing."""
        queue = self.failure_queue
        return lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=runtime,
            handler=handler,
            code=code,
            # An immutable view by ARN: CDK's own grants must never edit a role that may live in
            # another (stateful) stack; the function's policy attaches to the role itself.
            role=iam.Role.from_role_arn(self, "RoleView", self.role.role_arn, mutable=False),
            environment=dict(environment or {}),
            timeout=timeout or DEFAULT_TIMEOUT,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            vpc=vpc.vpc if vpc is not None else None,
            vpc_subnets=ec2.SubnetSelection(subnets=vpc.chosen_subnets()) if vpc else None,
            security_groups=[self.security_group] if self.security_group is not None else None,
            retry_attempts=invocation.retry_attempts,
            max_event_age=invocation.max_event_age,
            on_failure=QueueDestination(queue) if queue is not None else None,
            tracing=lambda_.Tracing.DISABLED,
        )

    def _policy(self, policy: FunctionPolicy, key: kms.IKey, in_vpc: bool) -> iam.ManagedPolicy:
        """``policy.statements``, then the log group, the failure queue and the VPC's."""
        statements = [
            *policy.statements,
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
        ]
        if self.failure_queue is not None:
            sending = send_to_queue_statements(
                cdk.Stack.of(self), self.failure_queue, key, sid="SendFailedInvocations"
            )
            statements.extend(sending[:1] if policy.key_use_granted else sending)
        if in_vpc:
            statements.append(lambda_vpc_statement())
        return iam.ManagedPolicy(
            self,
            "Policy",
            description=policy.description,
            roles=[self.role],
            statements=statements,
        )

    def _wait_for_permissions(self) -> None:
        """The function (and its invoke config and permissions) waits for its policy, and its
        resource for every policy of its role, wherever made: Lambda refuses a function in a VPC
        whose role may not manage network interfaces (CreateFunction)."""
        node, role = self.function.node, self.function.role  # each read is a jsii round trip
        node.add_dependency(self.policy)
        resource = node.default_child
        assert isinstance(resource, cdk.CfnResource)  # noqa: S101 - an L2 function
        assert role is not None  # noqa: S101 - given to the function
        wait_for_role_policies(resource, role)

    def _acknowledge(
        self,
        policy: FunctionPolicy,
        in_vpc: bool,
        reserved_concurrency: int | None,
        invoked_by: str,
    ) -> None:
        star = [
            *(["the ENI actions Lambda needs to attach the function to the VPC"] if in_vpc else []),
            *([policy.wildcard_actions] if policy.wildcard_actions else []),
        ]
        if star:
            acknowledge_wildcard_resource(
                self.policy,
                "*",
                f"Only actions that take no resource ARN use '*': {'; '.join(star)}.",
            )
        if self.failure_queue is not None:
            acknowledge(
                self.failure_queue,
                "AwsSolutions-SQS3",
                "This queue is where failed invocations end (the function's on-failure "
                "destination, and the dead-letter queue of what invokes it): a dead-letter queue "
                "of its own would only move failed records again.",
            )
        dlq = (
            "Failed asynchronous invocations go to an on-failure destination (KMS-encrypted "
            "SQS) that keeps the full invocation record, instead of a legacy dead-letter queue."
            if self.failure_queue is not None
            else "Invoked synchronously only: the caller receives the error (a dead-letter "
            "queue applies to asynchronous invocations)."
        )
        concurrency = (
            "No reservation by default: Lambda refuses one that leaves fewer than 100 "
            f"unreserved executions (new accounts); {invoked_by}"
        )
        # Both packs' ids of each finding, acknowledged on the function in one jsii call.
        acknowledge_each(
            self.function,
            [
                ("HIPAA.Security-LambdaDLQ", dlq),
                ("NIST.800.53.R5-LambdaDLQ", dlq),
                *(
                    [
                        ("HIPAA.Security-LambdaConcurrency", concurrency),
                        ("NIST.800.53.R5-LambdaConcurrency", concurrency),
                    ]
                    if reserved_concurrency is None
                    else []
                ),
            ],
        )


class FunctionParts:
    """For a construct built on a :class:`WatchedFunction` (``self.watched``): its parts as the
    construct's own attributes (``check.function``, ``check.failures``, ``check.watch``...)."""

    watched: WatchedFunction

    @property
    def function(self) -> lambda_.Function:
        return self.watched.function

    @property
    def policy(self) -> iam.ManagedPolicy:
        """The function's permissions (a customer-managed policy attached to its role)."""
        return self.watched.policy

    @property
    def log_group(self) -> logs.LogGroup:
        return self.watched.log_group

    @property
    def failures(self) -> sqs.Queue:
        """The queue where failed invocations end."""
        if self.watched.failure_queue is None:
            raise AttributeError("this function has no failure queue (on_failure='none')")
        return self.watched.failure_queue

    @property
    def security_group(self) -> ec2.SecurityGroup | None:
        return self.watched.security_group

    @property
    def watch(self) -> FailureWatch:
        """Alarms on the failure queue's depth and the function's errors."""
        return self.watched.watch
