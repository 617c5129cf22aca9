"""The retraining function: a CloudWatch alarm action that starts SageMaker retraining.

The code is ``mlops_cdk/functions/retrain/retrain.py`` (boto3 from the runtime, nothing
bundled). It is idempotent per cooldown window, ignores non-ALARM transitions, rejects malformed
events, and raises SageMaker errors so the asynchronous invocation retries and then lands in the
KMS-encrypted on-failure queue, whose depth is an alarm, as are the function's errors
(:class:`~mlops_cdk.constructs.watch.FailureWatch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    acknowledge_all,
    acknowledge_wildcard_resource,
)
from mlops_cdk.aws.facts import (
    LAMBDA_PYTHON_RUNTIME,
    MAX_ASYNC_EVENT_AGE_SECONDS,
    RETRAINING_NAMESPACE,
)
from mlops_cdk.constructs.network import https_egress_only_group, lambda_vpc_statement
from mlops_cdk.constructs.roles import FunctionRole
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.functions import ASSET_EXCLUDE, asset_dir

CODE_DIR = asset_dir("retrain")
RUNTIME = lambda_.Runtime(LAMBDA_PYTHON_RUNTIME, lambda_.RuntimeFamily.PYTHON)
METRICS_NAMESPACE = RETRAINING_NAMESPACE


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
        retention_period=cdk.Duration.days(14),
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


@jsii.implements(cloudwatch.IAlarmAction)
class InvokeFunctionAction:
    """An alarm action that invokes ``function`` directly (principal
    ``lambda.alarms.cloudwatch.amazonaws.com``, scoped to the alarm's ARN and this account).

    ``aws_cloudwatch_actions.LambdaAction`` names the function's permission after the alarm's
    construct id only, so two alarms with the same id under different parents (every variant
    has a ``Latency`` alarm) collide; this names it after the alarm's unique path."""

    def __init__(self, function: lambda_.IFunction) -> None:
        self.function = function

    def bind(self, scope: Construct, alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        self.function.add_permission(
            f"Invoke{cdk.Names.unique_id(alarm)}",
            principal=iam.ServicePrincipal("lambda.alarms.cloudwatch.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=alarm.alarm_arn,
            source_account=cdk.Stack.of(scope).account,
        )
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self.function.function_arn)


def substitute_placeholders(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` (a training job template) with each placeholder (``{bucket}``) in its strings
    replaced by ``values[placeholder]``, which may be a token (CloudFormation generates the
    bucket's name); ``Stack.to_json_string`` then renders the tokens."""
    if isinstance(value, str):
        for placeholder, replacement in values.items():
            value = value.replace(placeholder, replacement)
        return value
    if isinstance(value, Mapping):
        return {key: substitute_placeholders(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_placeholders(item, values) for item in value]
    return value


class RetrainingFunction(Construct):
    """Give exactly one of ``pipeline_name`` or (``training_job_template`` +
    ``training_job_prefix`` + ``training_role``). A training job runs as ``training_role``
    (set as ``RoleArn`` by the function; the template has none), the only role the function
    may pass to SageMaker.

    ``role`` must trust lambda.amazonaws.com and be allowed to use ``key`` (the key policy of
    the foundation names it); this construct attaches every permission the function needs as a
    customer-managed policy and never edits ``role`` itself, so the role can live in another
    (stateful) stack without a dependency cycle. Without ``role``, one is created here
    (``self.role``) with the IAM half of key use; ``key``'s policy must then let this account's
    IAM policies grant its use (KMS's default key policy does). ``subnets`` defaults to the
    VPC's isolated (else private) subnets.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        vpc: ec2.IVpc,
        endpoint_name: str,
        role: iam.IRole | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        cooldown: cdk.Duration | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        pipeline_name: str | None = None,
        training_job_template: Mapping[str, Any] | None = None,
        training_job_prefix: str | None = None,
        training_role: iam.IRole | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        by_pipeline = pipeline_name is not None
        by_job = training_job_template is not None
        if by_pipeline == by_job:
            raise ValueError("RetrainingFunction: give pipeline_name or a training job template")
        if by_job and (not training_job_prefix or training_role is None):
            raise ValueError("RetrainingFunction: training jobs need a prefix and training_role")
        subnets = list(subnets or vpc.isolated_subnets or vpc.private_subnets)
        if not subnets:
            raise ValueError("RetrainingFunction: the VPC has no private or isolated subnets")
        self.role = role if role is not None else self._created_role(endpoint_name, key)
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=log_retention, removal_policy=removal_policy
        )
        self.failures = failure_queue(self, "OnFailure", key=key, removal_policy=removal_policy)
        self.security_group = self._security_group(vpc)
        self.training_job_arn = self._training_job_arn(training_job_prefix)
        environment = self._environment(
            endpoint_name,
            cooldown or cdk.Duration.hours(1),
            pipeline_name=pipeline_name,
            training_job_prefix=training_job_prefix,
            training_job_template=training_job_template,
            training_role=training_role,
        )
        self.function = self._function(environment, vpc, subnets, reserved_concurrency)
        self.policy = self._policy(pipeline_name, training_role, training_job_template)
        # The function must not run before its permissions exist.
        self.function.node.add_dependency(self.policy)
        self.watch = FailureWatch(
            self,
            "Watch",
            subject=f"Retraining function of {endpoint_name}",
            queues=[self.failures],
            functions=[self.function],
            replay='See README "Monitoring and retraining", "When retraining fails".',
        )
        self._acknowledge(by_pipeline, reserved_concurrency)

    def _created_role(self, endpoint_name: str, key: kms.IKey) -> iam.IRole:
        """A role of the function's own, with the IAM half of ``key``'s use."""
        return FunctionRole(
            self, "Role", description=f"Retraining function of {endpoint_name}", key=key
        ).role

    def _security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        """HTTPS egress to the VPC's interface endpoints only."""
        return https_egress_only_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Retraining function: HTTPS to the SageMaker API endpoint only",
            egress="HTTPS to VPC interface endpoints (isolated subnets: no internet route)",
        )

    def _training_job_arn(self, training_job_prefix: str | None) -> str | None:
        """The ARN pattern of the training jobs the function may create (names lower-cased)."""
        if not training_job_prefix:
            return None
        return cdk.Stack.of(self).format_arn(
            service="sagemaker",
            resource="training-job",
            resource_name=f"{training_job_prefix.lower()}-*",
        )

    def _environment(
        self,
        endpoint_name: str,
        cooldown: cdk.Duration,
        *,
        pipeline_name: str | None,
        training_job_prefix: str | None,
        training_job_template: Mapping[str, Any] | None,
        training_role: iam.IRole | None,
    ) -> dict[str, str]:
        """The function's settings: the endpoint, the cooldown, what it starts."""
        environment = {
            "ENDPOINT_NAME": endpoint_name,
            "COOLDOWN_SECONDS": str(int(cooldown.to_seconds())),
            "METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        if pipeline_name is not None:
            environment.update({"RETRAIN_MODE": "pipeline", "PIPELINE_NAME": str(pipeline_name)})
        else:
            assert training_role is not None  # noqa: S101 - checked by the constructor
            environment.update(
                {
                    "RETRAIN_MODE": "training_job",
                    "TRAINING_JOB_PREFIX": str(training_job_prefix),
                    "TRAINING_JOB_TEMPLATE": cdk.Stack.of(self).to_json_string(
                        dict(training_job_template or {})
                    ),
                    # The function sets RoleArn itself: the only role it may pass.
                    "TRAINING_ROLE_ARN": training_role.role_arn,
                }
            )
        return environment

    def _function(
        self,
        environment: dict[str, str],
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        reserved_concurrency: int | None,
    ) -> lambda_.Function:
        """The function in the VPC: two retries, then the on-failure queue."""
        return lambda_.Function(
            self,
            "Function",
            description="Starts SageMaker retraining when a model alarm fires (idempotent)",
            runtime=RUNTIME,
            handler="retrain.handler",
            code=lambda_.Code.from_asset(str(CODE_DIR), exclude=list(ASSET_EXCLUDE)),
            # An immutable view: CDK's own grants must not edit a role in another stack.
            role=iam.Role.from_role_arn(self, "RoleView", self.role.role_arn, mutable=False),
            environment=environment,
            timeout=cdk.Duration.seconds(60),
            memory_size=256,
            # Off by default: Lambda refuses a reservation that leaves fewer than 100 unreserved
            # executions (new accounts may have a quota of 10). Runs are idempotent anyway.
            reserved_concurrent_executions=reserved_concurrency,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)),
            security_groups=[self.security_group],
            retry_attempts=2,
            max_event_age=cdk.Duration.seconds(MAX_ASYNC_EVENT_AGE_SECONDS),
            on_failure=QueueDestination(self.failures),
            tracing=lambda_.Tracing.DISABLED,
        )

    def _policy(
        self,
        pipeline_name: str | None,
        training_role: iam.IRole | None,
        training_job_template: Mapping[str, Any] | None,
    ) -> iam.ManagedPolicy:
        """Everything the function may do, attached to its role (never edited otherwise)."""
        statements = self._retraining_statements(
            cdk.Stack.of(self),
            pipeline_name,
            self.training_job_arn,
            training_role,
            training_job_template,
        )
        return iam.ManagedPolicy(
            self,
            "Policy",
            description="Retraining function: start retraining, logs, on-failure queue, VPC",
            roles=[self.role],
            statements=[
                *statements,
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="SendFailedInvocations",
                    actions=["sqs:SendMessage"],
                    resources=[self.failures.queue_arn],
                ),
                lambda_vpc_statement(),
            ],
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Records in the on-failure queue, and the function's errors (no actions: the owner
        adds them, e.g. ``watch.notify(SnsAction(topic))``)."""
        return list(self.watch.alarms)

    @staticmethod
    def _retraining_statements(
        stack: cdk.Stack,
        pipeline_name: str | None,
        job_arn: str | None,
        training_role: iam.IRole | None,
        template: Mapping[str, Any] | None,
    ) -> list[iam.PolicyStatement]:
        if pipeline_name is not None:
            # SageMaker pipeline ARNs use the lower-cased name.
            pipeline_arn = stack.format_arn(
                service="sagemaker", resource="pipeline", resource_name=pipeline_name.lower()
            )
            return [
                iam.PolicyStatement(
                    sid="StartRetrainingPipeline",
                    actions=[
                        "sagemaker:ListPipelineExecutions",
                        "sagemaker:StartPipelineExecution",
                    ],
                    resources=[pipeline_arn],
                )
            ]
        assert job_arn is not None  # noqa: S101 - checked by the caller
        assert training_role is not None  # noqa: S101
        create_actions = ["sagemaker:CreateTrainingJob"]
        if template and "Tags" in template:
            create_actions.append("sagemaker:AddTags")
        return [
            iam.PolicyStatement(
                sid="CreateRetrainingJob", actions=create_actions, resources=[job_arn]
            ),
            iam.PolicyStatement(
                sid="ListTrainingJobs", actions=["sagemaker:ListTrainingJobs"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="PassTrainingRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]

    def _acknowledge(self, by_pipeline: bool, reserved_concurrency: int | None) -> None:
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "Only actions that take no resource ARN use '*': the ENI actions Lambda needs to "
            "attach the function to the VPC"
            + ("" if by_pipeline else ", and sagemaker:ListTrainingJobs")
            + ". Starting retraining is scoped to one pipeline or one job-name prefix.",
        )
        if self.training_job_arn is not None:
            acknowledge_wildcard_resource(
                self.policy,
                self.training_job_arn,
                "Training jobs are named <prefix>-<cooldown window start>; the prefix limits "
                "the function to the jobs it creates.",
            )
        acknowledge(
            self.failures,
            "AwsSolutions-SQS3",
            "This queue is the function's on-failure destination (the end of the retry "
            "chain); a dead-letter queue of its own would only move failed records again.",
        )
        acknowledge_all(
            self.function,
            ("HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ"),
            "Failed asynchronous invocations go to an on-failure destination (KMS-encrypted "
            "SQS) that keeps the full invocation record, instead of a legacy dead-letter queue.",
        )
        if reserved_concurrency is None:
            acknowledge_all(
                self.function,
                ("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency"),
                "No reservation by default: Lambda refuses one that leaves fewer than 100 "
                "unreserved executions (new accounts), and runs are idempotent per cooldown "
                "window (SageMaker state and ClientRequestToken); only the alarms named in the "
                "function's resource policy invoke it. Set reserved_concurrency to cap it.",
            )
