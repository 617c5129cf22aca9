"""One batch transform job of a service: a Step Functions state machine that runs it, and an
EventBridge Scheduler schedule that starts it when the job has a ``schedule``.

CloudFormation has no transform-job resource: a job is a CreateTransformJob call. The state
machine makes it through Step Functions' optimized SageMaker integration with the *Run a Job*
pattern (``arn:aws:states:::sagemaker:createTransformJob.sync``: the task waits until the job
ends; "Create and manage Amazon SageMaker AI jobs with Step Functions",
https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html). The definition is
written here rather than with ``aws_stepfunctions_tasks.SageMakerCreateTransformJob``: that task
renders no ``DataProcessing`` and grants ``transform-job/*`` (and without a role creates one
with AmazonSageMakerFullAccess). Its role gets what the Step Functions IAM page lists for a
``.sync`` SageMaker job ("IAM policies for Amazon SageMaker",
https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html): create, describe and
stop jobs (here only ``transform-job/<prefix>-*``), ``sagemaker:ListTags``, ``iam:PassRole`` of
the service's execution role to SageMaker only, and ``events:PutTargets/PutRule/DescribeRule``
on the managed rule ``StepFunctionsGetEventsForSageMakerTransformJobsRule``; and
``sagemaker:AddTags`` on its jobs, which that page leaves out: a ``.sync`` run tags the job it
creates (``MANAGED_BY_AWS``), and without it every run fails with AccessDeniedException on
``sagemaker:AddTags`` (aws/aws-cdk#26012; aws-cdk-lib's own ``SageMakerCreateTransformJob``
grants it since aws/aws-cdk#27264).

Each run:
- gets a unique job name ``<prefix>-<hex>``: the MD5 of the execution ARN (from the n-th redrive
  on, of ``<ARN>:<n>``), cut to fit TransformJobName's 63 characters, computed by the Transform
  state itself (a retried call in the same attempt reuses the name, a redrive gets a new one);
- reads ``input`` from the execution input (an S3 key prefix under the service's
  ``batch/<service>/``; anything else fails the run) or the job's ``.../input/``;
- writes to ``batch/<service>/<job>/output/<execution name>/`` (a redrive too), encrypted with the
  environment key (``TransformOutput.KmsKeyId``), as is the instances' storage volume
  (``VolumeKmsKeyId``, except on instance types with local NVMe storage, which AWS encrypts
  itself and for which it refuses a key);
- runs in the model's VPC with the model's network isolation: a transform job has no network
  settings of its own, it uses the model's (CreateModel ``VpcConfig``: "used in hosting
  services and in batch transform").
Throttled CreateTransformJob calls are retried (up to 5 times, 30 s more each time); nothing
else is. The optimized integration reports every SageMaker error as
``SageMaker.AmazonSageMakerException`` (the error code only in the cause), so the retry is a
catch and a choice on the cause, not a ``Retry`` on the error name.

Alarms (``alarms``; the owner adds actions): executions failed, timed out or aborted
(``AWS/States`` by ``StateMachineArn``, "Monitoring Step Functions metrics using Amazon
CloudWatch"), and with a schedule the depth of its dead-letter queue (EventBridge Scheduler
delivers there what it could not deliver after its retries, "Configuring a schedule's
dead-letter queue", https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IDependable

from mlops_cdk.aws.acknowledgements import acknowledge, acknowledge_wildcard_resource
from mlops_cdk.aws.facts import has_local_nvme
from mlops_cdk.constructs.metrics import FIVE_MINUTES
from mlops_cdk.props.batch import (
    MAX_JOB_NAME_PREFIX,
    MAX_TRANSFORM_JOB_NAME,
    BatchJobSpec,
    input_prefix,
    job_name_suffix_length,
    output_prefix,
    service_batch_prefix,
)
from mlops_cdk.props.fields import checked_arguments

THROTTLING_RETRIES = 5
THROTTLING_BACKOFF_SECONDS = 30
SAGEMAKER_ERROR = "SageMaker.AmazonSageMakerException"
EVENTS_RULE = "StepFunctionsGetEventsForSageMakerTransformJobsRule"
PERIOD = FIVE_MINUTES
# Actions of Step Functions' CloudWatch Logs delivery (no resource-level permissions):
# "Logging Step Functions executions in CloudWatch Logs", IAM policies.
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)


_EXECUTION = "$states.context.Execution"


def job_name_expression(prefix: str) -> str:
    """JSONata of a transform job's name: ``<prefix>-`` and the start of the MD5 of
    :func:`~mlops_cdk.props.batch.job_name_hash_input` (what make batch-run predicts).

    A redrive "continues the failed execution from the unsuccessful step"; the successful steps
    "are not rerun", and redriven executions "use the same state machine definition and
    execution ARN" ("Restarting state machine executions with redrive in Step Functions",
    https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html). A name
    assigned in ``Prepare`` or hashed from the ARN alone would come back unchanged, and
    CreateTransformJob refuses it ("The name must be unique within an AWS Region in an AWS
    account", SageMaker API Reference, CreateTransformJob,
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html).
    So the Transform state computes it in its own Arguments, from ``Execution.RedriveCount``
    of the Context object ("Accessing execution data from the Context object in Step
    Functions", https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html;
    0 until the first redrive: "If you have not yet redriven an execution, the redriveCount is
    0", AWS Step Functions API Reference, DescribeExecution,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html).
    Within one attempt the name stays the same, so the call made again after throttling
    cannot start a second job."""
    redrives = f"{_EXECUTION}.RedriveCount"
    hashed = f"({redrives} > 0 ? {_EXECUTION}.Id & ':' & $string({redrives}) : {_EXECUTION}.Id)"
    return (
        f"{{% '{prefix}-' & $substring($hash({hashed}, 'MD5'), 0, "
        f"{job_name_suffix_length(prefix)}) %}}"
    )


class BatchTransformJob(Construct):
    """The state machine of one batch job (``state_machine``), its role (``role``), log group,
    schedule and dead-letter queue (``schedule``, ``dead_letter_queue``; None without a
    schedule) and ``alarms`` (no actions: :meth:`notify` adds them).

    ``job_name_prefix`` (at most 50 characters, e.g. ``<env>-<service>-<job>``) starts every
    transform job's name; the role may create, describe and stop only jobs named so.
    ``model_name`` is the service's model, ``execution_role`` the role that model runs as (the
    only role the state machine may pass). ``role_path`` must be a path the key policy admits.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: BatchJobSpec,
        service: str,
        job_name_prefix: str,
        model_name: str,
        execution_role: iam.IRole,
        key: kms.IKey,
        bucket: s3.IBucket,
        role_path: str = "/",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        # On by default: AWS Control Tower's CT.STEPFUNCTIONS.PR.2 requires X-Ray tracing.
        tracing: bool = True,
        depends_on: IDependable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 1 <= len(job_name_prefix) <= MAX_JOB_NAME_PREFIX:
            raise ValueError(
                f"BatchTransformJob: job_name_prefix {job_name_prefix!r} has "
                f"{len(job_name_prefix)} characters; at most {MAX_JOB_NAME_PREFIX} leave room for "
                f"a unique suffix in SageMaker's {MAX_TRANSFORM_JOB_NAME}-character job names"
            )
        self.spec, self.service, self.job_name_prefix = spec, service, job_name_prefix
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=log_retention, removal_policy=removal_policy
        )
        self.role, self.policy = self._role(execution_role, key, role_path, tracing)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            # Named after its jobs: make batch-run finds it by name (<env>-<service>-<job>).
            state_machine_name=job_name_prefix,
            definition_body=sfn.DefinitionBody.from_string(
                cdk.Stack.of(self).to_json_string(self._definition(model_name, key, bucket))
            ),
            role=self.role.without_policy_updates(),
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=tracing,
            comment=f"Batch transform {spec.name} of service {service}",
        )
        self._settle_state_machine(tracing, depends_on)
        self.schedule, self.dead_letter_queue = self._schedule(key, role_path, removal_policy)
        self.alarms = self._alarms()

    def _settle_state_machine(self, tracing: bool, depends_on: IDependable | None) -> None:
        """Wait for the role's policy (and the model), state the expected minutes per run for
        make cost (mlops_tools/cost/batch.py), and say why X-Ray may be off."""
        self.state_machine.node.add_dependency(self.policy)
        if depends_on is not None:
            self.state_machine.node.add_dependency(depends_on)
        cfn = self.state_machine.node.default_child
        assert isinstance(cfn, cdk.CfnResource)  # noqa: S101 - an L2 state machine
        cfn.add_metadata("MlopsBatch", {"ExpectedMinutesPerRun": self.spec.minutes_per_run})
        if not tracing:
            acknowledge(
                self.state_machine,
                "AwsSolutions-SF2",
                "X-Ray tracing is optional for batch jobs: the state machine makes one "
                "SageMaker call per run, and its logs (level ALL) record every state.",
            )

    # --- the definition ---------------------------------------------------------------------

    def _definition(self, model_name: str, key: kms.IKey, bucket: s3.IBucket) -> dict[str, Any]:
        spec, service = self.spec, self.service
        allowed = service_batch_prefix(service)
        root = f"s3://{bucket.bucket_name}/"
        return {
            "Comment": f"Batch transform {spec.name} of {service}: one transform job per run",
            "QueryLanguage": "JSONata",
            "StartAt": "Prepare",
            "TimeoutSeconds": spec.timeout_minutes * 60 + self._backoff_seconds() + 600,
            "States": {
                "Prepare": {
                    "Type": "Pass",
                    "Assign": {
                        "input": "{% $exists($states.input.input) ? $states.input.input : '"
                        f"{input_prefix(service, spec.name)}' %}}",
                        "attempt": 0,
                    },
                    "Next": "CheckInput",
                },
                "CheckInput": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Condition": f"{{% $type($input) = 'string' and $substring($input, "
                            f"0, {len(allowed)}) = '{allowed}' and "
                            "$not($contains($input, '..')) %}",
                            "Next": "Transform",
                        }
                    ],
                    "Default": "InputRefused",
                },
                "InputRefused": {
                    "Type": "Fail",
                    "Error": "InputOutsideBatchPrefix",
                    "Cause": f"input must be an S3 key prefix under {allowed} of the "
                    "environment bucket",
                },
                "Transform": self._transform_task(model_name, key, root),
                "Throttled": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Condition": "{% $exists($states.input.Cause) and "
                            "$contains($states.input.Cause, 'ThrottlingException') and "
                            f"$attempt < {THROTTLING_RETRIES} %}}",
                            "Next": "Backoff",
                        }
                    ],
                    "Default": "Failed",
                },
                "Backoff": {
                    "Type": "Wait",
                    "Seconds": f"{{% {THROTTLING_BACKOFF_SECONDS} * ($attempt + 1) %}}",
                    "Assign": {"attempt": "{% $attempt + 1 %}"},
                    "Next": "Transform",
                },
                "Failed": {
                    "Type": "Fail",
                    "Error": "{% $states.input.Error %}",
                    "Cause": "{% $states.input.Cause %}",
                },
            },
        }

    @staticmethod
    def _backoff_seconds() -> int:
        return sum(THROTTLING_BACKOFF_SECONDS * n for n in range(1, THROTTLING_RETRIES + 1))

    def _transform_task(self, model_name: str, key: kms.IKey, root: str) -> dict[str, Any]:
        spec = self.spec
        resources: dict[str, Any] = {
            "InstanceType": spec.instance_type,
            "InstanceCount": spec.instance_count,
        }
        if not has_local_nvme(spec.instance_type):
            resources["VolumeKmsKeyId"] = key.key_arn
        arguments: dict[str, Any] = {
            "TransformJobName": job_name_expression(self.job_name_prefix),
            "ModelName": model_name,
            "BatchStrategy": spec.batch_strategy,
            "MaxPayloadInMB": spec.max_payload_mb,
            "MaxConcurrentTransforms": spec.max_concurrent_transforms,
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"{{% '{root}' & $input %}}",
                    }
                },
                "ContentType": spec.content_type,
                "SplitType": spec.split_type,
            },
            # Per execution, so a redrive writes where its first attempt did: its job stores
            # each input object's result at the same ``<object>.out`` key, replacing what the
            # failed attempt uploaded ("Batch transform doesn't upload partially processed
            # objects", SageMaker API Reference, TransformOutput,
            # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformOutput.html).
            "TransformOutput": {
                "S3OutputPath": f"{{% '{root}{output_prefix(self.service, spec.name)}' & "
                "$states.context.Execution.Name & '/' %}",
                "Accept": spec.accept,
                "AssembleWith": spec.assemble_with,
                "KmsKeyId": key.key_arn,
            },
            "TransformResources": resources,
        }
        if spec.environment:
            arguments["Environment"] = dict(spec.environment)
        processing = spec.data_processing
        if not processing.is_default:
            arguments["DataProcessing"] = {
                k: v
                for k, v in (
                    ("InputFilter", processing.input_filter),
                    ("OutputFilter", processing.output_filter),
                    ("JoinSource", processing.join_source),
                )
                if v is not None
            }
        return {
            "Type": "Task",
            "Resource": f"arn:{cdk.Aws.PARTITION}:states:::sagemaker:createTransformJob.sync",
            "Arguments": arguments,
            "TimeoutSeconds": spec.timeout_minutes * 60,
            "Catch": [
                {
                    "ErrorEquals": [SAGEMAKER_ERROR],
                    "Next": "Throttled",
                    "Output": "{% $states.errorOutput %}",
                }
            ],
            "Output": "{% {'TransformJobName': $states.result.TransformJobName, "
            "'TransformJobStatus': $states.result.TransformJobStatus, "
            "'S3OutputPath': $states.result.TransformOutput.S3OutputPath} %}",
            "End": True,
        }

    # --- permissions ------------------------------------------------------------------------

    def _role(
        self, execution_role: iam.IRole, key: kms.IKey, role_path: str, tracing: bool
    ) -> tuple[iam.Role, iam.ManagedPolicy]:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            path=role_path,
            description=f"Batch transform {self.spec.name} of {self.service}: run its jobs",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        jobs = stack.format_arn(
            service="sagemaker", resource="transform-job", resource_name=f"{self.job_name_prefix}-*"
        )
        statements = [
            iam.PolicyStatement(
                sid="RunThisJobsTransformJobs",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopTransformJob",
                ],
                resources=[jobs],
            ),
            iam.PolicyStatement(sid="ListTags", actions=["sagemaker:ListTags"], resources=["*"]),
            iam.PolicyStatement(
                sid="PassExecutionRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="JobCompletionEvents",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    stack.format_arn(service="events", resource="rule", resource_name=EVENTS_RULE)
                ],
            ),
            iam.PolicyStatement(
                sid="LogDelivery", actions=list(LOG_DELIVERY_ACTIONS), resources=["*"]
            ),
            # The volume key: SageMaker creates a grant for the job's instances on the caller's
            # behalf (kms:GrantIsForAWSResource).
            iam.PolicyStatement(
                sid="VolumeKeyGrant",
                actions=["kms:CreateGrant", "kms:DescribeKey"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
        if tracing:
            statements.append(
                iam.PolicyStatement(
                    sid="Tracing",
                    actions=[
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                    ],
                    resources=["*"],
                )
            )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"Batch transform {self.spec.name}: this job's transform jobs only",
            roles=[role],
            statements=statements,
        )
        acknowledge_wildcard_resource(
            policy,
            jobs,
            "Transform jobs get a new name per run (<prefix>-<hash of the execution>); the "
            "prefix names this environment, service and job only.",
        )
        acknowledge_wildcard_resource(
            policy,
            "*",
            "Only actions without resource-level permissions use '*': sagemaker:ListTags (as "
            "the Step Functions SageMaker IAM page lists it), CloudWatch Logs delivery and X-Ray.",
        )
        return role, policy

    # --- schedule ---------------------------------------------------------------------------

    def _schedule(
        self, key: kms.IKey, role_path: str, removal_policy: cdk.RemovalPolicy
    ) -> tuple[scheduler.Schedule | None, sqs.Queue | None]:
        spec = self.spec
        if spec.schedule is None:
            return None, None
        stack = cdk.Stack.of(self)
        queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is the schedule's dead-letter queue (the end of its retry chain); a "
            "dead-letter queue of its own would only move undelivered runs again.",
        )
        role = iam.Role(
            self,
            "SchedulerRole",
            path=role_path,
            description=f"EventBridge Scheduler: start batch transform {spec.name}",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        policy = iam.ManagedPolicy(
            self,
            "SchedulerPolicy",
            description="Batch schedule: start the state machine, dead-letter to the queue",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="StartBatchRun",
                    actions=["states:StartExecution"],
                    resources=[self.state_machine.state_machine_arn],
                ),
                iam.PolicyStatement(
                    sid="DeadLetters", actions=["sqs:SendMessage"], resources=[queue.queue_arn]
                ),
                iam.PolicyStatement(
                    sid="DeadLettersEncrypt",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}
                    },
                ),
            ],
        )
        schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(
                spec.schedule, cdk.TimeZone.of(spec.time_zone)
            ),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                role=role.without_policy_updates(),
                input=scheduler.ScheduleTargetInput.from_object({}),
                dead_letter_queue=queue,
                retry_attempts=3,
                max_event_age=cdk.Duration.hours(1),
            ),
            description=f"Batch transform {spec.name} of {self.service}",
        )
        schedule.node.add_dependency(policy)
        return schedule, queue

    # --- alarms -----------------------------------------------------------------------------

    def _alarms(self) -> list[cloudwatch.Alarm]:
        machine = self.state_machine
        subject = f"Batch transform {self.spec.name} of {self.service}"
        watched = [
            ("Failed", machine.metric_failed(period=PERIOD, statistic="Sum"), "failed"),
            ("TimedOut", machine.metric_timed_out(period=PERIOD, statistic="Sum"), "timed out"),
            ("Aborted", machine.metric_aborted(period=PERIOD, statistic="Sum"), "was aborted"),
        ]
        alarms = [
            cloudwatch.Alarm(
                self,
                f"Executions{kind}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{subject}: a run {what}; the state machine's execution "
                "history and log group say why (make batch-run starts it again).",
            )
            for kind, metric, what in watched
        ]
        if self.dead_letter_queue is not None:
            alarms.append(
                cloudwatch.Alarm(
                    self,
                    "ScheduleDeadLetters",
                    metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=PERIOD
                    ),
                    threshold=0,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{subject}: the schedule could not start a run; the "
                    f"queue {self.dead_letter_queue.queue_name} holds the attempt (start it "
                    "with make batch-run, then delete the message).",
                )
            )
        return alarms

    def notify(self, *actions: cloudwatch.IAlarmAction) -> None:
        """Add ``actions`` to every alarm, on ALARM and on OK."""
        for alarm in self.alarms:
            alarm.add_alarm_action(*actions)
            alarm.add_ok_action(*actions)

    def metrics(self) -> list[tuple[str, cloudwatch.Metric]]:
        """(label, metric) of the state machine's executions, for a dashboard."""
        machine = self.state_machine
        name = self.spec.name
        return [
            (f"{name}: started", machine.metric_started(period=PERIOD, statistic="Sum")),
            (f"{name}: succeeded", machine.metric_succeeded(period=PERIOD, statistic="Sum")),
            (f"{name}: failed", machine.metric_failed(period=PERIOD, statistic="Sum")),
            (f"{name}: timed out", machine.metric_timed_out(period=PERIOD, statistic="Sum")),
            (f"{name}: aborted", machine.metric_aborted(period=PERIOD, statistic="Sum")),
        ]


def execution_widgets(jobs: Sequence[BatchTransformJob]) -> list[cloudwatch.IWidget]:
    """A dashboard row of batch jobs: their executions (started, succeeded, failed, timed out,
    aborted) and the state of their alarms."""
    return [
        cloudwatch.GraphWidget(
            title="Batch jobs: executions",
            left=[metric.with_(label=label) for job in jobs for label, metric in job.metrics()],
            width=24,
        ),
        cloudwatch.AlarmStatusWidget(
            title="Batch job alarms", alarms=[a for job in jobs for a in job.alarms], width=24
        ),
    ]
