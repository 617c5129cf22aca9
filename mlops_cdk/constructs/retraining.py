"""The retraining function: a CloudWatch alarm action that starts SageMaker retraining.

The code is ``mlops_cdk/functions/retrain/retrain.py`` (boto3 from the runtime, nothing
bundled). It is idempotent per cooldown window, ignores non-ALARM transitions, rejects malformed
events, and raises SageMaker errors so the asynchronous invocation retries and then lands in the
KMS-encrypted on-failure queue, whose depth is an alarm, as are the function's errors
(:class:`~mlops_cdk.constructs.watch.FailureWatch`). The function and that infrastructure are a
:class:`~mlops_cdk.constructs.function.WatchedFunction`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resource
from mlops_cdk.aws.facts import RETRAINING_NAMESPACE
from mlops_cdk.aws.pipeline_events import execution_failure_pattern
from mlops_cdk.aws.training_job_events import training_job_failure_pattern
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.function import (
    RUNTIME,
    AsyncInvocation,
    FunctionParts,
    FunctionPolicy,
    QueueDestination,
    VpcPlacement,
    WatchedFunction,
    failure_queue,
)
from mlops_cdk.constructs.roles import FunctionRole
from mlops_cdk.functions import ASSET_EXCLUDE, asset_dir
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.retraining import RetrainingSpec

__all__ = [
    "CODE_DIR",
    "INVOKED_BY",
    "METRICS_NAMESPACE",
    # Re-exported: they lived here before mlops_cdk.constructs.function.
    "RUNTIME",
    "InvokeFunctionAction",
    "QueueDestination",
    "RetrainingFunction",
    "RetrainingSpec",
    "failure_queue",
    "substitute_placeholders",
]

CODE_DIR = asset_dir("retrain")
METRICS_NAMESPACE = RETRAINING_NAMESPACE
INVOKED_BY = (
    "runs are idempotent per cooldown window (SageMaker state and ClientRequestToken); only the "
    "alarms named in the function's resource policy invoke it. Set reserved_concurrency to cap it."
)


@dataclass(frozen=True)
class _Runs:
    """What :meth:`RetrainingFunction.notify_failures` needs of how the function retrains."""

    key: kms.IKey
    endpoint: str
    pipeline: str | None
    job_prefix: str | None


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


class RetrainingFunction(FunctionParts, Construct):
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
    VPC's isolated (else private) subnets. ``spec`` (:class:`RetrainingSpec`, which checks
    itself; default ``RetrainingSpec()``): the cooldown window and reserved concurrency.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        vpc: ec2.IVpc,
        endpoint_name: EndpointName,
        role: iam.IRole | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        spec: RetrainingSpec | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        pipeline_name: str | None = None,
        training_job_template: Mapping[str, Any] | None = None,
        training_job_prefix: str | None = None,
        training_role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec = spec if spec is not None else RetrainingSpec()
        by_pipeline = pipeline_name is not None
        by_job = training_job_template is not None
        if by_pipeline == by_job:
            raise ValueError("RetrainingFunction: give pipeline_name or a training job template")
        if by_job and (not training_job_prefix or training_role is None):
            raise ValueError("RetrainingFunction: training jobs need a prefix and training_role")
        self.role = role if role is not None else self._created_role(endpoint_name, key)
        self.training_job_arn = self._training_job_arn(training_job_prefix)
        self.pipeline_arn = self._pipeline_arn(pipeline_name)
        self._runs = _Runs(key, endpoint_name, pipeline_name, training_job_prefix)
        self.watched = self._watched_function(
            key=key,
            placement=VpcPlacement(
                vpc,
                subnets=subnets,
                description="Retraining function: HTTPS to the SageMaker API endpoint only",
            ),
            policy=self._policy(pipeline_name, training_role, training_job_template),
            environment=self._environment(
                endpoint_name,
                spec.cooldown_seconds,
                pipeline_name=pipeline_name,
                training_job_prefix=training_job_prefix,
                training_job_template=training_job_template,
                training_role=training_role,
            ),
            reserved_concurrency=spec.reserved_concurrency,
            log_retention=log_retention,
            removal_policy=removal_policy,
            endpoint_name=endpoint_name,
        )
        self._acknowledge()

    def _watched_function(
        self,
        *,
        key: kms.IKey,
        placement: VpcPlacement,
        policy: FunctionPolicy,
        environment: dict[str, str],
        reserved_concurrency: int | None,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
        endpoint_name: str,
    ) -> WatchedFunction:
        """The function and its shared infrastructure, under the id "Default": its resources
        keep the logical ids they had before the shared construct existed (see
        :mod:`mlops_cdk.constructs.function`). Two retries, then the on-failure queue."""
        return WatchedFunction(
            self,
            "Default",
            subject=f"Retraining function of {endpoint_name}",
            description="Starts SageMaker retraining when a model alarm fires (idempotent)",
            code=lambda_.Code.from_asset(str(CODE_DIR), exclude=list(ASSET_EXCLUDE)),
            handler="retrain.handler",
            role=self.role,
            key=key,
            policy=policy,
            invoked_by=INVOKED_BY,
            vpc=placement,
            environment=environment,
            # Off by default: Lambda refuses a reservation that leaves fewer than 100 unreserved
            # executions (new accounts may have a quota of 10). Runs are idempotent anyway.
            reserved_concurrency=reserved_concurrency,
            invocation=AsyncInvocation(retry_attempts=2),
            log_retention=log_retention,
            removal_policy=removal_policy,
            failure_queue_id="OnFailure",
            replay='See docs/runbooks/replay-failures.md, "When retraining fails".',
        )

    def _created_role(self, endpoint_name: str, key: kms.IKey) -> iam.IRole:
        """A role of the function's own, with the IAM half of ``key``'s use."""
        return FunctionRole(
            self, "Role", description=f"Retraining function of {endpoint_name}", key=key
        ).role

    def _training_job_arn(self, training_job_prefix: str | None) -> str | None:
        """The ARN pattern of the training jobs the function may create (names lower-cased)."""
        if not training_job_prefix:
            return None
        return cdk.Stack.of(self).format_arn(
            service="sagemaker",
            resource="training-job",
            resource_name=f"{training_job_prefix.lower()}-*",
        )

    def _pipeline_arn(self, pipeline_name: str | None) -> str | None:
        """The ARN of the pipeline the function starts (SageMaker's ARNs hold the lower-cased
        name)."""
        if pipeline_name is None:
            return None
        return cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=pipeline_name.lower()
        )

    def _environment(
        self,
        endpoint_name: str,
        cooldown_seconds: int,
        *,
        pipeline_name: str | None,
        training_job_prefix: str | None,
        training_job_template: Mapping[str, Any] | None,
        training_role: iam.IRole | None,
    ) -> dict[str, str]:
        """The function's settings: the endpoint, the cooldown, what it starts."""
        environment = {
            "ENDPOINT_NAME": endpoint_name,
            "COOLDOWN_SECONDS": str(cooldown_seconds),
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

    def _policy(
        self,
        pipeline_name: str | None,
        training_role: iam.IRole | None,
        training_job_template: Mapping[str, Any] | None,
    ) -> FunctionPolicy:
        """Start retraining (the shared construct adds logs, the on-failure queue and the VPC's
        actions); ``role`` may already use the key."""
        statements = self._retraining_statements(
            self.pipeline_arn,
            self.training_job_arn,
            training_role,
            training_job_template,
        )
        return FunctionPolicy(
            description="Retraining function: start retraining, logs, on-failure queue, VPC",
            statements=statements,
            wildcard_actions=""
            if pipeline_name is not None
            else "sagemaker:ListTrainingJobs (creating training jobs is scoped to one job-name "
            "prefix)",
            key_use_granted=True,
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Records in the on-failure queue, and the function's errors (no actions: the owner
        adds them, e.g. ``watch.notify(SnsAction(topic))``)."""
        return list(self.watch.alarms)

    def notify_failures(
        self,
        topic: sns.ITopic,
        *,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> EventToTopic:
        """Tell ``topic`` of each run this function started that ended ``Failed`` or
        ``Stopped``: a training job named ``<training_job_prefix>-...``
        (:mod:`mlops_cdk.aws.training_job_events`), or an execution of ``pipeline_name``
        (:mod:`mlops_cdk.aws.pipeline_events`). The function's own failures are its ``watch``;
        these are the runs' failures after they started, which nothing else reports. For a
        pipeline this app deploys, use its own notification
        (:meth:`~mlops_cdk.constructs.retraining_pipeline.RetrainingPipeline.notify_failures`)
        instead. The dead-letter queue is encrypted with the function's key; the returned
        notification's ``watch`` holds its alarms, without actions."""
        runs = self._runs
        if runs.job_prefix is not None:
            pattern = training_job_failure_pattern(runs.job_prefix)
            job = events.EventField.from_path("$.detail.TrainingJobName")
            status = events.EventField.from_path("$.detail.TrainingJobStatus")
            what = f"training job {job} ended {status}"
            why = (
                f"aws sagemaker describe-training-job --training-job-name {job} (FailureReason, "
                "SecondaryStatusTransitions); logs in /aws/sagemaker/TrainingJobs"
            )
        else:
            pattern = execution_failure_pattern(str(self.pipeline_arn))
            execution = events.EventField.from_path("$.detail.pipelineExecutionArn")
            status = events.EventField.from_path("$.detail.currentPipelineExecutionStatus")
            what = f"execution {execution} of pipeline {runs.pipeline} ended {status}"
            why = (
                "aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn "
                f"{execution} (each step's FailureReason)"
            )
        message = events.RuleTargetInput.from_text(
            f"Retraining of {runs.endpoint}: {what}; no new model. Why: {why}. The function "
            "starts no other run within the cooldown, and its alarm only on a new transition to "
            "ALARM: once fixed, start one as docs/runbooks/replay-failures.md says (When a "
            "retraining run fails)."
        )
        return EventToTopic(
            self,
            "FailureNotification",
            topic=topic,
            key=runs.key,
            pattern=pattern,
            message=message,
            description=f"Failed or stopped retraining runs of {runs.endpoint}",
            subject=f"Failure notifications of the retraining runs of {runs.endpoint}",
            sid="EventBridgeRetrainingRunsRule",
            replay='See docs/runbooks/replay-failures.md, "When a retraining run fails".',
            removal_policy=removal_policy,
        )

    @staticmethod
    def _retraining_statements(
        pipeline_arn: str | None,
        job_arn: str | None,
        training_role: iam.IRole | None,
        template: Mapping[str, Any] | None,
    ) -> list[iam.PolicyStatement]:
        if pipeline_arn is not None:
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

    def _acknowledge(self) -> None:
        if self.training_job_arn is not None:
            acknowledge_wildcard_resource(
                self.policy,
                self.training_job_arn,
                "Training jobs are named <prefix>-<cooldown window start>; the prefix limits "
                "the function to the jobs it creates.",
            )
